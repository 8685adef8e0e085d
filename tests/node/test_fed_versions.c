/* tests/node/test_fed_versions.c — a new version of an item, and its
 * withdrawal, reach the peers that hold it (issues 10 and 13), between
 * real nodes on 127.0.0.1: HQ (NATO), whose release clock the test drives
 * (--release-clock), and TOKYO (JPN), each the other's peer; SEOUL (KOR),
 * TOKYO's peer, which HQ reaches through TOKYO (--via); SHAPE (NATO), a
 * peer registered at TOKYO only, whose key the test holds to forge:
 *  - a release adopted at HQ reaches TOKYO as version 2: Korea's reader
 *    there now reads it, Australia's does not, and SEOUL, which never had
 *    it, receives it through TOKYO as a new item; an item TOKYO never had
 *    arrives when a release admits Japan, as a new item would;
 *  - narrowed at HQ so that Japan is no longer admitted: TOKYO no longer
 *    serves it (a tombstone from its origin);
 *  - withdrawn at HQ: gone from every route at TOKYO, in the audit of both
 *    sides with who withdrew it, and at SEOUL, which TOKYO forwards HQ's
 *    tombstone to (the origin's bytes, verified there against HQ's
 *    certificate);
 *  - a tombstone signed by SHAPE for HQ's item is refused and audited;
 *  - exactly once across a SIGKILL of TOKYO: versions and withdrawals sent
 *    while it is killed arrive once each.
 *
 * Usage: test_fed_versions LIAISON_EXE */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "../tap.h"
#include "fed_util.h"
#include "federation/binding.h"
#include "federation/identity.h"

#define REL_JPN                                                                            \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}"
#define REL_KOR_JPN                                                                        \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"KOR\",\"JPN\"]}]}"
#define REL_KOR                                                                            \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"KOR\"]}]}"

#define T0 1900000000000LL /* the release clock: 2030-03-17T17:46:40Z */

static const char *exe;
static char dir[256], A[300], B[300], C[300], E[300], CLOCK[320];
static int pa, pb, pe;
static test_node a, b, e;

static void set_clock(long long ms)
{
    FILE *f = fopen(CLOCK, "w");
    if (f) {
        fprintf(f, "%lld\n", ms);
        fclose(f);
    }
}

static long call(const test_node *t, const char *method, const char *path, const char *tok,
                 const char *json, json_t **out)
{
    http_result r = {0};
    if (!tn_http(t, method, path, tok, json, json ? strlen(json) : 0, &r))
        return -1;
    if (out)
        *out = json_loads(r.body ? r.body : "", 0, NULL);
    free(r.body);
    return r.status;
}

/* The item as tok sees it at t: its status, and its version in *v. */
static long item_of(const test_node *t, const char *tok, const char *id, int *v)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/items/%s", id);
    json_t *j = NULL;
    long st = call(t, "GET", path, tok, NULL, &j);
    if (v)
        *v = (int)json_integer_value(json_object_get(j, "version"));
    json_decref(j);
    return st;
}

/* Wait (at most 60 s) until item id at t is at version `want` for tok
 * (0: until it is gone, 404). */
static bool wait_version(const test_node *t, const char *tok, const char *id, int want)
{
    for (int i = 0; i < 600; i++) {
        int v = 0;
        long st = item_of(t, tok, id, &v);
        if (want ? st == 200 && v == want : st == 404)
            return true;
        usleep(100000);
    }
    return false;
}

/* How many times id is in CHANNEL's listing at t for tok. */
static int listed(const test_node *t, const char *tok, const char *channel, const char *id)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/channels/%s/items?limit=500", channel);
    json_t *j = NULL;
    int n = 0;
    if (call(t, "GET", path, tok, NULL, &j) != 200) {
        json_decref(j);
        return -1;
    }
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(j, "items"), i, it)
        n += strcmp(json_string_value(json_object_get(it, "id")), id) == 0;
    json_decref(j);
    return n;
}

/* Records of `action` in data directory d's audit naming `needle`. */
static int audit_count(const char *d, const char *action, const char *needle)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' audit show --data-dir '%s' --action '%s' | grep -c -- '%s'",
             exe, d, action, needle);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

/* Propose label for item id at HQ as tok with deadline T0 + 1 h, then move
 * the clock there and read the request (which settles it): its state. */
static bool adopt(const char *tok, const char *id, const char *label)
{
    char path[160], req[2048];
    snprintf(path, sizeof path, "/api/v1/items/%s/release-requests", id);
    snprintf(req, sizeof req, "{\"label\":%s,\"reason\":\"partners need it\","
             "\"deadline\":\"2030-03-17T18:46:40.000Z\"}", label);
    json_t *j = NULL;
    long st = call(&a, "POST", path, tok, req, &j);
    char rid[37] = "";
    snprintf(rid, sizeof rid, "%s", json_string_value(json_object_get(j, "id")) ?: "");
    json_decref(j);
    if (st != 201) {
        printf("# propose: %ld\n", st);
        return false;
    }
    set_clock(T0 + 3600 * 1000LL);
    snprintf(path, sizeof path, "/api/v1/release-requests/%s", rid);
    st = call(&a, "GET", path, tok, NULL, &j);
    bool adopted = st == 200 &&
                   strcmp(json_string_value(json_object_get(j, "state")) ?: "", "adopted") == 0;
    json_decref(j);
    set_clock(T0);
    return adopted;
}

static long correct(const char *tok, const char *id, const char *what, const char *label)
{
    char path[160], req[2048];
    snprintf(path, sizeof path, "/api/v1/items/%s/%s", id, what);
    snprintf(req, sizeof req, "{\"label\":%s}", label ? label : "null");
    return call(&a, "POST", path, tok, label ? req : NULL, NULL);
}

/* The originatorConfidentialityLabel element of a binding (4774 XML). */
static char *label_of_binding(const char *xml)
{
    const char *s = strstr(xml, "<originatorConfidentialityLabel");
    const char *end = s ? strstr(s, "</originatorConfidentialityLabel>") : NULL;
    return end ? strndup(s, (size_t)(end - s) + strlen("</originatorConfidentialityLabel>"))
               : NULL;
}

static json_t *b64(const char *p, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *t = malloc(cap);
    sodium_bin2base64(t, cap, (const unsigned char *)p, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(t);
    free(t);
    return j;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIAISON_EXE\n", argv[0]);
        return 2;
    }
    exe = argv[1];
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    snprintf(dir, sizeof dir, "/tmp/lsn-fedver-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/tokyo", dir);
    snprintf(C, sizeof C, "%s/shape", dir);
    snprintf(E, sizeof E, "%s/seoul", dir);
    snprintf(CLOCK, sizeof CLOCK, "%s/clock", dir);
    set_clock(T0);
    pa = fu_free_port();
    pb = fu_free_port();
    while (pb == pa)
        pb = fu_free_port();
    pe = fu_free_port();
    while (pe == pa || pe == pb)
        pe = fu_free_port();
    ok(fu_node_init(exe, A, "HQ", "NATO") && fu_node_init(exe, B, "TOKYO", "JPN") &&
           fu_node_init(exe, C, "SHAPE", "NATO") && fu_node_init(exe, E, "SEOUL", "KOR"),
       "four node identities made");
    ok(fu_peer_add(exe, A, "TOKYO", "JPN", B, pb) && fu_peer_add(exe, B, "HQ", "NATO", A, pa) &&
           fu_peer_add(exe, B, "SHAPE", "NATO", C, fu_free_port()),
       "HQ and TOKYO each the other's peer; SHAPE a peer of TOKYO");
    ok(fu_peer_add(exe, B, "SEOUL", "KOR", E, pe) && fu_peer_add(exe, E, "TOKYO", "JPN", B, pb) &&
           fu_peer_add_via(exe, A, "SEOUL", "KOR", E, pe, "TOKYO") &&
           fu_peer_add_via(exe, E, "HQ", "NATO", A, pa, "TOKYO"),
       "SEOUL a peer of TOKYO, and of HQ through TOKYO");
    char more[700];
    snprintf(more, sizeof more, "--release-clock %s --release-settle-interval 3600", CLOCK);
    if (!ok(fu_start_more(&a, exe, A, pa, more) && fu_start(&b, exe, B, pb) &&
                fu_start(&e, exe, E, pe),
            "the three nodes start")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    char *kenji_a = tn_token(&a, "kenji.watanabe"), *ingrid = tn_token(&a, "ingrid.halvorsen"),
         *kenji = tn_token(&b, "kenji.watanabe"), *minjun = tn_token(&b, "min-jun.park"),
         *sarah = tn_token(&b, "sarah.mitchell"), *marco_b = tn_token(&b, "marco.bellini"),
         *minjun_e = tn_token(&e, "min-jun.park");

    /* --- a release adopted at HQ reaches TOKYO as version 2 --- */
    char x[37] = "";
    ok(fu_post(&a, kenji_a, "space", REL_JPN, "fvxalpha first", x) &&
           wait_version(&b, kenji, x, 1),
       "an_item_released_to_jpn_reaches_tokyo_as_version_1");
    ok(item_of(&b, minjun, x, NULL) == 404, "korea_at_tokyo_does_not_read_it");
    ok(adopt(kenji_a, x, REL_KOR_JPN), "hq_adopts_a_release_to_korea");
    ok(wait_version(&b, minjun, x, 2),
       "korea_at_tokyo_now_reads_it_under_the_same_id_as_version_2");
    int v = 0;
    ok(item_of(&b, sarah, x, NULL) == 404 && item_of(&b, kenji, x, &v) == 200 && v == 2,
       "australia_at_tokyo_still_does_not_and_japan_reads_version_2");
    ok(wait_version(&e, minjun_e, x, 2) && listed(&e, minjun_e, "space", x) == 1,
       "seoul_never_had_it_and_receives_version_2_through_tokyo_as_a_new_item");
    ok(listed(&b, kenji, "space", x) == 1 && fu_count(&b, kenji, "fvxalpha") == 1,
       "tokyo_lists_and_finds_it_once (%d, %d)", listed(&b, kenji, "space", x),
       fu_count(&b, kenji, "fvxalpha"));

    /* --- an item TOKYO never had arrives when a release admits Japan --- */
    char y[37] = "";
    ok(fu_post(&a, ingrid, "space", REL_KOR, "fvxbravo for korea", y),
       "hq_accepts_an_item_released_to_korea_not_japan");
    ok(adopt(ingrid, y, REL_KOR_JPN), "hq_adopts_a_release_of_it_to_japan");
    ok(wait_version(&b, kenji, y, 2), "tokyo_receives_version_2_as_a_new_item");
    ok(item_of(&b, sarah, y, NULL) == 404, "australia_at_tokyo_does_not_read_it");

    /* --- narrowed at HQ: Japan no longer admitted, TOKYO stops serving it --- */
    ok(correct(ingrid, y, "narrow", REL_KOR) == 200, "hq_narrows_it_to_korea_again");
    ok(wait_version(&b, kenji, y, 0), "tokyo_no_longer_serves_the_narrowed_item");
    ok(fu_count(&b, kenji, "fvxbravo") == 0 && listed(&b, kenji, "space", y) == 0,
       "nor_finds_nor_lists_it");
    char object[300];
    snprintf(object, sizeof object, "item:%s", y);
    ok(audit_count(B, "item.withdraw", "no longer released to this node by its origin HQ") == 1,
       "tokyo_audits_that_its_origin_no_longer_releases_it");

    /* --- withdrawn at HQ: gone from every route at TOKYO --- */
    ok(correct(kenji_a, x, "withdraw", NULL) == 200, "its_author_withdraws_it_at_hq");
    ok(wait_version(&b, kenji, x, 0), "tokyo_no_longer_serves_the_withdrawn_item");
    char path[160];
    snprintf(path, sizeof path, "/api/v1/items/%s/binding", x);
    long st_bind = call(&b, "GET", path, kenji, NULL, NULL);
    ok(item_of(&b, minjun, x, NULL) == 404 && st_bind == 404 &&
           listed(&b, kenji, "space", x) == 0 && listed(&b, minjun, "space", x) == 0 &&
           fu_count(&b, kenji, "fvxalpha") == 0 && fu_count(&b, minjun, "fvxalpha") == 0,
       "gone_from_every_route_at_tokyo (binding %ld)", st_bind);
    snprintf(object, sizeof object, "item:%s", x);
    ok(audit_count(A, "item.withdraw", object) == 1 &&
           audit_count(A, "item.withdraw", "kenji.watanabe") == 1,
       "hq_audits_who_withdrew_it");
    ok(wait_version(&e, minjun_e, x, 0) && listed(&e, minjun_e, "space", x) == 0 &&
           fu_count(&e, minjun_e, "fvxalpha") == 0 &&
           audit_count(E, "item.withdraw", "withdrawn by its origin HQ") == 1,
       "seoul_gets_the_origins_tombstone_through_its_relay_tokyo_and_hides_it");
    ok(audit_count(B, "item.withdraw", "withdrawn by its origin HQ") == 1 &&
           audit_count(B, "post", x) >= 1,
       "tokyo_audits_the_withdrawal_and_keeps_that_it_existed");

    /* --- a tombstone from a peer that is not the origin is refused --- */
    char z[37] = "";
    ok(fu_post(&a, kenji_a, "space", REL_JPN, "fvxcharlie kept", z) &&
           wait_version(&b, kenji, z, 1),
       "another_item_reaches_tokyo");
    snprintf(path, sizeof path, "/api/v1/items/%s/binding", z);
    http_result r = {0};
    char *label = tn_http(&b, "GET", path, kenji, NULL, 0, &r) && r.status == 200
                      ? label_of_binding(r.body)
                      : NULL;
    free(r.body);
    fed_identity *shape = NULL;
    lsn_error err;
    char *forged = NULL;
    size_t flen = 0;
    fed_content c = {.body = "", .body_len = 0};
    bool made = label && fed_identity_load(C, true, &shape, &err) == LSN_OK &&
                fed_binding_sign_version(shape, z, "space", 1, FED_TOMBSTONE_WITHDRAWN, label,
                                         strlen(label), &c, 0, &forged, &flen, &err) == LSN_OK;
    ok(made, "the_test_signs_a_tombstone_for_hqs_item_with_shapes_key");
    json_t *entry = json_pack("{s:i, s:s, s:o}", "seq", 1, "kind", "tombstone", "binding",
                              b64(forged ? forged : "", flen));
    json_t *doc = json_pack("{s:s, s:[o]}", "destination", "TOKYO", "items", entry);
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    r = (http_result){0};
    bool put = fu_put(pb, B, C, "1-1", body, &r);
    ok(put && r.status == 200 && r.body && strstr(r.body, "\"refused\":1"),
       "tokyo_answers_the_forged_tombstone_as_refused (%ld %s)", r.status,
       r.body ? r.body : "");
    free(r.body);
    free(body);
    ok(item_of(&b, kenji, z, NULL) == 200, "the_item_is_still_served_at_tokyo");
    ok(audit_count(B, "fed.receive", "a tombstone of an item of HQ signed by SHAPE") == 1,
       "the_forgery_is_audited_at_tokyo");
    /* An entry's kind must be its signed binding's: SHAPE's own version 2
     * of an item of its own, sent as an item, is refused; an unknown kind
     * is refused; each consumes its sequence. */
    char *v2 = NULL, own[37];
    size_t v2len = 0;
    fed_content vc = {.body = "fvxdelta", .body_len = 8};
    bool v2made = label && fed_uuid_new(own) == LSN_OK &&
                  fed_binding_sign_version(shape, own, "space", 2, NULL, label, strlen(label), &vc, 0,
                                           &v2, &v2len, &err) == LSN_OK;
    json_t *as_item = json_pack("{s:i, s:s, s:s, s:o, s:s}", "seq", 2, "kind", "item",
                                "channel", "space", "binding", b64(v2 ? v2 : "", v2len),
                                "body", "fvxdelta");
    json_t *bogus = json_pack("{s:i, s:s, s:s, s:o, s:s}", "seq", 3, "kind", "erratum",
                              "channel", "space", "binding", b64(v2 ? v2 : "", v2len),
                              "body", "fvxdelta");
    doc = json_pack("{s:s, s:[o, o]}", "destination", "TOKYO", "items", as_item, bogus);
    body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    r = (http_result){0};
    put = fu_put(pb, B, C, "2-3", body, &r);
    ok(v2made && put && r.status == 200 && r.body && strstr(r.body, "\"acked\":3") &&
           strstr(r.body, "\"refused\":2") && fu_count(&b, kenji, "fvxdelta") == 0,
       "a_version_sent_as_an_item_and_an_unknown_kind_are_refused (%ld %s)", r.status,
       r.body ? r.body : "");
    ok(audit_count(B, "fed.receive", "kind is not its signed binding") == 1,
       "the_kind_mismatch_is_audited");
    free(r.body);
    free(body);
    free(v2);
    free(forged);
    free(label);
    fed_identity_free(shape);

    /* --- exactly once across a SIGKILL of TOKYO --- */
#define N 6
    char ids[N][37];
    bool posted = true;
    for (int i = 0; i < N; i++) {
        char text[64];
        snprintf(text, sizeof text, "fvxkill%d item", i);
        posted = posted && fu_post(&a, ingrid, "space", REL_KOR_JPN, text, ids[i]);
    }
    bool arrived = posted;
    for (int i = 0; i < N && arrived; i++)
        arrived = wait_version(&b, kenji, ids[i], 1);
    ok(arrived, "%d items reach tokyo", N);
    /* Narrow each (Japan still admitted: a version), withdraw every other
     * one, killing TOKYO in the middle. */
    bool acted = true;
    for (int i = 0; i < N; i++) {
        acted = acted && correct(ingrid, ids[i], "narrow", REL_JPN) == 200;
        if (i == N / 2)
            tn_stop(&b, SIGKILL);
        if (i % 2)
            acted = acted && correct(ingrid, ids[i], "withdraw", NULL) == 200;
    }
    ok(acted, "hq_narrows_each_and_withdraws_every_other_one_while_tokyo_is_killed");
    ok(fu_start(&b, exe, B, pb), "tokyo_restarts");
    free(kenji);
    kenji = tn_token(&b, "kenji.watanabe");
    bool converged = true;
    for (int i = 0; i < N; i++)
        converged = converged && wait_version(&b, kenji, ids[i], i % 2 ? 0 : 2);
    ok(converged, "tokyo_serves_version_2_of_those_kept_and_none_of_those_withdrawn");
    int once = 0, withdrawn_once = 0;
    for (int i = 0; i < N; i++) {
        once += listed(&b, kenji, "space", ids[i]) == (i % 2 ? 0 : 1);
        snprintf(object, sizeof object, "item:%s", ids[i]);
        if (i % 2)
            withdrawn_once += audit_count(B, "item.withdraw", object) == 1;
    }
    ok(once == N && withdrawn_once == N / 2,
       "each_is_listed_once_and_each_withdrawal_applied_once (%d, %d)", once, withdrawn_once);
    (void)marco_b;

    tn_stop(&a, SIGTERM);
    tn_stop(&b, SIGTERM);
    tn_stop(&e, SIGTERM);
    free(minjun_e);
    free(kenji_a);
    free(ingrid);
    free(kenji);
    free(minjun);
    free(sarah);
    free(marco_b);
    char rm[400];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system(rm) != 0)
        printf("# could not remove %s\n", dir);
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
