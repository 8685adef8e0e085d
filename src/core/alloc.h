/* core/alloc.h — internal allocation helpers; all go through the hook. */
#ifndef CORE_ALLOC_H
#define CORE_ALLOC_H

#include <stddef.h>
#include "liaison/alloc.h"

void *lsn_malloc(size_t size);
void *lsn_calloc(size_t n, size_t size); /* zeroed; NULL on overflow */
void *lsn_realloc(void *ptr, size_t size);
/* lsn_free is public (liaison/alloc.h). */
char *lsn_strdup(const char *s);          /* NULL in, NULL out */
char *lsn_strndup(const char *s, size_t n);

/* Abort loudly on programmer misuse (libsodium's sodium_misuse()). Never
 * used for untrusted input. */
_Noreturn void lsn_misuse(const char *what);

#endif
