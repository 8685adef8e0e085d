/* store/sqlite_write.c — what the SQLite store writes, on the writer thread:
 * a run of items with one multi-row INSERT (finding or adding each one's
 * label class), audit records with another, the full-text index of a
 * group's bodies (sq_fts_index), and organisations, users and channels
 * (writer_apply functions). The writing entries of its store_ops are the
 * writer's (writer_append.c), checked on the caller's thread; the group,
 * its transaction and the audit chain's head are the writer's (writer.c,
 * sqlite_writer.c). */
#include "store/sqlite_internal.h"
#include "store/sqlite_fed.h"
#include "store/sqlite_rel.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

/* ---- writes (run on the writer thread) ------------------------------- */

static lsn_err step_insert(sq_conn *c, sqlite3_stmt *st, const char *doing, lsn_error *err)
{
    lsn_err e = LSN_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        e = sq_fail(c->db, err, doing);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

/* Bind ev's 8 values of an audit row from parameter base + 1 on. */
static void bind_audit(sqlite3_stmt *st, int base, const store_audit_event *ev)
{
    sqlite3_bind_int64(st, base + 1, (sqlite3_int64)ev->seq);
    sqlite3_bind_int64(st, base + 2, ev->time_ms);
    sqlite3_bind_text(st, base + 3, ev->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 4, ev->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 5, ev->object, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 6, ev->outcome, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 7, ev->detail ? ev->detail : "", -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, base + 8, ev->hash, STORE_HASH_LEN, SQLITE_STATIC);
}

void sq_class_cache_clear(sq_store *s)
{
    for (size_t i = 0; i < SQ_CLASS_SLOTS; i++) {
        lsn_free(s->classes[i].label);
        s->classes[i].label = NULL;
        s->classes[i].id = 0;
        lsn_free(s->closed[i].channel);
        s->closed[i].channel = NULL;
    }
}

/* The slot of a (class, channel) pair in s->closed. */
static struct sq_pair_slot *pair_slot(sq_store *s, int64_t class_id, const char *channel)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)class_id;
    for (const unsigned char *c = (const unsigned char *)channel; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return &s->closed[h % SQ_CLASS_SLOTS];
}

static int pair_closed(sq_store *s, int64_t class_id, const char *channel)
{
    struct sq_pair_slot *p = pair_slot(s, class_id, channel);
    return p->channel && p->class_id == class_id && strcmp(p->channel, channel) == 0;
}

/* Remember the pairs past the cap (after the group's counts). */
static lsn_err learn_closed(sq_store *s, lsn_error *err)
{
    sqlite3_stmt *st = sq_prepare(&s->w, SQ_CFTS_CLOSED);
    if (!st)
        return sq_fail(s->w.db, err, "reading the counts by class");
    sqlite3_bind_int64(st, 1, SQ_CFTS_PAIR_MAX);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *ch = (const char *)sqlite3_column_text(st, 1);
        if (!ch || pair_closed(s, id, ch))
            continue;
        char *copy = core_strdup(ch);
        if (!copy)
            continue; /* not remembered: its statements run, as before */
        struct sq_pair_slot *p = pair_slot(s, id, ch);
        lsn_free(p->channel);
        p->channel = copy;
        p->class_id = id;
    }
    lsn_err e = rc == SQLITE_DONE ? LSN_OK : sq_fail(s->w.db, err, "reading the counts by class");
    sqlite3_reset(st);
    return e;
}

/* FNV-1a: a slot index (the slot's label is compared in full). */
static size_t class_slot(const char *label)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *c = (const unsigned char *)label; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return (size_t)(h % SQ_CLASS_SLOTS);
}

/* The id of it's label class, added if new (in the open transaction),
 * and the digest of the class row's text that its seal covers: the row's
 * markings, which are the first item's of the label (a later item of the
 * same label is shown with them). Remembered by label text, so that the
 * usual append costs no statement. */
static lsn_err class_id(sq_store *s, const store_item *it, int64_t *id,
                        uint8_t digest[SEAL_LEN], lsn_error *err)
{
    struct sq_class_slot *slot = &s->classes[class_slot(it->label)];
    if (slot->label && strcmp(slot->label, it->label) == 0) {
        *id = slot->id;
        memcpy(digest, slot->digest, SEAL_LEN);
        return LSN_OK;
    }
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_CLASS_INSERT);
    if (!st)
        return sq_fail(c->db, err, "adding a label class");
    sqlite3_bind_text(st, 1, it->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, it->marking_en, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, it->marking_fr, -1, SQLITE_STATIC);
    if (it->classification >= 0)
        sqlite3_bind_int(st, 4, it->classification);
    lsn_err e = step_insert(c, st, "adding a label class", err);
    if (e)
        return e;
    int added = sqlite3_changes(c->db) > 0;
    if (!(st = sq_prepare(c, SQ_CLASS_ID)))
        return sq_fail(c->db, err, "finding a label class");
    sqlite3_bind_text(st, 1, it->label, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        e = rc == SQLITE_DONE ? core_fail(err, LSN_ERR_IO, "a label class vanished")
                              : sq_fail(c->db, err, "finding a label class");
        sqlite3_reset(st);
        return e;
    }
    *id = sqlite3_column_int64(st, 0);
    store_item row = { .class_id = *id, .label = it->label,
                       .marking_en = (const char *)sqlite3_column_text(st, 1),
                       .marking_fr = (const char *)sqlite3_column_text(st, 2),
                       .classification = sqlite3_column_type(st, 3) == SQLITE_NULL
                                             ? -1 : sqlite3_column_int(st, 3) };
    seal_class_digest(&row, digest);
    sqlite3_reset(st);
    if (added)
        s->class_added = 1; /* readers learn of it after the COMMIT */
    char *copy = core_strdup(it->label);
    if (copy) { /* not remembered when out of memory: found again next time */
        lsn_free(slot->label);
        slot->label = copy;
        slot->id = *id;
        memcpy(slot->digest, digest, SEAL_LEN);
    }
    return LSN_OK;
}

/* Bind j's 15 values of an items row from parameter base + 1 on: the row
 * with its id and its seal (digests and MAC). */
static void bind_item(sqlite3_stmt *st, int base, const writer_item *j, int64_t class_id,
                      const uint8_t mac[SEAL_LEN])
{
    const store_item *it = j->item;
    sqlite3_bind_int64(st, base + 1, j->id);
    sqlite3_bind_blob(st, base + 2, j->uuid, STORE_UUID_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 3, it->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, base + 4, class_id);
    sqlite3_bind_text(st, base + 5, it->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 6, it->organisation, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 7, it->body, -1, SQLITE_STATIC);
    if (it->media_type) {
        sqlite3_bind_text(st, base + 8, it->media_type, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, base + 9,
                            it->attachment ? (const void *)it->attachment : "",
                            it->attachment ? it->attachment_len : 0, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, base + 10, j->created_ms);
    sqlite3_bind_blob(st, base + 11, j->hash, STORE_HASH_LEN, SQLITE_STATIC);
    if (it->media_type && it->attachment_name)
        sqlite3_bind_text(st, base + 12, it->attachment_name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, base + 13, j->seal_digests.body, SEAL_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, base + 14, j->seal_digests.attachment, SEAL_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, base + 15, mac, SEAL_LEN, SQLITE_STATIC);
}

/* The id the open transaction's next item gets: read once per transaction
 * (under its write lock), then counted. */
static lsn_err next_id(sq_store *s, lsn_error *err)
{
    if (s->next_id)
        return LSN_OK;
    sqlite3_stmt *st = sq_prepare(&s->w, SQ_ITEM_NEXT_ID);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        lsn_err e = sq_fail(s->w.db, err, "appending an item");
        if (st)
            sqlite3_reset(st);
        return e;
    }
    s->next_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LSN_OK;
}

/* writer_ops.insert_items: items[0..k) with their seals, in one statement.
 * One statement per run of items rather than per item: each INSERT pays
 * its own AUTOINCREMENT bookkeeping, foreign-key counters and statement
 * journal (~9k instructions an item). The ids are given, as AUTOINCREMENT
 * would give them (the writer holds the write lock), since the seal
 * covers the id. */
lsn_err sq_insert_items(void *be, writer_item *const *items, int k, lsn_error *err)
{
    sq_store *s = be;
    sq_conn *c = &s->w;
    lsn_err e;
    int64_t classes[WRITER_RUN_MAX];
    uint8_t digest[SEAL_LEN]; /* of each one's class row */
    uint8_t mac[WRITER_RUN_MAX][SEAL_LEN];
    if ((e = next_id(s, err)))
        return e;
    int64_t first = s->next_id;
    for (int i = 0; i < k; i++) {
        writer_item *j = items[i];
        if ((e = class_id(s, j->item, &classes[i], digest, err)))
            return e;
        j->id = first + i;
        seal_new_row(&s->keys, j->item, j->id, classes[i], j->uuid, j->created_ms, j->hash,
                     digest, &j->seal_digests, mac[i]);
    }
    for (int i = 0; i < k && !s->cfts_open; i++)
        s->cfts_open = !pair_closed(s, classes[i], items[i]->item->channel);
    sqlite3_stmt *st = sq_batch_stmt(s, SQ_BATCH_ITEMS, k);
    if (!st)
        return sq_fail(c->db, err, "appending an item");
    for (int i = 0; i < k; i++)
        bind_item(st, 15 * i, items[i], classes[i], mac[i]);
    e = step_insert(c, st, "appending an item", err);
    if (e)
        return e;
    if (sqlite3_changes(c->db) != k)
        return core_fail(err, LSN_ERR_IO, "appending items: %d rows written for %d",
                        sqlite3_changes(c->db), k);
    s->next_id = first + k;
    for (int i = 0; i < k; i++) {
        /* Its binding and outbox entries, in the item's transaction. */
        if ((e = sq_fed_item_written(s, items[i]->id, items[i]->item, err)))
            return e;
        /* A later version: its link, the row it supersedes, its request. */
        if ((e = sq_rel_item_written(s, items[i]->id, items[i]->item, items[i]->created_ms,
                                     err)))
            return e;
    }
    if (!s->fts_from)
        s->fts_from = first; /* their bodies are indexed with the group's */
    return LSN_OK;
}

/* writer_ops.insert_audit: evs[0..n) with one statement. */
lsn_err sq_insert_audit(void *be, const store_audit_event *const *evs, int n,
                        lsn_error *err)
{
    sq_store *s = be;
    sqlite3_stmt *st = sq_batch_stmt(s, SQ_BATCH_AUDIT, n);
    if (!st)
        return sq_fail(s->w.db, err, "appending to the audit log");
    for (int i = 0; i < n; i++)
        bind_audit(st, 8 * i, evs[i]);
    return step_insert(&s->w, st, "appending to the audit log", err);
}

lsn_err sq_fts_index(sq_store *s, lsn_error *err)
{
    if (!s->fts_from)
        return LSN_OK;
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_FTS_INDEX);
    if (!st)
        return sq_fail(c->db, err, "indexing the items' text");
    sqlite3_bind_int64(st, 1, s->fts_from);
    lsn_err e = step_insert(c, st, "indexing the items' text", err);
    if (e || !s->cfts_open)
        return e; /* every item's pair is past the cap: counted no more */
    if (!(st = sq_prepare(c, SQ_CFTS_INDEX)))
        return sq_fail(c->db, err, "indexing the items' text by class");
    sqlite3_bind_int64(st, 1, s->fts_from);
    sqlite3_bind_int64(st, 2, SQ_CFTS_PAIR_MAX);
    if ((e = step_insert(c, st, "indexing the items' text by class", err)))
        return e;
    if (!(st = sq_prepare(c, SQ_CFTS_COUNT)))
        return sq_fail(c->db, err, "counting the items by class");
    sqlite3_bind_int64(st, 1, s->fts_from);
    if ((e = step_insert(c, st, "counting the items by class", err)))
        return e;
    return learn_closed(s, err);
}
/* The entries every back-end shares are the writer's (writer_append.c). */
lsn_err sq_item_append(store *b, const store_item *it, store_audit_event *post,
                       int64_t *id_out, uint8_t hash_out[STORE_HASH_LEN], lsn_error *err)
{
    return writer_item_append(&((sq_store *)b)->writer, it, post, id_out, hash_out, err);
}

lsn_err sq_item_append_async(store *b, const store_item *it, const store_audit_event *post,
                             store_append_cb done, void *ctx, lsn_error *err)
{
    return writer_item_append_async(&((sq_store *)b)->writer, it, post, done, ctx, err);
}

lsn_err sq_audit_append(store *b, store_audit_event *ev, lsn_error *err)
{
    return writer_audit_append(&((sq_store *)b)->writer, ev, err);
}

/* Organisations, users and channels: one insert each. */
typedef struct row_job {
    sq_stmt which;
    const char *doing;
    const char *t1, *t2, *t3;
    int64_t n4;
    int flag3; /* without t3: bind n4 as ?3 (a channel's local flag) */
    const uint8_t *blob5;
    const char *t6; /* a user's password hash (NULL: none) */
    int64_t id;
} row_job;

static lsn_err apply_row(void *be, void *arg, lsn_error *err)
{
    sq_store *s = be;
    row_job *j = arg;
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, j->which);
    if (!st)
        return sq_fail(c->db, err, j->doing);
    sqlite3_bind_text(st, 1, j->t1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->t2, -1, SQLITE_STATIC);
    if (j->t3) {
        sqlite3_bind_text(st, 3, j->t3, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, j->n4);
        sqlite3_bind_blob(st, 5, j->blob5, STORE_HASH_LEN, SQLITE_STATIC);
        if (j->t6)
            sqlite3_bind_text(st, 6, j->t6, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 6);
    } else if (j->flag3) {
        sqlite3_bind_int64(st, 3, j->n4);
    }
    lsn_err e = step_insert(c, st, j->doing, err);
    if (e == LSN_OK)
        j->id = sqlite3_last_insert_rowid(c->db);
    return e;
}

static lsn_err submit_row(sq_store *s, row_job *j, int64_t *id_out, lsn_error *err)
{
    lsn_err e = writer_apply(&s->writer, apply_row, j, err);
    if (id_out)
        *id_out = e ? 0 : j->id;
    return e;
}

lsn_err sq_org_add(store *b, const char *name, const char *category,
                          int64_t *id_out, lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("organisation name", name, STORE_FIELD_MAX, err)) ||
        (e = writer_need("organisation's category", category, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = SQ_ORG_INSERT, .doing = "adding an organisation",
                  .t1 = name, .t2 = category };
    return submit_row((sq_store *)b, &j, id_out, err);
}

lsn_err sq_channel_add(store *b, const char *name, const char *purpose, bool local,
                              int64_t *id_out, lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("channel name", name, STORE_FIELD_MAX, err)) ||
        (e = writer_need("channel purpose", purpose, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = SQ_CHANNEL_INSERT, .doing = "adding a channel",
                  .t1 = name, .t2 = purpose, .n4 = local ? 1 : 0, .flag3 = 1 };
    return submit_row((sq_store *)b, &j, id_out, err);
}

lsn_err sq_user_add(store *b, const store_user *u, int64_t *id_out, lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("user name", u->name, STORE_FIELD_MAX, err)) ||
        (e = writer_need("user's organisation", u->organisation, STORE_FIELD_MAX, err)) ||
        (e = writer_need("user's clearance", u->clearance, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = SQ_USER_INSERT, .doing = "adding a user", .t1 = u->name,
                  .t2 = u->organisation, .t3 = u->clearance, .n4 = (int64_t)u->roles,
                  .blob5 = u->token_hash, .t6 = u->password_hash };
    return submit_row((sq_store *)b, &j, id_out, err);
}

/* A change to an account: one UPDATE, NULL parameters leave a column. */
typedef struct user_job {
    const char *name;
    const store_user_change *ch;
} user_job;

static lsn_err apply_user_update(void *be, void *arg, lsn_error *err)
{
    sq_store *s = be;
    user_job *j = arg;
    const store_user_change *ch = j->ch;
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_USER_UPDATE);
    if (!st)
        return sq_fail(c->db, err, "changing a user");
    sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
    if (ch->password_hash)
        sqlite3_bind_text(st, 2, ch->password_hash, -1, SQLITE_STATIC);
    if (ch->status >= 0)
        sqlite3_bind_int(st, 3, ch->status);
    if (ch->clearance)
        sqlite3_bind_text(st, 4, ch->clearance, -1, SQLITE_STATIC);
    if (ch->roles >= 0)
        sqlite3_bind_int64(st, 5, ch->roles);
    if (ch->token_hash)
        sqlite3_bind_blob(st, 6, ch->token_hash, STORE_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, ch->clear_cert ? 1 : 0);
    if (ch->cert_fingerprint)
        sqlite3_bind_blob(st, 8, ch->cert_fingerprint, STORE_HASH_LEN, SQLITE_STATIC);
    if (ch->cert_subject && ch->cert_issuer) {
        sqlite3_bind_text(st, 9, ch->cert_subject, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 10, ch->cert_issuer, STORE_HASH_LEN, SQLITE_STATIC);
    }
    lsn_err e = step_insert(c, st, "changing a user", err);
    if (e == LSN_OK && sqlite3_changes(c->db) == 0)
        e = core_fail(err, LSN_ERR_ARG, "no such user");
    return e;
}

lsn_err sq_user_update(store *b, const char *name, const store_user_change *ch,
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
    user_job j = {.name = name, .ch = ch};
    return writer_apply(&((sq_store *)b)->writer, apply_user_update, &j, err);
}

/* Named access tokens. */
typedef struct token_job {
    const store_token *t;
    const uint8_t *hash;
    const char *user, *name; /* revoke */
} token_job;

static lsn_err apply_token_add(void *be, void *arg, lsn_error *err)
{
    sq_store *s = be;
    token_job *j = arg;
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_TOKEN_INSERT);
    if (!st)
        return sq_fail(c->db, err, "adding a token");
    sqlite3_bind_blob(st, 1, j->hash, STORE_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->t->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, j->t->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, j->t->created_ms ? j->t->created_ms : writer_now_ms());
    if (j->t->expires_ms)
        sqlite3_bind_int64(st, 5, j->t->expires_ms);
    return step_insert(c, st, "adding a token", err);
}

lsn_err sq_token_add(store *b, const store_token *t, const uint8_t hash[STORE_HASH_LEN],
                     lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("token's user", t->user, STORE_FIELD_MAX, err)) ||
        (e = writer_need("token's name", t->name, STORE_FIELD_MAX, err)))
        return e;
    token_job j = {.t = t, .hash = hash};
    return writer_apply(&((sq_store *)b)->writer, apply_token_add, &j, err);
}

static lsn_err apply_token_revoke(void *be, void *arg, lsn_error *err)
{
    sq_store *s = be;
    token_job *j = arg;
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_TOKEN_DELETE);
    if (!st)
        return sq_fail(c->db, err, "revoking a token");
    sqlite3_bind_text(st, 1, j->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->name, -1, SQLITE_STATIC);
    lsn_err e = step_insert(c, st, "revoking a token", err);
    if (e == LSN_OK && sqlite3_changes(c->db) == 0)
        e = core_fail(err, LSN_ERR_ARG, "no such token");
    return e;
}

lsn_err sq_token_revoke(store *b, const char *user, const char *name, lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("token's user", user, STORE_FIELD_MAX, err)) ||
        (e = writer_need("token's name", name, STORE_FIELD_MAX, err)))
        return e;
    token_job j = {.user = user, .name = name};
    return writer_apply(&((sq_store *)b)->writer, apply_token_revoke, &j, err);
}
