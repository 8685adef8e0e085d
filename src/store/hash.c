/* store/hash.c — length-prefixed SHA-256 (see hash.h), the item content hash
 * and bearer tokens. Uses libsodium: its SHA-256 is constant-time, and it
 * has constant-time comparison and a system random source. */
#include "store/hash.h"

#include <string.h>

#include "core/error.h"
#include "store/store.h"

void store_hash_begin(store_hash_ctx *h, const char *domain)
{
    crypto_hash_sha256_init(h);
    store_hash_str(h, domain);
}

void store_hash_raw(store_hash_ctx *h, const void *p, size_t n)
{
    if (n)
        crypto_hash_sha256_update(h, p, n);
}

void store_hash_u64(store_hash_ctx *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)(v & 0xff);
    store_hash_raw(h, b, sizeof b);
}

void store_hash_field(store_hash_ctx *h, const void *p, size_t n)
{
    store_hash_u64(h, (uint64_t)n);
    store_hash_raw(h, p, n);
}

void store_hash_str(store_hash_ctx *h, const char *s)
{
    store_hash_field(h, s ? s : "", s ? strlen(s) : 0);
}

void store_hash_end(store_hash_ctx *h, uint8_t out[32])
{
    crypto_hash_sha256_final(h, out);
}

void store_content_hash(const char *label, const char *body,
                        const char *media_type, const uint8_t *attachment,
                        size_t attachment_len, uint8_t out[STORE_HASH_LEN])
{
    store_hash_ctx h;
    store_hash_begin(&h, "liaison item v1");
    store_hash_str(&h, label);
    store_hash_str(&h, body);
    /* An attachment is present exactly when it has a media type; a presence
     * byte keeps "no attachment" apart from an empty one. */
    if (media_type) {
        store_hash_raw(&h, "\1", 1);
        store_hash_str(&h, media_type);
        store_hash_field(&h, attachment, attachment ? attachment_len : 0);
    } else {
        store_hash_raw(&h, "\0", 1);
    }
    store_hash_end(&h, out);
}

int store_item_intact(const store_item *item)
{
    uint8_t h[STORE_HASH_LEN];
    store_content_hash(item->label, item->body, item->media_type, item->attachment,
                       item->attachment_len, h);
    return sodium_memcmp(h, item->content_hash, sizeof h) == 0;
}

void store_token_hash(const char *token, uint8_t out[STORE_HASH_LEN])
{
    crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}

lsn_err store_token_new(char out[STORE_TOKEN_CHARS + 1], lsn_error *err)
{
    uint8_t raw[32];
    if (sodium_init() < 0)
        return core_fail(err, LSN_ERR_IO, "the random source could not be initialised");
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, STORE_TOKEN_CHARS + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    return LSN_OK;
}
