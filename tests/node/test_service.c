/* tests/node/test_service.c — the node's service layer on its own, with no
 * HTTP: a store in a temporary directory (svc_store_open), the bundled
 * policy, and actors made by hand. What "releasing to another nation" means
 * (svc_release_foreign) for several organisations; acceptance and its
 * refusals (kinds and sentences); administration and the audit log's
 * reading by role; every refusal audited. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "node/service.h"

static lsn_policy_set *SET;

static lsn_label *label(const char *json)
{
    lsn_label *l = NULL;
    if (lsn_label_parse(SET, json, strlen(json), LSN_FORM_JSON, &l, NULL) != LSN_OK)
        return NULL;
    return l;
}

#define REL(...) "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":[" \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]}," \
    "{\"tagSet\":\"Releasable To\",\"values\":[" __VA_ARGS__ "]}]}"
#define NATO_ONLY "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":[" \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}"

static size_t foreign(const char *category, const char *json, char *out, size_t cap)
{
    svc_actor a = {.name = "t", .org_category = category, .roles = STORE_ROLE_MEMBER};
    lsn_label *l = label(json);
    size_t n = l ? svc_release_foreign(&a, l, out, cap) : 99;
    lsn_label_free(l);
    return n;
}

static void test_foreign(void)
{
    char out[256];
    ok(foreign("JPN", REL("\"NATO\",\"JPN\""), out, sizeof out) == 0,
       "jpn_releasing_to_nato_and_jpn_releases_to_no_other_nation");
    ok(foreign("JPN", REL("\"NATO\",\"JPN\",\"KOR\",\"AUS\""), out, sizeof out) == 2 &&
           !strcmp(out, "AUS, KOR"),
       "jpn_releasing_to_kor_and_aus_names_them (%s)", out);
    ok(foreign("NATO", NATO_ONLY, out, sizeof out) == 0, "nato_only_releases_to_no_nation");
    ok(foreign("NATO", REL("\"NATO\",\"FRA\""), out, sizeof out) == 1 && !strcmp(out, "FRA"),
       "nato_staff_releasing_to_an_ally_releases_to_another_nation (%s)", out);
    ok(foreign("FRA", REL("\"NATO\",\"FRA\""), out, sizeof out) == 0,
       "an_ally_releasing_to_itself_and_nato_releases_to_no_other_nation");
    /* An organisation the policy does not name: every permissive value but
     * the policy's own counts (deny-biased). */
    ok(foreign("ACME", REL("\"NATO\",\"JPN\""), out, sizeof out) == 2 && strstr(out, "JPN") &&
           strstr(out, "Releasable"),
       "an_organisation_the_policy_does_not_name_releases_to_everything_it_names (%s)", out);
    ok(foreign(NULL, NATO_ONLY, out, sizeof out) == 0,
       "no_organisation_may_still_keep_an_item_in_nato");
}

typedef struct seen {
    int refused_release, audit_reads;
} seen;

static int audit_cb(void *ctx, const store_audit_event *ev)
{
    seen *s = ctx;
    if (!strcmp(ev->action, "post") && !strcmp(ev->outcome, "refused") &&
        strstr(ev->detail, "release to KOR without the release authority role"))
        s->refused_release++;
    if (!strcmp(ev->action, "audit.read"))
        s->audit_reads += !strcmp(ev->outcome, "ok") ? 1 : 100; /* refused: by kenji */
    return STORE_NEXT;
}

static void test_service(const char *dir)
{
    store *st = NULL;
    lsn_error err;
    ok(svc_store_open(dir, NULL, false, &st, &err) != LSN_OK && !st,
       "a_missing_store_is_not_created_without_create");
    ok(svc_store_open(dir, "mysql:x", true, &st, &err) != LSN_OK &&
           strstr(err.message, "unknown store scheme"),
       "an_unknown_store_scheme_is_refused (%s)", err.message);
    /* A store that cannot be reached: the error names it, not its password. */
    ok(svc_store_open(dir, "postgresql://liaison:s3cret@/liaison?host=/nonexistent-dir",
                      true, &st, &err) != LSN_OK && !st &&
           strstr(err.message, "liaison:***@") && !strstr(err.message, "s3cret"),
       "a_store_that_cannot_be_opened_is_named_without_its_password (%s)", err.message);
    ok(svc_store_open(dir, NULL, true, &st, &err) == LSN_OK && st &&
           st->ops->version == STORE_OPS_VERSION,
       "the_default_store_opens_at_the_interface_version");
    svc s;
    ok(svc_init(&s, st, SET, 1 << 20, true) == LSN_OK, "svc_init");

    svc_actor admin = {.name = "admin", .roles = STORE_ROLE_ADMINISTRATOR};
    svc_actor nobody = {.name = "nobody", .roles = STORE_ROLE_MEMBER | STORE_ROLE_AUDITOR};
    svc_result res;
    ok(svc_org_add(&s, &nobody, "Mission of Japan", "JPN", &res) != LSN_OK &&
           res.refusal == SVC_FORBIDDEN && strstr(res.reason, "administrator"),
       "a_non_administrator_may_not_add_an_organisation");
    ok(svc_org_add(&s, &admin, "Mission of Japan", "JPN", &res) == LSN_OK &&
           svc_channel_add(&s, &admin, "space", NULL, false, &res) == LSN_OK,
       "an_administrator_adds_an_organisation_and_a_channel");
    ok(svc_org_add(&s, &admin, "Mission of Japan", "JPN", &res) != LSN_OK &&
           res.refusal == SVC_DUPLICATE,
       "a_name_taken_is_a_duplicate");
    ok(svc_channel_add(&s, &admin, "bad\nname", NULL, false, &res) != LSN_OK &&
           res.refusal == SVC_MALFORMED,
       "a_name_with_a_control_character_is_malformed");

    const char *clr = "{\"policy\":\"NATO\",\"maxClassification\":\"SECRET\",\"categories\":["
                      "{\"tagSet\":\"Context\",\"values\":[\"Releasable\"]},"
                      "{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\"]}]}";
    char tok[STORE_TOKEN_CHARS + 1], mark[256];
    svc_new_user m = {.name = "kenji", .organisation = "Mission of Japan", .clearance = clr,
                      .clearance_len = strlen(clr), .clearance_form = LSN_FORM_JSON};
    svc_new_user ra = m;
    ra.name = "yui";
    ra.roles = STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY;
    ok(svc_user_add(&s, &admin, &m, tok, mark, sizeof mark, &res) == LSN_OK &&
           strlen(tok) == STORE_TOKEN_CHARS && strstr(mark, "JPN") &&
           svc_user_add(&s, &admin, &ra, tok, NULL, 0, &res) == LSN_OK,
       "an_administrator_adds_users_with_a_token (%s)", mark);
    svc_new_user ghost = m;
    ghost.name = "ghost";
    ghost.organisation = "Atlantis";
    ok(svc_user_add(&s, &admin, &ghost, tok, NULL, 0, &res) != LSN_OK &&
           res.refusal == SVC_NOT_FOUND && tok[0] == '\0',
       "a_user_of_an_unknown_organisation_is_refused_and_no_token_is_left");

    svc_reader rk, ry;
    ok(svc_reader_load(&s, "kenji", &rk, &err) == LSN_OK && rk.user &&
           svc_reader_load(&s, "yui", &ry, &err) == LSN_OK && ry.user &&
           !strcmp(rk.org_category, "JPN"),
       "users_load_as_readers_with_their_organisation_category");
    svc_actor kenji = svc_actor_of(&rk), yui = svc_actor_of(&ry);
    json_t *to_kor = json_loads(REL("\"NATO\",\"JPN\",\"KOR\""), 0, NULL);
    json_t *to_jpn = json_loads(REL("\"NATO\",\"JPN\""), 0, NULL);
    json_t *nato = json_loads(NATO_ONLY, 0, NULL);
    svc_post p = {.channel = "space", .label = to_kor, .body = "hello", .body_len = 5};
    int64_t id = 0;
    ok(svc_post_now(&s, &kenji, &p, &id, &res) != LSN_OK && res.refusal == SVC_FORBIDDEN &&
           strstr(res.reason, "KOR needs the release authority role"),
       "acceptance_refuses_a_member_releasing_to_another_nation (%s)", res.reason);
    ok(svc_post_now(&s, &yui, &p, &id, &res) == LSN_OK && id > 0,
       "acceptance_takes_the_same_post_from_a_release_authority");
    p.label = to_jpn;
    ok(svc_post_now(&s, &kenji, &p, &id, &res) == LSN_OK, "a_member_releases_to_their_own_nation");
    p.label = nato;
    ok(svc_post_now(&s, &kenji, &p, &id, &res) != LSN_OK && res.refusal == SVC_FORBIDDEN &&
           strstr(res.reason, "clearance"),
       "acceptance_refuses_a_label_beyond_the_authors_clearance");
    p.label = to_jpn;
    p.channel = "nowhere";
    ok(svc_post_now(&s, &kenji, &p, &id, &res) != LSN_OK && res.refusal == SVC_NOT_FOUND,
       "acceptance_refuses_an_unknown_channel");
    p.channel = "space";
    p.body_len = 4; /* "hello" is 5: a NUL would be at 4 */
    ok(svc_post_now(&s, &kenji, &p, &id, &res) != LSN_OK && res.refusal == SVC_MALFORMED,
       "acceptance_refuses_a_body_whose_length_is_not_its_text");
    json_t *bad = json_loads("{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\","
                             "\"categories\":[{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\"]}]}",
                             0, NULL);
    p.label = bad;
    p.body_len = 5;
    ok(svc_post_now(&s, &kenji, &p, &id, &res) != LSN_OK && res.refusal == SVC_INVALID &&
           strstr(res.reason, "invalid"),
       "acceptance_refuses_an_invalid_label_naming_why (%s)", res.reason);

    seen sn = {0};
    ok(svc_audit_read(&s, &kenji, 0, 1000, NULL, audit_cb, &sn, &res) != LSN_OK &&
           res.refusal == SVC_FORBIDDEN && sn.refused_release == 0,
       "a_member_may_not_read_the_audit_log");
    lsn_err rc = svc_audit_read(&s, &nobody, 0, 1000, NULL, audit_cb, &sn, &res);
    ok(rc == LSN_OK && sn.refused_release == 1 && sn.audit_reads == 101,
       "an_auditor_reads_the_refused_release_the_refused_reading_and_its_own (%d, %d)",
       sn.refused_release, sn.audit_reads);
    store_verify_report rep;
    ok(svc_audit_verify(&s, &nobody, &rep, &res) == LSN_OK && rep.audit.fault == AUDIT_INTACT &&
           rep.ok && strstr(res.reason, "chain intact"),
       "an_auditor_verifies_the_chain (%s)", res.reason);
    ok(svc_audit_verify(&s, &admin, &rep, &res) != LSN_OK && res.refusal == SVC_FORBIDDEN,
       "an_administrator_alone_may_not_verify_the_audit_log");
    ok(svc_store_verify(&s, &nobody, &rep, &res) == LSN_OK && rep.ok && rep.items > 0 &&
           rep.posted > 0 && strstr(res.reason, "intact"),
       "an_auditor_verifies_the_whole_store (%s)", res.reason);
    ok(svc_store_verify(&s, &admin, &rep, &res) != LSN_OK && res.refusal == SVC_FORBIDDEN,
       "an_administrator_alone_may_not_verify_the_store");

    json_decref(to_kor);
    json_decref(to_jpn);
    json_decref(nato);
    json_decref(bad);
    svc_reader_release(&rk);
    svc_reader_release(&ry);
    svc_release(&s);
    store_close(st);
}

int main(void)
{
    lsn_policy *p = NULL;
    SET = lsn_policy_set_new();
    if (!SET || lsn_policy_load_default(&p, NULL) != LSN_OK ||
        lsn_policy_set_add(SET, p, NULL) != LSN_OK)
        return 2;
    lsn_policy_unref(p);
    test_foreign();
    char dir[] = "/tmp/liaison-svc-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char sub[64];
    snprintf(sub, sizeof sub, "%s/data", dir);
    test_service(sub);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        ok(0, "cleanup");
    lsn_policy_set_free(SET);
    return tap_done();
}
