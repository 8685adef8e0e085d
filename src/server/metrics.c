/* server/metrics.c — lock-free counters and Prometheus text rendering. */
#include <stdatomic.h>
#include <string.h>
#include "core/alloc.h"
#include "core/strbuf.h"
#include "server/errors.h"
#include "server/metrics.h"

/* Statuses get a dense slot each; anything else shares the last slot. */
static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                               409, 413, 415, 422, 429, 431, 500, 503, 0};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

/* Latency bucket upper bounds in microseconds; +Inf is implicit. */
static const int64_t buckets_us[] = {250, 500, 1000, 2500, 5000, 10000, 25000,
                                     50000, 100000, 250000, 500000, 1000000,
                                     2500000, 5000000};
#define NBUCKET (sizeof buckets_us / sizeof buckets_us[0])

struct route_slot {
    _Atomic uint64_t by_status[NSTATUS];
    _Atomic uint64_t bucket[NBUCKET + 1]; /* non-cumulative; last is +Inf */
    _Atomic uint64_t sum_us;
    _Atomic uint64_t observed;
};

struct srv_metrics {
    const srv_route *routes;
    size_t nroutes;
    struct route_slot *slots; /* nroutes + 1: the last is "no route" */
    _Atomic uint64_t granted, denied, items, delivered, dropped, cut_deadline, cut_evicted;
    _Atomic uint64_t integrity; /* stored items withheld: their seal failed */
    _Atomic int64_t stream_clients;
};

srv_metrics *srv_metrics_new(const srv_route *routes, size_t nroutes)
{
    srv_metrics *m = core_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->routes = routes;
    m->nroutes = nroutes;
    m->slots = core_calloc(nroutes + 1, sizeof *m->slots);
    if (!m->slots) {
        lsn_free(m);
        return NULL;
    }
    return m;
}

void srv_metrics_free(srv_metrics *m)
{
    if (!m)
        return;
    lsn_free(m->slots);
    lsn_free(m);
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS - 1;
}

static struct route_slot *slot_of(const srv_metrics *m, size_t route)
{
    return &m->slots[route < m->nroutes ? route : m->nroutes];
}

void srv_metrics_request(srv_metrics *m, size_t route, int status, int64_t latency_us)
{
    if (!m)
        return;
    struct route_slot *s = slot_of(m, route);
    atomic_fetch_add_explicit(&s->by_status[status_slot(status)], 1, memory_order_relaxed);
    if (latency_us < 0)
        return;
    size_t b = 0;
    while (b < NBUCKET && latency_us > buckets_us[b])
        b++;
    atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, (uint64_t)latency_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->observed, 1, memory_order_relaxed);
}

void srv_metrics_decision(srv_metrics *m, bool granted)
{
    if (m)
        atomic_fetch_add_explicit(granted ? &m->granted : &m->denied, 1, memory_order_relaxed);
}

void srv_metrics_items(srv_metrics *m, uint64_t n)
{
    if (m)
        atomic_fetch_add_explicit(&m->items, n, memory_order_relaxed);
}

void srv_metrics_stream_clients(srv_metrics *m, int delta)
{
    if (m)
        atomic_fetch_add_explicit(&m->stream_clients, delta, memory_order_relaxed);
}

void srv_metrics_stream_delivered(srv_metrics *m, uint64_t n)
{
    if (m)
        atomic_fetch_add_explicit(&m->delivered, n, memory_order_relaxed);
}

void srv_metrics_stream_dropped(srv_metrics *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->dropped, 1, memory_order_relaxed);
}

void srv_metrics_integrity_alarm(srv_metrics *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->integrity, 1, memory_order_relaxed);
}

void srv_metrics_conn_closed(srv_metrics *m, bool evicted)
{
    if (m)
        atomic_fetch_add_explicit(evicted ? &m->cut_evicted : &m->cut_deadline, 1,
                                  memory_order_relaxed);
}

uint64_t srv_metrics_requests(const srv_metrics *m, size_t route, int status)
{
    return atomic_load_explicit(&slot_of(m, route)->by_status[status_slot(status)],
                                memory_order_relaxed);
}

int64_t srv_metrics_stream_client_count(const srv_metrics *m)
{
    return atomic_load_explicit(&m->stream_clients, memory_order_relaxed);
}

/* Route patterns are ours (no quotes or backslashes), but escape anyway:
 * Prometheus label values escape \ " and newline. */
static void add_label_value(strbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            strbuf_addc(b, '\\');
        if (*s == '\n') {
            strbuf_adds(b, "\\n");
            continue;
        }
        strbuf_addc(b, *s);
    }
}

static void add_route_labels(strbuf *b, const srv_metrics *m, size_t r)
{
    strbuf_adds(b, "route=\"");
    add_label_value(b, r < m->nroutes ? m->routes[r].pattern : "unmatched");
    strbuf_adds(b, "\",method=\"");
    strbuf_adds(b, r < m->nroutes ? srv_method_name(m->routes[r].method) : "any");
    strbuf_adds(b, "\"");
}

static uint64_t ld(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

char *srv_metrics_render(const srv_metrics *m, size_t *len)
{
    strbuf b;
    strbuf_init(&b, 4u << 20);
    strbuf_adds(&b, "# HELP liaison_http_requests_total HTTP requests answered, by route, method and status.\n"
                    "# TYPE liaison_http_requests_total counter\n");
    for (size_t r = 0; r <= m->nroutes; r++)
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t v = ld(&m->slots[r].by_status[s]);
            if (!v)
                continue;
            strbuf_adds(&b, "liaison_http_requests_total{");
            add_route_labels(&b, m, r);
            if (statuses[s])
                strbuf_addf(&b, ",status=\"%d\"} %llu\n", statuses[s], (unsigned long long)v);
            else
                strbuf_addf(&b, ",status=\"other\"} %llu\n", (unsigned long long)v);
        }
    strbuf_adds(&b, "# HELP liaison_http_request_duration_seconds Time from a request's first byte to its answer, by route.\n"
                    "# TYPE liaison_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= m->nroutes; r++) {
        const struct route_slot *s = &m->slots[r];
        uint64_t count = ld(&s->observed);
        if (!count)
            continue;
        uint64_t cum = 0;
        for (size_t k = 0; k <= NBUCKET; k++) {
            cum += ld(&s->bucket[k]);
            strbuf_adds(&b, "liaison_http_request_duration_seconds_bucket{");
            add_route_labels(&b, m, r);
            if (k < NBUCKET)
                strbuf_addf(&b, ",le=\"%g\"} %llu\n", (double)buckets_us[k] / 1e6,
                            (unsigned long long)cum);
            else
                strbuf_addf(&b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        strbuf_adds(&b, "liaison_http_request_duration_seconds_sum{");
        add_route_labels(&b, m, r);
        strbuf_addf(&b, "} %.6f\n", (double)ld(&s->sum_us) / 1e6);
        strbuf_adds(&b, "liaison_http_request_duration_seconds_count{");
        add_route_labels(&b, m, r);
        /* The +Inf bucket is the count; read again from the buckets so that
         * a concurrent update never makes count disagree with +Inf. */
        strbuf_addf(&b, "} %llu\n", (unsigned long long)cum);
    }
    strbuf_addf(&b,
        "# HELP liaison_decisions_total Access decisions of a label against a reader's clearance.\n"
        "# TYPE liaison_decisions_total counter\n"
        "liaison_decisions_total{decision=\"granted\"} %llu\n"
        "liaison_decisions_total{decision=\"denied\"} %llu\n"
        "# HELP liaison_items_total Items stored by this node since it started.\n"
        "# TYPE liaison_items_total counter\n"
        "liaison_items_total %llu\n"
        "# HELP liaison_stream_clients Live event-stream clients.\n"
        "# TYPE liaison_stream_clients gauge\n"
        "liaison_stream_clients %lld\n"
        "# HELP liaison_stream_events_total Events written to stream clients.\n"
        "# TYPE liaison_stream_events_total counter\n"
        "liaison_stream_events_total %llu\n"
        "# HELP liaison_stream_dropped_total Stream clients dropped for falling behind.\n"
        "# TYPE liaison_stream_dropped_total counter\n"
        "liaison_stream_dropped_total %llu\n"
        "# HELP liaison_http_connections_cut_total Connections closed before their request arrived whole: at the deadline, or evicted to make room.\n"
        "# TYPE liaison_http_connections_cut_total counter\n"
        "liaison_http_connections_cut_total{reason=\"deadline\"} %llu\n"
        "liaison_http_connections_cut_total{reason=\"evicted\"} %llu\n",
        (unsigned long long)ld(&m->granted), (unsigned long long)ld(&m->denied),
        (unsigned long long)ld(&m->items),
        (long long)atomic_load_explicit(&m->stream_clients, memory_order_relaxed),
        (unsigned long long)ld(&m->delivered), (unsigned long long)ld(&m->dropped),
        (unsigned long long)ld(&m->cut_deadline), (unsigned long long)ld(&m->cut_evicted));
    strbuf_addf(&b,
        "# HELP liaison_integrity_alarms_total Stored items withheld because they fail "
        "their seal (altered in the database).\n"
        "# TYPE liaison_integrity_alarms_total counter\n"
        "liaison_integrity_alarms_total %llu\n",
        (unsigned long long)ld(&m->integrity));
    return strbuf_take(&b, len);
}

void srv_handle_metrics(srv_request *req, srv_response *resp)
{
    size_t len = 0;
    char *text = req->metrics ? srv_metrics_render(req->metrics, &len) : NULL;
    if (!text) {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The metrics could not be rendered.");
        return;
    }
    srv_resp_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

void srv_handle_healthz(srv_request *req, srv_response *resp)
{
    (void)req;
    srv_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}
