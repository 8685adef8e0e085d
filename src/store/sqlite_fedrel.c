/* store/sqlite_fedrel.c — the SQLite back-end's part for the signed release
 * messages exchanged with peers (store_fedrel.h): its schema step, the
 * writes (on the writer, one transaction each) and the reads. */
#include "store/sqlite_internal.h"
#include "store/sqlite_fedrel.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store_fedrel.h"

/* A message once kept is history: only an outgoing one's answer is noted
 * later (done_ms, result); no row is ever deleted. */
static const char schema_fedrel[] =
    "CREATE TABLE fed_release_messages(\n"
    "  id INTEGER PRIMARY KEY, peer TEXT NOT NULL,\n"
    "  outgoing INTEGER NOT NULL CHECK (outgoing IN (0, 1)),\n"
    "  rid BLOB NOT NULL CHECK (length(rid) = 16),\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('notice', 'concur', 'break', 'outcome')),\n"
    "  message TEXT NOT NULL, time_ms INTEGER NOT NULL,\n"
    "  done_ms INTEGER NOT NULL DEFAULT 0, result TEXT,\n"
    "  UNIQUE (peer, outgoing, rid, kind));\n"
    "CREATE INDEX fed_release_messages_waiting ON fed_release_messages(peer, outgoing, done_ms);\n"
    "CREATE TRIGGER fed_release_messages_no_delete BEFORE DELETE ON fed_release_messages\n"
    "BEGIN SELECT RAISE(ABORT, 'release messages are kept'); END;\n";

lsn_err sq_schema_fedrel(sq_conn *c, int version, lsn_error *err)
{
    char pragma[40];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
    if (sqlite3_exec(c->db, schema_fedrel, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(c->db, err, "adding the release messages' table");
    return LSN_OK;
}

typedef struct put_job {
    const store_fed_msg *m;
    bool added;
} put_job;

static lsn_err apply_put(void *be, void *arg, lsn_error *err)
{
    put_job *j = arg;
    sq_conn *c = &((sq_store *)be)->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_FEDREL_INSERT);
    if (!st)
        return sq_fail(c->db, err, "keeping a release message");
    sqlite3_bind_text(st, 1, j->m->peer, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, j->m->outgoing ? 1 : 0);
    sqlite3_bind_blob(st, 3, j->m->rid, STORE_UUID_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, j->m->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, j->m->message, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, j->m->time_ms);
    lsn_err e = sq_step_done(c, st, "keeping a release message", err);
    j->added = !e && sqlite3_changes(c->db) == 1;
    return e;
}

static lsn_err fedrel_put(store *b, const store_fed_msg *m, bool *added, lsn_error *err)
{
    *added = false;
    if (!m->peer || !m->kind || !m->message)
        return core_fail(err, LSN_ERR_ARG, "a release message needs its peer, kind and text");
    put_job j = { .m = m };
    lsn_err e = writer_apply(&((sq_store *)b)->writer, apply_put, &j, err);
    *added = !e && j.added;
    return e;
}

typedef struct done_job {
    int64_t id, done_ms;
    const char *result;
} done_job;

static lsn_err apply_done(void *be, void *arg, lsn_error *err)
{
    done_job *j = arg;
    sq_conn *c = &((sq_store *)be)->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_FEDREL_DONE);
    if (!st)
        return sq_fail(c->db, err, "noting a release message's answer");
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_int64(st, 2, j->done_ms);
    sqlite3_bind_text(st, 3, j->result ? j->result : "", -1, SQLITE_STATIC);
    return sq_step_done(c, st, "noting a release message's answer", err);
}

static lsn_err fedrel_done(store *b, int64_t id, int64_t done_ms, const char *result,
                           lsn_error *err)
{
    done_job j = { id, done_ms, result };
    return writer_apply(&((sq_store *)b)->writer, apply_done, &j, err);
}

typedef struct list_ctx {
    store_fed_msg_cb cb;
    void *ctx;
} list_ctx;

static int msg_row(void *ctx, sqlite3_stmt *st)
{
    list_ctx *x = ctx;
    store_fed_msg m = {
        .id = sqlite3_column_int64(st, 0), .peer = (const char *)sqlite3_column_text(st, 1),
        .outgoing = sqlite3_column_int(st, 2) != 0,
        .kind = (const char *)sqlite3_column_text(st, 4),
        .message = (const char *)sqlite3_column_text(st, 5),
        .time_ms = sqlite3_column_int64(st, 6), .done_ms = sqlite3_column_int64(st, 7),
        .result = sqlite3_column_type(st, 8) == SQLITE_NULL
                      ? NULL
                      : (const char *)sqlite3_column_text(st, 8),
    };
    const void *rid = sqlite3_column_blob(st, 3);
    if (!m.peer || !m.kind || !m.message || !rid ||
        sqlite3_column_bytes(st, 3) != STORE_UUID_LEN)
        return -1;
    memcpy(m.rid, rid, STORE_UUID_LEN);
    return x->cb(x->ctx, &m);
}

static lsn_err fedrel_list(store *b, const char *peer, store_fedrel_which which,
                           const uint8_t *rid, store_fed_msg_cb cb, void *ctx, lsn_error *err)
{
    list_ctx x = { cb, ctx };
    sq_arg r = rid ? (sq_arg){ .kind = SQ_A_BLOB, .blob = rid, .len = STORE_UUID_LEN }
                   : SQ_NONE;
    return sq_query((sq_store *)b, SQ_FEDREL_LIST, peer ? SQ_TEXT(peer) : SQ_NONE,
                    SQ_INT((int64_t)which), r, msg_row, &x, "reading release messages", err);
}

const store_fedrel_ops sq_fedrel_ops = {
    .put = fedrel_put,
    .list = fedrel_list,
    .done = fedrel_done,
};
