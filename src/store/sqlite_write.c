/* store/sqlite_write.c — the writing entries of the SQLite store_ops:
 * items (blocking and asynchronous), audit events, organisations, users and
 * channels. Each checks its input on the caller's thread, then hands an
 * `apply` function to the group-commit writer (sqlite_writer.c), which runs
 * it inside the group's transaction — or, for a run of item appends, their
 * rows in one multi-row INSERT (sq_apply_items) — then indexes the group's
 * bodies (sq_fts_index). */
#include "store/sqlite_internal.h"
#include "store/sqlite_fed.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/audit.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A required text field: present, not empty, within its cap. */
static lsn_err need(const char *what, const char *v, size_t max, lsn_error *err)
{
    if (!v || !*v)
        return core_fail(err, LSN_ERR_ARG, "the %s is missing", what);
    if (strnlen(v, max + 1) > max)
        return core_fail(err, LSN_ERR_LIMIT, "the %s is longer than %zu bytes", what, max);
    return LSN_OK;
}

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

/* ev becomes the chain's next link: it takes the next sequence number, its
 * hash chains to the head's, and the head moves to it. Whoever fails to
 * write it moves the head back (run_group, run_careful, audit_insert). */
static void audit_chain(sq_store *s, store_audit_event *ev)
{
    ev->seq = s->audit_seq + 1;
    audit_entry_hash(s->audit_hash, ev, ev->hash);
    s->audit_seq = ev->seq;
    memcpy(s->audit_hash, ev->hash, STORE_HASH_LEN);
}

/* Append ev to the chain. The head moves only if the insert succeeded. */
static lsn_err audit_insert(sq_store *s, store_audit_event *ev, lsn_error *err)
{
    sqlite3_stmt *st = sq_batch_stmt(s, SQ_BATCH_AUDIT, 1);
    if (!st)
        return sq_fail(s->w.db, err, "appending to the audit log");
    uint64_t seq = s->audit_seq;
    uint8_t hash[STORE_HASH_LEN];
    memcpy(hash, s->audit_hash, sizeof hash);
    audit_chain(s, ev);
    bind_audit(st, 0, ev);
    lsn_err e = step_insert(&s->w, st, "appending to the audit log", err);
    if (e != LSN_OK) {
        s->audit_seq = seq;
        memcpy(s->audit_hash, hash, sizeof hash);
    }
    return e;
}

typedef struct item_job {
    const store_item *item;
    int64_t created_ms;
    const uint8_t *hash;
    store_audit_event *post; /* may be NULL */
    uint8_t uuid[STORE_UUID_LEN];
    int64_t class_id; /* the writer's */
    int64_t id;
} item_job;

void sq_class_cache_clear(sq_store *s)
{
    for (size_t i = 0; i < SQ_CLASS_SLOTS; i++) {
        lsn_free(s->classes[i].label);
        s->classes[i].label = NULL;
        s->classes[i].id = 0;
    }
}

/* FNV-1a: a slot index (the slot's label is compared in full). */
static size_t class_slot(const char *label)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *c = (const unsigned char *)label; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return (size_t)(h % SQ_CLASS_SLOTS);
}

/* The id of it's label class, added if new (in the open transaction).
 * Remembered by label text, so that the usual append costs no statement. */
static lsn_err class_id(sq_store *s, const store_item *it, int64_t *id, lsn_error *err)
{
    struct sq_class_slot *slot = &s->classes[class_slot(it->label)];
    if (slot->label && strcmp(slot->label, it->label) == 0) {
        *id = slot->id;
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
    sqlite3_reset(st);
    if (added)
        s->class_added = 1; /* readers learn of it after the COMMIT */
    char *copy = core_strdup(it->label);
    if (copy) { /* not remembered when out of memory: found again next time */
        lsn_free(slot->label);
        slot->label = copy;
        slot->id = *id;
    }
    return LSN_OK;
}

/* Bind j's 10 values of an items row from parameter base + 1 on. */
static void bind_item(sqlite3_stmt *st, int base, const item_job *j)
{
    const store_item *it = j->item;
    sqlite3_bind_blob(st, base + 1, j->uuid, STORE_UUID_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 2, it->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, base + 3, j->class_id);
    sqlite3_bind_text(st, base + 4, it->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 5, it->organisation, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 6, it->body, -1, SQLITE_STATIC);
    if (it->media_type) {
        sqlite3_bind_text(st, base + 7, it->media_type, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, base + 8,
                            it->attachment ? (const void *)it->attachment : "",
                            it->attachment ? it->attachment_len : 0, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, base + 9, j->created_ms);
    sqlite3_bind_blob(st, base + 10, j->hash, STORE_HASH_LEN, SQLITE_STATIC);
}

/* The public id an append uses: the caller's, or a new one. */
static void job_uuid(item_job *j, const store_item *it)
{
    static const uint8_t zero[STORE_UUID_LEN];
    if (memcmp(it->uuid, zero, STORE_UUID_LEN) == 0)
        store_uuid_new(j->uuid);
    else
        memcpy(j->uuid, it->uuid, STORE_UUID_LEN);
}

/* Insert the items of jobs[0..k) with one statement, then the audit post
 * records of those that have one with another, chained in the jobs' order.
 * One statement per run of items rather than per item: each INSERT pays
 * its own AUTOINCREMENT bookkeeping, foreign-key counters and statement
 * journal (~9k instructions an item). On failure nothing says which item
 * failed: the caller rolls back (the group, or the item's savepoint). */
static lsn_err insert_items(sq_store *s, item_job **jobs, int k, lsn_error *err)
{
    sq_conn *c = &s->w;
    lsn_err e;
    for (int i = 0; i < k; i++)
        if ((e = class_id(s, jobs[i]->item, &jobs[i]->class_id, err)))
            return e;
    sqlite3_stmt *st = sq_batch_stmt(s, SQ_BATCH_ITEMS, k);
    if (!st)
        return sq_fail(c->db, err, "appending an item");
    for (int i = 0; i < k; i++)
        bind_item(st, 10 * i, jobs[i]);
    e = step_insert(c, st, "appending an item", err);
    if (e)
        return e;
    /* The rows of one INSERT take consecutive ids, in order (AUTOINCREMENT:
     * each is one more than the largest before it; the writer holds the
     * write lock). */
    if (sqlite3_changes(c->db) != k)
        return core_fail(err, LSN_ERR_IO, "appending items: %d rows written for %d",
                        sqlite3_changes(c->db), k);
    int64_t first = sqlite3_last_insert_rowid(c->db) - (k - 1);
    int posts = 0;
    for (int i = 0; i < k; i++) {
        jobs[i]->id = first + i;
        posts += jobs[i]->post != NULL;
        if ((e = sq_fed_item_written(s, jobs[i]->id, jobs[i]->item, err)))
            return e;
    }
    if (!s->fts_from)
        s->fts_from = first; /* their bodies are indexed with the group's */
    if (!posts)
        return LSN_OK;

    st = sq_batch_stmt(s, SQ_BATCH_AUDIT, posts);
    if (!st)
        return sq_fail(c->db, err, "appending to the audit log");
    char objects[SQ_BATCH_MAX][48];
    const char *given[SQ_BATCH_MAX] = { NULL };
    for (int i = 0, n = 0; i < k; i++) {
        store_audit_event *ev = jobs[i]->post;
        if (!ev)
            continue;
        given[i] = ev->object;
        if (!ev->object) {
            char u[37];
            store_uuid_text(jobs[i]->uuid, u);
            snprintf(objects[i], sizeof objects[i], "item:%s", u);
            ev->object = objects[i];
        }
        audit_chain(s, ev);
        bind_audit(st, 8 * n++, ev);
    }
    e = step_insert(c, st, "appending to the audit log", err);
    for (int i = 0; i < k; i++)
        if (jobs[i]->post)
            jobs[i]->post->object = given[i]; /* `objects` dies here */
    return e;
}

/* One item alone: the careful path (each request in its savepoint). */
static lsn_err apply_item(sq_store *s, sq_req *r)
{
    item_job *j = r->arg;
    return insert_items(s, &j, 1, &r->err);
}

int sq_req_is_item(const sq_req *r) { return r->apply == apply_item; }

lsn_err sq_apply_items(sq_store *s, sq_req *first, sq_req **rest, lsn_error *err)
{
    item_job *jobs[SQ_BATCH_MAX];
    int k = 0;
    sq_req *r = first;
    for (; r && k < SQ_BATCH_MAX && sq_req_is_item(r); r = r->next)
        jobs[k++] = r->arg;
    *rest = r;
    return insert_items(s, jobs, k, err);
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
    return step_insert(c, st, "indexing the items' text", err);
}

static lsn_err check_event(const store_audit_event *ev, int object_optional,
                           lsn_error *err)
{
    lsn_err e;
    if ((e = need("audit actor", ev->actor, STORE_FIELD_MAX, err)) ||
        (e = need("audit action", ev->action, STORE_FIELD_MAX, err)) ||
        (e = need("audit outcome", ev->outcome, STORE_FIELD_MAX, err)))
        return e;
    if (!(object_optional && !ev->object) &&
        (e = need("audit object", ev->object, STORE_FIELD_MAX, err)))
        return e;
    if (ev->detail && strnlen(ev->detail, STORE_FIELD_MAX + 1) > STORE_FIELD_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the audit detail is longer than %u bytes",
                        STORE_FIELD_MAX);
    return LSN_OK;
}

/* Everything about an item that can be checked before it is queued, so that
 * the writer's group rarely meets a refusal (see sqlite_writer.c). */
static lsn_err check_item(const store_item *it, const store_audit_event *post,
                          lsn_error *err)
{
    lsn_err e;
    if ((e = need("channel", it->channel, STORE_FIELD_MAX, err)) ||
        (e = need("author", it->author, STORE_FIELD_MAX, err)) ||
        (e = need("organisation", it->organisation, STORE_FIELD_MAX, err)) ||
        (e = need("label", it->label, STORE_FIELD_MAX, err)) ||
        (e = need("English marking", it->marking_en, STORE_FIELD_MAX, err)) ||
        (e = need("French marking", it->marking_fr, STORE_FIELD_MAX, err)))
        return e;
    if (!it->body)
        return core_fail(err, LSN_ERR_ARG, "the body is missing");
    if (strnlen(it->body, STORE_BODY_MAX + 1) > STORE_BODY_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the body is longer than %u bytes",
                        STORE_BODY_MAX);
    if (it->attachment_len && !it->attachment)
        return core_fail(err, LSN_ERR_ARG, "the attachment has a length but no bytes");
    if (it->attachment && !it->media_type)
        return core_fail(err, LSN_ERR_ARG, "an attachment needs a media type");
    if (it->media_type && (e = need("media type", it->media_type, 255, err)))
        return e;
    if (it->attachment_len > STORE_BODY_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the attachment is longer than %u bytes",
                        STORE_BODY_MAX);
    if (post && (e = check_event(post, 1, err)))
        return e;
    return sq_fed_item_check(it, err);
}

lsn_err sq_item_append(store *b, const store_item *it, store_audit_event *post,
                              int64_t *id_out, uint8_t hash_out[STORE_HASH_LEN],
                              lsn_error *err)
{
    sq_store *s = (sq_store *)b;
    *id_out = 0;
    lsn_err e = check_item(it, post, err);
    if (e)
        return e;

    /* Hash here, on the poster's thread, so that the writer only writes. */
    uint8_t hash[STORE_HASH_LEN];
    store_content_hash(it->label, it->body, it->media_type, it->attachment,
                       it->attachment_len, hash);
    item_job j = { .item = it, .hash = hash, .post = post,
                   .created_ms = it->created_ms ? it->created_ms : now_ms() };
    job_uuid(&j, it);
    if (post && !post->time_ms)
        post->time_ms = j.created_ms;
    sq_req r = { .apply = apply_item, .arg = &j };
    if ((e = sq_submit(s, &r, err)))
        return e;
    *id_out = j.id;
    if (hash_out)
        memcpy(hash_out, hash, STORE_HASH_LEN);
    return LSN_OK;
}

/* An asynchronous append owns copies of everything it writes. sq_req comes
 * first, so that the writer's sq_req* is the job. */
typedef struct async_post {
    sq_req r;
    item_job j;
    store_item *item;       /* sq_copy_item() */
    store_audit_event post; /* its strings live in `strs` */
    char *strs;
    uint8_t hash[STORE_HASH_LEN];
    store_append_cb done;
    void *ctx;
} async_post;

static void complete_async(sq_req *r)
{
    async_post *a = (async_post *)r;
    int good = r->rc == LSN_OK;
    a->done(a->ctx, r->rc, good ? a->j.id : 0, a->hash,
            good && a->j.post ? a->post.seq : 0, &r->err);
    lsn_free(a->item);
    lsn_free(a->strs);
    lsn_free(a);
}

static lsn_err copy_event(const store_audit_event *ev, store_audit_event *to, char **strs)
{
    *to = *ev;
    char *cur = core_malloc(sq_ssize(ev->actor) + sq_ssize(ev->action) + sq_ssize(ev->object) +
                           sq_ssize(ev->outcome) + sq_ssize(ev->detail));
    if (!cur)
        return LSN_ERR_NOMEM;
    *strs = cur;
    to->actor = sq_put(&cur, ev->actor);
    to->action = sq_put(&cur, ev->action);
    to->object = sq_put(&cur, ev->object);
    to->outcome = sq_put(&cur, ev->outcome);
    to->detail = sq_put(&cur, ev->detail);
    return LSN_OK;
}

lsn_err sq_item_append_async(store *b, const store_item *it,
                                    const store_audit_event *post, store_append_cb done,
                                    void *ctx, lsn_error *err)
{
    if (!done)
        core_misuse("store_item_append_async: no completion callback");
    lsn_err e = check_item(it, post, err);
    if (e)
        return e;
    async_post *a = core_calloc(1, sizeof *a);
    if (!a || !(a->item = sq_copy_item(it)) ||
        (post && copy_event(post, &a->post, &a->strs) != LSN_OK)) {
        if (a)
            lsn_free(a->item);
        lsn_free(a);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory queueing an item");
    }
    store_content_hash(it->label, it->body, it->media_type, it->attachment,
                       it->attachment_len, a->hash);
    a->j = (item_job){ .item = a->item, .hash = a->hash, .post = post ? &a->post : NULL,
                       .created_ms = it->created_ms ? it->created_ms : now_ms() };
    job_uuid(&a->j, it);
    if (post && !a->post.time_ms)
        a->post.time_ms = a->j.created_ms;
    a->done = done;
    a->ctx = ctx;
    a->r = (sq_req){ .apply = apply_item, .complete = complete_async, .arg = &a->j };
    sq_submit_async((sq_store *)b, &a->r);
    return LSN_OK;
}

static lsn_err apply_audit(sq_store *s, sq_req *r)
{
    return audit_insert(s, r->arg, &r->err);
}

lsn_err sq_audit_append(store *b, store_audit_event *ev, lsn_error *err)
{
    lsn_err e = check_event(ev, 0, err);
    if (e)
        return e;
    if (!ev->time_ms)
        ev->time_ms = now_ms();
    sq_req r = { .apply = apply_audit, .arg = ev };
    return sq_submit((sq_store *)b, &r, err);
}

/* Organisations, users and channels: one insert each. */
typedef struct row_job {
    sq_stmt which;
    const char *doing;
    const char *t1, *t2, *t3;
    int64_t n4;
    const uint8_t *blob5;
    int64_t id;
} row_job;

static lsn_err apply_row(sq_store *s, sq_req *r)
{
    row_job *j = r->arg;
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, j->which);
    if (!st)
        return sq_fail(c->db, &r->err, j->doing);
    sqlite3_bind_text(st, 1, j->t1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->t2, -1, SQLITE_STATIC);
    if (j->t3) {
        sqlite3_bind_text(st, 3, j->t3, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, j->n4);
        sqlite3_bind_blob(st, 5, j->blob5, STORE_HASH_LEN, SQLITE_STATIC);
    }
    lsn_err e = step_insert(c, st, j->doing, &r->err);
    if (e == LSN_OK)
        j->id = sqlite3_last_insert_rowid(c->db);
    return e;
}

static lsn_err submit_row(sq_store *s, row_job *j, int64_t *id_out, lsn_error *err)
{
    sq_req r = { .apply = apply_row, .arg = j };
    lsn_err e = sq_submit(s, &r, err);
    if (id_out)
        *id_out = e ? 0 : j->id;
    return e;
}

lsn_err sq_org_add(store *b, const char *name, const char *category,
                          int64_t *id_out, lsn_error *err)
{
    lsn_err e;
    if ((e = need("organisation name", name, STORE_FIELD_MAX, err)) ||
        (e = need("organisation's category", category, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = SQ_ORG_INSERT, .doing = "adding an organisation",
                  .t1 = name, .t2 = category };
    return submit_row((sq_store *)b, &j, id_out, err);
}

lsn_err sq_channel_add(store *b, const char *name, const char *purpose,
                              int64_t *id_out, lsn_error *err)
{
    lsn_err e;
    if ((e = need("channel name", name, STORE_FIELD_MAX, err)) ||
        (e = need("channel purpose", purpose, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = SQ_CHANNEL_INSERT, .doing = "adding a channel",
                  .t1 = name, .t2 = purpose };
    return submit_row((sq_store *)b, &j, id_out, err);
}

lsn_err sq_user_add(store *b, const store_user *u, int64_t *id_out, lsn_error *err)
{
    lsn_err e;
    if ((e = need("user name", u->name, STORE_FIELD_MAX, err)) ||
        (e = need("user's organisation", u->organisation, STORE_FIELD_MAX, err)) ||
        (e = need("user's clearance", u->clearance, STORE_FIELD_MAX, err)))
        return e;
    row_job j = { .which = SQ_USER_INSERT, .doing = "adding a user", .t1 = u->name,
                  .t2 = u->organisation, .t3 = u->clearance, .n4 = (int64_t)u->roles,
                  .blob5 = u->token_hash };
    return submit_row((sq_store *)b, &j, id_out, err);
}
