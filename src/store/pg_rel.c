/* store/pg_rel.c — the PostgreSQL back-end's part for release requests and
 * item versions (store_rel.h), as sqlite_rel.c is SQLite's: the writer's
 * hook that makes a version of an item in its transaction, the requests'
 * writes (one transaction each, on the writer, which holds the store's
 * write lock: acts of every node process on the database are serialised)
 * and reads. The tables are schema step 8 (pg_rel.h). */
#include "store/pg_internal.h"
#include "store/pg_rel.h"
#include "store/alarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/checks.h"
#include "core/error.h"
#include "store/copy.h"
#include "store/store_rel.h"
#include "store/store_fed.h"

/* Run a writer's statement; *rows (when asked) the rows it changed. */
static lsn_err run_w(pg_store *s, pg_stmt which, const pg_arg *a, int n, long *rows,
                     const char *doing, lsn_error *err)
{
    PGresult *r;
    lsn_err e = pg_run(&s->w, which, a, n, &r, doing, err);
    if (!e && rows)
        *rows = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return e;
}

/* A history event, in the open transaction. */
static lsn_err history_add(pg_store *s, int64_t request, int64_t time_ms, const char *actor,
                           const char *event, const char *detail, lsn_error *err)
{
    pg_arg a[] = { PG_INT(request), PG_INT(time_ms), PG_TEXT(actor), PG_TEXT(event),
                   PG_TEXT(detail ? detail : "") };
    return run_w(s, PG_REL_HISTORY_INSERT, a, 5, NULL, "writing a request's history", err);
}

static lsn_err hide(pg_store *s, int64_t row, const char *why, int64_t now_ms, lsn_error *err)
{
    uint8_t mac[SEAL_LEN]; /* the mark sealed (seal.h) */
    seal_hidden_mac(&s->keys, row, why, now_ms, mac);
    pg_arg a[] = { PG_INT(row), PG_TEXT(why), PG_INT(now_ms), PG_BYTES(mac, SEAL_LEN) };
    return run_w(s, PG_REL_HIDE, a, 4, NULL, "hiding an item's row", err);
}

lsn_err pg_rel_item_written(pg_store *s, int64_t id, const store_item *it, int64_t now_ms,
                            lsn_error *err)
{
    if (it->ver.version < 2)
        return LSN_OK;
    pg_arg v[] = { PG_INT(id), PG_BYTES(it->ver.of, STORE_UUID_LEN), PG_INT(it->ver.version) };
    lsn_err e = run_w(s, PG_REL_VERSION_INSERT, v, 3, NULL, "linking a version", err);
    /* The row replaced: hiding it twice is refused by its primary key, so
     * that two versions never supersede the same row. */
    if (!e && it->ver.supersedes)
        e = hide(s, it->ver.supersedes, "superseded", now_ms, err);
    if (e || !it->ver.adopts)
        return e;
    long changed = 0;
    pg_arg a[] = { PG_INT(it->ver.adopts), PG_INT(now_ms), PG_INT(id) };
    if ((e = run_w(s, PG_REL_ADOPT, a, 3, &changed, "adopting a release request", err)))
        return e;
    if (changed != 1)
        return core_fail(err, LSN_ERR_DUPLICATE, "the release request is no longer open");
    char detail[64];
    snprintf(detail, sizeof detail, "version %d", it->ver.version);
    return history_add(s, it->ver.adopts, now_ms, "system", "adopt", detail, err);
}

/* ---- rows ------------------------------------------------------------------- */

static void col_uuid(const PGresult *r, int i, int col, uint8_t out[STORE_UUID_LEN])
{
    memset(out, 0, STORE_UUID_LEN);
    if (pg_col_null(r, i, col))
        return;
    int n = PQgetlength(r, i, col);
    memcpy(out, PQgetvalue(r, i, col), n < STORE_UUID_LEN ? (size_t)n : STORE_UUID_LEN);
}

static void row_release(const PGresult *r, int i, store_release *x)
{
    x->id = pg_col_int(r, i, 0);
    col_uuid(r, i, 1, x->rid);
    col_uuid(r, i, 2, x->item);
    x->item_row = pg_col_int(r, i, 3);
    x->proposer = pg_col_text(r, i, 4);
    x->kind = pg_col_text(r, i, 5);
    x->label = pg_col_text(r, i, 6);
    x->marking_en = pg_col_text(r, i, 7);
    x->marking_fr = pg_col_text(r, i, 8);
    x->reason = pg_col_text(r, i, 9);
    x->created_ms = pg_col_int(r, i, 10);
    x->deadline_ms = pg_col_int(r, i, 11);
    x->extended = pg_col_int(r, i, 12) != 0;
    x->state = pg_col_text(r, i, 13);
    x->closed_ms = pg_col_int(r, i, 14);
    x->new_row = pg_col_int(r, i, 15);
}

typedef struct rel_ctx {
    store_release_cb cb;
    store_release_auth_cb auth;
    store_release_event_cb event;
    store_version_cb version;
    void *ctx;
    store_release *one; /* get */
} rel_ctx;

static int release_row(void *ctx, const PGresult *r, int i)
{
    rel_ctx *x = ctx;
    store_release rel;
    row_release(r, i, &rel);
    if (x->cb)
        return x->cb(x->ctx, &rel);
    return (x->one = copy_release_request(&rel)) ? STORE_STOP : -1;
}

static lsn_err rel_get(store *b, const uint8_t rid[STORE_UUID_LEN], store_release **out,
                       lsn_error *err)
{
    rel_ctx x = { 0 };
    pg_arg a[] = { PG_BYTES(rid, STORE_UUID_LEN) };
    lsn_err e = pg_query((pg_store *)b, PG_REL_GET, a, 1, -1, release_row, &x,
                         "reading a release request", err);
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
    pg_arg a[] = { PG_TEXT(user), PG_TEXT(state) };
    return pg_query((pg_store *)b, PG_REL_LIST, a, 2, -1, release_row, &x,
                    "listing release requests", err);
}

static lsn_err rel_due(store *b, int64_t now_ms, store_release_cb cb, void *ctx,
                       lsn_error *err)
{
    rel_ctx x = { .cb = cb, .ctx = ctx };
    pg_arg a[] = { PG_INT(now_ms) };
    return pg_query((pg_store *)b, PG_REL_DUE, a, 1, -1, release_row, &x,
                    "finding release requests due", err);
}

static int auth_row(void *ctx, const PGresult *r, int i)
{
    rel_ctx *x = ctx;
    store_release_authority a = {
        .user = pg_col_text(r, i, 0), .organisation = pg_col_text(r, i, 1),
        .node = pg_col_text_or_null(r, i, 2), .answer = pg_col_text(r, i, 3),
        .answered_ms = pg_col_int(r, i, 4), .reason = pg_col_text_or_null(r, i, 5),
    };
    return x->auth(x->ctx, &a);
}

static lsn_err rel_authorities(store *b, int64_t id, store_release_auth_cb cb, void *ctx,
                               lsn_error *err)
{
    rel_ctx x = { .auth = cb, .ctx = ctx };
    pg_arg a[] = { PG_INT(id) };
    return pg_query((pg_store *)b, PG_REL_AUTHS, a, 1, -1, auth_row, &x,
                    "reading a request's authorities", err);
}

static int event_row(void *ctx, const PGresult *r, int i)
{
    rel_ctx *x = ctx;
    store_release_event e = { .time_ms = pg_col_int(r, i, 0), .actor = pg_col_text(r, i, 1),
                              .event = pg_col_text(r, i, 2), .detail = pg_col_text(r, i, 3) };
    return x->event(x->ctx, &e);
}

static lsn_err rel_history(store *b, int64_t id, store_release_event_cb cb, void *ctx,
                           lsn_error *err)
{
    rel_ctx x = { .event = cb, .ctx = ctx };
    pg_arg a[] = { PG_INT(id) };
    return pg_query((pg_store *)b, PG_REL_HISTORY, a, 1, -1, event_row, &x,
                    "reading a request's history", err);
}

static int version_row(void *ctx, const PGresult *r, int i)
{
    store_versions_add(ctx, pg_col_int(r, i, 0), (int)pg_col_int(r, i, 1),
                       pg_col_text_or_null(r, i, 2),
                       pg_col_null(r, i, 3) ? 0 : pg_col_int(r, i, 3),
                       pg_col_null(r, i, 4) ? NULL : PQgetvalue(r, i, 4),
                       pg_col_null(r, i, 4) ? 0 : (size_t)PQgetlength(r, i, 4));
    return STORE_NEXT;
}

/* The item's rows, gathered, then checked as a whole (alarm.h): its links
 * and hidden marks are sealed. */
lsn_err pg_item_history(store *b, const uint8_t item[STORE_UUID_LEN], store_version_cb cb,
                        void *ctx, int *intact, lsn_error *err)
{
    pg_store *s = (pg_store *)b;
    store_versions h = { 0 };
    pg_arg a[] = { PG_BYTES(item, STORE_UUID_LEN) };
    lsn_err e = pg_query(s, PG_REL_VERSIONS, a, 1, -1, version_row, &h,
                         "reading an item's versions", err);
    if (e) {
        lsn_free(h.v);
        return e;
    }
    return store_versions_end(b, &s->writer, &s->keys, item, &h, cb, ctx, intact, err);
}

static lsn_err rel_versions(store *b, const uint8_t item[STORE_UUID_LEN], store_version_cb cb,
                            void *ctx, lsn_error *err)
{
    return pg_item_history(b, item, cb, ctx, NULL, err);
}

/* ---- writes, on the writer ---------------------------------------------------- */

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
    pg_store *s = be;
    pg_arg a[] = { PG_BYTES(r->rid, STORE_UUID_LEN), PG_BYTES(r->item, STORE_UUID_LEN),
                   PG_INT(r->item_row), PG_TEXT(r->proposer), PG_TEXT(r->kind),
                   PG_TEXT(r->label), PG_TEXT(r->marking_en), PG_TEXT(r->marking_fr),
                   PG_TEXT(r->reason), PG_INT(r->created_ms), PG_INT(r->deadline_ms) };
    PGresult *res;
    lsn_err e = pg_run(&s->w, PG_REL_INSERT, a, 11, &res, "adding a release request", err);
    if (e)
        return e;
    j->id = PQntuples(res) == 1 ? pg_col_int(res, 0, 0) : 0;
    PQclear(res);
    if (!j->id)
        return core_fail(err, LSN_ERR_IO, "adding a release request: no id came back");
    for (size_t i = 0; i < j->n; i++) {
        pg_arg x[] = { PG_INT(j->id), PG_TEXT(j->a[i].user), PG_TEXT(j->a[i].organisation),
                       PG_TEXT(j->a[i].node), PG_INT((int64_t)i) };
        if ((e = run_w(s, PG_REL_AUTH_INSERT, x, 5, NULL, "adding a request's authority",
                       err)))
            return e;
    }
    return history_add(s, j->id, r->created_ms, r->proposer, "open", r->reason, err);
}

static lsn_err rel_add(store *b, const store_release *r, const store_release_authority *a,
                       size_t n, int64_t *id_out, lsn_error *err)
{
    lsn_err e = store_check_release(r, a, n, err);
    if (e)
        return e;
    add_job j = { .r = r, .a = a, .n = n };
    e = writer_apply(&((pg_store *)b)->writer, apply_add, &j, err);
    if (id_out)
        *id_out = e ? 0 : j.id;
    return e;
}

typedef struct act_job {
    const store_rel_act *a;
    store_rel_outcome outcome;
} act_job;

/* The checks and the change of an act, in the writer's transaction (under
 * the store's write lock: no other writer changes the request meanwhile). */
static lsn_err apply_act(void *be, void *arg, lsn_error *err)
{
    act_job *j = arg;
    const store_rel_act *a = j->a;
    pg_store *s = be;
    PGresult *r;
    pg_arg id[] = { PG_INT(a->id) };
    lsn_err e = pg_run(&s->w, PG_REL_STATE, id, 1, &r, "reading a request's state", err);
    if (e)
        return e;
    bool found = PQntuples(r) == 1;
    char state[32], proposer[512];
    snprintf(state, sizeof state, "%s", found ? pg_col_text(r, 0, 0) : "");
    int64_t deadline = found ? pg_col_int(r, 0, 1) : 0;
    bool extended = found && pg_col_int(r, 0, 2) != 0;
    snprintf(proposer, sizeof proposer, "%s", found ? pg_col_text(r, 0, 3) : "");
    PQclear(r);
    if (!found)
        return core_fail(err, LSN_ERR_ARG, "no release request %lld", (long long)a->id);

    bool by_authority = a->kind == STORE_REL_CONCUR || a->kind == STORE_REL_BREAK;
    const char *answer = a->kind == STORE_REL_CONCUR ? "concur" : "break";
    char given[16] = "";
    if (by_authority) {
        pg_arg q[] = { PG_INT(a->id), PG_TEXT(a->actor) };
        if ((e = pg_run(&s->w, PG_REL_ANSWER_GET, q, 2, &r, "reading an answer", err)))
            return e;
        bool party = PQntuples(r) == 1;
        snprintf(given, sizeof given, "%s", party ? pg_col_text(r, 0, 0) : "");
        PQclear(r);
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
    const char *event = "";
    char detail[600];
    snprintf(detail, sizeof detail, "%s", a->reason ? a->reason : "");
    switch (a->kind) {
    case STORE_REL_CONCUR:
    case STORE_REL_BREAK: {
        pg_arg q[] = { PG_INT(a->id), PG_TEXT(a->actor), PG_TEXT(answer), PG_INT(a->now_ms),
                       PG_TEXT(a->kind == STORE_REL_BREAK ? a->reason : NULL) };
        e = run_w(s, PG_REL_ANSWER_SET, q, 5, NULL, "recording an answer", err);
        event = answer;
        break;
    }
    case STORE_REL_EXTEND: {
        if (extended || a->deadline_ms <= deadline) {
            j->outcome = STORE_REL_EXTENDED;
            return LSN_OK;
        }
        pg_arg q[] = { PG_INT(a->id), PG_INT(a->deadline_ms) };
        e = run_w(s, PG_REL_EXTEND, q, 2, NULL, "extending a request", err);
        event = "extend";
        snprintf(detail, sizeof detail, "deadline %lld", (long long)a->deadline_ms);
        break;
    }
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
        pg_arg q[] = { PG_INT(a->id), PG_TEXT(to), PG_INT(a->now_ms) };
        e = run_w(s, PG_REL_SET_STATE, q, 3, NULL, "closing a request", err);
    }
    if (!e)
        e = history_add(s, a->id, a->now_ms, a->actor, event, detail, err);
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
    e = writer_apply(&((pg_store *)b)->writer, apply_act, &j, err);
    *outcome = j.outcome;
    return e;
}

typedef store_withdrawal hide_job;

static lsn_err apply_withdraw(void *be, void *arg, lsn_error *err)
{
    hide_job *j = arg;
    lsn_err e = hide(be, j->row, "withdrawn", j->now_ms, err);
    if (!e && j->tombstone) {
        pg_arg a[] = { PG_INT(j->row), PG_BYTES(j->tombstone, j->tombstone_len) };
        e = run_w(be, PG_REL_TOMBSTONE_INSERT, a, 2, NULL, "keeping a tombstone", err);
    }
    /* The tombstone's outbox entries, in the same transaction. */
    store_item q = { .fed = { .outbox = j->peers, .outbox_n = j->npeers } };
    return e || !j->npeers ? e : pg_fed_item_written(be, j->row, &q, err);
}

static lsn_err rel_withdraw(store *b, const store_withdrawal *w, lsn_error *err)
{
    if (w->npeers > STORE_OUTBOX_MAX || (w->npeers && !w->peers))
        return core_fail(err, LSN_ERR_ARG, "too many peers, or none given");
    lsn_err e = w->tombstone ? store_check_binding(w->tombstone, w->tombstone_len, err) : LSN_OK;
    if (e)
        return e;
    hide_job j = *w;
    return writer_apply_audited(&((pg_store *)b)->writer, apply_withdraw, &j, w->audit, err);
}

typedef struct tomb_out {
    char *data;
    size_t len;
} tomb_out;

static int tombstone_row(void *ctx, const PGresult *r, int i)
{
    tomb_out *o = ctx;
    size_t n = (size_t)PQgetlength(r, i, 0);
    if (!(o->data = core_malloc(n + 1)))
        return -1;
    memcpy(o->data, PQgetvalue(r, i, 0), n);
    o->data[n] = '\0';
    o->len = n;
    return STORE_STOP;
}

static lsn_err rel_tombstone(store *b, int64_t row, char **out, size_t *len, lsn_error *err)
{
    tomb_out o = { 0 };
    pg_arg a[] = { PG_INT(row) };
    lsn_err e = pg_query((pg_store *)b, PG_REL_TOMBSTONE_GET, a, 1, -1, tombstone_row, &o,
                         "reading a tombstone", err);
    if (e) {
        lsn_free(o.data);
        o = (tomb_out){ 0 };
    }
    *out = o.data;
    *len = o.len;
    return e;
}

const store_rel_ops pg_rel_ops = {
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
