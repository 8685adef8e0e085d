/* node/publish.c — the live stream. Posts complete out of id order (the
 * store's group commit acknowledges a whole group at once, and handler
 * threads race), but the hub needs increasing ids so that replay plus live
 * events has no gap and no duplicate. So a post only wakes the publisher
 * thread, which lists from the store what became durable after the last id
 * it published and publishes it in id order. Each subscriber's filter is
 * the reader's access decision (node_may_see); replay after Last-Event-ID
 * reads from the store only the items of the reader's visible classes
 * (visible.c), and they pass the same filter.
 *
 * Event ids: the item's public id (a random UUID), the same for every
 * reader who may see it and unchanged by anything it may not see. A
 * Last-Event-ID is honoured only when it names an item the reader may see
 * now, or is "0" (replay from the start); any other value (malformed, unknown, an item it may not see) is
 * refused with one and the same 400, so a resume tells nothing either.
 *
 * Release requests' notices (release_notice.c) go through the same hub
 * without an id: only to the streams of the request's parties, decided per
 * connection when sent; never replayed (the page reads its requests again
 * when it reconnects). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "node_internal.h"
#include "server/errors.h"
#include "server/log.h"

typedef struct item_meta {
    int64_t id;
    const uint8_t *uuid;
    const char *label;
    const char *channel;
    const node_label_entry *entry; /* the live publisher's, or NULL (replay) */
    const node_parties *parties;   /* a release request's notice: no item */
} item_meta;

typedef struct stream_reader {
    node *n;
    node_reader r;     /* its own copy: the stream outlives the request */
    char *channel;     /* NULL: every channel */
    char *clearance_text; /* r.user->clearance points here */
    char *user;        /* whose stream: ended when their account changes */
    unsigned roles;    /* its user's, when it opened (a change ends it) */
    bool by_session;   /* opened in a web session ... */
    uint8_t session[SRV_TOKEN_HASH_LEN]; /* ... with this hash: ended at sign-out */
} stream_reader;

static bool reader_is_user(void *reader, void *ctx)
{
    const stream_reader *s = reader;
    return s->user && strcmp(s->user, ctx) == 0;
}

static bool reader_is_session(void *reader, void *ctx)
{
    const stream_reader *s = reader;
    return s->by_session && srv_token_hash_equal(s->session, ctx);
}

void node_streams_end_user(node *n, const char *user)
{
    if (n->hub && user)
        (void)srv_sse_hub_end(n->hub, reader_is_user, (void *)user);
}

void node_streams_end_session(node *n, const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    if (n->hub)
        (void)srv_sse_hub_end(n->hub, reader_is_session, (void *)hash);
}

static bool stream_filter(void *reader, const void *meta)
{
    stream_reader *s = reader;
    const item_meta *m = meta;
    if (m && m->parties) /* a request's notice: its parties only, any channel */
        return node_parties_admit(m->parties, s->user, s->roles);
    if (!m || (s->channel && strcmp(s->channel, m->channel) != 0))
        return false;
    /* Live events come with the label entry resolved once for all the
     * subscribers; replayed ones go through the cache. Same decision. */
    if (m->entry)
        return node_may_see_entry(s->n, &s->r, m->entry);
    return node_may_see(s->n, &s->r, m->id, m->label);
}

static void stream_reader_free(void *reader)
{
    stream_reader *s = reader;
    if (!s)
        return;
    lsn_clearance_free(s->r.clearance);
    lsn_free(s->r.user);
    lsn_free(s->channel);
    lsn_free(s->clearance_text);
    lsn_free(s->user);
    lsn_free(s);
}

size_t node_stream_event_id(const void *meta, char *buf, size_t cap)
{
    const item_meta *m = meta;
    char u[37];
    if (!m || !m->uuid || cap < 36)
        return 0;
    store_uuid_text(m->uuid, u);
    memcpy(buf, u, 36);
    return 36;
}

void node_stream_notice(node *n, const char *event, const char *data, size_t len,
                        const node_parties *p)
{
    item_meta m = {.parties = p};
    if (n->hub && p)
        (void)srv_sse_notify(n->hub, event, data, len, &m);
}

/* --- replay ----------------------------------------------------------- */

typedef struct replay_ctx {
    node *n;
    srv_sse_emit emit;
    void *emit_ctx;
} replay_ctx;

static int replay_cb(void *ctx, const store_item *it)
{
    replay_ctx *rc = ctx;
    size_t len;
    /* The event's data is the item's cached list form (the hub's filter
     * then decides, per reader, whether it is emitted). */
    char *data = node_item_fragment(rc->n, it, &len);
    item_meta m = {.id = it->id, .uuid = it->uuid, .label = it->label,
                   .channel = it->channel};
    if (!data) {
        /* Out of memory: tell the hub (NULL data), which ends this stream
         * after what it has if the reader may see the item; the client
         * then resumes from there. Never a silent gap. */
        return rc->emit(rc->emit_ctx, (uint64_t)it->id, "item", NULL, 0, &m) ? STORE_NEXT
                                                                               : STORE_STOP;
    }
    bool go = rc->emit(rc->emit_ctx, (uint64_t)it->id, "item", data, len, &m);
    lsn_free(data);
    return go ? STORE_NEXT : STORE_STOP;
}

void node_stream_replay(void *ctx, void *reader, uint64_t after, srv_sse_emit emit,
                        void *emit_ctx)
{
    node *n = ctx;
    stream_reader *s = reader;
    replay_ctx rc = {.n = n, .emit = emit, .emit_ctx = emit_ctx};
    lsn_error err;
    if (after > INT64_MAX || !s)
        return;
    node_visible *v = node_visible_get(n, &s->r, &err);
    if (!v) {
        srv_log(SRV_LOG_ERROR, "stream replay: %s", err.message);
        return;
    }
    store_classes buf;
    if (store_item_list(n->st, s->channel, node_visible_classes(v, &buf), (int64_t)after, 0,
                        replay_cb, &rc, &err) != LSN_OK)
        srv_log(SRV_LOG_ERROR, "stream replay: %s", err.message);
    node_visible_release(v);
}

/* --- publisher -------------------------------------------------------- */

/* Events published before the hub wakes the subscribers' connections: a
 * subscriber with several new events is resumed once and writes them in one
 * go; the bound keeps a long backlog from filling a queue before it drains. */
#define PUB_BATCH 32u

typedef struct pub_scan {
    node *n;
    int64_t last;
    unsigned held; /* published since the last wake */
} pub_scan;

static int publish_cb(void *ctx, const store_item *it)
{
    pub_scan *p = ctx;
    size_t len;
    char *data = node_item_fragment(p->n, it, &len);
    if (data) {
        node_label_entry *e = node_label_get(p->n, it->id, it->label);
        item_meta m = {.id = it->id, .uuid = it->uuid, .label = it->label,
                       .channel = it->channel, .entry = e};
        (void)srv_sse_publish_held(p->n->hub, (uint64_t)it->id, "item", data, len, &m);
        node_label_json_release(e);
        lsn_free(data);
    } /* out of memory: skipped; a client resuming after it replays it */
    p->last = it->id;
    if (++p->held >= PUB_BATCH) {
        srv_sse_wake(p->n->hub);
        p->held = 0;
    }
    return STORE_NEXT;
}

/* Publish what became durable after p->last (in id order). With no
 * subscriber there is nobody to publish to, and nothing is rendered: the
 * publisher only moves past the durable items. That loses nothing: the
 * highest id is read BEFORE the hub is seen empty, so a subscriber that
 * arrives afterwards registers after those items were durable, and its
 * replay (Last-Event-ID) reads them from the store. */
static void publish_new(pub_scan *p)
{
    node *n = p->n;
    lsn_error err;
    if (srv_sse_hub_subscribers(n->hub) == 0) {
        int64_t top = 0;
        if (store_item_last_id(n->st, &top, &err) != LSN_OK) {
            srv_log(SRV_LOG_ERROR, "publisher: %s", err.message);
            return;
        }
        if (top <= p->last)
            return;
        if (srv_sse_hub_subscribers(n->hub) == 0) { /* still none, after reading top */
            p->last = top;
            return;
        }
    }
    if (store_item_list(n->st, NULL, NULL, p->last, 0, publish_cb, p, &err) != LSN_OK)
        srv_log(SRV_LOG_ERROR, "publisher: %s", err.message);
    srv_sse_wake(n->hub);
    p->held = 0;
}

static void *publisher_main(void *arg)
{
    node *n = arg;
    pthread_mutex_lock(&n->pub_lock);
    for (;;) {
        while (!n->pub_wake && !n->pub_stop)
            pthread_cond_wait(&n->pub_cond, &n->pub_lock);
        if (n->pub_stop)
            break;
        n->pub_wake = false;
        pub_scan p = {.n = n, .last = n->published};
        pthread_mutex_unlock(&n->pub_lock);
        publish_new(&p);
        pthread_mutex_lock(&n->pub_lock);
        n->published = p.last;
    }
    pthread_mutex_unlock(&n->pub_lock);
    return NULL;
}

/* How long the watcher waits for a notification before it wakes the
 * publisher anyway: the poll that covers a lost notification. */
#define NODE_WATCH_MS 1000

static bool publisher_stopping(node *n)
{
    pthread_mutex_lock(&n->pub_lock);
    bool stop = n->pub_stop;
    pthread_mutex_unlock(&n->pub_lock);
    return stop;
}

/* Several node processes on one database: an item another process
 * appended is published here from the durable log (after the last id
 * published, in order), woken by its notification or by the poll. */
static void *watcher_main(void *arg)
{
    node *n = arg;
    while (!publisher_stopping(n)) {
        bool woken = false;
        lsn_error err;
        lsn_err rc = store_changes_wait(n->st, NODE_WATCH_MS, &woken, &err);
        if (rc != LSN_OK && rc != LSN_ERR_IO)
            break;
        node_publisher_wake(n);
    }
    return NULL;
}

lsn_err node_publisher_start(node *n, lsn_error *err)
{
    int64_t last = 0;
    lsn_err rc = store_item_last_id(n->st, &last, err);
    if (rc != LSN_OK)
        return rc;
    pthread_mutex_init(&n->pub_lock, NULL);
    pthread_cond_init(&n->pub_cond, NULL);
    n->published = last;
    if (pthread_create(&n->publisher, NULL, publisher_main, n) != 0) {
        return core_fail(err, LSN_ERR_NOMEM, "cannot start the publisher thread");
    }
    n->pub_started = true;
    /* A store that other processes append items to is watched; a SQLite
     * store answers that there is nothing to wait for. */
    bool woken;
    lsn_error ignored;
    if (store_changes_wait(n->st, 0, &woken, &ignored) != LSN_ERR_ARG &&
        pthread_create(&n->watcher, NULL, watcher_main, n) == 0)
        n->watch_started = true;
    return LSN_OK;
}

void node_publisher_wake(node *n)
{
    pthread_mutex_lock(&n->pub_lock);
    n->pub_wake = true;
    pthread_cond_signal(&n->pub_cond);
    pthread_mutex_unlock(&n->pub_lock);
}

void node_publisher_stop(node *n)
{
    if (!n->pub_started)
        return;
    pthread_mutex_lock(&n->pub_lock);
    n->pub_stop = true;
    pthread_cond_signal(&n->pub_cond);
    pthread_mutex_unlock(&n->pub_lock);
    pthread_join(n->publisher, NULL);
    n->pub_started = false;
    if (n->watch_started) /* within NODE_WATCH_MS */
        pthread_join(n->watcher, NULL);
    n->watch_started = false;
}

/* --- GET /api/v1/stream ----------------------------------------------- */

/* store_version_cb: the lowest row of an item (its first version). */
static int first_row(void *ctx, int64_t row, int version, const char *hidden)
{
    (void)version, (void)hidden;
    int64_t *first = ctx;
    if (row < *first)
        *first = row;
    return STORE_NEXT;
}

/* The resume point of a Last-Event-ID: the internal id of the item it
 * names, if this reader may see it; false for anything else. */
static bool resume_point(node *n, const node_reader *r, const char *lei, uint64_t *after)
{
    uint8_t uuid[STORE_UUID_LEN];
    store_item_ref ref;
    lsn_error err;
    if (strcmp(lei, "0") == 0) {
        *after = 0; /* "0": from the start (every item the reader may see) */
        return true;
    }
    if (!store_uuid_parse(lei, uuid))
        return false;
    if (store_item_find(n->st, uuid, &ref, &err) != LSN_OK) {
        srv_log(SRV_LOG_ERROR, "stream: %s", err.message);
        return false;
    }
    node_visible *v = node_visible_get(n, r, &err);
    bool ok = v && ref.id > 0 && node_visible_has(v, ref.class_id);
    node_visible_release(v);
    /* An item with later versions (docs/RELEASE.md) has one event id for
     * all of them: resume after its first, so that a reader who last saw
     * an earlier version loses nothing published since (one who saw the
     * latest gets a few events again, which a client drops by id). */
    int64_t first = ref.id;
    if (ok && store_item_versions(n->st, uuid, first_row, &first, &err) != LSN_OK)
        ok = false;
    if (ok)
        *after = (uint64_t)first;
    return ok;
}

void node_h_stream(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    node_reader *r = req->user;
    const char *channel = srv_req_query(req, "channel");
    if (channel && *channel && !node_channel_exists(n, channel, NULL, 0, resp))
        return;
    const char *lei = srv_req_header(req, "Last-Event-ID");
    uint64_t after = 0;
    if (lei && !resume_point(n, r, lei, &after)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "Last-Event-ID is not an event id of this stream.");
        return;
    }
    lsn_error err;
    stream_reader *s = core_calloc(1, sizeof *s);
    size_t ulen = sizeof *r->user; /* only the fields the filter needs */
    if (s)
        s->r.user = core_malloc(ulen);
    if (!s || !s->r.user ||
        (channel && *channel && !(s->channel = core_strdup(channel))) ||
        !(s->clearance_text = core_strdup(r->user->clearance)) ||
        !(s->user = core_strdup(r->user->name))) {
        if (s) {
            lsn_free(s->r.user);
            lsn_free(s->channel);
            lsn_free(s->clearance_text);
        }
        lsn_free(s);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    memset(s->r.user, 0, ulen);
    s->r.user->clearance = s->clearance_text; /* the visible classes' key */
    s->n = n;
    s->roles = r->user->roles;
    s->by_session = req->by_session;
    memcpy(s->session, req->session_hash, sizeof s->session);
    if (r->clearance && lsn_clearance_parse(n->set, r->user->clearance,
                                            strlen(r->user->clearance), LSN_FORM_JSON,
                                            &s->r.clearance, &err) != LSN_OK)
        s->r.clearance = NULL;
    char object[300];
    snprintf(object, sizeof object, "stream:%s", s->channel ? s->channel : "*");
    (void)node_audit(n, r->user->name, "stream", object, "ok", NULL);
    srv_resp_sse_from(req, resp, s, stream_filter, stream_reader_free, lei != NULL, after);
}
