/* tests/node/test_guard.c — the guard alone (src/node/guard.c): peer
 * clearances derived from the policy, and which demo items would go to
 * Japan's node, Korea's, NATO HQ's, Denmark's, and Korea's through Japan's.
 * The expectation is computed from the demo labels' JSON by the rule the
 * bundled policy states, apart from the engine. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "liaison/liaison.h"
#include "node/guard.h"
#include "tap.h"

static const char *CLASSES[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET",
                                "TOP SECRET"};

static int class_rank(const char *name)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(CLASSES[i], name) == 0)
            return i;
    return 99;
}

static json_t *values(json_t *label, const char *tag_set)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(label, "categories"), i, c)
        if (strcmp(json_string_value(json_object_get(c, "tagSet")), tag_set) == 0)
            return json_object_get(c, "values");
    return NULL;
}

static bool holds(json_t *vals, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(vals, i, x)
        if (strcasecmp(json_string_value(x), v) == 0)
            return true;
    return false;
}

/* The rule, from the label's JSON: within the classification agreed, no
 * restrictive category (a peer holds none), and released to the nation —
 * or, for the policy's own community (NATO), any label of its Context. */
static bool expected(json_t *label, const char *nation, const char *max)
{
    if (class_rank(json_string_value(json_object_get(label, "classification"))) >
        class_rank(max))
        return false;
    if (values(label, "Additional Sensitivity"))
        return false;
    if (strcasecmp(nation, "NATO") == 0)
        return holds(values(label, "Context"), "NATO") ||
               holds(values(label, "Releasable To"), "NATO");
    return holds(values(label, "Releasable To"), nation);
}

static lsn_label **LABELS;
static json_t **JSONS;
static size_t NITEMS;

/* How many demo items the guard releases to (nation, max) [via relay]; and
 * whether every decision matched the rule. */
static size_t released(const lsn_policy_set *set, const char *nation, const char *max,
                       const char *relay_nation, const char *relay_max, bool *all_match)
{
    lsn_clearance *peer = NULL, *relay = NULL;
    lsn_error err;
    *all_match = false;
    if (guard_peer_clearance(set, nation, max, &peer, &err) != LSN_OK ||
        (relay_nation &&
         guard_peer_clearance(set, relay_nation, relay_max, &relay, &err) != LSN_OK)) {
        printf("# %s: %s\n", nation, err.message);
        lsn_clearance_free(peer);
        return 0;
    }
    size_t n = 0;
    *all_match = true;
    for (size_t i = 0; i < NITEMS; i++) {
        bool got = guard_releases(set, LABELS[i], peer, relay);
        bool want = expected(JSONS[i], nation, max ? max : "TOP SECRET") &&
                    (!relay_nation ||
                     expected(JSONS[i], relay_nation, relay_max ? relay_max : "TOP SECRET"));
        if (got != want) {
            char *t = json_dumps(JSONS[i], JSON_COMPACT);
            printf("# %s: item %zu %s, expected %s: %s\n", nation, i, got ? "sent" : "held",
                   want ? "sent" : "held", t);
            free(t);
            *all_match = false;
        }
        n += got;
    }
    lsn_clearance_free(peer);
    lsn_clearance_free(relay);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_guard DEMO_JSON\n");
        return 2;
    }
    lsn_policy *p = NULL;
    lsn_policy_set *set = lsn_policy_set_new();
    if (!set || lsn_policy_load_default(&p, NULL) != LSN_OK ||
        lsn_policy_set_add(set, p, NULL) != LSN_OK)
        return 2;
    lsn_policy_unref(p);
    json_t *demo = json_load_file(argv[1], 0, NULL);
    json_t *items = json_object_get(demo, "items");
    size_t all = json_array_size(items);
    LABELS = calloc(all, sizeof *LABELS);
    JSONS = calloc(all, sizeof *JSONS);
    bool parsed = all > 0 && LABELS && JSONS;
    for (size_t i = 0; parsed && i < all; i++) {
        json_t *label = json_object_get(json_array_get(items, i), "label");
        /* The demo's item under a national policy: only the bundled (NATO)
         * policy is loaded here. */
        const char *under = json_string_value(json_object_get(label, "policy"));
        if (under && strcmp(under, "NATO"))
            continue;
        JSONS[NITEMS] = label;
        char *t = json_dumps(label, JSON_COMPACT);
        parsed = t && lsn_label_parse(set, t, strlen(t), LSN_FORM_JSON, &LABELS[NITEMS],
                                      NULL) == LSN_OK;
        NITEMS += parsed;
        free(t);
    }
    ok(parsed && NITEMS + 1 >= all, "the_demo_labels_under_the_nato_policy_parse (%zu)",
       NITEMS);

    bool match;
    size_t n = released(set, "JPN", "SECRET", NULL, NULL, &match);
    ok(match && n == 22, "jpn_node_gets_exactly_what_is_releasable_to_jpn (%zu of %zu)", n,
       NITEMS);
    n = released(set, "jpn", "RESTRICTED", NULL, NULL, &match);
    ok(match && n == 18, "jpn_node_agreed_at_restricted_gets_nothing_above_it (%zu)", n);
    n = released(set, "KOR", "CONFIDENTIAL", NULL, NULL, &match);
    ok(match && n == 16, "kor_node_gets_exactly_what_is_releasable_to_kor (%zu)", n);
    n = released(set, "NATO", NULL, NULL, NULL, &match);
    ok(match && n == 37, "nato_hq_gets_every_item_but_the_restrictive_atomal_one (%zu)", n);
    n = released(set, "DNK", "SECRET", NULL, NULL, &match);
    ok(match && n == 3, "an_allys_node_gets_what_is_releasable_to_it_not_nato_only_items (%zu)",
       n);
    n = released(set, "KOR", "CONFIDENTIAL", "JPN", "SECRET", &match);
    ok(match && n == 14, "kor_through_jpn_gets_what_both_may_hold (%zu)", n);

    lsn_clearance *c = NULL;
    lsn_error err;
    ok(guard_peer_clearance(set, "ATLANTIS", NULL, &c, &err) == LSN_ERR_ARG && !c,
       "an_unknown_nation_has_no_peer_clearance");
    ok(guard_peer_clearance(set, "JPN", "ULTRA", &c, &err) == LSN_ERR_ARG && !c,
       "an_unknown_classification_is_refused");
    ok(guard_peer_clearance(set, "ATOMAL", NULL, &c, &err) == LSN_ERR_ARG && !c,
       "a_restrictive_category_is_no_nation");
    ok(!guard_releases(set, LABELS[0], NULL, NULL), "no_peer_clearance_releases_nothing");

    /* A peer whose node decides under the illustrative Japanese policy
     * (argv[2]): its clearance made there, the label decided on its
     * equivalent there; a label with no equivalent is no. */
    if (argc > 2 && lsn_policy_set_load_file(set, argv[2], &err) == LSN_OK) {
        const char *jpn = lsn_policy_id(lsn_policy_set_at(set, 1));
        lsn_clearance *cj = NULL;
        lsn_label *rel = NULL, *natoctx = NULL, *t = NULL, *none = NULL, *t2 = NULL;
        const char *rel_json =
            "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
            "{\"tagSet\":\"Context\",\"values\":[\"Releasable\"]},"
            "{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\",\"NATO\"]}]}";
        const char *ctx_json =
            "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
            "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
            "{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\",\"NATO\"]}]}";
        bool made = guard_peer_clearance_under(set, jpn, "JPN", NULL, &cj, &err) == LSN_OK &&
                    lsn_label_parse(set, rel_json, strlen(rel_json), LSN_FORM_JSON, &rel,
                                    &err) == LSN_OK &&
                    lsn_label_parse(set, ctx_json, strlen(ctx_json), LSN_FORM_JSON, &natoctx,
                                    &err) == LSN_OK;
        ok(made, "a_peer_clearance_is_made_under_the_peers_policy");
        ok(made && guard_label_for(set, rel, jpn, &t, &err) == LSN_OK && t &&
               strcmp(lsn_policy_id(lsn_label_policy(t)), jpn) == 0 &&
               guard_releases(set, t, cj, NULL),
           "the_equivalent_label_is_released_to_a_japanese_policy_peer");
        ok(made && guard_label_for(set, rel, lsn_policy_id(lsn_policy_set_at(set, 0)), &none,
                                   &err) == LSN_OK && !none,
           "a_peer_of_the_labels_own_policy_decides_on_the_label_itself");
        ok(made && guard_label_for(set, natoctx, jpn, &t2, &err) != LSN_OK && !t2,
           "a_label_with_no_equivalent_there_is_withheld");
        lsn_label_free(t);
        lsn_label_free(t2);
        lsn_label_free(rel);
        lsn_label_free(natoctx);
        lsn_clearance_free(cj);
    } else {
        ok(false, "the illustrative Japanese policy loads (%s)", argc > 2 ? argv[2] : "none");
    }

    for (size_t i = 0; i < NITEMS; i++)
        lsn_label_free(LABELS[i]);
    free(LABELS);
    free(JSONS);
    json_decref(demo);
    lsn_policy_set_free(set);
    return tap_done();
}
