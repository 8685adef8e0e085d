/* federation/message.c — signing and verifying a node's messages that are
 * not items (message.h), with OpenSSL 3's EVP interface. */
#include "federation/message.h"

#include <string.h>
#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/error.h"

/* Domain separation: what is signed starts with this (and its NUL). */
static const char PREFIX[] = "liaison-message/1";

static bool feed(EVP_MD_CTX *c, bool signing, const void *data, size_t len)
{
    if (signing)
        return EVP_DigestSignUpdate(c, PREFIX, sizeof PREFIX) == 1 &&
               EVP_DigestSignUpdate(c, data, len) == 1;
    return EVP_DigestVerifyUpdate(c, PREFIX, sizeof PREFIX) == 1 &&
           EVP_DigestVerifyUpdate(c, data, len) == 1;
}

lsn_err fed_message_sign(const fed_identity *me, const void *data, size_t len, uint8_t **sig,
                         size_t *sig_len, lsn_error *err)
{
    *sig = NULL;
    *sig_len = 0;
    if (!me || !fed_identity_has_key(me))
        return core_fail(err, LSN_ERR_ARG, "signing a message needs the node's key");
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t n = 0;
    bool ok = c && EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, fed_identity_pkey(me)) == 1 &&
              feed(c, true, data, len) && EVP_DigestSignFinal(c, NULL, &n) == 1 && n > 0;
    uint8_t *out = ok ? core_malloc(n) : NULL;
    ok = out && EVP_DigestSignFinal(c, out, &n) == 1;
    EVP_MD_CTX_free(c);
    if (!ok) {
        lsn_free(out);
        return core_fail(err, LSN_ERR_IO, "signing a message failed");
    }
    *sig = out;
    *sig_len = n;
    return LSN_OK;
}

bool fed_message_verify(const fed_identity *pinned, const void *data, size_t len,
                        const uint8_t *sig, size_t sig_len)
{
    if (!pinned || !sig || !sig_len)
        return false;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c &&
              EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, fed_identity_pkey(pinned)) == 1 &&
              feed(c, false, data, len) && EVP_DigestVerifyFinal(c, sig, sig_len) == 1;
    EVP_MD_CTX_free(c);
    return ok;
}
