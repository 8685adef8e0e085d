/* core/alloc.c — the one allocation hook (so tests can fail the Nth
 * allocation and embedders can supply their own allocator). */
#include "core/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *std_malloc(size_t size, void *ctx) { (void)ctx; return malloc(size); }
static void *std_realloc(void *p, size_t size, void *ctx) { (void)ctx; return realloc(p, size); }
static void std_free(void *p, void *ctx) { (void)ctx; free(p); }

static lsn_allocator current = { std_malloc, std_realloc, std_free, NULL };

void lsn_set_allocator(const lsn_allocator *a)
{
    if (a == NULL) {
        current = (lsn_allocator){ std_malloc, std_realloc, std_free, NULL };
        return;
    }
    if (!a->malloc_fn || !a->realloc_fn || !a->free_fn)
        core_misuse("lsn_set_allocator: every function must be set");
    current = *a;
}

void *core_malloc(size_t size)
{
    return current.malloc_fn(size ? size : 1, current.ctx);
}

void *core_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = core_malloc(n * size);
    if (p)
        memset(p, 0, (n * size) != 0 ? n * size : 1);
    return p;
}

void *core_realloc(void *ptr, size_t size)
{
    return current.realloc_fn(ptr, size ? size : 1, current.ctx);
}

void lsn_free(void *ptr)
{
    if (ptr)
        current.free_fn(ptr, current.ctx);
}

char *core_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = core_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *core_strdup(const char *s)
{
    return s ? core_strndup(s, strlen(s)) : NULL;
}

void core_misuse(const char *what)
{
    fprintf(stderr, "liaison: misuse: %s\n", what);
    abort();
}
