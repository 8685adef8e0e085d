/* server/http_server.c — the libmicrohttpd daemon: request life cycle
 * (check the request line and header fields, route, authenticate, read a
 * capped body, run the handler, send), limits, the guard against half-open
 * connections (conn_guard.h), the metrics listener, TLS, and graceful
 * stop. */
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "core/alloc.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "server/config.h"
#include "server/conn_guard.h"
#include "server/client_cert.h"
#include "server/deferred.h"
#include "server/errors.h"
#include "server/http_server.h"
#include "server/request_check.h"
#include "server/log.h"
#include "server/access_log.h"

#define TLS_FILE_MAX (1u << 20)
#define JSON_RESPONSE_MAX (256u << 20) /* a sanity cap: handlers page their answers */

struct srv_server {
    srv_server_opts o;
    struct MHD_Daemon *d;
    srv_metrics *metrics;
    bool own_metrics;        /* false for the metrics listener: it shows its parent's */
    srv_conn_guard *guard;
    srv_server *metrics_srv; /* the metrics listener, or NULL */
    srv_access_log *access_log; /* --access-log, or NULL */
    _Atomic unsigned in_flight;
    _Atomic unsigned parked; /* deferred requests suspended (deferred.h) */
    _Atomic bool stopping;   /* set by srv_server_stop: suspend no more */
    uint16_t port;
    char *tls_cert_pem, *tls_key_pem, *tls_ca_pem;
    srv_ca_list *tls_cas; /* tls_ca_pem parsed: who issued a client's certificate */
    size_t tls_key_len;
};

/* Per-request state, from the first call of the access handler to the
 * completion callback. */
struct req_state {
    struct timespec start;
    srv_request req;
    strbuf body;
    srv_deferred *deferred; /* the handler deferred its answer */
    long route;         /* -1 until matched */
    int status;         /* what was queued; 0 if nothing was */
    long long bytes;    /* body bytes queued; -1 for a stream */
    bool responded;
    bool too_large;
    bool is_stream;
};


/* A text answer whose owner is told when it is freed (srv_resp_text_tracked). */
typedef struct tracked_text {
    char *text;
    size_t len;
    void (*released)(void *ctx, size_t len);
    void *ctx;
} tracked_text;

static void tracked_text_free(void *cls)
{
    tracked_text *t = cls;
    lsn_free(t->text);
    t->released(t->ctx, t->len);
    lsn_free(t);
}

static int64_t since_us(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t0->tv_sec) * 1000000 + (now.tv_nsec - t0->tv_nsec) / 1000;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    strbuf *b = data;
    strbuf_add(b, buf, size);
    return b->failed ? -1 : 0;
}

/* Turn resp into an MHD response and queue it. Always clears resp. */
static enum MHD_Result send_response(srv_server *s, struct MHD_Connection *c,
                                     struct req_state *st, srv_response *resp)
{
    (void)s;
    st->responded = true;
    /* A handler that set no status (or a nonsense one) failed to answer. */
    if (resp->status < 100 || resp->status > 599)
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The server failed to answer.");

    struct MHD_Response *mr = NULL;
    if (resp->sse) {
        mr = srv_sse_sub_start(resp->sse, c);
        resp->sse = NULL; /* the MHD response owns it now */
        st->is_stream = true;
        st->bytes = -1;
    } else if (resp->json) {
        /* One rendering pass into a growing buffer (json_dumpb renders
         * twice: to size, then to write — a whole listing, twice). */
        strbuf b;
        strbuf_init(&b, JSON_RESPONSE_MAX);
        if (json_dump_callback(resp->json, dump_cb, &b, JSON_COMPACT) == 0 && b.len) {
            strbuf_addc(&b, '\n'); /* friendlier to curl users; still one JSON value */
            size_t len;
            char *buf = strbuf_take(&b, &len);
            if (buf) {
                st->bytes = (long long)len;
                mr = MHD_create_response_from_buffer_with_free_callback(len, buf, lsn_free);
                if (!mr)
                    lsn_free(buf);
            }
        }
        strbuf_release(&b);
        if (mr)
            MHD_add_response_header(mr, "Content-Type", "application/json");
    } else if (resp->text && resp->text_released) {
        /* A tracked text: its owner hears when MHD frees it (sent). */
        tracked_text *t = core_malloc(sizeof *t);
        st->bytes = (long long)resp->text_len;
        if (t) {
            *t = (tracked_text){ .text = resp->text, .len = resp->text_len,
                                 .released = resp->text_released,
                                 .ctx = resp->text_released_ctx };
            mr = MHD_create_response_from_buffer_with_free_callback_cls(
                resp->text_len, resp->text, tracked_text_free, t);
            if (!mr)
                lsn_free(t);
        }
        if (mr) {
            resp->text = NULL; /* MHD frees it */
            resp->text_released = NULL;
            MHD_add_response_header(mr, "Content-Type",
                                    resp->content_type ? resp->content_type : "text/plain");
        }
    } else if (resp->text) {
        st->bytes = (long long)resp->text_len;
        mr = MHD_create_response_from_buffer_with_free_callback(resp->text_len, resp->text,
                                                                lsn_free);
        if (mr) {
            resp->text = NULL; /* MHD frees it */
            MHD_add_response_header(mr, "Content-Type",
                                    resp->content_type ? resp->content_type : "text/plain");
        }
    } else {
        st->bytes = 0;
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!mr) {
        srv_resp_clear(resp);
        return MHD_NO; /* out of memory: drop the connection */
    }
    /* Labelled content must not sit in shared caches or be sniffed. */
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    if (!st->is_stream)
        MHD_add_response_header(mr, "Cache-Control", "no-store");
    for (size_t i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value);
    st->status = resp->status;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    srv_resp_clear(resp);
    return ret;
}

/* Content-Length as a number; false when absent or unparsable (MHD itself
 * refuses a malformed one before we see the request). */
static bool content_length(struct MHD_Connection *c, unsigned long long *out)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (!v)
        return false;
    unsigned long long n = 0;
    for (; *v == ' '; v++)
        ;
    if (*v < '0' || *v > '9')
        return false;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (n > (~0ull - 9) / 10)
            return *out = ~0ull, true;
        n = n * 10 + (unsigned)(*v - '0');
    }
    *out = n;
    return true;
}

static enum MHD_Result check_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    srv_field_check_add(cls, key, key_size, value, value_size);
    return MHD_YES;
}

/* The connection's record (conn_guard.h), or NULL if it has none (out of
 * memory when it was accepted). */
static srv_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

/* libmicrohttpd (0.9.75) parses the request line in place and hands out C
 * strings, so a NUL inside the method or the target (or a %00 in the
 * target, once decoded) silently shortens it:
 * "GET /a\0b HTTP/1.1" is served as "/a", and "GET /a\0 HTTP/1.1" as if
 * the NUL were not there. The three strings lie in the line as received,
 * method SP target SP version; anything between them but one separator (a
 * NUL that cut a string short, or more white space) means the line is not
 * what the strings say. The target is measured when libmicrohttpd parsed
 * it (on_uri), before it split off the query. */
static bool request_line_exact(const char *method, const srv_conn *sc, const char *version)
{
    if (!sc || !sc->line_uri || sc->line_uri_nul_escape || !method || !version)
        return false;
    return sc->line_uri == method + strlen(method) + 1 &&
           version == sc->line_uri + sc->line_uri_len + 1;
}

/* Refuse, and close after, a request that a proxy might read differently
 * (request_check.h): a broken request line, a field name with white space
 * or control bytes, NUL/CR/LF in a value, a repeated Authorization or
 * Host, an ambiguous length. Returns the sentence for the 400, or NULL. */
static const char *smuggling_risk(struct MHD_Connection *c, const char *method,
                                  const char *version)
{
    if (!request_line_exact(method, conn_of(c), version))
        return "The request line is malformed (a NUL byte or %00, or other than one "
               "space between method, target and version).";
    srv_field_check fc;
    srv_field_check_init(&fc);
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, check_field, &fc);
    return srv_field_check_verdict(&fc);
}

static void auth_challenge(srv_response *resp, srv_auth_result r)
{
    if (r == SRV_AUTH_MISSING) {
        srv_resp_error(resp, 401, SRV_E_UNAUTHORIZED,
                       "This needs a bearer token: Authorization: Bearer TOKEN.");
        srv_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"liaison\"");
    } else {
        srv_resp_error(resp, 401, SRV_E_UNAUTHORIZED,
                       "The bearer token is not valid.");
        srv_resp_header(resp, "WWW-Authenticate",
                        "Bearer realm=\"liaison\", error=\"invalid_token\"");
    }
}

/* The user of the client's certificate, if it presented one that chains
 * to a trusted CA and is bound to a user. */
static bool cert_user(srv_server *s, struct MHD_Connection *c, srv_request *rq)
{
    srv_client_cert cert;
    if (!srv_client_cert_read(c, s->tls_cas, s->o.client_pin.pinned != NULL, &cert))
        return false;
    rq->user = s->o.auth.lookup_cert(s->o.auth.ctx, &cert);
    return rq->user != NULL;
}

/* Authenticate a request by its session cookie: false with resp holding
 * the 401 (no such session) or 403 (a state-changing request without the
 * session's CSRF token). */
static bool session_begin(srv_server *s, struct MHD_Connection *c, srv_request *rq,
                          const char *cookie, srv_response *resp)
{
    if (!srv_token_well_formed(cookie)) {
        srv_resp_error(resp, 401, SRV_E_UNAUTHORIZED, "The session cookie is not valid.");
        srv_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"liaison\"");
        return false;
    }
    srv_token_hash(cookie, strlen(cookie), rq->session_hash);
    rq->user = s->o.auth.lookup_session(s->o.auth.ctx, rq->session_hash);
    if (!rq->user) {
        srv_resp_error(resp, 401, SRV_E_UNAUTHORIZED,
                       "The session has ended: sign in again.");
        srv_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"liaison\"");
        return false;
    }
    rq->by_session = true;
    if (rq->method != SRV_GET &&
        !srv_csrf_check(rq->session_hash,
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, SRV_CSRF_HEADER))) {
        srv_resp_error(resp, 403, SRV_E_FORBIDDEN,
                       "This request lacks its session's CSRF token (the " SRV_CSRF_HEADER
                       " header): send it as the page does.");
        return false;
    }
    return true;
}

/* First call for a request: route, authenticate, check the announced size.
 * Answers at once when any of these fails, before reading a body. */
static enum MHD_Result begin_request(srv_server *s, struct MHD_Connection *c,
                                     struct req_state *st, const char *url,
                                     const char *method, const char *version)
{
    srv_request *rq = &st->req;
    rq->method = srv_method_from(method);
    rq->method_name = method;
    rq->path = url;
    rq->app = s->o.app;
    rq->metrics = s->metrics;
    rq->hub = s->o.hub;
    rq->conn_ = c;
    strbuf_init(&st->body, s->o.body_limit);

    srv_response resp = {0};
    const char *risk = smuggling_risk(c, method, version);
    if (risk) {
        srv_resp_error(&resp, 400, SRV_E_BAD_REQUEST, "%s", risk);
        srv_resp_header(&resp, "Connection", "close");
        return send_response(s, c, st, &resp);
    }
    if (s->o.require_client_cert && !cert_user(s, c, rq)) {
        /* No certificate, or one no peer pinned: nothing of the request is
         * read or routed. */
        srv_resp_error(&resp, 403, SRV_E_FORBIDDEN, "This listener takes known peers only.");
        srv_resp_header(&resp, "Connection", "close");
        return send_response(s, c, st, &resp);
    }
    bool known = false;
    char allow[64];
    long r = srv_route_match(s->o.routes, s->o.nroutes, rq->method, url, rq, &known,
                             allow, sizeof allow);
    if (r < 0) {
        if (known) {
            srv_resp_error(&resp, 405, SRV_E_METHOD,
                           "This resource does not support the %s method.",
                           rq->method == SRV_METHOD_OTHER ? "requested" : srv_method_name(rq->method));
            srv_resp_header(&resp, "Allow", allow);
        } else {
            /* Never echo the path: it may carry a guessed id or name. */
            srv_resp_error(&resp, 404, SRV_E_NOT_FOUND, "There is no such resource.");
        }
        return send_response(s, c, st, &resp);
    }
    st->route = r;
    if (s->o.routes[r].auth) {
        const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        const char *cookie = h || !s->o.auth.lookup_session
                                 ? NULL
                                 : MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
                                                               SRV_SESSION_COOKIE);
        if (cookie) {
            /* A web session: the cookie, and for anything that changes
             * state, the session's CSRF token in a header that another
             * site's page cannot set. */
            if (!session_begin(s, c, rq, cookie, &resp))
                return send_response(s, c, st, &resp);
        } else if (!h && s->tls_ca_pem && s->o.auth.lookup_cert &&
                   cert_user(s, c, rq)) {
            /* signed in by a client certificate bound to a user */
        } else {
            srv_auth_result ar = srv_authenticate(&s->o.auth, h, &rq->user);
            if (ar != SRV_AUTH_OK) {
                auth_challenge(&resp, ar);
                return send_response(s, c, st, &resp);
            }
        }
        /* The right the route needs: refused before any of its work. */
        const char *why = s->o.routes[r].need && s->o.auth.allow
                              ? s->o.auth.allow(s->o.auth.ctx, rq->user, s->o.routes[r].need)
                              : NULL;
        if (why) {
            srv_resp_error(&resp, 403, SRV_E_FORBIDDEN, "%s", why);
            return send_response(s, c, st, &resp);
        }
    }
    unsigned long long cl;
    if (content_length(c, &cl) && cl > s->o.body_limit) {
        srv_resp_error(&resp, 413, SRV_E_TOO_LARGE,
                       "The request body is larger than the limit of %zu bytes.",
                       s->o.body_limit);
        return send_response(s, c, st, &resp);
    }
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    srv_server *s = cls;
    struct req_state *st = *con_cls;
    if (st && *upload_data_size == 0)
        srv_conn_guard_whole(s->guard, conn_of(c)); /* the request is all here */
    if (!st) {
        st = core_calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &st->start);
        st->route = -1;
        *con_cls = st;
        atomic_fetch_add_explicit(&s->in_flight, 1, memory_order_relaxed);
        return begin_request(s, c, st, url, method, version);
    }
    if (st->deferred) {
        /* Resumed: the deferred answer is in (the body was read before the
         * handler ran, so there is nothing more to take). */
        *upload_data_size = 0;
        srv_response resp = {0};
        if (!srv_deferred_take(st->deferred, &resp)) {
            /* Not answered yet (libmicrohttpd calls again only after the
             * resume, but never send nothing): wait again. */
            if (srv_deferred_park(st->deferred, c, &s->parked, &s->stopping))
                return MHD_YES;
            (void)srv_deferred_take(st->deferred, &resp);
        }
        return send_response(s, c, st, &resp);
    }
    if (st->responded) {
        /* Answered early (404, 401, 413): discard whatever body follows. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_large) {
            strbuf_add(&st->body, upload_data, *upload_data_size);
            if (st->body.failed)
                st->too_large = true; /* chunked past the cap, or no memory */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    srv_response resp = {0};
    if (st->too_large) {
        if (st->body.why == LSN_ERR_NOMEM)
            srv_resp_error(&resp, 503, SRV_E_UNAVAILABLE, "The server is out of memory.");
        else
            srv_resp_error(&resp, 413, SRV_E_TOO_LARGE,
                           "The request body is larger than the limit of %zu bytes.",
                           s->o.body_limit);
        return send_response(s, c, st, &resp);
    }
    st->req.body = st->body.data;
    st->req.body_len = st->body.len;
    s->o.routes[st->route].handler(&st->req, &resp);
    if (resp.deferred) {
        /* Answered later from another thread: free this thread meanwhile. */
        st->deferred = resp.deferred;
        resp.deferred = NULL;
        srv_resp_clear(&resp);
        if (srv_deferred_park(st->deferred, c, &s->parked, &s->stopping))
            return MHD_YES;
        (void)srv_deferred_take(st->deferred, &resp); /* it came already */
    }
    return send_response(s, c, st, &resp);
}

/* One access log line: the route's pattern, never the path (ids and
 * search words stay out of the log); the user's name, never a token. */
static void log_access(srv_server *s, struct MHD_Connection *c, const struct req_state *st)
{
    char client[INET6_ADDRSTRLEN + 1] = "";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                               : sizeof(struct sockaddr_in);
        if (getnameinfo(ci->client_addr, len, client, sizeof client, NULL, 0,
                        NI_NUMERICHOST) != 0)
            client[0] = '\0';
    }
    const char *user = st->req.user && s->o.auth.user_name
                           ? s->o.auth.user_name(s->o.auth.ctx, st->req.user) : NULL;
    srv_access_entry e = {
        .client = client[0] ? client : NULL, .user = user,
        .method = st->req.method_name,
        .route = st->route >= 0 ? s->o.routes[st->route].pattern : NULL,
        .status = st->status, .bytes = st->bytes, .duration_us = since_us(&st->start),
    };
    srv_access_log_write(s->access_log, &e);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    srv_server *s = cls;
    srv_conn *sc = conn_of(c);
    if (sc)
        sc->line_uri = NULL; /* belonged to this request */
    /* A kept-alive connection now waits for its next request. */
    srv_conn_guard_done(s->guard, sc);
    struct req_state *st = *con_cls;
    if (!st)
        return;
    if (st->status && s->own_metrics)
        srv_metrics_request(s->metrics, st->route >= 0 ? (size_t)st->route : (size_t)-1,
                            st->status, st->is_stream ? -1 : since_us(&st->start));
    if (st->status && s->access_log)
        log_access(s, c, st);
    if (st->req.user && s->o.auth.release)
        s->o.auth.release(s->o.auth.ctx, st->req.user);
    srv_deferred_release(st->deferred);
    strbuf_release(&st->body);
    lsn_free(st);
    *con_cls = NULL;
    atomic_fetch_sub_explicit(&s->in_flight, 1, memory_order_release);
}

/* Connection start and end: the guard's records (conn_guard.h). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    srv_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        srv_conn *sc = i ? srv_conn_guard_started(s->guard, i->connect_fd) : NULL;
        *socket_context = sc;
        /* Pinned client certificates: the session exists, its handshake
         * has not begun (libmicrohttpd tells us before it reads a byte).
         * Without a record the handshake finds no pin and fails. */
        if (s->o.client_pin.pinned) {
            if (sc)
                sc->pin = &s->o.client_pin;
            if (!srv_client_cert_require(c))
                srv_log(SRV_LOG_WARN, "http: a connection without TLS on a pinned listener");
        }
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        srv_conn_guard_closed(s->guard, *socket_context);
        *socket_context = NULL;
    }
}

/* A connection is about to be accepted (after libmicrohttpd's backstop
 * limit): the guard's limits, and room in the waiting share. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    srv_server *s = cls;
    return srv_conn_guard_admit(s->guard, addr) ? MHD_YES : MHD_NO;
}

/* The request line was parsed: note where libmicrohttpd put the target and
 * how long it is before the query is split off (request_line_exact). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    srv_conn *sc = conn_of(c);
    if (sc) {
        sc->line_uri = uri;
        sc->line_uri_len = uri ? strlen(uri) : 0;
        /* libmicrohttpd decodes the path and the query in place into C
         * strings: %00 would cut them short as a raw NUL does. */
        sc->line_uri_nul_escape = false;
        for (size_t i = 0; i + 2 < sc->line_uri_len; i++)
            if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
                sc->line_uri_nul_escape = true;
    }
    return NULL; /* the request's state is made by on_access */
}

/* libmicrohttpd logs every malformed request; a peer sending garbage must
 * not be able to flood the operator's log. At most LOG_BURST lines per
 * second; the number suppressed is reported with the next line let through. */
#define LOG_BURST 20
static _Atomic long log_second;
static _Atomic unsigned log_count, log_dropped;

/* A peer that went away mid-answer (a browser closing its stream, a
 * client giving up) is ordinary: libmicrohttpd's words for it are logged
 * at debug level; anything else it says is a warning. */
static srv_log_level mhd_level(const char *line)
{
    static const char *const peer_gone[] = {
        "socket is no longer available", "Connection reset", "Broken pipe",
        "closed by remote", "Socket disconnected",
    };
    for (size_t i = 0; i < sizeof peer_gone / sizeof peer_gone[0]; i++)
        if (strstr(line, peer_gone[i]))
            return SRV_LOG_DEBUG;
    return SRV_LOG_WARN;
}

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    srv_log_level level = mhd_level(line);
    if (!srv_log_enabled(level))
        return; /* filtered lines do not use up the burst */
    long now = (long)time(NULL);
    long was = atomic_load(&log_second);
    if (now != was && atomic_compare_exchange_strong(&log_second, &was, now))
        atomic_store(&log_count, 0);
    if (atomic_fetch_add(&log_count, 1) >= LOG_BURST) {
        atomic_fetch_add(&log_dropped, 1);
        return;
    }
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    /* Nothing from the peer may forge a second log line. */
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    unsigned dropped = atomic_exchange(&log_dropped, 0);
    if (dropped)
        srv_log(level, "http: (%u similar messages suppressed)", dropped);
    srv_log(level, "http: %s", line);
}

static char *read_pem(const char *path, size_t *len, lsn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        core_fail(err, LSN_ERR_IO, "cannot open TLS file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = core_malloc(TLS_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, TLS_FILE_MAX + 1, f) : 0;
    bool bad = !buf || ferror(f) || n == 0 || n > TLS_FILE_MAX;
    fclose(f);
    if (bad) {
        lsn_free(buf);
        core_fail(err, LSN_ERR_IO, "cannot read TLS file %s (empty, unreadable or over 1 MiB)",
                 path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void free_server(srv_server *s)
{
    if (s->tls_key_pem) {
        srv_wipe(s->tls_key_pem, s->tls_key_len);
        lsn_free(s->tls_key_pem);
    }
    lsn_free(s->tls_cert_pem);
    lsn_free(s->tls_ca_pem);
    srv_ca_list_free(s->tls_cas);
    srv_access_log_close(s->access_log);
    srv_conn_guard_free(s->guard);
    if (s->own_metrics)
        srv_metrics_free(s->metrics);
    lsn_free(s);
}

static unsigned cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
    return false;
}

/* The metrics listener's routes: nothing a reader's API has. */
static const srv_route metrics_routes[] = {
    {SRV_GET, "/metrics", srv_handle_metrics, false, "Prometheus metrics", 0},
    {SRV_GET, "/healthz", srv_handle_healthz, false, "liveness", 0},
};

static srv_server *server_start(const srv_server_opts *o, srv_metrics *shared, lsn_error *err);

srv_server *srv_server_start(const srv_server_opts *o, lsn_error *err)
{
    srv_server *s = server_start(o, NULL, err);
    if (!s || !o->metrics_listen)
        return s;
    /* Metrics on their own listener: small, plain HTTP, for operators. */
    srv_server_opts mo = {
        .listen = o->metrics_listen, .threads = 1, .max_connections = 16, .timeout = 10,
        .request_deadline = 10, .per_address = 0, .routes = metrics_routes,
        .nroutes = sizeof metrics_routes / sizeof metrics_routes[0],
    };
    lsn_error why;
    s->metrics_srv = server_start(&mo, s->metrics, &why);
    if (!s->metrics_srv) {
        srv_server_stop(s, 0);
        core_fail(err, why.code, "metrics listener: %s", why.message);
        return NULL;
    }
    return s;
}

/* Start one daemon; shared: the metrics it shows (the metrics listener
 * shows its parent's and records nothing of its own), or NULL for new. */
static srv_server *server_start(const srv_server_opts *o, srv_metrics *shared, lsn_error *err)
{
    if (!o || !o->routes || !o->nroutes) {
        core_fail(err, LSN_ERR_ARG, "the server needs a route table");
        return NULL;
    }
    const char *why = srv_routes_check(o->routes, o->nroutes);
    if (why) {
        core_fail(err, LSN_ERR_ARG, "bad route table: %s", why);
        return NULL;
    }
    if (srv_crypto_init(err))
        return NULL;
    char host[256];
    unsigned short port;
    if (srv_parse_listen(o->listen ? o->listen : "127.0.0.1:8470", host, sizeof host, &port,
                         err))
        return NULL;
    if (!o->tls_cert != !o->tls_key) {
        core_fail(err, LSN_ERR_ARG, "a TLS certificate and key must be given together");
        return NULL;
    }
    if (o->require_client_cert &&
        (!o->tls_cert ||
         (!o->tls_client_ca && !o->tls_client_ca_pem && !o->client_pin.pinned) ||
         !o->auth.lookup_cert)) {
        core_fail(err, LSN_ERR_ARG, "client certificates need TLS, trusted certificates "
                                    "and a lookup");
        return NULL;
    }

    srv_server *s = core_calloc(1, sizeof *s);
    if (!s) {
        core_fail(err, LSN_ERR_NOMEM, "out of memory starting the server");
        return NULL;
    }
    s->o = *o;
    if (!s->o.body_limit)
        s->o.body_limit = 1u << 20;
    if (!s->o.threads)
        s->o.threads = cpu_count();
    if (!s->o.max_connections)
        s->o.max_connections = 1024;
    if (!s->o.timeout)
        s->o.timeout = 30;
    if (!s->o.conn_memory)
        s->o.conn_memory = 64 * 1024;
    if (!s->o.request_deadline)
        s->o.request_deadline = 30;
    if (!s->o.max_waiting || s->o.max_waiting > s->o.max_connections)
        s->o.max_waiting = s->o.max_connections > 1 ? s->o.max_connections / 2 : 1;
    s->own_metrics = !shared;
    s->metrics = shared ? shared : srv_metrics_new(o->routes, o->nroutes);
    if (s->metrics)
        s->guard = srv_conn_guard_new(&(srv_conn_guard_opts){
            .deadline_s = s->o.request_deadline, .max_waiting = s->o.max_waiting,
            .max_live = s->o.max_connections, .per_address = s->o.per_address,
            .metrics = s->metrics});
    if (!s->metrics || !s->guard) {
        free_server(s);
        core_fail(err, LSN_ERR_NOMEM, "out of memory starting the server");
        return NULL;
    }
    if (o->access_log && !(s->access_log = srv_access_log_open(o->access_log, err))) {
        free_server(s);
        return NULL;
    }

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
                   | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (o->tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            free_server(s);
            core_fail(err, LSN_ERR_ARG,
                     "this libmicrohttpd was built without HTTPS support; "
                     "run without tls-cert/tls-key behind a TLS proxy");
            return NULL;
        }
        size_t cl;
        s->tls_cert_pem = read_pem(o->tls_cert, &cl, err);
        s->tls_key_pem = s->tls_cert_pem ? read_pem(o->tls_key, &s->tls_key_len, err) : NULL;
        if (!s->tls_key_pem) {
            free_server(s);
            return NULL;
        }
        if (o->tls_client_ca && (!(s->tls_ca_pem = read_pem(o->tls_client_ca, &cl, err)) ||
                                 srv_ca_list_load(s->tls_ca_pem, cl, &s->tls_cas, err))) {
            free_server(s);
            return NULL;
        }
        if (!o->tls_client_ca && o->tls_client_ca_pem &&
            !(s->tls_ca_pem = core_strdup(o->tls_client_ca_pem))) {
            free_server(s);
            core_fail(err, LSN_ERR_NOMEM, "out of memory starting the server");
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }

    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    bool any = host[0] == '\0' || strcmp(host, "*") == 0;
    int gai = getaddrinfo(any ? NULL : host, portstr, &hints, &ai);
    if (gai != 0 || !ai) {
        free_server(s);
        core_fail(err, LSN_ERR_ARG, "cannot resolve listen host '%s': %s", host,
                 gai_strerror(gai));
        return NULL;
    }
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (shared && !is_loopback(ai->ai_addr))
        srv_log(SRV_LOG_WARN, "http: the metrics listener (%s) is not on "
                        "loopback: whoever reaches it reads the access-decision counters",
                o->listen);

    struct MHD_OptionItem opts[24];
    size_t n = 0;
#define OPT(k, v, p) (opts[n++] = (struct MHD_OptionItem){(k), (intptr_t)(v), (p)})
    OPT(MHD_OPTION_SOCK_ADDR, 0, ai->ai_addr);
    /* The limits are the guard's (conn_guard.h); libmicrohttpd's, which
     * also counts connections the guard has cut but its thread has not yet
     * closed, is twice as loose: a backstop on descriptors. */
    OPT(MHD_OPTION_CONNECTION_LIMIT, 2 * s->o.max_connections, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, s->o.timeout, NULL);
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->o.conn_memory, NULL);
    OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s);
    OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s);
    OPT(MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s);
    if (s->o.threads > 1)
        OPT(MHD_OPTION_THREAD_POOL_SIZE, s->o.threads, NULL);
    if (s->tls_cert_pem) {
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert_pem);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key_pem);
        if (s->tls_ca_pem) /* ask clients for a certificate (not required) */
            OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, s->tls_ca_pem);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT

    s->d = MHD_start_daemon(flags, port, on_accept, s, on_access, s,
                            /* The logger first, so no option logs the default way. */
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    int saved = errno;
    freeaddrinfo(ai);
    if (!s->d) {
        bool tls = s->tls_cert_pem != NULL;
        free_server(s);
        if (tls)
            /* errno says nothing useful when GnuTLS refused the pair. */
            core_fail(err, LSN_ERR_IO,
                     "cannot listen on %s with TLS: check that tls-cert is a PEM "
                     "certificate and tls-key its PEM private key (%s)",
                     o->listen ? o->listen : "127.0.0.1:8470",
                     saved ? strerror(saved) : "refused");
        else
            core_fail(err, LSN_ERR_IO, "cannot listen on %s: %s",
                     o->listen ? o->listen : "127.0.0.1:8470",
                     saved ? strerror(saved) : "libmicrohttpd refused the settings");
        return NULL;
    }
    if (s->o.hub && s->own_metrics)
        srv_sse_hub_set_metrics(s->o.hub, s->metrics);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    return s;
}

uint16_t srv_server_port(const srv_server *s)
{
    return s->port;
}

uint16_t srv_server_metrics_port(const srv_server *s)
{
    return s->metrics_srv ? s->metrics_srv->port : 0;
}

srv_metrics *srv_server_metrics(srv_server *s)
{
    return s->metrics;
}

unsigned srv_server_in_flight(const srv_server *s)
{
    return atomic_load_explicit(&((srv_server *)s)->in_flight, memory_order_acquire);
}

void srv_server_stop(srv_server *s, unsigned grace_ms)
{
    if (!s)
        return;
    /* 0. From now on a deferred request waits for its answer on its own
     *    thread rather than suspended (see 3b). */
    atomic_store(&s->stopping, true);
    /* The metrics listener has nothing in flight worth waiting for. */
    srv_server_stop(s->metrics_srv, 0);
    s->metrics_srv = NULL;
    /* 1. Stop accepting: the listening socket is ours to close. */
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    /* 2. End streams: suspended ones are resumed and finish their queue;
     *    libmicrohttpd must have no suspended connection when it stops. */
    if (s->o.hub)
        srv_sse_hub_close(s->o.hub);
    /* 3. Let in-flight requests finish, up to the grace period. Deferred
     *    ones are in flight too: their answers resume them. */
    for (unsigned waited = 0; srv_server_in_flight(s) > 0 && waited < grace_ms; waited += 5) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* 3b. Past the grace too, wait for every suspended deferred request's
     *     answer: libmicrohttpd must not stop with a suspended connection
     *     (none is suspended after step 0: those wait on their thread,
     *     which MHD_stop_daemon joins), and nothing acknowledged may be cut
     *     off (deferred.h: answers come promptly). */
    bool told = false;
    for (unsigned waited = 0; atomic_load_explicit(&s->parked, memory_order_acquire) > 0;
         waited += 5) {
        if (!told && waited >= grace_ms + 1000 && (told = true))
            srv_log(SRV_LOG_INFO, "http: waiting for %u deferred answers",
                    atomic_load(&s->parked));
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* 4. Close idle keep-alive connections and whatever overran the grace. */
    MHD_stop_daemon(s->d);
    free_server(s);
}

void srv_signals_block(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A peer closing mid-write must not kill the node. */
    signal(SIGPIPE, SIG_IGN);
}

int srv_signals_wait(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    return sig;
}
