/* store/pg_fed.c — the PostgreSQL back-end's federation part (store_fed.h):
 * an item's binding and outbox entries in its transaction (the writer's
 * hook), a binding kept later, the peers' registry and the outboxes'
 * reads. The tables are in the schema (pg_conn.c). */
#include "store/pg_internal.h"
#include "store/store_fed.h"

#include <string.h>

#include "core/alloc.h"
#include "store/checks.h"
#include "core/error.h"

static lsn_err run_done(pg_store *s, pg_stmt which, const pg_arg *a, int n, int64_t *id,
                        const char *doing, lsn_error *err)
{
    PGresult *r;
    lsn_err e = pg_run(&s->w, which, a, n, &r, doing, err);
    if (!e && id)
        *id = PQntuples(r) == 1 ? pg_col_int(r, 0, 0) : 0;
    PQclear(r);
    return e;
}

lsn_err pg_fed_item_written(pg_store *s, int64_t id, const store_item *it, lsn_error *err)
{
    lsn_err e;
    if (it->fed.binding) {
        pg_arg a[] = { PG_INT(id), PG_BYTES(it->fed.binding, it->fed.binding_len) };
        if ((e = run_done(s, PG_FED_BINDING_INSERT, a, 2, NULL, "storing an item's binding",
                          err)))
            return e;
    }
    for (size_t i = 0; i < it->fed.outbox_n; i++) {
        pg_arg a[] = { PG_INT(it->fed.outbox[i]), PG_INT(id) };
        if ((e = run_done(s, PG_FED_OUTBOX_INSERT, a, 2, NULL, "queueing an item for a peer",
                          err)))
            return e;
    }
    return LSN_OK;
}

/* ---- reads -------------------------------------------------------------------- */

typedef struct blob_out {
    char *data;
    size_t len;
} blob_out;

static int binding_row(void *ctx, const PGresult *r, int i)
{
    blob_out *b = ctx;
    size_t n = (size_t)PQgetlength(r, i, 0);
    if (!(b->data = core_malloc(n + 1)))
        return -1;
    memcpy(b->data, PQgetvalue(r, i, 0), n);
    b->data[n] = '\0';
    b->len = n;
    return STORE_STOP;
}

static lsn_err fed_item_binding(store *b, int64_t id, char **out, size_t *len, lsn_error *err)
{
    blob_out o = { 0 };
    pg_arg a[] = { PG_INT(id) };
    lsn_err e = pg_query((pg_store *)b, PG_FED_BINDING_GET, a, 1, -1, binding_row, &o,
                         "reading an item's binding", err);
    if (e) {
        lsn_free(o.data);
        o = (blob_out){ 0 };
    }
    *out = o.data;
    *len = o.len;
    return e;
}

typedef struct peer_ctx {
    store_peer_cb cb;
    void *ctx;
} peer_ctx;

static int peer_row(void *ctx, const PGresult *r, int i)
{
    peer_ctx *p = ctx;
    store_peer peer = {
        .id = pg_col_int(r, i, 0),
        .name = pg_col_text(r, i, 1),
        .url = pg_col_text(r, i, 2),
        .nation = pg_col_text(r, i, 3),
        .certificate = pg_col_text(r, i, 4),
        .max_classification = pg_col_text_or_null(r, i, 5),
        .via = pg_col_text_or_null(r, i, 6),
        .state = pg_col_text(r, i, 7),
        .created_ms = pg_col_int(r, i, 8),
        .last_contact_ms = pg_col_int(r, i, 9),
        .last_error = pg_col_text_or_null(r, i, 10),
        .last_acked = (uint64_t)pg_col_int(r, i, 11),
        .last_seq = (uint64_t)pg_col_int(r, i, 12),
        .received_seq = (uint64_t)pg_col_int(r, i, 13),
        .policy = pg_col_text_or_null(r, i, 14),
    };
    return p->cb(p->ctx, &peer);
}

static lsn_err fed_peer_list(store *b, store_peer_cb cb, void *ctx, lsn_error *err)
{
    peer_ctx p = { cb, ctx };
    return pg_query((pg_store *)b, PG_FED_PEER_LIST, NULL, 0, -1, peer_row, &p,
                    "listing the peers", err);
}

typedef struct outbox_ctx {
    store_outbox_cb cb;
    void *ctx;
} outbox_ctx;

static int outbox_row(void *ctx, const PGresult *r, int i)
{
    outbox_ctx *o = ctx;
    return o->cb(o->ctx, (uint64_t)pg_col_int(r, i, 0), pg_col_int(r, i, 1));
}

static lsn_err fed_outbox_list(store *b, int64_t peer, uint64_t after, size_t limit,
                               store_outbox_cb cb, void *ctx, lsn_error *err)
{
    outbox_ctx o = { cb, ctx };
    pg_arg a[] = { PG_INT(peer), PG_INT((int64_t)after),
                   limit ? PG_INT((int64_t)limit) : PG_NULL };
    return pg_query((pg_store *)b, PG_FED_OUTBOX_LIST, a, 3, -1, outbox_row, &o,
                    "reading an outbox", err);
}

/* ---- the registry's writes ----------------------------------------------------- */

typedef struct peer_job {
    const store_peer *p;
    int64_t created_ms;
    int64_t id;
} peer_job;

static lsn_err apply_peer(void *be, void *arg, lsn_error *err)
{
    peer_job *j = arg;
    pg_arg a[] = { PG_TEXT(j->p->name), PG_TEXT(j->p->url), PG_TEXT(j->p->nation),
                   PG_TEXT(j->p->certificate), PG_TEXT(j->p->max_classification),
                   PG_TEXT(j->p->via), PG_INT(j->created_ms), PG_TEXT(j->p->policy) };
    return run_done(be, PG_FED_PEER_INSERT, a, 8, &j->id, "adding a peer", err);
}

static lsn_err fed_peer_add(store *b, const store_peer *p, int64_t *id_out, lsn_error *err)
{
    lsn_err e = store_check_peer(p, err);
    if (e)
        return e;
    peer_job j = { .p = p, .created_ms = p->created_ms ? p->created_ms : writer_now_ms() };
    e = writer_apply(&((pg_store *)b)->writer, apply_peer, &j, err);
    if (id_out)
        *id_out = e ? 0 : j.id;
    return e;
}

/* ---- a binding made when first asked for ------------------------------------------ */

typedef struct keep_job {
    int64_t id;
    const char *xml;
    size_t len;
} keep_job;

static lsn_err apply_keep(void *be, void *arg, lsn_error *err)
{
    keep_job *j = arg;
    pg_arg a[] = { PG_INT(j->id), PG_BYTES(j->xml, j->len) };
    return run_done(be, PG_FED_BINDING_KEEP, a, 2, NULL, "keeping an item's binding", err);
}

static lsn_err fed_item_binding_keep(store *b, int64_t id, const char *xml, size_t len,
                                     char **out, size_t *out_len, lsn_error *err)
{
    *out = NULL;
    *out_len = 0;
    lsn_err e = store_check_binding(xml, len, err);
    if (e)
        return e;
    keep_job j = { .id = id, .xml = xml, .len = len };
    e = writer_apply(&((pg_store *)b)->writer, apply_keep, &j, err);
    if (e)
        return e;
    /* Ours, or the one stored first: the same bytes for every caller. */
    if ((e = fed_item_binding(b, id, out, out_len, err)))
        return e;
    if (!*out)
        return core_fail(err, LSN_ERR_ARG, "no item %lld", (long long)id);
    return LSN_OK;
}

/* ---- the transport's writes ------------------------------------------------------ */

typedef struct note_job {
    int64_t peer;
    const store_peer_state_note *n;
} note_job;

static lsn_err apply_note(void *be, void *arg, lsn_error *err)
{
    note_job *j = arg;
    pg_arg a[] = { PG_INT(j->peer), PG_TEXT(j->n->state), PG_INT(j->n->last_contact_ms),
                   PG_TEXT(j->n->last_error),
                   PG_INT(j->n->last_acked) };
    int64_t id = 0;
    lsn_err e = run_done(be, PG_FED_PEER_NOTE, a, 5, &id, "noting a peer's state", err);
    return e;
}

static lsn_err fed_peer_note(store *b, int64_t peer, const store_peer_state_note *n, lsn_error *err)
{
    lsn_err e = store_check_peer_note(n, err);
    if (e)
        return e;
    note_job j = { .peer = peer, .n = n };
    return writer_apply(&((pg_store *)b)->writer, apply_note, &j, err);
}

typedef struct received_job {
    int64_t peer;
    uint64_t seq;
} received_job;

static lsn_err apply_received(void *be, void *arg, lsn_error *err)
{
    received_job *j = arg;
    pg_arg a[] = { PG_INT(j->peer), PG_INT((int64_t)j->seq) };
    int64_t id = 0;
    lsn_err e = run_done(be, PG_FED_PEER_RECEIVED, a, 2, &id,
                         "moving a peer's received sequence", err);
    if (!e && id != j->peer)
        e = core_fail(err, LSN_ERR_ARG, "no peer %lld", (long long)j->peer);
    return e;
}

/* A received batch: its items and post records, and the peer's received
 * sequence, in one request of the shared writer (all or none). */
static lsn_err fed_receive(store *b, int64_t peer, uint64_t last_seq,
                           const store_item *const *items, store_audit_event *const *posts,
                           size_t n, store_audit_event *const *notes, size_t nnotes,
                           int64_t *ids, lsn_error *err)
{
    received_job j = { .peer = peer, .seq = last_seq };
    return writer_batch_append(&((pg_store *)b)->writer, items, posts, n, notes, nnotes,
                               apply_received, &j, ids, err);
}

const store_fed_ops pg_fed_ops = {
    .peer_note = fed_peer_note,
    .receive = fed_receive,
    .item_binding = fed_item_binding,
    .item_binding_keep = fed_item_binding_keep,
    .peer_add = fed_peer_add,
    .peer_list = fed_peer_list,
    .outbox_list = fed_outbox_list,
};
