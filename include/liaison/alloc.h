/* liaison/alloc.h — the one allocation hook.
 *
 * Every allocation of the library goes through these, so that an embedding
 * program can supply its own allocator and a test can fail the Nth one. */
#ifndef LIAISON_ALLOC_H
#define LIAISON_ALLOC_H

#include "export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsn_allocator {
    void *(*malloc_fn)(size_t size, void *ctx);
    void *(*realloc_fn)(void *ptr, size_t size, void *ctx);
    void (*free_fn)(void *ptr, void *ctx);
    void *ctx;
} lsn_allocator;

/* Install an allocator (NULL restores the C library's). Call before any other
 * liaison function; not thread-safe against concurrent allocation. */
LSN_API void lsn_set_allocator(const lsn_allocator *a);

/* Free memory that a liaison function handed to the caller (strings from
 * lsn_label_write, lsn_clearance_write, ...). NULL is a no-op. */
LSN_API void lsn_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
