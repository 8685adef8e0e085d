/* store/store_pg.c — the PostgreSQL back-end of the store interface
 * (store.h): opening and closing, its store_ops table, and the reading
 * entries (rows to records and callbacks, reads restricted to a reader's
 * visible label classes, search). Every item row is read by row_item,
 * which checks it against its seal (pg_seal.c) and withholds one that
 * fails. Reads take a connection from the pool (pg_conn.c); the writing
 * entries and the writer's side are in pg_write.c. */
#include "store/pg_internal.h"
#include "store/alarm.h"
#include "store/pg_rel.h"
#include "store/pg_fedrel.h"
#include "store/store_rel.h"
#include "store/store_fed.h"

#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/copy.h"

/* ---- reading rows ------------------------------------------------------------ */

static void row_org(const PGresult *r, int i, store_org *o)
{
    o->id = pg_col_int(r, i, 0);
    o->name = pg_col_text(r, i, 1);
    o->category = pg_col_text(r, i, 2);
}

static void row_user(const PGresult *r, int i, store_user *u)
{
    u->id = pg_col_int(r, i, 0);
    u->name = pg_col_text(r, i, 1);
    u->organisation = pg_col_text(r, i, 2);
    u->clearance = pg_col_text(r, i, 3);
    u->roles = (unsigned)pg_col_int(r, i, 4);
    pg_col_hash(r, i, 5, u->token_hash);
    u->password_hash = pg_col_text_or_null(r, i, 6);
    u->status = (unsigned)pg_col_int(r, i, 7);
    u->has_cert = !pg_col_null(r, i, 8);
    pg_col_hash(r, i, 8, u->cert_fingerprint);
    u->cert_subject = pg_col_text_or_null(r, i, 9);
    pg_col_hash(r, i, 10, u->cert_issuer);
}

static void row_channel(const PGresult *r, int i, store_channel *c)
{
    c->id = pg_col_int(r, i, 0);
    c->name = pg_col_text(r, i, 1);
    c->purpose = pg_col_text(r, i, 2);
    c->local = pg_col_int(r, i, 3) != 0;
}

void pg_row_item_raw(const PGresult *r, int i, store_item *it)
{
    it->id = pg_col_int(r, i, 0);
    it->channel = pg_col_text(r, i, 1);
    it->author = pg_col_text(r, i, 2);
    it->organisation = pg_col_text(r, i, 3);
    it->label = pg_col_text(r, i, 4);
    it->marking_en = pg_col_text(r, i, 5);
    it->marking_fr = pg_col_text(r, i, 6);
    it->classification = pg_col_null(r, i, 7) ? -1 : (int)pg_col_int(r, i, 7);
    it->body = pg_col_text(r, i, 8);
    it->media_type = pg_col_text_or_null(r, i, 9);
    it->attachment = pg_col_null(r, i, 10) ? NULL : (const uint8_t *)PQgetvalue(r, i, 10);
    it->attachment_len = it->attachment ? (size_t)PQgetlength(r, i, 10) : 0;
    if (!pg_col_null(r, i, 13))
        it->attachment_len = (size_t)pg_col_int(r, i, 13);
    it->attachment_name = it->media_type ? pg_col_text_or_null(r, i, PG_NAME_COL) : NULL;
    it->created_ms = pg_col_int(r, i, 11);
    pg_col_hash(r, i, 12, it->content_hash);
    memset(it->uuid, 0, STORE_UUID_LEN);
    if (!pg_col_null(r, i, 14)) {
        int n = PQgetlength(r, i, 14);
        memcpy(it->uuid, PQgetvalue(r, i, 14), n < STORE_UUID_LEN ? (size_t)n : STORE_UUID_LEN);
    }
    it->class_id = pg_col_int(r, i, 15);
    it->fed = (struct store_item_fed){ 0 };
    it->ver = (struct store_item_ver){ .version = 1 };
    /* A later version's link (pg_rel.c), which its seal covers: -1 for a
     * link whose number is not a later version's or whose id is not an id
     * (only a tampered database has one: its seal check fails). */
    if (PQnfields(r) > PG_VER_COL + 1 && !pg_col_null(r, i, PG_VER_COL)) {
        int64_t v = pg_col_int(r, i, PG_VER_COL + 1);
        int okid = PQgetlength(r, i, PG_VER_COL) == STORE_UUID_LEN;
        if (okid)
            memcpy(it->ver.of, PQgetvalue(r, i, PG_VER_COL), STORE_UUID_LEN);
        it->ver.version = v >= 2 && v <= INT32_MAX && okid ? (int)v : -1;
    }
}

/* Every item read goes through here: the row, checked against its seal. */
static int row_item(pg_store *s, const PGresult *r, int i, seal_level level, store_item *it)
{
    pg_row_item_raw(r, i, it);
    if (!pg_seal_row(s, r, i, it, level))
        return 0;
    /* A later version of an item (pg_rel.c): sealed as its own row with
     * its link, served under the item's public id with its version. */
    if (it->ver.version >= 2)
        memcpy(it->uuid, it->ver.of, STORE_UUID_LEN);
    /* An earlier version served again: its hidden mark was removed. */
    if (PQnfields(r) > PG_LATER_COL && pg_col_int(r, i, PG_LATER_COL)) {
        store_alarm_raise(&s->base, &s->writer, it,
                          "an earlier version served again (its hidden mark removed)");
        return 0;
    }
    return 1;
}

static void row_class(const PGresult *r, int i, store_label_class *c)
{
    c->id = pg_col_int(r, i, 0);
    c->label = pg_col_text(r, i, 1);
    c->marking_en = pg_col_text(r, i, 2);
    c->marking_fr = pg_col_text(r, i, 3);
    c->classification = pg_col_null(r, i, 4) ? -1 : (int)pg_col_int(r, i, 4);
}

static void row_audit(const PGresult *r, int i, store_audit_event *ev)
{
    ev->seq = (uint64_t)pg_col_int(r, i, 0);
    ev->time_ms = pg_col_int(r, i, 1);
    ev->actor = pg_col_text(r, i, 2);
    ev->action = pg_col_text(r, i, 3);
    ev->object = pg_col_text(r, i, 4);
    ev->outcome = pg_col_text(r, i, 5);
    ev->detail = pg_col_text(r, i, 6);
    pg_col_hash(r, i, 7, ev->hash);
}

/* ---- copying a row into one owned block ----------------------------------------- */

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

/* ---- _get: the first row, copied ------------------------------------------------ */

typedef struct get_ctx {
    void *(*copy)(struct get_ctx *g, const PGresult *r, int i);
    pg_store *s;
    void *out;
    int nomem;
    int withheld;
} get_ctx;

static int get_row(void *ctx, const PGresult *r, int i)
{
    get_ctx *g = ctx;
    g->out = g->copy(g, r, i);
    g->nomem = g->out == NULL && !g->withheld;
    return STORE_STOP;
}

static void *copy_org_row(get_ctx *g, const PGresult *r, int i) { (void)g; store_org o; row_org(r, i, &o); return copy_org(&o); }
static void *copy_user_row(get_ctx *g, const PGresult *r, int i) { (void)g; store_user u; row_user(r, i, &u); return copy_user(&u); }
static void *copy_channel_row(get_ctx *g, const PGresult *r, int i) { (void)g; store_channel c; row_channel(r, i, &c); return copy_channel(&c); }
static void *copy_item_row(get_ctx *g, const PGresult *r, int i)
{
    store_item it;
    g->withheld = !row_item(g->s, r, i, SEAL_FULL, &it);
    return g->withheld ? NULL : copy_item(&it);
}
static void *copy_label_row(get_ctx *g, const PGresult *r, int i)
{
    store_item it;
    g->withheld = !row_item(g->s, r, i, SEAL_LABEL, &it);
    return g->withheld ? NULL : core_strdup(it.label);
}

static lsn_err get_one(pg_store *s, pg_stmt which, pg_arg *args, int n,
                       void *(*copy)(get_ctx *, const PGresult *, int), void **out,
                       const char *doing, lsn_error *err)
{
    get_ctx g = { .copy = copy, .s = s };
    *out = NULL;
    lsn_err e = pg_query(s, which, args, n, -1, get_row, &g, doing, err);
    if (e)
        return e;
    if (g.nomem)
        return core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", doing);
    *out = g.out;
    return LSN_OK;
}

/* ---- _list: each row to the caller's callback ------------------------------------- */

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
    pg_store *s;
    /* A restricted read's: what it asked for (pg_seal_asked). */
    const char *channel;
    const store_classes *vis;
    size_t limit, n;
} list_ctx;

#define ROW_TO_CALLBACK(name, type, reader, member)                                 \
    static int name(void *ctx, const PGresult *r, int i)                           \
    {                                                                               \
        list_ctx *l = ctx;                                                          \
        type rec;                                                                   \
        reader(r, i, &rec);                                                         \
        return l->cb.member(l->ctx, &rec);                                          \
    }

ROW_TO_CALLBACK(org_row, store_org, row_org, org)
ROW_TO_CALLBACK(user_row, store_user, row_user, user)
ROW_TO_CALLBACK(channel_row, store_channel, row_channel, channel)
ROW_TO_CALLBACK(class_row, store_label_class, row_class, cls)
ROW_TO_CALLBACK(audit_row, store_audit_event, row_audit, audit)

/* An item row to the callback, up to the limit; one that fails its seal,
 * or is not of what was asked, is skipped and not counted. */
static int item_row(void *ctx, const PGresult *r, int i)
{
    list_ctx *l = ctx;
    store_item it;
    if (!row_item(l->s, r, i, SEAL_LISTED, &it) ||
        ((l->channel || l->vis) && !pg_seal_asked(l->s, &it, l->channel, l->vis)))
        return STORE_NEXT;
    int go = l->cb.item(l->ctx, &it);
    if (l->limit && ++l->n >= l->limit)
        return STORE_STOP;
    return go;
}

static int last_row(void *ctx, const PGresult *r, int i)
{
    *(int64_t *)ctx = pg_col_int(r, i, 0);
    return STORE_STOP;
}

/* ---- reads ---------------------------------------------------------------------------- */

static lsn_err pg_org_get(store *b, const char *name, store_org **out, lsn_error *err)
{
    *out = NULL;
    if (!name)
        return core_fail(err, LSN_ERR_ARG, "no organisation named");
    pg_arg a[] = { PG_TEXT(name) };
    return get_one((pg_store *)b, PG_ORG_GET, a, 1, copy_org_row, (void **)out,
                   "reading an organisation", err);
}

static lsn_err pg_org_list(store *b, store_org_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.org = cb, .ctx = ctx };
    return pg_query((pg_store *)b, PG_ORG_LIST, NULL, 0, -1, org_row, &l,
                    "listing organisations", err);
}

static lsn_err pg_user_get(store *b, const char *name, store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!name)
        return core_fail(err, LSN_ERR_ARG, "no user named");
    pg_arg a[] = { PG_TEXT(name) };
    return get_one((pg_store *)b, PG_USER_GET, a, 1, copy_user_row, (void **)out,
                   "reading a user", err);
}

static lsn_err pg_user_find_by_token(store *b, const uint8_t hash[STORE_HASH_LEN],
                                     store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!hash)
        return core_fail(err, LSN_ERR_ARG, "no token hash");
    pg_arg a[] = { PG_HASH(hash), PG_INT(writer_now_ms()) };
    return get_one((pg_store *)b, PG_USER_BY_TOKEN, a, 2, copy_user_row, (void **)out,
                   "finding a user by token", err);
}

static lsn_err pg_user_find_by_cert(store *b, const uint8_t fp[STORE_HASH_LEN],
                                    store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!fp)
        return core_fail(err, LSN_ERR_ARG, "no fingerprint");
    pg_arg a[] = { PG_HASH(fp) };
    return get_one((pg_store *)b, PG_USER_BY_CERT, a, 1, copy_user_row, (void **)out,
                   "finding a user by certificate", err);
}

static lsn_err pg_user_find_by_cert_subject(store *b, const char *subject,
                                            const uint8_t issuer[STORE_HASH_LEN],
                                            store_user **out, lsn_error *err)
{
    *out = NULL;
    if (!subject || !issuer)
        return core_fail(err, LSN_ERR_ARG, "no subject or issuer");
    pg_arg a[] = { PG_TEXT(subject), PG_HASH(issuer) };
    return get_one((pg_store *)b, PG_USER_BY_CERT_SUBJECT, a, 2, copy_user_row, (void **)out,
                   "finding a user by certificate subject", err);
}

static lsn_err pg_user_list(store *b, store_user_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.user = cb, .ctx = ctx };
    return pg_query((pg_store *)b, PG_USER_LIST, NULL, 0, -1, user_row, &l, "listing users",
                    err);
}

static int token_row(void *ctx, const PGresult *r, int i)
{
    list_ctx *l = ctx;
    uint8_t hash[STORE_HASH_LEN];
    pg_col_hash(r, i, 4, hash);
    store_token t = { .user = pg_col_text(r, i, 0), .name = pg_col_text(r, i, 1),
                      .created_ms = pg_col_int(r, i, 2), .expires_ms = pg_col_int(r, i, 3),
                      .hash = hash };
    return l->cb.token(l->ctx, &t);
}

static lsn_err pg_token_list(store *b, const char *user, store_token_cb cb, void *ctx,
                             lsn_error *err)
{
    if (!user)
        return core_fail(err, LSN_ERR_ARG, "no user named");
    list_ctx l = { .cb.token = cb, .ctx = ctx };
    pg_arg a[] = { PG_TEXT(user) };
    return pg_query((pg_store *)b, PG_TOKEN_LIST, a, 1, -1, token_row, &l, "listing tokens",
                    err);
}

static lsn_err pg_channel_get(store *b, const char *name, store_channel **out,
                              lsn_error *err)
{
    *out = NULL;
    if (!name)
        return core_fail(err, LSN_ERR_ARG, "no channel named");
    pg_arg a[] = { PG_TEXT(name) };
    return get_one((pg_store *)b, PG_CHANNEL_GET, a, 1, copy_channel_row, (void **)out,
                   "reading a channel", err);
}

static lsn_err pg_channel_list(store *b, store_channel_cb cb, void *ctx, lsn_error *err)
{
    list_ctx l = { .cb.channel = cb, .ctx = ctx };
    return pg_query((pg_store *)b, PG_CHANNEL_LIST, NULL, 0, -1, channel_row, &l,
                    "listing channels", err);
}

static lsn_err pg_item_get(store *b, int64_t id, store_item **out, lsn_error *err)
{
    pg_arg a[] = { PG_INT(id) };
    return get_one((pg_store *)b, PG_ITEM_GET, a, 1, copy_item_row, (void **)out,
                   "reading an item", err);
}

static lsn_err pg_item_label(store *b, int64_t id, char **out, lsn_error *err)
{
    pg_arg a[] = { PG_INT(id) };
    return get_one((pg_store *)b, PG_ITEM_LABEL, a, 1, copy_label_row, (void **)out,
                   "reading an item's label", err);
}

typedef struct found {
    store_item_ref *ref;
    int history; /* the item has later versions */
} found;

static int find_row(void *ctx, const PGresult *r, int i)
{
    found *f = ctx;
    f->ref->id = pg_col_int(r, i, 0);
    f->ref->class_id = pg_col_int(r, i, 1);
    f->history = pg_col_int(r, i, 2) != 0;
    return STORE_STOP;
}

/* An item with later versions, or none served, has its history checked
 * (pg_rel.c): a hidden mark or version link altered, added or removed (an
 * earlier version served again) withholds it, with the alarm. */
static lsn_err pg_item_find(store *b, const uint8_t uuid[STORE_UUID_LEN], store_item_ref *ref,
                            lsn_error *err)
{
    ref->id = ref->class_id = 0;
    found f = { .ref = ref };
    pg_arg a[] = { PG_BYTES(uuid, STORE_UUID_LEN) };
    lsn_err e = pg_query((pg_store *)b, PG_ITEM_FIND, a, 1, -1, find_row, &f,
                         "finding an item", err);
    int intact = 1;
    if (!e && (f.history || !ref->id) &&
        !(e = pg_item_history(b, uuid, NULL, NULL, &intact, err)) && !intact)
        ref->id = ref->class_id = 0;
    return e;
}

/* A set of class ids as an array's text: "{3,7,12}". */
static char *class_array(const store_classes *vis, lsn_error *err)
{
    size_t cap = 3 + vis->n * 21;
    char *a = core_malloc(cap);
    if (!a) {
        core_fail(err, LSN_ERR_NOMEM, "out of memory reading items");
        return NULL;
    }
    size_t k = 0;
    a[k++] = '{';
    for (size_t i = 0; i < vis->n; i++)
        k += (size_t)snprintf(a + k, cap - k, "%s%lld", i ? "," : "", (long long)vis->ids[i]);
    a[k++] = '}';
    a[k] = '\0';
    return a;
}

static lsn_err pg_item_list(store *b, const char *channel, const store_classes *vis,
                            int64_t after, size_t limit, store_item_cb cb, void *ctx,
                            lsn_error *err)
{
    pg_store *s = (pg_store *)b;
    list_ctx l = { .cb.item = cb, .ctx = ctx, .s = s, .limit = limit };
    int64_t page = limit && limit < PG_PAGE ? (int64_t)limit : PG_PAGE;
    if (vis && vis->all_upto <= 0) {
        if (vis->n == 0)
            return LSN_OK; /* nothing is visible: nothing to read */
        char *arr = class_array(vis, err);
        if (!arr)
            return LSN_ERR_NOMEM;
        l.channel = channel;
        l.vis = vis;
        pg_arg a[] = { PG_TEXT(channel), PG_TEXT(arr), PG_INT(after), PG_INT(page) };
        lsn_err e = pg_query(s, channel ? PG_ITEM_LIST_CC : PG_ITEM_LIST_C, a, 4, 2, item_row,
                             &l, "listing items", err);
        lsn_free(arr);
        return e;
    }
    int64_t bound = vis ? vis->all_upto : INT64_MAX;
    if (channel) {
        pg_arg a[] = { PG_TEXT(channel), PG_INT(after), PG_INT(bound), PG_INT(page) };
        return pg_query(s, PG_ITEM_LIST, a, 4, 1, item_row, &l, "listing items", err);
    }
    pg_arg a[] = { PG_INT(after), PG_INT(bound), PG_INT(page) };
    return pg_query(s, PG_ITEM_LIST_ALL, a, 3, 0, item_row, &l, "listing items", err);
}

/* The channel a search of a reader of every class is restricted to, as a
 * text-search query over the token the writer adds to each item
 * (pg_conn.c, PG_ITEM_INSERT: hCHANNEL, weight B). */
static lsn_err channel_restriction(int64_t channel_id, char **out, lsn_error *err)
{
    *out = NULL;
    if (channel_id <= 0)
        return LSN_OK;
    *out = core_malloc(32);
    if (!*out)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory building a search");
    snprintf(*out, 32, "h%lld:B", (long long)channel_id);
    return LSN_OK;
}

/* Whether q holds a word (a non-blank byte), within the limit. */
static lsn_err check_words(const char *q, lsn_error *err)
{
    if (!q)
        return core_fail(err, LSN_ERR_ARG, "the search has no words");
    size_t n = strnlen(q, STORE_FIELD_MAX + 1);
    if (n > STORE_FIELD_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the search is longer than %u bytes",
                         STORE_FIELD_MAX);
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\n\f\v", q[i]))
            return LSN_OK;
    return core_fail(err, LSN_ERR_ARG, "the search has no words");
}

/* Whether s[0..n) is well-formed UTF-8 (no overlong form, surrogate or
 * code point past U+10FFFF). PostgreSQL refuses other text; the store only
 * holds UTF-8, so a query that is not cannot match. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n)
            return 0;
        unsigned cp = k == 1 ? c : c & (0x7f >> k);
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

static lsn_err pg_item_search(store *b, const char *q, const char *channel,
                              const store_classes *vis, int64_t after, store_item_cb cb,
                              void *ctx, lsn_error *err)
{
    pg_store *s = (pg_store *)b;
    lsn_err e = check_words(q, err);
    if (e)
        return e;
    if (vis && vis->all_upto <= 0 && vis->n == 0)
        return LSN_OK; /* nothing is visible: nothing to search */
    if (!utf8_ok((const unsigned char *)q, strlen(q)))
        return LSN_OK; /* every word must match, and one cannot */
    list_ctx l = { .cb.item = cb, .ctx = ctx, .s = s, .channel = channel, .vis = vis };
    if (vis && vis->all_upto <= 0) {
        /* A reader of a list of classes: driven from those classes, so
         * that only their rows are read (pg_conn.c, SEARCH_MERGED). */
        char *arr = class_array(vis, err);
        if (!arr)
            return LSN_ERR_NOMEM;
        pg_arg a[] = { PG_TEXT(channel), PG_TEXT(arr), PG_INT(after), PG_TEXT(q),
                       PG_INT(PG_PAGE) };
        e = pg_query(s, channel ? PG_ITEM_SEARCH_CC : PG_ITEM_SEARCH_C, a, 5, 2, item_row, &l,
                     "searching", err);
        lsn_free(arr);
        return e;
    }
    int64_t bound = vis ? vis->all_upto : INT64_MAX;
    int64_t channel_id = 0;
    if (channel) {
        store_channel *ch = NULL;
        if ((e = pg_channel_get(b, channel, &ch, err)))
            return e;
        channel_id = ch ? ch->id : -1;
        lsn_free(ch);
        if (channel_id < 0)
            return LSN_OK; /* no such channel: no match */
    }
    char *m;
    if ((e = channel_restriction(channel_id, &m, err)))
        return e;
    pg_arg a[] = { PG_TEXT(q), PG_TEXT(m), PG_INT(after), PG_INT(bound), PG_INT(PG_PAGE) };
    e = pg_query(s, m ? PG_ITEM_SEARCH_IN : PG_ITEM_SEARCH, a, 5, 2, item_row, &l, "searching",
                 err);
    lsn_free(m);
    return e;
}

static lsn_err pg_class_list(store *b, int64_t after, store_class_cb cb, void *ctx,
                             lsn_error *err)
{
    list_ctx l = { .cb.cls = cb, .ctx = ctx };
    pg_arg a[] = { PG_INT(after) };
    return pg_query((pg_store *)b, PG_CLASS_LIST, a, 1, -1, class_row, &l,
                    "listing label classes", err);
}

/* Read from the database each time: another node process on the same
 * database adds classes too. */
static lsn_err pg_class_last_id(store *b, int64_t *id_out, lsn_error *err)
{
    *id_out = 0;
    return pg_query((pg_store *)b, PG_CLASS_LAST, NULL, 0, -1, last_row, id_out,
                    "reading the last label class", err);
}

static lsn_err pg_item_last_id(store *b, int64_t *id_out, lsn_error *err)
{
    *id_out = 0;
    return pg_query((pg_store *)b, PG_ITEM_LAST, NULL, 0, -1, last_row, id_out,
                    "reading the last item id", err);
}

static lsn_err pg_audit_list(store *b, uint64_t after, store_audit_cb cb, void *ctx,
                             lsn_error *err)
{
    list_ctx l = { .cb.audit = cb, .ctx = ctx };
    pg_arg a[] = { PG_INT((int64_t)after), PG_INT(PG_PAGE) };
    return pg_query((pg_store *)b, PG_AUDIT_LIST, a, 2, 0, audit_row, &l,
                    "reading the audit log", err);
}

/* ---- other processes' appends ------------------------------------------------------ */

static lsn_err pg_changes_wait(store *b, int timeout_ms, bool *woken, lsn_error *err)
{
    pg_store *s = (pg_store *)b;
    *woken = false;
    if (s->listen.db && PQstatus(s->listen.db) != CONNECTION_OK)
        pg_conn_close(&s->listen); /* the server went away: listen again */
    if (!s->listen.db) {
        lsn_err e = pg_conn_open(&s->listen, s->conninfo, err);
        if (!e && (e = pg_exec(&s->listen, "LISTEN " PG_NOTIFY_CHANNEL, "listening", err)))
            pg_conn_close(&s->listen);
        if (e) {
            /* Not reachable now: the caller's poll goes on meanwhile. */
            struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
            nanosleep(&ts, NULL);
            return e;
        }
        *woken = true; /* anything may have happened while not listening */
        return LSN_OK;
    }
    struct pollfd p = { .fd = PQsocket(s->listen.db), .events = POLLIN };
    if (poll(&p, 1, timeout_ms) > 0 && !PQconsumeInput(s->listen.db))
        return pg_fail(&s->listen, NULL, err, "waiting for notifications");
    PGnotify *nt;
    while ((nt = PQnotifies(s->listen.db))) {
        *woken = true;
        PQfreemem(nt);
    }
    return LSN_OK;
}

/* ---- open and close ----------------------------------------------------------------- */

static void pg_close(store *b)
{
    pg_store *s = (pg_store *)b;
    writer_stop(&s->writer);
    pg_seal_close(s);
    pg_readers_close(s);
    pg_class_cache_clear(s);
    pg_conn_close(&s->w);
    pg_conn_close(&s->listen);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    lsn_free(s->conninfo);
    lsn_free(s->key_path);
    lsn_free(s);
}

static const store_ops pg_ops = {
    .version = STORE_OPS_VERSION,
    .name = "postgresql",
    .close = pg_close,
    .org_add = pg_org_add,
    .org_get = pg_org_get,
    .org_list = pg_org_list,
    .user_add = pg_user_add,
    .user_get = pg_user_get,
    .user_find_by_token = pg_user_find_by_token,
    .user_list = pg_user_list,
    .user_update = pg_user_update,
    .user_find_by_cert = pg_user_find_by_cert,
    .user_find_by_cert_subject = pg_user_find_by_cert_subject,
    .token_add = pg_token_add,
    .token_list = pg_token_list,
    .token_revoke = pg_token_revoke,
    .channel_add = pg_channel_add,
    .channel_get = pg_channel_get,
    .channel_list = pg_channel_list,
    .item_append = pg_item_append,
    .item_append_async = pg_item_append_async,
    .item_get = pg_item_get,
    .item_find = pg_item_find,
    .item_label = pg_item_label,
    .item_list = pg_item_list,
    .item_search = pg_item_search,
    .item_last_id = pg_item_last_id,
    .class_list = pg_class_list,
    .class_last_id = pg_class_last_id,
    .audit_append = pg_audit_append,
    .audit_list = pg_audit_list,
    .fed = &pg_fed_ops,
    .rel = &pg_rel_ops,
    .fedrel = &pg_fedrel_ops,
    .anchor = pg_anchor_read,
    .changes_wait = pg_changes_wait,
};

lsn_err store_pg_open(const char *conninfo, const char *key_dir, store **out, lsn_error *err)
{
    *out = NULL;
    if (!conninfo || !*conninfo)
        return core_fail(err, LSN_ERR_ARG, "no PostgreSQL connection named");
    if (!key_dir || !*key_dir)
        return core_fail(err, LSN_ERR_ARG,
                         "a PostgreSQL store needs a directory for its key and anchor "
                         "(the node's data directory)");
    if (PQlibVersion() < 140000)
        return core_fail(err, LSN_ERR_IO, "libpq %d is older than 14", PQlibVersion());
    if (sodium_init() < 0)
        return core_fail(err, LSN_ERR_IO, "libsodium could not be initialised");
    pg_store *s = core_calloc(1, sizeof *s);
    if (!s)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory opening the store");
    s->base.ops = &pg_ops;
    size_t kn = strlen(key_dir) + sizeof "/postgresql";
    s->conninfo = core_strdup(conninfo);
    s->key_path = core_malloc(kn);
    if (!s->conninfo || !s->key_path) {
        lsn_free(s->conninfo);
        lsn_free(s->key_path);
        lsn_free(s);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory opening the store");
    }
    snprintf(s->key_path, kn, "%s/postgresql", key_dir);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    lsn_err e = pg_conn_open(&s->w, conninfo, err);
    /* The key first: the upgrade to version 12 seals with it. */
    if (e == LSN_OK && (e = pg_seal_open(s, err)) == LSN_OK &&
        (e = pg_schema_migrate(&s->w, &s->keys, err)) == LSN_OK &&
        (e = pg_seal_anchor_start(s, err)) == LSN_OK &&
        (e = writer_start(&s->writer, &pg_writer_ops, s, s->anchor, err)) == LSN_OK) {
        *out = &s->base;
        return LSN_OK;
    }
    pg_seal_close(s);
    pg_readers_close(s);
    pg_conn_close(&s->w);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    lsn_free(s->conninfo);
    lsn_free(s->key_path);
    lsn_free(s);
    return e;
}
