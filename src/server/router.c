/* server/router.c — matching a method and path against the route table. */
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "server/errors.h"
#include "server/router.h"

static const char *const method_names[] = {
    [SRV_GET] = "GET", [SRV_POST] = "POST", [SRV_PUT] = "PUT",
    [SRV_PATCH] = "PATCH", [SRV_DELETE] = "DELETE", [SRV_METHOD_OTHER] = "OTHER",
};

srv_method srv_method_from(const char *name)
{
    if (!name)
        return SRV_METHOD_OTHER;
    if (strcmp(name, "HEAD") == 0)
        return SRV_GET;
    for (int m = 0; m < SRV_METHOD_OTHER; m++)
        if (strcmp(name, method_names[m]) == 0)
            return (srv_method)m;
    return SRV_METHOD_OTHER;
}

const char *srv_method_name(srv_method m)
{
    if ((int)m < 0 || m > SRV_METHOD_OTHER)
        return "OTHER";
    return method_names[m];
}

/* Next segment of a path or pattern starting at *p (after a '/'): sets
 * *seg and *len and advances *p past it. Returns false at the end. */
static bool next_segment(const char **p, const char **seg, size_t *len)
{
    if (**p != '/')
        return false;
    (*p)++;
    *seg = *p;
    while (**p && **p != '/')
        (*p)++;
    *len = (size_t)(*p - *seg);
    return true;
}

static bool is_param(const char *seg, size_t len)
{
    return len >= 3 && seg[0] == '{' && seg[len - 1] == '}';
}

/* Does path match pattern? Fills req's params when req is not NULL. */
static bool match_one(const char *pattern, const char *path, srv_request *req)
{
    const char *pp = pattern, *xp = path;
    const char *ps = NULL, *xs = NULL;
    size_t pl = 0, xl = 0, np = 0;
    for (;;) {
        bool more_p = next_segment(&pp, &ps, &pl);
        bool more_x = next_segment(&xp, &xs, &xl);
        if (!more_p || !more_x) {
            /* Both must end together; anything left in path is a mismatch. */
            if (more_p || more_x || *xp)
                return false;
            break;
        }
        if (is_param(ps, pl)) {
            if (xl == 0 || np >= SRV_MAX_PARAMS || xl >= sizeof req->params[0].value)
                return false;
            if (req) {
                req->params[np].name = ps + 1;
                req->params[np].name_len = pl - 2;
                memcpy(req->params[np].value, xs, xl);
                req->params[np].value[xl] = '\0';
            }
            np++;
        } else if (pl != xl || memcmp(ps, xs, pl) != 0) {
            return false;
        }
    }
    if (req)
        req->nparams = np;
    return true;
}

const char *srv_routes_check(const srv_route *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = routes[i].pattern;
        if (!p || p[0] != '/')
            return "a route pattern does not start with '/'";
        if (!routes[i].handler)
            return "a route has no handler";
        if (routes[i].method >= SRV_METHOD_OTHER)
            return "a route has no method";
        size_t segs = 0, params = 0;
        const char *s = NULL;
        size_t l = 0;
        while (next_segment(&p, &s, &l)) {
            segs++;
            bool open = memchr(s, '{', l) != NULL, close = memchr(s, '}', l) != NULL;
            if (is_param(s, l))
                params++;
            else if (open || close)
                return "a route pattern has a brace that is not a whole {param} segment";
        }
        if (segs > SRV_MAX_SEGMENTS || params > SRV_MAX_PARAMS)
            return "a route pattern has too many segments or parameters";
        for (size_t j = 0; j < i; j++)
            if (routes[j].method == routes[i].method
                && strcmp(routes[j].pattern, routes[i].pattern) == 0)
                return "two routes have the same method and pattern";
    }
    return NULL;
}

long srv_route_match(const srv_route *routes, size_t n, srv_method method,
                     const char *path, srv_request *req, bool *path_known,
                     char *allow, size_t allow_len)
{
    *path_known = false;
    if (allow && allow_len)
        allow[0] = '\0';
    if (!path || path[0] != '/' || strlen(path) > SRV_MAX_PATH)
        return -1;
    /* Literal routes win over parametrised ones that also match, whatever
     * their order in the table: first look for an exact literal match. */
    long found = -1;
    for (size_t i = 0; i < n && found < 0; i++)
        if (routes[i].method == method && strchr(routes[i].pattern, '{') == NULL
            && match_one(routes[i].pattern, path, NULL))
            found = (long)i;
    for (size_t i = 0; i < n && found < 0; i++)
        if (routes[i].method == method && match_one(routes[i].pattern, path, NULL))
            found = (long)i;
    if (found >= 0) {
        if (req) {
            match_one(routes[found].pattern, path, req);
            req->route_index = (size_t)found;
        }
        return found;
    }
    for (size_t i = 0; i < n; i++) {
        if (!match_one(routes[i].pattern, path, NULL))
            continue;
        *path_known = true;
        if (allow && allow_len) {
            const char *m = srv_method_name(routes[i].method);
            if (strstr(allow, m))
                continue;
            size_t used = strlen(allow);
            size_t need = strlen(m) + (used ? 2 : 0);
            if (used + need + 1 <= allow_len) {
                if (used)
                    memcpy(allow + used, ", ", 2), used += 2;
                memcpy(allow + used, m, strlen(m) + 1);
            }
        }
    }
    return -1;
}

void srv_routes_markdown(FILE *out, const srv_route *routes, size_t n)
{
    fprintf(out, "| method | path | token | what |\n|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "| %s | `%s` | %s | %s |\n", srv_method_name(routes[i].method),
                routes[i].pattern, routes[i].auth ? "yes" : "no",
                routes[i].summary ? routes[i].summary : "");
}

const char *srv_req_param(const srv_request *req, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->nparams; i++)
        if (req->params[i].name_len == nl && memcmp(req->params[i].name, name, nl) == 0)
            return req->params[i].value;
    return NULL;
}

const char *srv_req_query(const srv_request *req, const char *name)
{
    if (!req->conn_)
        return NULL;
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn_,
                                       MHD_GET_ARGUMENT_KIND, name);
}

bool srv_parse_uint(const char *v, uint64_t max, uint64_t *out)
{
    uint64_t n = 0;
    bool okay = v && *v != '\0';
    for (const char *p = v; okay && *p; p++) {
        if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
            okay = false;
        else
            n = n * 10 + (uint64_t)(*p - '0');
    }
    if (!okay || n > max)
        return false;
    *out = n;
    return true;
}

bool srv_req_query_uint(const srv_request *req, const char *name, uint64_t def,
                        uint64_t max, uint64_t *out, srv_response *resp)
{
    const char *v = srv_req_query(req, name);
    if (!v) {
        *out = def;
        return true;
    }
    uint64_t n = 0;
    if (!srv_parse_uint(v, max, &n)) {
        /* Name the parameter, never echo its value. */
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "The query parameter '%s' must be a whole number from 0 to %llu.",
                       name, (unsigned long long)max);
        return false;
    }
    *out = n;
    return true;
}

const char *srv_req_header(const srv_request *req, const char *name)
{
    if (!req->conn_)
        return NULL;
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn_,
                                       MHD_HEADER_KIND, name);
}

void srv_req_client(const srv_request *req, char *out, size_t cap)
{
    snprintf(out, cap, "?");
    const union MHD_ConnectionInfo *ci =
        req->conn_ ? MHD_get_connection_info((struct MHD_Connection *)req->conn_,
                                             MHD_CONNECTION_INFO_CLIENT_ADDRESS)
                   : NULL;
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    if (getnameinfo(sa, len, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(out, cap, "?");
}
