/* store/anchor.c — the signed anchor of the audit chain's head (anchor.h). */
#include "store/anchor.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

#define MAGIC "LSNANCH1"
#define SIGNED_LEN (8 + 8 + STORE_HASH_LEN)
#define FILE_LEN (SIGNED_LEN + crypto_sign_BYTES)

int anchor_path(const char *db_path, char *out, size_t n)
{
    int w = snprintf(out, n, "%s.anchor", db_path);
    return w > 0 && (size_t)w < n;
}

static void encode(uint8_t buf[SIGNED_LEN], uint64_t seq, const uint8_t hash[STORE_HASH_LEN])
{
    memcpy(buf, MAGIC, 8);
    for (int i = 0; i < 8; i++)
        buf[8 + i] = (uint8_t)(seq >> (56 - 8 * i));
    memcpy(buf + 16, hash, STORE_HASH_LEN);
}

lsn_err anchor_read(const char *db_path, const uint8_t pk[32], store_anchor *out,
                    lsn_error *err)
{
    char path[4096];
    memset(out, 0, sizeof *out);
    if (!anchor_path(db_path, path, sizeof path))
        return core_fail(err, LSN_ERR_ARG, "the store's path is too long");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            out->state = STORE_ANCHOR_NONE;
            return LSN_OK;
        }
        return core_fail(err, LSN_ERR_IO, "cannot read the audit anchor %s: %s", path,
                        strerror(errno));
    }
    uint8_t buf[FILE_LEN + 1];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    out->state = STORE_ANCHOR_BAD;
    if (n != FILE_LEN || memcmp(buf, MAGIC, 8) != 0) {
        snprintf(out->why, sizeof out->why, "%.180s is not an anchor (%zd bytes)", path, n);
    } else if (crypto_sign_verify_detached(buf + SIGNED_LEN, buf, SIGNED_LEN, pk) != 0) {
        snprintf(out->why, sizeof out->why, "%.180s: the signature does not verify", path);
    } else {
        out->state = STORE_ANCHOR_OK;
        for (int i = 0; i < 8; i++)
            out->seq = out->seq << 8 | buf[8 + i];
        memcpy(out->hash, buf + 16, STORE_HASH_LEN);
    }
    return LSN_OK;
}

lsn_err anchor_write(const char *db_path, const seal_keys *k, uint64_t seq,
                     const uint8_t hash[STORE_HASH_LEN], lsn_error *err)
{
    char path[4096], tmp[4200];
    if (!anchor_path(db_path, path, sizeof path))
        return core_fail(err, LSN_ERR_ARG, "the store's path is too long");
    /* One temporary name per write: two processes (the node and an
     * administrative command), or two handles of one process, may anchor
     * the same store at once. */
    static _Atomic unsigned long writes;
    snprintf(tmp, sizeof tmp, "%s.%ld.%lu.tmp", path, (long)getpid(),
             (unsigned long)atomic_fetch_add(&writes, 1));
    uint8_t buf[FILE_LEN];
    encode(buf, seq, hash);
    crypto_sign_detached(buf + SIGNED_LEN, NULL, buf, SIGNED_LEN, k->sign_sk);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return core_fail(err, LSN_ERR_IO, "cannot write the audit anchor %s: %s", tmp,
                        strerror(errno));
    int ok = write(fd, buf, FILE_LEN) == FILE_LEN && fdatasync(fd) == 0;
    ok = close(fd) == 0 && ok;
    /* The bytes are synced before the rename, so a crash leaves the old
     * anchor or the new one, whole. The directory is not synced: a crash
     * may bring back the older anchor, which only lags (never ahead), and
     * a second fsync per write would compete with the commits' own. */
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        (void)unlink(tmp);
        return core_fail(err, LSN_ERR_IO, "cannot write the audit anchor %s: %s", path,
                        strerror(e));
    }
    return LSN_OK;
}

/* ---- the writing thread -------------------------------------------------- */

/* At most one anchor write per ANCHOR_GAP_NS: each costs an fsync on the
 * disk the commits sync to, and under load the head moves on every group.
 * Records committed in the gap are not yet anchored (docs/STORE.md). */
#define ANCHOR_GAP_NS 20000000L

struct anchor_writer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    const seal_keys *keys;
    char *db_path;
    uint64_t want_seq; /* the last head noted */
    uint8_t want_hash[STORE_HASH_LEN];
    uint64_t written;  /* the last head written (0: none yet) */
    int stopping;
    int failing;       /* the last write failed: said once on stderr */
};

static void write_one(anchor_writer *a, uint64_t seq, const uint8_t hash[STORE_HASH_LEN])
{
    lsn_error err;
    if (anchor_write(a->db_path, a->keys, seq, hash, &err) != LSN_OK) {
        if (!a->failing)
            fprintf(stderr, "liaison: store: %s\n", err.message);
        a->failing = 1;
    } else {
        a->failing = 0;
    }
}

static void *anchor_main(void *arg)
{
    anchor_writer *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (a->want_seq == a->written && !a->stopping)
            pthread_cond_wait(&a->cv, &a->mu);
        if (a->want_seq == a->written)
            break; /* stopping, nothing left to write */
        uint64_t seq = a->want_seq;
        uint8_t hash[STORE_HASH_LEN];
        memcpy(hash, a->want_hash, sizeof hash);
        pthread_mutex_unlock(&a->mu);
        write_one(a, seq, hash); /* groups committed meanwhile share the next */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += ANCHOR_GAP_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&a->mu);
        a->written = seq;
        /* The gap; a stop ends it at once (the last head is written). */
        while (!a->stopping && pthread_cond_timedwait(&a->cv, &a->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

anchor_writer *anchor_writer_start(const char *db_path, const seal_keys *k, lsn_error *err)
{
    anchor_writer *a = core_calloc(1, sizeof *a);
    if (!a || !(a->db_path = core_strdup(db_path))) {
        lsn_free(a);
        core_fail(err, LSN_ERR_NOMEM, "out of memory starting the audit anchor");
        return NULL;
    }
    a->keys = k;
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* for the gap */
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&a->th, NULL, anchor_main, a) != 0) {
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->cv);
        lsn_free(a->db_path);
        lsn_free(a);
        core_fail(err, LSN_ERR_NOMEM, "cannot start the audit anchor's thread");
        return NULL;
    }
    return a;
}

void anchor_writer_note(anchor_writer *a, uint64_t seq, const uint8_t hash[STORE_HASH_LEN])
{
    pthread_mutex_lock(&a->mu);
    if (seq != a->want_seq) {
        a->want_seq = seq;
        memcpy(a->want_hash, hash, STORE_HASH_LEN);
        pthread_cond_signal(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
}

void anchor_writer_stop(anchor_writer *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stopping = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    lsn_free(a->db_path);
    lsn_free(a);
}
