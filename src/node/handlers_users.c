/* node/handlers_users.c — the administrator's accounts over HTTP:
 *   GET    /api/v1/users                  every user
 *   GET    /api/v1/users/{name}           one user
 *   PATCH  /api/v1/users/{name}           {status, clearance, roles}: any of them
 *   DELETE /api/v1/users/{name}           remove (the name stays taken)
 *   PUT    /api/v1/users/{name}/password  {password}
 *   PUT    /api/v1/users/{name}/certificate  {certificate: PEM} or {subject: DN,
 *                                         issuer: the CA's PEM}: bind (smart cards)
 *   DELETE /api/v1/users/{name}/certificate  unbind every certificate
 *   POST   /api/v1/users/{name}/token     a new bearer token (the old one stops)
 *   GET    /api/v1/users/{name}/tokens    named access tokens (names, times)
 *   POST   /api/v1/users/{name}/tokens    {name, expiresDays}: a new one, shown once
 *   DELETE /api/v1/users/{name}/tokens/{token}  revoke one
 * (the token routes: the user themself or an administrator)
 * Thin adapters over the service (service_users.c: rights, checks, audit;
 * its user_changed hook ends the user's sessions and empties the reader
 * cache, so that a disabled user is out at once). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "node_internal.h"
#include "server/body.h"
#include "server/client_cert.h"
#include "server/errors.h"

static const char *const status_names[] = {"active", "disabled", "removed"};

static json_t *user_json(const store_user *u)
{
    json_t *clr = json_loads(u->clearance, 0, NULL);
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:b, s:b}", "name", u->name,
                          "organisation", u->organisation, "clearance",
                          clr ? clr : json_null(), "roles", node_roles_json(u->roles),
                          "status",
                          u->status <= STORE_USER_REMOVED ? status_names[u->status]
                                                          : "removed",
                          "password", u->password_hash != NULL, "certificate",
                          u->has_cert || u->cert_subject != NULL);
    if (o && u->cert_subject) {
        char hex[2 * STORE_HASH_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, u->cert_issuer, STORE_HASH_LEN);
        if (json_object_set_new(o, "certificateSubject", json_string(u->cert_subject)) ||
            json_object_set_new(o, "certificateIssuer", json_string(hex))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int list_cb(void *ctx, const store_user *u)
{
    json_t *o = user_json(u);
    return o && json_array_append_new(ctx, o) == 0 ? STORE_NEXT : STORE_STOP;
}

void node_h_users(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    json_t *list = json_array();
    svc_result res;
    if (!list)
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
    else if (svc_user_list(&n->svc, &a, list_cb, list, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        srv_resp_json(resp, 200, json_pack("{s:O}", "users", list));
    json_decref(list);
}

void node_h_user_show(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    store_user *u = NULL;
    svc_result res;
    if (svc_user_get(&n->svc, &a, srv_req_param(req, "name"), &u, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        srv_resp_json(resp, 200, user_json(u));
    lsn_free(u);
}

/* The user's record as the answer of a change. */
static void answer_user(node *n, const svc_actor *a, const char *name, srv_response *resp)
{
    store_user *u = NULL;
    svc_result res;
    if (svc_user_get(&n->svc, a, name, &u, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        srv_resp_json(resp, 200, user_json(u));
    lsn_free(u);
}

void node_h_user_update(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    const char *name = srv_req_param(req, "name");
    json_t *in;
    if (!node_body_object(req, resp, &in,
                     "{\"status\": \"active\"|\"disabled\", \"clearance\": CLEARANCE, "
                     "\"roles\": [ROLE, ...]} (any of them)"))
        return;
    json_t *js = json_object_get(in, "status"), *jc = json_object_get(in, "clearance"),
           *jr = json_object_get(in, "roles");
    svc_result res = {.refusal = SVC_DONE};
    lsn_err rc = LSN_OK;
    unsigned status = 0, roles = 0;
    bool bad = false;
    if (js) {
        const char *v = json_string_value(js);
        if (v && strcmp(v, "active") == 0)
            status = STORE_USER_ACTIVE;
        else if (v && strcmp(v, "disabled") == 0)
            status = STORE_USER_DISABLED;
        else
            bad = true;
    }
    size_t i;
    json_t *v;
    if (jr && !json_is_array(jr))
        bad = true;
    json_array_foreach(jr, i, v) {
        unsigned bit;
        if (!svc_role_parse(json_string_value(v), &bit))
            bad = true;
        roles |= bit;
    }
    if (jc && !json_is_object(jc) && !json_is_string(jc))
        bad = true;
    if (bad || (!js && !jc && !jr)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "A change is any of status (active or disabled), clearance, and "
                       "roles (a list of member, release_authority, auditor, administrator).");
        json_decref(in);
        return;
    }
    if (jc) {
        char *text = json_is_object(jc) ? json_dumps(jc, JSON_COMPACT)
                                        : strdup(json_string_value(jc));
        rc = svc_user_set_clearance(&n->svc, &a, name, text, text ? strlen(text) : 0,
                                    json_is_object(jc) ? LSN_FORM_JSON : LSN_FORM_AUTO, &res);
        free(text);
    }
    if (rc == LSN_OK && jr)
        rc = svc_user_set_roles(&n->svc, &a, name, roles, &res);
    if (rc == LSN_OK && js)
        rc = svc_user_set_status(&n->svc, &a, name, status, &res);
    if (rc != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        answer_user(n, &a, name, resp);
    json_decref(in);
}

void node_h_user_remove(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    svc_result res;
    if (svc_user_set_status(&n->svc, &a, srv_req_param(req, "name"), STORE_USER_REMOVED,
                            &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        resp->status = 204;
}

void node_h_user_password(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    json_t *in;
    if (!node_body_object(req, resp, &in, "{\"password\": PASSWORD}"))
        return;
    svc_result res;
    const char *pw = json_string_value(json_object_get(in, "password"));
    if (!pw)
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "A request is {\"password\": PASSWORD}.");
    else if (svc_user_passwd(&n->svc, &a, srv_req_param(req, "name"), pw, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        resp->status = 204;
    json_decref(in);
}

void node_h_user_certificate(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    const char *name = srv_req_param(req, "name");
    static const char shape[] = "{\"certificate\": PEM} or {\"subject\": DN, \"issuer\": "
                                "PEM of the CA that issues it}";
    json_t *in;
    if (!node_body_object(req, resp, &in, shape))
        return;
    json_t *jc = json_object_get(in, "certificate"), *js = json_object_get(in, "subject"),
           *ji = json_object_get(in, "issuer");
    uint8_t fp[SRV_CERT_FP_LEN];
    char subject[SRV_CERT_DN_MAX];
    lsn_error err = {0};
    svc_result res;
    lsn_err rc;
    if (json_is_string(jc) && !js && !ji) {
        if (srv_cert_pem_fingerprint(json_string_value(jc), json_string_length(jc), fp,
                                     &err) != LSN_OK) {
            srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "%s", err.message);
            json_decref(in);
            return;
        }
        rc = svc_user_set_certificate(&n->svc, &a, name, fp, &res);
    } else if (!jc && json_is_string(js) && json_is_string(ji)) {
        if (srv_cert_dn_canonical(json_string_value(js), subject, sizeof subject, &err) !=
                LSN_OK ||
            srv_cert_pem_fingerprint(json_string_value(ji), json_string_length(ji), fp,
                                     &err) != LSN_OK) {
            srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "%s", err.message);
            json_decref(in);
            return;
        }
        rc = svc_user_set_certificate_subject(&n->svc, &a, name, subject, fp, &res);
    } else {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "A request is %s.", shape);
        json_decref(in);
        return;
    }
    json_decref(in);
    if (rc != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        answer_user(n, &a, name, resp);
}

void node_h_user_certificate_remove(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    svc_result res;
    if (svc_user_set_certificate(&n->svc, &a, srv_req_param(req, "name"), NULL, &res) !=
        LSN_OK)
        node_resp_refusal(resp, &res);
    else
        resp->status = 204;
}

void node_h_user_token(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    const char *name = srv_req_param(req, "name");
    char token[STORE_TOKEN_CHARS + 1];
    svc_result res;
    if (svc_user_token_new(&n->svc, &a, name, token, &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        srv_resp_json(resp, 201, json_pack("{s:s, s:s}", "name", name, "token", token));
    sodium_memzero(token, sizeof token);
}

static int token_cb(void *ctx, const store_token *t)
{
    json_t *o = json_pack("{s:s, s:I}", "name", t->name, "created", (json_int_t)t->created_ms);
    if (o && t->expires_ms)
        json_object_set_new(o, "expires", json_integer(t->expires_ms));
    return o && json_array_append_new(ctx, o) == 0 ? STORE_NEXT : STORE_STOP;
}

void node_h_tokens(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    json_t *list = json_array();
    svc_result res;
    if (!list)
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "Out of memory.");
    else if (svc_token_list(&n->svc, &a, srv_req_param(req, "name"), token_cb, list, &res) !=
             LSN_OK)
        node_resp_refusal(resp, &res);
    else
        srv_resp_json(resp, 200, json_pack("{s:O}", "tokens", list));
    json_decref(list);
}

#define TOKEN_DAYS_MAX 3650u

void node_h_token_add(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    json_t *in;
    if (!node_body_object(req, resp, &in, "{\"name\": NAME, \"expiresDays\": DAYS}"))
        return;
    const char *name = json_string_value(json_object_get(in, "name"));
    json_t *jd = json_object_get(in, "expiresDays");
    json_int_t days = jd ? json_integer_value(jd) : 0;
    if (!name || (jd && (!json_is_integer(jd) || days < 1 || days > TOKEN_DAYS_MAX))) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "A token is {\"name\": NAME, \"expiresDays\": 1 to %u (none: no "
                       "expiry)}.", TOKEN_DAYS_MAX);
        json_decref(in);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t expires = days ? ((int64_t)ts.tv_sec + (int64_t)days * 86400) * 1000 : 0;
    char token[STORE_TOKEN_CHARS + 1];
    svc_result res;
    if (svc_token_add(&n->svc, &a, srv_req_param(req, "name"), name, expires, token, &res) !=
        LSN_OK) {
        node_resp_refusal(resp, &res);
    } else {
        json_t *o = json_pack("{s:s, s:s}", "name", name, "token", token);
        if (o && expires)
            json_object_set_new(o, "expires", json_integer(expires));
        srv_resp_json(resp, 201, o);
    }
    sodium_memzero(token, sizeof token);
    json_decref(in);
}

void node_h_token_revoke(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    svc_actor a = svc_actor_of(req->user);
    svc_result res;
    if (svc_token_revoke(&n->svc, &a, srv_req_param(req, "name"), srv_req_param(req, "token"),
                         &res) != LSN_OK)
        node_resp_refusal(resp, &res);
    else
        resp->status = 204;
}
