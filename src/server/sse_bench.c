/* server/sse_bench.c — liaison-sse-bench: stream fan-out throughput on
 * loopback. Starts the server with the SSE hub, attaches N subscribers
 * (raw sockets drained by one epoll thread), half of whose filters accept
 * each event, publishes E events as fast as it can, and reports filtered
 * deliveries per second (delivery = an event written to a client that may
 * see it, counted when the client has read it). Not a test: a measurement.
 *
 *   liaison-sse-bench [SUBSCRIBERS [EVENTS [PAYLOAD_BYTES [RATE]]]]  (100 20000 200)
 *
 * With RATE (events/s), events are published at that steady rate instead
 * of flat out, and the publish-to-read latency of every delivery is
 * reported (p50, p99, max). Each payload starts with its publish time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "server/http_server.h"

typedef struct { int parity; } reader;
typedef struct { int parity; } meta;

static bool filter(void *r, const void *m)
{
    const meta *mm = m;
    return mm->parity < 0 || mm->parity == ((reader *)r)->parity;
}

static void h_stream(srv_request *req, srv_response *resp)
{
    const char *p = srv_req_header(req, "X-Parity");
    reader *r = malloc(sizeof *r);
    if (r)
        r->parity = p && p[0] == '1';
    srv_resp_sse(req, resp, r, filter, free);
}

static const srv_route routes[] = {
    {SRV_GET, "/stream", h_stream, false, "stream", 0},
};

static int nsubs = 100;
static int fds[4096];
static _Atomic long frames_seen; /* "\n\n" frame ends counted by readers */
static _Atomic int stop;
/* Per client socket, touched only by the drain thread. */
struct conn_state {
    int in_body, have_size, match, in_ts;
    unsigned long head, size, chunk_left, ts;
};
static unsigned long *lat; /* post-to-read latencies, ns */
static size_t nlat, maxlat;

static unsigned long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned long)t.tv_sec * 1000000000ul + (unsigned long)t.tv_nsec;
}

static int cmp_ul(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}
static struct conn_state conns[65536];

/* Count "id: " occurrences in what readers receive. */
static void *drain(void *arg)
{
    int ep = *(int *)arg;
    static char buf[1 << 16];
    struct epoll_event ev[64];
    while (!stop) {
        int n = epoll_wait(ep, ev, 64, 100);
        for (int i = 0; i < n; i++) {
            int fd = ev[i].data.fd;
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            long c = 0;
            /* Undo the chunked framing (a chunk may split an event), then
             * count "id: " with a matcher that survives reads (the pattern
             * cannot overlap itself). */
            struct conn_state *cs = &conns[fd];
            for (ssize_t k = 0; k < r; k++) {
                char ch = buf[k];
                if (!cs->in_body) {
                    /* skip the response head: ends at the first blank line */
                    cs->head = (cs->head << 8) | (unsigned char)ch;
                    if ((cs->head & 0xffffffffu) == 0x0d0a0d0au)
                        cs->in_body = 1;
                    continue;
                }
                if (cs->chunk_left == 0) {
                    /* size line "HEX\r\n", preceded by "\r\n" after a chunk */
                    if (ch == '\n') {
                        if (cs->have_size)
                            cs->chunk_left = cs->size;
                        cs->size = 0;
                        cs->have_size = 0;
                    } else if (ch != '\r') {
                        int d = ch <= '9' ? ch - '0' : (ch | 32) - 'a' + 10;
                        cs->size = cs->size * 16 + (unsigned long)d;
                        cs->have_size = 1;
                    }
                    continue;
                }
                cs->chunk_left--;
                if (cs->in_ts) {
                    /* the publish time leads the payload: record latency */
                    if (ch >= '0' && ch <= '9') {
                        cs->ts = cs->ts * 10 + (unsigned long)(ch - '0');
                        continue;
                    }
                    cs->in_ts = 0;
                    if (cs->ts && nlat < maxlat)
                        lat[nlat++] = now_ns() - cs->ts;
                }
                static const char pat[] = "data: ";
                if (ch == pat[cs->match]) {
                    if (++cs->match == 6) {
                        c++;
                        cs->match = 0;
                        cs->in_ts = 1;
                        cs->ts = 0;
                    }
                } else {
                    cs->match = ch == 'd';
                }
            }
            atomic_fetch_add(&frames_seen, c);
        }
    }
    return NULL;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    nsubs = argc > 1 ? atoi(argv[1]) : 100;
    long events = argc > 2 ? atol(argv[2]) : 20000;
    size_t payload = argc > 3 ? (size_t)atol(argv[3]) : 200;
    long rate = argc > 4 ? atol(argv[4]) : 0;
    if (nsubs < 1 || nsubs > 4096 || events < 1 || payload < 24 || payload > 65536 || rate < 0)
        return 2;
    maxlat = (size_t)nsubs * (size_t)events;
    lat = malloc(maxlat * sizeof *lat);
    if (!lat)
        return 1;
    srv_signals_block();
    srv_sse_hub *hub = srv_sse_hub_new(&(srv_sse_hub_opts){.queue_max = 65536});
    lsn_error err;
    srv_server_opts o = {.listen = "127.0.0.1:0", .routes = routes, .nroutes = 1,
                         .hub = hub, .max_connections = 8192, .threads = 2};
    srv_server *s = hub ? srv_server_start(&o, &err) : NULL;
    if (!s) {
        fprintf(stderr, "sse-bench: %s\n", hub ? err.message : "no hub");
        return 1;
    }
    int ep = epoll_create1(0);
    for (int i = 0; i < nsubs; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || fds[i] >= 65536)
            return 1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(srv_server_port(s))};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fds[i], (struct sockaddr *)&a, sizeof a) != 0) {
            perror("connect");
            return 1;
        }
        char req[128];
        int n = snprintf(req, sizeof req, "GET /stream HTTP/1.1\r\nHost: b\r\nX-Parity: %d\r\n\r\n",
                         i % 2);
        if (send(fds[i], req, (size_t)n, 0) != n)
            return 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }
    pthread_t t;
    pthread_create(&t, NULL, drain, &ep);
    for (int i = 0; i < 500 && srv_sse_hub_subscribers(hub) < (size_t)nsubs; i++)
        usleep(10000);
    char *data = malloc(payload + 1);
    memset(data, 'x', payload);
    data[payload] = '\0';
    meta *metas = malloc(sizeof *metas * 3);
    metas[0].parity = 0, metas[1].parity = 1, metas[2].parity = -1;
    long expected = 0;
    double t0 = now();
    unsigned long start_ns = now_ns();
    for (long i = 0; i < events; i++) {
        if (rate) {
            /* steady pace: sleep until this event's slot */
            unsigned long due = start_ns + (unsigned long)((double)i * 1e9 / (double)rate);
            unsigned long tnow = now_ns();
            if (due > tnow) {
                struct timespec ts = {(time_t)((due - tnow) / 1000000000ul),
                                      (long)((due - tnow) % 1000000000ul)};
                nanosleep(&ts, NULL);
            }
        }
        /* Two events in three reach half the readers, one in three all. */
        const meta *m = &metas[i % 3];
        char ts[24];
        int tl = snprintf(ts, sizeof ts, "%lu", now_ns());
        memcpy(data, ts, (size_t)tl);
        data[tl] = '-';
        long n = srv_sse_publish(hub, (uint64_t)i + 1, "item", data, payload, m);
        expected += n > 0 ? n : 0;
    }
    double t_pub = now() - t0;
    for (int i = 0; i < 3000 && atomic_load(&frames_seen) < expected; i++)
        usleep(1000);
    double t_all = now() - t0;
    long seen = atomic_load(&frames_seen);
    printf("subscribers %d, events %ld, payload %zu B\n", nsubs, events, payload);
    printf("deliveries expected %ld, read by clients %ld\n", expected, seen);
    printf("publish: %.3f s (%.0f deliveries queued/s)\n", t_pub, (double)expected / t_pub);
    printf("end to end: %.3f s (%.0f filtered deliveries/s)\n", t_all, (double)seen / t_all);
    stop = 1;
    pthread_join(t, NULL);
    if (nlat) {
        qsort(lat, nlat, sizeof *lat, cmp_ul);
        printf("publish-to-read latency over %zu deliveries: p50 %.3f ms, p99 %.3f ms, "
               "max %.3f ms\n", nlat, (double)lat[nlat / 2] / 1e6,
               (double)lat[nlat * 99 / 100] / 1e6, (double)lat[nlat - 1] / 1e6);
    }
    for (int i = 0; i < nsubs; i++)
        close(fds[i]);
    srv_server_stop(s, 1000);
    srv_sse_hub_free(hub);
    free(data);
    free(metas);
    free(lat);
    return 0;
}
