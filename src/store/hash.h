/* store/hash.h — SHA-256 over length-prefixed fields, the one encoding that
 * the content hash and the audit chain share. A field is its length as 8
 * big-endian bytes, then its bytes, so that no two different field lists
 * encode alike ("ab","c" vs "a","bc"). */
#ifndef STORE_HASH_H
#define STORE_HASH_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

typedef crypto_hash_sha256_state store_hash_ctx;

/* Start a hash with a domain tag (hashed as a field), so that an item's
 * encoding can never be taken for an audit entry's. */
void store_hash_begin(store_hash_ctx *h, const char *domain);
/* Feed raw bytes (no length prefix). */
void store_hash_raw(store_hash_ctx *h, const void *p, size_t n);
/* Feed one field: 8-byte big-endian length, then the bytes. */
void store_hash_field(store_hash_ctx *h, const void *p, size_t n);
/* A NUL-terminated string as a field; NULL as the empty string. */
void store_hash_str(store_hash_ctx *h, const char *s);
/* A 64-bit integer as 8 big-endian bytes. */
void store_hash_u64(store_hash_ctx *h, uint64_t v);
void store_hash_end(store_hash_ctx *h, uint8_t out[32]);

#endif
