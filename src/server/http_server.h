/* server/http_server.h — the node's HTTP daemon (libmicrohttpd).
 *
 * One internal polling thread per CPU (a pool, each with its own epoll set)
 * accepts and serves connections; route handlers run on those threads, so
 * they must not block for long. Stream connections are suspended while idle
 * (see sse.h). Limits: connections, per-connection memory (request line and
 * headers), idle timeout, body size (413 as soon as Content-Length says so,
 * or once a chunked body passes it), connections per client address, a
 * deadline for a request to arrive whole and a share of connections that
 * may wait for one (conn_guard.h). Requests a proxy could read differently
 * are refused before routing (request_check.h). Metrics are served on a
 * listener of their own (metrics_listen), never on the API's. */
#ifndef SERVER_HTTP_SERVER_H
#define SERVER_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include "liaison/error.h"
#include "server/auth.h"
#include "server/client_cert.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/sse.h"

typedef struct srv_server srv_server;

typedef struct srv_server_opts {
    const char *listen;          /* "host:port", "[::1]:port"; port 0 = any */
    const char *tls_cert;        /* PEM file paths; both or neither */
    const char *tls_key;
    const char *tls_client_ca;   /* PEM of the CAs whose client certificates are
                                    accepted (srv_auth.lookup_cert); NULL: none */
    const char *tls_client_ca_pem; /* the same as PEM text (copied), instead of a file */
    bool require_client_cert;    /* every request, before routing, needs a client
                                    certificate that chains to tls_client_ca* and
                                    that auth.lookup_cert knows (rq->user); else 403
                                    and the connection closed (the federation
                                    listener: peers only) */
    srv_cert_pin client_pin;     /* with require_client_cert: pinned client
                                    certificates, decided in the TLS handshake
                                    (client_cert.h) — a client without one
                                    pinned fails the handshake, before any
                                    HTTP; tls_client_ca* is then not needed,
                                    and the 403 above stays as a second line */
    size_t body_limit;           /* bytes (default 1 MiB) */
    unsigned threads;            /* default: number of CPUs (at most 64) */
    unsigned max_connections;    /* default 1024 */
    unsigned timeout;            /* idle seconds (default 30) */
    size_t conn_memory;          /* per connection (default 64 KiB) */
    unsigned per_address;        /* connections from one client address (0: no cap) */
    unsigned request_deadline;   /* seconds for a request to arrive whole (default 30) */
    unsigned max_waiting;        /* connections waiting for their request at once
                                  * (default, and when above max_connections: half
                                  * of max_connections) */
    const char *metrics_listen;  /* "host:port" of a second listener serving GET
                                  * /metrics (and /healthz); NULL: none. Metrics are
                                  * never served on the API's listener. */
    const char *access_log;      /* file for the JSON lines access log, "-" for
                                  * stdout (server/access_log.h); NULL: none */
    const srv_route *routes;     /* THE route table; borrowed */
    size_t nroutes;
    srv_auth auth;               /* token hash → user */
    srv_sse_hub *hub;            /* borrowed; closed on stop; may be NULL */
    void *app;                   /* handed to handlers as req->app */
} srv_server_opts;

/* Check the options and route table, bind, and start serving. Returns NULL
 * with err filled on failure (bad address, port in use, unreadable TLS
 * files, HTTPS not built into libmicrohttpd...). */
srv_server *srv_server_start(const srv_server_opts *o, lsn_error *err);

/* The port actually bound (useful with port 0), and the metrics
 * listener's (0 when there is none). */
uint16_t srv_server_port(const srv_server *s);
uint16_t srv_server_metrics_port(const srv_server *s);

/* The server's metrics (for handlers outside the request, e.g. publishers). */
srv_metrics *srv_server_metrics(srv_server *s);

/* Requests being handled right now (not idle keep-alive connections). */
unsigned srv_server_in_flight(const srv_server *s);

/* Graceful stop: stop accepting, end event streams, wait up to grace_ms for
 * in-flight requests to finish, then close everything and free the server.
 * NULL is a no-op. */
void srv_server_stop(srv_server *s, unsigned grace_ms);

/* Block SIGTERM and SIGINT in the calling thread (call before starting the
 * server, so its threads inherit the mask), and later wait for one of them.
 * Returns the signal number. */
void srv_signals_block(void);
int srv_signals_wait(void);

#endif
