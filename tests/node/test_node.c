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
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
/* Items are named by their public UUIDs (strings). The tests keep a small
 * number per item, a "handle": the order in which the test first saw the
 * UUID (so the posts of the test have increasing handles), and map it back
 * to the UUID for paths and Last-Event-ID. A handle the test never saw
 * (an id that does not exist) maps to a UUID no item has. */
#define MAX_HANDLES 16384
static char handles[MAX_HANDLES][40];
static long long nhandles;

static long long handle_of(json_t *v)
{
    const char *u = json_string_value(v);
    if (!u || strlen(u) != 36)
        return 0;
    for (long long i = nhandles - 1; i >= 0; i--)
        if (strcmp(handles[i], u) == 0)
            return i + 1;
    if (nhandles == MAX_HANDLES)
        return 0;
    memcpy(handles[nhandles], u, 37);
    return ++nhandles;
}

static const char *uuid_of(long long h)
{
    static _Thread_local char unknown[40];
    if (h >= 1 && h <= nhandles)
        return handles[h - 1];
    snprintf(unknown, sizeof unknown, "00000000-0000-4000-8000-%012llx",
             (unsigned long long)h & 0xffffffffffffull);
    return unknown;
}

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
        id = handle_of(json_object_get(j, "id"));
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
    char after[128] = "";
    for (int pages = 0; pages < 1000; pages++) {
        char path[384];
        long st;
        snprintf(path, sizeof path, "/api/v1/channels/%s/items?after=%s&limit=%d", channel,
                 after, limit);
        json_t *j = tn_get_json(&N, path, TOK[who], &st);
        json_t *items = json_object_get(j, "items");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            if (n < cap)
                ids[n++] = handle_of(json_object_get(it, "id"));
        }
        const char *next = json_string_value(json_object_get(j, "next"));
        (void)max_visible_expected;
        /* The cursor is an opaque string, never an item's id. */
        if (json_array_size(items) && (!next || strlen(next) >= sizeof after ||
                                       strstr(next, uuid_of(ids[n - 1]))))
            *leaked_cursor = true;
        size_t got = json_array_size(items);
        if (next && strlen(next) < sizeof after)
            snprintf(after, sizeof after, "%s", next);
        json_decref(j);
        if (got < (size_t)limit)
            break;
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

/* The label one classification up (a narrowing), or NULL at the top. */
static char *bump_class(const char *label)
{
    for (size_t c = 0; c + 1 < sizeof CLASSES / sizeof CLASSES[0]; c++) {
        char from[64];
        snprintf(from, sizeof from, "\"classification\":\"%s\"", CLASSES[c]);
        const char *at = strstr(label, from);
        if (!at)
            continue;
        char *out = malloc(1100);
        snprintf(out, 1100, "%.*s\"classification\":\"%s\"%s", (int)(at - label), label,
                 CLASSES[c + 1], at + strlen(from));
        return out;
    }
    return NULL;
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
    /* Versions (docs/RELEASE.md): every third item narrowed by its author to
     * the next classification up — a new version under the same id, the
     * old one never served again. What follows checks every route against
     * the engine's decision on the current version's label. */
    int narrowed = 0;
    for (size_t i = 0; i < n; i += 3) {
        char *up = bump_class(labels[i]);
        if (!up)
            continue;
        char path[96], req[1200];
        snprintf(path, sizeof path, "/api/v1/items/%s/narrow", uuid_of(ids[i]));
        snprintf(req, sizeof req, "{\"label\":%s}", up);
        http_result h;
        tn_http(&N, "POST", path, TOK[INGRID], req, strlen(req), &h);
        if (h.status == 200) {
            free(labels[i]);
            labels[i] = up;
            narrowed++;
        } else {
            free(up);
        }
        free(h.body);
    }
    ok(narrowed >= 3, "leak_test_narrowed_items_to_new_versions (%d)", narrowed);

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
            snprintf(path, sizeof path, "/api/v1/items/%s", uuid_of(ids[i]));
            http_result h;
            tn_http(&N, "GET", path, TOK[r], NULL, 0, &h);
            if ((h.status == 200) != want)
                wrong_get++;
            free(h.body);
        }
        /* Search: every visible leak probe, no invisible one. */
        long long found[2048];
        size_t nf = 0;
        char after[128] = "";
        for (int pages = 0; pages < 100; pages++) {
            char path[256];
            long st;
            snprintf(path, sizeof path, "/api/v1/search?q=leakprobe&limit=50&after=%s", after);
            json_t *j = tn_get_json(&N, path, TOK[r], &st);
            size_t i;
            json_t *it;
            json_array_foreach(json_object_get(j, "items"), i, it) {
                if (nf < 2048)
                    found[nf++] = handle_of(json_object_get(it, "id"));
            }
            size_t got = json_array_size(json_object_get(j, "items"));
            const char *next = json_string_value(json_object_get(j, "next"));
            if (next && strlen(next) < sizeof after)
                snprintf(after, sizeof after, "%s", next);
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
    /* The node's default --body-limit (1 MiB), for a client to check a
     * post's size before sending it. */
    ok(json_integer_value(json_object_get(me, "bodyLimit")) == 1048576,
       "me_gives_the_body_limit");
    json_decref(me);

    json_t *pol = tn_get_json(&N, "/api/v1/policy", TOK[KENJI], &st);
    json_t *c0 = json_array_get(json_object_get(pol, "classifications"), 0);
    ok(st == 200 && json_string_value(json_object_get(c0, "background")) &&
           json_string_value(json_object_get(c0, "foreground")) &&
           json_string_value(json_object_get(c0, "markingFr")),
       "policy_lists_classifications_with_colours_and_french_marking");
    ok(json_array_size(json_object_get(pol, "tagSets")) >= 2,
       "policy_lists_category_tag_sets");
    /* A category's French phrase (the page names nations with it); none
     * for a category the policy gives no French phrase. */
    {
        const char *jpn_fr = NULL;
        bool nato_has_fr = true;
        size_t ti, ci;
        json_t *ts, *cat;
        json_array_foreach(json_object_get(pol, "tagSets"), ti, ts) {
            if (strcmp(json_string_value(json_object_get(ts, "name")), "Releasable To") != 0)
                continue;
            json_array_foreach(json_object_get(ts, "categories"), ci, cat) {
                const char *name = json_string_value(json_object_get(cat, "name"));
                if (!strcmp(name, "JPN"))
                    jpn_fr = json_string_value(json_object_get(cat, "markingFr"));
                if (!strcmp(name, "NATO"))
                    nato_has_fr = json_string_value(json_object_get(cat, "markingFr")) != NULL;
            }
        }
        ok(jpn_fr && !strcmp(jpn_fr, "Japon") && !nato_has_fr,
           "policy_gives_a_category_french_phrase_when_the_spif_has_one");
    }
    /* The policy's version and its named groups (the bundled policy's
     * memberships extension: AP4), for the picker's named releases. */
    {
        json_t *g0 = json_array_get(json_object_get(pol, "groups"), 0);
        json_t *vals = json_object_get(g0, "values");
        char got[64] = "";
        size_t vi;
        json_t *v;
        json_array_foreach(vals, vi, v) {
            strncat(got, json_string_value(v), sizeof got - strlen(got) - 2);
            strcat(got, " ");
        }
        const char *ver = json_string_value(json_object_get(pol, "version"));
        ok(ver && !strcmp(ver, "1") && json_array_size(json_object_get(pol, "groups")) == 1 &&
               !strcmp(json_string_value(json_object_get(g0, "name")), "AP4") &&
               !strcmp(json_string_value(json_object_get(g0, "tagSet")), "Releasable To") &&
               !strcmp(got, "AUS JPN KOR NZL "),
           "policy_gives_its_version_and_named_groups (%s)", got);
    }
    /* The SPIF's requiredCategory rules, as docs/WEB.md gives them: Context
     * "Releasable" needs a nation (oneOrMore) and Releasable To NATO (all). */
    json_t *relreq = NULL;
    bool one_or_more = false, all_nato = false, nato_alone_counts = false;
    size_t nations = 0, jpn_rule = 99, kor_rule = 98;
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
                bool oom = !strcmp(op, "oneOrMore");
                size_t rule = (size_t)json_integer_value(json_object_get(r, "rule"));
                one_or_more |= oom;
                nations += oom;
                nato_alone_counts |= oom && json_integer_value(lacv) == 1001;
                all_nato |= !strcmp(op, "all") && json_integer_value(lacv) == 1001;
                if (oom && json_integer_value(lacv) == 392)
                    jpn_rule = rule;
                if (oom && json_integer_value(lacv) == 410)
                    kor_rule = rule;
            }
        }
    }
    /* One oneOrMore rule over the nations (JPN and KOR in the same rule),
     * NATO not among them; and all of Releasable To NATO. */
    ok(one_or_more && nations > 30 && jpn_rule == kor_rule && !nato_alone_counts && all_nato &&
           json_array_size(relreq) == nations + 1,
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
    snprintf(p1, sizeof p1, "/api/v1/items/%s", uuid_of(secret));
    snprintf(p2, sizeof p2, "/api/v1/items/%s", uuid_of(secret + 1000000));
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
    /* Beside the markings, the portion form for compact listings. */
    {
        char pj[64];
        snprintf(pj, sizeof pj, "/api/v1/items/%s", uuid_of(jpn));
        json_t *it = tn_get_json(&N, pj, TOK[KENJI], &st);
        const char *pe = json_string_value(json_object_get(it, "portionMarking"));
        const char *pf = json_string_value(json_object_get(it, "portionMarkingFr"));
        ok(st == 200 && pe && pf && !strcmp(pe, "(NR REL TO JPN)") && !strcmp(pf, "(NDR REL TO JPN)"),
           "an_item_gives_its_portion_marking_in_english_and_french (%s, %s)", pe ? pe : "-",
           pf ? pf : "-");
        json_decref(it);
    }

    snprintf(p1, sizeof p1, "/api/v1/items/%s", uuid_of(fra));
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
    ok(r.status == 422 && strstr(r.body, "under NATO (OID 1.3.26.1.3.1"),
       "invalid_label_names_the_policy_it_was_judged_under");
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
    /* Straight to the node, not through the validating proxy: the node
     * answers 413 on the Content-Length and closes, and a proxy still
     * sending the body may get a reset that loses the answer. */
    test_node saved = N;
    N.port = N.node_port;
    expect_error("oversized_body_is_413", "POST", "/api/v1/channels/space/items", TOK[INGRID],
                 huge, big + 62, 413, "payload_too_large");
    N = saved;
    free(huge);
    expect_error("unknown_channel_is_404", "GET", "/api/v1/channels/no-such/items", TOK[KENJI],
                 NULL, 0, 404, "not_found");
    expect_error("stream_of_an_unknown_channel_is_404", "GET", "/api/v1/stream?channel=no-such",
                 TOK[KENJI], NULL, 0, 404, "not_found");
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
        snprintf(last, sizeof last, "Last-Event-ID: %s\r\n", uuid_of(last_id));
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
    /* Posted while no stream is open (the publisher then renders nothing
     * and moves past it): a client resuming from before it still gets it
     * from the replay. */
    long st0;
    long long early = post(INGRID, "maritime-security", REL_JPN, "buoy before any stream", &st0);
    usleep(300000);
    int fd = stream_open(KENJI, "maritime-security", early - 1);
    char acc[65536] = "";
    char early_id[64];
    snprintf(early_id, sizeof early_id, "id: %s\n", uuid_of(early));
    ok(fd >= 0 && stream_until(fd, acc, sizeof acc, early_id, 20000) &&
           strstr(acc, "buoy before any stream"),
       "an_item_posted_with_no_subscriber_is_replayed_to_a_resuming_one");
    if (fd >= 0)
        close(fd);

    fd = stream_open(KENJI, "maritime-security", -1);
    acc[0] = '\0';
    ok(fd >= 0 && stream_until(fd, acc, sizeof acc, "\r\n\r\n", 10000),
       "stream_opens_for_jpn_reader");
    usleep(300000);
    long st;
    long long hidden = post(INGRID, "maritime-security", NATO_ONLY, "periscope nato only", &st);
    long long shown = post(INGRID, "maritime-security", REL_JPN, "periscope for japan", &st);
    char want[64];
    snprintf(want, sizeof want, "id: %s", uuid_of(shown));
    bool got = stream_until(fd, acc, sizeof acc, want, 20000);
    ok(got, "stream_delivers_a_visible_new_item");
    char unwanted[64];
    snprintf(unwanted, sizeof unwanted, "id: %s\n", uuid_of(hidden));
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

/* --- attachments and the rendered-item cache ---------------------------- */

/* 9 bytes with a NUL, a CR and a LF in them, and their base64. */
static const unsigned char ATT_BYTES[] = {0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x0a, 0x0d, 0x41};
#define ATT_B64 "JVBERgD/Cg1B"

/* POST an item with an attachment; returns its id (0 on refusal). */
static long long post_attached(int who, const char *channel, const char *label,
                               const char *body, const char *media_type)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/channels/%s/items", channel);
    json_t *req = json_pack("{s:o, s:s, s:{s:s, s:s}}", "label", json_loads(label, 0, NULL),
                            "body", body, "attachment", "mediaType", media_type, "data",
                            ATT_B64);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    http_result r;
    tn_http(&N, "POST", path, TOK[who], text, strlen(text), &r);
    free(text);
    json_t *j = json_loads(r.body, 0, NULL);
    long long id = r.status == 201 ? handle_of(json_object_get(j, "id")) : 0;
    json_decref(j);
    free(r.body);
    return id;
}

/* A whole raw HTTP/1.1 exchange (Connection: close): status line, headers
 * and body into buf (NUL-terminated); the number of bytes read. */
static size_t raw_get(const char *path, int who, char *buf, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)N.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t len = 0;
    buf[0] = '\0';
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return 0;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                     "Connection: close\r\n\r\n", path, TOK[who]);
    if (write(fd, req, (size_t)n) == n) {
        for (int waited = 0; waited < 20000 && len < cap - 1;) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 100) <= 0) {
                waited += 100;
                continue;
            }
            ssize_t r = read(fd, buf + len, cap - 1 - len);
            if (r <= 0)
                break;
            len += (size_t)r;
        }
    }
    buf[len] = '\0';
    close(fd);
    return len;
}

/* The value of header `name` in a raw response (case-insensitive name),
 * copied into out; false if absent. */
static bool raw_header(const char *resp, const char *name, char *out, size_t cap)
{
    const char *end = strstr(resp, "\r\n\r\n");
    size_t nl = strlen(name);
    for (const char *l = strstr(resp, "\r\n"); l && end && l < end; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, name, nl) == 0 && l[2 + nl] == ':') {
            const char *v = l + 3 + nl;
            while (*v == ' ')
                v++;
            size_t k = strcspn(v, "\r\n");
            if (k >= cap)
                k = cap - 1;
            memcpy(out, v, k);
            out[k] = '\0';
            return true;
        }
    }
    return false;
}

/* The body of a raw response: after the blank line; its length in *len. */
static const char *raw_body(const char *resp, size_t total, size_t *len)
{
    const char *b = strstr(resp, "\r\n\r\n");
    if (!b) {
        *len = 0;
        return "";
    }
    b += 4;
    *len = total - (size_t)(b - resp);
    return b;
}

/* Find the item with this id in a page's items; NULL if absent. */
static json_t *page_item(json_t *page, long long id)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(page, "items"), i, it)
        if (handle_of(json_object_get(it, "id")) == id)
            return it;
    return NULL;
}

/* POST an item whose attachment has a file name: the status, and its id
 * into *id (0 on refusal). */
static long post_named(const char *file_name, long long *id)
{
    json_t *req = json_pack("{s:o, s:s, s:{s:s, s:s, s:s}}", "label",
                            json_loads(REL_JPN, 0, NULL), "body", "named attachment",
                            "attachment", "mediaType", "application/pdf", "data", ATT_B64,
                            "fileName", file_name);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    http_result r;
    tn_http(&N, "POST", "/api/v1/channels/climate-security/items", TOK[INGRID], text,
            strlen(text), &r);
    free(text);
    json_t *j = json_loads(r.body, 0, NULL);
    *id = r.status == 201 ? handle_of(json_object_get(j, "id")) : 0;
    json_decref(j);
    free(r.body);
    return r.status;
}

/* Attachments keep the file name they were posted with (issue 11): in the
 * item's JSON and as the download's name, percent-encoded (RFC 6266
 * filename*); a name that is a path or carries a control character is
 * refused. */
static void test_attachment_names(void)
{
    long long id = 0;
    const char *name = "Rapport d'\xc3\xa9tape \"v2\" 100%.pdf";
    ok(post_named(name, &id) == 201 && id > 0, "an_attachment_with_a_file_name_is_posted");
    long st;
    json_t *page = tn_get_json(&N, "/api/v1/channels/climate-security/items", TOK[KENJI], &st);
    json_t *att = json_object_get(page_item(page, id), "attachment");
    ok(st == 200 && att && json_string_value(json_object_get(att, "fileName")) &&
           !strcmp(json_string_value(json_object_get(att, "fileName")), name),
       "a_listing_gives_the_attachment_file_name");
    json_decref(page);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/items/%s", uuid_of(id));
    json_t *item = tn_get_json(&N, path, TOK[KENJI], &st);
    att = json_object_get(item, "attachment");
    ok(st == 200 && json_string_value(json_object_get(att, "fileName")) &&
           !strcmp(json_string_value(json_object_get(att, "fileName")), name),
       "a_fetch_gives_the_attachment_file_name");
    json_decref(item);

    static char resp[65536];
    char v[1024];
    snprintf(path, sizeof path, "/api/v1/items/%s/attachment", uuid_of(id));
    raw_get(path, KENJI, resp, sizeof resp);
    ok(raw_header(resp, "Content-Disposition", v, sizeof v) &&
           !strcmp(v, "attachment; filename=\"Rapport d'__tape _v2_ 100_.pdf\"; "
                      "filename*=UTF-8''Rapport%20d%27%C3%A9tape%20%22v2%22%20100%25.pdf"),
       "the_download_is_named_by_its_file_name_in_rfc_6266_form (%s)", v);

    /* An attachment posted without a name keeps its item-UUID name. */
    long long plain = post_attached(INGRID, "climate-security", REL_JPN, "unnamed", "text/plain");
    snprintf(path, sizeof path, "/api/v1/items/%s/attachment", uuid_of(plain));
    raw_get(path, KENJI, resp, sizeof resp);
    char want[128];
    snprintf(want, sizeof want, "attachment; filename=\"item-%s\"", uuid_of(plain));
    ok(raw_header(resp, "Content-Disposition", v, sizeof v) && !strcmp(v, want),
       "an_attachment_without_a_name_downloads_as_item_uuid (%s)", v);

    static const struct {
        const char *name, *why;
    } bad[] = {
        {"../../etc/passwd", "a_file_name_with_a_slash_is_refused"},
        {"..\\boot.ini", "a_file_name_with_a_backslash_is_refused"},
        {"..", "a_file_name_of_dot_dot_is_refused"},
        {"report\r\nSet-Cookie: x=y.pdf", "a_file_name_with_a_line_break_is_refused"},
        {"esc\x1b[31m.txt", "a_file_name_with_a_control_character_is_refused"},
        {"c1\xc2\x85.txt", "a_file_name_with_a_c1_control_is_refused"},
        {"", "an_empty_file_name_is_refused"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long got = post_named(bad[i].name, &id);
        ok(got == 400 && id == 0, "%s (%ld)", bad[i].why, got);
    }
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ok(post_named(longname, &id) == 400, "a_file_name_over_255_bytes_is_refused");
    longname[255] = '\0';
    ok(post_named(longname, &id) == 201, "a_file_name_of_255_bytes_is_kept");
}

static void test_attachments(void)
{
    long long pub = post_attached(INGRID, "climate-security", REL_JPN, "glacier survey",
                                  "application/pdf");
    long long sec = post_attached(INGRID, "climate-security", NATO_ONLY, "glacier secret",
                                  "application/pdf");
    ok(pub > 0 && sec > 0, "items_with_attachments_are_posted");

    /* Lists carry {mediaType, size}, never the bytes. */
    long st;
    json_t *page = tn_get_json(&N, "/api/v1/channels/climate-security/items", TOK[KENJI], &st);
    json_t *att = json_object_get(page_item(page, pub), "attachment");
    ok(st == 200 && att &&
           !strcmp(json_string_value(json_object_get(att, "mediaType")), "application/pdf") &&
           json_integer_value(json_object_get(att, "size")) == (json_int_t)sizeof ATT_BYTES &&
           !json_object_get(att, "data"),
       "a_listing_gives_the_attachment_media_type_and_size_without_data");
    json_decref(page);

    /* Fetch by id carries the data too. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/items/%s", uuid_of(pub));
    json_t *item = tn_get_json(&N, path, TOK[KENJI], &st);
    att = json_object_get(item, "attachment");
    ok(st == 200 && json_string_value(json_object_get(att, "data")) &&
           !strcmp(json_string_value(json_object_get(att, "data")), ATT_B64) &&
           json_integer_value(json_object_get(att, "size")) == (json_int_t)sizeof ATT_BYTES,
       "fetch_by_id_gives_the_attachment_data_in_base64");
    json_decref(item);

    /* The raw bytes, with their type, as a download, not sniffed. */
    static char resp[65536];
    char v[256];
    snprintf(path, sizeof path, "/api/v1/items/%s/attachment", uuid_of(pub));
    size_t total = raw_get(path, KENJI, resp, sizeof resp);
    size_t blen;
    const char *body = raw_body(resp, total, &blen);
    ok(!strncmp(resp, "HTTP/1.1 200", 12) && blen == sizeof ATT_BYTES &&
           !memcmp(body, ATT_BYTES, sizeof ATT_BYTES),
       "the_attachment_route_serves_the_raw_bytes");
    ok(raw_header(resp, "Content-Type", v, sizeof v) && !strcmp(v, "application/pdf"),
       "the_attachment_route_gives_the_media_type (%s)", v);
    ok(raw_header(resp, "Content-Disposition", v, sizeof v) && !strncmp(v, "attachment", 10),
       "the_attachment_route_answers_as_a_download");
    ok(raw_header(resp, "X-Content-Type-Options", v, sizeof v) && !strcmp(v, "nosniff"),
       "the_attachment_route_forbids_sniffing");

    /* Invisible: the same 404 as a missing item (and as the item route). */
    static char r1[8192], r2[8192];
    snprintf(path, sizeof path, "/api/v1/items/%s/attachment", uuid_of(sec));
    size_t n1 = raw_get(path, KENJI, r1, sizeof r1);
    snprintf(path, sizeof path, "/api/v1/items/%s/attachment", uuid_of(sec + 1000000));
    size_t n2 = raw_get(path, KENJI, r2, sizeof r2);
    size_t b1, b2;
    const char *x1 = raw_body(r1, n1, &b1), *x2 = raw_body(r2, n2, &b2);
    ok(!strncmp(r1, "HTTP/1.1 404", 12) && !strncmp(r2, "HTTP/1.1 404", 12) && b1 == b2 &&
           !memcmp(x1, x2, b1) && strstr(x1, "No such item."),
       "an_invisible_attachment_answers_exactly_like_a_missing_one");
    ok(!memmem(r1, n1, "application/pdf", 15) && !memmem(r1, n1, "glacier", 7),
       "the_invisible_attachment_404_echoes_nothing_of_it");
    snprintf(path, sizeof path, "/api/v1/items/%s/attachment", uuid_of(sec));
    total = raw_get(path, INGRID, resp, sizeof resp);
    body = raw_body(resp, total, &blen);
    ok(!strncmp(resp, "HTTP/1.1 200", 12) && blen == sizeof ATT_BYTES,
       "nato_staff_gets_the_nato_only_attachment");

    /* An item without attachment: 404 naming that, for one who sees it. */
    long long plain = post(INGRID, "climate-security", REL_JPN, "no attachment here", &st);
    snprintf(path, sizeof path, "/api/v1/items/%s/attachment", uuid_of(plain));
    item = tn_get_json(&N, path, TOK[KENJI], &st);
    ok(st == 404, "a_visible_item_without_attachment_has_no_attachment_route");
    json_decref(item);
}

/* Answers assembled from cached fragments are exactly what jansson renders
 * for the whole object: valid, compact, keys in order, one line. */
static bool rendered_by_jansson(const char *path, int who)
{
    http_result r;
    tn_http(&N, "GET", path, TOK[who], NULL, 0, &r);
    json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
    char *again = j ? json_dumps(j, JSON_COMPACT) : NULL;
    bool same = again && r.len == strlen(again) + 1 && !strncmp(r.body, again, r.len - 1) &&
                r.body[r.len - 1] == '\n';
    free(again);
    json_decref(j);
    free(r.body);
    return same;
}

static void test_answers_are_jansson_json(void)
{
    ok(rendered_by_jansson("/api/v1/channels/climate-security/items", INGRID) &&
           rendered_by_jansson("/api/v1/channels/climate-security/items?limit=1", KENJI) &&
           rendered_by_jansson("/api/v1/channels/counter-terrorism/items?limit=2", KENJI),
       "a_listing_is_the_compact_json_jansson_renders");
    ok(rendered_by_jansson("/api/v1/search?q=glacier", INGRID),
       "a_search_answer_is_the_compact_json_jansson_renders");
    long st;
    json_t *page = tn_get_json(&N, "/api/v1/channels/climate-security/items", TOK[INGRID], &st);
    bool all = st == 200 && json_array_size(json_object_get(page, "items")) > 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(page, "items"), i, it) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/items/%s", json_string_value(json_object_get(it, "id")));
        all = all && rendered_by_jansson(path, INGRID);
    }
    json_decref(page);
    ok(all, "an_item_answer_is_the_compact_json_jansson_renders (with and without attachment)");
}

/* The rendered-item cache holds text for whoever may see it: a reader who
 * may not see an item must still not see it, by any route, after one who
 * may has rendered (and cached) it by every route. */
static void test_cache_keeps_visibility(void)
{
    long st;
    long long sec = post(INGRID, "arms-control", NATO_ONLY, "quokka treaty nato only", &st);
    long long before = post(INGRID, "arms-control", REL_JPN, "quokka releasable", &st);
    ok(sec > 0 && before > 0, "cache_test_items_are_posted");
    char path[128];
    snprintf(path, sizeof path, "/api/v1/items/%s", uuid_of(sec));

    /* Warm every route as NATO staff. */
    json_t *j = tn_get_json(&N, path, TOK[INGRID], &st);
    bool warm = st == 200;
    json_decref(j);
    j = tn_get_json(&N, "/api/v1/channels/arms-control/items", TOK[INGRID], &st);
    warm = warm && page_item(j, sec);
    json_decref(j);
    j = tn_get_json(&N, "/api/v1/search?q=quokka", TOK[INGRID], &st);
    warm = warm && page_item(j, sec);
    json_decref(j);
    ok(warm, "nato_staff_sees_the_item_by_every_route_warming_the_cache");

    /* Then the Japanese reader, by every route. */
    http_result a, b;
    tn_http(&N, "GET", path, TOK[KENJI], NULL, 0, &a);
    snprintf(path, sizeof path, "/api/v1/items/%s", uuid_of(sec + 1000000));
    tn_http(&N, "GET", path, TOK[KENJI], NULL, 0, &b);
    ok(a.status == 404 && a.len == b.len && !memcmp(a.body, b.body, a.len),
       "jpn_reader_after_a_warm_cache_gets_the_nato_only_item_as_missing");
    free(a.body);
    free(b.body);
    j = tn_get_json(&N, "/api/v1/channels/arms-control/items", TOK[KENJI], &st);
    const char *nx = json_string_value(json_object_get(j, "next"));
    ok(st == 200 && !page_item(j, sec) && page_item(j, before) && nx &&
           !strstr(nx, uuid_of(sec)),
       "jpn_reader_after_a_warm_cache_does_not_list_the_nato_only_item");
    char q[300], cursor[128] = "";
    if (nx && strlen(nx) < sizeof cursor)
        snprintf(cursor, sizeof cursor, "%s", nx);
    json_decref(j);
    snprintf(q, sizeof q, "/api/v1/channels/arms-control/items?after=%s", cursor);
    j = tn_get_json(&N, q, TOK[KENJI], &st);
    nx = json_string_value(json_object_get(j, "next"));
    ok(st == 200 && json_integer_value(json_object_get(j, "count")) == 0 && nx &&
           strcmp(nx, cursor) == 0,
       "jpn_reader_after_a_warm_cache_pages_past_it_without_a_trace");
    json_decref(j);
    j = tn_get_json(&N, "/api/v1/search?q=quokka", TOK[KENJI], &st);
    ok(st == 200 && !page_item(j, sec) && json_integer_value(json_object_get(j, "count")) == 1,
       "jpn_reader_after_a_warm_cache_does_not_find_the_nato_only_item");
    json_decref(j);

    /* The stream's replay (the same cached text) filters it too. */
    int fd = stream_open(KENJI, "arms-control", sec - 1);
    char acc[65536] = "";
    long long after = post(INGRID, "arms-control", REL_JPN, "quokka after", &st);
    char want[64], unwanted[64];
    snprintf(want, sizeof want, "id: %s\n", uuid_of(after));
    snprintf(unwanted, sizeof unwanted, "id: %s\n", uuid_of(sec));
    bool got = fd >= 0 && stream_until(fd, acc, sizeof acc, want, 20000);
    ok(got && !strstr(acc, unwanted) && !strstr(acc, "treaty nato only"),
       "jpn_reader_after_a_warm_cache_does_not_get_it_from_the_stream");
    if (fd >= 0)
        close(fd);
}

/* An item's attachment rides the stream as {mediaType, size}, not bytes. */
/* The status and body of a stream request with this Last-Event-ID text
 * (raw), once the answer is whole; the body into out. */
static long stream_refusal(int who, const char *lei, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)N.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    out[0] = '\0';
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Bearer %s\r\nLast-Event-ID: %s\r\n"
                     "Accept: text/event-stream\r\n\r\n", TOK[who], lei);
    char acc[8192] = "";
    long status = -1;
    if (write(fd, req, (size_t)n) == n && stream_until(fd, acc, sizeof acc, "}\n", 5000)) {
        status = strtol(acc + 9, NULL, 10);
        const char *body = strstr(acc, "\r\n\r\n");
        snprintf(out, cap, "%s", body ? body + 4 : "");
    }
    close(fd);
    return status;
}

/* Issue 8: ids and cursors tell nothing; issue 9: the small ones. */
static void test_ids_and_cursors(void)
{
    long st;
    http_result a, b, c;
    /* limit=0 is below the API's minimum. */
    tn_http(&N, "GET", "/api/v1/channels/space/items?limit=0", TOK[KENJI], NULL, 0, &a);
    ok(a.status == 400, "limit_0_is_400 (%ld)", a.status);
    free(a.body);
    tn_http(&N, "GET", "/api/v1/search?q=orbital&limit=0", TOK[KENJI], NULL, 0, &a);
    ok(a.status == 400, "search_limit_0_is_400 (%ld)", a.status);
    free(a.body);
    /* A search for white space is the client's error, not the node's. */
    tn_http(&N, "GET", "/api/v1/search?q=%20%09%20", TOK[KENJI], NULL, 0, &a);
    ok(a.status == 400, "a_search_for_white_space_is_400 (%ld)", a.status);
    free(a.body);
    /* q is limited in characters: 512 two-byte characters are allowed. */
    char q[8192] = "/api/v1/search?q=";
    for (int i = 0; i < 512; i++)
        strcat(q, "%C3%A9");
    tn_http(&N, "GET", q, TOK[KENJI], NULL, 0, &a);
    strcat(q, "%C3%A9");
    tn_http(&N, "GET", q, TOK[KENJI], NULL, 0, &b);
    ok(a.status == 200 && b.status == 400,
       "q_is_limited_in_characters_not_bytes (512: %ld, 513: %ld)", a.status, b.status);
    free(a.body);
    free(b.body);

    /* Ids are UUID strings. */
    long long vis_a = post(INGRID, "women-peace-security", REL_JPN, "wombat visible one", &st);
    json_t *j = tn_get_json(&N, "/api/v1/channels/women-peace-security/items", TOK[KENJI], &st);
    const char *id0 = json_string_value(json_object_get(json_array_get(
        json_object_get(j, "items"), 0), "id"));
    ok(vis_a > 0 && id0 && strlen(id0) == 36 && id0[14] == '7', "item_ids_are_uuid_strings");
    json_decref(j);

    /* A reader's answers do not change when items it may not see are
     * added: its listing, byte for byte, and the cursor after an item. */
    http_result l1, l2, p1, p2;
    tn_http(&N, "GET", "/api/v1/channels/women-peace-security/items", TOK[KENJI], NULL, 0, &l1);
    tn_http(&N, "GET", "/api/v1/channels/women-peace-security/items?limit=1", TOK[KENJI], NULL,
            0, &p1);
    for (int i = 0; i < 5; i++)
        post(INGRID, "women-peace-security", NATO_ONLY, "wombat nato only", &st);
    tn_http(&N, "GET", "/api/v1/channels/women-peace-security/items", TOK[KENJI], NULL, 0, &l2);
    long long vis_b = post(INGRID, "women-peace-security", REL_JPN, "wombat visible two", &st);
    tn_http(&N, "GET", "/api/v1/channels/women-peace-security/items?limit=1", TOK[KENJI], NULL,
            0, &p2);
    ok(l1.status == 200 && l1.len == l2.len && !memcmp(l1.body, l2.body, l1.len),
       "a_listing_is_byte_identical_after_invisible_items_are_added");
    ok(p1.status == 200 && p1.len == p2.len && !memcmp(p1.body, p2.body, p1.len),
       "a_page_and_its_cursor_are_byte_identical_with_invisible_items_between");
    /* Paging on from the cursor gives the next visible item, next to it. */
    json_t *pj = json_loads(l2.body, 0, NULL);
    char cur[128] = "", path[512];
    const char *nx = json_string_value(json_object_get(pj, "next"));
    if (nx && strlen(nx) < sizeof cur)
        snprintf(cur, sizeof cur, "%s", nx);
    json_decref(pj);
    snprintf(path, sizeof path, "/api/v1/channels/women-peace-security/items?after=%s", cur);
    j = tn_get_json(&N, path, TOK[KENJI], &st);
    ok(st == 200 && json_integer_value(json_object_get(j, "count")) == 1 &&
           handle_of(json_object_get(json_array_get(json_object_get(j, "items"), 0), "id")) ==
               vis_b,
       "the_cursor_resumes_at_the_next_visible_item");
    json_decref(j);
    free(l1.body);
    free(l2.body);
    free(p1.body);
    free(p2.body);

    /* A forged cursor, another reader's, and a malformed one: one answer. */
    snprintf(path, sizeof path, "/api/v1/channels/women-peace-security/items?after=%s", cur);
    tn_http(&N, "GET", path, TOK[MARCO], NULL, 0, &a);
    char forged[128];
    snprintf(forged, sizeof forged, "%s", cur);
    forged[10] = forged[10] == 'A' ? 'B' : 'A';
    snprintf(path, sizeof path, "/api/v1/channels/women-peace-security/items?after=%s", forged);
    tn_http(&N, "GET", path, TOK[KENJI], NULL, 0, &b);
    tn_http(&N, "GET", "/api/v1/channels/women-peace-security/items?after=42", TOK[KENJI],
            NULL, 0, &c);
    ok(a.status == 400 && b.status == 400 && c.status == 400 && a.len == b.len &&
           b.len == c.len && !memcmp(a.body, b.body, a.len) && !memcmp(b.body, c.body, b.len),
       "another_readers_or_a_forged_cursor_is_refused_like_a_malformed_one (%ld %ld %ld)",
       a.status, b.status, c.status);
    free(a.body);
    free(b.body);
    free(c.body);
    /* A listing cursor is not a search cursor. */
    snprintf(path, sizeof path, "/api/v1/search?q=wombat&after=%s", cur);
    tn_http(&N, "GET", path, TOK[KENJI], NULL, 0, &a);
    ok(a.status == 400, "a_listing_cursor_is_refused_by_search");
    free(a.body);

    /* Last-Event-ID: an item the reader may not see, one that does not
     * exist and a malformed one are refused alike; a visible one resumes. */
    long long hidden = post(INGRID, "women-peace-security", NATO_ONLY, "wombat hidden", &st);
    char r1[1024], r2[1024], r3[1024];
    long s1 = stream_refusal(KENJI, uuid_of(hidden), r1, sizeof r1);
    long s2 = stream_refusal(KENJI, uuid_of(99999999), r2, sizeof r2);
    long s3 = stream_refusal(KENJI, "999999999999", r3, sizeof r3);
    ok(s1 == 400 && s2 == 400 && s3 == 400 && !strcmp(r1, r2) && !strcmp(r2, r3),
       "a_last_event_id_unknown_invisible_or_malformed_is_refused_alike (%ld %ld %ld)", s1,
       s2, s3);
    int fd = stream_open(KENJI, "women-peace-security", vis_a);
    char acc[65536] = "", want[64];
    snprintf(want, sizeof want, "id: %s\n", uuid_of(vis_b));
    ok(fd >= 0 && stream_until(fd, acc, sizeof acc, want, 20000) && !strstr(acc, "nato only"),
       "a_visible_last_event_id_resumes_after_it");
    if (fd >= 0)
        close(fd);
}

/* Issue 9 item 6: a page's bytes are bounded (a few MiB): a listing of
 * large items ends early with a cursor, and paging on reaches them all. */
static void test_page_bytes_bounded(void)
{
    enum { BIG = 6, BODY = 900000 };
    char *body = malloc(BODY + 1);
    long long ids[BIG];
    long st;
    memset(body, 'a', BODY);
    body[BODY] = '\0';
    bool posted = true;
    for (int i = 0; i < BIG; i++) {
        body[0] = (char)('b' + i);
        posted = posted && (ids[i] = post(INGRID, "political-consultations", REL_JPN, body, &st)) > 0;
    }
    free(body);
    ok(posted, "large_items_are_posted");
    http_result r;
    tn_http(&N, "GET", "/api/v1/channels/political-consultations/items?limit=1000", TOK[KENJI],
            NULL, 0, &r);
    json_t *j = json_loads(r.body ? r.body : "", 0, NULL);
    size_t count = json_array_size(json_object_get(j, "items"));
    ok(r.status == 200 && r.len <= (4u << 20) && count >= 1 && count < 1000 &&
           json_is_string(json_object_get(j, "next")),
       "a_page_of_large_items_ends_early_within_4_MiB_with_a_cursor (%zu bytes, %zu items)",
       r.len, count);
    free(r.body);
    /* Paging on from each cursor reaches every large item once. */
    int found = 0, pages = 0;
    char cur[128] = "";
    for (; pages < 20 && j; pages++) {
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(j, "items"), i, it) {
            long long h = handle_of(json_object_get(it, "id"));
            for (int k = 0; k < BIG; k++)
                found += h == ids[k];
        }
        const char *nx = json_string_value(json_object_get(j, "next"));
        bool more = json_array_size(json_object_get(j, "items")) > 0 && nx &&
                    strlen(nx) < sizeof cur;
        if (more)
            snprintf(cur, sizeof cur, "%s", nx);
        json_decref(j);
        j = NULL;
        if (!more)
            break;
        char path[300];
        snprintf(path, sizeof path,
                 "/api/v1/channels/political-consultations/items?limit=1000&after=%s", cur);
        j = tn_get_json(&N, path, TOK[KENJI], &st);
    }
    json_decref(j);
    ok(found == BIG, "paging_on_reaches_every_large_item_once (%d of %d)", found, BIG);
}

static void test_stream_attachment(void)
{
    int fd = stream_open(KENJI, "emergency-management", -1);
    char acc[65536] = "";
    ok(fd >= 0 && stream_until(fd, acc, sizeof acc, "\r\n\r\n", 10000),
       "stream_opens_for_the_attachment_case");
    usleep(300000);
    long long id = post_attached(INGRID, "emergency-management", REL_JPN, "evacuation map",
                                 "image/png");
    char want[64];
    snprintf(want, sizeof want, "id: %s\n", uuid_of(id));
    bool got = stream_until(fd, acc, sizeof acc, "evacuation map", 20000);
    ok(got && strstr(acc, want) && strstr(acc, "\"mediaType\":\"image/png\"") &&
           strstr(acc, "\"size\":9") && !strstr(acc, ATT_B64),
       "a_stream_event_gives_the_attachment_media_type_and_size_without_data");
    if (fd >= 0)
        close(fd);
}

/* Raw malformed HTTP bytes: the node answers or closes, and lives on. Sent
 * to the node itself, not through the validating proxy (which would refuse
 * them on its own). */
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
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)N.node_port)};
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
    /* The operator's named releases, a JSON file beside the page. */
    tn_http(&N, "GET", "/presets.json", NULL, NULL, 0, &r);
    json_t *pj = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
    ok(json_is_array(json_object_get(pj, "presets")), "the_page_presets_json_is_served");
    json_decref(pj);
    free(r.body);
}

/* The number after `name ` (a Prometheus sample line) in text, or -1. */
static long long sample(const char *text, const char *name)
{
    const char *p = text ? strstr(text, name) : NULL;
    return p ? strtoll(p + strlen(name), NULL, 10) : -1;
}

/* Issue 9, item 1: /metrics was on the API's port, without a token, and its
 * denied-decision counter moved for an item the caller may not see but not
 * for one that does not exist. Now the metrics are on their own listener;
 * nothing a reader can fetch changes when the node decides on an item the
 * reader may not see. */
static void test_metrics(void)
{
    static const char *const paths[] = {"/metrics", "/healthz", "/api/v1/me",
                                        "/api/v1/channels", "/api/v1/policy"};
    enum { NP = sizeof paths / sizeof paths[0] };
    http_result before[NP], after[NP], r;
    for (size_t i = 0; i < NP; i++)
        tn_http(&N, "GET", paths[i], i ? TOK[KENJI] : NULL, NULL, 0, &before[i]);
    ok(before[0].status == 404 && !strstr(before[0].body, "liaison_"),
       "metrics_are_404_on_the_api_port_like_any_unknown_path");

    test_node M = N;
    M.port = N.metrics_port;
    tn_http(&M, "GET", "/metrics", NULL, NULL, 0, &r);
    const char *denied = "liaison_decisions_total{decision=\"denied\"} ";
    long long d0 = sample(r.body, denied);
    ok(N.metrics_port > 0 && r.status == 200 && d0 >= 0, "metrics_listener_counts_decisions");
    free(r.body);

    /* Kenji (Japan) asks for an item he may not see: 404, and he is then
     * refused a post beyond his clearance — a denied decision (reads of
     * invisible items decide nothing: the visible classes are cached). */
    long st;
    long long hidden = post(INGRID, "space", NATO_ONLY, "metrics oracle probe", &st);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/items/%s", uuid_of(hidden));
    tn_http(&N, "GET", path, TOK[KENJI], NULL, 0, &r);
    long hidden_status = r.status;
    free(r.body);
    long refused_status;
    (void)post(KENJI, "space", NATO_ONLY, "beyond his clearance", &refused_status);
    tn_http(&M, "GET", "/metrics", NULL, NULL, 0, &r);
    long long d1 = sample(r.body, denied);
    free(r.body);
    ok(hidden > 0 && hidden_status == 404 && refused_status == 403 && d1 > d0,
       "a_denied_decision_moves_the_counter_on_the_metrics_listener (%lld -> %lld)", d0, d1);

    bool same = true;
    for (size_t i = 0; i < NP; i++) {
        tn_http(&N, "GET", paths[i], i ? TOK[KENJI] : NULL, NULL, 0, &after[i]);
        if (after[i].status != before[i].status || !before[i].body || !after[i].body ||
            strcmp(after[i].body, before[i].body) != 0) {
            printf("# %s changed: %ld -> %ld\n", paths[i], before[i].status, after[i].status);
            same = false;
        }
        free(before[i].body);
        free(after[i].body);
    }
    ok(same, "nothing_a_reader_fetches_moves_with_a_denied_decision");

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
             "'%s' user add cache-newcomer --data-dir '%s'%s --org 'Mission of Japan to NATO' "
             "--clearance '%s' 2>/dev/null", exe, data, tn_store_flag(), clr ? clr : "{}");
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
    snprintf(cmd, sizeof cmd, "'%s' channel add late-channel --data-dir '%s'%s >/dev/null 2>&1",
             exe, data, tn_store_flag());
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
    ok(r.status == 201 && handle_of(json_object_get(a, "id")) > id &&
           !strcmp(json_string_value(json_object_get(a, "channel")) ?: "", "late-channel") &&
           strstr(json_string_value(json_object_get(a, "marking")) ?: "", "JPN") &&
           json_string_value(json_object_get(a, "markingFr")) && hash && strlen(hash) == 64 &&
           json_object_size(a) == 5,
       "a_post_answers_id_channel_markings_and_content_hash");
    json_decref(a);
    free(r.body);
}

/* --- the signed binding (issue 10) -------------------------------------- */

/* Write len bytes to path; false on failure. */
static bool write_file(const char *path, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool good = fwrite(bytes, 1, len, f) == len;
    return fclose(f) == 0 && good;
}

/* Run `EXE binding verify XML --certificate DATA/node.crt --content BODY`;
 * its exit status, its output in out. */
static int verify_binding(const char *exe, const char *data, const char *xml,
                          const char *body, char *out, size_t cap)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "'%s' binding verify '%s' --certificate '%s/node.crt' "
             "--content '%s' 2>&1", exe, xml, data, body);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_bindings(const char *exe, const char *data)
{
    long st1, st2;
    const char *text = "binding briefing, Tokyo";
    /* The visible one last: the next test resumes a stream after it. */
    long long sec = post(INGRID, "climate-security", NATO_ONLY, "binding secret", &st2);
    long long pub = post(INGRID, "climate-security", REL_JPN, text, &st1);
    ok(pub > 0 && sec > 0, "items_to_bind_are_posted");

    char path[128], xml[400], body[400], out[2048];
    snprintf(path, sizeof path, "/api/v1/items/%s/binding", uuid_of(pub));
    static char resp[65536];
    size_t total = raw_get(path, KENJI, resp, sizeof resp);
    size_t blen;
    const char *b = raw_body(resp, total, &blen);
    char v[256] = "";
    ok(!strncmp(resp, "HTTP/1.1 200", 12) && raw_header(resp, "Content-Type", v, sizeof v) &&
           !strncmp(v, "application/xml", 15) && blen > 0 &&
           memmem(b, blen, "urn:nato:stanag:4778:bindinginformation:1:0", 43),
       "a_reader_who_sees_the_item_gets_its_signed_binding_as_xml");
    /* No peers: it was signed at that first request, and kept. */
    static char again[65536];
    size_t total2 = raw_get(path, KENJI, again, sizeof again);
    size_t blen2;
    const char *bb = raw_body(again, total2, &blen2);
    ok(!strncmp(again, "HTTP/1.1 200", 12) && blen2 == blen && !memcmp(b, bb, blen),
       "a_second_request_gets_the_same_binding_bytes");
    snprintf(xml, sizeof xml, "%s/../binding.xml", data);
    snprintf(body, sizeof body, "%s/../binding-body.txt", data);
    bool files = write_file(xml, b, blen) && write_file(body, text, strlen(text));
    int rc = files ? verify_binding(exe, data, xml, body, out, sizeof out) : -1;
    ok(rc == 0 && strstr(out, "verified") && strstr(out, uuid_of(pub)) &&
           strstr(out, "content: matches the signed digest") &&
           strstr(out, "marking: NATO RESTRICTED Releasable to JPN"),
       "the_served_binding_verifies_offline_against_the_nodes_certificate (%d)", rc);
    ok(rc == 0 && strstr(out, "\nchannel: climate-security\n"),
       "binding_verify_shows_the_channel_the_node_signed (%d)", rc);

    /* One byte of the label changed: refused. */
    char *jpn = files ? memmem(b, blen, "<GenericValue>JPN</GenericValue>", 32) : NULL;
    if (jpn) {
        memcpy(jpn + 14, "KOR", 3);
        files = write_file(xml, b, blen);
    }
    rc = jpn && files ? verify_binding(exe, data, xml, body, out, sizeof out) : -1;
    ok(rc == 1 && strstr(out, "refused"), "an_altered_served_binding_is_refused (%d)", rc);

    /* Invisible: the same 404 as a missing item, byte for byte. */
    static char r1[8192], r2[8192];
    snprintf(path, sizeof path, "/api/v1/items/%s/binding", uuid_of(sec));
    size_t n1 = raw_get(path, KENJI, r1, sizeof r1);
    snprintf(path, sizeof path, "/api/v1/items/%s/binding", uuid_of(sec + 1000000));
    size_t n2 = raw_get(path, KENJI, r2, sizeof r2);
    size_t b1, b2;
    const char *x1 = raw_body(r1, n1, &b1), *x2 = raw_body(r2, n2, &b2);
    ok(!strncmp(r1, "HTTP/1.1 404", 12) && !strncmp(r2, "HTTP/1.1 404", 12) && b1 == b2 &&
           !memcmp(x1, x2, b1) && strstr(x1, "No such item.") &&
           !memmem(r1, n1, "4778", 4),
       "an_invisible_items_binding_answers_exactly_like_a_missing_one");
    snprintf(path, sizeof path, "/api/v1/items/%s/binding", uuid_of(sec));
    total = raw_get(path, INGRID, resp, sizeof resp);
    ok(!strncmp(resp, "HTTP/1.1 200", 12), "nato_staff_gets_the_nato_only_items_binding");
}

/* --- peers through the API (issue 10) ----------------------------------- */

static json_t *peers_of(int who, long *st)
{
    return tn_get_json(&N, "/api/v1/peers", TOK[who], st);
}

static void test_peers_api(const char *exe, const char *data)
{
    char cmd[1200], crt[400];
    snprintf(cmd, sizeof cmd, "'%s' node init --data-dir '%s/../jpn-node' --name 'JPN MOD' "
             "--nation JPN >/dev/null", exe, data);
    snprintf(crt, sizeof crt, "%s/../jpn-node/node.crt", data);
    FILE *f = system(cmd) == 0 ? fopen(crt, "rb") : NULL;
    static char pem[8192];
    size_t pl = f ? fread(pem, 1, sizeof pem - 1, f) : 0;
    if (f)
        fclose(f);
    pem[pl] = '\0';
    ok(pl > 0, "a_peer_certificate_is_made");

    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", "JPN MOD", "url",
                            "https://127.0.0.1:9001", "nation", "JPN", "certificate", pem,
                            "maxClassification", "SECRET");
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    http_result r;
    tn_http(&N, "POST", "/api/v1/peers", TOK[KENJI], text, strlen(text), &r);
    ok(r.status == 403, "a_member_may_not_add_a_peer (%ld)", r.status);
    free(r.body);
    tn_http(&N, "POST", "/api/v1/peers", TOK[MARCO], text, strlen(text), &r);
    json_t *j = json_loads(r.body, 0, NULL);
    ok(r.status == 201 && !strcmp(json_string_value(json_object_get(j, "name")), "JPN MOD") &&
           !strcmp(json_string_value(json_object_get(j, "state")), "new") &&
           json_integer_value(json_object_get(j, "waiting")) == 0 &&
           json_string_value(json_object_get(j, "fingerprint")) &&
           !strcmp(json_string_value(json_object_get(j, "policy")) ?: "", "1.3.26.1.3.1") &&
           !strcmp(json_string_value(json_object_get(j, "policyName")) ?: "", "NATO"),
       "an_administrator_adds_a_peer_under_the_nodes_own_policy (%ld)", r.status);
    json_decref(j);
    free(r.body);
    tn_http(&N, "POST", "/api/v1/peers", TOK[MARCO], text, strlen(text), &r);
    ok(r.status == 409, "a_peer_is_added_once (%ld)", r.status);
    free(r.body);
    free(text);
    /* A peer's policy must be one the node holds. */
    req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", "JPN MOD", "url",
                    "https://127.0.0.1:9001", "nation", "JPN", "certificate", pem, "policy",
                    "1.2.3.4");
    text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    tn_http(&N, "POST", "/api/v1/peers", TOK[MARCO], text, strlen(text), &r);
    ok(r.status == 422 && strstr(r.body, "not one this node holds"),
       "a_peer_under_a_policy_the_node_does_not_hold_is_refused (%ld)", r.status);
    free(r.body);
    free(text);

    /* From now on, what the guard releases to JPN waits in its outbox. */
    long st1, st2;
    long long to_jpn = post(INGRID, "space", REL_JPN, "for the peer", &st1);
    long long nato = post(INGRID, "space", NATO_ONLY, "not for the peer", &st2);
    long st;
    j = peers_of(MARCO, &st);
    json_t *p0 = json_array_get(json_object_get(j, "peers"), 0);
    ok(to_jpn > 0 && nato > 0 && st == 200 &&
           json_array_size(json_object_get(j, "peers")) == 1 &&
           json_integer_value(json_object_get(p0, "waiting")) == 1 &&
           json_integer_value(json_object_get(p0, "lastAcknowledged")) == 0,
       "a_post_releasable_to_the_peer_waits_in_its_outbox_and_a_nato_only_one_does_not");
    json_decref(j);
    j = peers_of(KENJI, &st);
    ok(st == 403, "a_member_may_not_list_the_peers (%ld)", st);
    json_decref(j);
}

/* Issue 11: the node's access log (--access-log, written through the
 * run above): one JSON line per answered request, the route's pattern and
 * the reader's name; never an item id from a path, never a token. */
static void test_access_log(const char *dir)
{
    char path[400];
    snprintf(path, sizeof path, "%s/access.log", dir);
    FILE *f = fopen(path, "r");
    ok(f != NULL, "access_log_file_exists");
    if (!f)
        return;
    static char line[8192];
    int lines = 0, valid = 0, raw_paths = 0, tokens = 0;
    bool item_line = false, stream_line = false;
    while (fgets(line, sizeof line, f)) {
        lines++;
        for (int i = 0; i < NREADERS; i++)
            if (TOK[i] && strstr(line, TOK[i]))
                tokens++;
        json_t *j = json_loads(line, 0, NULL);
        const char *route = json_string_value(json_object_get(j, "route"));
        const char *user = json_string_value(json_object_get(j, "user"));
        if (j && json_object_size(j) == 8 && json_is_string(json_object_get(j, "time")) &&
            json_is_integer(json_object_get(j, "status")) &&
            json_is_string(json_object_get(j, "method")))
            valid++;
        const char *items = strstr(line, "/api/v1/items/");
        if (items && items[14] != '{')
            raw_paths++;
        if (route && strcmp(route, "/api/v1/items/{id}") == 0 && user &&
            json_integer_value(json_object_get(j, "status")) == 200)
            item_line = true;
        if (route && strcmp(route, "/api/v1/stream") == 0 && user)
            stream_line = true;
        json_decref(j);
    }
    fclose(f);
    ok(lines > 50 && valid == lines, "node_access_log_is_one_json_object_per_line (%d/%d)",
       valid, lines);
    ok(item_line && stream_line, "node_access_log_names_the_route_pattern_and_the_reader");
    ok(raw_paths == 0 && tokens == 0, "node_access_log_holds_no_item_path_and_no_token (%d, %d)",
       raw_paths, tokens);
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
    char extra[400];
    snprintf(extra, sizeof extra, "--threads 4 --access-log %s/access.log", dir);
    bool up = tn_start(&N, argv[1], data, extra);
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
    test_attachments();
    test_attachment_names();
    test_bindings(argv[1], data);
    test_cache_keeps_visibility();
    test_answers_are_jansson_json();
    test_stream_attachment();
    test_ids_and_cursors();
    test_page_bytes_bounded();
    test_leak();
    test_raw_bytes();
    test_web();
    test_metrics();
    test_peers_api(argv[1], data);

    int status = tn_stop(&N, SIGTERM);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sigterm_stops_the_node_with_exit_0");
    ok(tn_openapi_conforms(&N), "every_exchange_of_this_test_conforms_to_docs_api_openapi_yaml");
    test_access_log(dir);

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
