/* server/auth.c — bearer tokens: generation, hashing, header parsing. */
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "core/error.h"
#include "server/auth.h"

#define TOKEN_PREFIX "lsn_"
#define TOKEN_RANDOM_BYTES 32

lsn_err srv_crypto_init(lsn_error *err)
{
    if (sodium_init() < 0)
        return core_fail(err, LSN_ERR_IO, "libsodium could not be initialised");
    return LSN_OK;
}

void srv_token_hash(const char *token, size_t len, uint8_t out[SRV_TOKEN_HASH_LEN])
{
    crypto_hash_sha256(out, (const unsigned char *)token, len);
}

bool srv_token_hash_equal(const uint8_t a[SRV_TOKEN_HASH_LEN],
                          const uint8_t b[SRV_TOKEN_HASH_LEN])
{
    return sodium_memcmp(a, b, SRV_TOKEN_HASH_LEN) == 0;
}

void srv_wipe(void *p, size_t len)
{
    sodium_memzero(p, len);
}

void srv_token_hash_hex(const uint8_t hash[SRV_TOKEN_HASH_LEN], char out[65])
{
    sodium_bin2hex(out, 65, hash, SRV_TOKEN_HASH_LEN);
}

lsn_err srv_token_generate(char out[SRV_TOKEN_LEN + 1],
                           uint8_t hash[SRV_TOKEN_HASH_LEN], lsn_error *err)
{
    lsn_err rc = srv_crypto_init(err);
    if (rc)
        return rc;
    unsigned char raw[TOKEN_RANDOM_BYTES];
    randombytes_buf(raw, sizeof raw);
    memcpy(out, TOKEN_PREFIX, 4);
    /* 32 bytes → 43 characters of unpadded base64url, plus the NUL. */
    sodium_bin2base64(out + 4, SRV_TOKEN_LEN + 1 - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    if (hash)
        srv_token_hash(out, SRV_TOKEN_LEN, hash);
    return LSN_OK;
}

/* RFC 6750 b64token characters. */
static bool token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

srv_auth_result srv_authenticate(const srv_auth *auth, const char *header, void **user)
{
    *user = NULL;
    if (!header)
        return SRV_AUTH_MISSING;
    while (*header == ' ' || *header == '\t')
        header++;
    if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t'))
        return SRV_AUTH_MISSING;
    const char *t = header + 7;
    while (*t == ' ' || *t == '\t')
        t++;
    size_t n = 0;
    while (token_char(t[n]) && n <= SRV_TOKEN_MAX)
        n++;
    size_t end = n;
    while (t[end] == '=')
        end++;
    size_t tail = end;
    while (t[tail] == ' ' || t[tail] == '\t')
        tail++;
    if (n == 0 || end > SRV_TOKEN_MAX || t[tail] != '\0')
        return SRV_AUTH_MALFORMED;
    if (!auth || !auth->lookup)
        return SRV_AUTH_UNKNOWN;
    uint8_t hash[SRV_TOKEN_HASH_LEN];
    srv_token_hash(t, end, hash);
    *user = auth->lookup(auth->ctx, hash);
    sodium_memzero(hash, sizeof hash);
    return *user ? SRV_AUTH_OK : SRV_AUTH_UNKNOWN;
}

bool srv_token_well_formed(const char *text)
{
    size_t n = 0;
    while (text && token_char(text[n]) && n <= SRV_TOKEN_MAX)
        n++;
    return text && n > 0 && n <= SRV_TOKEN_MAX && text[n] == '\0';
}

void srv_csrf_token(const uint8_t session_hash[SRV_TOKEN_HASH_LEN], char out[SRV_CSRF_LEN + 1])
{
    static const char what[] = "liaison csrf token v1";
    unsigned char mac[32];
    crypto_generichash(mac, sizeof mac, (const unsigned char *)what, sizeof what - 1,
                       session_hash, SRV_TOKEN_HASH_LEN);
    sodium_bin2base64(out, SRV_CSRF_LEN + 1, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(mac, sizeof mac);
}

bool srv_csrf_check(const uint8_t session_hash[SRV_TOKEN_HASH_LEN], const char *sent)
{
    if (!sent || strlen(sent) != SRV_CSRF_LEN)
        return false;
    char want[SRV_CSRF_LEN + 1];
    srv_csrf_token(session_hash, want);
    bool same = sodium_memcmp(want, sent, SRV_CSRF_LEN) == 0;
    sodium_memzero(want, sizeof want);
    return same;
}
