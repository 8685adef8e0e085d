/* node/cursor.c — paging cursors that tell nothing and cannot be forged.
 *
 * A cursor names the last item a reader was shown (its public id), sealed
 * by the node with XChaCha20-Poly1305 under a key of the data directory
 * (cursor.key, 32 random bytes, mode 0600, made on first start). The reader
 * and the route's context (a listing of which channel, a search) are the
 * associated data: another reader's cursor, or one of another context,
 * fails to open exactly as a malformed or forged one does.
 *
 * Sealing is deterministic (a synthetic nonce: keyed BLAKE2b of the
 * associated data and the id, as in SIV), so that the cursor after an item
 * is always the same text for the same reader: a reader's answers depend on
 * what it may see and nothing else (tests compare them byte for byte). The
 * nonce reveals only whether two cursors are equal, which their holder knows. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "node_internal.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES /* 24 */
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES      /* 16 */
#define SEALED_LEN (NONCE_LEN + STORE_UUID_LEN + TAG_LEN)       /* 56 */
#define AD_MAX 1024

static lsn_err read_or_make_key(const char *path, uint8_t key[32], lsn_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        ssize_t k = read(fd, key, 32);
        close(fd);
        if (k != 32)
            return core_fail(err, LSN_ERR_IO, "%s: not a 32-byte key", path);
        return LSN_OK;
    }
    if (errno != ENOENT)
        return core_fail(err, LSN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    randombytes_buf(key, 32);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return core_fail(err, LSN_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    ssize_t k = write(fd, key, 32);
    int synced = fsync(fd);
    close(fd);
    if (k != 32 || synced != 0) {
        unlink(path);
        return core_fail(err, LSN_ERR_IO, "cannot write %s", path);
    }
    return LSN_OK;
}

lsn_err node_cursor_init(node *n, const char *data_dir, lsn_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/cursor.key", data_dir) >= sizeof path)
        return core_fail(err, LSN_ERR_ARG, "the data directory's path is too long");
    uint8_t master[32];
    lsn_err e = read_or_make_key(path, master, err);
    if (e)
        return e;
    crypto_kdf_derive_from_key(n->cursor_seal, sizeof n->cursor_seal, 1, "lsncursr", master);
    crypto_kdf_derive_from_key(n->cursor_nonce, sizeof n->cursor_nonce, 2, "lsncursr", master);
    sodium_memzero(master, sizeof master);
    n->cursor_ready = true;
    return LSN_OK;
}

/* The associated data: reader and context, each with its length. */
static size_t make_ad(uint8_t ad[AD_MAX], const char *reader, const char *context)
{
    size_t rl = strnlen(reader, 480), cl = strnlen(context, 480), k = 0;
    memcpy(ad, "lsn-cursor-1", 12), k = 12;
    ad[k++] = (uint8_t)(rl >> 8), ad[k++] = (uint8_t)rl;
    memcpy(ad + k, reader, rl), k += rl;
    ad[k++] = (uint8_t)(cl >> 8), ad[k++] = (uint8_t)cl;
    memcpy(ad + k, context, cl), k += cl;
    return k;
}

void node_cursor_seal(const node *n, const char *reader, const char *context,
                      const uint8_t uuid[STORE_UUID_LEN], char out[NODE_CURSOR_CHARS + 1])
{
    if (!n->cursor_ready)
        core_misuse("node: a cursor sealed before the key was loaded");
    uint8_t ad[AD_MAX], sealed[SEALED_LEN];
    size_t adlen = make_ad(ad, reader, context);
    crypto_generichash_state h;
    crypto_generichash_init(&h, n->cursor_nonce, sizeof n->cursor_nonce, NONCE_LEN);
    crypto_generichash_update(&h, ad, adlen);
    crypto_generichash_update(&h, uuid, STORE_UUID_LEN);
    crypto_generichash_final(&h, sealed, NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + NONCE_LEN, NULL, uuid, STORE_UUID_LEN,
                                               ad, adlen, NULL, sealed, n->cursor_seal);
    sodium_bin2base64(out, NODE_CURSOR_CHARS + 1, sealed, sizeof sealed,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool node_cursor_open(const node *n, const char *reader, const char *context,
                      const char *text, uint8_t uuid[STORE_UUID_LEN])
{
    uint8_t sealed[SEALED_LEN], ad[AD_MAX];
    size_t len = 0;
    if (!n->cursor_ready || !text || strlen(text) != NODE_CURSOR_CHARS ||
        sodium_base642bin(sealed, sizeof sealed, text, NODE_CURSOR_CHARS, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != sizeof sealed)
        return false;
    size_t adlen = make_ad(ad, reader, context);
    return crypto_aead_xchacha20poly1305_ietf_decrypt(uuid, NULL, NULL, sealed + NONCE_LEN,
                                                      STORE_UUID_LEN + TAG_LEN, ad, adlen,
                                                      sealed, n->cursor_seal) == 0;
}
