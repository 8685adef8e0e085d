/* store/store_sqlite.c — the SQLite back-end of the store interface
 * (store.h): opening and closing, its store_ops table, and the reading
 * entries (rows to records and callbacks, reads restricted to a reader's
 * visible label classes, search). Every item row is read by row_item,
 * which checks it against its seal (sqlite_seal.c) and withholds one that
 * fails: fetch, label, listing, search and stream. Reads take a connection
 * from the pool (sqlite_read.c); the writing entries are in sqlite_write.c. */
#include "store/sqlite_internal.h"
#include "store/alarm.h"
#include "store/sqlite_fed.h"
#include "store/sqlite_rel.h"
#include "store/sqlite_fedrel.h"
#include "store/store_rel.h"
#include "store/store_fed.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/audit.h"
#include "store/copy.h"

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
    u->password_hash = sqlite3_column_type(st, 6) == SQLITE_NULL ? NULL : col_text(st, 6);
    u->status = (unsigned)sqlite3_column_int(st, 7);
    u->has_cert = sqlite3_column_type(st, 8) != SQLITE_NULL;
    col_hash(st, 8, u->cert_fingerprint);
    u->cert_subject = sqlite3_column_type(st, 9) == SQLITE_NULL ? NULL : col_text(st, 9);
    col_hash(st, 10, u->cert_issuer);
}

static void row_channel(sqlite3_stmt *st, store_channel *c)
{
    c->id = sqlite3_column_int64(st, 0);
    c->name = col_text(st, 1);
    c->purpose = col_text(st, 2);
    c->local = sqlite3_column_int(st, 3) != 0;
}

/* An item row as it is (ITEM_COLS / ITEM_LIST_COLS of sqlite_conn.c): a
 * fetch has the attachment's bytes in column 10; a listing or search has
 * NULL there and the attachment's size in 13. Unchecked: row_item. */
void sq_row_item_raw(sqlite3_stmt *st, store_item *it)
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
    if (sqlite3_column_type(st, 13) != SQLITE_NULL)
        it->attachment_len = (size_t)sqlite3_column_int64(st, 13);
    /* The upgrade to version 4 reads items without it (SQ_ITEM_TO_SEAL). */
    it->attachment_name = it->media_type && sqlite3_column_count(st) > SQ_NAME_COL &&
                                  sqlite3_column_type(st, SQ_NAME_COL) != SQLITE_NULL
                              ? col_text(st, SQ_NAME_COL) : NULL;
    it->created_ms = sqlite3_column_int64(st, 11);
    col_hash(st, 12, it->content_hash);
    /* A uuid of another size (only a tampered file has one) reads as
     * zeros beyond its end. */
    const void *u = sqlite3_column_blob(st, 14);
    int un = sqlite3_column_bytes(st, 14);
    memset(it->uuid, 0, STORE_UUID_LEN);
    if (u && un > 0)
        memcpy(it->uuid, u, un < STORE_UUID_LEN ? (size_t)un : STORE_UUID_LEN);
    it->class_id = sqlite3_column_int64(st, 15);
    it->fed = (struct store_item_fed){ 0 };
    it->ver = (struct store_item_ver){ .version = 1 };
    /* A later version's link (sqlite_rel.c), which its seal covers: -1
     * for a link whose number is not a later version's or whose id is not
     * an id (only a tampered file has one: its seal check fails). */
    if (sqlite3_column_count(st) > SQ_VER_COL + 1 &&
        sqlite3_column_type(st, SQ_VER_COL) != SQLITE_NULL) {
        int v = sqlite3_column_int(st, SQ_VER_COL + 1);
        int okid = sqlite3_column_bytes(st, SQ_VER_COL) == STORE_UUID_LEN;
        if (okid)
            memcpy(it->ver.of, sqlite3_column_blob(st, SQ_VER_COL), STORE_UUID_LEN);
        it->ver.version = v >= 2 && okid ? v : -1;
    }
}

/* Every item read goes through here: the row, checked against its seal
 * (columns SQ_SEAL_COL.., sqlite_seal.c) at `level` — what the read has in
 * hand. 1: hand it on; 0: it failed (audited, alarm raised) and is
 * withheld, as if absent. */
static int row_item(sq_store *s, sqlite3_stmt *st, seal_level level, store_item *it)
{
    sq_row_item_raw(st, it);
    if (!sq_seal_row(s, st, it, level))
        return 0;
    /* A later version of an item (sqlite_rel.c): sealed as its own row
     * with its link, served under the item's public id with its version. */
    if (it->ver.version >= 2)
        memcpy(it->uuid, it->ver.of, STORE_UUID_LEN);
    /* An earlier version served again: its hidden mark was removed. */
    if (sqlite3_column_count(st) > SQ_LATER_COL && sqlite3_column_int(st, SQ_LATER_COL)) {
        store_alarm_raise(&s->base, &s->writer, it,
                          "an earlier version served again (its hidden mark removed)");
        return 0;
    }
    return 1;
}

static void row_class(sqlite3_stmt *st, store_label_class *c)
{
    c->id = sqlite3_column_int64(st, 0);
    c->label = col_text(st, 1);
    c->marking_en = col_text(st, 2);
    c->marking_fr = col_text(st, 3);
    c->classification = sqlite3_column_type(st, 4) == SQLITE_NULL
                            ? -1 : sqlite3_column_int(st, 4);
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

static void *copy_org(const store_org *o)
{
    store_org *c = core_malloc(sizeof *c + copy_ssize(o->name) + copy_ssize(o->category));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *o;
    c->name = copy_put(&cur, o->name);
    c->category = copy_put(&cur, o->category);
    return c;
}

static void *copy_user(const store_user *u)
{
    store_user *c = core_malloc(sizeof *c + copy_ssize(u->name) + copy_ssize(u->organisation) +
                               copy_ssize(u->clearance) + copy_ssize(u->password_hash) +
                               copy_ssize(u->cert_subject));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *u;
    c->name = copy_put(&cur, u->name);
    c->organisation = copy_put(&cur, u->organisation);
    c->clearance = copy_put(&cur, u->clearance);
    c->password_hash = copy_put(&cur, u->password_hash);
    c->cert_subject = copy_put(&cur, u->cert_subject);
    return c;
}

static void *copy_channel(const store_channel *ch)
{
    store_channel *c = core_malloc(sizeof *c + copy_ssize(ch->name) + copy_ssize(ch->purpose));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *ch;
    c->name = copy_put(&cur, ch->name);
    c->purpose = copy_put(&cur, ch->purpose);
    return c;
}

/* ---- one query, rows to a function ------------------------------------ */

lsn_err sq_query(sq_store *s, sq_stmt which, sq_arg a1, sq_arg a2, sq_arg a3, sq_row_fn fn,
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
    const sq_arg args[3] = { a1, a2, a3 };
    for (int i = 0; i < 3; i++) {
        switch (args[i].kind) {
        case SQ_A_NONE: break;
        case SQ_A_TEXT: sqlite3_bind_text(st, i + 1, args[i].text, -1, SQLITE_STATIC); break;
        case SQ_A_INT: sqlite3_bind_int64(st, i + 1, args[i].num); break;
        case SQ_A_BLOB:
            sqlite3_bind_blob(st, i + 1, args[i].blob,
                              args[i].len ? args[i].len : STORE_HASH_LEN, SQLITE_STATIC);
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
        int r = fn(ctx, st);
        if (r < 0) {
            e = core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", doing);
            break;
        }
        if (r != STORE_NEXT)
            break;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sq_reader_give(s, c);
    return e;
}

/* _get: the first row, copied. */
typedef struct get_ctx {
    void *(*copy)(struct get_ctx *g, sqlite3_stmt *st);
    sq_store *s;
    void *out;
    int nomem;
    int withheld; /* an item row that failed its seal: not found */
} get_ctx;

static int get_row(void *ctx, sqlite3_stmt *st)
{
    get_ctx *g = ctx;
    g->out = g->copy(g, st);
    g->nomem = g->out == NULL && !g->withheld;
    return STORE_STOP;
}

static void *copy_org_row(get_ctx *g, sqlite3_stmt *st) { (void)g; store_org o; row_org(st, &o); return copy_org(&o); }
static void *copy_user_row(get_ctx *g, sqlite3_stmt *st) { (void)g; store_user u; row_user(st, &u); return copy_user(&u); }
static void *copy_channel_row(get_ctx *g, sqlite3_stmt *st) { (void)g; store_channel c; row_channel(st, &c); return copy_channel(&c); }
static void *copy_item_row(get_ctx *g, sqlite3_stmt *st)
{
    store_item i;
    g->withheld = !row_item(g->s, st, SEAL_FULL, &i);
    return g->withheld ? NULL : copy_item(&i);
}
/* SQ_ITEM_LABEL: the row without body and attachment, checked. */
static void *copy_label_row(get_ctx *g, sqlite3_stmt *st)
{
    store_item i;
    g->withheld = !row_item(g->s, st, SEAL_LABEL, &i);
    return g->withheld ? NULL : core_strdup(i.label);
}

/* The first row of `which` with parameters k1 and k2 (SQ_NONE: none),
 * copied by `copy`; NULL when there is none. */
static lsn_err get_one2(sq_store *s, sq_stmt which, sq_arg k1, sq_arg k2,
                        void *(*copy)(get_ctx *g, sqlite3_stmt *), void **out,
                        const char *doing, lsn_error *err)
{
    get_ctx g = { .copy = copy, .s = s };
    *out = NULL;
    lsn_err e = sq_query(s, which, k1, k2, SQ_NONE, get_row, &g, doing, err);
    if (e)
        return e;
    if (g.nomem)
        return core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", doing);
    *out = g.out;
    return LSN_OK;
}

static lsn_err get_one(sq_store *s, sq_stmt which, sq_arg key,
                       void *(*copy)(get_ctx *g, sqlite3_stmt *), void **out,
                       const char *doing, lsn_error *err)
{
    return get_one2(s, which, key, SQ_NONE, copy, out, doing, err);
}

/* _list: each row to the caller's callback. */
typedef struct list_ctx {
    union {
        store_org_cb org;
        store_user_cb user;
        store_channel_cb channel;
        store_item_cb item;
        store_audit_cb audit;
        store_class_cb cls;
        store_token_cb token;
    } cb;
    void *ctx;
    sq_store *s; /* for item rows' seal check */
    /* A search's: the channel and classes asked for (sq_seal_asked). */
    const char *channel;
    const store_classes *vis;
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
ROW_TO_CALLBACK(class_row, store_label_class, row_class, cls)
ROW_TO_CALLBACK(audit_row, store_audit_event, row_audit, audit)

/* An item row to the callback; one that fails its seal is skipped. */
static int item_row(void *ctx, sqlite3_stmt *st)
{
    list_ctx *l = ctx;
    store_item it;
    if (!row_item(l->s, st, SEAL_LISTED, &it) ||
        ((l->channel || l->vis) && !sq_seal_asked(l->s, &it, l->channel, l->vis)))
        return STORE_NEXT;
    return l->cb.item(l->ctx, &it);
}

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
        return core_fail(err, LSN_ERR_ARG, "no organisation named");
    return get_one((sq_store *)b, SQ_ORG_GET, SQ_TEXT(name), copy_org_row, (void **)out,
                   "reading an organisation", err);
}

static lsn_err sq_org_list(store *b, store_org_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.org = cb, .ctx = ctx };
    return sq_query((sq_store *)b, SQ_ORG_LIST, SQ_NONE, SQ_NONE, SQ_NONE, org_row, &l,
                 "listing organisations", err);
}

static lsn_err sq_user_get(store *b, const char *name, store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!name)
        return core_fail(err, LSN_ERR_ARG, "no user named");
    return get_one((sq_store *)b, SQ_USER_GET, SQ_TEXT(name), copy_user_row, (void **)out,
                   "reading a user", err);
}

static lsn_err sq_user_find_by_token(store *b, const uint8_t hash[STORE_HASH_LEN],
                                     store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!hash)
        return core_fail(err, LSN_ERR_ARG, "no token hash");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return get_one2((sq_store *)b, SQ_USER_BY_TOKEN, SQ_HASH(hash), SQ_INT(now), copy_user_row,
                    (void **)out, "finding a user by token", err);
}

static lsn_err sq_user_find_by_cert(store *b, const uint8_t fp[STORE_HASH_LEN],
                                    store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!fp)
        return core_fail(err, LSN_ERR_ARG, "no fingerprint");
    return get_one((sq_store *)b, SQ_USER_BY_CERT, SQ_HASH(fp), copy_user_row, (void **)out,
                   "finding a user by certificate", err);
}

static lsn_err sq_user_find_by_cert_subject(store *b, const char *subject,
                                            const uint8_t issuer[STORE_HASH_LEN],
                                            store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!subject || !issuer)
        return core_fail(err, LSN_ERR_ARG, "no subject or issuer");
    return get_one2((sq_store *)b, SQ_USER_BY_CERT_SUBJECT, SQ_TEXT(subject), SQ_HASH(issuer),
                    copy_user_row, (void **)out, "finding a user by certificate subject", err);
}

static lsn_err sq_user_list(store *b, store_user_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.user = cb, .ctx = ctx };
    return sq_query((sq_store *)b, SQ_USER_LIST, SQ_NONE, SQ_NONE, SQ_NONE, user_row, &l,
                 "listing users", err);
}

static int token_row(void *ctx, sqlite3_stmt *st)
{
    list_ctx *l = ctx;
    uint8_t hash[STORE_HASH_LEN];
    col_hash(st, 4, hash);
    store_token t = {.user = col_text(st, 0), .name = col_text(st, 1),
                     .created_ms = sqlite3_column_int64(st, 2),
                     .expires_ms = sqlite3_column_int64(st, 3), .hash = hash};
    return l->cb.token(l->ctx, &t);
}

static lsn_err sq_token_list(store *b, const char *user, store_token_cb cb, void *ctx,
                             lsn_error *err)
{
    list_ctx l = { .cb.token = cb, .ctx = ctx };
    if (!user)
        return core_fail(err, LSN_ERR_ARG, "no user named");
    return sq_query((sq_store *)b, SQ_TOKEN_LIST, SQ_TEXT(user), SQ_NONE, SQ_NONE, token_row, &l,
                 "listing tokens", err);
}

static lsn_err sq_channel_get(store *b, const char *name, store_channel **out,
                              lsn_error *err)
{
    *out = NULL;
    if (!name)
        return core_fail(err, LSN_ERR_ARG, "no channel named");
    return get_one((sq_store *)b, SQ_CHANNEL_GET, SQ_TEXT(name), copy_channel_row,
                   (void **)out, "reading a channel", err);
}

static lsn_err sq_channel_list(store *b, store_channel_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.channel = cb, .ctx = ctx };
    return sq_query((sq_store *)b, SQ_CHANNEL_LIST, SQ_NONE, SQ_NONE, SQ_NONE, channel_row, &l,
                 "listing channels", err);
}

static lsn_err sq_item_get(store *b, int64_t id, store_item **out, lsn_error *err)
{
    return get_one((sq_store *)b, SQ_ITEM_GET, SQ_INT(id), copy_item_row, (void **)out,
                   "reading an item", err);
}

static lsn_err sq_item_label(store *b, int64_t id, char **out, lsn_error *err)
{
    return get_one((sq_store *)b, SQ_ITEM_LABEL, SQ_INT(id), copy_label_row, (void **)out,
                   "reading an item's label", err);
}

typedef struct found {
    store_item_ref *ref;
    int history; /* the item has later versions */
} found;

static int find_row(void *ctx, sqlite3_stmt *st)
{
    found *f = ctx;
    f->ref->id = sqlite3_column_int64(st, 0);
    f->ref->class_id = sqlite3_column_int64(st, 1);
    f->history = sqlite3_column_int(st, 2);
    return STORE_STOP;
}

/* An item with later versions, or none served, has its history checked
 * (sqlite_rel.c): a hidden mark or version link altered, added or removed
 * (an earlier version served again) withholds it, with the alarm. */
static lsn_err sq_item_find(store *b, const uint8_t uuid[STORE_UUID_LEN],
                            store_item_ref *ref, lsn_error *err)
{
    ref->id = ref->class_id = 0;
    found f = { .ref = ref };
    sq_arg key = { .kind = SQ_A_BLOB, .blob = uuid, .len = STORE_UUID_LEN };
    lsn_err e = sq_query((sq_store *)b, SQ_ITEM_FIND, key, SQ_NONE, SQ_NONE, find_row, &f,
                         "finding an item", err);
    int intact = 1;
    if (!e && (f.history || !ref->id) &&
        !(e = sq_item_history(b, uuid, NULL, NULL, &intact, err)) && !intact)
        ref->id = ref->class_id = 0;
    return e;
}

/* ---- reads restricted to a reader's visible classes ------------------- */

/* The next ids of the visible classes, merged: for each class, the ids
 * after the cursor below the best `want` found so far (its (channel,
 * class, id) or (class, id) index gives them in order, one seek each); the
 * `want` smallest of all are kept in a max-heap. Then each row is read by
 * id. So a chunk costs a seek per visible class and a row per item
 * yielded, whatever the number of items of other classes. */
typedef struct id_heap {
    int64_t *v;
    size_t n, cap;
} id_heap;

static void heap_push(id_heap *h, int64_t x) /* h->n < h->cap */
{
    size_t i = h->n++;
    while (i && h->v[(i - 1) / 2] < x) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = x;
}

static void heap_replace_top(id_heap *h, int64_t x) /* x < h->v[0] */
{
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t mv = x;
        if (l < h->n && h->v[l] > mv)
            m = l, mv = h->v[l];
        if (r < h->n && h->v[r] > mv)
            m = r;
        if (m == i)
            break;
        h->v[i] = h->v[m];
        i = m;
    }
    h->v[i] = x;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Up to `want` ids (sorted, into ids[]) of the classes of vis in channel
 * (NULL: any) after `after`; *got says how many. */
static lsn_err merge_ids(sq_conn *c, const char *channel, const store_classes *vis,
                         int64_t after, size_t want, int64_t *ids, size_t *got,
                         lsn_error *err)
{
    sqlite3_stmt *st = sq_prepare(c, channel ? SQ_ITEM_IDS_CC : SQ_ITEM_IDS_C);
    if (!st)
        return sq_fail(c->db, err, "listing items");
    id_heap h = { .v = ids, .cap = want };
    for (size_t k = 0; k < vis->n; k++) {
        int64_t below = h.n == h.cap ? h.v[0] : INT64_MAX;
        sqlite3_reset(st);
        if (channel)
            sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, vis->ids[k]);
        sqlite3_bind_int64(st, 3, after);
        sqlite3_bind_int64(st, 4, below);
        sqlite3_bind_int64(st, 5, (int64_t)want);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            if (h.n < h.cap)
                heap_push(&h, id);
            else if (id < h.v[0])
                heap_replace_top(&h, id);
            else
                break; /* the class's next ids are larger still */
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            lsn_err e = sq_fail(c->db, err, "listing items");
            sqlite3_reset(st);
            return e;
        }
    }
    sqlite3_reset(st);
    qsort(ids, h.n, sizeof *ids, cmp_id);
    *got = h.n;
    return LSN_OK;
}

#define MERGE_CHUNK 256 /* ids merged at a time (the last chunk may be short) */

static lsn_err list_classes(sq_store *s, const char *channel, const store_classes *vis,
                            int64_t after, size_t limit, store_item_cb cb, void *ctx,
                            lsn_error *err)
{
    if (vis->n == 0)
        return LSN_OK; /* nothing is visible: nothing to read */
    sq_conn *c;
    lsn_err e = sq_reader_take(s, &c, err);
    if (e)
        return e;
    int64_t ids[MERGE_CHUNK];
    char idlist[MERGE_CHUNK * 21 + 3];
    size_t yielded = 0;
    /* One read transaction for the seeks and the rows: one snapshot and one
     * lock of the WAL instead of one per statement. (Chunks need no common
     * snapshot: items are never removed and ids are committed in order.) */
    sqlite3_stmt *tx = sq_prepare(c, SQ_READ_BEGIN);
    if (tx && sqlite3_step(tx) != SQLITE_DONE)
        tx = NULL;
    for (int done = 0; !done && !e;) {
        size_t want = MERGE_CHUNK;
        if (limit && limit - yielded < want)
            want = limit - yielded;
        size_t got = 0;
        if ((e = merge_ids(c, channel, vis, after, want, ids, &got, err)))
            break;
        int last_chunk = got < want;
        if (!got)
            break;
        /* The chunk's rows with one statement (a JSON array of ids): one
         * step each, not a reset, bind and step per row. */
        size_t k = 0;
        idlist[k++] = '[';
        for (size_t i = 0; i < got; i++)
            k += (size_t)snprintf(idlist + k, sizeof idlist - k, "%s%lld", i ? "," : "",
                                  (long long)ids[i]);
        idlist[k++] = ']';
        idlist[k] = '\0';
        sqlite3_stmt *st = sq_prepare(c, SQ_ITEM_LISTED);
        if (!st) {
            e = sq_fail(c->db, err, "listing items");
            break;
        }
        sqlite3_bind_text(st, 1, idlist, (int)k, SQLITE_STATIC);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            store_item it;
            int intact = row_item(s, st, SEAL_LISTED, &it) &&
                         sq_seal_asked(s, &it, channel, vis);
            after = it.id; /* past a withheld row too */
            if (!intact)
                continue;
            yielded++;
            if (cb(ctx, &it) != STORE_NEXT || (limit && yielded >= limit)) {
                done = 1;
                break;
            }
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            e = sq_fail(c->db, err, "listing items");
        sqlite3_reset(st);
        done = done || last_chunk;
    }
    if (tx) {
        sqlite3_stmt *end = sq_prepare(c, SQ_COMMIT);
        if (end)
            (void)sqlite3_step(end);
    }
    sq_reader_give(s, c);
    return e;
}

/* The rows of the "every class" listings to the callback, up to limit. */
typedef struct limited {
    list_ctx l;
    size_t limit, n;
} limited;

static int limited_row(void *ctx, sqlite3_stmt *st)
{
    limited *m = ctx;
    store_item it;
    if (!row_item(m->l.s, st, SEAL_LISTED, &it))
        return STORE_NEXT; /* withheld: not yielded */
    int go = m->l.cb.item(m->l.ctx, &it);
    if (m->limit && ++m->n >= m->limit)
        return STORE_STOP;
    return go;
}

static lsn_err sq_item_list(store *b, const char *channel, const store_classes *vis,
                            int64_t after, size_t limit, store_item_cb cb, void *ctx,
                            lsn_error *err)
{
    if (vis && vis->all_upto <= 0)
        return list_classes((sq_store *)b, channel, vis, after, limit, cb, ctx, err);
    limited m = { .l = { .cb.item = cb, .ctx = ctx, .s = (sq_store *)b }, .limit = limit };
    return sq_query((sq_store *)b, channel ? SQ_ITEM_LIST : SQ_ITEM_LIST_ALL,
                 channel ? SQ_TEXT(channel) : SQ_NONE, SQ_INT(after),
                 SQ_INT(vis ? vis->all_upto : INT64_MAX), limited_row, &m,
                 "listing items", err);
}

/* Plain words to an FTS5 query on the body column: each whitespace-
 * separated word becomes a quoted string (quotes doubled), and the
 * strings are ANDed; so nothing a reader types is taken as FTS5 syntax.
 * Then, when given, the channel's token and the visible classes' tokens
 * (columns of their own: sqlite_conn.c, SQ_FTS_INDEX). */
static lsn_err match_expr(const char *q, int64_t channel_id, const store_classes *vis,
                          char **out, lsn_error *err)
{
    *out = NULL;
    if (!q)
        return core_fail(err, LSN_ERR_ARG, "the search has no words");
    size_t n = strnlen(q, STORE_FIELD_MAX + 1);
    if (n > STORE_FIELD_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the search is longer than %u bytes",
                        STORE_FIELD_MAX);
    /* Worst case: every byte a lone quote; a class token is at most 44. */
    size_t cap = 3 * n + 64 + (vis ? vis->n * 48 : 0);
    char *m = core_malloc(cap);
    if (!m)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory building a search");
    size_t k = 0;
    int words = 0;
    memcpy(m, "{body}: (", 9);
    k = 9;
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
    m[k++] = ')';
    if (!words) {
        lsn_free(m);
        return core_fail(err, LSN_ERR_ARG, "the search has no words");
    }
    /* The visible classes' tokens, in this channel (kCLASShCHANNEL) or in
     * any (kCLASS): one selective term, not the class's and the channel's
     * (an AND with the channel's long list costs a skip per match). */
    if (vis) {
        k += (size_t)snprintf(m + k, cap - k, " AND {cls}: (");
        for (size_t i = 0; i < vis->n; i++) {
            k += (size_t)snprintf(m + k, cap - k, "%sk%lld", i ? " OR " : "",
                                  (long long)vis->ids[i]);
            if (channel_id > 0)
                k += (size_t)snprintf(m + k, cap - k, "h%lld", (long long)channel_id);
        }
        m[k++] = ')';
    } else if (channel_id > 0) {
        k += (size_t)snprintf(m + k, cap - k, " AND {chan}: h%lld", (long long)channel_id);
    }
    m[k] = '\0';
    *out = m;
    return LSN_OK;
}

/* A search of a reader who sees at most this many (class, channel) pairs
 * goes through the per-class index (items_cfts, sqlite_class_fts.c): its
 * postings are the reader's only, read in order, however common the word.
 * A reader who sees more classes searches items_fts with its class tokens
 * (the word's postings, skipped through to each visible match). */
#define CLASS_SEARCH_TERMS_MAX 32

typedef struct channel_ids {
    int64_t id[CLASS_SEARCH_TERMS_MAX];
    size_t n;
    int over; /* more channels than id[] holds */
} channel_ids;

static int channel_id_row(void *ctx, const store_channel *ch)
{
    channel_ids *c = ctx;
    if (c->n == CLASS_SEARCH_TERMS_MAX) {
        c->over = 1;
        return STORE_STOP;
    }
    c->id[c->n++] = ch->id;
    return STORE_NEXT;
}

/* The query of items_cfts: for each visible class in each channel,
 * "kCLASShCHANNEL WORD" for every word, ANDed; the pairs ORed. Words are
 * quoted (quotes doubled) as in match_expr; the prefix is ours, so a word
 * cannot name another class. */
static lsn_err class_match_expr(const char *q, const int64_t *chans, size_t nch,
                                const store_classes *vis, char **out, lsn_error *err)
{
    *out = NULL;
    size_t n = strlen(q); /* checked by match_expr: at most STORE_FIELD_MAX */
    size_t words = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && strchr(" \t\r\n\f\v", q[i]))
            i++;
        if (i == n)
            break;
        words++;
        while (i < n && !strchr(" \t\r\n\f\v", q[i]))
            i++;
    }
    size_t terms = nch * vis->n;
    size_t cap = terms * (3 * n + words * 48 + 16) + 1;
    char *m = core_malloc(cap);
    if (!m)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory building a search");
    size_t k = 0;
    for (size_t c = 0; c < nch; c++) {
        for (size_t v = 0; v < vis->n; v++) {
            char prefix[48];
            int pl = snprintf(prefix, sizeof prefix, "k%lldh%lld ", (long long)vis->ids[v],
                              (long long)chans[c]);
            k += (size_t)snprintf(m + k, cap - k, "%s(", k ? " OR " : "");
            int w = 0;
            for (size_t i = 0; i < n;) {
                while (i < n && strchr(" \t\r\n\f\v", q[i]))
                    i++;
                if (i == n)
                    break;
                if (w++)
                    k += (size_t)snprintf(m + k, cap - k, " AND ");
                m[k++] = '"';
                memcpy(m + k, prefix, (size_t)pl);
                k += (size_t)pl;
                for (; i < n && !strchr(" \t\r\n\f\v", q[i]); i++) {
                    if (q[i] == '"')
                        m[k++] = '"';
                    m[k++] = q[i];
                }
                m[k++] = '"';
            }
            m[k++] = ')';
        }
    }
    m[k] = '\0';
    *out = m;
    return LSN_OK;
}

/* Whether items_cfts holds every item of each (class, channel) pair: none
 * has reached SQ_CFTS_PAIR_MAX items (a count of the reader's own visible
 * items, so the choice tells nothing of the others). */
static lsn_err pairs_indexed(store *b, const int64_t *chans, size_t nch,
                             const store_classes *vis, int *yes, lsn_error *err)
{
    char pairs[CLASS_SEARCH_TERMS_MAX * 48 + 4];
    size_t k = 0;
    pairs[k++] = '[';
    for (size_t c = 0; c < nch; c++)
        for (size_t v = 0; v < vis->n; v++)
            k += (size_t)snprintf(pairs + k, sizeof pairs - k, "%s[%lld,%lld]",
                                  k > 1 ? "," : "", (long long)vis->ids[v],
                                  (long long)chans[c]);
    pairs[k++] = ']';
    pairs[k] = '\0';
    int64_t full = 1;
    lsn_err e = sq_query((sq_store *)b, SQ_CFTS_FULL, SQ_TEXT(pairs), SQ_INT(SQ_CFTS_PAIR_MAX),
                         SQ_NONE, last_row, &full, "searching", err);
    *yes = !e && !full;
    return e;
}

static lsn_err sq_item_search(store *b, const char *q, const char *channel,
                              const store_classes *vis, int64_t after, store_item_cb cb,
                              void *ctx, lsn_error *err)
{
    char *m;
    lsn_err e = match_expr(q, 0, NULL, &m, err); /* the words are checked first */
    if (e)
        return e;
    lsn_free(m);
    if (vis && vis->all_upto <= 0 && vis->n == 0)
        return LSN_OK; /* nothing is visible: nothing to search */
    int64_t bound = vis && vis->all_upto > 0 ? vis->all_upto : INT64_MAX;
    if (vis && vis->all_upto > 0)
        vis = NULL; /* every class so far: bounded below, not by tokens */
    channel_ids chans = { .n = 0 };
    int by_class = vis && vis->n <= CLASS_SEARCH_TERMS_MAX;
    if (channel) {
        store_channel *ch = NULL;
        if ((e = b->ops->channel_get(b, channel, &ch, err)))
            return e;
        chans.id[0] = ch ? ch->id : -1;
        chans.n = 1;
        lsn_free(ch);
        if (chans.id[0] < 0)
            return LSN_OK; /* no such channel: no match */
    } else if (by_class && (e = b->ops->channel_list(b, channel_id_row, &chans, err))) {
        return e;
    }
    by_class = by_class && !chans.over && chans.n * vis->n <= CLASS_SEARCH_TERMS_MAX;
    if (by_class && chans.n == 0)
        return LSN_OK; /* no channel: no item */
    if (by_class && (e = pairs_indexed(b, chans.id, chans.n, vis, &by_class, err)))
        return e;
    e = by_class ? class_match_expr(q, chans.id, chans.n, vis, &m, err)
                 : match_expr(q, channel ? chans.id[0] : 0, vis, &m, err);
    if (e)
        return e;
    list_ctx l = { .cb.item = cb, .ctx = ctx, .s = (sq_store *)b, .channel = channel,
                   .vis = vis };
    e = sq_query((sq_store *)b, by_class ? SQ_ITEM_SEARCH_CLS : SQ_ITEM_SEARCH, SQ_TEXT(m),
                 SQ_INT(after), SQ_INT(bound), item_row, &l, "searching", err);
    lsn_free(m);
    return e;
}

static lsn_err sq_class_list(store *b, int64_t after, store_class_cb cb, void *ctx,
                             lsn_error *err)
{
    list_ctx l = { .cb.cls = cb, .ctx = ctx };
    return sq_query((sq_store *)b, SQ_CLASS_LIST, SQ_INT(after), SQ_NONE, SQ_NONE, class_row, &l,
                 "listing label classes", err);
}

static lsn_err sq_class_last_id(store *b, int64_t *id_out, lsn_error *err)
{
    /* Kept in memory by the writer: every read asks, and classes are only
     * added by this process's writer (another process's are seen after a
     * restart; only the items of a class unknown here go unlisted). */
    (void)err;
    *id_out = atomic_load(&((sq_store *)b)->class_max);
    return LSN_OK;
}

static lsn_err sq_item_last_id(store *b, int64_t *id_out, lsn_error *err)
{
    *id_out = 0;
    return sq_query((sq_store *)b, SQ_ITEM_LAST, SQ_NONE, SQ_NONE, SQ_NONE, last_row, id_out,
                 "reading the last item id", err);
}

static lsn_err sq_audit_list(store *b, uint64_t after, store_audit_cb cb, void *ctx,
                             lsn_error *err)
{
    list_ctx l = { .cb.audit = cb, .ctx = ctx };
    return sq_query((sq_store *)b, SQ_AUDIT_LIST, SQ_INT((int64_t)after), SQ_NONE, SQ_NONE, audit_row,
                 &l, "reading the audit log", err);
}

/* ---- open and close ------------------------------------------------------ */

static void sq_close(store *b)
{
    sq_store *s = (sq_store *)b;
    writer_stop(&s->writer);
    sq_seal_close(s); /* the last anchor, after the last commit */
    sq_readers_close(s);
    sq_batch_finalize(s); /* before the writer's connection closes */
    sq_class_cache_clear(s);
    sq_conn_close(&s->w); /* the last connection: checkpoints the WAL */
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    lsn_free(s->path);
    lsn_free(s);
}

/* Only this process appends items to its file (administrative commands
 * append audit records, never items): nothing to wait for. */
static lsn_err sq_changes_wait(store *b, int timeout_ms, bool *woken, lsn_error *err)
{
    (void)b;
    (void)timeout_ms;
    *woken = false;
    return core_fail(err, LSN_ERR_ARG, "no other process appends items to a SQLite store");
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
    .user_update = sq_user_update,
    .user_find_by_cert = sq_user_find_by_cert,
    .user_find_by_cert_subject = sq_user_find_by_cert_subject,
    .token_add = sq_token_add,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .channel_add = sq_channel_add,
    .channel_get = sq_channel_get,
    .channel_list = sq_channel_list,
    .item_append = sq_item_append,
    .item_append_async = sq_item_append_async,
    .item_get = sq_item_get,
    .item_find = sq_item_find,
    .item_label = sq_item_label,
    .item_list = sq_item_list,
    .item_search = sq_item_search,
    .item_last_id = sq_item_last_id,
    .class_list = sq_class_list,
    .class_last_id = sq_class_last_id,
    .audit_append = sq_audit_append,
    .audit_list = sq_audit_list,
    .fed = &sq_fed_ops,
    .rel = &sq_rel_ops,
    .fedrel = &sq_fedrel_ops,
    .anchor = sq_anchor_read,
    .changes_wait = sq_changes_wait,
};

/* The highest label class id, read once at open (the writer's connection,
 * before the writer starts). */
lsn_err sq_class_max_load(sq_store *s, lsn_error *err)
{
    sqlite3_stmt *st = sq_prepare(&s->w, SQ_CLASS_LAST);
    if (!st)
        return sq_fail(s->w.db, err, "reading the last label class");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        atomic_store(&s->class_max, sqlite3_column_int64(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return sq_fail(s->w.db, err, "reading the last label class");
    return LSN_OK;
}

lsn_err store_sqlite_open(const char *path, store **out, lsn_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return core_fail(err, LSN_ERR_ARG, "no store path");
    if (sodium_init() < 0)
        return core_fail(err, LSN_ERR_IO, "libsodium could not be initialised");
    sq_store *s = core_calloc(1, sizeof *s);
    if (!s)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory opening the store");
    s->base.ops = &sqlite_ops;
    s->path = core_strdup(path);
    if (!s->path) {
        lsn_free(s);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory opening the store");
    }
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);

    lsn_err e = sq_conn_open(&s->w, path, 1, err);
    if (e == LSN_OK && (e = sq_seal_open(s, err)) == LSN_OK &&
        (e = sq_schema_migrate(&s->w, &s->keys, err)) == LSN_OK &&
        (e = sq_class_max_load(s, err)) == LSN_OK &&
        (e = sq_seal_anchor_start(s, err)) == LSN_OK &&
        (e = writer_start(&s->writer, &sq_writer_ops, s, s->anchor, err)) == LSN_OK) {
        *out = &s->base;
        return LSN_OK;
    }
    sq_seal_close(s);
    sq_batch_finalize(s);
    sq_conn_close(&s->w);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    lsn_free(s->path);
    lsn_free(s);
    return e;
}
