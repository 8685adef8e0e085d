/* federation/content_digest.c — the SHA-384 digest of an item's content
 * (body and optional attachment) in one length-prefixed encoding, and the
 * UUIDs that name items everywhere. */
#include "federation/binding.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define CONTENT_TAG "liaison-content/1"

static bool put_len(EVP_MD_CTX *ctx, uint64_t n)
{
    uint8_t be[8];
    for (int i = 7; i >= 0; i--) {
        be[i] = (uint8_t)(n & 0xff);
        n >>= 8;
    }
    return EVP_DigestUpdate(ctx, be, sizeof be) == 1;
}

static bool put_field(EVP_MD_CTX *ctx, const void *p, size_t n)
{
    return put_len(ctx, n) && (n == 0 || EVP_DigestUpdate(ctx, p, n) == 1);
}

lsn_err fed_content_digest(const fed_content *c, uint8_t out[FED_DIGEST_SIZE])
{
    if (!c || (c->body_len && !c->body) ||
        (c->has_attachment && (!c->media_type || (c->attachment_len && !c->attachment))))
        return LSN_ERR_ARG;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return LSN_ERR_NOMEM;
    static const uint8_t none = 0, some = 1;
    unsigned int n = 0;
    bool ok = EVP_DigestInit_ex(ctx, EVP_sha384(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, CONTENT_TAG, sizeof CONTENT_TAG) == 1 && /* with NUL */
              put_field(ctx, c->body, c->body_len);
    if (ok && !c->has_attachment)
        ok = EVP_DigestUpdate(ctx, &none, 1) == 1;
    else if (ok)
        ok = EVP_DigestUpdate(ctx, &some, 1) == 1 &&
             put_field(ctx, c->media_type, strlen(c->media_type)) &&
             put_field(ctx, c->attachment, c->attachment_len);
    ok = ok && EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == FED_DIGEST_SIZE;
    EVP_MD_CTX_free(ctx);
    return ok ? LSN_OK : LSN_ERR_NOMEM;
}

bool fed_binding_content_matches(const fed_binding *b, const fed_content *content)
{
    uint8_t d[FED_DIGEST_SIZE];
    if (!b || fed_content_digest(content, d) != LSN_OK)
        return false;
    return CRYPTO_memcmp(d, b->digest, FED_DIGEST_SIZE) == 0;
}

lsn_err fed_uuid_new(char out[FED_UUID_SIZE])
{
    uint8_t r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        return LSN_ERR_NOMEM;
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = '\0';
    return LSN_OK;
}

bool fed_uuid_valid(const char *s)
{
    if (!s || strlen(s) != FED_UUID_SIZE - 1)
        return false;
    for (size_t i = 0; i < FED_UUID_SIZE - 1; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}
