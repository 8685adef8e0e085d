/* store/sqlite_writer.c — the SQLite side of the group-commit writer: its
 * writer_ops (writer.h). A group is one `BEGIN IMMEDIATE … COMMIT` on the
 * writer's connection; before the COMMIT, one statement adds the group's
 * item bodies to the full-text index (sq_fts_index). With WAL and
 * synchronous=FULL the COMMIT fsync()s the WAL. The queue, the grouping,
 * the audit chain's head and the completions are the writer's (writer.c). */
#include "store/sqlite_internal.h"

#include <string.h>

static int step_done(sq_conn *c, sq_stmt which)
{
    sqlite3_stmt *st = sq_prepare(c, which);
    if (!st)
        return 0;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

static lsn_err sw_begin(void *be, lsn_error *err)
{
    sq_store *s = be;
    s->fts_from = 0; /* no item inserted by this transaction yet */
    s->next_id = 0;
    s->cfts_open = 0;
    s->class_added = 0;
    if (step_done(&s->w, SQ_BEGIN))
        return LSN_OK;
    return sq_fail(s->w.db, err, "starting a transaction");
}

static lsn_err sw_audit_head(void *be, uint64_t *seq, uint8_t hash[STORE_HASH_LEN],
                             lsn_error *err)
{
    sq_store *s = be;
    sqlite3_stmt *st = sq_prepare(&s->w, SQ_AUDIT_HEAD);
    if (!st)
        return sq_fail(s->w.db, err, "reading the audit log");
    int rc = sqlite3_step(st);
    *seq = 0; /* an empty log: the chain starts at zero */
    memset(hash, 0, STORE_HASH_LEN);
    if (rc == SQLITE_ROW) {
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        /* A hash of another size (only a tampered file has one) reads as
         * zeros beyond its end: the chain then fails to verify. */
        const void *b = sqlite3_column_blob(st, 1);
        int n = sqlite3_column_bytes(st, 1);
        if (b && n > 0)
            memcpy(hash, b, n < STORE_HASH_LEN ? (size_t)n : STORE_HASH_LEN);
    }
    lsn_err e = LSN_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = sq_fail(s->w.db, err, "reading the audit log");
    sqlite3_reset(st);
    return e;
}

/* The full-text index of the group's items, in the same transaction, then
 * the COMMIT: if either fails, nothing of the group is committed. */
static lsn_err sw_commit(void *be, lsn_error *err)
{
    sq_store *s = be;
    lsn_err e = sq_fts_index(s, err);
    if (e)
        return e;
    if (!step_done(&s->w, SQ_COMMIT))
        return sq_fail(s->w.db, err, "committing");
    /* A failure here (a read of one index) leaves the old value: the new
     * classes' items are then listed after the next commit that adds one. */
    lsn_error ignored;
    if (s->class_added)
        (void)sq_class_max_load(s, &ignored);
    return LSN_OK;
}

static void sw_rollback(void *be)
{
    sq_store *s = be;
    if (!sqlite3_get_autocommit(s->w.db))
        (void)step_done(&s->w, SQ_ROLLBACK);
    sq_class_cache_clear(s); /* classes it added are gone */
}

static lsn_err sw_savepoint(void *be, lsn_error *err)
{
    sq_store *s = be;
    if (step_done(&s->w, SQ_SAVEPOINT))
        return LSN_OK;
    return sq_fail(s->w.db, err, "starting a savepoint");
}

static void sw_savepoint_end(void *be, bool undo)
{
    sq_store *s = be;
    if (undo) {
        (void)step_done(&s->w, SQ_ROLLBACK_TO);
        sq_class_cache_clear(s);
        s->next_id = 0; /* its items' ids are free again */
    }
    (void)step_done(&s->w, SQ_RELEASE);
}

static bool sw_in_transaction(void *be)
{
    sq_store *s = be;
    return !sqlite3_get_autocommit(s->w.db);
}

const writer_ops sq_writer_ops = {
    .run_max = SQ_BATCH_MAX,
    .begin = sw_begin,
    .audit_head = sw_audit_head,
    .insert_items = sq_insert_items,
    .insert_audit = sq_insert_audit,
    .commit = sw_commit,
    .rollback = sw_rollback,
    .savepoint = sw_savepoint,
    .savepoint_end = sw_savepoint_end,
    .in_transaction = sw_in_transaction,
};
