/* server/metrics.h — the node's counters and histograms, exposed at
 * GET /metrics in Prometheus text format (version 0.0.4) on the metrics
 * listener only (srv_server_opts.metrics_listen), never on the API's: some
 * figures (access decisions above all) move with items a reader may not
 * see, so they are for operators alone.
 *
 * Every update is a relaxed atomic add on a fixed slot, so that recording
 * from many server threads needs no lock: requests by route, method and
 * status, a latency histogram per route, access decisions, items posted, and
 * stream clients and deliveries. The layout is fixed at creation from the
 * route table. */
#ifndef SERVER_METRICS_H
#define SERVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "server/router.h"

typedef struct srv_metrics srv_metrics;

/* Create metrics for a route table (borrowed: must outlive the metrics).
 * Returns NULL when out of memory. Free with srv_metrics_free. */
srv_metrics *srv_metrics_new(const srv_route *routes, size_t nroutes);
void srv_metrics_free(srv_metrics *m);  /* NULL is a no-op */

/* Record one finished request: route index (or (size_t)-1 for no route),
 * HTTP status, and its duration in microseconds (latency_us < 0: do not put
 * it in the histogram, e.g. for a stream). */
void srv_metrics_request(srv_metrics *m, size_t route, int status, int64_t latency_us);

/* Record an access decision of a label against a reader's clearance. */
void srv_metrics_decision(srv_metrics *m, bool granted);
/* Record items stored. */
void srv_metrics_items(srv_metrics *m, uint64_t n);
/* Stream clients: +1 when one attaches, -1 when it leaves. */
void srv_metrics_stream_clients(srv_metrics *m, int delta);
/* Events written to stream clients, and clients dropped for being slow. */
void srv_metrics_stream_delivered(srv_metrics *m, uint64_t n);
void srv_metrics_stream_dropped(srv_metrics *m);
/* A stored item failed its seal and was withheld (an integrity alarm). */
void srv_metrics_integrity_alarm(srv_metrics *m);
/* A connection closed for not delivering its request in time: at the
 * deadline, or evicted to make room for a new one (conn_guard.h). */
void srv_metrics_conn_closed(srv_metrics *m, bool evicted);

/* Read back (for tests and /healthz). */
uint64_t srv_metrics_requests(const srv_metrics *m, size_t route, int status);
int64_t srv_metrics_stream_client_count(const srv_metrics *m);

/* Render the Prometheus text. Returns a NUL-terminated string the caller
 * frees with lsn_free (its length in *len), or NULL when out of memory. */
char *srv_metrics_render(const srv_metrics *m, size_t *len);

/* Route handlers: GET /metrics (the metrics listener's) and GET /healthz. */
void srv_handle_metrics(srv_request *req, srv_response *resp);
void srv_handle_healthz(srv_request *req, srv_response *resp);

#endif
