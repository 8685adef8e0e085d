/* node/handlers_peers.c — the peers' API for administrators: GET and POST
 * /api/v1/peers, thin adapters over the service layer (service_peer.c). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "federation/identity.h"
#include "node_internal.h"
#include "server/body.h"
#include "server/errors.h"

/* "YYYY-MM-DDThh:mm:ssZ", or JSON null for never. */
static json_t *time_json(int64_t ms)
{
    if (!ms)
        return json_null();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static json_t *opt_string(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A peer as the API shows it; its certificate's fingerprint, to compare
 * with the peer's own `liaison node show`. */
static json_t *peer_json(const lsn_policy_set *set, const store_peer *p)
{
    /* Its policy: the one registered, or ours (the set's first). */
    const lsn_policy *pol = p->policy ? lsn_policy_set_find_id(set, p->policy)
                            : lsn_policy_set_count(set) ? lsn_policy_set_at(set, 0) : NULL;
    const char *pid = p->policy ? p->policy : pol ? lsn_policy_id(pol) : NULL;
    fed_identity *id = NULL;
    lsn_error err;
    const char *fp = NULL;
    if (fed_identity_from_pem(p->certificate, strlen(p->certificate), "a peer's certificate",
                              &id, &err) == LSN_OK)
        fp = fed_identity_fingerprint(id);
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:I, s:I, s:o}",
                          "name", p->name, "url", p->url, "nation", p->nation,
                          "fingerprint", opt_string(fp),
                          "maxClassification", opt_string(p->max_classification),
                          "via", opt_string(p->via), "state", p->state ? p->state : "new",
                          "lastContact", time_json(p->last_contact_ms),
                          "waiting", (json_int_t)(p->last_seq - p->last_acked),
                          "lastAcknowledged", (json_int_t)p->last_acked,
                          "lastError", opt_string(p->last_error));
    if (j) {
        json_object_set_new(j, "policy", opt_string(pid));
        json_object_set_new(j, "policyName", opt_string(pol ? lsn_policy_name(pol) : NULL));
    }
    fed_identity_free(id);
    return j;
}

typedef struct list_ctx {
    const lsn_policy_set *set;
    json_t *list;
} list_ctx;

static int list_cb(void *ctx, const store_peer *p)
{
    list_ctx *l = ctx;
    json_t *peer = peer_json(l->set, p);
    return peer && json_array_append_new(l->list, peer) == 0 ? STORE_NEXT : STORE_STOP;
}

void node_h_peers(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    json_t *list = json_array();
    svc_result res;
    if (!list) {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
        return;
    }
    list_ctx lc = {.set = n->svc.set, .list = list};
    if (svc_peer_list(&n->svc, &a, list_cb, &lc, &res) != LSN_OK) {
        json_decref(list);
        node_resp_refusal(resp, &res);
        return;
    }
    srv_resp_json(resp, 200, json_pack("{s:o}", "peers", list));
}

typedef struct find_ctx {
    const lsn_policy_set *set;
    const char *name;
    json_t *found;
} find_ctx;

static int find_cb(void *ctx, const store_peer *p)
{
    find_ctx *f = ctx;
    if (strcmp(p->name, f->name) != 0)
        return STORE_NEXT;
    f->found = peer_json(f->set, p);
    return STORE_STOP;
}

void node_h_peer_add(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    json_t *in;
    if (!srv_json_body(req, resp, &in))
        return;
    if (!json_is_object(in)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "A request is {\"name\": NAME, \"url\": URL, \"nation\": CODE, "
                       "\"certificate\": PEM, \"maxClassification\": CLASS, \"via\": PEER, "
                       "\"policy\": OID-or-NAME}.");
        json_decref(in);
        return;
    }
    const char *cert = json_string_value(json_object_get(in, "certificate"));
    svc_new_peer p = {.name = json_string_value(json_object_get(in, "name")),
                      .url = json_string_value(json_object_get(in, "url")),
                      .nation = json_string_value(json_object_get(in, "nation")),
                      .certificate = cert, .certificate_len = cert ? strlen(cert) : 0,
                      .max_classification =
                          json_string_value(json_object_get(in, "maxClassification")),
                      .via = json_string_value(json_object_get(in, "via")),
                      .policy = json_string_value(json_object_get(in, "policy"))};
    svc_result res;
    if (svc_peer_add(&n->svc, &a, &p, &res) != LSN_OK) {
        node_resp_refusal(resp, &res);
        json_decref(in);
        return;
    }
    /* Served at once: its sender starts (the listener's handshake already
     * reads the registry as it is now). */
    node_fed_add(n, p.name);
    /* The answer is the peer as the registry now holds it. */
    find_ctx f = {.set = n->svc.set, .name = p.name};
    lsn_error err;
    if (store_peer_list(n->st, find_cb, &f, &err) != LSN_OK || !f.found)
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The peer was added but cannot be read.");
    else
        srv_resp_json(resp, 201, f.found);
    json_decref(in);
}
