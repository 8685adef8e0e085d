/* tests/node/test_fed_visibility.c — the multi-node harness (issue 10,
 * "Proof"): five real nodes on 127.0.0.1 in the topology of
 * scripts/federation-demo.sh —
 *
 *   TOKYO (NATO) ─┐
 *   JPN   (JPN)  ─┼─ HQ (NATO)
 *   DNK   (DNK)  ─┘   └─ (through DNK) KOR (KOR, agreed up to CONFIDENTIAL)
 *
 * — random labels posted at HQ; afterwards, at every node and for every
 * demo user, the items a search finds are exactly those whose label the
 * engine grants at the peer clearance of every hop on the way there (both
 * ends of each link, as each registered the other, and the receiver's own
 * nation) and at the user's clearance. The expectation is computed here
 * with the public library (lsn_label_parse, lsn_clearance_parse,
 * lsn_access_check) from clearances written out from the SPIF's meaning
 * and the users of data/demo.json, not from the node's guard.
 *
 * A last item releasable to every node goes after the random ones: each
 * peer's outbox is sent in order, so once it is at a node, everything
 * before it that was going there is there too.
 *
 * Usage: test_fed_visibility LIAISON_EXE SOURCE_ROOT
 * LIAISON_HARNESS_SEED=N replays a run (the seed is printed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "liaison/liaison.h"
#include "../tap.h"
#include "fed_util.h"

#define NODES 5
#define ITEMS 48
#define TOP "TOP SECRET"

enum { HQ, TOKYO, JPN, DNK, KOR };
static const char *const names[NODES] = {"HQ", "TOKYO", "JPN", "DNK", "KOR"};
static const char *const nations[NODES] = {"NATO", "NATO", "JPN", "DNK", "KOR"};

/* A peer clearance: a nation at a highest classification agreed. */
typedef struct gate {
    const char *nation, *max;
} gate;

/* What must grant an item from HQ for it to be at each node: every
 * registration on its way (the receiver as the sender registered it, the
 * sender as the receiver registered it; for KOR also HQ as KOR registered
 * it, through DNK) and the receiver's own nation. */
static const gate gates[NODES][8] = {
    [HQ] = {{0}},
    [TOKYO] = {{"NATO", TOP}, {"NATO", TOP}, {"NATO", TOP}},
    [JPN] = {{"JPN", TOP}, {"NATO", TOP}, {"JPN", TOP}},
    [DNK] = {{"DNK", TOP}, {"NATO", TOP}, {"DNK", TOP}},
    [KOR] = {{"DNK", TOP}, {"NATO", TOP}, {"DNK", TOP},               /* HQ -> DNK */
             {"KOR", "CONFIDENTIAL"}, {"DNK", TOP}, {"KOR", TOP},     /* DNK -> KOR */
             {"NATO", TOP}, {"KOR", "CONFIDENTIAL"}},                 /* HQ <-> KOR via DNK */
};

static lsn_policy_set *set;

/* A peer clearance in the JSON form, from the SPIF: the nation in
 * "Releasable To", which requires the Context "Releasable" (an "all"
 * rule); NATO is also a Context value. */
static lsn_clearance *peer_clearance(const gate *g)
{
    char text[400];
    snprintf(text, sizeof text,
             "{\"policy\":\"NATO\",\"maxClassification\":\"%s\",\"categories\":["
             "{\"tagSet\":\"Context\",\"values\":[%s\"Releasable\"]},"
             "{\"tagSet\":\"Releasable To\",\"values\":[\"%s\"]}]}",
             g->max, strcmp(g->nation, "NATO") == 0 ? "\"NATO\"," : "", g->nation);
    lsn_clearance *c = NULL;
    if (lsn_clearance_parse(set, text, strlen(text), LSN_FORM_JSON, &c, NULL) != LSN_OK)
        return NULL;
    return c;
}

static bool grants(const lsn_label *l, const lsn_clearance *c)
{
    lsn_decision d = LSN_DENY;
    return c && lsn_access_check(set, l, c, &d) == LSN_OK && d == LSN_GRANT;
}

/* Whether an item labelled l posted at HQ is to be at node n. */
static bool reaches(const lsn_label *l, int n)
{
    for (int i = 0; i < 8 && gates[n][i].nation; i++) {
        lsn_clearance *c = peer_clearance(&gates[n][i]);
        bool g = grants(l, c);
        lsn_clearance_free(c);
        if (!g)
            return false;
    }
    return true;
}

/* A random label in the JSON form: any classification, a Context, a few
 * nations, now and then ATOMAL. Under the SPIF, the Context "Releasable"
 * requires NATO in "Releasable To" and each nation there requires that
 * Context: such labels are the valid ones (a label the node still refuses
 * at posting is left out). */
static char *random_label(void)
{
    static const char *const cls[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"};
    static const char *const rel[] = {"NATO", "JPN", "DNK", "KOR", "AUS"};
    json_t *cats = json_array();
    json_t *ctx = json_array();
    if (rand() % 3)
        json_array_append_new(ctx, json_string("NATO"));
    if (rand() % 5 || json_array_size(ctx) == 0)
        json_array_append_new(ctx, json_string("Releasable"));
    json_array_append_new(cats, json_pack("{s:s, s:o}", "tagSet", "Context", "values", ctx));
    json_t *to = json_array();
    bool releasable = json_array_size(ctx) == 2 ||
                      strcmp(json_string_value(json_array_get(ctx, 0)), "Releasable") == 0;
    for (size_t i = 0; releasable && i < sizeof rel / sizeof *rel; i++)
        if (i == 0 || rand() % 2)
            json_array_append_new(to, json_string(rel[i]));
    if (json_array_size(to))
        json_array_append_new(cats,
                              json_pack("{s:s, s:o}", "tagSet", "Releasable To", "values", to));
    else
        json_decref(to);
    if (rand() % 8 == 0)
        json_array_append_new(cats, json_pack("{s:s, s:[s]}", "tagSet",
                                              "Additional Sensitivity", "values", "ATOMAL"));
    json_t *l = json_pack("{s:s, s:s, s:o}", "policy", "NATO", "classification",
                          cls[rand() % 4], "categories", cats);
    char *text = json_dumps(l, JSON_COMPACT);
    json_decref(l);
    return text;
}

/* The items (by index k, from "itemK" in their body) a search for word
 * finds at t for token, as a bit set; -1 when the search failed. */
static long long visible(const test_node *t, const char *token, const char *word)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/search?q=%s&limit=1000", word);
    long status = 0;
    json_t *j = tn_get_json(t, path, token, &status);
    json_t *items = json_object_get(j, "items");
    long long bits = status == 200 && json_is_array(items) ? 0 : -1;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *b = json_string_value(json_object_get(it, "body"));
        const char *p = b ? strstr(b, " item") : NULL;
        int k = p ? atoi(p + 5) : -1;
        if (k < 0 || k > ITEMS)
            bits = -1;
        else if (bits >= 0)
            bits |= 1LL << k;
    }
    json_decref(j);
    return bits;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIAISON_EXE SOURCE_ROOT\n", argv[0]);
        return 2;
    }
    const char *exe = argv[1], *root = argv[2];
    const char *s = getenv("LIAISON_HARNESS_SEED");
    unsigned seed = s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    printf("# seed %u (LIAISON_HARNESS_SEED replays it)\n", seed);
    lsn_policy *p = NULL;
    set = lsn_policy_set_new();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !set ||
        lsn_policy_load_default(&p, NULL) != LSN_OK || lsn_policy_set_add(set, p, NULL) != LSN_OK)
        return 2;
    lsn_policy_unref(p);

    /* The demo users and their clearances, from data/demo.json. */
    char path[600];
    snprintf(path, sizeof path, "%s/data/demo.json", root);
    json_t *demo = json_load_file(path, 0, NULL);
    json_t *users = json_object_get(demo, "users");
    size_t nu = json_array_size(users);
    lsn_clearance **ucl = calloc(nu ? nu : 1, sizeof *ucl);
    bool parsed = nu > 0 && ucl;
    for (size_t u = 0; parsed && u < nu; u++) {
        char *c = json_dumps(json_object_get(json_array_get(users, u), "clearance"), 0);
        parsed = c && lsn_clearance_parse(set, c, strlen(c), LSN_FORM_JSON, &ucl[u], NULL) ==
                          LSN_OK;
        free(c);
    }
    ok(parsed, "the %zu demo users' clearances parsed", nu);

    char dir[64] = "/tmp/lsn-fedvis-XXXXXX", dirs[NODES][300];
    int port[NODES];
    if (!mkdtemp(dir))
        return 2;
    bool made = true;
    for (int n = 0; n < NODES; n++) {
        snprintf(dirs[n], sizeof dirs[n], "%s/%s", dir, names[n]);
        bool taken;
        do {
            port[n] = fu_free_port();
            taken = port[n] == 0;
            for (int m = 0; m < n; m++)
                taken = taken || port[m] == port[n];
        } while (taken);
        made = made && fu_node_init(exe, dirs[n], names[n], nations[n]);
    }
    ok(made, "five node identities made");
    bool peered = true;
    for (int n = TOKYO; n <= DNK; n++)
        peered = peered && fu_peer_add(exe, dirs[HQ], names[n], nations[n], dirs[n], port[n]) &&
                 fu_peer_add(exe, dirs[n], "HQ", "NATO", dirs[HQ], port[HQ]);
    peered = peered &&
             fu_peer_add_full(exe, dirs[DNK], "KOR", "KOR", dirs[KOR], port[KOR], NULL,
                              "CONFIDENTIAL") &&
             fu_peer_add(exe, dirs[KOR], "DNK", "DNK", dirs[DNK], port[DNK]) &&
             fu_peer_add_full(exe, dirs[HQ], "KOR", "KOR", dirs[KOR], port[KOR], "DNK",
                              "CONFIDENTIAL") &&
             fu_peer_add_via(exe, dirs[KOR], "HQ", "NATO", dirs[HQ], port[HQ], "DNK");
    ok(peered, "peers registered both ways with pinned certificates; KOR through DNK");

    test_node t[NODES];
    int started = 0;
    while (started < NODES && fu_start(&t[started], exe, dirs[started], port[started]))
        started++;
    if (!ok(started == NODES, "the five nodes start")) {
        for (int n = 0; n < started; n++)
            tn_stop(&t[n], 15);
        printf("1..%d\n", tap_n);
        return 1;
    }

    /* The random items, then the last one, released everywhere. */
    char word[32];
    snprintf(word, sizeof word, "fedvis%u", seed);
    char *poster = tn_token(&t[HQ], "ingrid.halvorsen");
    lsn_label *labels[ITEMS + 1] = {0};
    int posted = 0;
    for (int k = 0; k <= ITEMS; k++) {
        char *text = k < ITEMS
                         ? random_label()
                         : strdup("{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\","
                                  "\"categories\":[{\"tagSet\":\"Context\",\"values\":"
                                  "[\"NATO\",\"Releasable\"]},{\"tagSet\":\"Releasable To\","
                                  "\"values\":[\"NATO\",\"JPN\",\"DNK\",\"KOR\"]}]}");
        char body[96], id[37];
        snprintf(body, sizeof body, "The harness %s item%d", word, k);
        if (fu_post(&t[HQ], poster, "cyber-defence", text, body, id)) {
            posted++;
            if (lsn_label_parse(set, text, strlen(text), LSN_FORM_JSON, &labels[k], NULL) !=
                LSN_OK)
                labels[k] = NULL;
        } else if (k == ITEMS) {
            printf("# the last item was refused at posting: %s\n", text);
        }
        free(text);
    }
    printf("# %d of %d items posted at HQ\n", posted, ITEMS + 1);
    ok(labels[ITEMS] != NULL, "the items posted; the last one too");

    /* Wait (at most 120 s) for the last item at every node. */
    char *watcher[NODES];
    for (int n = 0; n < NODES; n++)
        watcher[n] = tn_token(&t[n], "marco.bellini"); /* malloc'd */
    bool arrived = true;
    for (int n = 0; n < NODES; n++) {
        long long v = 0;
        for (int i = 0; i < 1200; i++) {
            v = visible(&t[n], watcher[n], word);
            if (v > 0 && (v & (1LL << ITEMS)))
                break;
            usleep(100000);
        }
        arrived = arrived && v > 0 && (v & (1LL << ITEMS));
    }
    ok(arrived, "the last item is at every node");

    /* Every node, every demo user: what they see is what the engine grants. */
    for (int n = 0; n < NODES; n++) {
        long long want_node = 0;
        for (int k = 0; k <= ITEMS; k++)
            if (labels[k] && reaches(labels[k], n))
                want_node |= 1LL << k;
        int good = 0, users_n = 0;
        for (size_t u = 0; u < nu; u++) {
            const char *user = json_string_value(json_object_get(json_array_get(users, u), "name"));
            char *tok = tn_token(&t[n], user);
            long long want = 0;
            for (int k = 0; k <= ITEMS; k++)
                if ((want_node & (1LL << k)) && grants(labels[k], ucl[u]))
                    want |= 1LL << k;
            long long got = tok ? visible(&t[n], tok, word) : -1;
            free(tok);
            users_n++;
            if (got == want)
                good++;
            else
                printf("# %s, %s: sees %llx, the engine grants %llx\n", names[n], user, got,
                       want);
        }
        ok(good == users_n && users_n > 0,
           "%s: each of %d users sees exactly the items the engine grants (%d of %d here)",
           names[n], users_n, __builtin_popcountll((unsigned long long)want_node), posted);
    }

    bool conforms = true;
    for (int n = 0; n < NODES; n++) {
        tn_stop(&t[n], 15);
        conforms = tn_openapi_conforms(&t[n]) && conforms;
    }
    ok(conforms, "every exchange matches docs/api/openapi.yaml");

    for (int n = 0; n < NODES; n++)
        free(watcher[n]);
    for (int k = 0; k <= ITEMS; k++)
        lsn_label_free(labels[k]);
    for (size_t u = 0; u < nu; u++)
        lsn_clearance_free(ucl[u]);
    free(ucl);
    free(poster);
    json_decref(demo);
    lsn_policy_set_free(set);
    curl_global_cleanup();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
