/* store/pg_write.c — what the PostgreSQL store writes, on the writer
 * thread, and its side of the group-commit writer (writer_ops, writer.h).
 *
 * A group is one transaction on the writer's connection: BEGIN, then the
 * lock of the one row of store_lock (every writer of the database — each
 * node process, each administrative command — takes it first, so that the
 * audit head read next is the true one and the chain stays gapless and in
 * commit order), the group's statements, COMMIT (synchronous_commit = on:
 * it returns once the WAL is flushed). Items take the next ids after the
 * highest under that lock, so ids follow commit order across processes.
 * Organisations, users, channels and tokens are writer_apply functions. */
#include "store/pg_internal.h"
#include "store/pg_rel.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

/* ---- writer_ops ------------------------------------------------------------------ */

static lsn_err pw_begin(void *be, lsn_error *err)
{
    pg_store *s = be;
    /* A connection the server dropped (a restart) is made again here, at
     * the start of a group, never in the middle of one. */
    if (PQstatus(s->w.db) != CONNECTION_OK) {
        PQreset(s->w.db);
        memset(s->w.prepared, 0, sizeof s->w.prepared);
        if (PQstatus(s->w.db) != CONNECTION_OK)
            return pg_fail(&s->w, NULL, err, "reconnecting to PostgreSQL");
        lsn_err e = pg_exec(&s->w, "SET synchronous_commit = on; SET client_encoding = 'UTF8'",
                            "setting up the PostgreSQL session", err);
        if (e)
            return e;
    }
    s->items_added = 0;
    /* One round trip: the transaction and its lock. */
    return pg_exec(&s->w, "BEGIN; SELECT one FROM store_lock WHERE one = 1 FOR UPDATE",
                   "starting a transaction", err);
}

static lsn_err pw_audit_head(void *be, uint64_t *seq, uint8_t hash[STORE_HASH_LEN],
                             lsn_error *err)
{
    pg_store *s = be;
    PGresult *r;
    *seq = 0;
    memset(hash, 0, STORE_HASH_LEN);
    lsn_err e = pg_run(&s->w, PG_AUDIT_HEAD, NULL, 0, &r, "reading the audit log", err);
    if (e)
        return e;
    if (PQntuples(r) == 1) {
        *seq = (uint64_t)pg_col_int(r, 0, 0);
        pg_col_hash(r, 0, 1, hash);
    }
    PQclear(r);
    return LSN_OK;
}

/* COMMIT answers "ROLLBACK", without an error, for a transaction that an
 * error had already aborted: only "COMMIT" is a commit. */
static lsn_err pw_commit(void *be, lsn_error *err)
{
    pg_store *s = be;
    /* One notification per transaction, delivered at its commit: the
     * other node processes then read what follows their last item. */
    PGresult *r = PQexec(s->w.db, s->items_added ? "NOTIFY " PG_NOTIFY_CHANNEL "; COMMIT"
                                                 : "COMMIT");
    lsn_err e = LSN_OK;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        e = pg_fail(&s->w, r, err, "committing");
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
        e = core_fail(err, LSN_ERR_IO, "committing: the transaction was rolled back");
    PQclear(r);
    return e;
}

static void pw_rollback(void *be)
{
    pg_store *s = be;
    if (PQtransactionStatus(s->w.db) != PQTRANS_IDLE &&
        PQtransactionStatus(s->w.db) != PQTRANS_UNKNOWN)
        PQclear(PQexec(s->w.db, "ROLLBACK"));
    pg_class_cache_clear(s); /* classes it added are gone */
}

static lsn_err pw_savepoint(void *be, lsn_error *err)
{
    return pg_exec(&((pg_store *)be)->w, "SAVEPOINT w", "starting a savepoint", err);
}

static void pw_savepoint_end(void *be, bool undo)
{
    pg_store *s = be;
    if (undo) {
        PQclear(PQexec(s->w.db, "ROLLBACK TO SAVEPOINT w"));
        pg_class_cache_clear(s);
    }
    PQclear(PQexec(s->w.db, "RELEASE SAVEPOINT w"));
}

/* An error inside a savepoint leaves the transaction aborted but
 * recoverable (ROLLBACK TO): still in it. A lost connection is not. */
static bool pw_in_transaction(void *be)
{
    PGTransactionStatusType t = PQtransactionStatus(((pg_store *)be)->w.db);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/* ---- label classes ----------------------------------------------------------------- */

void pg_class_cache_clear(pg_store *s)
{
    for (size_t i = 0; i < PG_CLASS_SLOTS; i++) {
        lsn_free(s->classes[i].label);
        s->classes[i].label = NULL;
        s->classes[i].id = 0;
    }
}

/* The id of it's label class, added if new (in the open transaction), and
 * the digest of the class row's text that its seal covers (the row's
 * markings: its first item's). Remembered by label text. */
static lsn_err class_id(pg_store *s, const store_item *it, int64_t *id,
                        uint8_t digest[SEAL_LEN], lsn_error *err)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)it->label, strlen(it->label));
    struct pg_class_slot *slot = &s->classes[h[0] % PG_CLASS_SLOTS];
    if (slot->label && strcmp(slot->label, it->label) == 0) {
        *id = slot->id;
        memcpy(digest, slot->digest, SEAL_LEN);
        return LSN_OK;
    }
    PGresult *r;
    pg_arg find[] = { PG_HASH(h), PG_TEXT(it->label) };
    lsn_err e = pg_run(&s->w, PG_CLASS_ID, find, 2, &r, "finding a label class", err);
    if (e)
        return e;
    if (PQntuples(r) == 0) { /* new: added in this transaction */
        PQclear(r);
        pg_arg ins[] = { PG_HASH(h), PG_TEXT(it->label), PG_TEXT(it->marking_en),
                         PG_TEXT(it->marking_fr),
                         it->classification >= 0 ? PG_INT(it->classification) : PG_NULL };
        if ((e = pg_run(&s->w, PG_CLASS_INSERT, ins, 5, &r, "adding a label class", err)))
            return e;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        return core_fail(err, LSN_ERR_IO, "a label class vanished");
    }
    *id = pg_col_int(r, 0, 0);
    store_item row = { .class_id = *id, .label = it->label,
                       .marking_en = pg_col_text(r, 0, 1), .marking_fr = pg_col_text(r, 0, 2),
                       .classification = pg_col_null(r, 0, 3) ? -1 : (int)pg_col_int(r, 0, 3) };
    seal_class_digest(&row, digest);
    PQclear(r);
    char *copy = core_strdup(it->label);
    if (copy) { /* not remembered when out of memory: found again next time */
        lsn_free(slot->label);
        slot->label = copy;
        slot->id = *id;
        memcpy(slot->digest, digest, SEAL_LEN);
    }
    return LSN_OK;
}

/* ---- items and audit records ----------------------------------------------------------- */

/* writer_ops.insert_items: the run's items with their seals in one
 * pipeline (one round trip), ids after the highest (under the write lock);
 * classes found or added first; bindings and outbox entries after. */
static lsn_err pw_insert_items(void *be, writer_item *const *items, int k, lsn_error *err)
{
    pg_store *s = be;
    PGresult *r;
    lsn_err e = pg_run(&s->w, PG_ITEM_NEXT_ID, NULL, 0, &r, "appending an item", err);
    if (e)
        return e;
    int64_t first = pg_col_int(r, 0, 0);
    PQclear(r);
    s->items_added = 1;
    pg_arg args[WRITER_RUN_MAX][15];
    uint8_t mac[WRITER_RUN_MAX][SEAL_LEN];
    pg_pipe_stmt q[WRITER_RUN_MAX];
    for (int i = 0; i < k; i++) {
        writer_item *j = items[i];
        const store_item *it = j->item;
        int64_t cls = 0;
        uint8_t digest[SEAL_LEN];
        if ((e = class_id(s, it, &cls, digest, err)))
            return e;
        j->id = first + i;
        /* The seal, over the row as it will be stored, in the row. */
        seal_new_row(&s->keys, it, j->id, cls, j->uuid, j->created_ms, j->hash, digest,
                     &j->seal_digests, mac[i]);
        pg_arg *a = args[i];
        a[0] = PG_INT(j->id);
        a[1] = PG_BYTES(j->uuid, STORE_UUID_LEN);
        a[2] = PG_TEXT(it->channel);
        a[3] = PG_INT(cls);
        a[4] = PG_TEXT(it->author);
        a[5] = PG_TEXT(it->organisation);
        a[6] = PG_TEXT(it->body);
        a[7] = PG_TEXT(it->media_type);
        a[8] = it->media_type ? PG_BYTES(it->attachment, it->attachment ? it->attachment_len : 0)
                              : PG_NULL;
        a[9] = PG_INT(j->created_ms);
        a[10] = PG_HASH(j->hash);
        a[11] = PG_TEXT(it->media_type ? it->attachment_name : NULL);
        a[12] = PG_BYTES(j->seal_digests.body, SEAL_LEN);
        a[13] = PG_BYTES(j->seal_digests.attachment, SEAL_LEN);
        a[14] = PG_BYTES(mac[i], SEAL_LEN);
        /* An unknown channel inserts no row (the INSERT selects it). */
        q[i] = (pg_pipe_stmt){ .which = PG_ITEM_INSERT, .args = a, .n = 15, .rows = 1,
                               .doing = "appending an item",
                               .none = "it names an unknown channel" };
    }
    if ((e = pg_pipeline(&s->w, q, k, err)))
        return e;
    for (int i = 0; i < k; i++) {
        if ((e = pg_fed_item_written(s, items[i]->id, items[i]->item, err)))
            return e;
        /* A later version: its link, the row it supersedes, its request. */
        if ((e = pg_rel_item_written(s, items[i]->id, items[i]->item, items[i]->created_ms,
                                     err)))
            return e;
    }
    return LSN_OK;
}

/* writer_ops.insert_audit: the records in one pipeline. */
static lsn_err pw_insert_audit(void *be, const store_audit_event *const *evs, int n,
                               lsn_error *err)
{
    pg_store *s = be;
    pg_arg args[WRITER_RUN_MAX][8];
    pg_pipe_stmt q[WRITER_RUN_MAX];
    for (int done = 0; done < n;) {
        int m = n - done < WRITER_RUN_MAX ? n - done : WRITER_RUN_MAX;
        for (int i = 0; i < m; i++) {
            const store_audit_event *ev = evs[done + i];
            pg_arg *a = args[i];
            a[0] = PG_INT((int64_t)ev->seq);
            a[1] = PG_INT(ev->time_ms);
            a[2] = PG_TEXT(ev->actor);
            a[3] = PG_TEXT(ev->action);
            a[4] = PG_TEXT(ev->object);
            a[5] = PG_TEXT(ev->outcome);
            a[6] = PG_TEXT(ev->detail ? ev->detail : "");
            a[7] = PG_HASH(ev->hash);
            q[i] = (pg_pipe_stmt){ .which = PG_AUDIT_INSERT, .args = a, .n = 8, .rows = -1,
                                   .doing = "appending to the audit log" };
        }
        lsn_err e = pg_pipeline(&s->w, q, m, err);
        if (e)
            return e;
        done += m;
    }
    return LSN_OK;
}

const writer_ops pg_writer_ops = {
    .run_max = WRITER_RUN_MAX,
    .begin = pw_begin,
    .audit_head = pw_audit_head,
    .insert_items = pw_insert_items,
    .insert_audit = pw_insert_audit,
    .commit = pw_commit,
    .rollback = pw_rollback,
    .savepoint = pw_savepoint,
    .savepoint_end = pw_savepoint_end,
    .in_transaction = pw_in_transaction,
};

/* ---- the writing entries (the writer's: writer_append.c) ---------------------------------- */

lsn_err pg_item_append(store *b, const store_item *it, store_audit_event *post,
                       int64_t *id_out, uint8_t hash_out[STORE_HASH_LEN], lsn_error *err)
{
    return writer_item_append(&((pg_store *)b)->writer, it, post, id_out, hash_out, err);
}

lsn_err pg_item_append_async(store *b, const store_item *it, const store_audit_event *post,
                             store_append_cb done, void *ctx, lsn_error *err)
{
    return writer_item_append_async(&((pg_store *)b)->writer, it, post, done, ctx, err);
}

lsn_err pg_audit_append(store *b, store_audit_event *ev, lsn_error *err)
{
    return writer_audit_append(&((pg_store *)b)->writer, ev, err);
}

/* ---- organisations, users, channels, tokens --------------------------------------------- */

/* One statement, run in the next group; its RETURNING id, if any. */
typedef struct row_job {
    pg_stmt which;
    const char *doing;
    pg_arg args[10];
    int n;
    int must_change; /* 0 rows changed is "no such ..." (this sentence) */
    const char *none;
    int64_t id;
} row_job;

static lsn_err apply_row(void *be, void *arg, lsn_error *err)
{
    pg_store *s = be;
    row_job *j = arg;
    PGresult *r;
    lsn_err e = pg_run(&s->w, j->which, j->args, j->n, &r, j->doing, err);
    if (e)
        return e;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        j->id = pg_col_int(r, 0, 0);
    if (j->must_change && strtol(PQcmdTuples(r), NULL, 10) == 0)
        e = core_fail(err, LSN_ERR_ARG, "%s", j->none);
    PQclear(r);
    return e;
}

static lsn_err submit_row(pg_store *s, row_job *j, int64_t *id_out, lsn_error *err)
{
    lsn_err e = writer_apply(&s->writer, apply_row, j, err);
    if (id_out)
        *id_out = e ? 0 : j->id;
    return e;
}

lsn_err pg_org_add(store *b, const char *name, const char *category, int64_t *id_out,
                   lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("organisation name", name, STORE_FIELD_MAX, err)) ||
        (e = writer_need("organisation's category", category, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = PG_ORG_INSERT, .doing = "adding an organisation",
                  .args = { PG_TEXT(name), PG_TEXT(category) }, .n = 2 };
    return submit_row((pg_store *)b, &j, id_out, err);
}

lsn_err pg_channel_add(store *b, const char *name, const char *purpose, bool local,
                       int64_t *id_out, lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("channel name", name, STORE_FIELD_MAX, err)) ||
        (e = writer_need("channel purpose", purpose, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = PG_CHANNEL_INSERT, .doing = "adding a channel",
                  .args = { PG_TEXT(name), PG_TEXT(purpose), PG_INT(local ? 1 : 0) }, .n = 3 };
    return submit_row((pg_store *)b, &j, id_out, err);
}

lsn_err pg_user_add(store *b, const store_user *u, int64_t *id_out, lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("user name", u->name, STORE_FIELD_MAX, err)) ||
        (e = writer_need("user's organisation", u->organisation, STORE_FIELD_MAX, err)) ||
        (e = writer_need("user's clearance", u->clearance, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = PG_USER_INSERT, .doing = "adding a user",
                  .args = { PG_TEXT(u->name), PG_TEXT(u->organisation), PG_TEXT(u->clearance),
                            PG_INT((int64_t)u->roles), PG_HASH(u->token_hash),
                            PG_TEXT(u->password_hash) },
                  .n = 6 };
    return submit_row((pg_store *)b, &j, id_out, err);
}

lsn_err pg_user_update(store *b, const char *name, const store_user_change *ch,
                       lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("user name", name, STORE_FIELD_MAX, err)))
        return e;
    if (ch->status > STORE_USER_REMOVED)
        return core_fail(err, LSN_ERR_ARG, "no such status");
    if (!ch->cert_subject != !ch->cert_issuer)
        return core_fail(err, LSN_ERR_ARG, "a certificate subject needs its issuer");
    if (ch->cert_subject &&
        (e = writer_need("certificate subject", ch->cert_subject, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = PG_USER_UPDATE, .doing = "changing a user",
                  .args = { PG_TEXT(name), PG_TEXT(ch->password_hash),
                            ch->status >= 0 ? PG_INT(ch->status) : PG_NULL,
                            PG_TEXT(ch->clearance), ch->roles >= 0 ? PG_INT(ch->roles) : PG_NULL,
                            PG_HASH(ch->token_hash), PG_INT(ch->clear_cert ? 1 : 0),
                            PG_HASH(ch->cert_fingerprint), PG_TEXT(ch->cert_subject),
                            PG_HASH(ch->cert_issuer) },
                  .n = 10, .must_change = 1, .none = "no such user" };
    return submit_row((pg_store *)b, &j, NULL, err);
}

lsn_err pg_token_add(store *b, const store_token *t, const uint8_t hash[STORE_HASH_LEN],
                     lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("token's user", t->user, STORE_FIELD_MAX, err)) ||
        (e = writer_need("token's name", t->name, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = PG_TOKEN_INSERT, .doing = "adding a token",
                  .args = { PG_HASH(hash), PG_TEXT(t->user), PG_TEXT(t->name),
                            PG_INT(t->created_ms ? t->created_ms : writer_now_ms()),
                            t->expires_ms ? PG_INT(t->expires_ms) : PG_NULL },
                  .n = 5 };
    return submit_row((pg_store *)b, &j, NULL, err);
}

lsn_err pg_token_revoke(store *b, const char *user, const char *name, lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("token's user", user, STORE_FIELD_MAX, err)) ||
        (e = writer_need("token's name", name, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = PG_TOKEN_DELETE, .doing = "revoking a token",
                  .args = { PG_TEXT(user), PG_TEXT(name) }, .n = 2, .must_change = 1,
                  .none = "no such token" };
    return submit_row((pg_store *)b, &j, NULL, err);
}
