/* store/writer.c — group commit and the audit chain's head, for every
 * back-end (writer.h).
 *
 * One writer thread takes all the requests queued so far, runs them in one
 * transaction of the back-end, commits, and only then wakes each poster
 * with its result. So a post is durable before it is acknowledged, and one
 * commit serves a whole group: the more posters wait, the bigger the group.
 *
 * The fast path runs the group's requests back to back, a run of item
 * appends as one insert_items. A request refused there (rare: requests are
 * checked before they are queued) makes the group roll back and run again
 * the careful way, each request in its own savepoint, so that only the
 * refused one is left out. If the commit fails, every request fails. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "store/writer.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/audit.h"

/* ---- the audit chain's head ---------------------------------------------- */

/* ev becomes the chain's next link: the next sequence number, its hash
 * chained to the head's; the (uncommitted) head moves to it. */
static void chain(writer *w, store_audit_event *ev)
{
    ev->seq = w->seq + 1;
    audit_entry_hash(w->hash, ev, ev->hash);
    w->seq = ev->seq;
    memcpy(w->hash, ev->hash, STORE_HASH_LEN);
}

typedef struct head {
    uint64_t seq;
    uint8_t hash[STORE_HASH_LEN];
} head;

static head head_now(const writer *w)
{
    head h = { .seq = w->seq };
    memcpy(h.hash, w->hash, STORE_HASH_LEN);
    return h;
}

static void head_back(writer *w, const head *h)
{
    w->seq = h->seq;
    memcpy(w->hash, h->hash, STORE_HASH_LEN);
}

/* The one place that runs after a group is durable and before anyone is
 * told: the committed head (seq, hash) and whether this group moved it.
 * The audit anchor (a signed copy of the head kept outside the database,
 * anchor.h) is told the new head here, never before its commit: its own
 * thread writes it soon after. */
static void after_commit(writer *w, bool moved)
{
    if (w->anchor && moved && w->committed_seq > 0)
        anchor_writer_note(w->anchor, w->committed_seq, w->committed_hash);
}

/* ---- running one request -------------------------------------------------- */

/* Insert the run of item requests items[0..k): the rows with one call, then
 * the post records of those that have one with another, chained in the
 * run's order. A post record without an object names its item. */
static lsn_err insert_run(writer *w, writer_item *const *items, int k, lsn_error *err)
{
    lsn_err e = w->ops->insert_items(w->be, items, k, err);
    if (e)
        return e;
    const store_audit_event *evs[WRITER_RUN_MAX];
    char objects[WRITER_RUN_MAX][48];
    const char *given[WRITER_RUN_MAX];
    int n = 0;
    for (int i = 0; i < k; i++) {
        store_audit_event *ev = items[i]->post;
        given[i] = ev ? ev->object : NULL;
        if (!ev)
            continue;
        if (!ev->object) {
            /* The item's public id: a later version's row has a uuid of its
             * own, never given out (and not kept by store migrate). */
            static const uint8_t none[STORE_UUID_LEN];
            const struct store_item_ver *v = &items[i]->item->ver;
            bool later = v->version >= 2 && memcmp(v->of, none, STORE_UUID_LEN) != 0;
            char u[37];
            store_uuid_text(later ? v->of : items[i]->uuid, u);
            snprintf(objects[i], sizeof objects[i], "item:%s", u);
            ev->object = objects[i];
        }
        chain(w, ev);
        evs[n++] = ev;
    }
    if (n)
        e = w->ops->insert_audit(w->be, evs, n, err);
    for (int i = 0; i < k; i++)
        if (items[i]->post)
            items[i]->post->object = given[i]; /* `objects` dies here */
    return e;
}

/* One request alone (not a run), its error into r->err. */
static lsn_err run_one(writer *w, writer_req *r)
{
    switch (r->kind) {
    case WRITER_ITEM:
        return insert_run(w, &r->item, 1, &r->err);
    case WRITER_AUDIT: {
        chain(w, r->event);
        const store_audit_event *ev = r->event;
        return w->ops->insert_audit(w->be, &ev, 1, &r->err);
    }
    case WRITER_APPLY: {
        /* With its audit record (writer_apply_audited): in the same
         * request, so that both are written or neither. */
        lsn_err e = r->apply(w->be, r->arg, &r->err);
        if (e || !r->event)
            return e;
        chain(w, r->event);
        const store_audit_event *ev = r->event;
        return w->ops->insert_audit(w->be, &ev, 1, &r->err);
    }
    case WRITER_BATCH: {
        /* The batch's items in runs, then its own write: one request, so
         * that the careful path's savepoint keeps it whole or drops it. */
        for (int i = 0; i < r->nitems; i += w->ops->run_max) {
            int k = r->nitems - i < w->ops->run_max ? r->nitems - i : w->ops->run_max;
            lsn_err e = insert_run(w, r->items + i, k, &r->err);
            if (e)
                return e;
        }
        for (int i = 0; i < r->nevents; i++) {
            chain(w, r->events[i]);
            const store_audit_event *ev = r->events[i];
            lsn_err e = w->ops->insert_audit(w->be, &ev, 1, &r->err);
            if (e)
                return e;
        }
        return r->apply ? r->apply(w->be, r->arg, &r->err) : LSN_OK;
    }
    }
    return LSN_ERR_ARG; /* unreachable */
}

/* ---- one group -------------------------------------------------------------- */

/* Fail every request of the group that has not failed on its own, and move
 * the head back to where the group started. */
static void fail_group(writer *w, writer_req *group, lsn_err code, const lsn_error *e,
                       const head *h0)
{
    lsn_error copy = *e;
    head_back(w, h0);
    for (writer_req *r = group; r; r = r->next) {
        if (!r->settled) {
            r->rc = code;
            r->err = copy;
            r->settled = 1;
        }
    }
}

/* Begin the group's transaction; on failure the group has failed. */
static bool begin(writer *w, writer_req *group, const head *h0)
{
    lsn_error e;
    lsn_err code = w->ops->begin(w->be, &e);
    if (code == LSN_OK)
        return true;
    w->ops->rollback(w->be);
    fail_group(w, group, code, &e, h0);
    return false;
}

/* Undo the open transaction and the head. */
static void undo(writer *w, const head *h0)
{
    w->ops->rollback(w->be);
    head_back(w, h0);
}

/* Run each request not yet settled in its own savepoint, so that a refused
 * one is left out alone. Returns false if the transaction was lost: the
 * request that met the error is settled with it; the others have to run
 * again. */
static bool run_careful(writer *w, writer_req *group)
{
    for (writer_req *r = group; r; r = r->next) {
        if (r->settled)
            continue;
        head h = head_now(w);
        r->rc = LSN_OK;
        core_error_clear(&r->err);
        if ((r->rc = w->ops->savepoint(w->be, &r->err)) != LSN_OK) {
            r->settled = 1;
            if (!w->ops->in_transaction(w->be))
                return false;
            continue;
        }
        r->rc = run_one(w, r);
        if (r->rc != LSN_OK) {
            r->settled = 1;
            head_back(w, &h);
            if (!w->ops->in_transaction(w->be))
                return false;
        }
        w->ops->savepoint_end(w->be, r->rc != LSN_OK);
    }
    return true;
}

/* The fast path: the requests back to back, runs of items as one insert.
 * Returns false at the first refusal (the group is then run the careful
 * way). A refusal of a lone request is its own; a run's says nothing. */
static bool run_fast(writer *w, writer_req *group)
{
    for (writer_req *r = group, *next; r; r = next) {
        if (r->kind != WRITER_ITEM) {
            next = r->next;
            if ((r->rc = run_one(w, r)) != LSN_OK) {
                r->settled = 1;
                return false;
            }
            continue;
        }
        writer_item *run[WRITER_RUN_MAX];
        int k = 0;
        for (next = r; next && next->kind == WRITER_ITEM && k < w->ops->run_max;
             next = next->next)
            run[k++] = next->item;
        lsn_error e;
        if (insert_run(w, run, k, &e) != LSN_OK)
            return false;
    }
    return true;
}

/* Run one group in one transaction. Only what is committed is
 * acknowledged; the head is taken as committed only after the commit. */
static void run_group(writer *w, writer_req *group)
{
    for (writer_req *r = group; r; r = r->next)
        r->settled = 0;
    head h0 = head_now(w);
    if (!begin(w, group, &h0))
        return;
    /* Under the write lock the head stored is the true one, even if another
     * process (an administrative command) appended meanwhile. */
    lsn_error e;
    lsn_err code = w->ops->audit_head(w->be, &h0.seq, h0.hash, &e);
    if (code != LSN_OK) {
        undo(w, &h0);
        fail_group(w, group, code, &e, &h0);
        return;
    }
    head_back(w, &h0);

    bool done = run_fast(w, group);
    while (!done) {
        undo(w, &h0);
        if (!begin(w, group, &h0))
            return;
        /* Each lost transaction settles one more request: this ends. */
        done = run_careful(w, group);
    }
    if ((code = w->ops->commit(w->be, &e)) != LSN_OK) {
        undo(w, &h0);
        fail_group(w, group, code, &e, &h0);
        return;
    }
    bool moved = w->seq != w->committed_seq;
    w->committed_seq = w->seq;
    memcpy(w->committed_hash, w->hash, STORE_HASH_LEN);
    after_commit(w, moved);
}

/* ---- the queue and the thread ------------------------------------------------ */

/* How long the writer may wait for the posters it has just woken to queue
 * their next writes, so that they share the next commit rather than wait
 * for the one after it (see gather()). About one commit: an fsync takes
 * 0.25 to 5 ms on the project's shared disk (docs/STORE.md, "Performance"). */
#define GATHER_NS 1000000L

/* Called with w->mu held and a non-empty queue. The posters woken by the
 * last commit are queueing their next writes right now; taking the queue at
 * once would split the posters into two cohorts that alternate, each group
 * half as big as it could be. So while fewer requests are queued than the
 * last group held, wait for them, at most GATHER_NS. A lone poster never
 * waits: its queue already holds as many as its last group. */
static void gather(writer *w, size_t last)
{
    if (w->queued >= last || w->stopping)
        return;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += GATHER_NS;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    w->gathering = 1;
    w->gather_target = last;
    while (w->queued < last && !w->stopping)
        if (pthread_cond_timedwait(&w->wake, &w->mu, &until) != 0)
            break; /* ETIMEDOUT */
    w->gathering = 0;
}

static void *writer_main(void *arg)
{
    writer *w = arg;
    pthread_setname_np(pthread_self(), "store-writer"); /* for top, perf */
    size_t last = 0; /* size of the last group */
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->mu);
        if (!w->head)
            break; /* stopping, and nothing left to write */
        gather(w, last);
        writer_req *group = w->head;
        last = w->queued;
        w->head = w->tail = NULL;
        w->queued = 0;
        pthread_mutex_unlock(&w->mu);

        run_group(w, group);

        /* Complete and wake outside the queue's lock, so that a woken
         * poster does not go straight to sleep again on it. */
        for (writer_req *r = group, *next; r; r = next) {
            next = r->next; /* r is gone once completed or woken */
            if (r->complete)
                r->complete(r); /* frees r */
            else
                sem_post(&r->done);
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

lsn_err writer_start(writer *w, const writer_ops *ops, void *be, anchor_writer *anchor,
                     lsn_error *err)
{
    if (ops->run_max < 1 || ops->run_max > WRITER_RUN_MAX || !ops->begin ||
        !ops->audit_head || !ops->insert_items || !ops->insert_audit || !ops->commit ||
        !ops->rollback || !ops->savepoint || !ops->savepoint_end || !ops->in_transaction)
        core_misuse("store: a back-end's writer_ops is incomplete");
    *w = (writer){ .ops = ops, .be = be, .anchor = anchor };
    lsn_err e = ops->audit_head(be, &w->seq, w->hash, err);
    if (e)
        return e;
    w->committed_seq = w->seq;
    memcpy(w->committed_hash, w->hash, STORE_HASH_LEN);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* for the gather wait */
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->wake);
        return core_fail(err, LSN_ERR_NOMEM, "cannot start the store's writer thread");
    }
    return LSN_OK;
}

void writer_stop(writer *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->wake);
}

static void enqueue(writer *w, writer_req *r)
{
    r->next = NULL;
    r->rc = LSN_OK;
    core_error_clear(&r->err);
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        core_misuse("store: write after close");
    }
    if (w->tail)
        w->tail->next = r;
    else
        w->head = r;
    w->tail = r;
    w->queued++;
    /* The writer waits either for any work (the queue was empty) or, while
     * gathering, for the group to fill: wake it only then. */
    if (w->queued == 1 || (w->gathering && w->queued >= w->gather_target))
        pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
}

void writer_submit_async(writer *w, writer_req *r)
{
    enqueue(w, r);
}

lsn_err writer_submit(writer *w, writer_req *r, lsn_error *err)
{
    r->complete = NULL;
    if (sem_init(&r->done, 0, 0) != 0)
        return core_fail(err, LSN_ERR_NOMEM, "cannot queue a write");
    enqueue(w, r);
    /* glibc's sem_post touches nothing after waking the waiter, so the
     * semaphore may be destroyed as soon as sem_wait returns. */
    while (sem_wait(&r->done) != 0)
        ; /* EINTR */
    sem_destroy(&r->done);
    if (r->rc != LSN_OK && err)
        *err = r->err;
    return r->rc;
}
