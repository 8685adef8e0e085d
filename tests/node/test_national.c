/* tests/node/test_national.c — a national policy on a node (issue 12 item
 * 4), on a real `liaison serve --demo`, which loads the illustrative
 * Japanese policy (data/jpn-illustrative-policy.xml, not an official one)
 * beside the bundled NATO policy.
 *
 * A Japanese member (a NATO-policy clearance: SECRET, Releasable To JPN)
 * posts under the national policy; the item is stored as posted; a NATO
 * reader sees it with its Japanese marking and its NATO equivalent; a
 * reader the equivalence does not admit (Korea) sees nothing of it; the
 * release rule judges the NATO equivalent. Then a node given the policies
 * by a repeated --policy reads the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "node_util.h"

static test_node N;

/* The illustrative policy's OID: the label's canonical JSON names it so. */
#define JPN_OID "2.25.251642713772810140366533035959921199786"

/* JAPAN SECRET (GOKUHI) releasable to Japan and NATO. */
static const char *GOKUHI_JPN_NATO =
    "{\"policy\":\"JPN-ILLUSTRATIVE\",\"classification\":\"GOKUHI\",\"categories\":["
    "{\"tagSet\":\"Release\",\"values\":[\"JPN\",\"NATO\"]}]}";
/* The same, releasable to Korea as well: Korea is not Japan nor NATO. */
static const char *GOKUHI_JPN_NATO_KOR =
    "{\"policy\":\"JPN-ILLUSTRATIVE\",\"classification\":\"GOKUHI\",\"categories\":["
    "{\"tagSet\":\"Release\",\"values\":[\"JPN\",\"NATO\",\"KOR\"]}]}";

static long post(const char *tok, const char *label, const char *text, char **body)
{
    char req[2048];
    snprintf(req, sizeof req, "{\"label\":%s,\"body\":\"%s\"}", label, text);
    http_result r = {0};
    if (!tn_http(&N, "POST", "/api/v1/channels/space/items", tok, req, strlen(req), &r))
        return -1;
    if (body)
        *body = r.body;
    else
        free(r.body);
    return r.status;
}

/* The item with this body in the channel's listing as tok sees it (a new
 * reference), or NULL. */
static json_t *find(const char *tok, const char *text)
{
    long st = 0;
    json_t *j = tn_get_json(&N, "/api/v1/channels/space/items?limit=200", tok, &st);
    json_t *items = json_object_get(j, "items"), *it, *found = NULL;
    size_t i;
    json_array_foreach(items, i, it)
        if (!found && strcmp(json_string_value(json_object_get(it, "body")) ?: "", text) == 0)
            found = json_incref(it);
    json_decref(j);
    return found;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "(none)";
}

/* The national item as a NATO reader, a Japanese reader and a Korean one
 * see it; `id` is the item's id (the Korean fetch by id must be a 404). */
static void readers_see(const char *text, const char *id, const char *how)
{
    char *nato = tn_token(&N, "ingrid.halvorsen"), *jp = tn_token(&N, "yui.nakamura"),
         *kor = tn_token(&N, "min-jun.park");
    json_t *it = find(nato, text);
    char name[200];
    snprintf(name, sizeof name, "%s: nato_reader_sees_the_national_item", how);
    ok(it != NULL, "%s", name);
    json_t *eq = json_object_get(it, "equivalent");
    snprintf(name, sizeof name, "%s: under_its_nato_equivalent", how);
    ok(strcmp(str(eq, "policy"), "NATO") == 0 && strcmp(str(eq, "classification"), "SECRET") == 0 &&
           strcmp(str(eq, "marking"), "NATO SECRET Releasable to JPN") == 0 &&
           json_is_string(json_object_get(eq, "markingFr")), "%s", name);
    if (!eq) {
        char *t = it ? json_dumps(it, JSON_COMPACT) : NULL;
        printf("# item: %s\n", t ? t : "(none)");
        free(t);
    }
    snprintf(name, sizeof name, "%s: stored_as_posted_with_its_japanese_marking", how);
    ok(strcmp(str(json_object_get(it, "label"), "policy"), JPN_OID) == 0 &&
           strcmp(str(it, "marking"), "JAPAN SECRET Releasable to JPN, NATO") == 0 &&
           strcmp(str(it, "markingJa"), "日本 極秘 開示先: 日本、NATO") == 0, "%s", name);
    json_decref(it);
    it = find(jp, text);
    snprintf(name, sizeof name, "%s: japanese_reader_sees_it", how);
    ok(it != NULL, "%s", name);
    json_decref(it);
    it = find(kor, text);
    /* Only meaningful with the item there: a node that refused the post
     * shows nothing to anyone. */
    bool posted = id[0] != '\0';
    snprintf(name, sizeof name, "%s: korean_reader_does_not_see_it", how);
    ok(posted && it == NULL, "%s", name);
    json_decref(it);
    char path[200];
    snprintf(path, sizeof path, "/api/v1/items/%s", id);
    long st = 0;
    json_decref(tn_get_json(&N, path, kor, &st));
    snprintf(name, sizeof name, "%s: korean_fetch_by_id_is_404", how);
    ok(posted && st == 404, "%s", name);
    free(nato);
    free(jp);
    free(kor);
}

/* The entry of array `a` whose key k is v (borrowed), or NULL. */
static json_t *entry(json_t *a, const char *k, const char *v)
{
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
        if (strcmp(str(e, k), v) == 0)
            return e;
    return NULL;
}

/* The compose form's policy choice (issue 12): the node lists the policies
 * it holds, gives the national one as a label picker needs it (Japanese
 * markings, each choice's equivalent under NATO's policy, which the
 * author's clearance is checked against), and previews a national label
 * with its Japanese marking and NATO equivalent. */
static void policy_choice(void)
{
    char *kenji = tn_token(&N, "kenji.watanabe");
    long st = 0;
    json_t *own = tn_get_json(&N, "/api/v1/policy", kenji, &st);
    json_t *listed = entry(json_object_get(own, "policies"), "name", "JPN-ILLUSTRATIVE");
    ok(st == 200 && json_is_true(json_object_get(own, "node")) && listed &&
           strcmp(str(listed, "id"), JPN_OID) == 0 &&
           json_is_false(json_object_get(listed, "node")) &&
           json_is_true(json_object_get(entry(json_object_get(own, "policies"), "name", "NATO"),
                                        "node")),
       "policy_lists_the_policies_the_node_holds");
    ok(json_object_get(json_array_get(json_object_get(own, "classifications"), 0),
                       "equivalent") == NULL &&
           json_object_get(json_array_get(json_object_get(own, "classifications"), 0),
                           "markingJa") == NULL,
       "own_policy_has_no_equivalents_and_no_japanese");
    json_decref(own);

    json_t *jp = tn_get_json(&N, "/api/v1/policy?policy=JPN-ILLUSTRATIVE", kenji, &st);
    json_t *gokuhi = entry(json_object_get(jp, "classifications"), "name", "GOKUHI");
    ok(st == 200 && strcmp(str(jp, "id"), JPN_OID) == 0 &&
           json_is_false(json_object_get(jp, "node")) &&
           strcmp(str(gokuhi, "markingJa"), "極秘") == 0 &&
           strcmp(str(json_object_get(gokuhi, "equivalent"), "classification"), "SECRET") == 0,
       "national_policy_classification_has_japanese_marking_and_nato_equivalent");
    json_t *release = json_object_get(json_array_get(json_object_get(jp, "tagSets"), 0),
                                      "categories");
    json_t *cat = entry(release, "name", "JPN");
    json_t *eq = json_object_get(cat, "equivalent");
    bool rel_to_jpn = false, ctx_releasable = false;
    size_t i;
    json_t *e;
    json_array_foreach(eq, i, e) {
        rel_to_jpn |= !strcmp(str(e, "tagSet"), "Releasable To") && !strcmp(str(e, "name"), "JPN");
        ctx_releasable |= !strcmp(str(e, "tagSet"), "Context") &&
                          !strcmp(str(e, "name"), "Releasable");
    }
    ok(strcmp(str(cat, "markingJa"), "日本") == 0 && rel_to_jpn && ctx_releasable &&
           json_array_size(eq) == 2,
       "national_category_has_japanese_marking_and_its_nato_equivalents");
    json_decref(jp);

    json_t *by_oid = tn_get_json(&N, "/api/v1/policy?policy=" JPN_OID, kenji, &st);
    ok(st == 200 && strcmp(str(by_oid, "name"), "JPN-ILLUSTRATIVE") == 0,
       "national_policy_found_by_oid");
    json_decref(by_oid);
    json_decref(tn_get_json(&N, "/api/v1/policy?policy=NO-SUCH-POLICY", kenji, &st));
    ok(st == 404, "unknown_policy_is_404");

    char req[1024];
    snprintf(req, sizeof req, "{\"label\":%s}", GOKUHI_JPN_NATO);
    http_result r = {0};
    json_t *m = tn_http(&N, "POST", "/api/v1/labels/mark", kenji, req, strlen(req), &r)
                    ? json_loads(r.body ? r.body : "", 0, NULL)
                    : NULL;
    ok(r.status == 200 && strcmp(str(m, "markingJa"), "日本 極秘 開示先: 日本、NATO") == 0 &&
           strcmp(str(json_object_get(m, "equivalent"), "classification"), "SECRET") == 0 &&
           strstr(str(json_object_get(m, "equivalent"), "marking"), "NATO SECRET"),
       "mark_of_a_national_label_gives_japanese_and_the_nato_equivalent");
    json_decref(m);
    free(r.body);
    free(kenji);
}

/* Post the national item as the Japanese member; its id into id. */
static bool post_national(const char *text, char id[64])
{
    char *kenji = tn_token(&N, "kenji.watanabe"), *body = NULL;
    long st = post(kenji, GOKUHI_JPN_NATO, text, &body);
    json_t *j = json_loads(body ? body : "", 0, NULL);
    snprintf(id, 64, "%s", json_string_value(json_object_get(j, "id")) ?: "");
    if (st != 201)
        printf("# %ld %s\n", st, body ? body : "");
    json_decref(j);
    free(body);
    free(kenji);
    return st == 201 && id[0];
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_national LIAISON DATA_DIR\n");
        return 2;
    }
    char dir[] = "/tmp/liaison-national-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    bool up = tn_start(&N, argv[1], dir, "");
    ok(up, "demo_node_starts");
    if (!up)
        return tap_done();

    char id[64];
    ok(post_national("Japanese national item", id),
       "japanese_member_posts_under_the_national_policy");
    readers_see("Japanese national item", id, "demo");
    policy_choice();

    /* The release rule judges the NATO equivalent: Korea is foreign. */
    char *kenji = tn_token(&N, "kenji.watanabe"), *body = NULL;
    long st = post(kenji, GOKUHI_JPN_NATO_KOR, "to Korea too", &body);
    ok(st == 403 && body && strstr(body, "KOR"),
       "member_releasing_the_national_item_to_korea_needs_the_release_authority");
    free(body);
    free(kenji);

    /* The demo data's own national item is there for NATO readers. */
    char *nato = tn_token(&N, "ingrid.halvorsen");
    long lst = 0;
    json_t *j = tn_get_json(&N, "/api/v1/channels/space/items?limit=200", nato, &lst);
    size_t i, n = 0;
    json_t *it;
    json_array_foreach(json_object_get(j, "items"), i, it)
        n += strcmp(str(json_object_get(it, "label"), "policy"), JPN_OID) == 0 &&
             strcmp(str(it, "author"), "kenji.watanabe") == 0;
    ok(n >= 2, "demo_data_holds_a_national_item");
    json_decref(j);
    free(nato);

    int status = tn_stop(&N, SIGTERM);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "demo_node_stops_cleanly");
    ok(tn_openapi_conforms(&N), "demo_node_exchanges_match_the_openapi_spec");

    /* The same data directory (not seeded again), the policies given by a
     * repeated --policy: the first, NATO's, is the node's own; --demo finds
     * the Japanese policy already in the set and does not add it twice. */
    char extra[2048];
    snprintf(extra, sizeof extra, "--policy %s/liaison-policy.xml --policy "
             "%s/jpn-illustrative-policy.xml", argv[2], argv[2]);
    up = tn_start(&N, argv[1], dir, extra);
    ok(up, "node_starts_with_two_policy_flags");
    if (up) {
        readers_see("Japanese national item", id, "policy_flags");
        tn_stop(&N, SIGTERM);
    }

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
