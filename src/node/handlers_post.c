/* node/handlers_post.c — POST /api/v1/channels/{channel}/items.
 *
 * The label (the engine's JSON form as an object, or a string holding a
 * STANAG 4774 XML label) is parsed and validated against the policy (422
 * naming the rule; post_label.c, which remembers labels posted before), must be within the author's own clearance (403), and
 * the item is durable — with its audit record in the same transaction —
 * before the 201. Then the publisher is woken to stream it.
 *
 * The append is the store's asynchronous one: the handler defers its answer
 * (server/deferred.h) and returns, and the store's completion — on its
 * writer thread, once the group commit holding the item is on disk —
 * answers 201 and wakes the publisher. So a post waiting for its commit
 * holds no server thread; the connections bound the posts in flight. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "core/alloc.h"
#include "node_internal.h"
#include "server/body.h"
#include "server/deferred.h"
#include "server/errors.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Decode an optional attachment {"mediaType", "data" (base64)}. */
static bool read_attachment(json_t *a, const char **media, uint8_t **bytes, size_t *len,
                            srv_response *resp)
{
    *media = NULL;
    *bytes = NULL;
    *len = 0;
    if (!a || json_is_null(a))
        return true;
    const char *mt = json_string_value(json_object_get(a, "mediaType"));
    json_t *d = json_object_get(a, "data");
    if (!json_is_object(a) || !mt || !*mt || strlen(mt) > 255 || !json_is_string(d)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "An attachment is {\"mediaType\": TYPE, \"data\": BASE64}.");
        return false;
    }
    size_t cap = json_string_length(d) / 4 * 3 + 3;
    uint8_t *buf = lsn_malloc(cap ? cap : 1);
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
    *bytes = buf;
    return true;
}

static void refuse(node *n, const node_reader *r, const char *channel, const char *why)
{
    char object[300];
    snprintf(object, sizeof object, "channel:%s", channel);
    (void)node_audit(n, r->user->name, "post", object, "refused", why);
}

/* A post waiting for its group commit: the deferred request and the 201
 * answer. The answer is assembled from fragments jansson rendered (the
 * channel's name, the label's markings, remembered with them) and written
 * before queueing, up to the id; the store's writer thread only appends the
 * id and content hash — rendering a JSON object per post on either thread
 * cost more than the rest of the answer path. */
typedef struct post_wait {
    node *n;
    srv_deferred *d;
    char *answer;      /* {"channel":..,"marking":..,"markingFr":..,"id": */
    char uuid[37];     /* the item's public id (given to the store) */
    size_t prefix_len; /* what is written; the rest is room for the tail */
    size_t cap;
} post_wait;

#define POST_TAIL_MAX (40 + 2 * STORE_HASH_LEN + 24) /* "UUID","contentHash":"HEX"}\n */

/* The store's completion, on its writer thread: keep it short. */
static void post_done(void *ctx, lsn_err rc, int64_t id, const uint8_t hash[STORE_HASH_LEN],
                      uint64_t seq, const lsn_error *err)
{
    (void)seq;
    (void)id; /* internal: the answer names the item by its public id */
    post_wait *w = ctx;
    srv_response a = {0};
    if (rc == LSN_OK) {
        if (w->n->metrics)
            srv_metrics_items(w->n->metrics, 1);
        node_publisher_wake(w->n);
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
        fprintf(stderr, "liaison: post: %s\n", err ? err->message : "the store failed");
        if (rc == LSN_ERR_LIMIT)
            srv_resp_error(&a, 413, SRV_E_TOO_LARGE, "The item is too large.");
        else
            srv_resp_error(&a, 500, SRV_E_INTERNAL, "The item could not be stored.");
    }
    srv_deferred_answer(w->d, &a);
    lsn_free(w->answer);
    lsn_free(w);
}

/* Queue the item and its post record; the request is answered from
 * post_done once they are durable, and this thread goes back to serving.
 * channel_json is the channel's name as a JSON string. */
static void append(node *n, srv_request *req, srv_response *resp, const store_item *it,
                   const store_audit_event *post, const char *channel_json,
                   const node_post_label *pl)
{
    post_wait *w = lsn_calloc(1, sizeof *w);
    size_t cl = strlen(channel_json), ml = strlen(pl->marking_json);
    size_t cap = 16 + cl + ml + 8 + POST_TAIL_MAX;
    char *answer = w ? lsn_malloc(cap) : NULL;
    if (!w || !answer) {
        lsn_free(w);
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    int k = snprintf(answer, cap, "{\"channel\":%s,%s,\"id\":", channel_json, pl->marking_json);
    w->n = n;
    w->answer = answer;
    w->prefix_len = k > 0 ? (size_t)k : 0;
    w->cap = cap;
    store_uuid_text(it->uuid, w->uuid);
    w->d = srv_resp_defer(req, resp);
    if (!w->d) { /* resp holds the 503 */
        lsn_free(answer);
        lsn_free(w);
        return;
    }
    lsn_error err;
    lsn_err rc = store_item_append_async(n->st, it, post, post_done, w, &err);
    if (rc != LSN_OK) /* refused before queueing: post_done was not called */
        post_done(w, rc, 0, NULL, 0, &err);
}

void node_h_post(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    node_reader *r = req->user;
    const char *channel = srv_req_param(req, "channel");
    char channel_json[6 * sizeof req->params[0].value + 4]; /* worst: all \uXXXX */

    if (!node_channel_exists(n, channel, channel_json, sizeof channel_json, resp))
        return;

    json_t *in;
    if (!srv_json_body(req, resp, &in)) {
        refuse(n, r, channel, "malformed request body");
        return;
    }
    json_t *jlabel = json_object_get(in, "label");
    json_t *jbody = json_object_get(in, "body");
    if (!jlabel || !json_is_string(jbody)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "A post is {\"label\": LABEL, \"body\": TEXT}; both are required.");
        refuse(n, r, channel, "missing label or body");
        json_decref(in);
        return;
    }
    if (json_string_length(jbody) > n->body_limit ||
        strlen(json_string_value(jbody)) != json_string_length(jbody)) {
        bool nul = strlen(json_string_value(jbody)) != json_string_length(jbody);
        srv_resp_error(resp, nul ? 400 : 413, nul ? SRV_E_BAD_REQUEST : SRV_E_TOO_LARGE,
                       nul ? "The body holds a NUL character." : "The body is too large.");
        refuse(n, r, channel, nul ? "NUL in body" : "body too large");
        json_decref(in);
        return;
    }
    node_post_label *pl = node_post_label_get(n, jlabel, resp);
    if (!pl) {
        refuse(n, r, channel, "invalid label");
        json_decref(in);
        return;
    }
    lsn_decision d = LSN_DENY;
    if (!r->clearance || lsn_access_check(n->set, pl->label, r->clearance, &d) != LSN_OK)
        d = LSN_DENY;
    if (n->metrics)
        srv_metrics_decision(n->metrics, d == LSN_GRANT);
    if (d != LSN_GRANT) {
        srv_resp_error(resp, 403, SRV_E_FORBIDDEN,
                       "You may not post an item labelled beyond your own clearance.");
        refuse(n, r, channel, "label beyond the author's clearance");
        node_post_label_release(pl);
        json_decref(in);
        return;
    }

    const char *media;
    uint8_t *att;
    size_t att_len;
    if (!read_attachment(json_object_get(in, "attachment"), &media, &att, &att_len, resp)) {
        refuse(n, r, channel, "malformed attachment");
        node_post_label_release(pl);
        json_decref(in);
        return;
    }
    store_item it = {
        .channel = channel, .author = r->user->name,
        .organisation = r->user->organisation, .label = pl->canon,
        .marking_en = pl->en, .marking_fr = pl->fr,
        .classification = pl->class_index,
        .body = json_string_value(jbody), .media_type = media,
        .attachment = att, .attachment_len = att_len, .created_ms = now_ms(),
    };
    store_uuid_new(it.uuid); /* given, so that the answer can name it */
    store_audit_event post = {.time_ms = it.created_ms, .actor = r->user->name,
                              .action = "post", .outcome = "ok", .detail = channel};
    append(n, req, resp, &it, &post, channel_json, pl);
    lsn_free(att);
    node_post_label_release(pl);
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
    node_post_label *pl = node_post_label_get(n, jlabel, resp);
    json_decref(in);
    if (!pl)
        return;
    srv_resp_json(resp, 200, json_pack("{s:b, s:s, s:s}", "valid", 1, "marking", pl->en,
                                       "markingFr", pl->fr));
    node_post_label_release(pl);
}
