/* server/conn_guard.h — keeping half-open connections from starving the
 * server (slowloris).
 *
 * Every TCP connection is tracked from the moment it is accepted. While it
 * waits for a request — from its first byte (or the end of the previous
 * answer, on a kept-alive connection) until the request has arrived whole,
 * headers and body — it sits in a FIFO of waiting connections, oldest
 * first. Two rules keep that FIFO from taking the server:
 *
 *  - a deadline: a connection that has waited `deadline_s` seconds without
 *    delivering a whole request is closed (an idle timeout cannot do this:
 *    one header line every few seconds keeps a connection busy forever);
 *  - a share: at most `max_waiting` connections may wait at once, so that
 *    the rest of the server's connections stay for requests that arrived
 *    whole (being answered, or streams). When a new connection finds the
 *    share full, the one that has waited longest is closed to make room:
 *    a flood of half-open connections cannot lock out a client that sends
 *    its request at once.
 *
 * Closing is `shutdown(2)` on the socket, from whichever thread decides;
 * libmicrohttpd then sees the end of the stream on its own thread and
 * closes the connection there. A record leaves the lists (under the lock)
 * in libmicrohttpd's "connection closed" notification, which comes before
 * the socket is closed, so a descriptor is never shut down after it could
 * have been reused.
 *
 * The guard also holds the server's connection limits, total and per
 * client address, and counts only connections it has not closed:
 * libmicrohttpd's own limits would count a connection closed by the guard
 * until its thread has noticed, so a flood accepted in one burst could fill
 * them with connections already cut and lock out the complete request that
 * came after (libmicrohttpd keeps a looser limit of its own as a backstop;
 * http_server.c). With a pool of threads each accepting, a limit can be
 * overshot by at most one connection per thread. */
#ifndef SERVER_CONN_GUARD_H
#define SERVER_CONN_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct srv_metrics;
struct sockaddr;

typedef struct srv_conn_guard srv_conn_guard;

/* What the server keeps per TCP connection (libmicrohttpd's socket
 * context). The guard's fields are private; the server's are its own. */
typedef struct srv_conn {
    /* private to the guard */
    int fd;
    int64_t since_ms;            /* waiting since (monotonic ms) */
    bool waiting, cut;
    struct srv_conn *prev, *next; /* in the waiting FIFO */
    struct srv_conn *lprev, *lnext; /* in the list of live connections */
    unsigned char addr[16];      /* client address (IPv4 in the first 4) */
    unsigned char addr_len;      /* 0: unknown (never counted per address) */
    /* the server's: the request target as libmicrohttpd parsed the request
     * line, before it split the query (http_server.c, request-line check) */
    const char *line_uri;
    size_t line_uri_len;
    bool line_uri_nul_escape;    /* it holds %00 */
    /* the server's pinned client certificates, read in the TLS handshake
     * (client_cert.c); NULL: none pinned */
    const struct srv_cert_pin *pin;
} srv_conn;

typedef struct srv_conn_guard_opts {
    unsigned deadline_s;         /* a request must arrive whole within this */
    unsigned max_waiting;        /* connections waiting for a request at once */
    unsigned max_live;           /* connections at once (0: no limit) */
    unsigned per_address;        /* connections per client address (0: no limit) */
    struct srv_metrics *metrics; /* counts closings; may be NULL */
} srv_conn_guard_opts;

/* Start a guard and its deadline thread. NULL when out of memory or the
 * thread cannot start. */
srv_conn_guard *srv_conn_guard_new(const srv_conn_guard_opts *o);
/* Stop the thread and free the guard (every connection must have been
 * closed). NULL is a no-op. */
void srv_conn_guard_free(srv_conn_guard *g);

/* A connection from addr is about to be accepted. False: refuse it (its
 * address has per_address live connections, or max_live are live and none
 * is waiting). True: accept it, after closing the connection that has
 * waited longest if the waiting share, or the total, is full. */
bool srv_conn_guard_admit(srv_conn_guard *g, const struct sockaddr *addr);
/* A connection was accepted on socket fd: it starts waiting. Returns its
 * record (NULL when out of memory: the connection is then not guarded). */
srv_conn *srv_conn_guard_started(srv_conn_guard *g, int fd);
/* Its request arrived whole: it stops waiting. */
void srv_conn_guard_whole(srv_conn_guard *g, srv_conn *c);
/* Its answer was sent: it waits for the next request. */
void srv_conn_guard_done(srv_conn_guard *g, srv_conn *c);
/* It is closing (before its socket is): forget and free it. */
void srv_conn_guard_closed(srv_conn_guard *g, srv_conn *c);

/* Connections waiting right now (for tests and metrics). */
size_t srv_conn_guard_waiting(srv_conn_guard *g);

#endif
