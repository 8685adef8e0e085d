/* core/alloc.h — internal allocation helpers; all go through the hook.
 * Internal: named core_, not lsn_ (only the public API is lsn_ and
 * exported from libliaison.so). */
#ifndef CORE_ALLOC_H
#define CORE_ALLOC_H

#include <stddef.h>
#include "liaison/alloc.h"

void *core_malloc(size_t size);
void *core_calloc(size_t n, size_t size); /* zeroed; NULL on overflow */
void *core_realloc(void *ptr, size_t size);
/* lsn_free is public (liaison/alloc.h). */
char *core_strdup(const char *s);          /* NULL in, NULL out */
char *core_strndup(const char *s, size_t n);

/* Abort loudly on programmer misuse (libsodium's sodium_misuse()). Never
 * used for untrusted input. */
_Noreturn void core_misuse(const char *what);

#endif
