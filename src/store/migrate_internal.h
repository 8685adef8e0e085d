/* store/migrate_internal.h — what the files of `store migrate` share
 * (migrate.c: the order of the copy, the directory and the audit log;
 * migrate_rows.c: every item row, hidden ones and versions;
 * migrate_rel.c: release requests; migrate_peers.c: the peers' delivery
 * state). Not for use outside src/store. */
#ifndef STORE_MIGRATE_INTERNAL_H
#define STORE_MIGRATE_INTERNAL_H

#include "store/migrate.h"
#include "store/store_rel.h"

/* At most this many peers (a registry is a handful). */
#define MIG_PEERS_MAX 256

/* A source request, as read, and what the target has of it. */
typedef struct mig_req {
    store_release *r; /* one allocation (lsn_free) */
    int64_t to_id;    /* the target's internal id; 0: not there yet */
} mig_req;

typedef struct mig {
    store *from, *to;
    store_migrate_report *r;
    lsn_error *err;
    lsn_err e;
    /* Outbox entries of the source, as (source item id, target peer id),
     * sorted by item id then source sequence: an item's are given to its
     * append, so each peer's outbox keeps its order. */
    struct ob { int64_t item; uint64_t seq; int64_t peer; } *obs;
    size_t nobs, capobs;
    int64_t peer_map[2][MIG_PEERS_MAX]; /* source id -> target id, by name */
    size_t npeers;
    int64_t cur_peer; /* while listing one peer's outbox */
    /* Source row -> target row, in increasing source order (rows are
     * copied in id order): versions and requests name rows. */
    struct rowmap { int64_t from, to; } *rows;
    size_t nrows, caprows;
    /* The source's release requests, by increasing internal id. */
    mig_req *reqs;
    size_t nreqs, capreqs;
    bool alarm; /* a source row failed its seal while read */
    store_alarm_cb caller_alarm; /* the source's alarm before, told too */
    void *caller_alarm_ctx;
    uint64_t head_seq; /* the target's head at the start */
    uint8_t head[STORE_HASH_LEN];
    uint64_t seen;
} mig;

/* Note e (err holds why) and stop the listing. */
int mig_fail(mig *m, lsn_err e);
/* Grow *p (of *cap elements of size sz) to hold n+1. */
bool mig_grow(void **p, size_t *cap, size_t n, size_t sz);
/* The target row of source row `from`; 0 when not copied. */
int64_t mig_row(const mig *m, int64_t from);

/* Every row of the source, in id order (migrate_rows.c). */
lsn_err mig_rows(mig *m);
/* Read the source's requests (before the rows: an adopting version needs
 * its request), then add those not yet there, and check each against the
 * source (migrate_rel.c). */
lsn_err mig_requests_read(mig *m);
lsn_err mig_request_restore(mig *m, mig_req *q);
lsn_err mig_requests_finish(mig *m);
void mig_requests_free(mig *m);
/* The peers' delivery state, after the rows (migrate_peers.c). */
lsn_err mig_peers_state(mig *m);

#endif
