/* tests/node/test_roles.c — the four roles, enforced (issue 9 item 2), on a
 * real `liaison serve --demo`.
 *
 * A member posts within their clearance and releases only to their own
 * nation and NATO; releasing to another nation needs the release authority
 * (the same post by a release authority of the same organisation goes in);
 * only auditors read the audit log; only administrators add organisations,
 * users and channels. Every refusal is a 403 with a sentence saying why,
 * and is itself in the audit log. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "node_util.h"

static test_node N;

static const char *REL_PARTNERS = /* NATO SECRET releasable to four partner nations */
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\",\"AUS\",\"KOR\",\"NZL\"]}]}";
static const char *REL_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}";
static const char *REL_KOR_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"KOR\",\"JPN\"]}]}";
static const char *REL_KOR =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"KOR\"]}]}";
static const char *NATO_ONLY =
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}";

/* GET /api/v1/audit?limit=1000 plus `query` as `tok`: the number of records
 * (SIZE_MAX on any failure, or when one's `key` is not `want`). */
static size_t records_where(const char *tok, const char *query, const char *key,
                            const char *want)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/audit?limit=1000%s", query);
    http_result r = {0};
    if (!tn_http(&N, "GET", path, tok, NULL, 0, &r))
        return SIZE_MAX;
    json_t *j = r.status == 200 ? json_loads(r.body ? r.body : "", 0, NULL) : NULL;
    free(r.body);
    json_t *list = json_object_get(j, "records"), *rec;
    size_t n = json_is_array(list) ? json_array_size(list) : SIZE_MAX, i;
    json_array_foreach(list, i, rec)
    {
        const char *v = json_string_value(json_object_get(rec, key ? key : "seq"));
        if (key && (!v || strcmp(v, want) != 0))
            n = SIZE_MAX;
    }
    json_decref(j);
    return n;
}

static char *token(const char *user)
{
    return tn_token(&N, user); /* a copy to free() */
}

/* A request; its status, and its body in *body when given (free()). */
static long call(const char *method, const char *path, const char *tok, const char *json,
                 char **body)
{
    http_result r = {0};
    if (!tn_http(&N, method, path, tok, json, json ? strlen(json) : 0, &r))
        return -1;
    if (body)
        *body = r.body;
    else
        free(r.body);
    return r.status;
}

static long post(const char *tok, const char *label, const char *text, char **body)
{
    char req[2048];
    snprintf(req, sizeof req, "{\"label\":%s,\"body\":\"%s\"}", label, text);
    return call("POST", "/api/v1/channels/space/items", tok, req, body);
}

/* The error message of an answer, or "". */
static char *message(const char *body)
{
    static char out[1024];
    json_t *j = json_loads(body ? body : "", 0, NULL);
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    if (!m)
        m = json_string_value(json_object_get(j, "message"));
    snprintf(out, sizeof out, "%s", m ? m : "");
    json_decref(j);
    return out;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_roles LIAISON\n");
        return 2;
    }
    char dir[] = "/tmp/liaison-roles-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    bool up = tn_start(&N, argv[1], dir, "");
    ok(up, "node_starts_with_demo_data");
    if (!up)
        return 1;
    char *kenji = token("kenji.watanabe"), *yui = token("yui.nakamura"),
         *marco = token("marco.bellini"), *ingrid = token("ingrid.halvorsen"),
         *minjun = token("min-jun.park");
    ok(kenji && yui && marco && ingrid && minjun,
       "demo_data_has_members_and_a_release_authority_per_organisation");

    /* Release. */
    char *b = NULL;
    long st = post(kenji, REL_PARTNERS, "kenji releases to four partners", &b);
    ok(st == 403 && strstr(message(b), "release authority") && strstr(message(b), "AUS"),
       "a_member_without_the_role_may_not_release_to_partner_nations (%ld: %s)", st, message(b));
    free(b);
    st = post(yui, REL_PARTNERS, "yui releases to four partners", NULL);
    ok(st == 201, "the_same_post_by_a_release_authority_is_accepted (%ld)", st);
    st = post(kenji, REL_JPN, "kenji releases to his own nation", NULL);
    ok(st == 201, "a_member_releases_to_their_own_nation_and_nato (%ld)", st);
    st = post(minjun, REL_KOR, "min-jun releases to korea", NULL);
    long st2 = post(minjun, REL_KOR_JPN, "min-jun releases to korea and japan", &b);
    ok(st == 201 && st2 == 403 && strstr(message(b), "JPN") && !strstr(message(b), "KOR,"),
       "own_nation_comes_from_the_organisation_category (%ld, %ld: %s)", st, st2, message(b));
    free(b);
    st = post(marco, REL_JPN, "marco releases to japan", &b);
    st2 = post(marco, NATO_ONLY, "marco keeps it in nato", NULL);
    ok(st == 403 && strstr(message(b), "release authority") && st2 == 201,
       "nato_staff_without_the_role_post_for_nato_but_may_not_release_to_a_partner (%ld, %ld)",
       st, st2);
    free(b);
    st = post(ingrid, REL_JPN, "ingrid releases to japan", NULL);
    ok(st == 201, "nato_release_authority_releases_to_a_partner (%ld)", st);

    /* The audit log. */
    st = call("GET", "/api/v1/audit?limit=1000", kenji, NULL, &b);
    ok(st == 403 && *message(b), "a_member_may_not_read_the_audit_log (%ld)", st);
    free(b);
    st = call("GET", "/api/v1/audit?limit=1000", ingrid, NULL, NULL);
    ok(st == 403, "a_release_authority_may_not_read_the_audit_log (%ld)", st);
    st = call("GET", "/api/v1/audit?limit=1000", marco, NULL, &b);
    ok(st == 200 && strstr(b ? b : "", "\"records\"") &&
           strstr(b, "release to AUS, KOR, NZL without the release authority role") &&
           strstr(b, "kenji.watanabe"),
       "an_auditor_reads_the_audit_log_which_holds_the_refused_release (%ld)", st);
    free(b);

    /* The audit log's filters (issue 11, for auditors): only what matches. */
    size_t k_all = records_where(marco, "", NULL, NULL);
    size_t k_post = records_where(marco, "&action=post", "action", "post");
    size_t k_kenji = records_where(marco, "&actor=kenji.watanabe", "actor", "kenji.watanabe");
    size_t k_obj = records_where(marco, "&object=audit", "object", "audit");
    ok(k_post > 0 && k_kenji > 0 && k_obj > 0 && k_post < k_all && k_kenji < k_all,
       "the_audit_log_filters_by_action_actor_object (%zu post, %zu kenji, %zu audit of %zu)",
       k_post, k_kenji, k_obj, k_all);
    size_t k_future = records_where(marco, "&since=4102444800000", NULL, NULL);
    size_t k_past = records_where(marco, "&until=1", NULL, NULL);
    size_t k_now = records_where(marco, "&since=1&until=4102444800000", NULL, NULL);
    ok(k_future == 0 && k_past == 0 && k_now > 0,
       "the_audit_log_filters_by_time (%zu future, %zu before 1970, %zu between)", k_future,
       k_past, k_now);
    st = call("GET", "/api/v1/audit?since=yesterday", marco, NULL, NULL);
    st2 = call("GET", "/api/v1/audit?action=post", kenji, NULL, NULL);
    ok(st == 400 && st2 == 403, "a_bad_time_is_refused_and_filters_need_the_role (%ld, %ld)", st,
       st2);

    /* Administration. */
    const char *chan = "{\"name\":\"roles-channel\",\"purpose\":\"testing roles\"}";
    st = call("POST", "/api/v1/channels", kenji, chan, &b);
    st2 = call("POST", "/api/v1/channels", ingrid, chan, NULL);
    ok(st == 403 && *message(b) && st2 == 403, "non_administrators_may_not_add_a_channel (%ld, %ld)",
       st, st2);
    free(b);
    st = call("POST", "/api/v1/organisations", yui,
              "{\"name\":\"Swiss Mission\",\"category\":\"CHE\"}", NULL);
    ok(st == 403, "non_administrators_may_not_add_an_organisation (%ld)", st);
    const char *user = "{\"name\":\"audrey\",\"organisation\":\"NATO International Staff\","
                       "\"clearance\":{\"policy\":\"NATO\",\"maxClassification\":\"SECRET\","
                       "\"categories\":[{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]},"
                       "\"roles\":[\"auditor\"]}";
    st = call("POST", "/api/v1/users", kenji, user, NULL);
    ok(st == 403, "non_administrators_may_not_add_a_user (%ld)", st);
    st = call("POST", "/api/v1/channels", marco, chan, NULL);
    st2 = call("POST", "/api/v1/organisations", marco,
               "{\"name\":\"Swiss Mission\",\"category\":\"CHE\"}", NULL);
    long st3 = call("POST", "/api/v1/channels", marco, chan, &b);
    ok(st == 201 && st2 == 201 && st3 == 409, "an_administrator_adds_a_channel_and_an_organisation "
       "(%ld, %ld; again %ld)", st, st2, st3);
    free(b);
    /* A channel kept local (issue 10): said in the answer and the listing. */
    st = call("POST", "/api/v1/channels", marco, "{\"name\":\"office-only\",\"local\":true}", &b);
    json_t *lj = json_loads(b ? b : "", 0, NULL);
    bool said = json_is_true(json_object_get(lj, "local"));
    json_decref(lj);
    free(b);
    st2 = call("POST", "/api/v1/channels", marco, "{\"name\":\"bad-local\",\"local\":\"yes\"}",
               NULL);
    st3 = call("GET", "/api/v1/channels", kenji, NULL, &b);
    lj = json_loads(b ? b : "", 0, NULL);
    int locals = 0, shared = 0;
    size_t ci;
    json_t *c;
    json_array_foreach(json_object_get(lj, "channels"), ci, c) {
        const char *cn = json_string_value(json_object_get(c, "name"));
        if (json_is_true(json_object_get(c, "local")))
            locals += cn && !strcmp(cn, "office-only") ? 1 : 100;
        else if (json_is_false(json_object_get(c, "local")))
            shared++;
    }
    json_decref(lj);
    free(b);
    ok(st == 201 && said && st2 == 400 && st3 == 200 && locals == 1 && shared > 0,
       "an_administrator_adds_a_channel_kept_local_and_the_listing_says_so (%ld, %ld, %ld, %d)",
       st, st2, st3, locals);
    st = call("POST", "/api/v1/users", marco, user, &b);
    json_t *j = json_loads(b ? b : "", 0, NULL);
    char *audrey = json_string_value(json_object_get(j, "token"))
                       ? strdup(json_string_value(json_object_get(j, "token"))) : NULL;
    json_decref(j);
    free(b);
    ok(st == 201 && audrey, "an_administrator_adds_a_user_and_gets_its_token_once (%ld)", st);

    /* A user with the auditor role alone reads the audit, not items. */
    st = call("GET", "/api/v1/audit?limit=5", audrey, NULL, NULL);
    st2 = call("GET", "/api/v1/channels/space/items", audrey, NULL, NULL);
    st3 = post(audrey, NATO_ONLY, "an auditor posts", NULL);
    long me = call("GET", "/api/v1/me", audrey, NULL, NULL);
    ok(st == 200 && st2 == 403 && st3 == 403 && me == 200,
       "an_auditor_alone_reads_the_audit_but_neither_reads_nor_posts_items (%ld, %ld, %ld, %ld)",
       st, st2, st3, me);

    int status = tn_stop(&N, SIGTERM);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sigterm_stops_the_node");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        ok(0, "cleanup");
    free(kenji); free(yui); free(marco); free(ingrid); free(minjun); free(audrey);
    return tap_done();
}
