/* tests/node/test_node.c — the node end to end: a real `liaison serve
 * --demo` on a loopback port, driven over HTTP (libcurl, raw sockets).
 *
 *   test_node LIAISON_EXE DEMO_JSON
 *
 * Pins: who sees what by every route (list, fetch, search, stream, cursors),
 * refusals (403, 422, 400, 413, 404, 401), an invisible item answered
 * byte for byte like a missing one, and a leak test: random labels x demo
 * readers, each visible set compared with lsn_access_check computed here,
 * independently of the node. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

#include "liaison/liaison.h"
#include "../tap.h"
#include "node_util.h"

static test_node N;
static lsn_policy_set *SET;
static json_t *DEMO;

#define NREADERS 8
static const char *READERS[NREADERS] = {
    "ingrid.halvorsen", "marco.bellini", "kenji.watanabe", "min-jun.park",
    "sarah.mitchell", "aroha.ngata", "claire.dubois", "lars.jensen",
};
static char *TOK[NREADERS];
static lsn_clearance *CLR[NREADERS];

enum { INGRID = 0, MARCO, KENJI, MINJUN, SARAH, AROHA, CLAIRE, LARS };

/* The reader's clearance from the demo file: computed here, not asked of
 * the node. */
static lsn_clearance *demo_clearance(const char *user)
{
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(DEMO, "users"), i, u) {
        if (strcmp(json_string_value(json_object_get(u, "name")), user) != 0)
            continue;
        char *t = json_dumps(json_object_get(u, "clearance"), JSON_COMPACT);
        lsn_clearance *c = NULL;
        if (lsn_clearance_parse(SET, t, strlen(t), LSN_FORM_JSON, &c, NULL) != LSN_OK)
            c = NULL;
        free(t);
        return c;
    }
    return NULL;
}

static bool expect_grant(const char *label_json, int reader)
{
    lsn_label *l = NULL;
    lsn_decision d = LSN_DENY;
    if (lsn_label_parse(SET, label_json, strlen(label_json), LSN_FORM_JSON, &l, NULL) != LSN_OK)
        return false;
    if (lsn_access_check(SET, l, CLR[reader], &d) != LSN_OK)
        d = LSN_DENY;
    lsn_label_free(l);
    return d == LSN_GRANT;
}

/* POST an item; returns its id (0 on refusal), status in *st. */
static long long post(int who, const char *channel, const char *label, const char *body,
                      long *st)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/channels/%s/items", channel);
    json_t *lj = json_loads(label, 0, NULL);
    json_t *req = json_pack("{s:o, s:s}", "label", lj ? lj : json_string(label), "body", body);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    http_result r;
    tn_http(&N, "POST", path, TOK[who], text, strlen(text), &r);
    free(text);
    *st = r.status;
    long long id = 0;
    json_t *j = json_loads(r.body, 0, NULL);
    if (r.status == 201)
        id = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    free(r.body);
    return id;
}

/* Every item id of a channel this reader is shown, paging by `limit`
 * through the `next` cursor (bounded). Ids into ids[], count returned. */
static size_t list_all(int who, const char *channel, int limit, long long *ids, size_t cap,
                       bool *leaked_cursor, long long max_visible_expected)
{
    size_t n = 0;
    long long after = 0;
    for (int pages = 0; pages < 1000; pages++) {
        char path[256];
        long st;
        snprintf(path, sizeof path, "/api/v1/channels/%s/items?after=%lld&limit=%d", channel,
                 after, limit);
        json_t *j = tn_get_json(&N, path, TOK[who], &st);
        json_t *items = json_object_get(j, "items");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            if (n < cap)
                ids[n++] = json_integer_value(json_object_get(it, "id"));
        }
        long long next = json_integer_value(json_object_get(j, "next"));
        (void)max_visible_expected;
        /* The cursor is always an id the reader was shown (or the one it
         * gave): never the id of an item it may not see. */
        if (json_array_size(items) && next != ids[n - 1])
            *leaked_cursor = true;
        size_t got = json_array_size(items);
        json_decref(j);
        if (got < (size_t)limit)
            break;
        after = next;
    }
    return n;
}

static bool contains(const long long *ids, size_t n, long long id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* --- the leak test ------------------------------------------------------ */

#define NRANDOM 60
static const char *CLASSES[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET",
                                "TOP SECRET"};
static const char *NATIONS[] = {"JPN", "KOR", "AUS", "NZL", "FRA", "DNK", "CHE", "UKR", "GEO"};

static char *random_label(unsigned *seed)
{
    const char *cls = CLASSES[rand_r(seed) % 5];
    int kind = rand_r(seed) % 4; /* 0: NATO only, else releasable */
    char cats[512] = "";
    if (kind == 0) {
        snprintf(cats, sizeof cats, "{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}");
    } else {
        char nations[256] = "\"NATO\"";
        for (size_t i = 0; i < sizeof NATIONS / sizeof NATIONS[0]; i++)
            if (rand_r(seed) % 3 == 0) {
                strcat(nations, ",\"");
                strcat(nations, NATIONS[i]);
                strcat(nations, "\"");
            }
        snprintf(cats, sizeof cats,
                 "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
                 "{\"tagSet\":\"Releasable To\",\"values\":[%s]}", nations);
    }
    if (rand_r(seed) % 8 == 0)
        strcat(cats, ",{\"tagSet\":\"Additional Sensitivity\",\"values\":[\"ATOMAL\"]}");
    char *out = malloc(1024);
    snprintf(out, 1024, "{\"policy\":\"NATO\",\"classification\":\"%s\",\"categories\":[%s]}",
             cls, cats);
    return out;
}

static void test_leak(void)
{
    unsigned seed = 20261123;
    long long ids[NRANDOM];
    char *labels[NRANDOM];
    size_t n = 0;
    int refused = 0;
    for (int i = 0; i < NRANDOM; i++) {
        char *l = random_label(&seed);
        char body[128];
        snprintf(body, sizeof body, "leakprobe item %d", i);
        long st;
        long long id = post(INGRID, "science-for-peace", l, body, &st);
        if (id) {
            ids[n] = id;
            labels[n++] = l;
        } else {
            refused++;
            free(l);
        }
    }
    ok(n >= NRANDOM / 3, "leak_test_posted_enough_random_labels (%zu posted, %d invalid)", n,
       refused);

    for (int r = 0; r < NREADERS; r++) {
        long long seen[2048];
        bool leaked_cursor = false;
        size_t ns = list_all(r, "science-for-peace", 7, seen, 2048, &leaked_cursor, 0);
        int wrong_list = 0, wrong_get = 0, wrong_search = 0;
        for (size_t i = 0; i < n; i++) {
            bool want = expect_grant(labels[i], r);
            if (want != contains(seen, ns, ids[i]))
                wrong_list++;
            char path[64];
            snprintf(path, sizeof path, "/api/v1/items/%lld", ids[i]);
            http_result h;
            tn_http(&N, "GET", path, TOK[r], NULL, 0, &h);
            if ((h.status == 200) != want)
                wrong_get++;
            free(h.body);
        }
        /* Search: every visible leak probe, no invisible one. */
        long long found[2048];
        size_t nf = 0;
        long long after = 0;
        for (int pages = 0; pages < 100; pages++) {
            char path[128];
            long st;
            snprintf(path, sizeof path, "/api/v1/search?q=leakprobe&limit=50&after=%lld", after);
            json_t *j = tn_get_json(&N, path, TOK[r], &st);
            size_t i;
            json_t *it;
            json_array_foreach(json_object_get(j, "items"), i, it) {
                if (nf < 2048)
                    found[nf++] = json_integer_value(json_object_get(it, "id"));
            }
            size_t got = json_array_size(json_object_get(j, "items"));
            after = json_integer_value(json_object_get(j, "next"));
            json_decref(j);
            if (got < 50)
                break;
        }
        for (size_t i = 0; i < n; i++)
            if (expect_grant(labels[i], r) != contains(found, nf, ids[i]))
                wrong_search++;
        ok(wrong_list == 0 && !leaked_cursor,
           "leak_list_matches_engine_for_%s (%d wrong, cursor %s)", READERS[r], wrong_list,
           leaked_cursor ? "leaked" : "ok");
        ok(wrong_get == 0, "leak_get_matches_engine_for_%s (%d wrong)", READERS[r], wrong_get);
        ok(wrong_search == 0, "leak_search_matches_engine_for_%s (%d wrong)", READERS[r],
           wrong_search);
    }
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
}

/* --- fixed cases -------------------------------------------------------- */

static const char *NATO_ONLY =
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}";
static const char *REL_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}";
static const char *REL_FRA =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"FRA\"]}]}";

static void expect_error(const char *name, const char *method, const char *path,
                         const char *token, const char *body, size_t len, long status,
                         const char *code)
{
    http_result r;
    tn_http(&N, method, path, token, body, len, &r);
    json_t *j = json_loads(r.body, 0, NULL);
    const char *got = json_string_value(json_object_get(j, "error"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    ok(r.status == status && got && !strcmp(got, code) && msg && *msg,
       "%s (status %ld, error %s)", name, r.status, got ? got : "(none)");
    json_decref(j);
    free(r.body);
}

static void test_fixed(void)
{
    long st;
    json_t *me = tn_get_json(&N, "/api/v1/me", TOK[KENJI], &st);
    ok(st == 200 && !strcmp(json_string_value(json_object_get(me, "organisation")),
                            "Mission of Japan to NATO"),
       "me_names_the_caller_and_organisation");
    ok(json_string_value(json_object_get(me, "clearanceMarking")) &&
           strstr(json_string_value(json_object_get(me, "clearanceMarking")), "JPN"),
       "me_gives_the_clearance_marking");
    json_decref(me);

    json_t *pol = tn_get_json(&N, "/api/v1/policy", TOK[KENJI], &st);
    json_t *c0 = json_array_get(json_object_get(pol, "classifications"), 0);
    ok(st == 200 && json_string_value(json_object_get(c0, "background")) &&
           json_string_value(json_object_get(c0, "foreground")) &&
           json_string_value(json_object_get(c0, "markingFr")),
       "policy_lists_classifications_with_colours_and_french_marking");
    ok(json_array_size(json_object_get(pol, "tagSets")) >= 2,
       "policy_lists_category_tag_sets");
    /* The SPIF's requiredCategory rules, as docs/WEB.md gives them: Context
     * "Releasable" needs a nation (oneOrMore) and Releasable To NATO (all). */
    json_t *relreq = NULL;
    bool one_or_more = false, all_nato = false;
    { /* scan the tag sets for Context "Releasable" */
        size_t ti;
        json_t *ts;
        json_array_foreach(json_object_get(pol, "tagSets"), ti, ts) {
            size_t ci;
            json_t *cat;
            if (strcmp(json_string_value(json_object_get(ts, "name")), "Context") != 0)
                continue;
            json_array_foreach(json_object_get(ts, "categories"), ci, cat)
                if (!strcmp(json_string_value(json_object_get(cat, "name")), "Releasable"))
                    relreq = json_object_get(cat, "requires");
        }
        size_t ri;
        json_t *r;
        json_array_foreach(relreq, ri, r) {
            const char *op = json_string_value(json_object_get(r, "operation"));
            const char *tset = json_string_value(json_object_get(r, "tagSet"));
            json_t *lacv = json_object_get(r, "lacv");
            if (op && tset && !strcmp(tset, "Releasable To")) {
                one_or_more |= !strcmp(op, "oneOrMore") && json_is_null(lacv);
                all_nato |= !strcmp(op, "all") && json_integer_value(lacv) == 1001;
            }
        }
    }
    ok(json_array_size(relreq) == 2 && one_or_more && all_nato,
       "policy_exposes_requires_context_releasable_needs_a_nation_and_releasable_to_nato");
    json_decref(pol);

    long long secret = post(INGRID, "space", NATO_ONLY, "orbital nato only zebra", &st);
    ok(st == 201 && secret > 0, "nato_staff_posts_a_nato_only_item");
    long long jpn = post(INGRID, "space", REL_JPN, "orbital releasable to japan", &st);
    ok(st == 201 && jpn > 0, "nato_staff_posts_an_item_releasable_to_jpn");
    long long fra = post(INGRID, "space", REL_FRA, "orbital releasable to france", &st);
    ok(st == 201 && fra > 0, "nato_staff_posts_an_item_releasable_to_fra");

    /* Invisible answers exactly as missing. */
    char p1[64], p2[64];
    snprintf(p1, sizeof p1, "/api/v1/items/%lld", secret);
    snprintf(p2, sizeof p2, "/api/v1/items/%lld", secret + 1000000);
    http_result a, b;
    tn_http(&N, "GET", p1, TOK[KENJI], NULL, 0, &a);
    tn_http(&N, "GET", p2, TOK[KENJI], NULL, 0, &b);
    ok(a.status == 404 && b.status == 404 && a.len == b.len && !memcmp(a.body, b.body, a.len),
       "jpn_reader_gets_an_invisible_item_exactly_like_a_missing_one");
    ok(!strstr(a.body, "zebra") && !strstr(a.body, "SECRET"),
       "the_404_echoes_neither_content_nor_label");
    free(a.body);
    free(b.body);
    tn_http(&N, "GET", p1, TOK[INGRID], NULL, 0, &a);
    ok(a.status == 200 && strstr(a.body, "zebra"), "nato_staff_reads_the_nato_only_item");
    free(a.body);

    snprintf(p1, sizeof p1, "/api/v1/items/%lld", fra);
    tn_http(&N, "GET", p1, TOK[CLAIRE], NULL, 0, &a);
    ok(a.status == 200 && strstr(a.body, "Releasable to FRA"),
       "fra_reader_sees_an_item_releasable_to_fra");
    free(a.body);
    tn_http(&N, "GET", p1, TOK[KENJI], NULL, 0, &a);
    ok(a.status == 404, "jpn_reader_does_not_see_an_item_releasable_to_fra_only");
    free(a.body);

    /* The Japanese reader never sees a NATO-only item by any route. */
    long long seen[512];
    bool leaked = false;
    size_t ns = list_all(KENJI, "space", 2, seen, 512, &leaked, 0);
    ok(!contains(seen, ns, secret) && contains(seen, ns, jpn) && !leaked,
       "jpn_reader_does_not_see_nato_only_item_in_listing");
    json_t *s = tn_get_json(&N, "/api/v1/search?q=zebra", TOK[KENJI], &st);
    ok(st == 200 && json_array_size(json_object_get(s, "items")) == 0 &&
           json_integer_value(json_object_get(s, "count")) == 0,
       "jpn_reader_does_not_find_nato_only_item_by_search");
    json_decref(s);
    s = tn_get_json(&N, "/api/v1/search?q=zebra", TOK[INGRID], &st);
    ok(json_array_size(json_object_get(s, "items")) == 1, "nato_staff_finds_it_by_search");
    json_decref(s);

    /* Refusals. */
    post(KENJI, "space", NATO_ONLY, "above my clearance", &st);
    ok(st == 403, "post_above_own_clearance_is_403");
    http_result r;
    const char *inv = "{\"label\":{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\","
                      "\"categories\":[{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\"]}]},"
                      "\"body\":\"x\"}";
    tn_http(&N, "POST", "/api/v1/channels/space/items", TOK[INGRID], inv, strlen(inv), &r);
    ok(r.status == 422 && strstr(r.body, "\"invalid\"") && strstr(r.body, "requires"),
       "invalid_label_is_422_naming_the_rule");
    free(r.body);
    const char *unk = "{\"label\":{\"policy\":\"NATO\",\"classification\":\"ULTRA\"},\"body\":\"x\"}";
    expect_error("unknown_classification_is_422", "POST", "/api/v1/channels/space/items",
                 TOK[INGRID], unk, strlen(unk), 422, "invalid");
    expect_error("malformed_json_is_400", "POST", "/api/v1/channels/space/items", TOK[INGRID],
                 "{\"label\":", 9, 400, "malformed_json");
    expect_error("missing_body_is_400", "POST", "/api/v1/channels/space/items", TOK[INGRID],
                 "{\"label\":{}}", 12, 400, "bad_request");
    size_t big = 2u << 20;
    char *huge = malloc(big + 64);
    memset(huge, 'a', big + 64);
    memcpy(huge, "{\"label\":\"x\",\"body\":\"", 21);
    memcpy(huge + big + 60, "\"}", 3);
    expect_error("oversized_body_is_413", "POST", "/api/v1/channels/space/items", TOK[INGRID],
                 huge, big + 62, 413, "payload_too_large");
    free(huge);
    expect_error("unknown_channel_is_404", "GET", "/api/v1/channels/no-such/items", TOK[KENJI],
                 NULL, 0, 404, "not_found");
    char okpost[1024];
    snprintf(okpost, sizeof okpost, "{\"label\":%s,\"body\":\"x\"}", REL_JPN);
    expect_error("post_to_unknown_channel_is_404", "POST", "/api/v1/channels/no-such/items",
                 TOK[INGRID], okpost, strlen(okpost), 404, "not_found");
    expect_error("missing_token_is_401", "GET", "/api/v1/me", NULL, NULL, 0, 401,
                 "unauthorized");
    expect_error("wrong_token_is_401", "GET", "/api/v1/me",
                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, 0, 401, "unauthorized");

    char markreq[1024];
    snprintf(markreq, sizeof markreq, "{\"label\":%s}", REL_JPN);
    tn_http(&N, "POST", "/api/v1/labels/mark", TOK[KENJI], markreq, strlen(markreq), &r);
    ok(r.status == 200 && strstr(r.body, "NATO RESTRICTED Releasable to JPN") &&
           strstr(r.body, "Communicable"),
       "labels_mark_gives_english_and_french_markings");
    free(r.body);
    const char *badmark = "{\"label\":{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\","
                          "\"categories\":[{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\"]}]}}";
    tn_http(&N, "POST", "/api/v1/labels/mark", TOK[KENJI], badmark, strlen(badmark), &r);
    ok(r.status == 422 && strstr(r.body, "requires"), "labels_mark_refuses_an_invalid_label_naming_the_rule");
    free(r.body);

    /* A STANAG 4774 XML label, as a string. */
    const char *xml_post =
        "{\"label\":\"<originatorConfidentialityLabel "
        "xmlns='urn:nato:stanag:4774:confidentialitymetadatalabel:1:0'>"
        "<ConfidentialityInformation><PolicyIdentifier>NATO</PolicyIdentifier>"
        "<Classification>RESTRICTED</Classification>"
        "<Category TagName='Context' Type='PERMISSIVE'><GenericValue>NATO</GenericValue>"
        "<GenericValue>Releasable</GenericValue></Category>"
        "<Category TagName='Releasable To' Type='PERMISSIVE'><GenericValue>NATO</GenericValue>"
        "<GenericValue>JPN</GenericValue></Category>"
        "</ConfidentialityInformation></originatorConfidentialityLabel>\",\"body\":\"xml\"}";
    tn_http(&N, "POST", "/api/v1/channels/space/items", TOK[INGRID], xml_post,
            strlen(xml_post), &r);
    ok(r.status == 201 && strstr(r.body, "NATO RESTRICTED Releasable to JPN"),
       "a_4774_xml_label_string_is_accepted_and_marked (status %ld)", r.status);
    free(r.body);

    /* Labels posted before are remembered (post_label.c): the result must
     * be the same, and the author's own access check is still made. */
    tn_http(&N, "POST", "/api/v1/channels/space/items", TOK[INGRID], xml_post,
            strlen(xml_post), &r);
    ok(r.status == 201 && strstr(r.body, "NATO RESTRICTED Releasable to JPN"),
       "a_remembered_xml_label_is_marked_the_same (status %ld)", r.status);
    free(r.body);
    long long again = post(KENJI, "space", REL_JPN, "kenji reuses a remembered label", &st);
    ok(st == 201 && again > jpn, "a_remembered_label_within_the_authors_clearance_posts");
    post(KENJI, "space", NATO_ONLY, "still above my clearance", &st);
    ok(st == 403, "a_remembered_label_beyond_the_authors_clearance_is_still_403");
    tn_http(&N, "POST", "/api/v1/channels/space/items", TOK[INGRID], inv, strlen(inv), &r);
    ok(r.status == 422 && strstr(r.body, "requires"),
       "an_invalid_label_posted_again_is_again_422_naming_the_rule");
    free(r.body);
}

/* --- the stream --------------------------------------------------------- */

static int stream_open(int who, const char *channel, long long last_id)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)N.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char req[1024], last[64] = "";
    if (last_id >= 0)
        snprintf(last, sizeof last, "Last-Event-ID: %lld\r\n", last_id);
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/stream?channel=%s HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\n%sAccept: text/event-stream\r\n\r\n",
                     channel, TOK[who], last);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read from fd into acc until `want` appears or timeout_ms passes. */
static bool stream_until(int fd, char *acc, size_t cap, const char *want, int timeout_ms)
{
    size_t len = strlen(acc);
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if (strstr(acc, want))
            return true;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(fd, acc + len, cap - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        acc[len] = '\0';
    }
    return strstr(acc, want) != NULL;
}

static void test_stream(void)
{
    int fd = stream_open(KENJI, "maritime-security", -1);
    char acc[65536] = "";
    ok(fd >= 0 && stream_until(fd, acc, sizeof acc, "\r\n\r\n", 10000),
       "stream_opens_for_jpn_reader");
    usleep(300000);
    long st;
    long long hidden = post(INGRID, "maritime-security", NATO_ONLY, "periscope nato only", &st);
    long long shown = post(INGRID, "maritime-security", REL_JPN, "periscope for japan", &st);
    char want[64];
    snprintf(want, sizeof want, "id: %lld", shown);
    bool got = stream_until(fd, acc, sizeof acc, want, 20000);
    ok(got, "stream_delivers_a_visible_new_item");
    char unwanted[64];
    snprintf(unwanted, sizeof unwanted, "id: %lld\n", hidden);
    ok(got && !strstr(acc, unwanted) && !strstr(acc, "periscope nato only"),
       "stream_does_not_deliver_an_invisible_item");
    close(fd);

    /* Resume after the hidden one's predecessor: replay through the store
     * gives the visible item and not the hidden one. */
    fd = stream_open(KENJI, "maritime-security", hidden - 1);
    acc[0] = '\0';
    got = stream_until(fd, acc, sizeof acc, want, 20000);
    ok(got && !strstr(acc, unwanted) && !strstr(acc, "periscope nato only"),
       "stream_resumes_with_last_event_id_filtered_per_reader");
    close(fd);
}

/* Raw malformed HTTP bytes: the node answers or closes, and lives on. */
static void test_raw_bytes(void)
{
    static const char *junk[] = {
        "\x00\x01\x02\xff\xfe garbage\r\n\r\n",
        "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01\x02\r\n\r\n",
        "POST /api/v1/channels/space/items HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /api/v1/items/%00%ff/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
    };
    unsigned seed = 7;
    char random_bytes[4096];
    for (size_t i = 0; i < sizeof random_bytes; i++)
        random_bytes[i] = (char)(rand_r(&seed) & 0xff);
    for (size_t i = 0; i <= sizeof junk / sizeof junk[0]; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)N.port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            const char *b = i < sizeof junk / sizeof junk[0] ? junk[i] : random_bytes;
            size_t len = i < sizeof junk / sizeof junk[0] ? strlen(b) + (i == 0 ? 3 : 0)
                                                           : sizeof random_bytes;
            if (write(fd, b, len) < 0) {
                /* the node may close first: that is fine */
            }
            char sink[4096];
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            if (poll(&pf, 1, 2000) > 0 && read(fd, sink, sizeof sink) < 0) {
                /* closed */
            }
        }
        close(fd);
    }
    http_result r;
    tn_http(&N, "GET", "/healthz", NULL, NULL, 0, &r);
    ok(r.status == 200, "node_survives_raw_malformed_http_bytes");
    free(r.body);
    long st;
    json_t *j = tn_get_json(&N, "/api/v1/search?q=x&channel=no-such", TOK[KENJI], &st);
    ok(st == 404, "search_in_an_unknown_channel_is_404");
    json_decref(j);
}

static void test_web(void)
{
    http_result r;
    tn_http(&N, "GET", "/", NULL, NULL, 0, &r);
    ok(r.status == 200 && (strstr(r.body, "<html") || strstr(r.body, "<!doctype") ||
                           strstr(r.body, "<!DOCTYPE")),
       "the_web_page_is_served_at_root");
    free(r.body);
    tn_http(&N, "GET", "/js/api.js", NULL, NULL, 0, &r);
    ok(r.status == 200, "the_web_page_modules_are_served");
    free(r.body);
    tn_http(&N, "GET", "/js/..%2f..%2f..%2fpackage.json", NULL, NULL, 0, &r);
    ok(r.status == 404, "no_file_outside_the_web_directory_is_served");
    free(r.body);
    tn_http(&N, "GET", "/.hidden", NULL, NULL, 0, &r);
    ok(r.status == 404, "no_hidden_file_is_served");
    free(r.body);
}

static void test_metrics(void)
{
    http_result r;
    tn_http(&N, "GET", "/metrics", NULL, NULL, 0, &r);
    ok(r.status == 200 && strstr(r.body, "decision"), "metrics_count_decisions");
    free(r.body);
    tn_http(&N, "GET", "/healthz", NULL, NULL, 0, &r);
    ok(r.status == 200, "healthz_answers");
    free(r.body);
}

/* The node caches authenticated readers by token hash (auth.c): each token
 * must still act as exactly its own user, and a user added by the admin
 * verb while the node runs must be known at once (misses are not cached). */
static void test_reader_cache(const char *exe, const char *data)
{
    bool own = true;
    for (int round = 0; round < 3; round++) /* the later rounds hit the cache */
        for (int i = 0; i < NREADERS; i++) {
            long st;
            json_t *me = tn_get_json(&N, "/api/v1/me", TOK[i], &st);
            const char *name = json_string_value(json_object_get(me, "name"));
            own = own && st == 200 && name && strcmp(name, READERS[i]) == 0;
            json_decref(me);
        }
    ok(own, "each_token_acts_as_its_own_user_through_the_reader_cache");

    char *clr = NULL;
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(DEMO, "users"), i, u)
        if (!strcmp(json_string_value(json_object_get(u, "name")), READERS[KENJI]))
            clr = json_dumps(json_object_get(u, "clearance"), JSON_COMPACT);
    char cmd[4096], token[256] = "";
    snprintf(cmd, sizeof cmd,
             "'%s' user add cache-newcomer --data-dir '%s' --org 'Mission of Japan to NATO' "
             "--clearance '%s' 2>/dev/null", exe, data, clr ? clr : "{}");
    free(clr);
    FILE *f = popen(cmd, "r");
    if (f) {
        if (!fgets(token, sizeof token, f))
            token[0] = '\0';
        pclose(f);
    }
    token[strcspn(token, "\r\n")] = '\0';
    long st = 0;
    json_t *me = token[0] ? tn_get_json(&N, "/api/v1/me", token, &st) : NULL;
    const char *name = json_string_value(json_object_get(me, "name"));
    ok(st == 200 && name && !strcmp(name, "cache-newcomer"),
       "user_added_while_the_node_runs_is_known_at_once (status %ld)", st);
    json_decref(me);

    /* Known channels are remembered (channels.c), unknown ones are not. */
    long pst = 0;
    post(INGRID, "late-channel", REL_JPN, "too early", &pst);
    snprintf(cmd, sizeof cmd, "'%s' channel add late-channel --data-dir '%s' >/dev/null 2>&1",
             exe, data);
    int rc = system(cmd);
    long pst2 = 0;
    long long id = post(INGRID, "late-channel", REL_JPN, "just in time", &pst2);
    ok(pst == 404 && rc == 0 && pst2 == 201 && id > 0,
       "a_channel_added_while_the_node_runs_takes_posts_at_once (%ld then %ld)", pst, pst2);
    http_result r;
    char req[1024];
    snprintf(req, sizeof req, "{\"label\":%s,\"body\":\"answer shape\"}", REL_JPN);
    tn_http(&N, "POST", "/api/v1/channels/late-channel/items", TOK[INGRID], req, strlen(req),
            &r);
    json_t *a = json_loads(r.body, 0, NULL);
    const char *hash = json_string_value(json_object_get(a, "contentHash"));
    ok(r.status == 201 && json_integer_value(json_object_get(a, "id")) > id &&
           !strcmp(json_string_value(json_object_get(a, "channel")) ?: "", "late-channel") &&
           strstr(json_string_value(json_object_get(a, "marking")) ?: "", "JPN") &&
           json_string_value(json_object_get(a, "markingFr")) && hash && strlen(hash) == 64 &&
           json_object_size(a) == 5,
       "a_post_answers_id_channel_markings_and_content_hash");
    json_decref(a);
    free(r.body);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_node LIAISON_EXE DEMO_JSON\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
    lsn_policy *p = NULL;
    SET = lsn_policy_set_new();
    if (lsn_policy_load_default(&p, NULL) != LSN_OK || lsn_policy_set_add(SET, p, NULL) != LSN_OK)
        return 2;
    lsn_policy_unref(p);
    DEMO = json_load_file(argv[2], 0, NULL);
    char dir[] = "/tmp/liaison-test-node-XXXXXX";
    if (!DEMO || !mkdtemp(dir))
        return 2;
    char data[300];
    snprintf(data, sizeof data, "%s/data", dir);
    bool up = tn_start(&N, argv[1], data, "--threads 4");
    ok(up, "node_starts_with_demo_data");
    if (!up)
        return tap_done();
    for (int i = 0; i < NREADERS; i++) {
        TOK[i] = tn_token(&N, READERS[i]);
        CLR[i] = demo_clearance(READERS[i]);
    }
    ok(TOK[KENJI] && TOK[INGRID] && CLR[KENJI], "demo_credentials_hold_every_demo_user");

    test_fixed();
    test_reader_cache(argv[1], data);
    test_stream();
    test_leak();
    test_raw_bytes();
    test_web();
    test_metrics();

    int status = tn_stop(&N, SIGTERM);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sigterm_stops_the_node_with_exit_0");

    for (int i = 0; i < NREADERS; i++) {
        free(TOK[i]);
        lsn_clearance_free(CLR[i]);
    }
    json_decref(DEMO);
    lsn_policy_set_free(SET);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        ok(0, "cleanup");
    curl_global_cleanup();
    return tap_done();
}
