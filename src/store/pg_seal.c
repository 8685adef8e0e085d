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
    lsn_err e = pg_run(&s->w, PG_SEALS_WHERE, NULL, 0, &r, "reading the seals", err);
    if (e)
        return e;
    pg_stmt q = PQntuples(r) != 1                ? PG_SEALS_WHERE
                : pg_col_int(r, 0, 1)            ? PG_HAS_SEALS_ROW
                : pg_col_int(r, 0, 0)            ? PG_HAS_SEALS_TABLE
                                                 : PG_NSTMT; /* a new database */
    PQclear(r);
    int sealed = q != PG_NSTMT;
    if (q == PG_HAS_SEALS_ROW || q == PG_HAS_SEALS_TABLE) {
        if ((e = pg_run(&s->w, q, NULL, 0, &r, "reading the seals", err)))
            return e;
        sealed = PQntuples(r) != 1 || pg_col_int(r, 0, 0) != 0;
        PQclear(r);
    }
    int created;
    return seal_keys_load(s->key_path, !sealed, &s->keys, &created, err);
}

lsn_err pg_seal_schema_row(pg_conn *c, const seal_keys *k, lsn_error *err)
{
    PGresult *r;
    lsn_err e = pg_run(c, PG_ITEM_VERSIONED, NULL, 0, &r, "sealing the items' versions", err);
    for (int i = 0; !e && i < PQntuples(r); i++) {
        store_item it;
        pg_row_item_raw(r, i, &it);
        seal_row sr = { .present = !pg_col_null(r, i, PG_SEAL_COL + 2) };
        pg_col_hash(r, i, PG_SEAL_COL, sr.body);
        pg_col_hash(r, i, PG_SEAL_COL + 1, sr.attachment);
        pg_col_hash(r, i, PG_SEAL_COL + 2, sr.mac);
        struct store_item_ver link = it.ver;
        it.ver = (struct store_item_ver){ .version = 1 };
        /* One that fails keeps its seal, and still fails. */
        if (link.version < 2 || seal_check(k, &it, SEAL_FULL, &sr) != NULL)
            continue;
        it.ver = link;
        seal_digests d;
        uint8_t cls[SEAL_LEN], mac[SEAL_LEN];
        memcpy(d.body, sr.body, SEAL_LEN);
        memcpy(d.attachment, sr.attachment, SEAL_LEN);
        seal_class_digest(&it, cls);
        seal_mac(k, &it, cls, &d, mac);
        PGresult *w;
        pg_arg a[] = { PG_INT(it.id), PG_BYTES(mac, SEAL_LEN) };
        if (!(e = pg_run(c, PG_ITEM_RESEAL, a, 2, &w, "sealing the items' versions", err)))
            PQclear(w);
    }
    PQclear(r);
    if (e || (e = pg_run(c, PG_HIDDEN_ALL, NULL, 0, &r, "sealing the hidden rows", err)))
        return e;
    for (int i = 0; !e && i < PQntuples(r); i++) {
        uint8_t mac[SEAL_LEN];
        int64_t row = pg_col_int(r, i, 0);
        seal_hidden_mac(k, row, pg_col_text(r, i, 1), pg_col_int(r, i, 2), mac);
        PGresult *w;
        pg_arg a[] = { PG_INT(row), PG_BYTES(mac, SEAL_LEN) };
        if (!(e = pg_run(c, PG_HIDDEN_SEAL, a, 2, &w, "sealing the hidden rows", err)))
            PQclear(w);
    }
    PQclear(r);
    return e;
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
