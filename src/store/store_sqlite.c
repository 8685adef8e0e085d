/* store/store_sqlite.c — the SQLite back-end of the store interface
 * (store.h): opening and closing, and every entry of its store_ops table.
 * Writes go through the group-commit writer (sqlite_writer.c); reads take a
 * connection from the pool (sqlite_read.c). */
#include "store/sqlite_internal.h"

#include <sodium.h>
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
        return lsn_fail(err, LSN_ERR_ARG, "the %s is missing", what);
    if (strnlen(v, max + 1) > max)
        return lsn_fail(err, LSN_ERR_LIMIT, "the %s is longer than %zu bytes", what, max);
    return LSN_OK;
}

/* ---- reading rows ------------------------------------------------------ */

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

/* Copy a 32-byte hash column; a column of another size (only a tampered
 * file has one) reads as zeros beyond its end, so that checks fail. */
static void col_hash(sqlite3_stmt *st, int i, uint8_t out[STORE_HASH_LEN])
{
    const void *b = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    memset(out, 0, STORE_HASH_LEN);
    if (b && n > 0)
        memcpy(out, b, n < STORE_HASH_LEN ? (size_t)n : STORE_HASH_LEN);
}

static void row_org(sqlite3_stmt *st, store_org *o)
{
    o->id = sqlite3_column_int64(st, 0);
    o->name = col_text(st, 1);
    o->category = col_text(st, 2);
}

static void row_user(sqlite3_stmt *st, store_user *u)
{
    u->id = sqlite3_column_int64(st, 0);
    u->name = col_text(st, 1);
    u->organisation = col_text(st, 2);
    u->clearance = col_text(st, 3);
    u->roles = (unsigned)sqlite3_column_int64(st, 4);
    col_hash(st, 5, u->token_hash);
}

static void row_channel(sqlite3_stmt *st, store_channel *c)
{
    c->id = sqlite3_column_int64(st, 0);
    c->name = col_text(st, 1);
    c->purpose = col_text(st, 2);
}

static void row_item(sqlite3_stmt *st, store_item *it)
{
    it->id = sqlite3_column_int64(st, 0);
    it->channel = col_text(st, 1);
    it->author = col_text(st, 2);
    it->organisation = col_text(st, 3);
    it->label = col_text(st, 4);
    it->marking_en = col_text(st, 5);
    it->marking_fr = col_text(st, 6);
    it->classification = sqlite3_column_type(st, 7) == SQLITE_NULL
                             ? -1 : sqlite3_column_int(st, 7);
    it->body = col_text(st, 8);
    it->media_type = sqlite3_column_type(st, 9) == SQLITE_NULL
                         ? NULL : col_text(st, 9);
    it->attachment = sqlite3_column_blob(st, 10);
    it->attachment_len = it->attachment ? (size_t)sqlite3_column_bytes(st, 10) : 0;
    it->created_ms = sqlite3_column_int64(st, 11);
    col_hash(st, 12, it->content_hash);
}

static void row_audit(sqlite3_stmt *st, store_audit_event *ev)
{
    ev->seq = (uint64_t)sqlite3_column_int64(st, 0);
    ev->time_ms = sqlite3_column_int64(st, 1);
    ev->actor = col_text(st, 2);
    ev->action = col_text(st, 3);
    ev->object = col_text(st, 4);
    ev->outcome = col_text(st, 5);
    ev->detail = col_text(st, 6);
    col_hash(st, 7, ev->hash);
}

/* ---- copying a row into one owned block --------------------------------- */

static size_t ssize(const char *s) { return s ? strlen(s) + 1 : 0; }

static const char *put(char **cur, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*cur, s, n);
    const char *r = *cur;
    *cur += n;
    return r;
}

static void *copy_org(const store_org *o)
{
    store_org *c = lsn_malloc(sizeof *c + ssize(o->name) + ssize(o->category));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *o;
    c->name = put(&cur, o->name);
    c->category = put(&cur, o->category);
    return c;
}

static void *copy_user(const store_user *u)
{
    store_user *c = lsn_malloc(sizeof *c + ssize(u->name) + ssize(u->organisation) +
                               ssize(u->clearance));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *u;
    c->name = put(&cur, u->name);
    c->organisation = put(&cur, u->organisation);
    c->clearance = put(&cur, u->clearance);
    return c;
}

static void *copy_channel(const store_channel *ch)
{
    store_channel *c = lsn_malloc(sizeof *c + ssize(ch->name) + ssize(ch->purpose));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *ch;
    c->name = put(&cur, ch->name);
    c->purpose = put(&cur, ch->purpose);
    return c;
}

static void *copy_item(const store_item *it)
{
    size_t n = sizeof *it + ssize(it->channel) + ssize(it->author) +
               ssize(it->organisation) + ssize(it->label) + ssize(it->marking_en) +
               ssize(it->marking_fr) + ssize(it->body) + ssize(it->media_type) +
               it->attachment_len;
    store_item *c = lsn_malloc(n);
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *it;
    c->channel = put(&cur, it->channel);
    c->author = put(&cur, it->author);
    c->organisation = put(&cur, it->organisation);
    c->label = put(&cur, it->label);
    c->marking_en = put(&cur, it->marking_en);
    c->marking_fr = put(&cur, it->marking_fr);
    c->body = put(&cur, it->body);
    c->media_type = put(&cur, it->media_type);
    if (it->media_type) {
        /* An attachment present but empty still gets a non-NULL pointer. */
        if (it->attachment_len)
            memcpy(cur, it->attachment, it->attachment_len);
        c->attachment = (const uint8_t *)cur;
    } else {
        c->attachment = NULL;
        c->attachment_len = 0;
    }
    return c;
}

/* ---- one query, rows to a function ------------------------------------ */

typedef struct arg {
    enum { A_NONE, A_TEXT, A_INT, A_BLOB } kind;
    const char *text;
    int64_t num;
    const void *blob;
} arg;

#define TEXT(t) ((arg){ .kind = A_TEXT, .text = (t) })
#define INT(n) ((arg){ .kind = A_INT, .num = (n) })
#define HASH(b) ((arg){ .kind = A_BLOB, .blob = (b) })
#define NONE ((arg){ .kind = A_NONE })

/* Called with each row; answers STORE_NEXT or STORE_STOP. */
typedef int (*row_fn)(void *ctx, sqlite3_stmt *st);

static lsn_err query(sq_store *s, sq_stmt which, arg a1, arg a2, arg a3, row_fn fn,
                     void *ctx, const char *doing, lsn_error *err)
{
    sq_conn *c;
    lsn_err e = sq_reader_take(s, &c, err);
    if (e)
        return e;
    sqlite3_stmt *st = sq_prepare(c, which);
    if (!st) {
        e = sq_fail(c->db, err, doing);
        sq_reader_give(s, c);
        return e;
    }
    const arg args[3] = { a1, a2, a3 };
    for (int i = 0; i < 3; i++) {
        switch (args[i].kind) {
        case A_NONE: break;
        case A_TEXT: sqlite3_bind_text(st, i + 1, args[i].text, -1, SQLITE_STATIC); break;
        case A_INT: sqlite3_bind_int64(st, i + 1, args[i].num); break;
        case A_BLOB:
            sqlite3_bind_blob(st, i + 1, args[i].blob, STORE_HASH_LEN, SQLITE_STATIC);
            break;
        }
    }
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            e = sq_fail(c->db, err, doing);
            break;
        }
        if (fn(ctx, st) != STORE_NEXT)
            break;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sq_reader_give(s, c);
    return e;
}

/* _get: the first row, copied. */
typedef struct get_ctx {
    void *(*copy)(sqlite3_stmt *st);
    void *out;
    int nomem;
} get_ctx;

static int get_row(void *ctx, sqlite3_stmt *st)
{
    get_ctx *g = ctx;
    g->out = g->copy(st);
    g->nomem = g->out == NULL;
    return STORE_STOP;
}

static void *copy_org_row(sqlite3_stmt *st) { store_org o; row_org(st, &o); return copy_org(&o); }
static void *copy_user_row(sqlite3_stmt *st) { store_user u; row_user(st, &u); return copy_user(&u); }
static void *copy_channel_row(sqlite3_stmt *st) { store_channel c; row_channel(st, &c); return copy_channel(&c); }
static void *copy_item_row(sqlite3_stmt *st) { store_item i; row_item(st, &i); return copy_item(&i); }

static lsn_err get_one(sq_store *s, sq_stmt which, arg key, void *(*copy)(sqlite3_stmt *),
                       void **out, const char *doing, lsn_error *err)
{
    get_ctx g = { .copy = copy };
    *out = NULL;
    lsn_err e = query(s, which, key, NONE, NONE, get_row, &g, doing, err);
    if (e)
        return e;
    if (g.nomem)
        return lsn_fail(err, LSN_ERR_NOMEM, "%s: out of memory", doing);
    *out = g.out;
    return LSN_OK;
}

/* _list: each row to the caller's callback. */
typedef struct list_ctx {
    union {
        store_org_cb org;
        store_user_cb user;
        store_channel_cb channel;
        store_item_cb item;
        store_audit_cb audit;
    } cb;
    void *ctx;
} list_ctx;

static int org_row(void *ctx, sqlite3_stmt *st)
{
    list_ctx *l = ctx;
    store_org o;
    row_org(st, &o);
    return l->cb.org(l->ctx, &o);
}

static int user_row(void *ctx, sqlite3_stmt *st)
{
    list_ctx *l = ctx;
    store_user u;
    row_user(st, &u);
    return l->cb.user(l->ctx, &u);
}

static int channel_row(void *ctx, sqlite3_stmt *st)
{
    list_ctx *l = ctx;
    store_channel c;
    row_channel(st, &c);
    return l->cb.channel(l->ctx, &c);
}

static int item_row(void *ctx, sqlite3_stmt *st)
{
    list_ctx *l = ctx;
    store_item it;
    row_item(st, &it);
    return l->cb.item(l->ctx, &it);
}

static int audit_row(void *ctx, sqlite3_stmt *st)
{
    list_ctx *l = ctx;
    store_audit_event ev;
    row_audit(st, &ev);
    return l->cb.audit(l->ctx, &ev);
}

static int last_row(void *ctx, sqlite3_stmt *st)
{
    *(int64_t *)ctx = sqlite3_column_int64(st, 0);
    return STORE_STOP;
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

/* Append ev to the chain: it takes the next sequence number and its hash
 * chains to the head's. The head moves only if the insert succeeded. */
static lsn_err audit_insert(sq_store *s, store_audit_event *ev, lsn_error *err)
{
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_AUDIT_INSERT);
    if (!st)
        return sq_fail(c->db, err, "appending to the audit log");
    ev->seq = s->audit_seq + 1;
    audit_entry_hash(s->audit_hash, ev, ev->hash);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)ev->seq);
    sqlite3_bind_int64(st, 2, ev->time_ms);
    sqlite3_bind_text(st, 3, ev->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ev->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ev->object, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, ev->outcome, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, ev->detail ? ev->detail : "", -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, ev->hash, STORE_HASH_LEN, SQLITE_STATIC);
    lsn_err e = step_insert(c, st, "appending to the audit log", err);
    if (e == LSN_OK) {
        s->audit_seq = ev->seq;
        memcpy(s->audit_hash, ev->hash, STORE_HASH_LEN);
    }
    return e;
}

typedef struct item_job {
    const store_item *item;
    int64_t created_ms;
    const uint8_t *hash;
    store_audit_event *post; /* may be NULL */
    int64_t id;
} item_job;

static lsn_err apply_item(sq_store *s, sq_req *r)
{
    item_job *j = r->arg;
    const store_item *it = j->item;
    sq_conn *c = &s->w;
    sqlite3_stmt *st = sq_prepare(c, SQ_ITEM_INSERT);
    if (!st)
        return sq_fail(c->db, &r->err, "appending an item");
    sqlite3_bind_text(st, 1, it->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, it->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, it->organisation, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, it->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, it->marking_en, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, it->marking_fr, -1, SQLITE_STATIC);
    if (it->classification >= 0)
        sqlite3_bind_int(st, 7, it->classification);
    sqlite3_bind_text(st, 8, it->body, -1, SQLITE_STATIC);
    if (it->media_type) {
        sqlite3_bind_text(st, 9, it->media_type, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 10, it->attachment ? (const void *)it->attachment : "",
                            it->attachment ? it->attachment_len : 0, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 11, j->created_ms);
    sqlite3_bind_blob(st, 12, j->hash, STORE_HASH_LEN, SQLITE_STATIC);
    lsn_err e = step_insert(c, st, "appending an item", &r->err);
    if (e)
        return e;
    j->id = sqlite3_last_insert_rowid(c->db);
    if (!j->post)
        return LSN_OK;
    char object[32];
    const char *given = j->post->object;
    if (!given) {
        snprintf(object, sizeof object, "item:%lld", (long long)j->id);
        j->post->object = object;
    }
    e = audit_insert(s, j->post, &r->err);
    j->post->object = given; /* `object` dies here */
    return e;
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
        return lsn_fail(err, LSN_ERR_LIMIT, "the audit detail is longer than %u bytes",
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
        return lsn_fail(err, LSN_ERR_ARG, "the body is missing");
    if (strnlen(it->body, STORE_BODY_MAX + 1) > STORE_BODY_MAX)
        return lsn_fail(err, LSN_ERR_LIMIT, "the body is longer than %u bytes",
                        STORE_BODY_MAX);
    if (it->attachment_len && !it->attachment)
        return lsn_fail(err, LSN_ERR_ARG, "the attachment has a length but no bytes");
    if (it->attachment && !it->media_type)
        return lsn_fail(err, LSN_ERR_ARG, "an attachment needs a media type");
    if (it->media_type && (e = need("media type", it->media_type, 255, err)))
        return e;
    if (it->attachment_len > STORE_BODY_MAX)
        return lsn_fail(err, LSN_ERR_LIMIT, "the attachment is longer than %u bytes",
                        STORE_BODY_MAX);
    if (post && (e = check_event(post, 1, err)))
        return e;
    return LSN_OK;
}

static lsn_err sq_item_append(store *b, const store_item *it, store_audit_event *post,
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
    store_item *item;       /* copy_item() */
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
    char *cur = lsn_malloc(ssize(ev->actor) + ssize(ev->action) + ssize(ev->object) +
                           ssize(ev->outcome) + ssize(ev->detail));
    if (!cur)
        return LSN_ERR_NOMEM;
    *strs = cur;
    to->actor = put(&cur, ev->actor);
    to->action = put(&cur, ev->action);
    to->object = put(&cur, ev->object);
    to->outcome = put(&cur, ev->outcome);
    to->detail = put(&cur, ev->detail);
    return LSN_OK;
}

static lsn_err sq_item_append_async(store *b, const store_item *it,
                                    const store_audit_event *post, store_append_cb done,
                                    void *ctx, lsn_error *err)
{
    if (!done)
        lsn_misuse("store_item_append_async: no completion callback");
    lsn_err e = check_item(it, post, err);
    if (e)
        return e;
    async_post *a = lsn_calloc(1, sizeof *a);
    if (!a || !(a->item = copy_item(it)) ||
        (post && copy_event(post, &a->post, &a->strs) != LSN_OK)) {
        if (a)
            lsn_free(a->item);
        lsn_free(a);
        return lsn_fail(err, LSN_ERR_NOMEM, "out of memory queueing an item");
    }
    store_content_hash(it->label, it->body, it->media_type, it->attachment,
                       it->attachment_len, a->hash);
    a->j = (item_job){ .item = a->item, .hash = a->hash, .post = post ? &a->post : NULL,
                       .created_ms = it->created_ms ? it->created_ms : now_ms() };
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

static lsn_err sq_audit_append(store *b, store_audit_event *ev, lsn_error *err)
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

static lsn_err sq_org_add(store *b, const char *name, const char *category,
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

static lsn_err sq_channel_add(store *b, const char *name, const char *purpose,
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

static lsn_err sq_user_add(store *b, const store_user *u, int64_t *id_out, lsn_error *err)
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

/* ---- reads -------------------------------------------------------------- */

static lsn_err sq_org_get(store *b, const char *name, store_org **out, lsn_error *err)
{
    *out = NULL;
    if (!name)
        return lsn_fail(err, LSN_ERR_ARG, "no organisation named");
    return get_one((sq_store *)b, SQ_ORG_GET, TEXT(name), copy_org_row, (void **)out,
                   "reading an organisation", err);
}

static lsn_err sq_org_list(store *b, store_org_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.org = cb, .ctx = ctx };
    return query((sq_store *)b, SQ_ORG_LIST, NONE, NONE, NONE, org_row, &l,
                 "listing organisations", err);
}

static lsn_err sq_user_get(store *b, const char *name, store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!name)
        return lsn_fail(err, LSN_ERR_ARG, "no user named");
    return get_one((sq_store *)b, SQ_USER_GET, TEXT(name), copy_user_row, (void **)out,
                   "reading a user", err);
}

static lsn_err sq_user_find_by_token(store *b, const uint8_t hash[STORE_HASH_LEN],
                                     store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!hash)
        return lsn_fail(err, LSN_ERR_ARG, "no token hash");
    return get_one((sq_store *)b, SQ_USER_BY_TOKEN, HASH(hash), copy_user_row,
                   (void **)out, "finding a user by token", err);
}

static lsn_err sq_user_list(store *b, store_user_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.user = cb, .ctx = ctx };
    return query((sq_store *)b, SQ_USER_LIST, NONE, NONE, NONE, user_row, &l,
                 "listing users", err);
}

static lsn_err sq_channel_get(store *b, const char *name, store_channel **out,
                              lsn_error *err)
{
    *out = NULL;
    if (!name)
        return lsn_fail(err, LSN_ERR_ARG, "no channel named");
    return get_one((sq_store *)b, SQ_CHANNEL_GET, TEXT(name), copy_channel_row,
                   (void **)out, "reading a channel", err);
}

static lsn_err sq_channel_list(store *b, store_channel_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.channel = cb, .ctx = ctx };
    return query((sq_store *)b, SQ_CHANNEL_LIST, NONE, NONE, NONE, channel_row, &l,
                 "listing channels", err);
}

static lsn_err sq_item_get(store *b, int64_t id, store_item **out, lsn_error *err)
{
    return get_one((sq_store *)b, SQ_ITEM_GET, INT(id), copy_item_row, (void **)out,
                   "reading an item", err);
}

static lsn_err sq_item_list(store *b, const char *channel, int64_t after,
                            store_item_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.item = cb, .ctx = ctx };
    return query((sq_store *)b, channel ? SQ_ITEM_LIST : SQ_ITEM_LIST_ALL,
                 channel ? TEXT(channel) : NONE, INT(after), NONE, item_row, &l,
                 "listing items", err);
}

/* Plain words to an FTS5 query: each whitespace-separated word becomes a
 * quoted string (quotes doubled), and the strings are ANDed. So nothing a
 * reader types is taken as FTS5 syntax. */
static lsn_err match_expr(const char *q, char **out, lsn_error *err)
{
    *out = NULL;
    if (!q)
        return lsn_fail(err, LSN_ERR_ARG, "the search has no words");
    size_t n = strnlen(q, STORE_FIELD_MAX + 1);
    if (n > STORE_FIELD_MAX)
        return lsn_fail(err, LSN_ERR_LIMIT, "the search is longer than %u bytes",
                        STORE_FIELD_MAX);
    char *m = lsn_malloc(3 * n + 2); /* worst case: every byte a lone quote */
    if (!m)
        return lsn_fail(err, LSN_ERR_NOMEM, "out of memory building a search");
    size_t k = 0;
    int words = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && strchr(" \t\r\n\f\v", q[i]))
            i++;
        if (i == n)
            break;
        if (words++)
            m[k++] = ' ';
        m[k++] = '"';
        for (; i < n && !strchr(" \t\r\n\f\v", q[i]); i++) {
            if (q[i] == '"')
                m[k++] = '"';
            m[k++] = q[i];
        }
        m[k++] = '"';
    }
    m[k] = '\0';
    if (!words) {
        lsn_free(m);
        return lsn_fail(err, LSN_ERR_ARG, "the search has no words");
    }
    *out = m;
    return LSN_OK;
}

static lsn_err sq_item_search(store *b, const char *q, const char *channel, int64_t after,
                              store_item_cb cb, void *ctx, lsn_error *err)
{
    char *m;
    lsn_err e = match_expr(q, &m, err);
    if (e)
        return e;
    list_ctx l = { .cb.item = cb, .ctx = ctx };
    e = query((sq_store *)b, channel ? SQ_ITEM_SEARCH : SQ_ITEM_SEARCH_ALL, TEXT(m),
              INT(after), channel ? TEXT(channel) : NONE, item_row, &l, "searching",
              err);
    lsn_free(m);
    return e;
}

static lsn_err sq_item_last_id(store *b, int64_t *id_out, lsn_error *err)
{
    *id_out = 0;
    return query((sq_store *)b, SQ_ITEM_LAST, NONE, NONE, NONE, last_row, id_out,
                 "reading the last item id", err);
}

static lsn_err sq_audit_list(store *b, uint64_t after, store_audit_cb cb, void *ctx,
                             lsn_error *err)
{
    list_ctx l = { .cb.audit = cb, .ctx = ctx };
    return query((sq_store *)b, SQ_AUDIT_LIST, INT((int64_t)after), NONE, NONE, audit_row,
                 &l, "reading the audit log", err);
}

/* ---- open and close ------------------------------------------------------ */

static void sq_close(store *b)
{
    sq_store *s = (sq_store *)b;
    sq_writer_stop(s);
    sq_readers_close(s);
    sq_conn_close(&s->w); /* the last connection: checkpoints the WAL */
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    lsn_free(s->path);
    lsn_free(s);
}

static const store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .org_add = sq_org_add,
    .org_get = sq_org_get,
    .org_list = sq_org_list,
    .user_add = sq_user_add,
    .user_get = sq_user_get,
    .user_find_by_token = sq_user_find_by_token,
    .user_list = sq_user_list,
    .channel_add = sq_channel_add,
    .channel_get = sq_channel_get,
    .channel_list = sq_channel_list,
    .item_append = sq_item_append,
    .item_append_async = sq_item_append_async,
    .item_get = sq_item_get,
    .item_list = sq_item_list,
    .item_search = sq_item_search,
    .item_last_id = sq_item_last_id,
    .audit_append = sq_audit_append,
    .audit_list = sq_audit_list,
};

static int audit_head_row(void *ctx, sqlite3_stmt *st)
{
    sq_store *s = ctx;
    s->audit_seq = (uint64_t)sqlite3_column_int64(st, 0);
    col_hash(st, 1, s->audit_hash);
    return STORE_STOP;
}

lsn_err sq_audit_head_load(sq_store *s, lsn_error *err)
{
    sqlite3_stmt *st = sq_prepare(&s->w, SQ_AUDIT_HEAD);
    if (!st)
        return sq_fail(s->w.db, err, "reading the audit log");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        audit_head_row(s, st);
    } else if (rc == SQLITE_DONE) { /* an empty log: the chain starts at zero */
        s->audit_seq = 0;
        memset(s->audit_hash, 0, STORE_HASH_LEN);
    }
    lsn_err e = LSN_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = sq_fail(s->w.db, err, "reading the audit log");
    sqlite3_reset(st);
    return e;
}

lsn_err store_sqlite_open(const char *path, store **out, lsn_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return lsn_fail(err, LSN_ERR_ARG, "no store path");
    if (sodium_init() < 0)
        return lsn_fail(err, LSN_ERR_IO, "libsodium could not be initialised");
    sq_store *s = lsn_calloc(1, sizeof *s);
    if (!s)
        return lsn_fail(err, LSN_ERR_NOMEM, "out of memory opening the store");
    s->base.ops = &sqlite_ops;
    s->path = lsn_strdup(path);
    if (!s->path) {
        lsn_free(s);
        return lsn_fail(err, LSN_ERR_NOMEM, "out of memory opening the store");
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* for the gather wait */
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);

    lsn_err e = sq_conn_open(&s->w, path, 1, err);
    if (e == LSN_OK && (e = sq_schema_migrate(&s->w, err)) == LSN_OK &&
        (e = sq_audit_head_load(s, err)) == LSN_OK && (e = sq_writer_start(s, err)) == LSN_OK) {
        *out = &s->base;
        return LSN_OK;
    }
    sq_conn_close(&s->w);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    lsn_free(s->path);
    lsn_free(s);
    return e;
}
