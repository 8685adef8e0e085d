/* policy/arena.h — the allocation arena a policy's contents live in.
 *
 * A policy is built once and freed once, so its thousands of strings and
 * arrays are carved out of a few large chunks instead of being allocated one
 * by one: loading is cheaper, and a load that fails half-way (bad input or
 * out of memory) frees everything it built by freeing the chunks. */
#ifndef POLICY_ARENA_H
#define POLICY_ARENA_H

#include <stddef.h>
#include "policy/model.h"

struct policy_chunk;

/* The same over any chunk list (the loader's scratch tree uses one). */
void *arena_alloc(struct policy_chunk **arena, size_t size);
void arena_release(struct policy_chunk **arena);

/* Zeroed memory of `size` bytes owned by p (freed by policy_free); NULL when
 * out of memory. */
void *policy_alloc(lsn_policy *p, size_t size);
/* Zeroed array of n elements of `size` bytes; NULL on overflow or out of
 * memory. n == 0 gives NULL without failing: check n, not the pointer. */
void *policy_array(lsn_policy *p, size_t n, size_t size);
/* Copies of strings owned by p; NULL when out of memory (or s is NULL). */
char *policy_strdup(lsn_policy *p, const char *s);
char *policy_strndup(lsn_policy *p, const char *s, size_t n);
/* Free every chunk of p. */
void policy_arena_release(lsn_policy *p);

#endif
