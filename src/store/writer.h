/* store/writer.h — the group-commit writer, the same for every back-end.
 *
 * Every write of a store (items, audit events, organisations, users,
 * channels) is a request queued to one writer thread. The writer takes
 * everything queued so far as a group, runs it in one transaction of the
 * back-end, commits, and only then completes each request: so one commit
 * (one fsync) serves the whole group, and nothing is acknowledged before it
 * is durable.
 *
 * The writer also keeps the audit chain's head (the sequence number and
 * hash of the last record): it reads it from the back-end at start and at
 * the start of each group (under the back-end's write lock, so that another
 * process appending meanwhile is continued, not forked), gives each record
 * of the group the next sequence number and its chain hash, and takes the
 * new head as committed only once the group has committed. A group or a
 * request that fails moves the head back.
 *
 * A back-end supplies `writer_ops`: a transaction (begin, commit, rollback),
 * savepoints (so that a refused request is left out alone), inserts of a
 * run of items and of audit records whose sequence number and hash are set,
 * and a read of the head. Its other writes (an organisation, a user, a
 * channel) are `writer_apply` functions run inside the group. The writing
 * entries of store_ops (item_append, item_append_async, audit_append) are
 * the writer's (writer_append.c): a back-end's table points at them through
 * one-line wrappers. See docs/STORE.md, "Group commit" and "The contract". */
#ifndef STORE_WRITER_H
#define STORE_WRITER_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>

#include "store/anchor.h"
#include "store/seal.h"
#include "store/store.h"

/* The longest run of consecutive item appends handed to one insert_items. */
#define WRITER_RUN_MAX 32

/* One item append as the writer hands it to the back-end. Everything is
 * set before it is queued (checked, hashed, its UUID chosen) but `id`,
 * which insert_items sets. */
typedef struct writer_item {
    const store_item *item;  /* its class_id, id, uuid and content_hash ignored */
    const uint8_t *hash;     /* the content hash (STORE_HASH_LEN bytes) */
    int64_t created_ms;      /* the item's time (the caller's, or now) */
    uint8_t uuid[STORE_UUID_LEN]; /* the public id to store */
    store_audit_event *post; /* its post record, or NULL; chained by the writer */
    seal_digests seal_digests; /* of body and attachment, for its seal (seal.h) */
    int64_t id;              /* out: the internal id the back-end gave it */
} writer_item;

/* A write of the back-end's own (an organisation, a user, a channel), run on
 * the writer thread inside the group's transaction. `be` is the back-end
 * given to writer_start. A refusal returns its error (err set). */
typedef lsn_err (*writer_apply_fn)(void *be, void *arg, lsn_error *err);

/* What the writer asks of a back-end. Every entry runs on the writer thread
 * (audit_head also in writer_start), on the back-end's one writing
 * connection. `err` is never NULL. */
typedef struct writer_ops {
    /* Items per insert_items call, 1 .. WRITER_RUN_MAX. */
    int run_max;
    /* Open the group's transaction, taking the write lock (so that the head
     * read next is the true one). */
    lsn_err (*begin)(void *be, lsn_error *err);
    /* The audit chain's head as stored: the last record's seq and hash;
     * 0 and 32 zero bytes when the log is empty. */
    lsn_err (*audit_head)(void *be, uint64_t *seq, uint8_t hash[STORE_HASH_LEN],
                          lsn_error *err);
    /* Insert items[0..n) in that order, giving each a new internal id
     * (increasing), and finding or adding its label class. On failure
     * nothing says which item failed: the writer rolls back. */
    lsn_err (*insert_items)(void *be, writer_item *const *items, int n, lsn_error *err);
    /* Insert audit records evs[0..n) exactly as given (seq and hash set by
     * the writer; detail NULL is stored as ""). */
    lsn_err (*insert_audit)(void *be, const store_audit_event *const *evs, int n,
                            lsn_error *err);
    /* Finish the group (whatever the back-end does once per group, such as
     * indexing its text) and commit it durably. On failure the writer calls
     * rollback and fails the whole group. */
    lsn_err (*commit)(void *be, lsn_error *err);
    /* Undo the open transaction, if the back-end has not already, and
     * forget whatever the back-end remembered of it. */
    void (*rollback)(void *be);
    /* A savepoint around one request of the careful path, and its end:
     * `undo` rolls back to it first (and forgets what the back-end
     * remembered since). */
    lsn_err (*savepoint)(void *be, lsn_error *err);
    void (*savepoint_end)(void *be, bool undo);
    /* Whether the transaction is still open: some errors (disk full, I/O,
     * a trigger's RAISE(ROLLBACK)) lose the whole of it. */
    bool (*in_transaction)(void *be);
} writer_ops;

enum writer_kind { WRITER_ITEM, WRITER_AUDIT, WRITER_APPLY, WRITER_BATCH };

/* A queued write. A blocking request lives on the poster's stack and the
 * poster sleeps on `done`; an asynchronous one (complete != NULL) is
 * heap-allocated by its owner, and the writer calls `complete` (which
 * frees it) once, when its group has committed or failed. */
typedef struct writer_req writer_req;
struct writer_req {
    enum writer_kind kind;
    writer_item *item;        /* WRITER_ITEM */
    store_audit_event *event; /* WRITER_AUDIT: seq and hash set by the writer */
    writer_apply_fn apply;    /* WRITER_APPLY; WRITER_BATCH: after its items (may be NULL) */
    void *arg;
    writer_item **items;      /* WRITER_BATCH: items written together, all or none */
    int nitems;
    store_audit_event *const *events; /* WRITER_BATCH: records after its items */
    int nevents;
    void (*complete)(writer_req *r); /* NULL: a blocking request */
    lsn_err rc;
    lsn_error err;
    int settled; /* the writer's: rc is final for this group */
    sem_t done;  /* a blocking request: posted by the writer when finished */
    writer_req *next;
};

/* The writer of one store handle. Embedded in the back-end's handle; its
 * fields are the writer's. */
typedef struct writer {
    const writer_ops *ops;
    void *be;

    pthread_mutex_t mu;  /* guards the queue */
    pthread_cond_t wake; /* the writer waits on it for work */
    writer_req *head, *tail;
    size_t queued;        /* requests in the queue */
    size_t gather_target; /* while gathering: wake the writer at this many */
    int gathering;
    int stopping;
    pthread_t thread;

    /* The audit chain's head: `seq`/`hash` moves with each record of the
     * open group; `committed_*` only after a commit. Writer thread only. */
    uint64_t seq, committed_seq;
    uint8_t hash[STORE_HASH_LEN], committed_hash[STORE_HASH_LEN];
    /* The back-end's anchor of the audit head (anchor.h), borrowed; NULL
     * when it has none (or it is frozen). Told each committed head that
     * moved: never before its commit. */
    anchor_writer *anchor;
} writer;

/* Read the audit head through ops->audit_head and start the writer thread
 * ("store-writer"). `anchor` (may be NULL) is noted each new committed head
 * (after_commit); it must outlive writer_stop. On failure nothing is left
 * to stop. An incomplete ops table is a programmer's error: it aborts. */
lsn_err writer_start(writer *w, const writer_ops *ops, void *be, anchor_writer *anchor,
                     lsn_error *err) LSN_MUST_CHECK;
/* Run every queued write (completing each), then stop the thread. */
void writer_stop(writer *w);

/* Queue r and wait until its group has committed or failed; returns r->rc
 * and copies the detail into err. r->kind and its fields are the caller's;
 * the rest is the writer's. */
lsn_err writer_submit(writer *w, writer_req *r, lsn_error *err);
/* Queue r (r->complete set) and return at once. */
void writer_submit_async(writer *w, writer_req *r);

/* writer_append.c: the writing entries of store_ops, for every back-end.
 * Each checks its input on the caller's thread (so that a refusal inside
 * the group is rare), then queues it. Contracts: store.h. */
lsn_err writer_item_append(writer *w, const store_item *it, store_audit_event *post,
                           int64_t *id_out, uint8_t hash_out[STORE_HASH_LEN],
                           lsn_error *err);
lsn_err writer_item_append_async(writer *w, const store_item *it,
                                 const store_audit_event *post, store_append_cb done,
                                 void *ctx, lsn_error *err);
lsn_err writer_audit_append(writer *w, store_audit_event *ev, lsn_error *err);
/* Append items its[0..n) (each with its post record posts[i], or NULL),
 * then the audit records evs[0..nevs) (a batch's refusals; seq and hash set
 * by the writer, time_ms 0: now), then run fn(be, arg, err) (may be NULL),
 * all in one request: the whole is committed, or nothing of it (a
 * federation batch, its refusals and its cursor). ids_out receives the
 * internal ids. n and nevs each at most WRITER_BATCH_MAX. */
#define WRITER_BATCH_MAX 256
lsn_err writer_batch_append(writer *w, const store_item *const *its,
                            store_audit_event *const *posts, size_t n,
                            store_audit_event *const *evs, size_t nevs, writer_apply_fn fn,
                            void *arg, int64_t *ids_out, lsn_error *err);
/* Run fn(be, arg, err) in a group and wait for its commit. */
lsn_err writer_apply(writer *w, writer_apply_fn fn, void *arg, lsn_error *err);
/* Unix time in milliseconds: what a record is stamped with when its
 * caller gave no time. */
int64_t writer_now_ms(void);
/* A required text field: present, not empty, at most max bytes. */
lsn_err writer_need(const char *what, const char *v, size_t max, lsn_error *err);

#endif
