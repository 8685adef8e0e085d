/* server/router.h — the route table and the request a handler sees.
 *
 * The node's whole HTTP surface is ONE table of srv_route (method, path
 * pattern with {param} segments, handler, whether a bearer token is needed,
 * which right of the embedder's table the caller needs),
 * so that dispatch, 404/405, metrics labels and the OpenAPI document all
 * derive from one place. Matching is exact per segment; a {name} segment
 * captures one non-empty segment. */
#ifndef SERVER_ROUTER_H
#define SERVER_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "server/response.h"

#define SRV_MAX_PARAMS 4
#define SRV_MAX_SEGMENTS 16
#define SRV_MAX_PATH 2048

typedef enum srv_method {
    SRV_GET = 0,
    SRV_POST,
    SRV_PUT,
    SRV_PATCH,
    SRV_DELETE,
    SRV_METHOD_OTHER /* anything else: never matches a route */
} srv_method;

struct srv_metrics;
struct srv_sse_hub;

typedef struct srv_request {
    srv_method method;
    const char *method_name;   /* as sent */
    const char *path;          /* decoded path, without the query */
    size_t route_index;        /* index of the matched route in the table */
    size_t nparams;
    struct {
        const char *name;      /* points into the route pattern, not NUL-ended */
        size_t name_len;
        char value[256];       /* NUL-terminated copy of the segment */
    } params[SRV_MAX_PARAMS];
    const char *body;          /* the request body (NUL-terminated), or NULL */
    size_t body_len;
    void *user;                /* the authenticated user (embedder's), or NULL */
    bool by_session;           /* user came from a web session's cookie ... */
    uint8_t session_hash[32];  /* ... whose hash this is (SRV_TOKEN_HASH_LEN) */
    void *app;                 /* the embedder's context (srv_server_opts.app) */
    struct srv_metrics *metrics;
    struct srv_sse_hub *hub;   /* the server's SSE hub, or NULL */
    void *conn_;               /* private: the libmicrohttpd connection */
} srv_request;

typedef void (*srv_handler)(srv_request *req, srv_response *resp);

typedef struct srv_route {
    srv_method method;
    const char *pattern;       /* "/api/v1/channels/{channel}/items" */
    srv_handler handler;
    bool auth;                 /* requires Authorization: Bearer */
    const char *summary;       /* one line, for docs and help */
    unsigned need;             /* the embedder's right the caller must hold (its
                                  table; 0: none), asked of srv_auth.allow */
} srv_route;

/* Map a method name to srv_method (HEAD maps to GET: libmicrohttpd drops the
 * body itself). */
srv_method srv_method_from(const char *name);
const char *srv_method_name(srv_method m);

/* Check a route table at start-up: patterns start with '/', braces are
 * balanced, at most SRV_MAX_PARAMS params and SRV_MAX_SEGMENTS segments, and
 * no two routes have the same method and shape. Returns NULL if sound, or a
 * static sentence naming the first problem. */
const char *srv_routes_check(const srv_route *routes, size_t n);

/* Find the route for method and path. Returns its index and fills req's
 * params, or -1: then *path_known says whether some route has that path
 * with another method (→ 405, and allow (if not NULL, cap allow_len) lists
 * the methods, comma-separated), else 404. */
long srv_route_match(const srv_route *routes, size_t n, srv_method method,
                     const char *path, srv_request *req, bool *path_known,
                     char *allow, size_t allow_len);

/* Print the route table as a Markdown table (method, path, token, summary):
 * the API listing in docs derives from the same table as dispatch. */
void srv_routes_markdown(FILE *out, const srv_route *routes, size_t n);

/* A path parameter by name ("channel"), or NULL. */
const char *srv_req_param(const srv_request *req, const char *name);
/* A query parameter (decoded), or NULL. Valid during the handler. */
const char *srv_req_query(const srv_request *req, const char *name);
/* A query parameter as a whole number in [0, max]: absent → def. On a
 * malformed or out-of-range value returns false and resp holds a 400 that
 * names the parameter. */
bool srv_req_query_uint(const srv_request *req, const char *name, uint64_t def,
                        uint64_t max, uint64_t *out, srv_response *resp);
/* The whole decimal number v (digits only, at least one) into *out if it
 * is at most max; false otherwise (*out untouched). */
bool srv_parse_uint(const char *v, uint64_t max, uint64_t *out);
/* The client's address as text (numeric host) into out; "?" when unknown. */
void srv_req_client(const srv_request *req, char *out, size_t cap);
/* A request header (case-insensitive name), or NULL. */
const char *srv_req_header(const srv_request *req, const char *name);

#endif
