/* store/pg_fedrel.c — the PostgreSQL back-end's part for the signed release
 * messages exchanged with peers (store_fedrel.h), as sqlite_fedrel.c is
 * SQLite's: writes on the writer (one transaction each), reads on the
 * reader pool. The table is schema version 12 (pg_fedrel.h). */
#include "store/pg_internal.h"
#include "store/pg_fedrel.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/store_fedrel.h"

typedef struct put_job {
    const store_fed_msg *m;
    bool added;
} put_job;

static lsn_err apply_put(void *be, void *arg, lsn_error *err)
{
    put_job *j = arg;
    pg_store *s = be;
    pg_arg a[] = { PG_TEXT(j->m->peer), PG_INT(j->m->outgoing ? 1 : 0),
                   PG_BYTES(j->m->rid, STORE_UUID_LEN), PG_TEXT(j->m->kind),
                   PG_TEXT(j->m->message), PG_INT(j->m->time_ms) };
    PGresult *r;
    lsn_err e = pg_run(&s->w, PG_FEDREL_INSERT, a, 6, &r, "keeping a release message", err);
    if (!e)
        j->added = strtol(PQcmdTuples(r), NULL, 10) == 1;
    PQclear(r);
    return e;
}

static lsn_err fedrel_put(store *b, const store_fed_msg *m, bool *added, lsn_error *err)
{
    *added = false;
    if (!m->peer || !m->kind || !m->message)
        return core_fail(err, LSN_ERR_ARG, "a release message needs its peer, kind and text");
    put_job j = { .m = m };
    lsn_err e = writer_apply(&((pg_store *)b)->writer, apply_put, &j, err);
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
    pg_arg a[] = { PG_INT(j->id), PG_INT(j->done_ms), PG_TEXT(j->result ? j->result : "") };
    PGresult *r;
    lsn_err e = pg_run(&((pg_store *)be)->w, PG_FEDREL_DONE, a, 3, &r,
                       "noting a release message's answer", err);
    PQclear(r);
    return e;
}

static lsn_err fedrel_done(store *b, int64_t id, int64_t done_ms, const char *result,
                           lsn_error *err)
{
    done_job j = { id, done_ms, result };
    return writer_apply(&((pg_store *)b)->writer, apply_done, &j, err);
}

typedef struct list_ctx {
    store_fed_msg_cb cb;
    void *ctx;
} list_ctx;

static int msg_row(void *ctx, const PGresult *r, int i)
{
    list_ctx *x = ctx;
    store_fed_msg m = {
        .id = pg_col_int(r, i, 0), .peer = pg_col_text(r, i, 1),
        .outgoing = pg_col_int(r, i, 2) != 0, .kind = pg_col_text(r, i, 4),
        .message = pg_col_text(r, i, 5), .time_ms = pg_col_int(r, i, 6),
        .done_ms = pg_col_int(r, i, 7), .result = pg_col_text_or_null(r, i, 8),
    };
    if (pg_col_null(r, i, 3) || PQgetlength(r, i, 3) != STORE_UUID_LEN)
        return -1;
    memcpy(m.rid, PQgetvalue(r, i, 3), STORE_UUID_LEN);
    return x->cb(x->ctx, &m);
}

static lsn_err fedrel_list(store *b, const char *peer, store_fedrel_which which,
                           const uint8_t *rid, store_fed_msg_cb cb, void *ctx, lsn_error *err)
{
    list_ctx x = { cb, ctx };
    pg_arg a[] = { PG_TEXT(peer), PG_INT((int64_t)which),
                   rid ? PG_BYTES(rid, STORE_UUID_LEN) : PG_NULL };
    return pg_query((pg_store *)b, PG_FEDREL_LIST, a, 3, -1, msg_row, &x,
                    "reading release messages", err);
}

const store_fedrel_ops pg_fedrel_ops = {
    .put = fedrel_put,
    .list = fedrel_list,
    .done = fedrel_done,
};
