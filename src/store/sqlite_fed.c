/* store/sqlite_fed.c — the SQLite back-end's federation part: the schema of
 * bindings, peers and outboxes; the writer's hook that stores an item's
 * signed binding and outbox entries in the item's transaction; and the
 * reads and the peer registry's writes of store_fed.h. */
#include "store/sqlite_internal.h"
#include "store/sqlite_fed.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "store/checks.h"
#include "core/error.h"
#include "store/store_fed.h"

/* Bindings and outbox entries are append-only, as items are: the binding
 * is what the origin signed, and an outbox sequence, once given, is what a
 * peer acknowledges. A peer's row changes (its state, its cursor). */
static const char schema_fed[] =
    "CREATE TABLE item_bindings(\n"
    "  item INTEGER PRIMARY KEY REFERENCES items(id), xml BLOB NOT NULL);\n"
    "CREATE TRIGGER item_bindings_no_update BEFORE UPDATE ON item_bindings BEGIN\n"
    "  SELECT RAISE(ABORT, 'bindings are append-only'); END;\n"
    "CREATE TRIGGER item_bindings_no_delete BEFORE DELETE ON item_bindings BEGIN\n"
    "  SELECT RAISE(ABORT, 'bindings are append-only'); END;\n"
    "CREATE TABLE peers(\n"
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL,\n"
    "  nation TEXT NOT NULL, certificate TEXT NOT NULL, max_classification TEXT,\n"
    "  via TEXT REFERENCES peers(name), state TEXT NOT NULL DEFAULT 'new',\n"
    "  created_ms INTEGER NOT NULL, last_contact_ms INTEGER NOT NULL DEFAULT 0,\n"
    "  last_error TEXT, last_acked INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE outbox(\n"
    "  peer INTEGER NOT NULL REFERENCES peers(id), seq INTEGER NOT NULL,\n"
    "  item INTEGER NOT NULL REFERENCES items(id),\n"
    "  PRIMARY KEY (peer, seq)) WITHOUT ROWID;\n"
    "CREATE TRIGGER outbox_no_update BEFORE UPDATE ON outbox BEGIN\n"
    "  SELECT RAISE(ABORT, 'outbox entries are append-only'); END;\n";

lsn_err sq_schema_fed(sq_conn *c, int version, lsn_error *err)
{
    char pragma[40];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
    if (sqlite3_exec(c->db, schema_fed, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(c->db, err, "adding federation's tables");
    return LSN_OK;
}

/* The transport's step: what this node made durable of each peer's
 * sequence, moved with the batch that brought it. */
lsn_err sq_schema_fed_transport(sq_conn *c, int version, lsn_error *err)
{
    char sql[120];
    snprintf(sql, sizeof sql,
             "ALTER TABLE peers ADD COLUMN received_seq INTEGER NOT NULL DEFAULT 0;"
             "PRAGMA user_version = %d", version);
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(c->db, err, "adding the federation transport's column");
    return LSN_OK;
}

/* Equivalent policies' step: the policy a peer's node decides under (its
 * OID), so that the boundary knows when to translate. NULL: the node's
 * own, as every peer added before this step. */
lsn_err sq_schema_fed_policy(sq_conn *c, int version, lsn_error *err)
{
    char sql[120];
    snprintf(sql, sizeof sql, "ALTER TABLE peers ADD COLUMN policy TEXT; PRAGMA user_version = %d",
             version);
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(c->db, err, "adding the peers' policy column");
    return LSN_OK;
}

lsn_err sq_fed_item_written(sq_store *s, int64_t id, const store_item *it, lsn_error *err)
{
    sq_conn *c = &s->w;
    lsn_err e;
    if (it->fed.binding) {
        sqlite3_stmt *st = sq_prepare(c, SQ_FED_BINDING_INSERT);
        if (!st)
            return sq_fail(c->db, err, "storing an item's binding");
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_blob64(st, 2, it->fed.binding, it->fed.binding_len, SQLITE_STATIC);
        if ((e = sq_step_done(c, st, "storing an item's binding", err)))
            return e;
    }
    for (size_t i = 0; i < it->fed.outbox_n; i++) {
        sqlite3_stmt *st = sq_prepare(c, SQ_FED_OUTBOX_INSERT);
        if (!st)
            return sq_fail(c->db, err, "queueing an item for a peer");
        sqlite3_bind_int64(st, 1, it->fed.outbox[i]);
        sqlite3_bind_int64(st, 2, id);
        if ((e = sq_step_done(c, st, "queueing an item for a peer", err)))
            return e;
    }
    return LSN_OK;
}

/* ---- reads ------------------------------------------------------------ */

typedef struct blob_out {
    char *data;
    size_t len;
} blob_out;

static int binding_row(void *ctx, sqlite3_stmt *st)
{
    blob_out *b = ctx;
    const void *p = sqlite3_column_blob(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    if (!(b->data = core_malloc(n + 1)))
        return -1;
    if (n)
        memcpy(b->data, p, n);
    b->data[n] = '\0';
    b->len = n;
    return STORE_STOP;
}

static lsn_err fed_item_binding(store *b, int64_t id, char **out, size_t *len,
                                lsn_error *err)
{
    blob_out o = { 0 };
    lsn_err e = sq_query((sq_store *)b, SQ_FED_BINDING_GET, SQ_INT(id), SQ_NONE, SQ_NONE, binding_row, &o,
                          "reading an item's binding", err);
    if (e) {
        lsn_free(o.data);
        o.data = NULL;
        o.len = 0;
    }
    *out = o.data;
    *len = o.len;
    return e;
}

static const char *col_text_or_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
                                                     : (const char *)sqlite3_column_text(st, i);
}

typedef struct peer_ctx {
    store_peer_cb cb;
    void *ctx;
} peer_ctx;

static int peer_row(void *ctx, sqlite3_stmt *st)
{
    peer_ctx *p = ctx;
    store_peer peer = {
        .id = sqlite3_column_int64(st, 0),
        .name = (const char *)sqlite3_column_text(st, 1),
        .url = (const char *)sqlite3_column_text(st, 2),
        .nation = (const char *)sqlite3_column_text(st, 3),
        .certificate = (const char *)sqlite3_column_text(st, 4),
        .max_classification = col_text_or_null(st, 5),
        .via = col_text_or_null(st, 6),
        .state = (const char *)sqlite3_column_text(st, 7),
        .created_ms = sqlite3_column_int64(st, 8),
        .last_contact_ms = sqlite3_column_int64(st, 9),
        .last_error = col_text_or_null(st, 10),
        .last_acked = (uint64_t)sqlite3_column_int64(st, 11),
        .last_seq = (uint64_t)sqlite3_column_int64(st, 12),
        .received_seq = (uint64_t)sqlite3_column_int64(st, 13),
        .policy = col_text_or_null(st, 14),
    };
    if (!peer.name || !peer.url || !peer.nation || !peer.certificate || !peer.state)
        return -1; /* NOT NULL columns: only out of memory gives NULL */
    return p->cb(p->ctx, &peer);
}

static lsn_err fed_peer_list(store *b, store_peer_cb cb, void *ctx, lsn_error *err)
{
    peer_ctx p = { cb, ctx };
    return sq_query((sq_store *)b, SQ_FED_PEER_LIST, SQ_NONE, SQ_NONE, SQ_NONE, peer_row, &p,
                     "listing the peers", err);
}

typedef struct outbox_ctx {
    store_outbox_cb cb;
    void *ctx;
} outbox_ctx;

static int outbox_row(void *ctx, sqlite3_stmt *st)
{
    outbox_ctx *o = ctx;
    return o->cb(o->ctx, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
}

static lsn_err fed_outbox_list(store *b, int64_t peer, uint64_t after, size_t limit,
                               store_outbox_cb cb, void *ctx, lsn_error *err)
{
    outbox_ctx o = { cb, ctx };
    return sq_query((sq_store *)b, SQ_FED_OUTBOX_LIST, SQ_INT(peer), SQ_INT((int64_t)after),
                    SQ_INT(limit ? (int64_t)limit : -1), outbox_row, &o,
                     "reading an outbox", err);
}

/* ---- the registry's writes -------------------------------------------- */

typedef struct peer_job {
    const store_peer *p;
    int64_t created_ms;
    int64_t id;
} peer_job;

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static lsn_err apply_peer(void *be, void *arg, lsn_error *err)
{
    peer_job *j = arg;
    sq_conn *c = &((sq_store *)be)->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_FED_PEER_INSERT);
    if (!st)
        return sq_fail(c->db, err, "adding a peer");
    sqlite3_bind_text(st, 1, j->p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->p->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, j->p->nation, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, j->p->certificate, -1, SQLITE_STATIC);
    bind_text_or_null(st, 5, j->p->max_classification);
    bind_text_or_null(st, 6, j->p->via);
    sqlite3_bind_int64(st, 7, j->created_ms);
    bind_text_or_null(st, 8, j->p->policy);
    lsn_err e = sq_step_done(c, st, "adding a peer", err);
    if (e == LSN_OK)
        j->id = sqlite3_last_insert_rowid(c->db);
    return e;
}

static lsn_err fed_peer_add(store *b, const store_peer *p, int64_t *id_out, lsn_error *err)
{
    lsn_err e = store_check_peer(p, err);
    if (e)
        return e;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    peer_job j = { .p = p, .created_ms = p->created_ms ? p->created_ms
                                                       : (int64_t)ts.tv_sec * 1000 +
                                                             ts.tv_nsec / 1000000 };
    e = writer_apply(&((sq_store *)b)->writer, apply_peer, &j, err);
    if (id_out)
        *id_out = e ? 0 : j.id;
    return e;
}

/* ---- a binding made when first asked for ------------------------------ */

typedef struct keep_job {
    int64_t id;
    const char *xml;
    size_t len;
} keep_job;

static lsn_err apply_keep(void *be, void *arg, lsn_error *err)
{
    keep_job *j = arg;
    sq_conn *c = &((sq_store *)be)->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_FED_BINDING_KEEP);
    if (!st)
        return sq_fail(c->db, err, "keeping an item's binding");
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_blob64(st, 2, j->xml, j->len, SQLITE_STATIC);
    return sq_step_done(c, st, "keeping an item's binding", err);
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
    e = writer_apply(&((sq_store *)b)->writer, apply_keep, &j, err);
    if (e)
        return e;
    /* Ours, or the one stored first: the same bytes for every caller. */
    if ((e = fed_item_binding(b, id, out, out_len, err)))
        return e;
    if (!*out)
        return core_fail(err, LSN_ERR_ARG, "no item %lld", (long long)id);
    return LSN_OK;
}

/* ---- the transport's writes -------------------------------------------- */

typedef struct note_job {
    int64_t peer;
    const store_peer_state_note *n;
} note_job;

static lsn_err apply_note(void *be, void *arg, lsn_error *err)
{
    note_job *j = arg;
    sq_conn *c = &((sq_store *)be)->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_FED_PEER_NOTE);
    if (!st)
        return sq_fail(c->db, err, "noting a peer's state");
    sqlite3_bind_int64(st, 1, j->peer);
    sqlite3_bind_text(st, 2, j->n->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, j->n->last_contact_ms);
    bind_text_or_null(st, 4, j->n->last_error);
    sqlite3_bind_int64(st, 5, j->n->last_acked);
    return sq_step_done(c, st, "noting a peer's state", err);
}

static lsn_err fed_peer_note(store *b, int64_t peer, const store_peer_state_note *n, lsn_error *err)
{
    lsn_err e = store_check_peer_note(n, err);
    if (e)
        return e;
    note_job j = { .peer = peer, .n = n };
    return writer_apply(&((sq_store *)b)->writer, apply_note, &j, err);
}

typedef struct received_job {
    int64_t peer;
    uint64_t seq;
} received_job;

static lsn_err apply_received(void *be, void *arg, lsn_error *err)
{
    received_job *j = arg;
    sq_conn *c = &((sq_store *)be)->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_FED_PEER_RECEIVED);
    if (!st)
        return sq_fail(c->db, err, "moving a peer's received sequence");
    sqlite3_bind_int64(st, 1, j->peer);
    sqlite3_bind_int64(st, 2, (int64_t)j->seq);
    lsn_err e = sq_step_done(c, st, "moving a peer's received sequence", err);
    if (!e && sqlite3_changes(c->db) != 1)
        e = core_fail(err, LSN_ERR_ARG, "no peer %lld", (long long)j->peer);
    return e;
}

static lsn_err fed_receive(store *b, int64_t peer, uint64_t last_seq,
                           const store_item *const *items, store_audit_event *const *posts,
                           size_t n, store_audit_event *const *notes, size_t nnotes,
                           int64_t *ids, lsn_error *err)
{
    received_job j = { .peer = peer, .seq = last_seq };
    return writer_batch_append(&((sq_store *)b)->writer, items, posts, n, notes, nnotes,
                               apply_received, &j, ids, err);
}

const store_fed_ops sq_fed_ops = {
    .peer_note = fed_peer_note,
    .receive = fed_receive,
    .item_binding = fed_item_binding,
    .item_binding_keep = fed_item_binding_keep,
    .peer_add = fed_peer_add,
    .peer_list = fed_peer_list,
    .outbox_list = fed_outbox_list,
};
