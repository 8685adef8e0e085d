/* server/sse.h — the Server-Sent Events hub behind GET /api/v1/stream.
 *
 * The embedder publishes each new event once (id, event name, payload, and
 * an opaque meta such as the item's label); the hub formats the SSE frame
 * once, asks every subscriber's filter whether its reader may see it, and
 * queues a reference to the shared frame for those that may. Each
 * subscriber's queue is bounded: a client that falls behind is dropped (it
 * reconnects with Last-Event-ID and replays), never allowed to grow memory.
 *
 * Threading: publish may be called from any thread; filters run on the
 * publishing thread and must be thread-safe. Stream connections are
 * suspended in libmicrohttpd while their queue is empty and resumed by the
 * publisher, so an idle stream costs no thread and no polling, and a busy
 * one writes every queued frame in one go (one write for many events).
 *
 * Ids: events must be published in increasing id order, after they are
 * durable, so that replay (from the store) plus live events has no gap and
 * no duplicate. */
#ifndef SERVER_SSE_H
#define SERVER_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "liaison/error.h"
#include "server/router.h"

typedef struct srv_sse_hub srv_sse_hub;
typedef struct srv_sse_sub srv_sse_sub;
struct srv_metrics;

/* May reader see an event with this meta? (meta is the publisher's.) */
typedef bool (*srv_sse_filter)(void *reader, const void *meta);

/* Called by a replay callback once per stored event, in increasing id
 * order. Returns false when the subscriber cannot take more (stop). data
 * NULL says the replayer could not produce this event (out of memory): if
 * the reader may see it, the stream ends after what it has (the client
 * resumes from there) rather than skip it. */
typedef bool (*srv_sse_emit)(void *emit_ctx, uint64_t id, const char *event,
                             const char *data, size_t len, const void *meta);

/* Replay the events after after_id (from the store) through emit, for the
 * subscriber whose reader context is `reader` (so that the replayer can
 * read only what that reader may see; the filter still decides). */
typedef void (*srv_sse_replay)(void *ctx, void *reader, uint64_t after_id,
                               srv_sse_emit emit, void *emit_ctx);

/* The text of an event's "id:" line, from its meta, into buf (at most cap
 * bytes, no NUL needed); returns its length, 0 when it has none (the event
 * is then not sent). */
typedef size_t (*srv_sse_event_id)(const void *meta, char *buf, size_t cap);
#define SRV_SSE_ID_MAX 128

typedef struct srv_sse_hub_opts {
    size_t queue_max;          /* events queued per subscriber (default 4096) */
    size_t max_subscribers;    /* default 10000 */
    unsigned heartbeat_ms;     /* comment line when idle (default 15000) */
    unsigned retry_ms;         /* the "retry:" sent to clients (default 2000) */
    srv_sse_replay replay;     /* NULL: Last-Event-ID is ignored */
    void *replay_ctx;
    srv_sse_event_id event_id; /* NULL: the "id:" is the event's number */
    struct srv_metrics *metrics; /* may be NULL */
} srv_sse_hub_opts;

#define SRV_SSE_MAX_DATA (1u << 20) /* one event's payload */

/* Create a hub (o may be NULL for defaults); starts its heartbeat thread.
 * Returns NULL when out of memory or threads cannot start. */
srv_sse_hub *srv_sse_hub_new(const srv_sse_hub_opts *o);

/* End every stream (each sends what it has queued, then ends) and refuse
 * new subscribers. Used on shutdown before the daemon stops. Idempotent. */
void srv_sse_hub_close(srv_sse_hub *h);

/* Free the hub. All subscribers must be gone (the server stopped). NULL is
 * a no-op. */
void srv_sse_hub_free(srv_sse_hub *h);
/* End the streams whose reader `which` picks (a user disabled, a session
 * ended): each writes what it already holds, then ends; nothing more is
 * queued for it. Returns how many. */
size_t srv_sse_hub_end(srv_sse_hub *h, bool (*which)(void *reader, void *ctx), void *ctx);

/* Publish an event to every subscriber whose filter accepts meta. data need
 * not be NUL-terminated; newlines in it become separate data: lines. event
 * may be NULL (the default "message"). Returns the number of subscribers it
 * was queued for (not those whose filter refused it, nor those being
 * dropped or closed), or -1 when it could not be (too large, out of memory). */
long srv_sse_publish(srv_sse_hub *h, uint64_t id, const char *event,
                     const char *data, size_t len, const void *meta);

/* The same, but a subscriber whose connection is suspended is not resumed
 * yet: srv_sse_wake does it, once for all the events held since. A
 * publisher with several events at hand publishes them held, then wakes:
 * each connection is resumed once and writes them all in one go. Same
 * thread rules as srv_sse_publish; wake before waiting for more events. */
long srv_sse_publish_held(srv_sse_hub *h, uint64_t id, const char *event,
                          const char *data, size_t len, const void *meta);

/* A notice: an event outside the id order, sent at once to the
 * subscribers whose filter accepts meta, with no "id:" line (so a client's
 * Last-Event-ID stays the last event's) and never replayed: what a client
 * must read again on reconnection, not a record (the node's release
 * request notices). Returns as srv_sse_publish. */
long srv_sse_notify(srv_sse_hub *h, const char *event, const char *data, size_t len,
                    const void *meta);

/* Resume the connections of the subscribers that have held events. */
void srv_sse_wake(srv_sse_hub *h);

/* Count deliveries, drops and clients in m (the server calls this when it
 * starts with the hub, if the hub has no metrics yet). */
void srv_sse_hub_set_metrics(srv_sse_hub *h, struct srv_metrics *m);

/* Number of attached subscribers. */
size_t srv_sse_hub_subscribers(srv_sse_hub *h);

/* Make a subscriber for a stream request. reader is the embedder's opaque
 * reader context, passed to filter and released with reader_free (may be
 * NULL) when the stream ends. If resume is true and the hub has a replay
 * callback, events after last_id are replayed first. Returns NULL (and
 * frees reader) when the hub is closed, full or out of memory. */
srv_sse_sub *srv_sse_subscribe(srv_sse_hub *h, void *reader, srv_sse_filter filter,
                               void (*reader_free)(void *), bool resume,
                               uint64_t last_id);

/* In a handler: subscribe using req's hub and its Last-Event-ID header, and
 * make resp the stream (200), or a JSON error (400 for a bad Last-Event-ID,
 * 503 when the hub is closed or full). reader is released in every case. */
void srv_resp_sse(srv_request *req, srv_response *resp, void *reader,
                  srv_sse_filter filter, void (*reader_free)(void *));

/* The same with the resume point given by the embedder (which read and
 * checked Last-Event-ID itself): replay after last_id when resume. */
void srv_resp_sse_from(srv_request *req, srv_response *resp, void *reader,
                       srv_sse_filter filter, void (*reader_free)(void *), bool resume,
                       uint64_t last_id);

/* Server side: make the libmicrohttpd response that streams sub on the
 * connection conn (a struct MHD_Connection *). The response owns sub from
 * then on. Returns NULL when out of memory (sub is then freed). */
struct MHD_Response *srv_sse_sub_start(srv_sse_sub *sub, void *conn);

/* Free a subscriber that was never started (on an error path). */
void srv_sse_sub_free(srv_sse_sub *sub);

#endif
