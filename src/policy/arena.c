/* policy/arena.c — chunked bump allocation for a policy's contents (see
 * arena.h for why). */
#include "policy/arena.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

/* Chunks stay below glibc's mmap threshold (128 KiB): mapping and unmapping
 * fresh pages on every load costs more than the whole parse. */
#define CHUNK_MIN (32u * 1024u)
#define CHUNK_MAX (96u * 1024u)
#define ALIGN 8u

struct policy_chunk {
    struct policy_chunk *next;
    size_t used;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

void *arena_alloc(struct policy_chunk **arena, size_t size)
{
    if (size > SIZE_MAX - 2 * ALIGN - CHUNK_MIN)
        return NULL;
    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (size == 0)
        size = ALIGN;
    struct policy_chunk *c = *arena;
    if (!c || c->cap - c->used < size) {
        /* Chunks grow with the policy, so a big SPIF needs few. */
        size_t cap = c ? c->cap * 2 : CHUNK_MIN;
        if (cap > CHUNK_MAX)
            cap = CHUNK_MAX;
        if (cap < size)
            cap = size;
        struct policy_chunk *n = core_malloc(sizeof *n + cap);
        if (!n)
            return NULL;
        n->used = 0;
        n->cap = cap;
        n->next = c;
        *arena = n;
        c = n;
    }
    void *r = c->data + c->used;
    c->used += size;
    memset(r, 0, size);
    return r;
}

void *policy_alloc(lsn_policy *p, size_t size)
{
    return arena_alloc(&p->chunks, size);
}

void *policy_array(lsn_policy *p, size_t n, size_t size)
{
    if (n == 0 || size == 0 || n > SIZE_MAX / size)
        return NULL;
    return policy_alloc(p, n * size);
}

char *policy_strndup(lsn_policy *p, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = policy_alloc(p, n + 1);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *policy_strdup(lsn_policy *p, const char *s)
{
    return s ? policy_strndup(p, s, strlen(s)) : NULL;
}

void arena_release(struct policy_chunk **arena)
{
    struct policy_chunk *c = *arena;
    while (c) {
        struct policy_chunk *next = c->next;
        lsn_free(c);
        c = next;
    }
    *arena = NULL;
}

void policy_arena_release(lsn_policy *p)
{
    arena_release(&p->chunks);
}
