/* store/sqlite_writer.c — group commit.
 *
 * Every write of the SQLite store (items, audit entries, organisations,
 * users, channels) is a request queued here. One writer thread takes all the
 * requests queued so far, runs them in one transaction, adds the group's
 * item bodies to the full-text index with one statement, COMMITs (which,
 * with WAL and synchronous=FULL, fsync()s the WAL), and only then wakes each
 * poster with its result. So a post is on disk before it is acknowledged,
 * and one fsync serves a whole group: the more posters wait, the bigger the
 * group.
 *
 * A request that fails (an unknown channel, a duplicate name) is left out
 * alone: the group is run again, each request in its own SAVEPOINT. If the
 * indexing or the COMMIT fails, every request of the group fails. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "store/sqlite_internal.h"

#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"

static int step_done(sq_conn *c, sq_stmt which)
{
    sqlite3_stmt *st = sq_prepare(c, which);
    if (!st)
        return 0;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

/* Fail every request of the group that has not failed on its own, and move
 * the audit head back to where the group started. */
static void fail_group(sq_store *s, sq_req *group, lsn_err code, const lsn_error *e,
                       uint64_t seq0, const uint8_t hash0[STORE_HASH_LEN])
{
    lsn_error copy = *e;
    s->audit_seq = seq0;
    memcpy(s->audit_hash, hash0, STORE_HASH_LEN);
    for (sq_req *r = group; r; r = r->next) {
        if (!r->settled) {
            r->rc = code;
            r->err = copy;
            r->settled = 1;
        }
    }
}

static int begin(sq_store *s, sq_req *group, uint64_t seq0,
                 const uint8_t hash0[STORE_HASH_LEN])
{
    s->fts_from = 0; /* no item inserted by this transaction yet */
    s->class_added = 0;
    if (step_done(&s->w, SQ_BEGIN))
        return 1;
    lsn_error e;
    lsn_err code = sq_fail(s->w.db, &e, "starting a transaction");
    fail_group(s, group, code, &e, seq0, hash0);
    return 0;
}

/* Undo an open transaction (if SQLite has not already) and the audit head. */
static void undo(sq_store *s, uint64_t seq0, const uint8_t hash0[STORE_HASH_LEN])
{
    if (!sqlite3_get_autocommit(s->w.db))
        (void)step_done(&s->w, SQ_ROLLBACK);
    sq_class_cache_clear(s);
    s->audit_seq = seq0;
    memcpy(s->audit_hash, hash0, STORE_HASH_LEN);
}

/* Run each request not yet settled in its own savepoint, so that a refused
 * one is left out alone. Returns 0 if the transaction was lost: some errors
 * (disk full, I/O, out of memory, a trigger's RAISE(ROLLBACK)) roll back
 * the whole transaction. The request that met the error is settled with it;
 * the others have to run again. */
static int run_careful(sq_store *s, sq_req *group)
{
    for (sq_req *r = group; r; r = r->next) {
        if (r->settled)
            continue;
        uint64_t seq = s->audit_seq;
        uint8_t hash[STORE_HASH_LEN];
        memcpy(hash, s->audit_hash, sizeof hash);
        r->rc = LSN_OK;
        core_error_clear(&r->err);
        if (!step_done(&s->w, SQ_SAVEPOINT)) {
            r->rc = sq_fail(s->w.db, &r->err, "starting a savepoint");
            r->settled = 1;
            if (sqlite3_get_autocommit(s->w.db))
                return 0;
            continue;
        }
        r->rc = r->apply(s, r);
        if (r->rc != LSN_OK) {
            r->settled = 1;
            if (sqlite3_get_autocommit(s->w.db)) {
                sq_class_cache_clear(s);
                return 0;
            }
            (void)step_done(&s->w, SQ_ROLLBACK_TO);
            sq_class_cache_clear(s);
            s->audit_seq = seq;
            memcpy(s->audit_hash, hash, sizeof hash);
        }
        (void)step_done(&s->w, SQ_RELEASE);
    }
    return 1;
}

/* Run one group in one transaction. The audit chain head moves with each
 * request that appends to the log, and moves back if that request or the
 * whole group fails. Only what is committed is acknowledged.
 *
 * The fast path runs the requests one after the other with no savepoint:
 * a savepoint per request would cost a full-text index flush per item
 * (FTS5 writes its pending terms out at each savepoint). Requests are
 * checked before they are queued, so a refusal here is rare (an unknown
 * channel, a duplicate name); then the group is rolled back and run again
 * the careful way, one savepoint per request, until it commits with only
 * the refused requests left out. */
static void run_group(sq_store *s, sq_req *group)
{
    uint64_t seq0 = s->audit_seq;
    uint8_t hash0[STORE_HASH_LEN];
    memcpy(hash0, s->audit_hash, sizeof hash0);
    for (sq_req *r = group; r; r = r->next)
        r->settled = 0;
    if (!begin(s, group, seq0, hash0))
        return;
    /* Under the write lock the head on disk is the true one, even if
     * another process (an administrative command) appended meanwhile. */
    lsn_error e;
    lsn_err code = sq_audit_head_load(s, &e);
    if (code != LSN_OK) {
        undo(s, seq0, hash0);
        fail_group(s, group, code, &e, seq0, hash0);
        return;
    }
    seq0 = s->audit_seq;
    memcpy(hash0, s->audit_hash, sizeof hash0);

    int refused = 0;
    for (sq_req *r = group, *next; r && !refused; r = next) {
        if (sq_req_is_item(r)) {
            /* A run of items: one INSERT. If it fails, the careful way
             * below finds which item it was. */
            refused = sq_apply_items(s, r, &next, &e) != LSN_OK;
        } else {
            next = r->next;
            refused = (r->rc = r->apply(s, r)) != LSN_OK;
            r->settled = refused; /* a refusal here is the request's own */
        }
    }
    while (refused) {
        undo(s, seq0, hash0);
        if (!begin(s, group, seq0, hash0))
            return;
        /* Each lost transaction settles one more request: this ends. */
        refused = !run_careful(s, group);
    }
    /* The full-text index of the group's items, in the same transaction.
     * If it fails, nothing of the group is committed or acknowledged. */
    if ((code = sq_fts_index(s, &e)) != LSN_OK) {
        undo(s, seq0, hash0);
        fail_group(s, group, code, &e, seq0, hash0);
        return;
    }
    if (!step_done(&s->w, SQ_COMMIT)) {
        code = sq_fail(s->w.db, &e, "committing");
        undo(s, seq0, hash0);
        fail_group(s, group, code, &e, seq0, hash0);
        return;
    }
    sq_seal_committed(s); /* anchor the new head: never before its commit */
    /* A failure here (a read of one index) leaves the old value: the new
     * classes' items are then listed after the next commit that adds one. */
    if (s->class_added)
        (void)sq_class_max_load(s, &e);
}

/* How long the writer may wait for the posters it has just woken to queue
 * their next writes, so that they share the next fsync rather than wait for
 * the one after it (see gather()). About one commit: an fsync takes 0.25 to
 * 5 ms on the project's shared disk (docs/STORE.md, "Performance"). */
#define GATHER_NS 1000000L

/* Called with s->mu held and a non-empty queue. The posters woken by the
 * last commit are queueing their next writes right now; taking the queue at
 * once would split the posters into two cohorts that alternate, each group
 * half as big as it could be. So while fewer requests are queued than the
 * last group held, wait for them, at most GATHER_NS. A lone poster never
 * waits: its queue already holds as many as its last group. */
static void gather(sq_store *s, size_t last)
{
    if (s->queued >= last || s->stopping)
        return;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += GATHER_NS;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    s->gathering = 1;
    s->gather_target = last;
    while (s->queued < last && !s->stopping)
        if (pthread_cond_timedwait(&s->wake, &s->mu, &until) != 0)
            break; /* ETIMEDOUT */
    s->gathering = 0;
}

static void *writer_main(void *arg)
{
    sq_store *s = arg;
    pthread_setname_np(pthread_self(), "store-writer"); /* for top, perf */
    size_t last = 0; /* size of the last group */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->wake, &s->mu);
        if (!s->head)
            break; /* stopping, and nothing left to write */
        gather(s, last);
        sq_req *group = s->head;
        last = s->queued;
        s->head = s->tail = NULL;
        s->queued = 0;
        pthread_mutex_unlock(&s->mu);

        run_group(s, group);

        /* Complete and wake outside the queue's lock, so that a woken
         * poster does not go straight to sleep again on it. */
        for (sq_req *r = group, *next; r; r = next) {
            next = r->next; /* r is gone once completed or woken */
            if (r->complete)
                r->complete(r); /* frees r */
            else
                sem_post(&r->done);
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

lsn_err sq_writer_start(sq_store *s, lsn_error *err)
{
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
        return core_fail(err, LSN_ERR_NOMEM, "cannot start the store's writer thread");
    return LSN_OK;
}

void sq_writer_stop(sq_store *s)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
}

static void enqueue_locked(sq_store *s, sq_req *r)
{
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        core_misuse("store: write after close");
    }
    if (s->tail)
        s->tail->next = r;
    else
        s->head = r;
    s->tail = r;
    s->queued++;
    /* The writer waits either for any work (the queue was empty) or, while
     * gathering, for the group to fill: wake it only then. */
    if (s->queued == 1 || (s->gathering && s->queued >= s->gather_target))
        pthread_cond_signal(&s->wake);
}

void sq_submit_async(sq_store *s, sq_req *r)
{
    r->next = NULL;
    r->rc = LSN_OK;
    core_error_clear(&r->err);
    pthread_mutex_lock(&s->mu);
    enqueue_locked(s, r);
    pthread_mutex_unlock(&s->mu);
}

lsn_err sq_submit(sq_store *s, sq_req *r, lsn_error *err)
{
    r->next = NULL;
    r->rc = LSN_OK;
    core_error_clear(&r->err);
    r->complete = NULL;
    if (sem_init(&r->done, 0, 0) != 0)
        return core_fail(err, LSN_ERR_NOMEM, "cannot queue a write");
    pthread_mutex_lock(&s->mu);
    enqueue_locked(s, r);
    pthread_mutex_unlock(&s->mu);
    /* glibc's sem_post touches nothing after waking the waiter, so the
     * semaphore may be destroyed as soon as sem_wait returns. */
    while (sem_wait(&r->done) != 0)
        ; /* EINTR */
    sem_destroy(&r->done);

    if (r->rc != LSN_OK && err)
        *err = r->err;
    return r->rc;
}
