/* node/handlers_release.c — release requests and corrections over HTTP,
 * thin adapters over the service layer (service_release.c):
 *   POST /api/v1/items/{id}/release-requests   {label, reason, deadline?} → 201
 *   GET  /api/v1/release-requests?state=S      those the caller proposed or decides on
 *   GET  /api/v1/release-requests/{rid}        its state, authorities, history
 *   POST /api/v1/release-requests/{rid}/concur | break-silence {reason} |
 *        withdraw | extend {deadline}          → 200, the request
 *   POST /api/v1/items/{id}/withdraw           → 200
 *   POST /api/v1/items/{id}/narrow {label}     → 200, the new version
 * A request or an item the caller may not see answers 404 as an unknown
 * one. Times are RFC 3339 (UTC). */
#define _GNU_SOURCE /* timegm */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node_internal.h"
#include "server/body.h"
#include "server/errors.h"
#include "service_fedrel.h"

static json_t *time_json(int64_t ms)
{
    char t[32];
    if (!ms)
        return json_null();
    node_rfc3339(ms, t);
    return json_string(t);
}

/* "YYYY-MM-DDThh:mm:ss[.mmm]Z" → Unix ms; false for anything else. */
static bool time_parse(const char *s, int64_t *ms)
{
    struct tm tm = { 0 };
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return false;
    int frac = 0;
    if (*end == '.') {
        int digits = 0;
        for (end++; *end >= '0' && *end <= '9'; end++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*end - '0');
        for (; digits > 0 && digits < 3; digits++)
            frac *= 10;
        if (digits == 0)
            return false;
    }
    if (strcmp(end, "Z") != 0)
        return false;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *ms = (int64_t)t * 1000 + frac;
    return true;
}

typedef struct view {
    json_t *auths, *history;
} view;

static int auth_cb(void *ctx, const store_release_authority *a)
{
    json_t *j = json_pack("{s:s, s:s, s:o, s:s, s:o, s:o}", "user", a->user, "organisation",
                          a->organisation, "node", a->node ? json_string(a->node) : json_null(),
                          "answer", a->answer, "answered", time_json(a->answered_ms), "reason",
                          a->reason ? json_string(a->reason) : json_null());
    return j && json_array_append_new(ctx, j) == 0 ? STORE_NEXT : -1;
}

static int event_cb(void *ctx, const store_release_event *e)
{
    json_t *j = json_pack("{s:o, s:s, s:s, s:s}", "time", time_json(e->time_ms), "actor",
                          e->actor, "event", e->event, "detail", e->detail);
    return j && json_array_append_new(ctx, j) == 0 ? STORE_NEXT : -1;
}

/* A request as the API shows it; with its authorities always, and its
 * history when `full`. NULL when out of memory or the store failed. */
static json_t *request_json(node *n, const store_release *r, bool full)
{
    char rid[37], item[37];
    store_uuid_text(r->rid, rid);
    store_uuid_text(r->item, item);
    json_t *label = json_loads(r->label, 0, NULL);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:b, s:o}",
                          "id", rid, "item", item, "state", r->state, "kind", r->kind,
                          "proposer", r->proposer, "label", label ? label : json_null(),
                          "marking", r->marking_en, "markingFr", r->marking_fr, "reason",
                          r->reason, "created", time_json(r->created_ms), "deadline",
                          time_json(r->deadline_ms), "extended", r->extended, "closed",
                          time_json(r->closed_ms));
    json_t *auths = json_array();
    lsn_error err;
    if (!j || !auths ||
        store_release_authorities(n->st, r->id, auth_cb, auths, &err) != LSN_OK ||
        json_object_set_new(j, "authorities", auths) != 0) {
        json_decref(j);
        json_decref(auths);
        return NULL;
    }
    if (full) {
        json_t *h = json_array();
        if (!h || store_release_history(n->st, r->id, event_cb, h, &err) != LSN_OK ||
            json_object_set_new(j, "history", h) != 0) {
            json_decref(h);
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

static void answer_request(srv_response *resp, node *n, int status, const store_release *r)
{
    json_t *j = request_json(n, r, true);
    if (!j)
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The request cannot be shown.");
    else
        srv_resp_json(resp, status, j);
}

/* The route's {name} as a UUID; false (resp: 404 `what`) when it is not one. */
static bool path_uuid(srv_request *req, srv_response *resp, const char *name,
                      const char *what, uint8_t out[STORE_UUID_LEN])
{
    const char *p = srv_req_param(req, name);
    if (p && store_uuid_parse(p, out))
        return true;
    srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "%s", what);
    return false;
}

/* An optional JSON object body: *in NULL when there is none. */
static bool optional_object(srv_request *req, srv_response *resp, json_t **in,
                            const char *shape)
{
    *in = NULL;
    if (!req->body || req->body_len == 0)
        return true;
    return node_body_object(req, resp, in, shape);
}

void node_h_release_request(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    uint8_t item[STORE_UUID_LEN];
    if (!path_uuid(req, resp, "id", "No such item.", item))
        return;
    json_t *in;
    if (!node_body_object(req, resp, &in,
                          "{\"label\": LABEL, \"reason\": TEXT, \"deadline\": TIME}"))
        return;
    json_t *dl = json_object_get(in, "deadline");
    svc_release_proposal p = { .item = item, .label = json_object_get(in, "label"),
                               .reason = json_string_value(json_object_get(in, "reason")) };
    if (dl && !json_is_null(dl) && !time_parse(json_string_value(dl), &p.deadline_ms)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "deadline is a time in UTC: \"2026-12-04T09:30:00Z\".");
        json_decref(in);
        return;
    }
    store_release *r = NULL;
    svc_result res;
    if (svc_release_propose(&n->svc, &a, &p, &r, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        answer_request(resp, n, 201, r);
    lsn_free(r);
    json_decref(in);
}

typedef struct list_ctx {
    node *n;
    json_t *list;
} list_ctx;

static int list_cb(void *ctx, const store_release *r)
{
    list_ctx *l = ctx;
    json_t *j = request_json(l->n, r, false);
    return j && json_array_append_new(l->list, j) == 0 ? STORE_NEXT : -1;
}

static int remote_list_cb(void *ctx, const svc_fedrel_remote *r)
{
    list_ctx *l = ctx;
    json_t *j = node_fedrel_remote_json(l->n, r, false);
    return j && json_array_append_new(l->list, j) == 0 ? STORE_NEXT : -1;
}

/* A request of another node that this node decides on (rid is one): its
 * view, or the refusal. */
static void answer_remote(srv_response *resp, node *n, const svc_actor *a,
                          const uint8_t rid[STORE_UUID_LEN])
{
    svc_fedrel_remote r;
    svc_result res;
    if (svc_fedrel_remote_get(&n->svc, a, rid, &r, &res) != LSN_OK) {
        node_resp_refusal(resp, &res);
        return;
    }
    json_t *j = node_fedrel_remote_json(n, &r, true);
    svc_fedrel_remote_clear(&r);
    if (!j)
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The request cannot be shown.");
    else
        srv_resp_json(resp, 200, j);
}

void node_h_release_list(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    list_ctx l = { .n = n, .list = json_array() };
    svc_result res;
    if (!l.list) {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    /* The node's own requests, then those of other nodes it decides on. */
    if (svc_release_list(&n->svc, &a, srv_req_query(req, "state"), list_cb, &l, &res) !=
            LSN_OK ||
        svc_fedrel_remote_list(&n->svc, &a, srv_req_query(req, "state"), remote_list_cb, &l,
                               &res) != LSN_OK) {
        json_decref(l.list);
        node_resp_refusal(resp, &res);
        return;
    }
    srv_resp_json(resp, 200, json_pack("{s:o}", "requests", l.list));
}

void node_h_release_show(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    uint8_t rid[STORE_UUID_LEN];
    if (!path_uuid(req, resp, "rid", "No such release request.", rid))
        return;
    if (svc_fedrel_is_remote(&n->svc, rid)) {
        answer_remote(resp, n, &a, rid);
        return;
    }
    store_release *r = NULL;
    svc_result res;
    if (svc_release_get(&n->svc, &a, rid, &r, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        answer_request(resp, n, 200, r);
    lsn_free(r);
}

/* The acts on a request: the act, then the request as it now is. */
static void release_act(srv_request *req, srv_response *resp, store_rel_act_kind kind)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    uint8_t rid[STORE_UUID_LEN];
    if (!path_uuid(req, resp, "rid", "No such release request.", rid))
        return;
    json_t *in = NULL;
    const char *shape = kind == STORE_REL_BREAK    ? "{\"reason\": TEXT}"
                        : kind == STORE_REL_EXTEND ? "{\"deadline\": TIME}"
                                                   : "{}";
    if (!optional_object(req, resp, &in, shape))
        return;
    const char *reason = json_string_value(json_object_get(in, "reason"));
    int64_t deadline = 0;
    if (kind == STORE_REL_EXTEND &&
        !time_parse(json_string_value(json_object_get(in, "deadline")), &deadline)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "An extension is {\"deadline\": \"2026-12-04T09:30:00Z\"}.");
        json_decref(in);
        return;
    }
    svc_result res;
    store_release *r = NULL;
    if (svc_fedrel_is_remote(&n->svc, rid)) {
        /* Another node's request: this node's answer goes there. */
        if (svc_fedrel_remote_answer(&n->svc, &a, rid, kind, reason, &res) != LSN_OK)
            node_resp_refusal(resp, &res);
        else
            answer_remote(resp, n, &a, rid);
        json_decref(in);
        return;
    }
    if (svc_release_act(&n->svc, &a, rid, kind, reason, deadline, &res) != LSN_OK ||
        svc_release_get(&n->svc, &a, rid, &r, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        answer_request(resp, n, 200, r);
    lsn_free(r);
    json_decref(in);
}

void node_h_release_concur(srv_request *req, srv_response *resp)
{
    release_act(req, resp, STORE_REL_CONCUR);
}

void node_h_release_break(srv_request *req, srv_response *resp)
{
    release_act(req, resp, STORE_REL_BREAK);
}

void node_h_release_withdraw(srv_request *req, srv_response *resp)
{
    release_act(req, resp, STORE_REL_WITHDRAW);
}

void node_h_release_extend(srv_request *req, srv_response *resp)
{
    release_act(req, resp, STORE_REL_EXTEND);
}

void node_h_item_withdraw(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    uint8_t item[STORE_UUID_LEN];
    if (!path_uuid(req, resp, "id", "No such item.", item))
        return;
    svc_result res;
    if (svc_item_withdraw(&n->svc, &a, item, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        srv_resp_json(resp, 200, json_pack("{s:s, s:s}", "id", srv_req_param(req, "id"),
                                           "state", "withdrawn"));
}

void node_h_item_narrow(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    uint8_t item[STORE_UUID_LEN];
    if (!path_uuid(req, resp, "id", "No such item.", item))
        return;
    json_t *in;
    if (!node_body_object(req, resp, &in, "{\"label\": LABEL}"))
        return;
    svc_result res;
    int version = 0;
    if (svc_item_narrow(&n->svc, &a, item, json_object_get(in, "label"), &version, &res) !=
        LSN_OK)
        node_resp_refusal(resp, &res);
    else
        srv_resp_json(resp, 200, json_pack("{s:s, s:i}", "id", srv_req_param(req, "id"),
                                           "version", version));
    json_decref(in);
}
