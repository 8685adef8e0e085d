/* store/store_fed.h — what the store keeps for federation (issue 10): each
 * item's signed STANAG 4778 binding, kept verbatim; the registry of peers;
 * and one outbox per peer, a gapless sequence of the items the guard
 * released to it.
 *
 * A binding and an item's outbox entries are written by the item's append,
 * in its transaction (store_item.fed); a binding made later, when first
 * asked for, by item_binding_keep; the functions here read them, and add
 * and list peers. A back-end's store_ops.fed points to its table.
 * Ownership and errors as in store.h. */
#ifndef STORE_STORE_FED_H
#define STORE_STORE_FED_H

#include "store/store.h"

/* A peer as the registry holds it. State: "new" (never reached), "up"
 * (the last exchange succeeded), "down" (the last attempt failed; retrying),
 * "refused" (it answered that it will not take our items). */
typedef struct store_peer {
    int64_t id;
    const char *name;               /* unique: "JPN MOD" */
    const char *url;                /* its federation listener: "https://..." */
    const char *nation;             /* the category value it stands for: "JPN" */
    const char *certificate;        /* PEM: pinned */
    const char *max_classification; /* the highest agreed; NULL: no limit but the policy's */
    const char *via;                /* the peer relaying for it; NULL: direct */
    const char *policy;             /* its node's policy (OID); NULL: this node's own */
    const char *state;              /* on add: ignored ("new") */
    int64_t created_ms;
    int64_t last_contact_ms;        /* 0: never */
    const char *last_error;         /* NULL: none */
    uint64_t last_seq;              /* the outbox's last sequence (0: empty) */
    uint64_t last_acked;            /* the last sequence it made durable */
    uint64_t received_seq;          /* the last of ITS sequences made durable here */
} store_peer;

/* What the transport notes of a peer after an exchange (peer_note). */
typedef struct store_peer_state_note {
    const char *state;       /* "up", "down", "refused" (required) */
    int64_t last_contact_ms; /* 0: unchanged */
    const char *last_error;  /* NULL: none (cleared) */
    int64_t last_acked;      /* the peer's acknowledgement; -1: unchanged */
} store_peer_state_note;

/* At most this many outbox entries per item (store_item.fed.outbox_n). */
#define STORE_OUTBOX_MAX 4096

typedef int (*store_peer_cb)(void *ctx, const store_peer *peer);
/* One outbox entry: the peer's sequence number and the item's internal id. */
typedef int (*store_outbox_cb)(void *ctx, uint64_t seq, int64_t item);

typedef struct store_fed_ops {
    /* The binding stored with item `id`: *out (NUL-terminated, lsn_free)
     * and *len; *out NULL when the item has none. */
    lsn_err (*item_binding)(store *s, int64_t id, char **out, size_t *len, lsn_error *err);
    /* Keep `xml` as the binding of item `id` when it has none yet (through
     * the writer, in a group), and give back the binding now stored: *out
     * (lsn_free) is xml's bytes, or those another caller stored first —
     * so that an item's binding, once given out, is the same bytes ever
     * after. LSN_ERR_ARG when there is no item `id`. */
    lsn_err (*item_binding_keep)(store *s, int64_t id, const char *xml, size_t len,
                                 char **out, size_t *out_len, lsn_error *err);
    /* Add a peer (name, url, nation, certificate required; via, when given,
     * must name a peer). LSN_ERR_DUPLICATE when the name is taken. */
    lsn_err (*peer_add)(store *s, const store_peer *p, int64_t *id_out, lsn_error *err);
    /* Yield every peer, in id order. */
    lsn_err (*peer_list)(store *s, store_peer_cb cb, void *ctx, lsn_error *err);
    /* Yield peer `peer`'s outbox entries with seq > after, in order, at most
     * `limit` (0: all). */
    lsn_err (*outbox_list)(store *s, int64_t peer, uint64_t after, size_t limit,
                           store_outbox_cb cb, void *ctx, lsn_error *err);
    /* Note an exchange with peer `peer` (its state, last contact, last
     * error, last acknowledged sequence). */
    lsn_err (*peer_note)(store *s, int64_t peer, const store_peer_state_note *n, lsn_error *err);
    /* Store a batch received from peer `peer`: items[0..n) with their post
     * records (posts[i] may be NULL), the audit records notes[0..nnotes)
     * (the batch's refused items: seq and hash set by the store), and the
     * peer's received_seq set to `last_seq`, in one transaction — all of it
     * durable or none, so that a batch sent again after a failure is
     * audited once. ids (n of them) receive the items' internal ids. */
    lsn_err (*receive)(store *s, int64_t peer, uint64_t last_seq,
                       const store_item *const *items, store_audit_event *const *posts,
                       size_t n, store_audit_event *const *notes, size_t nnotes,
                       int64_t *ids, lsn_error *err);
} store_fed_ops;

static inline lsn_err store_item_binding(store *s, int64_t id, char **out, size_t *len,
                                         lsn_error *err)
{ return s->ops->fed->item_binding(s, id, out, len, err); }
static inline lsn_err store_item_binding_keep(store *s, int64_t id, const char *xml,
                                              size_t len, char **out, size_t *out_len,
                                              lsn_error *err)
{ return s->ops->fed->item_binding_keep(s, id, xml, len, out, out_len, err); }
static inline lsn_err store_peer_add(store *s, const store_peer *p, int64_t *id,
                                     lsn_error *err)
{ return s->ops->fed->peer_add(s, p, id, err); }
static inline lsn_err store_peer_list(store *s, store_peer_cb cb, void *ctx, lsn_error *err)
{ return s->ops->fed->peer_list(s, cb, ctx, err); }
static inline lsn_err store_outbox_list(store *s, int64_t peer, uint64_t after, size_t limit,
                                        store_outbox_cb cb, void *ctx, lsn_error *err)
{ return s->ops->fed->outbox_list(s, peer, after, limit, cb, ctx, err); }

static inline lsn_err store_peer_note(store *s, int64_t peer, const store_peer_state_note *n,
                                      lsn_error *err)
{ return s->ops->fed->peer_note(s, peer, n, err); }
static inline lsn_err store_fed_receive(store *s, int64_t peer, uint64_t last_seq,
                                        const store_item *const *items,
                                        store_audit_event *const *posts, size_t n,
                                        store_audit_event *const *notes, size_t nnotes,
                                        int64_t *ids, lsn_error *err)
{ return s->ops->fed->receive(s, peer, last_seq, items, posts, n, notes, nnotes, ids, err); }

#endif
