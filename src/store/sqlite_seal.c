/* store/sqlite_seal.c — the SQLite back-end's seals and audit anchor: the
 * item_seals table (schema version 4) and its move into the items' rows
 * (version 14), checking every item row as it is read (sq_seal_row, called
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
    if (!found) {
        /* Version 13 on: the seals are in the items' rows. */
        if (sqlite3_prepare_v2(db, "SELECT EXISTS(SELECT 1 FROM items WHERE mac IS NOT NULL)",
                               -1, &st, NULL) != SQLITE_OK)
            return 0; /* no such column: a store from before seals */
        found = sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return found;
    }
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

/* ---- schema step 14: the seal in the item's row ------------------------ */

/* The seals move into the items' rows (the append-only trigger is dropped
 * for the move, and made again); hidden marks get a MAC column. */
static const char schema_seal_row_head[] =
    "ALTER TABLE items ADD COLUMN body_digest BLOB;\n"
    "ALTER TABLE items ADD COLUMN attachment_digest BLOB;\n"
    "ALTER TABLE items ADD COLUMN mac BLOB;\n"
    "DROP TRIGGER items_no_update;\n"
    "UPDATE items SET body_digest = s.body_digest, attachment_digest = s.attachment_digest,\n"
    "  mac = s.mac FROM item_seals s WHERE s.item_id = items.id;\n"
    "ALTER TABLE item_hidden ADD COLUMN mac BLOB;\n"
    "DROP TRIGGER item_hidden_no_update;\n";
static const char schema_seal_row_tail[] =
    "CREATE TRIGGER items_no_update BEFORE UPDATE ON items BEGIN\n"
    "  SELECT RAISE(ABORT, 'items are append-only'); END;\n"
    "CREATE TRIGGER item_hidden_no_update BEFORE UPDATE ON item_hidden BEGIN\n"
    "  SELECT RAISE(ABORT, 'hidden rows stay hidden'); END;\n"
    "DROP TABLE item_seals;\n";

/* Each later version's seal made again over its link, when its old seal
 * (without the link) holds: one that fails keeps its seal, and still
 * fails. */
static lsn_err reseal_versions(sq_conn *c, const seal_keys *k, lsn_error *err)
{
    sqlite3_stmt *rd = NULL, *wr = NULL;
    lsn_err e = LSN_OK;
    if (!(rd = sq_prepare(c, SQ_ITEM_VERSIONED)) ||
        sqlite3_prepare_v2(c->db, "UPDATE items SET mac = ?2 WHERE id = ?1", -1, &wr, NULL) !=
            SQLITE_OK)
        e = sq_fail(c->db, err, "sealing the items' versions");
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(rd)) == SQLITE_ROW) {
        store_item it;
        sq_row_item_raw(rd, &it);
        seal_row row = { .present = 1 };
        sq_seal_cols(rd, &row);
        struct store_item_ver link = it.ver;
        it.ver = (struct store_item_ver){ .version = 1 };
        if (seal_check(k, &it, SEAL_FULL, &row) != NULL || link.version < 2)
            continue;
        it.ver = link;
        seal_digests d;
        uint8_t cls[SEAL_LEN], mac[SEAL_LEN];
        memcpy(d.body, row.body, SEAL_LEN);
        memcpy(d.attachment, row.attachment, SEAL_LEN);
        seal_class_digest(&it, cls);
        seal_mac(k, &it, cls, &d, mac);
        sqlite3_bind_int64(wr, 1, it.id);
        sqlite3_bind_blob(wr, 2, mac, SEAL_LEN, SQLITE_STATIC);
        if (sqlite3_step(wr) != SQLITE_DONE)
            e = sq_fail(c->db, err, "sealing the items' versions");
        sqlite3_reset(wr);
    }
    if (!e && rc != SQLITE_DONE)
        e = sq_fail(c->db, err, "sealing the items' versions");
    if (rd)
        sqlite3_reset(rd);
    sqlite3_finalize(wr);
    return e;
}

/* Every hidden mark sealed as it is (as version 4 sealed the items: the
 * store cannot know whether one was altered before). */
static lsn_err seal_hidden_marks(sq_conn *c, const seal_keys *k, lsn_error *err)
{
    sqlite3_stmt *rd = NULL, *wr = NULL;
    lsn_err e = LSN_OK;
    if (sqlite3_prepare_v2(c->db, "SELECT row_id, why, time_ms FROM item_hidden", -1, &rd,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "UPDATE item_hidden SET mac = ?2 WHERE row_id = ?1", -1,
                           &wr, NULL) != SQLITE_OK)
        e = sq_fail(c->db, err, "sealing the hidden rows");
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(rd)) == SQLITE_ROW) {
        uint8_t mac[SEAL_LEN];
        int64_t row = sqlite3_column_int64(rd, 0);
        seal_hidden_mac(k, row, (const char *)sqlite3_column_text(rd, 1),
                        sqlite3_column_int64(rd, 2), mac);
        sqlite3_bind_int64(wr, 1, row);
        sqlite3_bind_blob(wr, 2, mac, SEAL_LEN, SQLITE_STATIC);
        if (sqlite3_step(wr) != SQLITE_DONE)
            e = sq_fail(c->db, err, "sealing the hidden rows");
        sqlite3_reset(wr);
    }
    if (!e && rc != SQLITE_DONE)
        e = sq_fail(c->db, err, "sealing the hidden rows");
    sqlite3_finalize(rd);
    sqlite3_finalize(wr);
    return e;
}

lsn_err sq_seal_schema_row(sq_conn *c, const seal_keys *k, int version, lsn_error *err)
{
    char pragma[40];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
    lsn_err e = LSN_OK;
    if (sqlite3_exec(c->db, schema_seal_row_head, NULL, NULL, NULL) != SQLITE_OK)
        e = sq_fail(c->db, err, "moving the seals into the items' rows");
    if (!e)
        e = reseal_versions(c, k, err);
    if (!e)
        e = seal_hidden_marks(c, k, err);
    if (!e && (sqlite3_exec(c->db, schema_seal_row_tail, NULL, NULL, NULL) != SQLITE_OK ||
               sqlite3_exec(c->db, pragma, NULL, NULL, NULL) != SQLITE_OK))
        e = sq_fail(c->db, err, "moving the seals into the items' rows");
    return e;
}

/* ---- the alarm (alarm.c, the same for every back-end) ------------------ */

static void raise_alarm(sq_store *s, const store_item *it, const char *why)
{
    store_alarm_raise(&s->base, &s->writer, it, why);
}

/* ---- checking rows as they are read ------------------------------------- */

void sq_seal_cols(sqlite3_stmt *st, seal_row *row)
{
    row->present = sqlite3_column_type(st, SQ_SEAL_COL + 2) != SQLITE_NULL;
    /* A column of the wrong size (a tampered file) reads as zeros beyond
     * its end, and fails. */
    uint8_t *to[3] = { row->body, row->attachment, row->mac };
    for (int i = 0; i < 3; i++) {
        const void *b = sqlite3_column_blob(st, SQ_SEAL_COL + i);
        int n = sqlite3_column_bytes(st, SQ_SEAL_COL + i);
        memset(to[i], 0, SEAL_LEN);
        if (b && n > 0)
            memcpy(to[i], b, n < SEAL_LEN ? (size_t)n : SEAL_LEN);
    }
}

int sq_seal_row(sq_store *s, sqlite3_stmt *st, const store_item *it, seal_level level)
{
    seal_row row = { 0 };
    sq_seal_cols(st, &row);
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
