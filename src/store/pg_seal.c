/* store/pg_seal.c — the PostgreSQL back-end's seals and audit anchor: the
 * key (KEY_DIR/postgresql.key: outside the database, as SQLite's beside
 * its file; the writer seals each item: pg_write.c), checking every
 * item row as it is read (pg_seal_row, from row_item of store_pg.c), and
 * the anchor (KEY_DIR/postgresql.anchor) checked at open. The MAC and key
 * are seal.c's, the anchor's file anchor.c's, the alarm alarm.c's. */
#include "store/pg_internal.h"
#include "store/alarm.h"

#include <string.h>

#include "core/error.h"

lsn_err pg_seal_open(pg_store *s, lsn_error *err)
{
    /* A store whose items are sealed needs its own key back: a new one
     * would make every item fail. Only a store without seals gets one. */
    PGresult *r;
    lsn_err e = pg_run(&s->w, PG_HAS_SEALS, NULL, 0, &r, "reading the seals", err);
    if (e)
        return e;
    int sealed = PQntuples(r) != 1 || pg_col_int(r, 0, 0) != 0;
    PQclear(r);
    int created;
    return seal_keys_load(s->key_path, !sealed, &s->keys, &created, err);
}

int pg_seal_row(pg_store *s, const PGresult *r, int row, const store_item *it,
                seal_level level)
{
    seal_row sr = { 0 };
    sr.present = !pg_col_null(r, row, PG_SEAL_COL + 2);
    pg_col_hash(r, row, PG_SEAL_COL, sr.body);
    pg_col_hash(r, row, PG_SEAL_COL + 1, sr.attachment);
    pg_col_hash(r, row, PG_SEAL_COL + 2, sr.mac);
    const char *why = seal_check(&s->keys, it, level, &sr);
    if (!why)
        return 1;
    store_alarm_raise(&s->base, &s->writer, it, why);
    return 0;
}

int pg_seal_asked(pg_store *s, const store_item *it, const char *channel,
                  const store_classes *vis)
{
    return store_alarm_asked(&s->base, &s->writer, it, channel, vis);
}

lsn_err pg_anchor_read(store *b, store_anchor *out, lsn_error *err)
{
    pg_store *s = (pg_store *)b;
    return anchor_read(s->key_path, s->keys.sign_pk, out, err);
}

static int stored_hash(void *ctx, uint64_t seq, uint8_t out[STORE_HASH_LEN])
{
    pg_store *s = ctx;
    PGresult *r;
    lsn_error err;
    pg_arg a[] = { PG_INT((int64_t)seq) };
    if (pg_run(&s->w, PG_AUDIT_HASH_AT, a, 1, &r, "reading the audit log", &err))
        return 0;
    int found = PQntuples(r) == 1 && PQgetlength(r, 0, 0) == STORE_HASH_LEN;
    if (found)
        memcpy(out, PQgetvalue(r, 0, 0), STORE_HASH_LEN);
    PQclear(r);
    return found;
}

lsn_err pg_seal_anchor_start(pg_store *s, lsn_error *err)
{
    return anchor_check_start(s->key_path, &s->keys, pg_writer_ops.audit_head, stored_hash, s,
                              &s->anchor, err);
}

void pg_seal_close(pg_store *s)
{
    anchor_writer_stop(s->anchor);
    s->anchor = NULL;
    seal_keys_wipe(&s->keys);
}
