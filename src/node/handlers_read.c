/* node/handlers_read.c — the reading routes: who am I, the channels, a
 * channel's items, one item, search. Every item passes node_may_see before
 * it is shown or counted; an item the reader may not see is answered
 * exactly as one that does not exist (same status, same body), and paging
 * cursors are ids of items the reader saw, so nothing about an invisible
 * item leaks through counts or cursors. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "node_internal.h"
#include "server/errors.h"

static node *app(const srv_request *req) { return req->app; }
static node_reader *reader(const srv_request *req) { return req->user; }

/* The one answer for "no such item", whether absent or not visible. */
static void no_such_item(srv_response *resp)
{
    srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "No such item.");
}

static void store_failed(srv_response *resp, const lsn_error *err)
{
    fprintf(stderr, "liaison: store: %s\n", err->message);
    srv_resp_error(resp, 500, SRV_E_INTERNAL, "The store failed; try again.");
}

static json_t *roles_json(unsigned roles)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        {STORE_ROLE_MEMBER, "member"},
        {STORE_ROLE_RELEASE_AUTHORITY, "release_authority"},
        {STORE_ROLE_AUDITOR, "auditor"},
        {STORE_ROLE_ADMINISTRATOR, "administrator"},
    };
    json_t *a = json_array();
    for (size_t i = 0; a && i < sizeof names / sizeof names[0]; i++)
        if (roles & names[i].bit)
            json_array_append_new(a, json_string(names[i].name));
    return a;
}

static json_t *clearance_marking(const lsn_clearance *c, const char *lang)
{
    char buf[2048];
    if (!c || lsn_clearance_marking(c, lang, buf, sizeof buf, NULL) != LSN_OK)
        return json_null();
    return json_string(buf);
}

void node_h_me(srv_request *req, srv_response *resp)
{
    node_reader *r = reader(req);
    json_t *clr = json_loads(r->user->clearance, 0, NULL);
    srv_resp_json(resp, 200,
                  json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o, s:o, s:I}", "name", r->user->name,
                            "organisation", r->user->organisation,
                            "nation", r->org_category,
                            "clearance", clr ? clr : json_null(),
                            "clearanceMarking", clearance_marking(r->clearance, "en"),
                            "clearanceMarkingFr", clearance_marking(r->clearance, "fr"),
                            "roles", roles_json(r->user->roles),
                            /* so a client can refuse an oversized post beforehand */
                            "bodyLimit", (json_int_t)app(req)->body_limit));
}

static int channel_cb(void *ctx, const store_channel *c)
{
    json_array_append_new(ctx, json_pack("{s:s, s:s}", "name", c->name, "purpose",
                                         c->purpose ? c->purpose : ""));
    return STORE_NEXT;
}

void node_h_channels(srv_request *req, srv_response *resp)
{
    lsn_error err;
    json_t *a = json_array();
    if (!a) {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    if (store_channel_list(app(req)->st, channel_cb, a, &err) != LSN_OK) {
        json_decref(a);
        store_failed(resp, &err);
        return;
    }
    srv_resp_json(resp, 200, json_pack("{s:o}", "channels", a));
}

/* A page of visible items: the store yields candidates in id order. The
 * answer is assembled as text from the items' rendered JSON (cached, see
 * item_json.c): `{"items":[` fragments joined by commas `],"count":N,
 * "next":ID}` — the same bytes jansson would produce for the object, at a
 * fraction of the cost. */
typedef struct page {
    node *n;
    const node_reader *r;
    strbuf out;      /* the answer so far */
    bool failed;     /* out of memory, or past NODE_PAGE_BYTES_MAX */
    size_t count, limit, scanned, scan_max;
    int64_t last_visible;
} page;

static void page_init(page *p, node *n, const node_reader *r, uint64_t limit,
                      size_t scan_max)
{
    memset(p, 0, sizeof *p);
    p->n = n;
    p->r = r;
    p->limit = limit ? limit : 1;
    p->scan_max = scan_max;
    /* A page is never cut short (clients take a page shorter than limit
     * for the last one), so its size is capped by refusing it: see
     * page_failed. The tail ("],count,next}") always fits. */
    strbuf_init(&p->out, NODE_PAGE_BYTES_MAX + 128);
    strbuf_adds(&p->out, "{\"items\":[");
}

static int page_cb(void *ctx, const store_item *it)
{
    page *p = ctx;
    p->scanned++;
    if (node_may_see(p->n, p->r, it->id, it->label)) {
        if (p->count)
            strbuf_addc(&p->out, ',');
        if (!node_item_fragment_add(p->n, it, &p->out) || p->out.len > NODE_PAGE_BYTES_MAX) {
            p->failed = true;
            return STORE_STOP;
        }
        p->count++;
        p->last_visible = it->id;
    }
    if (p->count >= p->limit || (p->scan_max && p->scanned >= p->scan_max))
        return STORE_STOP;
    return STORE_NEXT;
}

/* Read after= and limit=; false when resp holds the 400. */
static bool page_params(srv_request *req, srv_response *resp, uint64_t *after,
                        uint64_t *limit)
{
    return srv_req_query_uint(req, "after", 0, INT64_MAX, after, resp) &&
           srv_req_query_uint(req, "limit", NODE_PAGE_DEFAULT, NODE_PAGE_MAX, limit,
                              resp);
}

/* The answer when a page could not be made: too large (what the reader
 * may see alone decides that), or out of memory. */
static void page_failed(srv_response *resp, page *p)
{
    bool big = p->out.len > NODE_PAGE_BYTES_MAX || (p->out.failed && p->out.why == LSN_ERR_LIMIT);
    strbuf_release(&p->out);
    if (big)
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "The page would be too large; ask for fewer items (limit).");
    else
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
}

static void page_answer(srv_response *resp, page *p, uint64_t after)
{
    /* next: the cursor for the following page — the last item this reader
     * saw (or the cursor given), never an id it could not see. */
    int64_t next = p->count ? p->last_visible : (int64_t)after;
    /* The closing part is numbers only; the page's cap left room for it. */
    strbuf_addf(&p->out, "],\"count\":%zu,\"next\":%lld}\n", p->count, (long long)next);
    size_t len = 0;
    char *text = strbuf_take(&p->out, &len);
    if (!text) {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    srv_resp_text(resp, 200, "application/json", text, len);
}

void node_h_list(srv_request *req, srv_response *resp)
{
    node *n = app(req);
    node_reader *r = reader(req);
    const char *channel = srv_req_param(req, "channel");
    uint64_t after, limit;
    if (!page_params(req, resp, &after, &limit))
        return;
    if (!node_channel_exists(n, channel, NULL, 0, resp))
        return;
    lsn_error err;
    page p;
    page_init(&p, n, r, limit, 0);
    if (store_item_list(n->st, channel, (int64_t)after, page_cb, &p, &err) != LSN_OK) {
        strbuf_release(&p.out);
        store_failed(resp, &err);
        return;
    }
    if (p.failed) {
        page_failed(resp, &p);
        return;
    }
    char detail[320];
    snprintf(detail, sizeof detail, "%zu items after %llu", p.count,
             (unsigned long long)after);
    char object[300];
    snprintf(object, sizeof object, "channel:%s", channel);
    if (!node_audit(n, r->user->name, "list", object, "ok", detail)) {
        strbuf_release(&p.out);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The audit log failed; try again.");
        return;
    }
    page_answer(resp, &p, after);
}

/* Parse a positive decimal id; false for anything else. */
static bool parse_id(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!s || !*s || strlen(s) > 18)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return v > 0;
}

/* Fetch the item named by the route's {id} and decide: the item when this
 * reader may see it (the caller frees it), else NULL with resp holding the
 * answer — the same 404 whether the item is absent or not visible, and the
 * same work and audit path either way. what is the audit's object suffix. */
static store_item *visible_item(srv_request *req, srv_response *resp, const char *what)
{
    node *n = app(req);
    node_reader *r = reader(req);
    int64_t id;
    if (!parse_id(srv_req_param(req, "id"), &id)) {
        no_such_item(resp);
        return NULL;
    }
    /* The label alone first: the decision reads no body or attachment, so
     * an item one may not see costs the same whatever their size. */
    char *label = NULL;
    lsn_error err;
    if (store_item_label(n->st, id, &label, &err) != LSN_OK) {
        store_failed(resp, &err);
        return NULL;
    }
    char object[64];
    snprintf(object, sizeof object, "item:%lld%s", (long long)id, what);
    bool visible = label && node_may_see(n, r, id, label);
    bool exists = label != NULL;
    lsn_free(label);
    if (!node_audit(n, r->user->name, visible ? "read" : "deny", object,
                    visible ? "ok" : (exists ? "denied" : "absent"), NULL)) {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The audit log failed; try again.");
        return NULL;
    }
    if (!visible) {
        no_such_item(resp);
        return NULL;
    }
    store_item *it = NULL;
    lsn_err rc = store_item_get(n->st, id, &it, &err);
    if (rc == LSN_OK && !it) /* items are never removed: a store failure */
        rc = lsn_fail(&err, LSN_ERR_IO, "item %lld vanished", (long long)id);
    if (rc != LSN_OK) {
        store_failed(resp, &err);
        return NULL;
    }
    return it;
}

void node_h_item(srv_request *req, srv_response *resp)
{
    store_item *it = visible_item(req, resp, "");
    if (!it)
        return;
    size_t len = 0;
    /* The attachment's bytes (base64) are in this answer only: they can be
     * megabytes, so they are neither cached nor listed. */
    char *text = it->media_type ? node_item_render(app(req), it, true, &len)
                                : node_item_fragment(app(req), it, &len);
    lsn_free(it);
    char *answer = text ? lsn_realloc(text, len + 2) : NULL;
    if (!answer) {
        lsn_free(text);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    answer[len] = '\n'; /* as the server ends a JSON answer */
    answer[len + 1] = '\0';
    srv_resp_text(resp, 200, "application/json", answer, len + 1);
}

/* A media type safe to send as Content-Type: printable ASCII with a '/',
 * short enough for a header (the post route only capped its length). */
static bool sane_media_type(const char *mt)
{
    size_t len = strlen(mt);
    if (len == 0 || len >= SRV_RESP_HEADER_VALUE_MAX || !strchr(mt, '/'))
        return false;
    for (const char *c = mt; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return false;
    return true;
}

void node_h_attachment(srv_request *req, srv_response *resp)
{
    store_item *it = visible_item(req, resp, "/attachment");
    if (!it)
        return;
    if (!it->media_type) {
        lsn_free(it);
        srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "This item has no attachment.");
        return;
    }
    size_t len = it->attachment_len;
    char *bytes = lsn_malloc(len ? len : 1);
    if (!bytes) {
        lsn_free(it);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    if (len)
        memcpy(bytes, it->attachment, len);
    char disposition[64];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"item-%lld\"",
             (long long)it->id);
    srv_resp_bytes(resp, 200, sane_media_type(it->media_type) ? it->media_type
                                                              : "application/octet-stream",
                   bytes, len);
    lsn_free(it);
    /* Never rendered by the browser in the page's origin: downloaded, not
     * sniffed (the server adds nosniff to every answer), and sandboxed if
     * opened anyway. */
    srv_resp_header(resp, "Content-Disposition", disposition);
    srv_resp_header(resp, "Content-Security-Policy", "default-src 'none'; sandbox");
}

void node_h_search(srv_request *req, srv_response *resp)
{
    node *n = app(req);
    node_reader *r = reader(req);
    const char *q = srv_req_query(req, "q");
    const char *channel = srv_req_query(req, "channel");
    uint64_t after, limit;
    if (!q || !*q) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "The query parameter q is required.");
        return;
    }
    if (strlen(q) > 512) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "The query q is longer than 512 bytes.");
        return;
    }
    if (!page_params(req, resp, &after, &limit))
        return;
    if (channel && *channel && !node_channel_exists(n, channel, NULL, 0, resp))
        return;
    lsn_error err;
    page p;
    page_init(&p, n, r, limit, NODE_SEARCH_SCAN_MAX);
    if (store_item_search(n->st, q, channel && *channel ? channel : NULL, (int64_t)after,
                          page_cb, &p, &err) != LSN_OK) {
        strbuf_release(&p.out);
        store_failed(resp, &err);
        return;
    }
    if (p.failed) {
        page_failed(resp, &p);
        return;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "%zu items", p.count);
    if (!node_audit(n, r->user->name, "search", "items", "ok", detail)) {
        strbuf_release(&p.out);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The audit log failed; try again.");
        return;
    }
    page_answer(resp, &p, after);
}
