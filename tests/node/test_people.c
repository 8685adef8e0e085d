/* tests/node/test_people.c — sign-in, sessions and accounts (issue 11) on a
 * real `liaison serve --demo`, through the OpenAPI validating proxy when
 * the suite gives one.
 *
 * A demo user signs in with the password of demo-credentials.json and gets
 * an HttpOnly, Secure, SameSite=Strict cookie and a CSRF token; a
 * state-changing request of the session without that token is refused;
 * sign-out ends the session on the node (the old cookie no longer works);
 * wrong passwords are refused and, after a few, answered 429 with
 * Retry-After (the right password too, while closed), and audited; an
 * administrator disables a user and their session and token stop working
 * on the very next request; removal, a new password, a new token, roles
 * and a clearance validated against the policy; an organisation's nation
 * must be one the policy knows. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>

#include "../tap.h"
#include "node_util.h"

static test_node N;

typedef struct answer {
    long status;
    char body[65536];
    size_t blen;
    char cookie[512];      /* the Set-Cookie header's value, if any */
    char retry_after[32];  /* the Retry-After header's value, if any */
} answer;

static size_t on_body(char *p, size_t sz, size_t nm, void *ctx)
{
    answer *a = ctx;
    size_t n = sz * nm, room = sizeof a->body - 1 - a->blen;
    memcpy(a->body + a->blen, p, n < room ? n : room);
    a->blen += n < room ? n : room;
    a->body[a->blen] = '\0';
    return n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return;
    const char *v = line + k + 1;
    while (*v == ' ')
        v++;
    size_t len = n - (size_t)(v - line);
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n'))
        len--;
    snprintf(out, cap, "%.*s", (int)len, v);
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ctx)
{
    answer *a = ctx;
    header_value(p, sz * nm, "Set-Cookie", a->cookie, sizeof a->cookie);
    header_value(p, sz * nm, "Retry-After", a->retry_after, sizeof a->retry_after);
    return sz * nm;
}

/* One request with a bearer token, or a session cookie (the value of
 * lsn_session) and a CSRF token; any may be NULL. */
static long call(const char *method, const char *path, const char *token, const char *cookie,
                 const char *csrf, const char *json, answer *a)
{
    memset(a, 0, sizeof *a);
    CURL *c = curl_easy_init();
    char url[1024], h1[512], h2[512], h3[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", N.port, path);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (token) {
        snprintf(h1, sizeof h1, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, h1);
    }
    if (cookie) {
        snprintf(h2, sizeof h2, "Cookie: lsn_session=%s", cookie);
        h = curl_slist_append(h, h2);
    }
    if (csrf) {
        snprintf(h3, sizeof h3, "X-CSRF-Token: %s", csrf);
        h = curl_slist_append(h, h3);
    }
    if (json)
        h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (json) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
    }
    a->status = curl_easy_perform(c) == CURLE_OK ? 0 : -1;
    if (a->status == 0)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return a->status;
}

/* A demo user's field of demo-credentials.json (a copy to free()). */
static char *cred(const char *user, const char *field)
{
    char path[512];
    snprintf(path, sizeof path, "%s/demo-credentials.json", N.dir);
    json_t *a = json_load_file(path, 0, NULL);
    size_t i;
    json_t *v;
    char *out = NULL;
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(json_object_get(v, field));
        if (!strcmp(json_string_value(json_object_get(v, "user")), user) && s)
            out = strdup(s);
    }
    json_decref(a);
    return out;
}

/* A session: its cookie value and CSRF token. */
typedef struct session {
    char cookie[128], csrf[64];
} session;

static long sign_in(const char *user, const char *password, session *s, answer *a)
{
    char req[512];
    snprintf(req, sizeof req, "{\"name\":\"%s\",\"password\":\"%s\"}", user, password);
    long st = call("POST", "/api/v1/session", NULL, NULL, NULL, req, a);
    memset(s, 0, sizeof *s);
    if (st == 201) {
        const char *v = strstr(a->cookie, "lsn_session=");
        if (v)
            snprintf(s->cookie, sizeof s->cookie, "%.*s", (int)strcspn(v + 12, ";"), v + 12);
        json_t *j = json_loads(a->body, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "csrfToken"));
        snprintf(s->csrf, sizeof s->csrf, "%s", t ? t : "");
        json_decref(j);
    }
    return st;
}

static const char *POST_REL_JPN =
    "{\"label\":{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]},"
    "\"body\":\"posted in a web session\"}";

/* Whether the audit log (read by the auditor) holds a record with this
 * action, outcome and object. */
static bool audited(const char *auditor, const char *action, const char *outcome,
                    const char *object)
{
    bool found = false;
    long after = 0;
    for (int page = 0; page < 50 && !found; page++) {
        char path[128];
        answer a;
        snprintf(path, sizeof path, "/api/v1/audit?after=%ld&limit=1000", after);
        if (call("GET", path, auditor, NULL, NULL, NULL, &a) != 200)
            return false;
        json_t *j = json_loads(a.body, 0, NULL);
        json_t *recs = json_object_get(j, "records");
        size_t i;
        json_t *r;
        json_array_foreach(recs, i, r) {
            if (!strcmp(json_string_value(json_object_get(r, "action")), action) &&
                !strcmp(json_string_value(json_object_get(r, "outcome")), outcome) &&
                !strcmp(json_string_value(json_object_get(r, "object")), object))
                found = true;
        }
        long next = (long)json_integer_value(json_object_get(j, "next"));
        bool more = json_array_size(recs) > 0 && next > after;
        after = next;
        json_decref(j);
        if (!more)
            break;
    }
    return found;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_people LIAISON\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char dir[] = "/tmp/liaison-people-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    bool up = tn_start(&N, argv[1], dir, "");
    ok(up, "node_starts_with_demo_data");
    if (!up)
        return 1;
    char *kenji_pw = cred("kenji.watanabe", "password"),
         *kenji_tok = cred("kenji.watanabe", "token"),
         *marco = cred("marco.bellini", "token"), *yui_pw = cred("yui.nakamura", "password"),
         *minjun_pw = cred("min-jun.park", "password"),
         *minjun_tok = cred("min-jun.park", "token");
    ok(kenji_pw && strlen(kenji_pw) >= 10 && marco && yui_pw && minjun_pw,
       "demo_credentials_list_a_password_beside_each_token");

    answer a;
    session s;
    /* 1. Sign in with a password. */
    ok(sign_in("kenji.watanabe", kenji_pw, &s, &a) == 201 && s.cookie[0] && s.csrf[0],
       "password_signin_gives_a_session_cookie_and_csrf_token");
    ok(strstr(a.cookie, "HttpOnly") && strstr(a.cookie, "Secure") &&
           strstr(a.cookie, "SameSite=Strict") && strstr(a.cookie, "Path=/"),
       "session_cookie_is_httponly_secure_samesite_strict");
    ok(call("GET", "/api/v1/me", NULL, s.cookie, NULL, NULL, &a) == 200 &&
           strstr(a.body, "\"kenji.watanabe\""),
       "session_cookie_authenticates_reads");
    ok(call("GET", "/api/v1/session", NULL, s.cookie, NULL, NULL, &a) == 200 &&
           strstr(a.body, s.csrf),
       "session_route_gives_the_csrf_token_again_after_a_reload");
    ok(call("GET", "/api/v1/session", kenji_tok, NULL, NULL, NULL, &a) == 404,
       "a_bearer_token_has_no_session");

    /* 2. CSRF. */
    ok(call("POST", "/api/v1/channels/space/items", NULL, s.cookie, NULL, POST_REL_JPN,
            &a) == 403 && strstr(a.body, "CSRF"),
       "session_post_without_csrf_token_refused");
    ok(call("POST", "/api/v1/channels/space/items", NULL, s.cookie, "AAAA", POST_REL_JPN,
            &a) == 403,
       "session_post_with_a_wrong_csrf_token_refused");
    ok(call("POST", "/api/v1/channels/space/items", NULL, s.cookie, s.csrf, POST_REL_JPN,
            &a) == 201,
       "session_post_with_its_csrf_token_accepted");
    ok(call("DELETE", "/api/v1/session", NULL, s.cookie, NULL, NULL, &a) == 403,
       "signout_without_csrf_token_refused");
    ok(call("POST", "/api/v1/channels/space/items", kenji_tok, NULL, NULL, POST_REL_JPN,
            &a) == 201,
       "bearer_tokens_need_no_csrf_token");

    /* 3. Sign-out ends the session on the node. */
    ok(call("DELETE", "/api/v1/session", NULL, s.cookie, s.csrf, NULL, &a) == 204 &&
           strstr(a.cookie, "Max-Age=0"),
       "signout_answers_204_and_clears_the_cookie");
    ok(call("GET", "/api/v1/me", NULL, s.cookie, NULL, NULL, &a) == 401,
       "old_cookie_no_longer_works_after_signout");
    ok(call("GET", "/api/v1/me", kenji_tok, NULL, NULL, NULL, &a) == 200,
       "signout_leaves_the_users_token_working");

    /* 4. Wrong passwords: refused, then slowed (429 + Retry-After). */
    int wrong401 = 0;
    for (int i = 0; i < 4; i++)
        wrong401 += sign_in("yui.nakamura", "not-her-password", &s, &a) == 401;
    ok(wrong401 == 4 && strstr(a.body, "wrong"), "wrong_password_refused_401");
    ok(sign_in("yui.nakamura", yui_pw, &s, &a) == 429 && atoi(a.retry_after) >= 1,
       "after_failed_signins_even_the_right_password_waits_with_retry_after");
    ok(sign_in("nobody.at.all", "whatever-password", &s, &a) == 401 &&
           strstr(a.body, "wrong"),
       "unknown_user_answered_as_a_wrong_password");
    {
        char big[400], req[600];
        memset(big, 'x', 300);
        big[300] = '\0';
        snprintf(req, sizeof req, "{\"name\":\"%s\",\"password\":\"whatever-password\"}", big);
        ok(call("POST", "/api/v1/session", NULL, NULL, NULL, req, &a) == 400,
           "an_overlong_user_name_is_refused_before_anything");
    }
    ok(audited(marco, "session.signin", "refused", "user:yui.nakamura"),
       "failed_signins_are_audited");
    ok(audited(marco, "session.signin", "ok", "user:kenji.watanabe") &&
           audited(marco, "session.signout", "ok", "user:kenji.watanabe"),
       "signin_and_signout_are_audited");

    /* 5. Accounts: an administrator disables a user; session and token
     * stop at once. */
    session m;
    ok(sign_in("min-jun.park", minjun_pw, &m, &a) == 201 &&
           call("GET", "/api/v1/me", minjun_tok, NULL, NULL, NULL, &a) == 200,
       "user_signed_in_and_token_working_before_disable");
    ok(call("GET", "/api/v1/users", kenji_tok, NULL, NULL, NULL, &a) == 403,
       "members_cannot_list_users");
    ok(call("GET", "/api/v1/users", marco, NULL, NULL, NULL, &a) == 200 &&
           strstr(a.body, "\"min-jun.park\"") && strstr(a.body, "\"active\""),
       "administrator_lists_users");
    ok(call("PATCH", "/api/v1/users/min-jun.park", kenji_tok, NULL, NULL,
            "{\"status\":\"disabled\"}", &a) == 403,
       "members_cannot_disable_users");
    ok(call("PATCH", "/api/v1/users/min-jun.park", marco, NULL, NULL,
            "{\"status\":\"disabled\"}", &a) == 200 && strstr(a.body, "\"disabled\""),
       "administrator_disables_a_user");
    ok(call("GET", "/api/v1/me", minjun_tok, NULL, NULL, NULL, &a) == 401,
       "disabled_users_token_stops_at_once");
    ok(call("GET", "/api/v1/me", NULL, m.cookie, NULL, NULL, &a) == 401,
       "disabled_users_session_stops_at_once");
    ok(sign_in("min-jun.park", minjun_pw, &s, &a) == 401, "disabled_user_cannot_sign_in");
    ok(call("PATCH", "/api/v1/users/min-jun.park", marco, NULL, NULL,
            "{\"status\":\"active\"}", &a) == 200 &&
           call("GET", "/api/v1/me", minjun_tok, NULL, NULL, NULL, &a) == 200,
       "enabled_again_the_token_works");
    ok(call("GET", "/api/v1/me", NULL, m.cookie, NULL, NULL, &a) == 401,
       "an_ended_session_stays_ended_after_enable");

    /* New password, new token, roles, clearance. */
    ok(call("PUT", "/api/v1/users/min-jun.park/password", marco, NULL, NULL,
            "{\"password\":\"short\"}", &a) == 400,
       "too_short_a_password_refused");
    ok(call("PUT", "/api/v1/users/min-jun.park/password", marco, NULL, NULL,
            "{\"password\":\"a new long password\"}", &a) == 204 &&
           sign_in("min-jun.park", "a new long password", &s, &a) == 201 &&
           sign_in("min-jun.park", minjun_pw, &m, &a) == 401,
       "new_password_works_and_the_old_one_does_not");
    ok(call("POST", "/api/v1/users/min-jun.park/token", marco, NULL, NULL, NULL, &a) == 201 &&
           strstr(a.body, "\"token\"") &&
           call("GET", "/api/v1/me", minjun_tok, NULL, NULL, NULL, &a) == 401,
       "new_token_replaces_the_old_one");
    ok(call("PATCH", "/api/v1/users/min-jun.park", marco, NULL, NULL,
            "{\"clearance\":{\"policy\":\"NATO\",\"maxClassification\":\"NO SUCH LEVEL\"}}",
            &a) == 422,
       "clearance_validated_against_the_policy_when_set");
    ok(call("PATCH", "/api/v1/users/min-jun.park", marco, NULL, NULL,
            "{\"roles\":[\"member\",\"release_authority\"]}", &a) == 200 &&
           strstr(a.body, "release_authority"),
       "administrator_sets_roles");
    ok(call("PATCH", "/api/v1/users/marco.bellini", marco, NULL, NULL,
            "{\"status\":\"disabled\"}", &a) == 400,
       "administrator_cannot_disable_themself");
    ok(audited(marco, "user.disable", "ok", "user:min-jun.park") &&
           audited(marco, "user.enable", "ok", "user:min-jun.park") &&
           audited(marco, "user.set-roles", "ok", "user:min-jun.park") &&
           audited(marco, "user.passwd", "ok", "user:min-jun.park") &&
           audited(marco, "user.disable", "refused", "user:marco.bellini"),
       "administrators_acts_and_refusals_are_audited");

    /* Named access tokens: made by their owner (or an administrator), with
     * an expiry, listed without the secret, revoked at once. */
    char *claire = cred("claire.dubois", "token");
    ok(call("POST", "/api/v1/users/claire.dubois/tokens", claire, NULL, NULL,
            "{\"name\":\"nightly export\",\"expiresDays\":30}", &a) == 201 &&
           strstr(a.body, "\"token\"") && strstr(a.body, "\"expires\""),
       "owner_adds_a_named_token_with_an_expiry");
    char named[128] = "";
    {
        json_t *j = json_loads(a.body, 0, NULL);
        snprintf(named, sizeof named, "%s",
                 json_string_value(json_object_get(j, "token")) ? json_string_value(json_object_get(j, "token")) : "");
        json_decref(j);
    }
    ok(named[0] && call("GET", "/api/v1/me", named, NULL, NULL, NULL, &a) == 200 &&
           strstr(a.body, "\"claire.dubois\""),
       "a_named_token_authenticates_its_owner");
    ok(call("POST", "/api/v1/users/claire.dubois/tokens", claire, NULL, NULL,
            "{\"name\":\"nightly export\"}", &a) == 409,
       "token_names_are_unique_per_user");
    ok(call("POST", "/api/v1/users/claire.dubois/tokens", kenji_tok, NULL, NULL,
            "{\"name\":\"not mine\"}", &a) == 403,
       "another_member_cannot_add_a_token_for_someone_else");
    ok(call("GET", "/api/v1/users/claire.dubois/tokens", marco, NULL, NULL, NULL, &a) == 200 &&
           strstr(a.body, "nightly export") && !strstr(a.body, named),
       "administrator_lists_a_users_tokens_without_the_secret");
    ok(call("DELETE", "/api/v1/users/claire.dubois/tokens/nightly%20export", claire, NULL, NULL,
            NULL, &a) == 204 &&
           call("GET", "/api/v1/me", named, NULL, NULL, NULL, &a) == 401 &&
           call("GET", "/api/v1/me", claire, NULL, NULL, NULL, &a) == 200,
       "revoked_named_token_stops_at_once_and_the_others_work");
    ok(audited(marco, "token.add", "ok", "user:claire.dubois") &&
           audited(marco, "token.revoke", "ok", "user:claire.dubois"),
       "token_acts_are_audited");
    free(claire);

    /* Removal: everything stops, the name stays taken. */
    ok(call("DELETE", "/api/v1/users/min-jun.park", marco, NULL, NULL, NULL, &a) == 204 &&
           call("GET", "/api/v1/me", NULL, s.cookie, NULL, NULL, &a) == 401 &&
           sign_in("min-jun.park", "a new long password", &m, &a) == 401,
       "removed_user_cannot_sign_in_and_session_ends");
    ok(call("PATCH", "/api/v1/users/min-jun.park", marco, NULL, NULL,
            "{\"status\":\"active\"}", &a) == 404,
       "removed_user_cannot_be_enabled");

    /* Client certificates through the API (the same acts as `liaison user
     * set-certificate`): a certificate (PEM), or a subject under the CA
     * whose certificate is given; both audited; DELETE unbinds. The
     * sign-in itself over TLS is node_cert_signin's. */
    {
        char *pem = NULL;
        size_t pem_len = 0;
        FILE *f = fopen(CERT_PEM, "rb");
        if (f) {
            pem = calloc(1, 65536);
            pem_len = pem ? fread(pem, 1, 65535, f) : 0;
            fclose(f);
        }
        json_t *by_cert = json_pack("{s:s}", "certificate", pem ? pem : "");
        json_t *by_subject = json_pack("{s:s, s:s}", "subject", "CN=Yui Nakamura, O=MOFA, C=JP",
                                       "issuer", pem ? pem : "");
        char *j1 = json_dumps(by_cert, JSON_COMPACT), *j2 = json_dumps(by_subject, JSON_COMPACT);
        ok(pem_len > 0 &&
               call("PUT", "/api/v1/users/lars.jensen/certificate", marco, NULL, NULL, j1, &a) ==
                   200 &&
               strstr(a.body, "\"certificate\":true"),
           "administrator_binds_a_certificate_through_the_api");
        ok(call("PUT", "/api/v1/users/yui.nakamura/certificate", marco, NULL, NULL, j1, &a) == 409,
           "a_certificate_bound_to_another_user_is_409");
        ok(call("PUT", "/api/v1/users/yui.nakamura/certificate", marco, NULL, NULL, j2, &a) ==
                   200 &&
               strstr(a.body, "\"certificateSubject\":\"CN=Yui Nakamura,O=MOFA,C=JP\""),
           "administrator_binds_a_subject_under_a_ca_through_the_api (%s)", a.body);
        ok(call("PUT", "/api/v1/users/yui.nakamura/certificate", marco, NULL, NULL,
                "{\"subject\":\"not a dn\",\"issuer\":\"x\"}", &a) == 400 &&
               call("PUT", "/api/v1/users/yui.nakamura/certificate", marco, NULL, NULL,
                    "{\"certificate\":\"-----BEGIN CERTIFICATE-----\\nAAAA\\n\"}", &a) == 400,
           "a_subject_that_is_not_a_dn_or_a_certificate_that_is_not_one_is_400");
        char *kenji_t = cred("kenji.watanabe", "token");
        ok(call("PUT", "/api/v1/users/kenji.watanabe/certificate", kenji_t, NULL, NULL, j1, &a) ==
               403,
           "a_member_cannot_bind_a_certificate");
        free(kenji_t);
        ok(call("DELETE", "/api/v1/users/yui.nakamura/certificate", marco, NULL, NULL, NULL, &a) ==
                   204 &&
               call("GET", "/api/v1/users/yui.nakamura", marco, NULL, NULL, NULL, &a) == 200 &&
               strstr(a.body, "\"certificate\":false") && !strstr(a.body, "certificateSubject"),
           "delete_unbinds_the_subject");
        ok(audited(marco, "user.set-certificate", "ok", "user:lars.jensen") &&
               audited(marco, "user.set-certificate", "ok", "user:yui.nakamura"),
           "certificate_bindings_through_the_api_are_audited");
        free(j1), free(j2), free(pem);
        json_decref(by_cert), json_decref(by_subject);
    }

    /* Organisations: the nation must be one the policy knows. */
    ok(call("POST", "/api/v1/organisations", marco, NULL, NULL,
            "{\"name\":\"Atlantis Mission\",\"category\":\"ATL\"}", &a) == 422,
       "organisation_with_unknown_nation_refused");
    ok(call("POST", "/api/v1/organisations", marco, NULL, NULL,
            "{\"name\":\"Embassy of Sweden\",\"category\":\"SWE\"}", &a) == 201,
       "organisation_with_a_policy_nation_accepted");

    int st = tn_stop(&N, SIGTERM);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node_stops_cleanly");
    ok(tn_openapi_conforms(&N), "every_exchange_matches_the_openapi_document");
    free(kenji_pw), free(kenji_tok), free(marco), free(yui_pw), free(minjun_pw),
        free(minjun_tok);
    curl_global_cleanup();
    return tap_done();
}
