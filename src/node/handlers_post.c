/* node/handlers_post.c — POST /api/v1/channels/{channel}/items and POST
 * /api/v1/labels/mark: thin adapters over the service layer.
 *
 * The request's JSON is read here (the transport's form: the attachment
 * arrives as base64); whether the item goes in is the service's decision
 * (service_post.c: role, channel, body, label, clearance, release), mapped
 * to a status by node_resp_refusal.
 *
 * The append is asynchronous: the handler defers its answer
 * (server/deferred.h) and returns, and the service's completion — on the
 * store's writer thread, once the group commit holding the item is on disk
 * — answers 201. So a post waiting for its commit holds no server thread;
 * the connections bound the posts in flight. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "core/alloc.h"
#include "node_internal.h"
#include "server/body.h"
#include "server/deferred.h"
#include "server/errors.h"

void node_resp_refusal(srv_response *resp, const svc_result *res)
{
    static const struct {
        int status;
        const char *code;
    } map[] = {
        [SVC_DONE] = {500, SRV_E_INTERNAL},       [SVC_MALFORMED] = {400, SRV_E_BAD_REQUEST},
        [SVC_FORBIDDEN] = {403, SRV_E_FORBIDDEN}, [SVC_NOT_FOUND] = {404, SRV_E_NOT_FOUND},
        [SVC_DUPLICATE] = {409, "conflict"},      [SVC_TOO_LARGE] = {413, SRV_E_TOO_LARGE},
        [SVC_INVALID] = {422, SRV_E_INVALID},     [SVC_FAILED] = {500, SRV_E_INTERNAL},
    };
    unsigned k = (unsigned)res->refusal < sizeof map / sizeof map[0] ? res->refusal : SVC_FAILED;
    srv_resp_error(resp, map[k].status, map[k].code, "%s",
                   res->reason[0] ? res->reason : "The request failed.");
}

/* Decode an optional attachment {"mediaType", "data" (base64), "fileName"
 * (optional; checked by the service)}. */
static bool read_attachment(json_t *a, const char **media, const char **file_name,
                            uint8_t **bytes, size_t *len, srv_response *resp)
{
    *media = NULL;
    *file_name = NULL;
    *bytes = NULL;
    *len = 0;
    if (!a || json_is_null(a))
        return true;
    const char *mt = json_string_value(json_object_get(a, "mediaType"));
    json_t *d = json_object_get(a, "data");
    json_t *fn = json_object_get(a, "fileName");
    if (!json_is_object(a) || !mt || !*mt || strlen(mt) > 255 || !json_is_string(d) ||
        (fn && !json_is_null(fn) &&
         (!json_is_string(fn) || strlen(json_string_value(fn)) != json_string_length(fn)))) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "An attachment is {\"mediaType\": TYPE, \"data\": BASE64, "
                       "\"fileName\": NAME (optional)}.");
        return false;
    }
    size_t cap = json_string_length(d) / 4 * 3 + 3;
    uint8_t *buf = core_malloc(cap ? cap : 1);
    if (!buf) {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return false;
    }
    if (sodium_base642bin(buf, cap, json_string_value(d), json_string_length(d), " \r\n",
                          len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        lsn_free(buf);
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "The attachment data is not base64.");
        return false;
    }
    *media = mt;
    *file_name = fn ? json_string_value(fn) : NULL;
    *bytes = buf;
    return true;
}

/* A post waiting for its group commit: the deferred request and the 201
 * answer. The answer is assembled from fragments jansson rendered (the
 * channel's name, the label's markings, remembered with them) and written
 * before queueing, up to the id; the completion only appends the id and
 * content hash — rendering a JSON object per post on either thread cost
 * more than the rest of the answer path. */
typedef struct post_wait {
    srv_deferred *d;
    char *answer;      /* {"channel":..,"marking":..,"markingFr":..,"id": */
    char uuid[37];     /* the item's public id (given to the store) */
    size_t prefix_len; /* what is written; the rest is room for the tail */
    size_t cap;
} post_wait;

#define POST_TAIL_MAX (40 + 2 * STORE_HASH_LEN + 24) /* "UUID","contentHash":"HEX"}\n */

/* The service's completion, on the store's writer thread: keep it short. */
static void post_done(void *ctx, lsn_err rc, int64_t id, const uint8_t hash[STORE_HASH_LEN],
                      const svc_result *res)
{
    post_wait *w = ctx;
    (void)id; /* internal: the answer names the item by its public id */
    srv_response a = {0};
    if (rc == LSN_OK) {
        char hex[2 * STORE_HASH_LEN + 1];
        node_hex(hash, STORE_HASH_LEN, hex);
        int k = snprintf(w->answer + w->prefix_len, w->cap - w->prefix_len,
                         "\"%s\",\"contentHash\":\"%s\"}\n", w->uuid, hex);
        if (k > 0 && (size_t)k < w->cap - w->prefix_len) {
            srv_resp_text(&a, 201, "application/json", w->answer, w->prefix_len + (size_t)k);
            w->answer = NULL; /* the response owns it */
        } else {
            srv_resp_error(&a, 500, SRV_E_INTERNAL, "The item is stored; the answer failed.");
        }
    } else {
        node_resp_refusal(&a, res);
    }
    srv_deferred_answer(w->d, &a);
    lsn_free(w->answer);
    lsn_free(w);
}

/* Defer the request and commit the accepted post; the request is answered
 * from post_done once it is durable, and this thread goes back to serving. */
static void commit(node *n, srv_request *req, srv_response *resp, svc_pending *pd,
                   const char *channel)
{
    char channel_json[6 * sizeof req->params[0].value + 4]; /* worst: all \uXXXX */
    const svc_label *l = svc_pending_label(pd);
    post_wait *w = core_calloc(1, sizeof *w);
    size_t cap = 16 + sizeof channel_json + strlen(l->marking_json) + 8 + POST_TAIL_MAX;
    char *answer = w ? core_malloc(cap) : NULL;
    if (!w || !answer || svc_channel_known(&n->svc, channel, channel_json,
                                           sizeof channel_json) != 1) {
        lsn_free(answer);
        lsn_free(w);
        svc_pending_free(pd);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    int k = snprintf(answer, cap, "{\"channel\":%s,%s,\"id\":", channel_json, l->marking_json);
    w->answer = answer;
    w->prefix_len = k > 0 ? (size_t)k : 0;
    w->cap = cap;
    svc_pending_uuid(pd, w->uuid);
    w->d = srv_resp_defer(req, resp);
    if (!w->d) { /* resp holds the 503 */
        lsn_free(answer);
        lsn_free(w);
        svc_pending_free(pd);
        return;
    }
    svc_post_commit_async(&n->svc, pd, post_done, w);
}

/* A refusal of the request's form, before the service sees it: audited as
 * the service audits its own. */
static void malformed(node *n, const svc_actor *a, const char *channel, const char *why)
{
    char object[300];
    snprintf(object, sizeof object, "channel:%s", channel);
    (void)node_audit(n, a->name, "post", object, "refused", why);
}

void node_h_post(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    const char *channel = srv_req_param(req, "channel");

    if (!node_channel_exists(n, channel, NULL, 0, resp))
        return; /* before reading the body: a 404 costs nothing */
    json_t *in;
    if (!srv_json_body(req, resp, &in)) {
        malformed(n, &a, channel, "malformed request body");
        return;
    }
    json_t *jbody = json_object_get(in, "body");
    const char *media, *file_name;
    uint8_t *att;
    size_t att_len;
    if (!json_object_get(in, "label") || !json_is_string(jbody)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "A post is {\"label\": LABEL, \"body\": TEXT}; both are required.");
        malformed(n, &a, channel, "missing label or body");
        json_decref(in);
        return;
    }
    if (!read_attachment(json_object_get(in, "attachment"), &media, &file_name, &att, &att_len,
                         resp)) {
        malformed(n, &a, channel, "malformed attachment");
        json_decref(in);
        return;
    }
    svc_post p = {.channel = channel, .label = json_object_get(in, "label"),
                  .body = json_string_value(jbody), .body_len = json_string_length(jbody),
                  .media_type = media, .attachment = att, .attachment_len = att_len,
                  .attachment_name = file_name};
    svc_result res;
    svc_pending *pd = NULL;
    if (svc_post_accept(&n->svc, &a, &p, &pd, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        commit(n, req, resp, pd, channel); /* the store copies what it keeps */
    lsn_free(att);
    json_decref(in);
}

/* POST /api/v1/labels/mark: the engine's verdict and markings for a label,
 * so a label picker can preview exactly what a post would be marked with.
 * Nothing is stored; the label is the caller's own, so echoing its markings
 * leaks nothing. */
void node_h_mark(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    json_t *in;
    if (!srv_json_body(req, resp, &in))
        return;
    json_t *jlabel = json_object_get(in, "label");
    if (!jlabel) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "A request is {\"label\": LABEL}.");
        json_decref(in);
        return;
    }
    svc_label *l = NULL;
    svc_result res;
    lsn_err rc = svc_label_get(&n->svc, jlabel, &l, &res);
    json_decref(in);
    if (rc != LSN_OK) {
        node_resp_refusal(resp, &res);
        return;
    }
    json_t *out = json_pack("{s:b, s:s, s:s}", "valid", 1, "marking", l->en, "markingFr", l->fr);
    /* A label under a national policy: its Japanese marking when that
     * policy writes one, and its equivalent under the node's policy (the
     * label its readers will be decided on), as an item carries them. */
    json_t *ja = node_marking_in(l->label, "ja"), *eq = node_equivalent(n, l->label);
    if (out && ja)
        json_object_set_new(out, "markingJa", ja);
    else
        json_decref(ja);
    if (out && eq)
        json_object_set_new(out, "equivalent", eq);
    else
        json_decref(eq);
    srv_resp_json(resp, 200, out);
    svc_label_release(l);
}
