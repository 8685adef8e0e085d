/* store/seal.c — the items' key file and their MAC (see seal.h). */
#include "store/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

/* ---- the key file ------------------------------------------------------- */

int seal_key_path(const char *db_path, char *out, size_t n)
{
    int w = snprintf(out, n, "%s.key", db_path);
    return w > 0 && (size_t)w < n;
}

/* Sync the directory holding `path`, so that a new file's name is durable. */
static void sync_dir_of(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, sizeof dir, ".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir)
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static lsn_err make_key(const char *path, uint8_t key[SEAL_KEY_LEN], lsn_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return core_fail(err, LSN_ERR_IO, "cannot create the store's key %s: %s", path,
                        strerror(errno));
    randombytes_buf(key, SEAL_KEY_LEN);
    ssize_t w = write(fd, key, SEAL_KEY_LEN);
    int synced = fsync(fd) == 0;
    close(fd);
    if (w != SEAL_KEY_LEN || !synced) {
        (void)unlink(path);
        return core_fail(err, LSN_ERR_IO, "cannot write the store's key %s", path);
    }
    sync_dir_of(path);
    return LSN_OK;
}

/* Read an existing key file, refusing any that others could read or
 * replace: with the key, a person can forge seals and anchors. */
static lsn_err read_key(const char *path, int fd, uint8_t key[SEAL_KEY_LEN], lsn_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return core_fail(err, LSN_ERR_IO, "cannot read the store's key %s: %s", path,
                        strerror(errno));
    if (!S_ISREG(st.st_mode))
        return core_fail(err, LSN_ERR_IO, "the store's key %s is not a regular file", path);
    if (st.st_mode & 077)
        return core_fail(err, LSN_ERR_IO,
                        "the store's key %s has mode %04o: it must be readable by its "
                        "owner only (chmod 600 it)",
                        path, (unsigned)(st.st_mode & 07777));
    if (st.st_uid != geteuid())
        return core_fail(err, LSN_ERR_IO,
                        "the store's key %s belongs to another user (uid %u)", path,
                        (unsigned)st.st_uid);
    if (st.st_size != SEAL_KEY_LEN)
        return core_fail(err, LSN_ERR_IO,
                        "the store's key %s has %lld bytes: a key has exactly %d", path,
                        (long long)st.st_size, SEAL_KEY_LEN);
    if (read(fd, key, SEAL_KEY_LEN) != SEAL_KEY_LEN)
        return core_fail(err, LSN_ERR_IO, "cannot read the store's key %s", path);
    return LSN_OK;
}

lsn_err seal_keys_load(const char *db_path, int may_create, seal_keys *k, int *created,
                       lsn_error *err)
{
    char path[4096];
    *created = 0;
    memset(k, 0, sizeof *k);
    if (!seal_key_path(db_path, path, sizeof path))
        return core_fail(err, LSN_ERR_ARG, "the store's path is too long");
    uint8_t master[SEAL_KEY_LEN];
    lsn_err e;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        e = read_key(path, fd, master, err);
        close(fd);
    } else if (errno == ENOENT && may_create) {
        e = make_key(path, master, err);
        *created = e == LSN_OK;
    } else if (errno == ENOENT) {
        e = core_fail(err, LSN_ERR_IO,
                     "the store's key %s is missing: its items were sealed with it "
                     "(restore it from the data directory's backup)",
                     path);
    } else {
        e = core_fail(err, LSN_ERR_IO, "cannot open the store's key %s: %s", path,
                     errno == ELOOP ? "it is a symbolic link" : strerror(errno));
    }
    if (e == LSN_OK) {
        /* Two keys from one file: the items' MAC key and the anchor's
         * signing seed, each for its own purpose. */
        uint8_t seed[crypto_sign_SEEDBYTES];
        crypto_kdf_derive_from_key(k->mac, sizeof k->mac, 1, "lsnstore", master);
        crypto_generichash_state h;
        crypto_generichash_init(&h, k->mac, SEAL_LEN, SEAL_LEN);
        memcpy(k->mac0, &h, sizeof k->mac0);
        sodium_memzero(&h, sizeof h);
        crypto_kdf_derive_from_key(seed, sizeof seed, 2, "lsnstore", master);
        crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
        sodium_memzero(seed, sizeof seed);
        (void)sodium_mlock(k, sizeof *k);
    }
    sodium_memzero(master, sizeof master);
    return e;
}

void seal_keys_wipe(seal_keys *k)
{
    (void)sodium_munlock(k, sizeof *k); /* zeroes too */
}

/* ---- the MAC ------------------------------------------------------------ */

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    crypto_generichash_update(h, b, sizeof b);
}

/* A field: its length as 8 big-endian bytes, then its bytes (hash.h). */
static void put_str(crypto_generichash_state *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u64(h, n);
    crypto_generichash_update(h, (const unsigned char *)(s ? s : ""), n);
}

static void digest(const void *p, size_t n, const char *domain, uint8_t out[SEAL_LEN])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, SEAL_LEN);
    put_str(&h, domain);
    crypto_generichash_update(&h, p, n);
    crypto_generichash_final(&h, out, SEAL_LEN);
}

void seal_digest(const store_item *it, seal_digests *d)
{
    digest(it->body ? it->body : "", it->body ? strlen(it->body) : 0, "liaison body v1",
           d->body);
    if (it->media_type)
        digest(it->attachment ? (const void *)it->attachment : "",
               it->attachment ? it->attachment_len : 0, "liaison attachment v1",
               d->attachment);
    else
        memset(d->attachment, 0, SEAL_LEN);
}

/* The MAC's input, gathered in a buffer: its fields are short, and one
 * update per ~500 bytes costs less than two per field. The bytes hashed
 * are the same as field by field. */
typedef struct mac_buf {
    crypto_generichash_state h;
    size_t n;
    unsigned char b[512];
} mac_buf;

static void mb_raw(mac_buf *m, const void *p, size_t n)
{
    if (m->n + n > sizeof m->b) {
        crypto_generichash_update(&m->h, m->b, m->n);
        m->n = 0;
        if (n > sizeof m->b) {
            crypto_generichash_update(&m->h, p, n);
            return;
        }
    }
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void mb_u64(mac_buf *m, uint64_t v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    mb_raw(m, b, sizeof b);
}

static void mb_str(mac_buf *m, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    mb_u64(m, n);
    mb_raw(m, s ? s : "", n);
}

/* The class's text, encoded as the digest reads it: field(label),
 * field(marking_en), field(marking_fr), u64(classification, -1 if none).
 * Returns its length, or 0 when it does not fit `cap`. */
static size_t class_text(const store_item *it, unsigned char *out, size_t cap)
{
    const char *f[3] = { it->label, it->marking_en, it->marking_fr };
    size_t k = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = f[i] ? strlen(f[i]) : 0;
        if (k + 8 + n + 8 > cap)
            return 0;
        for (int j = 7; j >= 0; j--)
            out[k++] = (uint8_t)(n >> (8 * j));
        memcpy(out + k, f[i] ? f[i] : "", n);
        k += n;
    }
    /* As stored in the class: a negative one is stored as NULL, read as -1. */
    uint64_t c = (uint64_t)(int64_t)(it->classification < 0 ? -1 : it->classification);
    for (int j = 7; j >= 0; j--)
        out[k++] = (uint8_t)(c >> (8 * j));
    return k;
}

/* The last classes this thread hashed: a class's text is a few hundred
 * bytes, hashed once instead of once per row read. Only a text equal byte
 * for byte to the one hashed gets its digest. */
#define CLASS_MEMO_SLOTS 8
#define CLASS_MEMO_TEXT 1024
static _Thread_local struct class_memo {
    size_t len; /* 0: empty */
    uint8_t digest[SEAL_LEN];
    unsigned char text[CLASS_MEMO_TEXT];
} class_memo[CLASS_MEMO_SLOTS];

static void class_hash(const unsigned char *text, size_t n, uint8_t out[SEAL_LEN])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, SEAL_LEN);
    put_str(&h, "liaison class v1");
    crypto_generichash_update(&h, text, n);
    crypto_generichash_final(&h, out, SEAL_LEN);
}

void seal_class_digest(const store_item *it, uint8_t out[SEAL_LEN])
{
    unsigned char text[CLASS_MEMO_TEXT];
    size_t n = class_text(it, text, sizeof text);
    if (!n) { /* too long to remember: hashed field by field */
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, SEAL_LEN);
        put_str(&h, "liaison class v1");
        put_str(&h, it->label);
        put_str(&h, it->marking_en);
        put_str(&h, it->marking_fr);
        put_u64(&h, (uint64_t)(int64_t)(it->classification < 0 ? -1 : it->classification));
        crypto_generichash_final(&h, out, SEAL_LEN);
        return;
    }
    struct class_memo *m = &class_memo[(uint64_t)it->class_id % CLASS_MEMO_SLOTS];
    if (m->len == n && memcmp(m->text, text, n) == 0) {
        memcpy(out, m->digest, SEAL_LEN);
        return;
    }
    class_hash(text, n, out);
    memcpy(m->text, text, n);
    memcpy(m->digest, out, SEAL_LEN);
    m->len = n;
}

void seal_mac(const seal_keys *k, const store_item *it, const uint8_t cls[SEAL_LEN],
              const seal_digests *d, uint8_t out[SEAL_LEN])
{
    mac_buf m;
    memcpy(&m.h, k->mac0, sizeof m.h); /* crypto_generichash_init with the key */
    m.n = 0;
    mb_str(&m, "liaison item seal v2");
    mb_u64(&m, (uint64_t)it->id);
    mb_raw(&m, it->uuid, STORE_UUID_LEN);
    mb_u64(&m, (uint64_t)it->class_id);
    mb_raw(&m, cls, SEAL_LEN);
    mb_str(&m, it->channel);
    mb_str(&m, it->author);
    mb_str(&m, it->organisation);
    mb_u64(&m, (uint64_t)it->created_ms);
    mb_raw(&m, d->body, SEAL_LEN);
    if (it->media_type) {
        /* 2: with a file name (schema 7); 1 (items before it): without, so
         * that their seals stay as they were made. */
        uint8_t tag = it->attachment_name ? 2 : 1;
        mb_raw(&m, &tag, 1);
        mb_str(&m, it->media_type);
        if (it->attachment_name)
            mb_str(&m, it->attachment_name);
        mb_u64(&m, (uint64_t)it->attachment_len);
        mb_raw(&m, d->attachment, SEAL_LEN);
    } else {
        uint8_t zero = 0;
        mb_raw(&m, &zero, 1);
    }
    mb_raw(&m, it->content_hash, STORE_HASH_LEN);
    /* A later version's link to its item (schema 13): the row's place in
     * the item's history is sealed with it. A first version hashes nothing
     * more, so that seals made before links were sealed stay as made. */
    if (it->ver.version >= 2) {
        uint8_t tag = 'v';
        mb_raw(&m, &tag, 1);
        mb_raw(&m, it->ver.of, STORE_UUID_LEN);
        mb_u64(&m, (uint64_t)it->ver.version);
    }
    crypto_generichash_update(&m.h, m.b, m.n);
    crypto_generichash_final(&m.h, out, SEAL_LEN);
    sodium_memzero(&m, sizeof m.h); /* the keyed state */
}

void seal_new_row(const seal_keys *k, const store_item *it, int64_t id, int64_t class_id,
                  const uint8_t uuid[STORE_UUID_LEN], int64_t created_ms,
                  const uint8_t content_hash[STORE_HASH_LEN], const uint8_t cls[SEAL_LEN],
                  const seal_digests *d, uint8_t out[SEAL_LEN])
{
    store_item row = *it;
    row.id = id;
    row.class_id = class_id;
    memcpy(row.uuid, uuid, STORE_UUID_LEN);
    row.created_ms = created_ms;
    if (!row.media_type)
        row.attachment_len = 0;
    memcpy(row.content_hash, content_hash, STORE_HASH_LEN);
    seal_mac(k, &row, cls, d, out);
}

void seal_hidden_mac(const seal_keys *k, int64_t row, const char *why, int64_t time_ms,
                     uint8_t out[SEAL_LEN])
{
    mac_buf m;
    memcpy(&m.h, k->mac0, sizeof m.h);
    m.n = 0;
    mb_str(&m, "liaison hidden row v1");
    mb_u64(&m, (uint64_t)row);
    mb_str(&m, why);
    mb_u64(&m, (uint64_t)time_ms);
    crypto_generichash_update(&m.h, m.b, m.n);
    crypto_generichash_final(&m.h, out, SEAL_LEN);
    sodium_memzero(&m, sizeof m.h);
}

const char *seal_hidden_check(const seal_keys *k, int64_t row, const char *why,
                              int64_t time_ms, const uint8_t *mac, size_t mac_len)
{
    uint8_t want[SEAL_LEN];
    seal_hidden_mac(k, row, why, time_ms, want);
    if (!mac || mac_len != SEAL_LEN || sodium_memcmp(want, mac, SEAL_LEN) != 0)
        return "hidden mark altered or added (its seal does not match)";
    return NULL;
}

const char *seal_check(const seal_keys *k, const store_item *it, seal_level level,
                       const seal_row *row)
{
    if (!row->present)
        return "no seal (its seal is missing)";
    /* A link whose number is not a later version's (a reader sets -1). */
    if (it->ver.version < 1)
        return "version link altered (not a later version's)";
    seal_digests d;
    memcpy(d.body, row->body, SEAL_LEN);
    memcpy(d.attachment, row->attachment, SEAL_LEN);
    uint8_t cls[SEAL_LEN], mac[SEAL_LEN];
    seal_class_digest(it, cls);
    seal_mac(k, it, cls, &d, mac);
    if (sodium_memcmp(mac, row->mac, SEAL_LEN) != 0)
        return "label or row altered (its seal does not match)";
    if (level == SEAL_LABEL)
        return NULL;
    uint8_t got[SEAL_LEN];
    digest(it->body ? it->body : "", it->body ? strlen(it->body) : 0, "liaison body v1", got);
    if (sodium_memcmp(got, row->body, SEAL_LEN) != 0)
        return "body altered (its seal does not match)";
    if (level == SEAL_LISTED || !it->media_type)
        return NULL;
    digest(it->attachment ? (const void *)it->attachment : "",
           it->attachment ? it->attachment_len : 0, "liaison attachment v1", got);
    if (sodium_memcmp(got, row->attachment, SEAL_LEN) != 0)
        return "attachment altered (its seal does not match)";
    return NULL;
}
