/* server/sse.c — the Server-Sent Events hub: shared frames, bounded
 * per-subscriber queues, suspend/resume of idle stream connections. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include "core/alloc.h"
#include "server/errors.h"
#include "server/metrics.h"
#include "server/sse.h"

/* One formatted event, shared by every queue that holds it. */
typedef struct frame {
    _Atomic size_t refs;
    uint64_t id;
    bool notice; /* no "id:" line, outside the id order (srv_sse_notify) */
    size_t len;
    char data[];
} frame;

struct srv_sse_sub {
    srv_sse_hub *hub;
    pthread_mutex_t mu;
    frame **ring;          /* queue_max slots */
    size_t head, count, off; /* off: bytes of ring[head] already written */
    char hello[64];        /* "retry:" line sent first */
    size_t hello_len, hello_off;
    bool registered;       /* in hub->subs */
    bool suspended;        /* its connection is suspended in MHD */
    bool closing;          /* end the stream once the queue is written */
    bool overflow;         /* fell behind: dropped */
    bool heartbeat_due;
    bool wake_pending;     /* held events queued while suspended (srv_sse_wake) */
    uint64_t skip_through; /* ids up to this were replayed: never again live */
    struct timespec last_write;
    struct MHD_Connection *conn;
    void *reader;
    srv_sse_filter filter;
    void (*reader_free)(void *);
};

struct srv_sse_hub {
    srv_sse_hub_opts o;
    pthread_rwlock_t lock;  /* guards subs, nsubs, closed */
    srv_sse_sub **subs;
    size_t nsubs, cap;
    bool closed;
    pthread_t beat;
    pthread_mutex_t beat_mu;
    pthread_cond_t beat_cv;
    bool beat_stop;
};

static void frame_unref(frame *f)
{
    if (f && atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
        lsn_free(f);
}

/* Format "id: N\nevent: E\ndata: line\n...\n\n" once (a notice has no
 * "id:" line). Lines are found with memchr: a JSON payload usually has
 * none, and this runs once per published event. */
static frame *frame_make(const srv_sse_hub *h, uint64_t id, const char *event,
                         const char *data, size_t len, const void *meta, bool notice)
{
    /* The id the client sees: the embedder's text for the event (an
     * opaque public id), or the number. */
    char idtext[SRV_SSE_ID_MAX + 1];
    size_t idlen = 0;
    if (notice) {
        idlen = 0;
    } else if (h->o.event_id) {
        idlen = h->o.event_id(meta, idtext, sizeof idtext);
        if (idlen == 0 || idlen > SRV_SSE_ID_MAX || memchr(idtext, '\n', idlen) ||
            memchr(idtext, '\r', idlen))
            return NULL;
    } else {
        idlen = (size_t)snprintf(idtext, sizeof idtext, "%" PRIu64, id);
    }
    size_t lines = 1;
    for (const char *c = data, *end = data + len; (c = memchr(c, '\n', (size_t)(end - c)));
         c++)
        lines++;
    size_t evlen = event ? strlen(event) : 0;
    if (evlen > 64 || (event && strpbrk(event, "\r\n")))
        return NULL;
    size_t cap = 8 + idlen + (evlen ? evlen + 8 : 0) + len + lines * 7 + 2;
    frame *f = core_malloc(sizeof *f + cap);
    if (!f)
        return NULL;
    atomic_init(&f->refs, 1);
    f->id = id;
    f->notice = notice;
    char *p = f->data;
    if (!notice) {
        memcpy(p, "id: ", 4), p += 4;
        memcpy(p, idtext, idlen), p += idlen;
        *p++ = '\n';
    }
    if (evlen) {
        memcpy(p, "event: ", 7), p += 7;
        memcpy(p, event, evlen), p += evlen;
        *p++ = '\n';
    }
    size_t start = 0;
    while (start <= len) {
        const char *nl = memchr(data + start, '\n', len - start);
        size_t i = nl ? (size_t)(nl - data) : len;
        size_t n = i - start;
        if (n && data[i - 1] == '\r')
            n--; /* a CR would end the line early in SSE */
        memcpy(p, "data: ", 6), p += 6;
        memcpy(p, data + start, n), p += n;
        *p++ = '\n';
        start = i + 1;
    }
    *p++ = '\n';
    f->len = (size_t)(p - f->data);
    return f;
}

/* Push f onto sub's queue (sub->mu held); *queued says whether it was.
 * Returns true when its connection is suspended and must be resumed. */
static bool sub_push_locked(srv_sse_sub *s, frame *f, bool *queued)
{
    *queued = false;
    /* An event the replay already gave (committed before it was
     * published) must not come a second time. */
    if (s->closing || s->overflow || (!f->notice && f->id <= s->skip_through))
        return false;
    size_t qmax = s->hub->o.queue_max;
    if (s->count == qmax) {
        /* Too slow: stop feeding it; it writes what it has and ends. */
        s->overflow = true;
        srv_metrics_stream_dropped(s->hub->o.metrics);
    } else {
        atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
        s->ring[(s->head + s->count) % qmax] = f;
        s->count++;
        *queued = true;
    }
    return s->suspended && s->conn;
}

/* Resume s's connection if it is suspended — only if it has held events
 * when pending_only (takes s->mu). The sub cannot go away meanwhile: the
 * caller holds the hub's read lock, and freeing needs the write lock. */
static void sub_wake(srv_sse_sub *s, bool pending_only)
{
    pthread_mutex_lock(&s->mu);
    bool wake = s->suspended && s->conn && (s->wake_pending || !pending_only);
    if (wake)
        s->suspended = false;
    s->wake_pending = false;
    pthread_mutex_unlock(&s->mu);
    /* Outside the sub lock: MHD takes its own locks. */
    if (wake)
        MHD_resume_connection(s->conn);
}

static long publish(srv_sse_hub *h, uint64_t id, const char *event, const char *data,
                    size_t len, const void *meta, bool hold, bool notice)
{
    if (!h || len > SRV_SSE_MAX_DATA || (!data && len))
        return -1;
    frame *f = frame_make(h, id, event, data ? data : "", len, meta, notice);
    if (!f)
        return -1;
    long n = 0;
    pthread_rwlock_rdlock(&h->lock);
    for (size_t i = 0; i < h->nsubs; i++) {
        srv_sse_sub *s = h->subs[i];
        if (!s->filter(s->reader, meta))
            continue;
        bool queued;
        pthread_mutex_lock(&s->mu);
        bool wake = sub_push_locked(s, f, &queued);
        if (wake && hold)
            s->wake_pending = true; /* srv_sse_wake resumes it */
        pthread_mutex_unlock(&s->mu);
        if (wake && !hold)
            sub_wake(s, false);
        n += queued;
    }
    pthread_rwlock_unlock(&h->lock);
    frame_unref(f);
    return n;
}

long srv_sse_publish(srv_sse_hub *h, uint64_t id, const char *event,
                     const char *data, size_t len, const void *meta)
{
    return publish(h, id, event, data, len, meta, false, false);
}

long srv_sse_publish_held(srv_sse_hub *h, uint64_t id, const char *event,
                          const char *data, size_t len, const void *meta)
{
    return publish(h, id, event, data, len, meta, true, false);
}

long srv_sse_notify(srv_sse_hub *h, const char *event, const char *data, size_t len,
                    const void *meta)
{
    return publish(h, 0, event, data, len, meta, false, true);
}

void srv_sse_wake(srv_sse_hub *h)
{
    if (!h)
        return;
    pthread_rwlock_rdlock(&h->lock);
    for (size_t i = 0; i < h->nsubs; i++)
        sub_wake(h->subs[i], true);
    pthread_rwlock_unlock(&h->lock);
}

static long elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (long)((b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000);
}

/* The heartbeat thread: every so often, mark idle streams so that they
 * write a comment line (keeps proxies from timing them out, and lets the
 * server notice a client that went away). */
static void *beat_main(void *arg)
{
    srv_sse_hub *h = arg;
    unsigned period = h->o.heartbeat_ms / 2 ? h->o.heartbeat_ms / 2 : 1;
    pthread_mutex_lock(&h->beat_mu);
    while (!h->beat_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += period / 1000;
        until.tv_nsec += (long)(period % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&h->beat_cv, &h->beat_mu, &until);
        if (h->beat_stop)
            break;
        pthread_mutex_unlock(&h->beat_mu);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        pthread_rwlock_rdlock(&h->lock);
        for (size_t i = 0; i < h->nsubs; i++) {
            srv_sse_sub *s = h->subs[i];
            pthread_mutex_lock(&s->mu);
            bool wake = false;
            if (elapsed_ms(&s->last_write, &now) >= (long)h->o.heartbeat_ms) {
                s->heartbeat_due = true;
                if (s->suspended && s->conn) {
                    s->suspended = false;
                    wake = true;
                }
            }
            pthread_mutex_unlock(&s->mu);
            if (wake)
                MHD_resume_connection(s->conn);
        }
        pthread_rwlock_unlock(&h->lock);
        pthread_mutex_lock(&h->beat_mu);
    }
    pthread_mutex_unlock(&h->beat_mu);
    return NULL;
}

srv_sse_hub *srv_sse_hub_new(const srv_sse_hub_opts *o)
{
    srv_sse_hub *h = core_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (o)
        h->o = *o;
    if (!h->o.queue_max)
        h->o.queue_max = 4096;
    if (!h->o.max_subscribers)
        h->o.max_subscribers = 10000;
    if (!h->o.heartbeat_ms)
        h->o.heartbeat_ms = 15000;
    if (!h->o.retry_ms)
        h->o.retry_ms = 2000;
    pthread_rwlock_init(&h->lock, NULL);
    pthread_mutex_init(&h->beat_mu, NULL);
    pthread_cond_init(&h->beat_cv, NULL);
    if (pthread_create(&h->beat, NULL, beat_main, h) != 0) {
        pthread_rwlock_destroy(&h->lock);
        pthread_mutex_destroy(&h->beat_mu);
        pthread_cond_destroy(&h->beat_cv);
        lsn_free(h);
        return NULL;
    }
    return h;
}

void srv_sse_hub_close(srv_sse_hub *h)
{
    if (!h)
        return;
    pthread_rwlock_wrlock(&h->lock);
    h->closed = true;
    pthread_rwlock_unlock(&h->lock);
    pthread_rwlock_rdlock(&h->lock);
    for (size_t i = 0; i < h->nsubs; i++) {
        srv_sse_sub *s = h->subs[i];
        pthread_mutex_lock(&s->mu);
        s->closing = true;
        bool wake = s->suspended && s->conn;
        if (wake)
            s->suspended = false;
        pthread_mutex_unlock(&s->mu);
        if (wake)
            MHD_resume_connection(s->conn);
    }
    pthread_rwlock_unlock(&h->lock);
}

size_t srv_sse_hub_end(srv_sse_hub *h, bool (*which)(void *reader, void *ctx), void *ctx)
{
    size_t n = 0;
    if (!h)
        return 0;
    pthread_rwlock_rdlock(&h->lock);
    for (size_t i = 0; i < h->nsubs; i++) {
        srv_sse_sub *s = h->subs[i];
        if (!which(s->reader, ctx))
            continue;
        pthread_mutex_lock(&s->mu);
        s->closing = true;
        bool wake = s->suspended && s->conn;
        if (wake)
            s->suspended = false;
        pthread_mutex_unlock(&s->mu);
        if (wake)
            MHD_resume_connection(s->conn);
        n++;
    }
    pthread_rwlock_unlock(&h->lock);
    return n;
}

void srv_sse_hub_free(srv_sse_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->beat_mu);
    h->beat_stop = true;
    pthread_cond_signal(&h->beat_cv);
    pthread_mutex_unlock(&h->beat_mu);
    pthread_join(h->beat, NULL);
    if (h->nsubs)
        core_misuse("srv_sse_hub_free with live subscribers");
    lsn_free(h->subs);
    pthread_rwlock_destroy(&h->lock);
    pthread_mutex_destroy(&h->beat_mu);
    pthread_cond_destroy(&h->beat_cv);
    lsn_free(h);
}

void srv_sse_hub_set_metrics(srv_sse_hub *h, struct srv_metrics *m)
{
    pthread_rwlock_wrlock(&h->lock);
    if (!h->o.metrics)
        h->o.metrics = m;
    pthread_rwlock_unlock(&h->lock);
}

size_t srv_sse_hub_subscribers(srv_sse_hub *h)
{
    pthread_rwlock_rdlock(&h->lock);
    size_t n = h->nsubs;
    pthread_rwlock_unlock(&h->lock);
    return n;
}

/* Replay collects into a private list first; the merge with live events
 * happens under the sub lock afterwards. */
struct replay_buf {
    srv_sse_sub *sub;
    frame **items;
    size_t n, cap;
    bool full;
};

static bool replay_emit(void *ctx, uint64_t id, const char *event,
                        const char *data, size_t len, const void *meta)
{
    struct replay_buf *rb = ctx;
    if (rb->n == rb->cap) {
        rb->full = true;
        return false;
    }
    if (rb->n && id <= rb->items[rb->n - 1]->id)
        return true; /* out of order: the replayer's bug; skip, never repeat */
    if (!rb->sub->filter(rb->sub->reader, meta))
        return true;
    if (!data) {
        /* The replayer could not produce it: end the stream here (as when
         * full) so that the client resumes, rather than leave a gap. */
        rb->full = true;
        return false;
    }
    if (len > SRV_SSE_MAX_DATA)
        return true; /* never published live either */
    frame *f = frame_make(rb->sub->hub, id, event, data ? data : "", len, meta, false);
    if (!f) {
        rb->full = true;
        return false;
    }
    rb->items[rb->n++] = f;
    return true;
}

static void sub_destroy(srv_sse_sub *s)
{
    size_t qmax = s->hub->o.queue_max;
    for (size_t i = 0; i < s->count; i++)
        frame_unref(s->ring[(s->head + i) % qmax]);
    lsn_free(s->ring);
    pthread_mutex_destroy(&s->mu);
    if (s->reader_free)
        s->reader_free(s->reader);
    lsn_free(s);
}

srv_sse_sub *srv_sse_subscribe(srv_sse_hub *h, void *reader, srv_sse_filter filter,
                               void (*reader_free)(void *), bool resume,
                               uint64_t last_id)
{
    srv_sse_sub *s = core_calloc(1, sizeof *s);
    if (!s || !filter) {
        lsn_free(s);
        if (reader_free)
            reader_free(reader);
        return NULL;
    }
    s->hub = h;
    s->reader = reader;
    s->filter = filter;
    s->reader_free = reader_free;
    pthread_mutex_init(&s->mu, NULL);
    clock_gettime(CLOCK_MONOTONIC, &s->last_write);
    s->hello_len = (size_t)snprintf(s->hello, sizeof s->hello, "retry: %u\n\n",
                                    h->o.retry_ms);
    s->ring = core_calloc(h->o.queue_max, sizeof *s->ring);
    if (!s->ring) {
        sub_destroy(s);
        return NULL;
    }
    /* Register first, then replay: an event committed after the replay read
     * the store is caught live; one caught both ways is dropped by id. */
    pthread_rwlock_wrlock(&h->lock);
    bool ok = !h->closed && h->nsubs < h->o.max_subscribers;
    if (ok && h->nsubs == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 16;
        srv_sse_sub **n = core_realloc(h->subs, ncap * sizeof *n);
        if (n) {
            h->subs = n;
            h->cap = ncap;
        } else {
            ok = false;
        }
    }
    if (ok) {
        h->subs[h->nsubs++] = s;
        s->registered = true;
    }
    pthread_rwlock_unlock(&h->lock);
    if (!ok) {
        sub_destroy(s);
        return NULL;
    }
    srv_metrics_stream_clients(h->o.metrics, +1);
    if (!resume || !h->o.replay)
        return s;

    struct replay_buf rb = {.sub = s, .cap = h->o.queue_max};
    rb.items = core_calloc(rb.cap, sizeof *rb.items);
    if (rb.items)
        h->o.replay(h->o.replay_ctx, s->reader, last_id, replay_emit, &rb);
    else
        rb.full = true;

    pthread_mutex_lock(&s->mu);
    size_t qmax = h->o.queue_max;
    uint64_t seen = rb.n ? rb.items[rb.n - 1]->id : last_id;
    frame **merged = rb.items;
    size_t m = rb.n;
    for (size_t i = 0; i < s->count; i++) {
        frame *f = s->ring[(s->head + i) % qmax];
        /* A notice caught while replaying stays (it has no place in the
         * id order, and no replay gives it). */
        bool keep = f->notice || f->id > seen;
        if (keep && merged && m < qmax) {
            merged[m++] = f;
        } else {
            if (keep)
                rb.full = true; /* no room: the client resumes later */
            frame_unref(f);
        }
    }
    if (merged) {
        /* The replay buffer becomes the ring, in order from slot 0. */
        lsn_free(s->ring);
        s->ring = merged;
        s->head = 0;
        s->count = m;
    } else {
        s->head = s->count = 0;
    }
    s->skip_through = seen;
    if (rb.full) {
        s->overflow = true;
        srv_metrics_stream_dropped(h->o.metrics);
    }
    pthread_mutex_unlock(&s->mu);
    return s;
}

/* Unregister s from its hub (write lock: no publisher is looking at it). */
static void sub_unregister(srv_sse_sub *s)
{
    srv_sse_hub *h = s->hub;
    if (!s->registered)
        return;
    pthread_rwlock_wrlock(&h->lock);
    for (size_t i = 0; i < h->nsubs; i++)
        if (h->subs[i] == s) {
            h->subs[i] = h->subs[--h->nsubs];
            break;
        }
    s->registered = false;
    pthread_rwlock_unlock(&h->lock);
    srv_metrics_stream_clients(h->o.metrics, -1);
}

void srv_sse_sub_free(srv_sse_sub *s)
{
    if (!s)
        return;
    sub_unregister(s);
    sub_destroy(s);
}

/* libmicrohttpd's content reader: write as many queued frames as fit in
 * buf (one write for many events), else suspend until a publisher or the
 * heartbeat resumes the connection. */
static ssize_t sub_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    srv_sse_sub *s = cls;
    size_t n = 0;
    uint64_t delivered = 0;
    pthread_mutex_lock(&s->mu);
    if (s->hello_off < s->hello_len) {
        size_t k = s->hello_len - s->hello_off;
        if (k > max)
            k = max;
        memcpy(buf, s->hello + s->hello_off, k);
        s->hello_off += k;
        n += k;
    }
    size_t qmax = s->hub->o.queue_max;
    while (s->count && n < max) {
        frame *f = s->ring[s->head];
        size_t k = f->len - s->off;
        if (k > max - n)
            k = max - n;
        memcpy(buf + n, f->data + s->off, k);
        n += k;
        s->off += k;
        if (s->off == f->len) {
            frame_unref(f);
            s->ring[s->head] = NULL;
            s->head = (s->head + 1) % qmax;
            s->count--;
            s->off = 0;
            delivered++;
        }
    }
    if (n == 0 && s->heartbeat_due && max >= 3) {
        memcpy(buf, ":\n\n", 3);
        n = 3;
    }
    if (n > 0) {
        s->heartbeat_due = false;
        clock_gettime(CLOCK_MONOTONIC, &s->last_write);
        pthread_mutex_unlock(&s->mu);
        if (delivered)
            srv_metrics_stream_delivered(s->hub->o.metrics, delivered);
        return (ssize_t)n;
    }
    if (s->closing || s->overflow) {
        pthread_mutex_unlock(&s->mu);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    s->suspended = true;
    MHD_suspend_connection(s->conn);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void sub_response_free(void *cls)
{
    srv_sse_sub_free(cls);
}

struct MHD_Response *srv_sse_sub_start(srv_sse_sub *s, void *conn)
{
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, sub_read, s, sub_response_free);
    if (!r) {
        srv_sse_sub_free(s);
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    s->conn = conn;
    pthread_mutex_unlock(&s->mu);
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return r;
}

/* Parse a Last-Event-ID: decimal digits only, no overflow. */
static bool parse_id(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

void srv_resp_sse(srv_request *req, srv_response *resp, void *reader,
                  srv_sse_filter filter, void (*reader_free)(void *))
{
    const char *lei = srv_req_header(req, "Last-Event-ID");
    uint64_t last = 0;
    if (lei && !parse_id(lei, &last)) {
        if (reader_free)
            reader_free(reader);
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "Last-Event-ID must be a decimal event id.");
        return;
    }
    srv_resp_sse_from(req, resp, reader, filter, reader_free, lei != NULL, last);
}

void srv_resp_sse_from(srv_request *req, srv_response *resp, void *reader,
                       srv_sse_filter filter, void (*reader_free)(void *), bool resume,
                       uint64_t last)
{
    srv_sse_sub *s = req->hub ? srv_sse_subscribe(req->hub, reader, filter, reader_free,
                                                  resume, last)
                              : NULL;
    if (!req->hub && reader_free)
        reader_free(reader);
    if (!s) {
        srv_resp_error(resp, 503, SRV_E_UNAVAILABLE,
                       "The event stream is not available now; retry later.");
        return;
    }
    srv_resp_clear(resp);
    resp->status = 200;
    resp->sse = s;
}
