/* node/handlers_read.c — the reading routes: who am I, the channels, a
 * channel's items, one item, search. Reads go through the reader's visible
 * label classes (visible.c): the store is asked only for items of those
 * classes, so that an item the reader may not see is never read, counted
 * or timed; a fetch of one is answered exactly as one that does not exist
 * (same status, same body, same work). Items are named by their public
 * UUID, and paging cursors are sealed (cursor.c) and name the last item
 * the reader was shown: nothing in an answer depends on what the reader
 * may not see. */
#include <stdio.h>
#include <string.h>

#include "server/disposition.h"
#include "core/alloc.h"
#include "store/store_fed.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "node_internal.h"
#include "server/errors.h"
#include "server/log.h"

static node *app(const srv_request *req) { return req->app; }
static node_reader *reader(const srv_request *req) { return req->user; }

/* The one answer for "no such item", whether absent or not visible. */
static void no_such_item(srv_response *resp)
{
    srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "No such item.");
}

static void store_failed(srv_response *resp, const lsn_error *err)
{
    srv_log(SRV_LOG_ERROR, "store: %s", err->message);
    srv_resp_error(resp, 500, SRV_E_INTERNAL, "The store failed; try again.");
}

json_t *node_roles_json(unsigned roles)
{
    json_t *a = json_array();
    for (unsigned bit = 1; a && bit <= STORE_ROLE_ADMINISTRATOR; bit <<= 1)
        if (roles & bit)
            json_array_append_new(a, json_string(svc_role_name(bit)));
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
                            "roles", node_roles_json(r->user->roles),
                            /* so a client can refuse an oversized post beforehand */
                            "bodyLimit", (json_int_t)app(req)->body_limit));
}

static int channel_cb(void *ctx, const store_channel *c)
{
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:b}", "name", c->name, "purpose",
                                         c->purpose ? c->purpose : "", "local", c->local));
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

/* A page of visible items, in arrival order. The answer is assembled as
 * text from the items' rendered JSON (cached, see item_json.c):
 * `{"items":[` fragments joined by commas `],"count":N,"next":CURSOR}` —
 * the same bytes jansson would produce for the object, at a fraction of
 * the cost. A page ends early, with its cursor, once it holds
 * NODE_PAGE_BYTES_MAX (a single item bigger than that is a page alone),
 * or when the pages being made by all requests hold
 * NODE_PAGES_IN_FLIGHT_MAX: the memory of a read is bounded, and a reader
 * pages on. */
typedef struct page {
    node *n;
    const node_reader *r;
    strbuf out;      /* the answer so far */
    bool failed;     /* out of memory */
    bool busy;       /* no room in flight for even one item */
    size_t count, limit;
    size_t reserved; /* bytes counted in n->pages_in_flight */
    const char *given_cursor; /* after=, when it named an item */
    uint8_t last[STORE_UUID_LEN]; /* the last item shown */
} page;

static void page_init(page *p, node *n, const node_reader *r, uint64_t limit)
{
    memset(p, 0, sizeof *p);
    p->n = n;
    p->r = r;
    p->limit = limit ? limit : 1;
    /* Room for one item of the largest size the store keeps (rendered and
     * escaped), since an item is never cut: see page_cb. */
    strbuf_init(&p->out, 8 * (size_t)STORE_BODY_MAX + (2u << 20));
    strbuf_adds(&p->out, "{\"items\":[");
}

/* Count `more` bytes of this page in the node's pages in flight; false
 * (nothing counted) when that would pass the bound. */
static bool page_reserve(page *p, size_t more)
{
    size_t cur = atomic_load_explicit(&p->n->pages_in_flight, memory_order_relaxed);
    do {
        if (cur + more > NODE_PAGES_IN_FLIGHT_MAX)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&p->n->pages_in_flight, &cur, cur + more,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
    p->reserved += more;
    return true;
}

static void page_unreserve(page *p)
{
    atomic_fetch_sub_explicit(&p->n->pages_in_flight, p->reserved, memory_order_relaxed);
    p->reserved = 0;
}

/* A page's text was sent and freed by the server: it leaves the count. */
static void page_sent(void *ctx, size_t len)
{
    node *n = ctx;
    atomic_fetch_sub_explicit(&n->pages_in_flight, len, memory_order_relaxed);
}

static void page_release(page *p)
{
    page_unreserve(p);
    strbuf_release(&p->out);
}

static int page_cb(void *ctx, const store_item *it)
{
    page *p = ctx;
    size_t before = p->out.len;
    if (p->count)
        strbuf_addc(&p->out, ',');
    if (!node_item_fragment_add(p->n, it, &p->out)) {
        p->failed = true;
        return STORE_STOP;
    }
    size_t grown = p->out.len - before;
    bool fits = p->count == 0 || p->out.len <= NODE_PAGE_BYTES_MAX;
    if (!fits || !page_reserve(p, grown)) {
        /* Not this one: the page ends before it, and the cursor lets the
         * reader ask for it next. */
        p->out.len = before;
        p->out.data[before] = '\0';
        p->busy = p->count == 0;
        return STORE_STOP;
    }
    p->count++;
    memcpy(p->last, it->uuid, STORE_UUID_LEN);
    return p->count >= p->limit ? STORE_STOP : STORE_NEXT;
}

/* Read limit= (1..NODE_PAGE_MAX); false when resp holds the 400. */
static bool page_limit(srv_request *req, srv_response *resp, uint64_t *limit)
{
    if (!srv_req_query_uint(req, "limit", NODE_PAGE_DEFAULT, NODE_PAGE_MAX, limit, resp))
        return false;
    if (*limit == 0) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "limit must be at least 1.");
        return false;
    }
    return true;
}

/* The one answer for a cursor that is not this reader's, for whatever
 * reason: malformed, forged, another reader's or context's, or naming an
 * item the reader may no longer see. */
static void bad_cursor(srv_response *resp)
{
    srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "The cursor (after) is not valid here.");
}

/* Where after= resumes: 0 (the start) when absent or empty, else the
 * internal id of the item its cursor names, which must be one this reader
 * may see. False when resp holds the answer. */
static bool page_after(srv_request *req, srv_response *resp, const node_visible *v,
                       const char *context, int64_t *after)
{
    node *n = app(req);
    const char *cur = srv_req_query(req, "after");
    *after = 0;
    if (!cur || !*cur)
        return true;
    uint8_t uuid[STORE_UUID_LEN];
    if (!node_cursor_open(n, reader(req)->user->name, context, cur, uuid)) {
        bad_cursor(resp);
        return false;
    }
    store_item_ref ref;
    lsn_error err;
    if (store_item_find(n->st, uuid, &ref, &err) != LSN_OK) {
        store_failed(resp, &err);
        return false;
    }
    if (ref.id <= 0 || !node_visible_has(v, ref.class_id)) {
        bad_cursor(resp);
        return false;
    }
    *after = ref.id;
    return true;
}

/* The answer when a page could not be made. */
static void page_failed(srv_response *resp, page *p)
{
    bool busy = p->busy;
    page_release(p);
    if (busy) {
        srv_resp_error(resp, 503, SRV_E_UNAVAILABLE, "The node is busy; retry shortly.");
        srv_resp_header(resp, "Retry-After", "1");
    } else {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
    }
}

static void page_answer(srv_response *resp, page *p, const char *context)
{
    /* next: the cursor after the last item shown, or the one given when
     * none was (the reader resumes from the same place); null at the
     * start of an empty listing. Sealing is deterministic: the same item
     * gives the same cursor text. */
    char next[NODE_CURSOR_CHARS + 3] = "null";
    const char *given = NULL;
    if (p->count) {
        next[0] = '"';
        node_cursor_seal(p->n, p->r->user->name, context, p->last, next + 1);
        strcat(next, "\"");
    } else if ((given = p->given_cursor) != NULL) {
        snprintf(next, sizeof next, "\"%s\"", given);
    }
    /* The closing part is short and fixed in size: room was kept for it. */
    strbuf_addf(&p->out, "],\"count\":%zu,\"next\":%s}\n", p->count, next);
    size_t len = 0;
    char *text = strbuf_take(&p->out, &len);
    if (!text) {
        page_unreserve(p);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    /* The page stays counted in flight until the server has sent and
     * freed it (page_sent): what is bounded is every answer not yet sent,
     * not only those being made. */
    if (len > p->reserved)
        atomic_fetch_add_explicit(&p->n->pages_in_flight, len - p->reserved,
                                  memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&p->n->pages_in_flight, p->reserved - len,
                                  memory_order_relaxed);
    p->reserved = 0;
    srv_resp_text_tracked(resp, 200, "application/json", text, len, page_sent, p->n);
}

/* The reader's visible classes for a read; NULL with resp holding 500. */
static node_visible *visible_for(srv_request *req, srv_response *resp)
{
    lsn_error err;
    node_visible *v = node_visible_get(app(req), reader(req), &err);
    if (!v)
        store_failed(resp, &err);
    return v;
}

void node_h_list(srv_request *req, srv_response *resp)
{
    node *n = app(req);
    node_reader *r = reader(req);
    const char *channel = srv_req_param(req, "channel");
    uint64_t limit;
    if (!page_limit(req, resp, &limit))
        return;
    if (!node_channel_exists(n, channel, NULL, 0, resp))
        return;
    char context[300];
    snprintf(context, sizeof context, "list:%s", channel);
    node_visible *v = visible_for(req, resp);
    if (!v)
        return;
    int64_t after;
    if (!page_after(req, resp, v, context, &after)) {
        node_visible_release(v);
        return;
    }
    lsn_error err;
    page p;
    page_init(&p, n, r, limit);
    p.given_cursor = after ? srv_req_query(req, "after") : NULL;
    store_classes buf;
    lsn_err rc = store_item_list(n->st, channel, node_visible_classes(v, &buf), after,
                                 (size_t)limit, page_cb, &p, &err);
    node_visible_release(v);
    if (rc != LSN_OK) {
        page_release(&p);
        store_failed(resp, &err);
        return;
    }
    if (p.failed || p.busy) {
        page_failed(resp, &p);
        return;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "%zu items", p.count);
    char object[300];
    snprintf(object, sizeof object, "channel:%s", channel);
    if (!node_audit(n, r->user->name, "list", object, "ok", detail)) {
        page_release(&p);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The audit log failed; try again.");
        return;
    }
    page_answer(resp, &p, context);
}

/* Decide on the item named by the route's {id} (its public UUID): its
 * internal id when this reader may see it, else 0 with resp holding the
 * answer — the same 404 whether the item is absent or not visible, and the
 * same work and audit path either way. what is the audit's object suffix. */
static int64_t visible_id(srv_request *req, srv_response *resp, const char *what)
{
    node *n = app(req);
    node_reader *r = reader(req);
    const char *param = srv_req_param(req, "id");
    uint8_t uuid[STORE_UUID_LEN];
    if (!param || !store_uuid_parse(param, uuid)) {
        no_such_item(resp);
        return 0;
    }
    /* Where the item is and its class first: the decision reads no body or
     * attachment, so an item one may not see costs the same whatever their
     * size. */
    store_item_ref ref;
    lsn_error err;
    if (store_item_find(n->st, uuid, &ref, &err) != LSN_OK) {
        store_failed(resp, &err);
        return 0;
    }
    node_visible *v = visible_for(req, resp);
    if (!v)
        return 0;
    bool exists = ref.id > 0;
    bool visible = exists && node_visible_has(v, ref.class_id);
    node_visible_release(v);
    char text[37], object[64];
    store_uuid_text(uuid, text);
    snprintf(object, sizeof object, "item:%s%s", text, what);
    if (!node_audit(n, r->user->name, visible ? "read" : "deny", object,
                    visible ? "ok" : (exists ? "denied" : "absent"), NULL)) {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The audit log failed; try again.");
        return 0;
    }
    if (!visible) {
        no_such_item(resp);
        return 0;
    }
    return ref.id;
}

/* The item itself, when visible_id grants it (the caller frees it); else
 * NULL with resp holding the answer. */
static store_item *visible_item(srv_request *req, srv_response *resp, const char *what)
{
    int64_t id = visible_id(req, resp, what);
    if (!id)
        return NULL;
    store_item *it = NULL;
    lsn_error err;
    lsn_err rc = store_item_get(app(req)->st, id, &it, &err);
    if (rc == LSN_OK && !it) {
        /* Withheld by the store: it fails its seal (altered in the
         * database; audited and alarmed there). Absent, as any other. */
        no_such_item(resp);
        return NULL;
    }
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
    char *answer = text ? core_realloc(text, len + 2) : NULL;
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
    char *bytes = core_malloc(len ? len : 1);
    if (!bytes) {
        lsn_free(it);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    if (len)
        memcpy(bytes, it->attachment, len);
    char disposition[SRV_RESP_HEADER_VALUE_MAX], uuid[37], fallback[48];
    store_uuid_text(it->uuid, uuid);
    snprintf(fallback, sizeof fallback, "item-%s", uuid);
    /* The poster's file name (checked by the store: no path, no control
     * character), else item-UUID; always fits (SRV_RESP_HEADER_VALUE_MAX). */
    if (!srv_content_disposition(it->attachment_name, fallback, disposition, sizeof disposition))
        snprintf(disposition, sizeof disposition, "attachment");
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

/* The number of characters (UTF-8 code points) of s, counting at most
 * max + 1: the API limits q in characters, not bytes. */
static size_t utf8_chars(const char *s, size_t max)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c && n <= max; c++)
        n += (*c & 0xc0) != 0x80;
    return n;
}

static bool has_word(const char *q)
{
    for (; *q; q++)
        if (!strchr(" \t\r\n\f\v", *q))
            return true;
    return false;
}

void node_h_search(srv_request *req, srv_response *resp)
{
    node *n = app(req);
    node_reader *r = reader(req);
    const char *q = srv_req_query(req, "q");
    const char *channel = srv_req_query(req, "channel");
    uint64_t limit;
    if (!q || !*q) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "The query parameter q is required.");
        return;
    }
    if (utf8_chars(q, NODE_QUERY_CHARS_MAX) > NODE_QUERY_CHARS_MAX) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "The query q is longer than 512 characters.");
        return;
    }
    if (!has_word(q)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "The query q has no words.");
        return;
    }
    if (!page_limit(req, resp, &limit))
        return;
    if (channel && *channel && !node_channel_exists(n, channel, NULL, 0, resp))
        return;
    node_visible *v = visible_for(req, resp);
    if (!v)
        return;
    int64_t after;
    if (!page_after(req, resp, v, "search", &after)) {
        node_visible_release(v);
        return;
    }
    lsn_error err;
    page p;
    page_init(&p, n, r, limit);
    p.given_cursor = after ? srv_req_query(req, "after") : NULL;
    store_classes buf;
    lsn_err rc = store_item_search(n->st, q, channel && *channel ? channel : NULL,
                                   node_visible_classes(v, &buf), after, page_cb, &p, &err);
    node_visible_release(v);
    if (rc == LSN_ERR_ARG || rc == LSN_ERR_LIMIT) {
        page_release(&p);
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "The query q is not a search.");
        return;
    }
    if (rc != LSN_OK) {
        page_release(&p);
        store_failed(resp, &err);
        return;
    }
    if (p.failed || p.busy) {
        page_failed(resp, &p);
        return;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "%zu items", p.count);
    if (!node_audit(n, r->user->name, "search", "items", "ok", detail)) {
        page_release(&p);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The audit log failed; try again.");
        return;
    }
    page_answer(resp, &p, "search");
}

/* The item's signed STANAG 4778 binding, the bytes its origin signed,
 * verbatim (docs/FEDERATION.md): `liaison binding verify` checks them
 * against the origin's certificate. */
void node_h_binding(srv_request *req, srv_response *resp)
{
    int64_t id = visible_id(req, resp, "/binding");
    if (!id)
        return;
    char *xml = NULL;
    size_t len = 0;
    lsn_error err;
    /* Signed now when it was not at acceptance (service_binding.c). */
    if (svc_item_binding(&app(req)->svc, id, &xml, &len, &err) != LSN_OK) {
        store_failed(resp, &err);
        return;
    }
    if (!xml) { /* a node without identity, or an item withheld (its seal) */
        no_such_item(resp);
        return;
    }
    srv_resp_text(resp, 200, "application/xml", xml, len);
}
