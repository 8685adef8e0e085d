/* store/store_rel.h — what the store keeps for release by consensus
 * (issue 13): release requests under NATO's silence procedure, their
 * authorities and answers, their history; and the versions of an item
 * (a release adopted, an item narrowed or withdrawn).
 *
 * Versions. Items stay append-only: a new version of an item is a new row
 * (a new internal id, so that it reaches readers and the stream as a new
 * item would), linked to the item's public id and numbered 2, 3 ...
 * (item_versions); the row it replaces is hidden from every read
 * (item_hidden) in the same transaction. A withdrawn item's current row is
 * hidden with no successor. Reads (store.h) serve only rows not hidden,
 * each under the item's public id with its version (store_item.ver). The
 * link and the hiding are in the new version's transaction (store_item.ver
 * on append), and so is the adopted request's move from open to adopted:
 * a version is made once or not at all, and a request adopted at most once
 * (the database refuses a second row superseding the same one).
 *
 * Requests change state only through `act` (and adoption): each is one
 * transaction on the writer, which checks the state and the deadline
 * against the time the caller gives — the node's one clock — so that two
 * acts racing (a break and the deadline's adoption) have one outcome.
 * A back-end's store_ops.rel points to its table. Ownership and errors as
 * in store.h. */
#ifndef STORE_STORE_REL_H
#define STORE_STORE_REL_H

#include "store/store.h"

/* A request's states, as stored and shown. */
#define STORE_REL_OPEN "open"
#define STORE_REL_ADOPTED "adopted"
#define STORE_REL_BROKEN "silence-broken"
#define STORE_REL_WITHDRAWN "withdrawn"

/* At most this many authorities per request. */
#define STORE_REL_AUTH_MAX 256

typedef struct store_release {
    int64_t id;                    /* internal; set by the store */
    uint8_t rid[STORE_UUID_LEN];   /* public id (the caller's: store_uuid_new) */
    uint8_t item[STORE_UUID_LEN];  /* the item's public id */
    int64_t item_row;              /* the version (row) it proposes to widen */
    const char *proposer;          /* a user's name */
    const char *kind;              /* "release" or "downgrade" */
    const char *label;             /* the proposed label, canonical */
    const char *marking_en, *marking_fr;
    const char *reason;
    int64_t created_ms, deadline_ms;
    bool extended;                 /* the deadline was extended (once) */
    const char *state;             /* STORE_REL_*; on add: ignored (open) */
    int64_t closed_ms;             /* 0 while open */
    int64_t new_row;               /* the version adoption made; 0: none */
} store_release;

typedef struct store_release_authority {
    const char *user;
    const char *organisation;
    const char *node;    /* NULL: this node; a peer's name for a remote one (to come) */
    const char *answer;  /* "none", "concur", "break"; on add: ignored */
    int64_t answered_ms;
    const char *reason;  /* a break's; NULL otherwise */
} store_release_authority;

typedef struct store_release_event {
    int64_t time_ms;
    const char *actor;
    const char *event;  /* "open", "concur", "break", "withdraw", "extend", "adopt", "close" */
    const char *detail;
} store_release_event;

/* A change of a request (act). */
typedef enum store_rel_act_kind {
    STORE_REL_CONCUR,   /* an authority concurs */
    STORE_REL_BREAK,    /* an authority breaks silence: the request stops */
    STORE_REL_WITHDRAW, /* the proposer withdraws it */
    STORE_REL_EXTEND,   /* the proposer moves the deadline later, once */
    STORE_REL_CLOSE,    /* the node closes it (its item changed): withdrawn */
} store_rel_act_kind;

typedef struct store_rel_act {
    int64_t id;
    store_rel_act_kind kind;
    const char *actor;
    int64_t now_ms;      /* the node's clock */
    const char *reason;  /* a break's, a close's; may be NULL otherwise */
    int64_t deadline_ms; /* EXTEND: the new deadline */
} store_rel_act;

/* What an act came to. */
typedef enum store_rel_outcome {
    STORE_REL_DONE,          /* changed */
    STORE_REL_SAME,          /* the same answer was given before: nothing changed */
    STORE_REL_NOT_OPEN,      /* the request is closed */
    STORE_REL_LATE,          /* at or after the deadline */
    STORE_REL_NOT_PARTY,     /* the actor is not an authority (CONCUR, BREAK) or
                                not the proposer (WITHDRAW, EXTEND) */
    STORE_REL_EXTENDED,      /* EXTEND: extended already, or not later */
} store_rel_outcome;

/* A withdrawal (withdraw): row `row` hidden for good at now_ms; with it, in
 * its transaction, the signed tombstone of the withdrawal (kept verbatim;
 * NULL: none), one outbox entry for the row per peer of peers[0..npeers)
 * (the origin's tombstone to the peers that had the item, or a relay's
 * forwarding it: docs/FEDERATION.md) and its audit record (NULL: none). */
typedef struct store_withdrawal {
    int64_t row;
    int64_t now_ms;
    const int64_t *peers;
    size_t npeers;
    const char *tombstone;
    size_t tombstone_len;
    store_audit_event *audit;
} store_withdrawal;

typedef int (*store_release_cb)(void *ctx, const store_release *r);
typedef int (*store_release_auth_cb)(void *ctx, const store_release_authority *a);
typedef int (*store_release_event_cb)(void *ctx, const store_release_event *e);
/* One row (version) of an item: its internal id, version, and whether it is
 * hidden ("superseded", "withdrawn", or NULL when it is served). */
typedef int (*store_version_cb)(void *ctx, int64_t row, int version, const char *hidden);

typedef struct store_rel_ops {
    /* Add request r (open) with its authorities a[0..n) (1..STORE_REL_AUTH_MAX)
     * and its first history event, in one transaction. */
    lsn_err (*add)(store *s, const store_release *r, const store_release_authority *a,
                   size_t n, int64_t *id_out, lsn_error *err);
    /* The request with public id rid (*out one allocation, lsn_free; NULL
     * when there is none). */
    lsn_err (*get)(store *s, const uint8_t rid[STORE_UUID_LEN], store_release **out,
                   lsn_error *err);
    /* Its authorities, in the order added; its history, in order. */
    lsn_err (*authorities)(store *s, int64_t id, store_release_auth_cb cb, void *ctx,
                           lsn_error *err);
    lsn_err (*history)(store *s, int64_t id, store_release_event_cb cb, void *ctx,
                       lsn_error *err);
    /* The requests `user` proposed or is an authority of (NULL: every
     * request), in state `state` (NULL: any), newest first. */
    lsn_err (*list)(store *s, const char *user, const char *state, store_release_cb cb,
                    void *ctx, lsn_error *err);
    /* The open requests whose deadline is at or before now_ms, or whose
     * every authority concurred, oldest deadline first. */
    lsn_err (*due)(store *s, int64_t now_ms, store_release_cb cb, void *ctx, lsn_error *err);
    /* Apply a change (see store_rel_act_kind) in one transaction, its
     * history event with it; *outcome says what came of it. */
    lsn_err (*act)(store *s, const store_rel_act *a, store_rel_outcome *outcome,
                   lsn_error *err);
    /* Every row of the item with public id `item`, by version, hidden ones
     * too (the current one is the highest not hidden). */
    lsn_err (*versions)(store *s, const uint8_t item[STORE_UUID_LEN], store_version_cb cb,
                        void *ctx, lsn_error *err);
    /* Withdraw w->row for good (see store_withdrawal), all in one
     * transaction: LSN_ERR_DUPLICATE (and nothing written) when it is
     * hidden already. */
    lsn_err (*withdraw)(store *s, const store_withdrawal *w, lsn_error *err);
    /* The tombstone kept with row `row`'s withdrawal (*out NUL-terminated,
     * lsn_free; NULL when there is none). */
    lsn_err (*tombstone)(store *s, int64_t row, char **out, size_t *len, lsn_error *err);
} store_rel_ops;

static inline lsn_err store_release_add(store *s, const store_release *r,
                                        const store_release_authority *a, size_t n,
                                        int64_t *id, lsn_error *err)
{ return s->ops->rel->add(s, r, a, n, id, err); }
static inline lsn_err store_release_get(store *s, const uint8_t rid[STORE_UUID_LEN],
                                        store_release **out, lsn_error *err)
{ return s->ops->rel->get(s, rid, out, err); }
static inline lsn_err store_release_authorities(store *s, int64_t id,
                                                store_release_auth_cb cb, void *ctx,
                                                lsn_error *err)
{ return s->ops->rel->authorities(s, id, cb, ctx, err); }
static inline lsn_err store_release_history(store *s, int64_t id, store_release_event_cb cb,
                                            void *ctx, lsn_error *err)
{ return s->ops->rel->history(s, id, cb, ctx, err); }
static inline lsn_err store_release_list(store *s, const char *user, const char *state,
                                         store_release_cb cb, void *ctx, lsn_error *err)
{ return s->ops->rel->list(s, user, state, cb, ctx, err); }
static inline lsn_err store_release_due(store *s, int64_t now_ms, store_release_cb cb,
                                        void *ctx, lsn_error *err)
{ return s->ops->rel->due(s, now_ms, cb, ctx, err); }
static inline lsn_err store_release_act(store *s, const store_rel_act *a,
                                        store_rel_outcome *outcome, lsn_error *err)
{ return s->ops->rel->act(s, a, outcome, err); }
static inline lsn_err store_item_versions(store *s, const uint8_t item[STORE_UUID_LEN],
                                          store_version_cb cb, void *ctx, lsn_error *err)
{ return s->ops->rel->versions(s, item, cb, ctx, err); }
static inline lsn_err store_item_withdraw(store *s, const store_withdrawal *w, lsn_error *err)
{ return s->ops->rel->withdraw(s, w, err); }
static inline lsn_err store_item_tombstone(store *s, int64_t row, char **out, size_t *len,
                                           lsn_error *err)
{ return s->ops->rel->tombstone(s, row, out, len, err); }

#endif
