/* store/store_sqlite.c — the SQLite back-end of the store interface
 * (store.h): opening and closing, its store_ops table, and the reading
 * entries (rows to records and callbacks, search). Reads take a connection
 * from the pool (sqlite_read.c); the writing entries are in sqlite_write.c. */
#include "store/sqlite_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/audit.h"

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

/* A row of a listing or search (ITEM_LIST_COLS): no attachment bytes, only
 * their count in column 13. */
static void row_item_listed(sqlite3_stmt *st, store_item *it)
{
    row_item(st, it);
    it->attachment_len = sqlite3_column_type(st, 13) == SQLITE_NULL
                             ? 0 : (size_t)sqlite3_column_int64(st, 13);
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

size_t sq_ssize(const char *s) { return s ? strlen(s) + 1 : 0; }

const char *sq_put(char **cur, const char *s)
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
    store_org *c = lsn_malloc(sizeof *c + sq_ssize(o->name) + sq_ssize(o->category));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *o;
    c->name = sq_put(&cur, o->name);
    c->category = sq_put(&cur, o->category);
    return c;
}

static void *copy_user(const store_user *u)
{
    store_user *c = lsn_malloc(sizeof *c + sq_ssize(u->name) + sq_ssize(u->organisation) +
                               sq_ssize(u->clearance));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *u;
    c->name = sq_put(&cur, u->name);
    c->organisation = sq_put(&cur, u->organisation);
    c->clearance = sq_put(&cur, u->clearance);
    return c;
}

static void *copy_channel(const store_channel *ch)
{
    store_channel *c = lsn_malloc(sizeof *c + sq_ssize(ch->name) + sq_ssize(ch->purpose));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *ch;
    c->name = sq_put(&cur, ch->name);
    c->purpose = sq_put(&cur, ch->purpose);
    return c;
}

void *sq_copy_item(const store_item *it)
{
    size_t n = sizeof *it + sq_ssize(it->channel) + sq_ssize(it->author) +
               sq_ssize(it->organisation) + sq_ssize(it->label) + sq_ssize(it->marking_en) +
               sq_ssize(it->marking_fr) + sq_ssize(it->body) + sq_ssize(it->media_type) +
               it->attachment_len;
    store_item *c = lsn_malloc(n);
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *it;
    c->channel = sq_put(&cur, it->channel);
    c->author = sq_put(&cur, it->author);
    c->organisation = sq_put(&cur, it->organisation);
    c->label = sq_put(&cur, it->label);
    c->marking_en = sq_put(&cur, it->marking_en);
    c->marking_fr = sq_put(&cur, it->marking_fr);
    c->body = sq_put(&cur, it->body);
    c->media_type = sq_put(&cur, it->media_type);
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
static void *copy_item_row(sqlite3_stmt *st) { store_item i; row_item(st, &i); return sq_copy_item(&i); }
static void *copy_text_row(sqlite3_stmt *st)
{
    const char *t = (const char *)sqlite3_column_text(st, 0);
    return t ? lsn_strdup(t) : NULL;
}

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

/* A row to the caller's typed callback: `name` reads the row with `reader`
 * into a `type` and hands it to the callback `member` of list_ctx. */
#define ROW_TO_CALLBACK(name, type, reader, member)                              \
    static int name(void *ctx, sqlite3_stmt *st)                                 \
    {                                                                            \
        list_ctx *l = ctx;                                                       \
        type rec;                                                                \
        reader(st, &rec);                                                        \
        return l->cb.member(l->ctx, &rec);                                       \
    }

ROW_TO_CALLBACK(org_row, store_org, row_org, org)
ROW_TO_CALLBACK(user_row, store_user, row_user, user)
ROW_TO_CALLBACK(channel_row, store_channel, row_channel, channel)
ROW_TO_CALLBACK(item_row, store_item, row_item_listed, item)
ROW_TO_CALLBACK(audit_row, store_audit_event, row_audit, audit)

static int last_row(void *ctx, sqlite3_stmt *st)
{
    *(int64_t *)ctx = sqlite3_column_int64(st, 0);
    return STORE_STOP;
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

static lsn_err sq_item_label(store *b, int64_t id, char **out, lsn_error *err)
{
    return get_one((sq_store *)b, SQ_ITEM_LABEL, INT(id), copy_text_row, (void **)out,
                   "reading an item's label", err);
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
    sq_batch_finalize(s); /* before the writer's connection closes */
    sq_conn_close(&s->w); /* the last connection: checkpoints the WAL */
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    lsn_free(s->path);
    lsn_free(s);
}

static const store_ops sqlite_ops = {
    .version = STORE_OPS_VERSION,
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
    .item_label = sq_item_label,
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
