/* node/handlers_fed_release.c — release requests whose authorities are on
 * other nodes, over HTTP (service_fed_release.c):
 *   PUT /fed/v1/release/{mid}   on the federation listener (mutual TLS): a
 *                               signed release message from a peer
 *   and, for the API's release routes (handlers_release.c), the view of a
 *   request of another node that this node decides on. */
#include <stdio.h>
#include <string.h>

#include "federation/identity.h"
#include "node_internal.h"
#include "server/errors.h"
#include "service_fedrel.h"

void node_h_fed_release(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    if (!req->body || !req->body_len) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "A release message is {\"message\": BASE64, \"signature\": BASE64}.");
        return;
    }
    svc_result res;
    bool unchanged = false;
    if (svc_fedrel_receive(&n->svc, req->user, req->body, req->body_len, &unchanged, &res) !=
        LSN_OK)
        node_resp_refusal(resp, &res);
    else
        srv_resp_json(resp, 200, json_pack("{s:s}", "result",
                                           unchanged ? "unchanged" : "accepted"));
}

static json_t *time_json(int64_t ms)
{
    char t[32];
    if (!ms)
        return json_null();
    node_rfc3339(ms, t);
    return json_string(t);
}

static const char *jstr(const json_t *j, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v ? v : dflt;
}

static int64_t jint(const json_t *j, const char *key)
{
    return json_integer_value(json_object_get(j, key));
}

static int history_add(json_t *h, int64_t ms, const char *actor, const char *event,
                       const char *detail)
{
    return json_array_append_new(h, json_pack("{s:o, s:s, s:s, s:s}", "time", time_json(ms),
                                              "actor", actor, "event", event, "detail",
                                              detail));
}

/* The outcome's state as the history's event. */
static const char *outcome_event(const char *state)
{
    if (strcmp(state, STORE_REL_ADOPTED) == 0)
        return "adopt";
    if (strcmp(state, STORE_REL_BROKEN) == 0)
        return "break";
    return "close";
}

json_t *node_fedrel_remote_json(node *n, const svc_fedrel_remote *r, bool full)
{
    const json_t *no = r->notice, *oc = r->outcome, *an = r->answer;
    const char *answer = an ? jstr(an, "kind", "none") : "none";
    const char *state = oc ? jstr(oc, "state", STORE_REL_WITHDRAWN) : STORE_REL_OPEN;
    json_t *auth = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o}", "user", jstr(no, "authority", ""), "organisation",
        n->me ? fed_identity_nation(n->me) : "", "node", n->me ? fed_identity_name(n->me) : "",
        "answer", answer, "answered", time_json(an ? jint(an, "time") : 0), "reason",
        an && jstr(an, "reason", NULL) ? json_string(jstr(an, "reason", "")) : json_null());
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:[o], s:o}",
        "id", jstr(no, "rid", ""), "item", jstr(json_object_get(no, "item"), "uuid", ""),
        "origin", r->origin, "state", state, "kind", jstr(no, "requestKind", "release"),
        "proposer", jstr(no, "proposer", ""), "label", json_object_get(no, "label"), "marking",
        jstr(no, "marking", ""), "markingFr", jstr(no, "markingFr", ""), "reason",
        jstr(no, "reason", ""), "created", time_json(jint(no, "created")), "deadline",
        time_json(jint(no, "deadline")), "extended", 0, "closed",
        time_json(oc ? jint(oc, "closed") : 0), "authorities", auth, "delivery",
        r->delivery[0] ? json_string(r->delivery) : json_null());
    if (j && json_is_string(json_object_get(no, "body")))
        json_object_set(j, "body", json_object_get(no, "body"));
    if (j && full) {
        json_t *h = json_array();
        char detail[600];
        if (h) {
            history_add(h, jint(no, "created"), jstr(no, "proposer", ""), "open",
                        jstr(no, "reason", ""));
            if (an) {
                snprintf(detail, sizeof detail, "%s%s(%s)", jstr(an, "reason", ""),
                         jstr(an, "reason", NULL) ? " " : "", r->delivery);
                history_add(h, jint(an, "time"), jstr(an, "by", ""), answer, detail);
            }
            if (oc)
                history_add(h, jint(oc, "closed"), "system", outcome_event(state), r->origin);
        }
        json_object_set_new(j, "history", h ? h : json_array());
    }
    return j;
}
