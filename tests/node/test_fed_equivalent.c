/* tests/node/test_fed_equivalent.c — equivalent policies at the boundary
 * between real nodes (issue 10): HQ decides under the NATO policy, TOKYO
 * under the illustrative Japanese one (data/jpn-illustrative-policy.xml,
 * its first --policy; NATO's loaded beside it), each registered at the
 * other with its policy (`peer add --to-policy`).
 *
 * A NATO item released to JPN goes from HQ with its equivalent label added
 * and signed by HQ; TOKYO decides on it under its own policy and its
 * Japanese reader sees it as a Japanese label, while a reader whose
 * clearance the equivalent does not reach sees nothing. SHAPE (a peer of
 * TOKYO whose batches the test makes) sends a translation altered on the
 * way: refused and audited, the item behind it stored. The reverse: a
 * Japanese item released to NATO reaches HQ's NATO reader under NATO's
 * equivalent. Onward: BRUSSELS (NATO policy) reaches HQ through TOKYO
 * (--via); TOKYO holds HQ's item with HQ's translation, which BRUSSELS could
 * not check (it checks translations against its sender only), so TOKYO
 * sends on HQ's own bytes, and BRUSSELS's reader sees the item.
 *
 * Usage: test_fed_equivalent LIAISON_EXE SOURCE_ROOT */
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

#define JPN_OID "2.25.251642713772810140366533035959921199786"
#define NATO_OID "1.3.26.1.3.1"

#define REL_JPN                                                                            \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"Releasable\"]},"                                \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\",\"NATO\"]}]}"
#define NATO_ONLY                                                                          \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}"
#define GOKUHI_JPN_NATO                                                                    \
    "{\"policy\":\"JPN-ILLUSTRATIVE\",\"classification\":\"GOKUHI\",\"categories\":["      \
    "{\"tagSet\":\"Release\",\"values\":[\"JPN\",\"NATO\"]}]}"

/* TOKYO's own data: a Japanese ministry, its readers with clearances
 * under the Japanese policy, the channel the items arrive in. */
static const char TOKYO_DEMO[] =
    "{\"organisations\":[{\"name\":\"Ministry of Defense\",\"category\":\"JPN\"}],"
    "\"users\":["
    "{\"name\":\"yuki.sato\",\"organisation\":\"Ministry of Defense\","
    "\"roles\":[\"member\",\"release_authority\"],"
    "\"clearance\":{\"policy\":\"JPN-ILLUSTRATIVE\",\"maxClassification\":\"GOKUHI\","
    "\"categories\":[{\"tagSet\":\"Release\",\"values\":[\"JPN\"]}]}},"
    "{\"name\":\"riku.tanaka\",\"organisation\":\"Ministry of Defense\",\"roles\":[\"member\"],"
    "\"clearance\":{\"policy\":\"JPN-ILLUSTRATIVE\",\"maxClassification\":\"OPEN\","
    "\"categories\":[{\"tagSet\":\"Release\",\"values\":[\"JPN\"]}]}}],"
    "\"channels\":[{\"name\":\"cyber-defence\",\"purpose\":\"Cyber defence.\"}],"
    "\"items\":[]}";

static const char *exe, *root;
static char dir[256], A[300], B[300], C[300], D[300], POL_NATO[600], POL_BOTH_JP[1100];
static int pa, pb, pd;

static bool write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(text, 1, n, f) == n;
    if (f)
        ok = fclose(f) == 0 && ok;
    return ok;
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    static char buf[131072];
    *n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[*n] = '\0';
    return *n ? strndup(buf, *n) : NULL;
}

/* Register at DIR the node of PEER_DIR (listening on PORT) as NAME of
 * NATION deciding under POLICY, DIR's policies loaded by POLICIES (two
 * "--policy FILE" pairs, the first its own). */
static bool peer_add(const char *d, const char *name, const char *nation, const char *peer_dir,
                     int port, const char *policy, const char *own, const char *other)
{
    char url[64], crt[512];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    snprintf(crt, sizeof crt, "%s/node.crt", peer_dir);
    const char *args[] = {"peer", "add", name, "--data-dir", d, "--url", url, "--nation",
                          nation, "--certificate", crt, "--to-policy", policy, "--policy",
                          own, "--policy", other, NULL};
    return fu_run(exe, args) == 0;
}

/* Wait (at most 90 s) until a search for word at t finds `want` items. */
static int wait_count(const test_node *t, const char *token, const char *word, int want)
{
    int n = -1;
    for (int i = 0; i < 900; i++) {
        n = fu_count(t, token, word);
        if (n >= want)
            break;
        usleep(100000);
    }
    return n;
}

/* The first item a search for word finds at t (a new reference), or NULL. */
static json_t *found(const test_node *t, const char *token, const char *word)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/search?q=%s", word);
    long st = 0;
    json_t *j = tn_get_json(t, path, token, &st);
    json_t *it = json_array_get(json_object_get(j, "items"), 0);
    json_incref(it);
    json_decref(j);
    return it;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* How many audit records of `action` name `needle`, read with `liaison
 * audit show` from data directory d. */
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

/* SHAPE's binding of body under REL_JPN, translated into the Japanese
 * policy by SHAPE itself (`liaison binding translate`); NULL on failure. */
static char *shape_translated(const char *body)
{
    char lab[400], bodyf[400], orig[400], out[400], cmd[8192];
    snprintf(lab, sizeof lab, "%s/rel.json", dir);
    snprintf(bodyf, sizeof bodyf, "%s/body.txt", dir);
    snprintf(orig, sizeof orig, "%s/orig.xml", dir);
    snprintf(out, sizeof out, "%s/tr.xml", dir);
    if (!write_file(lab, REL_JPN, strlen(REL_JPN)) || !write_file(bodyf, body, strlen(body)))
        return NULL;
    snprintf(cmd, sizeof cmd,
             "'%s' binding sign --data-dir '%s' --label '%s' --content '%s' "
             "--channel cyber-defence > '%s' && "
             "'%s' binding translate '%s' --data-dir '%s' --to-policy JPN-ILLUSTRATIVE %s > '%s'",
             exe, C, lab, bodyf, orig, exe, orig, C, POL_BOTH_JP, out);
    if (system(cmd) != 0)
        return NULL;
    size_t n;
    return read_file(out, &n);
}

static json_t *batch_item(unsigned seq, const char *xml, const char *body)
{
    size_t n = strlen(xml);
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *t = malloc(cap);
    sodium_bin2base64(t, cap, (const unsigned char *)xml, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)seq, "channel",
                          "cyber-defence", "binding", t, "body", body);
    free(t);
    return j;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIAISON_EXE SOURCE_ROOT\n", argv[0]);
        return 2;
    }
    exe = argv[1];
    root = argv[2];
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    snprintf(dir, sizeof dir, "/tmp/lsn-fedeq-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/tokyo", dir);
    snprintf(C, sizeof C, "%s/shape", dir);
    snprintf(D, sizeof D, "%s/brussels", dir);
    char nato[500], jpn[500], demo[300];
    snprintf(nato, sizeof nato, "%s/data/liaison-policy.xml", root);
    snprintf(jpn, sizeof jpn, "%s/data/jpn-illustrative-policy.xml", root);
    snprintf(demo, sizeof demo, "%s/tokyo-demo.json", dir);
    snprintf(POL_NATO, sizeof POL_NATO, "--policy %s", nato);
    snprintf(POL_BOTH_JP, sizeof POL_BOTH_JP, "--policy %s --policy %s", jpn, nato);
    pa = fu_free_port();
    pb = fu_free_port();
    while (pb == pa)
        pb = fu_free_port();
    pd = fu_free_port();
    while (pd == pa || pd == pb)
        pd = fu_free_port();

    ok(write_file(demo, TOKYO_DEMO, strlen(TOKYO_DEMO)) &&
           fu_node_init(exe, A, "HQ", "NATO") && fu_node_init(exe, B, "TOKYO", "JPN") &&
           fu_node_init(exe, C, "SHAPE", "NATO") &&
           peer_add(A, "TOKYO", "JPN", B, pb, "JPN-ILLUSTRATIVE", nato, jpn) &&
           peer_add(B, "HQ", "NATO", A, pa, NATO_OID, jpn, nato) &&
           peer_add(B, "SHAPE", "NATO", C, fu_free_port(), "NATO", jpn, nato),
       "each node registers the other with its policy");
    ok(fu_node_init(exe, D, "BRUSSELS", "NATO") &&
           peer_add(B, "BRUSSELS", "NATO", D, pd, NATO_OID, jpn, nato) &&
           peer_add(D, "TOKYO", "JPN", B, pb, "JPN-ILLUSTRATIVE", nato, jpn) &&
           fu_peer_add_via(exe, D, "HQ", "NATO", A, pa, "TOKYO"),
       "BRUSSELS a peer of TOKYO, reaching HQ through TOKYO");

    /* HQ: the demo data, NATO's policy its own (--demo loads Japan's beside
     * it). TOKYO: Japan's policy first, its own. */
    test_node a = {0}, b = {0}, d = {0};
    char more[2048];
    snprintf(more, sizeof more, "%s --demo-file %s", POL_BOTH_JP, demo);
    bool up = fu_start(&a, exe, A, pa) && fu_start_more(&b, exe, B, pb, more) &&
              fu_start(&d, exe, D, pd);
    ok(up, "HQ (NATO policy) and TOKYO (Japanese policy) start");
    if (!up) {
        tn_stop(&a, SIGTERM);
        tn_stop(&b, SIGTERM);
        tn_stop(&d, SIGTERM);
        return tap_done();
    }
    char *ingrid = tn_token(&a, "ingrid.halvorsen"), *yuki = tn_token(&b, "yuki.sato"),
         *riku = tn_token(&b, "riku.tanaka");

    /* HQ -> TOKYO: the NATO item released to JPN, decided at HQ on its
     * Japanese equivalent and at TOKYO under the Japanese policy. */
    char id[37] = "", id2[37] = "";
    ok(fu_post(&a, ingrid, "cyber-defence", NATO_ONLY, "fedeqnatoonly", id2) &&
           fu_post(&a, ingrid, "cyber-defence", REL_JPN, "fedeqsakura", id),
       "HQ posts a NATO-only item and an item released to JPN");
    ok(wait_count(&b, yuki, "fedeqsakura", 1) == 1,
       "the_japanese_reader_sees_the_nato_item_released_to_jpn");
    json_t *it = found(&b, yuki, "fedeqsakura");
    json_t *lab = json_object_get(it, "label");
    ok(strcmp(str(lab, "policy"), JPN_OID) == 0 &&
           strcmp(str(lab, "classification"), "TORIATSUKAI CHUI") == 0 &&
           strcmp(str(json_object_get(it, "origin"), "node"), "HQ") == 0,
       "it_is_decided_and_shown_under_the_japanese_equivalent (%s %s)", str(lab, "policy"),
       str(lab, "classification"));
    json_decref(it);
    ok(fu_count(&b, riku, "fedeqsakura") == 0,
       "a_reader_the_equivalent_does_not_reach_sees_nothing");
    ok(fu_count(&b, yuki, "fedeqnatoonly") == 0, "the_nato_only_item_never_left_hq");

    /* The binding TOKYO holds: HQ's bytes unchanged, the translation after. */
    char path[200];
    snprintf(path, sizeof path, "/api/v1/items/%s/binding", id);
    http_result ra = {0}, rb = {0};
    bool ga = tn_http(&a, "GET", path, ingrid, NULL, 0, &ra);
    bool gb = tn_http(&b, "GET", path, yuki, NULL, 0, &rb);
    const char *end = ra.body ? strstr(ra.body, "</mb:BindingInformation>") : NULL;
    ok(ga && gb && ra.status == 200 && rb.status == 200 && end &&
           strncmp(rb.body, ra.body, (size_t)(end - ra.body)) == 0 &&
           strstr(rb.body + (end - ra.body), "alternativeConfidentialityLabel") &&
           !strstr(ra.body, "alternativeConfidentialityLabel"),
       "tokyo_holds_the_originators_bytes_with_hqs_translation_beside_them (%ld %ld)",
       ra.status, rb.status);
    free(ra.body);
    free(rb.body);
    ok(audit_count(B, "post", "label as translated by HQ") >= 1,
       "tokyo_audits_the_item_as_decided_on_hqs_translation");

    /* SHAPE's batch: a translation altered on the way (the alternative now
     * releases to KOR), then a faithful one: the first refused and audited,
     * the second stored. */
    char *bad = shape_translated("fedeqaltered"), *good = shape_translated("fedeqfaithful");
    char *alt = bad ? strstr(bad, "alternativeConfidentialityLabel") : NULL;
    char *jv = alt ? strstr(alt, "<GenericValue>JPN<") : NULL;
    if (jv)
        memcpy(jv + strlen("<GenericValue>"), "KOR", 3);
    ok(jv && good, "SHAPE signs and translates two items");
    if (jv && good) {
        json_t *items = json_array();
        json_array_append_new(items, batch_item(1, bad, "fedeqaltered"));
        json_array_append_new(items, batch_item(2, good, "fedeqfaithful"));
        json_t *batch = json_pack("{s:s, s:o}", "destination", "TOKYO", "items", items);
        char *text = json_dumps(batch, JSON_COMPACT);
        http_result r = {0};
        fu_put(pb, B, C, "1-2", text, &r);
        json_t *ans = json_loads(r.body ? r.body : "", 0, NULL);
        ok(r.status == 200 && json_integer_value(json_object_get(ans, "refused")) == 1 &&
               json_integer_value(json_object_get(ans, "stored")) == 1,
           "an_altered_translation_is_refused_and_the_next_item_stored (%ld)", r.status);
        json_decref(ans);
        free(r.body);
        free(text);
        json_decref(batch);
        ok(fu_count(&b, yuki, "fedeqfaithful") == 1 && fu_count(&b, yuki, "fedeqaltered") == 0,
           "the_faithful_item_is_visible_and_the_altered_one_is_not");
        ok(audit_count(B, "fed.receive", "refused") >= 1, "tokyo_audits_the_refusal");
    }
    free(bad);
    free(good);

    /* TOKYO -> HQ: a Japanese item released to NATO reaches HQ's NATO
     * reader under the NATO equivalent. */
    char id3[37] = "";
    ok(fu_post(&b, yuki, "cyber-defence", GOKUHI_JPN_NATO, "fedeqfuji", id3),
       "TOKYO's reader posts a Japanese item released to NATO");
    ok(wait_count(&a, ingrid, "fedeqfuji", 1) == 1,
       "the_nato_reader_sees_the_japanese_item_released_to_nato");
    it = found(&a, ingrid, "fedeqfuji");
    lab = json_object_get(it, "label");
    ok(strcmp(str(lab, "policy"), NATO_OID) == 0 &&
           strcmp(str(lab, "classification"), "SECRET") == 0,
       "it_is_decided_and_shown_under_the_nato_equivalent (%s %s)", str(lab, "policy"),
       str(lab, "classification"));
    json_decref(it);

    /* Onward from TOKYO, which holds HQ's item translated by HQ: BRUSSELS
     * (NATO policy, HQ reached through TOKYO) gets HQ's own bytes. */
    char *bingrid = tn_token(&d, "ingrid.halvorsen");
    ok(wait_count(&d, bingrid, "fedeqsakura", 1) == 1,
       "an_item_received_translated_is_sent_on_to_a_peer_of_the_originators_policy");
    snprintf(path, sizeof path, "/api/v1/items/%s/binding", id);
    http_result rh = {0}, rd = {0};
    ok(tn_http(&a, "GET", path, ingrid, NULL, 0, &rh) && rh.status == 200 &&
           tn_http(&d, "GET", path, bingrid, NULL, 0, &rd) && rd.status == 200 && rh.body &&
           rd.body && strcmp(rh.body, rd.body) == 0,
       "what_tokyo_sent_on_is_hqs_bytes_without_the_translation");
    free(rh.body);
    free(rd.body);
    it = found(&d, bingrid, "fedeqsakura");
    lab = json_object_get(it, "label");
    ok(strcmp(str(lab, "policy"), NATO_OID) == 0 &&
           strcmp(str(json_object_get(it, "origin"), "node"), "HQ") == 0,
       "brussels_decides_on_hqs_own_label (%s)", str(lab, "classification"));
    json_decref(it);
    free(bingrid);

    free(ingrid);
    free(yuki);
    free(riku);
    int sa = tn_stop(&a, SIGTERM), sb = tn_stop(&b, SIGTERM), sd = tn_stop(&d, SIGTERM);
    ok(sa == 0 && sb == 0 && sd == 0, "the nodes stop cleanly");
    ok(tn_openapi_conforms(&a) && tn_openapi_conforms(&b) && tn_openapi_conforms(&d),
       "the_nodes_exchanges_match_the_openapi_spec");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!getenv("KEEP") && system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
