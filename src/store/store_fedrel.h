/* store/store_fedrel.h — the signed release messages exchanged with peers
 * (issue 13, docs/RELEASE.md "Authorities on other nodes"): a release
 * request's notice to an allied peer, the peer's concurrence or break of
 * silence, the request's outcome. Each message is kept verbatim, once per
 * peer, direction, request and kind: a message retried (or received twice)
 * is the same row, so the exchange is exactly once whatever the retries.
 * An outgoing message waits until the peer answered it (done_ms). Both
 * back-ends keep the table (SQLite's step 13, PostgreSQL's version 12). A
 * back-end's store_ops.fedrel points to its table. Ownership and errors as
 * in store.h. */
#ifndef STORE_STORE_FEDREL_H
#define STORE_STORE_FEDREL_H

#include "store/store.h"

/* The kinds of message. */
#define STORE_FEDREL_NOTICE "notice"   /* origin → peer: a request names it */
#define STORE_FEDREL_CONCUR "concur"   /* peer → origin */
#define STORE_FEDREL_BREAK "break"     /* peer → origin */
#define STORE_FEDREL_OUTCOME "outcome" /* origin → peer: the request closed */

typedef struct store_fed_msg {
    int64_t id;                  /* set by the store */
    const char *peer;            /* the other node's name */
    bool outgoing;               /* to the peer (else: from it) */
    uint8_t rid[STORE_UUID_LEN]; /* the release request (the origin's id) */
    const char *kind;            /* STORE_FEDREL_* */
    const char *message;         /* the signed message, verbatim */
    int64_t time_ms;             /* kept at */
    int64_t done_ms;             /* outgoing: the peer answered (0: waiting) */
    const char *result;          /* outgoing: its answer; NULL while waiting */
} store_fed_msg;

/* Which messages a list yields. */
typedef enum store_fedrel_which {
    STORE_FEDREL_IN,      /* received */
    STORE_FEDREL_OUT,     /* sent or to send */
    STORE_FEDREL_WAITING, /* to send: not yet answered */
} store_fedrel_which;

typedef int (*store_fed_msg_cb)(void *ctx, const store_fed_msg *m);

typedef struct store_fedrel_ops {
    /* Keep m unless a message of the same peer, direction, request and kind
     * is kept already: *added says which (on the writer). */
    lsn_err (*put)(store *s, const store_fed_msg *m, bool *added, lsn_error *err);
    /* The messages `which`, of peer `peer` (NULL: any) and request `rid`
     * (NULL: any), oldest first. */
    lsn_err (*list)(store *s, const char *peer, store_fedrel_which which,
                    const uint8_t *rid, store_fed_msg_cb cb, void *ctx, lsn_error *err);
    /* Outgoing message `id` was answered at done_ms with `result`. */
    lsn_err (*done)(store *s, int64_t id, int64_t done_ms, const char *result,
                    lsn_error *err);
} store_fedrel_ops;

static inline lsn_err store_fedrel_put(store *s, const store_fed_msg *m, bool *added,
                                       lsn_error *err)
{ return s->ops->fedrel->put(s, m, added, err); }
static inline lsn_err store_fedrel_list(store *s, const char *peer, store_fedrel_which which,
                                        const uint8_t *rid, store_fed_msg_cb cb, void *ctx,
                                        lsn_error *err)
{ return s->ops->fedrel->list(s, peer, which, rid, cb, ctx, err); }
static inline lsn_err store_fedrel_done(store *s, int64_t id, int64_t done_ms,
                                        const char *result, lsn_error *err)
{ return s->ops->fedrel->done(s, id, done_ms, result, err); }

#endif
