/* store/sqlite_rel.c — the SQLite back-end's part for release requests and
 * item versions (store_rel.h): the schema, the writer's hook that makes a
 * version of an item in its transaction, the requests' writes (one
 * transaction each, on the writer) and reads. */
#include "store/sqlite_internal.h"
#include "store/sqlite_rel.h"
#include "store/sqlite_fed.h"
#include "store/store_fed.h"
#include "store/alarm.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "store/checks.h"
#include "core/error.h"
#include "store/copy.h"
#include "store/store_rel.h"

/* Versions and hidden rows are append-only, as items are: a version, once
 * made, is history, and a withdrawn item stays withdrawn. A request's row
 * and its authorities' rows change (state, answers); its history does not. */
static const char schema_rel[] =
    "CREATE TABLE item_versions(\n"
    "  row_id INTEGER PRIMARY KEY REFERENCES items(id),\n"
    "  item_uuid BLOB NOT NULL CHECK (length(item_uuid) = 16),\n"
    "  version INTEGER NOT NULL CHECK (version >= 2), UNIQUE (item_uuid, version));\n"
    "CREATE TRIGGER item_versions_no_update BEFORE UPDATE ON item_versions BEGIN\n"
    "  SELECT RAISE(ABORT, 'versions are append-only'); END;\n"
    "CREATE TRIGGER item_versions_no_delete BEFORE DELETE ON item_versions BEGIN\n"
    "  SELECT RAISE(ABORT, 'versions are append-only'); END;\n"
    "CREATE TABLE item_hidden(\n"
    "  row_id INTEGER PRIMARY KEY REFERENCES items(id),\n"
    "  why TEXT NOT NULL CHECK (why IN ('superseded', 'withdrawn')),\n"
    "  time_ms INTEGER NOT NULL);\n"
    "CREATE TRIGGER item_hidden_no_update BEFORE UPDATE ON item_hidden BEGIN\n"
    "  SELECT RAISE(ABORT, 'hidden rows stay hidden'); END;\n"
    "CREATE TRIGGER item_hidden_no_delete BEFORE DELETE ON item_hidden BEGIN\n"
    "  SELECT RAISE(ABORT, 'hidden rows stay hidden'); END;\n"
    "CREATE TABLE release_requests(\n"
    "  id INTEGER PRIMARY KEY, rid BLOB NOT NULL UNIQUE CHECK (length(rid) = 16),\n"
    "  item_uuid BLOB NOT NULL CHECK (length(item_uuid) = 16),\n"
    "  item_row INTEGER NOT NULL REFERENCES items(id), proposer TEXT NOT NULL,\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('release', 'downgrade')),\n"
    "  label TEXT NOT NULL, marking_en TEXT NOT NULL, marking_fr TEXT NOT NULL,\n"
    "  reason TEXT NOT NULL, created_ms INTEGER NOT NULL, deadline_ms INTEGER NOT NULL,\n"
    "  extended INTEGER NOT NULL DEFAULT 0,\n"
    "  state TEXT NOT NULL DEFAULT 'open'\n"
    "    CHECK (state IN ('open', 'adopted', 'silence-broken', 'withdrawn')),\n"
    "  closed_ms INTEGER NOT NULL DEFAULT 0, new_row INTEGER UNIQUE REFERENCES items(id));\n"
    "CREATE INDEX release_requests_open ON release_requests(state, deadline_ms);\n"
    "CREATE INDEX release_requests_by_proposer ON release_requests(proposer, id);\n"
    "CREATE TABLE release_authorities(\n"
    "  request INTEGER NOT NULL REFERENCES release_requests(id), user TEXT NOT NULL,\n"
    "  organisation TEXT NOT NULL, node TEXT, pos INTEGER NOT NULL,\n"
    "  answer TEXT NOT NULL DEFAULT 'none' CHECK (answer IN ('none', 'concur', 'break')),\n"
    "  answered_ms INTEGER NOT NULL DEFAULT 0, reason TEXT,\n"
    "  PRIMARY KEY (request, user)) WITHOUT ROWID;\n"
    "CREATE INDEX release_authorities_by_user ON release_authorities(user, request);\n"
    "CREATE TABLE release_history(\n"
    "  request INTEGER NOT NULL REFERENCES release_requests(id), seq INTEGER NOT NULL,\n"
    "  time_ms INTEGER NOT NULL, actor TEXT NOT NULL, event TEXT NOT NULL,\n"
    "  detail TEXT NOT NULL, PRIMARY KEY (request, seq)) WITHOUT ROWID;\n"
    "CREATE TRIGGER release_history_no_update BEFORE UPDATE ON release_history BEGIN\n"
    "  SELECT RAISE(ABORT, 'the history is append-only'); END;\n"
    "CREATE TRIGGER release_history_no_delete BEFORE DELETE ON release_history BEGIN\n"
    "  SELECT RAISE(ABORT, 'the history is append-only'); END;\n";

lsn_err sq_schema_rel(sq_conn *c, int version, lsn_error *err)
{
    char pragma[40];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
    if (sqlite3_exec(c->db, schema_rel, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(c->db, err, "adding release requests' tables");
    return LSN_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* A history event, in the open transaction. */
static lsn_err history_add(sq_conn *c, int64_t request, int64_t time_ms, const char *actor,
                           const char *event, const char *detail, lsn_error *err)
{
    sqlite3_stmt *st = sq_prepare(c, SQ_REL_HISTORY_INSERT);
    if (!st)
        return sq_fail(c->db, err, "writing a request's history");
    sqlite3_bind_int64(st, 1, request);
    sqlite3_bind_int64(st, 2, time_ms);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
    return sq_step_done(c, st, "writing a request's history", err);
}

/* Hide row `row` (superseded or withdrawn), the mark sealed (seal.h). */
static lsn_err hide(sq_store *s, int64_t row, const char *why, int64_t now_ms, lsn_error *err)
{
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_REL_HIDE);
    if (!st)
        return sq_fail(c->db, err, "hiding an item's row");
    uint8_t mac[SEAL_LEN];
    seal_hidden_mac(&s->keys, row, why, now_ms, mac);
    sqlite3_bind_int64(st, 1, row);
    sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_blob(st, 4, mac, SEAL_LEN, SQLITE_STATIC);
    return sq_step_done(c, st, "hiding an item's row", err);
}

lsn_err sq_rel_item_written(sq_store *s, int64_t id, const store_item *it, int64_t now_ms,
                            lsn_error *err)
{
    if (it->ver.version < 2)
        return LSN_OK;
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_REL_VERSION_INSERT);
    if (!st)
        return sq_fail(c->db, err, "linking a version");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, it->ver.of, STORE_UUID_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, it->ver.version);
    lsn_err e = sq_step_done(c, st, "linking a version", err);
    /* The row replaced: hiding it twice is refused by its primary key, so
     * that two versions never supersede the same row. */
    if (!e && it->ver.supersedes)
        e = hide(s, it->ver.supersedes, "superseded", now_ms, err);
    if (e || !it->ver.adopts)
        return e;
    if (!(st = sq_prepare(c, SQ_REL_ADOPT)))
        return sq_fail(c->db, err, "adopting a release request");
    sqlite3_bind_int64(st, 1, it->ver.adopts);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, id);
    if ((e = sq_step_done(c, st, "adopting a release request", err)))
        return e;
    if (sqlite3_changes(c->db) != 1)
        return core_fail(err, LSN_ERR_DUPLICATE, "the release request is no longer open");
    char detail[64];
    snprintf(detail, sizeof detail, "version %d", it->ver.version);
    return history_add(c, it->ver.adopts, now_ms, "system", "adopt", detail, err);
}

/* ---- rows ------------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
                                                     : (const char *)sqlite3_column_text(st, i);
}

static void col_uuid(sqlite3_stmt *st, int i, uint8_t out[STORE_UUID_LEN])
{
    const void *b = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    memset(out, 0, STORE_UUID_LEN);
    if (b && n > 0)
        memcpy(out, b, n < STORE_UUID_LEN ? (size_t)n : STORE_UUID_LEN);
}

static void row_release(sqlite3_stmt *st, store_release *r)
{
    r->id = sqlite3_column_int64(st, 0);
    col_uuid(st, 1, r->rid);
    col_uuid(st, 2, r->item);
    r->item_row = sqlite3_column_int64(st, 3);
    r->proposer = col_text(st, 4);
    r->kind = col_text(st, 5);
    r->label = col_text(st, 6);
    r->marking_en = col_text(st, 7);
    r->marking_fr = col_text(st, 8);
    r->reason = col_text(st, 9);
    r->created_ms = sqlite3_column_int64(st, 10);
    r->deadline_ms = sqlite3_column_int64(st, 11);
    r->extended = sqlite3_column_int(st, 12) != 0;
    r->state = col_text(st, 13);
    r->closed_ms = sqlite3_column_int64(st, 14);
    r->new_row = sqlite3_column_int64(st, 15);
}

static bool release_whole(const store_release *r)
{
    return r->proposer && r->kind && r->label && r->marking_en && r->marking_fr &&
           r->reason && r->state;
}

typedef struct rel_ctx {
    store_release_cb cb;
    store_release_auth_cb auth;
    store_release_event_cb event;
    store_version_cb version;
    void *ctx;
    store_release *one; /* get */
} rel_ctx;

static int release_row(void *ctx, sqlite3_stmt *st)
{
    rel_ctx *x = ctx;
    store_release r;
    row_release(st, &r);
    if (!release_whole(&r))
        return -1; /* NOT NULL columns: only out of memory gives NULL */
    if (x->cb)
        return x->cb(x->ctx, &r);
    return (x->one = copy_release_request(&r)) ? STORE_STOP : -1;
}

static sq_arg uuid_arg(const uint8_t *u)
{
    return (sq_arg){ .kind = SQ_A_BLOB, .blob = u, .len = STORE_UUID_LEN };
}

static sq_arg text_or_none(const char *t)
{
    return t ? SQ_TEXT(t) : SQ_NONE;
}

static lsn_err rel_get(store *b, const uint8_t rid[STORE_UUID_LEN], store_release **out,
                       lsn_error *err)
{
    rel_ctx x = { 0 };
    lsn_err e = sq_query((sq_store *)b, SQ_REL_GET, uuid_arg(rid), SQ_NONE, SQ_NONE,
                         release_row, &x, "reading a release request", err);
    if (e) {
        lsn_free(x.one);
        x.one = NULL;
    }
    *out = x.one;
    return e;
}

static lsn_err rel_list(store *b, const char *user, const char *state, store_release_cb cb,
                        void *ctx, lsn_error *err)
{
    rel_ctx x = { .cb = cb, .ctx = ctx };
    return sq_query((sq_store *)b, SQ_REL_LIST, text_or_none(user), text_or_none(state),
                    SQ_NONE, release_row, &x, "listing release requests", err);
}

static lsn_err rel_due(store *b, int64_t now_ms, store_release_cb cb, void *ctx,
                       lsn_error *err)
{
    rel_ctx x = { .cb = cb, .ctx = ctx };
    return sq_query((sq_store *)b, SQ_REL_DUE, SQ_INT(now_ms), SQ_NONE, SQ_NONE, release_row,
                    &x, "finding release requests due", err);
}

static int auth_row(void *ctx, sqlite3_stmt *st)
{
    rel_ctx *x = ctx;
    store_release_authority a = {
        .user = col_text(st, 0), .organisation = col_text(st, 1), .node = col_text(st, 2),
        .answer = col_text(st, 3), .answered_ms = sqlite3_column_int64(st, 4),
        .reason = col_text(st, 5),
    };
    if (!a.user || !a.organisation || !a.answer)
        return -1;
    return x->auth(x->ctx, &a);
}

static lsn_err rel_authorities(store *b, int64_t id, store_release_auth_cb cb, void *ctx,
                               lsn_error *err)
{
    rel_ctx x = { .auth = cb, .ctx = ctx };
    return sq_query((sq_store *)b, SQ_REL_AUTHS, SQ_INT(id), SQ_NONE, SQ_NONE, auth_row, &x,
                    "reading a request's authorities", err);
}

static int event_row(void *ctx, sqlite3_stmt *st)
{
    rel_ctx *x = ctx;
    store_release_event e = { .time_ms = sqlite3_column_int64(st, 0),
                              .actor = col_text(st, 1), .event = col_text(st, 2),
                              .detail = col_text(st, 3) };
    if (!e.actor || !e.event || !e.detail)
        return -1;
    return x->event(x->ctx, &e);
}

static lsn_err rel_history(store *b, int64_t id, store_release_event_cb cb, void *ctx,
                           lsn_error *err)
{
    rel_ctx x = { .event = cb, .ctx = ctx };
    return sq_query((sq_store *)b, SQ_REL_HISTORY, SQ_INT(id), SQ_NONE, SQ_NONE, event_row,
                    &x, "reading a request's history", err);
}

static int version_row(void *ctx, sqlite3_stmt *st)
{
    store_versions_add(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
                       col_text(st, 2), sqlite3_column_int64(st, 3),
                       sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4));
    return STORE_NEXT;
}

/* The item's rows, gathered, then checked as a whole (alarm.h): its links
 * and hidden marks are sealed. */
lsn_err sq_item_history(store *b, const uint8_t item[STORE_UUID_LEN], store_version_cb cb,
                        void *ctx, int *intact, lsn_error *err)
{
    sq_store *s = (sq_store *)b;
    store_versions h = { 0 };
    lsn_err e = sq_query(s, SQ_REL_VERSIONS, uuid_arg(item), SQ_NONE, SQ_NONE, version_row,
                         &h, "reading an item's versions", err);
    if (e) {
        lsn_free(h.v);
        return e;
    }
    return store_versions_end(b, &s->writer, &s->keys, item, &h, cb, ctx, intact, err);
}

static lsn_err rel_versions(store *b, const uint8_t item[STORE_UUID_LEN], store_version_cb cb,
                            void *ctx, lsn_error *err)
{
    return sq_item_history(b, item, cb, ctx, NULL, err);
}

/* ---- writes, on the writer --------------------------------------------- */

typedef struct add_job {
    const store_release *r;
    const store_release_authority *a;
    size_t n;
    int64_t id;
} add_job;

static lsn_err apply_add(void *be, void *arg, lsn_error *err)
{
    add_job *j = arg;
    const store_release *r = j->r;
    sq_conn *c = &((sq_store *)be)->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_REL_INSERT);
    if (!st)
        return sq_fail(c->db, err, "adding a release request");
    sqlite3_bind_blob(st, 1, r->rid, STORE_UUID_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, r->item, STORE_UUID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->item_row);
    sqlite3_bind_text(st, 4, r->proposer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->marking_en, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->marking_fr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, r->created_ms);
    sqlite3_bind_int64(st, 11, r->deadline_ms);
    lsn_err e = sq_step_done(c, st, "adding a release request", err);
    if (e)
        return e;
    j->id = sqlite3_last_insert_rowid(c->db);
    for (size_t i = 0; i < j->n; i++) {
        if (!(st = sq_prepare(c, SQ_REL_AUTH_INSERT)))
            return sq_fail(c->db, err, "adding a request's authority");
        sqlite3_bind_int64(st, 1, j->id);
        sqlite3_bind_text(st, 2, j->a[i].user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, j->a[i].organisation, -1, SQLITE_STATIC);
        bind_text_or_null(st, 4, j->a[i].node);
        sqlite3_bind_int64(st, 5, (int64_t)i);
        if ((e = sq_step_done(c, st, "adding a request's authority", err)))
            return e;
    }
    return history_add(c, j->id, r->created_ms, r->proposer, "open", r->reason, err);
}

static lsn_err rel_add(store *b, const store_release *r, const store_release_authority *a,
                       size_t n, int64_t *id_out, lsn_error *err)
{
    lsn_err e = store_check_release(r, a, n, err);
    if (e)
        return e;
    add_job j = { .r = r, .a = a, .n = n };
    e = writer_apply(&((sq_store *)b)->writer, apply_add, &j, err);
    if (id_out)
        *id_out = e ? 0 : j.id;
    return e;
}

typedef struct act_job {
    const store_rel_act *a;
    store_rel_outcome outcome;
} act_job;

/* One text column of the first row of st (already bound), copied into out. */
static bool first_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    bool found = sqlite3_step(st) == SQLITE_ROW;
    const char *t = found ? (const char *)sqlite3_column_text(st, col) : NULL;
    snprintf(out, cap, "%s", t ? t : "");
    return found && t;
}

static lsn_err apply_act(void *be, void *arg, lsn_error *err)
{
    act_job *j = arg;
    const store_rel_act *a = j->a;
    sq_conn *c = &((sq_store *)be)->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_REL_STATE);
    if (!st)
        return sq_fail(c->db, err, "reading a request's state");
    sqlite3_bind_int64(st, 1, a->id);
    char state[32], proposer[512];
    bool found = first_text(st, 0, state, sizeof state);
    int64_t deadline = found ? sqlite3_column_int64(st, 1) : 0;
    bool extended = found && sqlite3_column_int(st, 2) != 0;
    const char *p = found ? (const char *)sqlite3_column_text(st, 3) : NULL;
    snprintf(proposer, sizeof proposer, "%s", p ? p : "");
    sqlite3_reset(st);
    if (!found)
        return core_fail(err, LSN_ERR_ARG, "no release request %lld", (long long)a->id);

    bool by_authority = a->kind == STORE_REL_CONCUR || a->kind == STORE_REL_BREAK;
    const char *answer = a->kind == STORE_REL_CONCUR ? "concur" : "break";
    char given[16] = "";
    if (by_authority) {
        if (!(st = sq_prepare(c, SQ_REL_ANSWER_GET)))
            return sq_fail(c->db, err, "reading an answer");
        sqlite3_bind_int64(st, 1, a->id);
        sqlite3_bind_text(st, 2, a->actor, -1, SQLITE_STATIC);
        bool party = first_text(st, 0, given, sizeof given);
        sqlite3_reset(st);
        if (!party) {
            j->outcome = STORE_REL_NOT_PARTY;
            return LSN_OK;
        }
    } else if ((a->kind == STORE_REL_WITHDRAW || a->kind == STORE_REL_EXTEND) &&
               strcmp(proposer, a->actor) != 0) {
        j->outcome = STORE_REL_NOT_PARTY;
        return LSN_OK;
    }
    /* A retried answer is the same answer: nothing changes, whatever the
     * state now (a break retried after it stopped the request). */
    if (by_authority && strcmp(given, answer) == 0) {
        j->outcome = STORE_REL_SAME;
        return LSN_OK;
    }
    if (strcmp(state, STORE_REL_OPEN) != 0) {
        j->outcome = STORE_REL_NOT_OPEN;
        return LSN_OK;
    }
    /* The deadline is the end: at it or after, only adoption acts (the
     * node's close aside). */
    if (a->kind != STORE_REL_CLOSE && a->now_ms >= deadline) {
        j->outcome = STORE_REL_LATE;
        return LSN_OK;
    }
    lsn_err e = LSN_OK;
    const char *event = "";
    char detail[600];
    snprintf(detail, sizeof detail, "%s", a->reason ? a->reason : "");
    switch (a->kind) {
    case STORE_REL_CONCUR:
    case STORE_REL_BREAK:
        if (!(st = sq_prepare(c, SQ_REL_ANSWER_SET)))
            return sq_fail(c->db, err, "recording an answer");
        sqlite3_bind_int64(st, 1, a->id);
        sqlite3_bind_text(st, 2, a->actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, answer, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, a->now_ms);
        bind_text_or_null(st, 5, a->kind == STORE_REL_BREAK ? a->reason : NULL);
        e = sq_step_done(c, st, "recording an answer", err);
        event = answer;
        break;
    case STORE_REL_EXTEND:
        if (extended || a->deadline_ms <= deadline) {
            j->outcome = STORE_REL_EXTENDED;
            return LSN_OK;
        }
        if (!(st = sq_prepare(c, SQ_REL_EXTEND)))
            return sq_fail(c->db, err, "extending a request");
        sqlite3_bind_int64(st, 1, a->id);
        sqlite3_bind_int64(st, 2, a->deadline_ms);
        e = sq_step_done(c, st, "extending a request", err);
        event = "extend";
        snprintf(detail, sizeof detail, "deadline %lld", (long long)a->deadline_ms);
        break;
    case STORE_REL_WITHDRAW:
    case STORE_REL_CLOSE:
        event = a->kind == STORE_REL_WITHDRAW ? "withdraw" : "close";
        break;
    }
    const char *to = a->kind == STORE_REL_BREAK      ? STORE_REL_BROKEN
                     : a->kind == STORE_REL_WITHDRAW ? STORE_REL_WITHDRAWN
                     : a->kind == STORE_REL_CLOSE    ? STORE_REL_WITHDRAWN
                                                     : NULL;
    if (!e && to) {
        if (!(st = sq_prepare(c, SQ_REL_SET_STATE)))
            return sq_fail(c->db, err, "closing a request");
        sqlite3_bind_int64(st, 1, a->id);
        sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, a->now_ms);
        e = sq_step_done(c, st, "closing a request", err);
    }
    if (!e)
        e = history_add(c, a->id, a->now_ms, a->actor, event, detail, err);
    if (!e)
        j->outcome = STORE_REL_DONE;
    return e;
}

static lsn_err rel_act(store *b, const store_rel_act *a, store_rel_outcome *outcome,
                       lsn_error *err)
{
    lsn_err e = store_check_rel_act(a, err);
    if (e)
        return e;
    act_job j = { .a = a, .outcome = STORE_REL_NOT_OPEN };
    e = writer_apply(&((sq_store *)b)->writer, apply_act, &j, err);
    *outcome = j.outcome;
    return e;
}

typedef store_withdrawal hide_job;

static lsn_err apply_withdraw(void *be, void *arg, lsn_error *err)
{
    hide_job *j = arg;
    sq_conn *c = &((sq_store *)be)->w;
    lsn_err e = hide(be, j->row, "withdrawn", j->now_ms, err);
    if (!e && j->tombstone) {
        sqlite3_stmt *st = sq_prepare(c, SQ_REL_TOMBSTONE_INSERT);
        if (!st)
            return sq_fail(c->db, err, "keeping a tombstone");
        sqlite3_bind_int64(st, 1, j->row);
        sqlite3_bind_blob64(st, 2, j->tombstone, j->tombstone_len, SQLITE_STATIC);
        e = sq_step_done(c, st, "keeping a tombstone", err);
    }
    /* The tombstone's outbox entries, in the same transaction. */
    store_item q = { .fed = { .outbox = j->peers, .outbox_n = j->npeers } };
    return e || !j->npeers ? e : sq_fed_item_written((sq_store *)be, j->row, &q, err);
}

static lsn_err rel_withdraw(store *b, const store_withdrawal *w, lsn_error *err)
{
    if (w->npeers > STORE_OUTBOX_MAX || (w->npeers && !w->peers))
        return core_fail(err, LSN_ERR_ARG, "too many peers, or none given");
    lsn_err e = w->tombstone ? store_check_binding(w->tombstone, w->tombstone_len, err) : LSN_OK;
    if (e)
        return e;
    hide_job j = *w;
    return writer_apply_audited(&((sq_store *)b)->writer, apply_withdraw, &j, w->audit, err);
}

typedef struct tomb_out {
    char *data;
    size_t len;
} tomb_out;

static int tombstone_row(void *ctx, sqlite3_stmt *st)
{
    tomb_out *o = ctx;
    const void *p = sqlite3_column_blob(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    if (!(o->data = core_malloc(n + 1)))
        return -1;
    if (n)
        memcpy(o->data, p, n);
    o->data[n] = '\0';
    o->len = n;
    return STORE_STOP;
}

static lsn_err rel_tombstone(store *b, int64_t row, char **out, size_t *len, lsn_error *err)
{
    tomb_out o = { 0 };
    lsn_err e = sq_query((sq_store *)b, SQ_REL_TOMBSTONE_GET, SQ_INT(row), SQ_NONE, SQ_NONE,
                         tombstone_row, &o, "reading a tombstone", err);
    if (e) {
        lsn_free(o.data);
        o = (tomb_out){ 0 };
    }
    *out = o.data;
    *len = o.len;
    return e;
}

const store_rel_ops sq_rel_ops = {
    .add = rel_add,
    .get = rel_get,
    .authorities = rel_authorities,
    .history = rel_history,
    .list = rel_list,
    .due = rel_due,
    .act = rel_act,
    .versions = rel_versions,
    .withdraw = rel_withdraw,
    .tombstone = rel_tombstone,
};
