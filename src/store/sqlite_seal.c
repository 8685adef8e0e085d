/* store/sqlite_seal.c — the SQLite back-end's seals and audit anchor: the
 * item_seals table (schema version 4), sealing items in the writer's
 * transaction, checking every item row as it is read (sq_seal_row, called
 * from row_item of store_sqlite.c, which every item read goes through) and
 * that a restricted read's row is of what it asked for (sq_seal_asked), the
 * alarm for an item that fails, and the anchor's check at open (the
 * group-commit writer notes each new head to it: after_commit, writer.c).
 * The MAC and key are seal.c's, the anchor's file anchor.c's. */
#include "store/sqlite_internal.h"
#include "store/alarm.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"

/* Schema version 4: one seal per item, append-only like the items. No
 * foreign key: a seal is checked against its item's row when read, and a
 * missing item is what `store_verify` reports. */
static const char schema_v3_to_v4[] =
    "CREATE TABLE item_seals(\n"
    "  item_id INTEGER PRIMARY KEY,\n"
    "  body_digest BLOB NOT NULL CHECK (length(body_digest) = 32),\n"
    "  attachment_digest BLOB NOT NULL CHECK (length(attachment_digest) = 32),\n"
    "  mac BLOB NOT NULL CHECK (length(mac) = 32));\n"
    "CREATE TRIGGER item_seals_no_update BEFORE UPDATE ON item_seals BEGIN\n"
    "  SELECT RAISE(ABORT, 'seals are append-only'); END;\n"
    "CREATE TRIGGER item_seals_no_delete BEFORE DELETE ON item_seals BEGIN\n"
    "  SELECT RAISE(ABORT, 'seals are append-only'); END;\n"
    "PRAGMA user_version = 4;\n";

/* ---- the key -------------------------------------------------------------- */

/* Whether the database already holds seals (made with a key that must not
 * be replaced by a new one). */
static int has_seals(sqlite3 *db)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'item_seals'",
                           -1, &st, NULL) != SQLITE_OK)
        return 1; /* cannot tell: do not make a key */
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!found)
        return 0;
    if (sqlite3_prepare_v2(db, "SELECT EXISTS(SELECT 1 FROM item_seals)", -1, &st, NULL) !=
        SQLITE_OK)
        return 1;
    found = sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return found;
}

lsn_err sq_seal_open(sq_store *s, lsn_error *err)
{
    int created;
    /* A store whose items are sealed needs its own key back: a new one
     * would make every item fail. Only a store without seals gets one. */
    return seal_keys_load(s->path, !has_seals(s->w.db), &s->keys, &created, err);
}

/* ---- schema step: seal what is there ----------------------------------- */

lsn_err sq_seal_schema_v4(sq_conn *c, const seal_keys *k, lsn_error *err)
{
    if (sqlite3_exec(c->db, schema_v3_to_v4, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(c->db, err, "adding the items' seals");
    /* Items stored before seals existed are sealed as they are now: the
     * store cannot know whether they were altered before (documented in
     * docs/STORE.md). */
    sqlite3_stmt *rd = sq_prepare(c, SQ_ITEM_TO_SEAL), *wr = NULL;
    lsn_err e = LSN_OK;
    if (!rd ||
        sqlite3_prepare_v2(c->db,
                           "INSERT INTO item_seals(item_id, body_digest, attachment_digest, "
                           "mac) VALUES (?1,?2,?3,?4)",
                           -1, &wr, NULL) != SQLITE_OK) {
        e = sq_fail(c->db, err, "sealing the stored items");
    }
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(rd)) == SQLITE_ROW) {
        store_item it;
        sq_row_item_raw(rd, &it);
        seal_digests d;
        uint8_t cls[SEAL_LEN], mac[SEAL_LEN];
        seal_digest(&it, &d);
        seal_class_digest(&it, cls);
        seal_mac(k, &it, cls, &d, mac);
        sqlite3_bind_int64(wr, 1, it.id);
        sqlite3_bind_blob(wr, 2, d.body, SEAL_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(wr, 3, d.attachment, SEAL_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(wr, 4, mac, SEAL_LEN, SQLITE_STATIC);
        if (sqlite3_step(wr) != SQLITE_DONE)
            e = sq_fail(c->db, err, "sealing the stored items");
        sqlite3_reset(wr);
    }
    if (!e && rc != SQLITE_DONE)
        e = sq_fail(c->db, err, "sealing the stored items");
    if (rd)
        sqlite3_reset(rd);
    sqlite3_finalize(wr);
    return e;
}

/* ---- sealing on append ---------------------------------------------------- */

lsn_err sq_seal_insert(sq_store *s, const sq_sealing *in, int n, lsn_error *err)
{
    sqlite3_stmt *st = sq_batch_stmt(s, SQ_BATCH_SEALS, n);
    if (!st)
        return sq_fail(s->w.db, err, "sealing an item");
    uint8_t mac[SQ_BATCH_MAX][SEAL_LEN];
    for (int i = 0; i < n; i++) {
        store_item it = *in[i].item;
        it.id = in[i].id;
        it.class_id = in[i].class_id;
        memcpy(it.uuid, in[i].uuid, STORE_UUID_LEN);
        it.created_ms = in[i].created_ms;
        if (!it.media_type)
            it.attachment_len = 0;
        memcpy(it.content_hash, in[i].content_hash, STORE_HASH_LEN);
        seal_mac(&s->keys, &it, in[i].class_digest, in[i].dig, mac[i]);
        sqlite3_bind_int64(st, 4 * i + 1, it.id);
        sqlite3_bind_blob(st, 4 * i + 2, in[i].dig->body, SEAL_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4 * i + 3, in[i].dig->attachment, SEAL_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4 * i + 4, mac[i], SEAL_LEN, SQLITE_STATIC);
    }
    lsn_err e = LSN_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        e = sq_fail(s->w.db, err, "sealing an item");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

/* ---- the alarm (alarm.c, the same for every back-end) ------------------ */

static void raise_alarm(sq_store *s, const store_item *it, const char *why)
{
    store_alarm_raise(&s->base, &s->writer, it, why);
}

/* ---- checking rows as they are read ------------------------------------- */

int sq_seal_row(sq_store *s, sqlite3_stmt *st, const store_item *it, seal_level level)
{
    seal_row row = { 0 };
    row.present = sqlite3_column_type(st, SQ_SEAL_COL + 2) != SQLITE_NULL;
    /* A column of the wrong size (a tampered file) reads as zeros beyond
     * its end, and fails. */
    uint8_t *to[3] = { row.body, row.attachment, row.mac };
    for (int i = 0; i < 3; i++) {
        const void *b = sqlite3_column_blob(st, SQ_SEAL_COL + i);
        int n = sqlite3_column_bytes(st, SQ_SEAL_COL + i);
        if (b && n > 0)
            memcpy(to[i], b, n < SEAL_LEN ? (size_t)n : SEAL_LEN);
    }
    const char *why = seal_check(&s->keys, it, level, &row);
    if (!why)
        return 1;
    raise_alarm(s, it, why);
    return 0;
}

/* A restricted read finds its rows through indexes (the full-text index's
 * class and channel tokens, the (channel, class, id) index) and reads each
 * row by id: an index altered in the file could hand it a row of another
 * class or channel, whose seal is intact. So the row itself must be of
 * what was asked. */
int sq_seal_asked(sq_store *s, const store_item *it, const char *channel,
                  const store_classes *vis)
{
    return store_alarm_asked(&s->base, &s->writer, it, channel, vis);
}

/* ---- the anchor ---------------------------------------------------------- */

lsn_err sq_anchor_read(store *b, store_anchor *out, lsn_error *err)
{
    sq_store *s = (sq_store *)b;
    return anchor_read(s->path, s->keys.sign_pk, out, err);
}

/* The stored hash of audit record `seq`; 0 if there is none. */
static int stored_hash(void *ctx, uint64_t seq, uint8_t out[STORE_HASH_LEN])
{
    sqlite3 *db = ((sq_store *)ctx)->w.db;
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT hash FROM audit WHERE seq = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == STORE_HASH_LEN) {
        memcpy(out, sqlite3_column_blob(st, 0), STORE_HASH_LEN);
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

lsn_err sq_seal_anchor_start(sq_store *s, lsn_error *err)
{
    return anchor_check_start(s->path, &s->keys, sq_writer_ops.audit_head, stored_hash, s,
                              &s->anchor, err);
}

void sq_seal_close(sq_store *s)
{
    anchor_writer_stop(s->anchor);
    s->anchor = NULL;
    seal_keys_wipe(&s->keys);
}
