/* node/handlers_session.c — the web page's sign-in, its session and
 * sign-out:
 *   POST   /api/v1/session  {name, password} → 201, Set-Cookie, the CSRF token
 *   GET    /api/v1/session  → the caller and (for a session) its CSRF token
 *   DELETE /api/v1/session  → 204, the session ended on the node
 * The password is checked by the service (svc_sign_in: Argon2id, audited);
 * failures are slowed down here per user name and client address
 * (throttle.c) by answering 429 with Retry-After, never by sleeping. The
 * cookie is HttpOnly (no script reads it), Secure (sent over HTTPS only;
 * browsers count http://127.0.0.1 and http://localhost as secure, so that
 * a node on the loopback works without TLS) and SameSite=Strict (never
 * sent with a request another site starts); every state-changing request
 * of a session also needs its CSRF token in the X-CSRF-Token header (the
 * server checks that before any handler). */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "node_internal.h"
#include "server/body.h"
#include "server/errors.h"

/* The session part of an answer: the CSRF token and the session's times. */
static json_t *session_json(node *n, const node_reader *r, const uint8_t hash[32])
{
    char csrf[SRV_CSRF_LEN + 1];
    srv_csrf_token(hash, csrf);
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I}", "name", r->user->name,
                          "organisation", r->user->organisation, "csrfToken", csrf, "roles",
                          node_roles_json(r->user->roles), "idleSeconds",
                          (json_int_t)node_sessions_idle_s(n), "maxSeconds",
                          (json_int_t)node_sessions_max_s(n));
    sodium_memzero(csrf, sizeof csrf);
    return o;
}

void node_h_signin(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    json_t *in;
    if (!srv_json_body(req, resp, &in))
        return;
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *password = json_string_value(json_object_get(in, "password"));
    /* Bounded before anything: the name goes into the audit log. */
    if (!json_is_object(in) || !name || !password || !*name || strlen(name) > 255 ||
        strlen(password) > 1024) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "A sign-in is {\"name\": NAME (1 to 255 bytes), \"password\": "
                       "PASSWORD}.");
        json_decref(in);
        return;
    }
    char client[64], object[300];
    srv_req_client(req, client, sizeof client);
    snprintf(object, sizeof object, "user:%s", name);
    unsigned wait = node_throttle_wait(n, name, client);
    if (wait) {
        char secs[16], detail[128];
        snprintf(secs, sizeof secs, "%u", wait);
        snprintf(detail, sizeof detail, "from %s: too many failed attempts, %u s", client,
                 wait);
        (void)node_audit(n, name, "session.signin", object, "refused", detail);
        srv_resp_error(resp, 429, SRV_E_TOO_MANY,
                       "Too many failed sign-ins: try again in %u seconds.", wait);
        srv_resp_header(resp, "Retry-After", secs);
        json_decref(in);
        return;
    }
    /* Bound the memory and CPU that unauthenticated callers can make the
     * node spend on Argon2id at once. */
    if (atomic_fetch_add_explicit(&n->signins, 1, memory_order_acq_rel) >= NODE_SIGNINS_AT_ONCE) {
        atomic_fetch_sub_explicit(&n->signins, 1, memory_order_acq_rel);
        srv_resp_error(resp, 503, SRV_E_UNAVAILABLE,
                       "Too many sign-ins at once; try again in a moment.");
        srv_resp_header(resp, "Retry-After", "1");
        json_decref(in);
        return;
    }
    svc_result res;
    lsn_err checked = svc_sign_in(&n->svc, name, password, client, &res);
    atomic_fetch_sub_explicit(&n->signins, 1, memory_order_acq_rel);
    if (checked != LSN_OK) {
        if (res.refusal == SVC_FORBIDDEN) {
            node_throttle_failed(n, name, client);
            srv_resp_error(resp, 401, SRV_E_UNAUTHORIZED, "%s", res.reason);
        } else {
            node_resp_refusal(resp, &res);
        }
        json_decref(in);
        return;
    }
    node_throttle_succeeded(n, name);
    char token[SRV_TOKEN_LEN + 1];
    uint8_t hash[SRV_TOKEN_HASH_LEN];
    lsn_err rc = node_session_new(n, name, token, hash);
    node_reader *r = rc == LSN_OK ? node_auth_lookup_session(n, hash) : NULL;
    if (!r) {
        if (rc == LSN_OK)
            (void)node_session_end(n, hash);
        srv_resp_error(resp, 503, SRV_E_UNAVAILABLE,
                       "No session could be made now; try again later.");
    } else {
        char cookie[SRV_RESP_HEADER_VALUE_MAX];
        snprintf(cookie, sizeof cookie,
                 SRV_SESSION_COOKIE "=%s; Path=/; Max-Age=%u; HttpOnly; Secure; "
                 "SameSite=Strict", token, node_sessions_max_s(n));
        srv_resp_header(resp, "Set-Cookie", cookie);
        sodium_memzero(cookie, sizeof cookie);
        srv_resp_json(resp, 201, session_json(n, r, hash));
        node_auth_release(n, r);
    }
    sodium_memzero(token, sizeof token);
    sodium_memzero(hash, sizeof hash);
    json_decref(in);
}

void node_h_session(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    const node_reader *r = req->user;
    if (!req->by_session) {
        srv_resp_error(resp, 404, SRV_E_NOT_FOUND,
                       "This request carries a bearer token, not a session.");
        return;
    }
    srv_resp_json(resp, 200, session_json(n, r, req->session_hash));
}

void node_h_signout(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    const node_reader *r = req->user;
    if (!req->by_session) {
        srv_resp_error(resp, 404, SRV_E_NOT_FOUND,
                       "This request carries a bearer token, not a session.");
        return;
    }
    char object[300];
    snprintf(object, sizeof object, "user:%s", r->user->name);
    (void)node_session_end(n, req->session_hash);
    node_streams_end_session(n, req->session_hash);
    (void)node_audit(n, r->user->name, "session.signout", object, "ok", NULL);
    srv_resp_header(resp, "Set-Cookie",
                    SRV_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; "
                    "SameSite=Strict");
    resp->status = 204;
}
