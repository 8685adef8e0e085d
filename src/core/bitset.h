/* core/bitset.h — fixed-size bit sets of category indices. A policy fixes
 * the number of words (policy->cat_words); sets are plain uint64_t arrays. */
#ifndef CORE_BITSET_H
#define CORE_BITSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t bitword;
#define BITSET_WORDS(nbits) (((nbits) + 63u) / 64u)

static inline void bitset_set(bitword *s, size_t i) { s[i >> 6] |= (bitword)1 << (i & 63); }
static inline void bitset_clear(bitword *s, size_t i) { s[i >> 6] &= ~((bitword)1 << (i & 63)); }
static inline bool bitset_has(const bitword *s, size_t i) { return (s[i >> 6] >> (i & 63)) & 1u; }

static inline bool bitset_intersects(const bitword *a, const bitword *b, size_t words)
{
    for (size_t w = 0; w < words; w++)
        if (a[w] & b[w])
            return true;
    return false;
}

static inline size_t bitset_count_and(const bitword *a, const bitword *b, size_t words)
{
    size_t n = 0;
    for (size_t w = 0; w < words; w++)
        n += (size_t)__builtin_popcountll(a[w] & b[w]);
    return n;
}

/* True when every bit of a is in b. */
static inline bool bitset_subset(const bitword *a, const bitword *b, size_t words)
{
    for (size_t w = 0; w < words; w++)
        if (a[w] & ~b[w])
            return false;
    return true;
}

#endif
