/* node/handlers_admin.c — administration and the audit log over HTTP:
 * POST /api/v1/organisations, /api/v1/users, /api/v1/channels and GET
 * /api/v1/audit. Thin adapters: the JSON of the request in, the service
 * layer's act (service_admin.c, service_audit.c: rights, checks, audit),
 * its result out. The route table names the right each needs (node.c);
 * the service checks it again. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "node_internal.h"
#include "server/body.h"
#include "server/errors.h"

bool node_body_object(srv_request *req, srv_response *resp, json_t **in, const char *shape)
{
    if (!srv_json_body(req, resp, in))
        return false;
    if (!json_is_object(*in)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "A request is %s.", shape);
        json_decref(*in);
        return false;
    }
    return true;
}

void node_h_org_add(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    json_t *in;
    if (!node_body_object(req, resp, &in, "{\"name\": NAME, \"category\": VALUE}"))
        return;
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *cat = json_string_value(json_object_get(in, "category"));
    svc_result res;
    if (svc_org_add(&n->svc, &a, name, cat, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        srv_resp_json(resp, 201, json_pack("{s:s, s:s}", "name", name, "category", cat));
    json_decref(in);
}

void node_h_channel_add(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    json_t *in;
    if (!node_body_object(req, resp, &in,
                          "{\"name\": NAME, \"purpose\": TEXT, \"local\": BOOLEAN}"))
        return;
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *purpose = json_string_value(json_object_get(in, "purpose"));
    json_t *jl = json_object_get(in, "local");
    svc_result res;
    if (jl && !json_is_boolean(jl)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "\"local\" is true or false.");
    } else if (svc_channel_add(&n->svc, &a, name, purpose, json_is_true(jl), &res) != LSN_OK) {
        node_resp_refusal(resp, &res);
    } else {
        srv_resp_json(resp, 201, json_pack("{s:s, s:s, s:b}", "name", name, "purpose",
                                           purpose && *purpose ? purpose : name, "local",
                                           json_is_true(jl)));
    }
    json_decref(in);
}

void node_h_user_add(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    json_t *in;
    if (!node_body_object(req, resp, &in,
                     "{\"name\": NAME, \"organisation\": NAME, \"clearance\": CLEARANCE, "
                     "\"roles\": [ROLE, ...]}"))
        return;
    svc_new_user u = {.name = json_string_value(json_object_get(in, "name")),
                      .organisation = json_string_value(json_object_get(in, "organisation"))};
    json_t *jc = json_object_get(in, "clearance"), *jr = json_object_get(in, "roles");
    char *ctext = NULL;
    if (json_is_object(jc)) {
        ctext = json_dumps(jc, JSON_COMPACT);
        u.clearance_form = LSN_FORM_JSON;
    } else if (json_is_string(jc)) {
        ctext = strdup(json_string_value(jc));
        u.clearance_form = LSN_FORM_AUTO;
    }
    u.clearance = ctext;
    u.clearance_len = ctext ? strlen(ctext) : 0;
    size_t i;
    json_t *v;
    bool roles_ok = !jr || json_is_array(jr);
    json_array_foreach(jr, i, v) {
        unsigned bit;
        if (!svc_role_parse(json_string_value(v), &bit))
            roles_ok = false;
        else
            u.roles |= bit;
    }
    char token[STORE_TOKEN_CHARS + 1], marking[2048];
    svc_result res;
    if (!roles_ok) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "Roles are a list of member, release_authority, auditor, administrator.");
    } else if (svc_user_add(&n->svc, &a, &u, token, marking, sizeof marking, &res) != LSN_OK) {
        node_resp_refusal(resp, &res);
    } else {
        json_t *roles = json_array();
        for (unsigned bit = 1; bit <= STORE_ROLE_ADMINISTRATOR; bit <<= 1)
            if ((u.roles ? u.roles : STORE_ROLE_MEMBER) & bit)
                json_array_append_new(roles, json_string(svc_role_name(bit)));
        /* The one time the token is shown. */
        srv_resp_json(resp, 201, json_pack("{s:s, s:s, s:s, s:o, s:s}", "name", u.name,
                                           "organisation", u.organisation, "clearanceMarking",
                                           marking, "roles", roles, "token", token));
        sodium_memzero(token, sizeof token);
    }
    free(ctext);
    json_decref(in);
}

static int audit_cb(void *ctx, const store_audit_event *ev)
{
    json_t *list = ctx;
    char hex[2 * STORE_HASH_LEN + 1];
    node_hex(ev->hash, STORE_HASH_LEN, hex);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq",
                          (json_int_t)ev->seq, "time", (json_int_t)ev->time_ms, "actor",
                          ev->actor ? ev->actor : "", "action", ev->action ? ev->action : "",
                          "object", ev->object ? ev->object : "", "outcome",
                          ev->outcome ? ev->outcome : "", "detail",
                          ev->detail ? ev->detail : "", "hash", hex);
    return o && json_array_append_new(list, o) == 0 ? STORE_NEXT : STORE_STOP;
}

void node_h_audit(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    uint64_t after, limit, since, until;
    if (!srv_req_query_uint(req, "after", 0, INT64_MAX, &after, resp) ||
        !srv_req_query_uint(req, "limit", NODE_PAGE_DEFAULT, NODE_PAGE_MAX, &limit, resp) ||
        !srv_req_query_uint(req, "since", 0, INT64_MAX, &since, resp) ||
        !srv_req_query_uint(req, "until", 0, INT64_MAX, &until, resp))
        return;
    svc_audit_filter f = {.actor = srv_req_query(req, "actor"),
                          .action = srv_req_query(req, "action"),
                          .object = srv_req_query(req, "object"),
                          .since_ms = (int64_t)since,
                          .until_ms = (int64_t)until};
    if (limit == 0) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "limit must be at least 1.");
        return;
    }
    json_t *list = json_array();
    svc_result res;
    if (!list) {
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
    } else if (svc_audit_read(&n->svc, &a, after, (size_t)limit, &f, audit_cb, list, &res) !=
               LSN_OK) {
        node_resp_refusal(resp, &res);
    } else {
        size_t k = json_array_size(list);
        json_int_t next = k ? json_integer_value(json_object_get(json_array_get(list, k - 1),
                                                                 "seq"))
                            : (json_int_t)after;
        srv_resp_json(resp, 200, json_pack("{s:O, s:I}", "records", list, "next", next));
    }
    json_decref(list);
}
