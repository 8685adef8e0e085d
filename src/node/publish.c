/* node/publish.c — the live stream. Posts complete out of id order (the
 * store's group commit acknowledges a whole group at once, and handler
 * threads race), but the hub needs increasing ids so that replay plus live
 * events has no gap and no duplicate. So a post only wakes the publisher
 * thread, which lists from the store what became durable after the last id
 * it published and publishes it in id order. Each subscriber's filter is
 * the reader's access decision (node_may_see); replay after Last-Event-ID
 * reads the store through the same filter. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "node_internal.h"
#include "server/errors.h"

typedef struct item_meta {
    int64_t id;
    const char *label;
    const char *channel;
} item_meta;

typedef struct stream_reader {
    node *n;
    node_reader r;     /* its own copy: the stream outlives the request */
    char *channel;     /* NULL: every channel */
} stream_reader;

static bool stream_filter(void *reader, const void *meta)
{
    stream_reader *s = reader;
    const item_meta *m = meta;
    if (!m || (s->channel && strcmp(s->channel, m->channel) != 0))
        return false;
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
    lsn_free(s);
}

/* Frame one stored item and hand it to fn; false if fn says stop. */
typedef bool (*frame_fn)(void *ctx, const store_item *it, const char *data, size_t len,
                         const item_meta *m);

static bool frame_item(const store_item *it, frame_fn fn, void *ctx)
{
    json_t *j = node_item_json(it);
    char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!data)
        return true; /* out of memory: skip; the client can resume */
    item_meta m = {.id = it->id, .label = it->label, .channel = it->channel};
    bool go = fn(ctx, it, data, strlen(data), &m);
    free(data);
    return go;
}

/* --- replay ----------------------------------------------------------- */

typedef struct replay_ctx {
    srv_sse_emit emit;
    void *emit_ctx;
    bool stopped;
} replay_ctx;

static bool replay_frame(void *ctx, const store_item *it, const char *data, size_t len,
                         const item_meta *m)
{
    replay_ctx *rc = ctx;
    if (!rc->emit(rc->emit_ctx, (uint64_t)it->id, "item", data, len, m)) {
        rc->stopped = true;
        return false;
    }
    return true;
}

static int replay_cb(void *ctx, const store_item *it)
{
    return frame_item(it, replay_frame, ctx) ? STORE_NEXT : STORE_STOP;
}

void node_stream_replay(void *ctx, uint64_t after, srv_sse_emit emit, void *emit_ctx)
{
    node *n = ctx;
    replay_ctx rc = {.emit = emit, .emit_ctx = emit_ctx};
    lsn_error err;
    if (after > INT64_MAX)
        return;
    if (store_item_list(n->st, NULL, (int64_t)after, replay_cb, &rc, &err) != LSN_OK)
        fprintf(stderr, "liaison: stream replay: %s\n", err.message);
}

/* --- publisher -------------------------------------------------------- */

static bool publish_frame(void *ctx, const store_item *it, const char *data, size_t len,
                          const item_meta *m)
{
    node *n = ctx;
    (void)srv_sse_publish(n->hub, (uint64_t)it->id, "item", data, len, m);
    return true;
}

typedef struct pub_scan {
    node *n;
    int64_t last;
} pub_scan;

static int publish_cb(void *ctx, const store_item *it)
{
    pub_scan *p = ctx;
    frame_item(it, publish_frame, p->n);
    p->last = it->id;
    return STORE_NEXT;
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
        lsn_error err;
        if (store_item_list(n->st, NULL, p.last, publish_cb, &p, &err) != LSN_OK)
            fprintf(stderr, "liaison: publisher: %s\n", err.message);
        pthread_mutex_lock(&n->pub_lock);
        n->published = p.last;
    }
    pthread_mutex_unlock(&n->pub_lock);
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
        return lsn_fail(err, LSN_ERR_NOMEM, "cannot start the publisher thread");
    }
    n->pub_started = true;
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
}

/* --- GET /api/v1/stream ----------------------------------------------- */

void node_h_stream(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    node_reader *r = req->user;
    const char *channel = srv_req_query(req, "channel");
    lsn_error err;
    if (channel && *channel) {
        store_channel *c = NULL;
        if (store_channel_get(n->st, channel, &c, &err) != LSN_OK) {
            srv_resp_error(resp, 500, SRV_E_INTERNAL, "The store failed; try again.");
            return;
        }
        if (!c) {
            srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "No such channel.");
            return;
        }
        lsn_free(c);
    }
    stream_reader *s = lsn_calloc(1, sizeof *s);
    size_t ulen = sizeof *r->user; /* only the fields the filter needs */
    if (s)
        s->r.user = lsn_malloc(ulen);
    if (!s || !s->r.user ||
        (channel && *channel && !(s->channel = lsn_strdup(channel)))) {
        if (s)
            lsn_free(s->r.user);
        lsn_free(s);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    memset(s->r.user, 0, ulen);
    s->n = n;
    if (r->clearance && lsn_clearance_parse(n->set, r->user->clearance,
                                            strlen(r->user->clearance), LSN_FORM_JSON,
                                            &s->r.clearance, &err) != LSN_OK)
        s->r.clearance = NULL;
    char object[300];
    snprintf(object, sizeof object, "stream:%s", s->channel ? s->channel : "*");
    (void)node_audit(n, r->user->name, "stream", object, "ok", NULL);
    srv_resp_sse(req, resp, s, stream_filter, stream_reader_free);
}
