/* node/static.c — the web page (web/public) served at `/`: index.html,
 * its stylesheet and its ES modules, with the strict headers the page is
 * written for (docs/WEB.md). Only files directly named by the route's
 * segments, with a plain name and a known extension, are served: no
 * directory walking, nothing outside the web directory, no hidden files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "node_internal.h"
#include "server/errors.h"

#define STATIC_MAX (2u << 20)

static const char *media_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    if (!strcmp(dot, ".html"))
        return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    if (!strcmp(dot, ".svg"))
        return "image/svg+xml";
    if (!strcmp(dot, ".png"))
        return "image/png";
    if (!strcmp(dot, ".json")) /* presets.json: the operator's named releases */
        return "application/json";
    return NULL;
}

/* A plain file name: letters, digits, '-', '_', '.', not starting with '.'. */
static bool plain_name(const char *s)
{
    if (!s || !*s || *s == '.' || strlen(s) > 128)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static void serve(srv_request *req, srv_response *resp, const char *subdir, const char *name)
{
    node *n = req->app;
    const char *type = media_type(name ? name : "");
    if (!n->web_dir || !plain_name(name) || !type) {
        srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "No such page.");
        return;
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s%s%s", n->web_dir, subdir,
                         *subdir ? "/" : "", name) >= sizeof path) {
        srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "No such page.");
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX) {
        if (fd >= 0)
            close(fd);
        srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "No such page.");
        return;
    }
    size_t len = (size_t)st.st_size, off = 0;
    char *buf = core_malloc(len + 1);
    while (buf && off < len) {
        ssize_t r = read(fd, buf + off, len - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    close(fd);
    if (!buf || off != len) {
        lsn_free(buf);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The page could not be read.");
        return;
    }
    srv_resp_text(resp, 200, type, buf, len);
    srv_resp_header(resp, "Cache-Control", "no-cache");
    srv_resp_header(resp, "Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                    "base-uri 'none'; form-action 'self'");
}

void node_h_index(srv_request *req, srv_response *resp)
{
    serve(req, resp, "", "index.html");
}

void node_h_static(srv_request *req, srv_response *resp)
{
    serve(req, resp, "", srv_req_param(req, "file"));
}

void node_h_static_js(srv_request *req, srv_response *resp)
{
    serve(req, resp, "js", srv_req_param(req, "file"));
}

void node_h_static_views(srv_request *req, srv_response *resp)
{
    serve(req, resp, "js/views", srv_req_param(req, "file"));
}
