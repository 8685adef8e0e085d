/* tests/node/test_fed_migrate.c — moving two live federated nodes from
 * SQLite to PostgreSQL and back (`liaison store migrate`, issue 14).
 *
 * HQ (NATO) and TOKYO (JPN), each the other's peer, run on SQLite: items
 * released to JPN go from HQ to TOKYO; at HQ one item is adopted at
 * version 2 by a release request, one is narrowed, one has a request open.
 * Both stop, and both stores are migrated to PostgreSQL (a database each),
 * `liaison verify` passing on each target. Both start on PostgreSQL: HQ
 * serves the same listing byte for byte and the same versions, the open
 * request settles (the last authority concurs: adopted, Korea reads it),
 * HQ's next items reach TOKYO — TOKYO takes HQ's next sequence (no gap
 * answered) and nothing earlier comes again (each item there once). Then
 * HQ is migrated back to a new SQLite store and serves the same listing.
 *
 * Usage: test_fed_migrate LIAISON_EXE PG_URI   (PG_URI with {node}: the
 * database named for a node's directory, hq or tokyo; meson runs it under
 * tests/pg/pg_cluster.sh as store_migrate_node_pg) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "../tap.h"
#include "fed_util.h"

#define REL_JPN                                                                            \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}"
#define REL_KOR_JPN                                                                        \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"KOR\",\"JPN\"]}]}"

static const char *exe;
static test_node a, b;
static char A[300], B[300];

static long call(const test_node *t, const char *method, const char *path, const char *tok,
                 const char *body, char **out)
{
    http_result r = {0};
    if (!tn_http(t, method, path, tok, body, body ? strlen(body) : 0, &r))
        return -1;
    if (out)
        *out = r.body ? r.body : strdup("");
    else
        free(r.body);
    return r.status;
}

static json_t *get_json(const test_node *t, const char *path, const char *tok, long *st)
{
    return tn_get_json(t, path, tok, st);
}

static const char *str(json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v ? v : "";
}

/* Post at HQ as tok in channel space; the item's id into id. */
static bool post(const char *tok, const char *label, const char *body, char id[37])
{
    return fu_post(&a, tok, "space", label, body, id);
}

/* Propose label for item at HQ; the request's id into rid. */
static long propose(const char *tok, const char *item, const char *label, char rid[37])
{
    char req[2048], path[128];
    snprintf(req, sizeof req, "{\"label\":%s,\"reason\":\"partners need it\"}", label);
    snprintf(path, sizeof path, "/api/v1/items/%s/release-requests", item);
    char *body = NULL;
    long st = call(&a, "POST", path, tok, req, &body);
    json_t *j = json_loads(body ? body : "", 0, NULL);
    snprintf(rid, 37, "%s", str(j, "id"));
    json_decref(j);
    free(body);
    return st;
}

static long act(const char *tok, const char *rid, const char *what)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/release-requests/%s/%s", rid, what);
    return call(&a, "POST", path, tok, NULL, NULL);
}

static const char *state_of(const char *tok, const char *rid)
{
    static char out[32];
    char path[128];
    snprintf(path, sizeof path, "/api/v1/release-requests/%s", rid);
    long st = 0;
    json_t *j = get_json(&a, path, tok, &st);
    snprintf(out, sizeof out, "%s", st == 200 ? str(j, "state") : "");
    json_decref(j);
    return out;
}

/* The item at HQ as tok sees it: status, and its version. */
static long item_of(const char *tok, const char *id, int *version)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/items/%s", id);
    long st = 0;
    json_t *j = get_json(&a, path, tok, &st);
    *version = (int)json_integer_value(json_object_get(j, "version"));
    json_decref(j);
    return st;
}

/* HQ's listing of channel space as tok: the bytes (free). */
static char *listing(const char *tok)
{
    char *body = NULL;
    if (call(&a, "GET", "/api/v1/channels/space/items?limit=500", tok, NULL, &body) != 200) {
        free(body);
        return NULL;
    }
    return body;
}

/* HQ's peer TOKYO: its last acknowledged sequence and what waits. */
static bool peer_state(const char *admin, long long *acked, long long *waiting)
{
    long st = 0;
    json_t *j = get_json(&a, "/api/v1/peers", admin, &st);
    json_t *p = json_array_get(json_object_get(j, "peers"), 0);
    *acked = json_integer_value(json_object_get(p, "lastAcknowledged"));
    *waiting = json_integer_value(json_object_get(p, "waiting"));
    json_decref(j);
    return st == 200 && p;
}

/* Wait until TOKYO's reader finds `want` items for word (at most 90 s),
 * then a moment more, so that a second copy would have come too. */
static int arrived(const char *tok, const char *word, int want)
{
    int n = -1;
    for (int i = 0; i < 900 && (n = fu_count(&b, tok, word)) < want; i++)
        usleep(100000);
    if (n == want) {
        usleep(1500000);
        n = fu_count(&b, tok, word);
    }
    return n;
}

/* What TOKYO has made durable of HQ's sequence: its answer to an empty
 * probe from HQ (the test holds HQ's certificate and key); -1 on failure. */
static long long tokyo_received(int port)
{
    http_result r;
    long long acked = -1;
    if (fu_put(port, B, A, "probe-1", "{\"destination\":\"TOKYO\",\"items\":[]}", &r) &&
        r.status == 200) {
        json_t *j = json_loads(r.body ? r.body : "", 0, NULL);
        if (json_is_integer(json_object_get(j, "acked")))
            acked = json_integer_value(json_object_get(j, "acked"));
        json_decref(j);
    }
    free(r.body);
    return acked;
}

static bool drained(const char *admin, long long *acked)
{
    long long waiting = -1;
    for (int i = 0; i < 900; i++) {
        if (peer_state(admin, acked, &waiting) && waiting == 0)
            return true;
        usleep(100000);
    }
    return false;
}

static char uri_tmpl[1024];

/* The PostgreSQL URI of the node of dir. */
static const char *pg_of(const char *dir, char *buf, size_t cap)
{
    setenv("LIAISON_TEST_STORE", uri_tmpl, 1);
    const char *u = tn_store_of(dir, buf, cap);
    unsetenv("LIAISON_TEST_STORE");
    return u;
}

static int migrate(const char *dir, const char *from, const char *to, char *out, size_t cap)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "'%s' store migrate --data-dir '%s' --from '%s' --to '%s' 2>&1", exe, dir, from,
             to);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, cap - 1, p) : 0;
    out[n] = 0;
    return p ? pclose(p) : -1;
}

static bool verify(const char *dir, const char *store)
{
    const char *args[] = {"verify", "--data-dir", dir, "--store", store, NULL};
    return fu_run(exe, args) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || !strstr(argv[2], "{node}")) {
        fprintf(stderr, "usage: %s LIAISON_EXE PG_URI_WITH_{node}\n", argv[0]);
        return 2;
    }
    exe = argv[1];
    snprintf(uri_tmpl, sizeof uri_tmpl, "%s", argv[2]);
    unsetenv("LIAISON_TEST_STORE"); /* first on SQLite */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char dir[] = "/tmp/lsn-fedmig-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/tokyo", dir);
    int pa = fu_free_port(), pb = fu_free_port();
    while (pb == pa)
        pb = fu_free_port();
    ok(fu_node_init(exe, A, "HQ", "NATO") && fu_node_init(exe, B, "TOKYO", "JPN") &&
           fu_peer_add(exe, A, "TOKYO", "JPN", B, pb) && fu_peer_add(exe, B, "HQ", "NATO", A, pa),
       "HQ and TOKYO, each the other's peer, on SQLite");
    if (!ok(fu_start(&a, exe, A, pa) && fu_start(&b, exe, B, pb), "both nodes start")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    char *kenji = tn_token(&a, "kenji.watanabe"), *yui = tn_token(&a, "yui.nakamura"),
         *minjun = tn_token(&a, "min-jun.park"), *admin = tn_token(&a, "marco.bellini"),
         *reader = tn_token(&b, "kenji.watanabe");

    /* --- HQ in use: versions, requests, items sent --- */
    char x[37], y[37], z[37], rx[37], rz[37], id[37];
    ok(post(kenji, REL_JPN, "fedmig adopted", x) &&
           propose(kenji, x, REL_KOR_JPN, rx) == 201 && act(yui, rx, "concur") == 200 &&
           !strcmp(state_of(kenji, rx), "adopted"),
       "an_item_adopted_at_version_2");
    char path[128], req[1024];
    /* posted to KOR by a release authority (a member may not), narrowed */
    bool posted = post(yui, REL_KOR_JPN, "fedmig narrowed", y);
    snprintf(path, sizeof path, "/api/v1/items/%s/narrow", y);
    snprintf(req, sizeof req, "{\"label\":%s}", REL_JPN);
    char *answer = NULL;
    long st = posted ? call(&a, "POST", path, yui, req, &answer) : 0;
    ok(st == 200, "an_item_narrowed (%ld %s)", st, answer ? answer : "");
    free(answer);
    ok(post(kenji, REL_JPN, "fedmig pending", z) && propose(kenji, z, REL_KOR_JPN, rz) == 201 &&
           !strcmp(state_of(kenji, rz), "open"),
       "a_request_open");
    ok(post(kenji, REL_JPN, "fedmig sent one", id) && post(kenji, REL_JPN, "fedmig sent two", id),
       "two_more_items_for_tokyo");
    long long acked0 = -1;
    bool done = drained(admin, &acked0);
    int got = arrived(reader, "fedmig", 5);
    ok(done && acked0 > 0 && got == 5,
       "tokyo_has_what_hq_sent (HQ's last acknowledged %lld; %d there)", acked0, got);
    long long recv0 = tokyo_received(pb);
    ok(recv0 == acked0, "tokyo_received_what_hq_counts_acknowledged (%lld)", recv0);
    char *before_k = listing(kenji), *before_m = listing(minjun);
    int vx = 0, vy = 0;
    long sx = item_of(kenji, x, &vx), sy = item_of(kenji, y, &vy);
    ok(before_k && before_m && sx == 200 && vx == 2 && sy == 200 && vy == 2,
       "hq_serves_versions_2 (%ld v%d, %ld v%d)", sx, vx, sy, vy);
    tn_stop(&a, SIGTERM);
    tn_stop(&b, SIGTERM);

    /* --- both stores to PostgreSQL --- */
    char from[400], to_a[1100], to_b[1100], out[4096];
    snprintf(from, sizeof from, "sqlite:%s/liaison.db", A);
    int rc = migrate(A, from, pg_of(A, to_a, sizeof to_a), out, sizeof out);
    ok(rc == 0 && strstr(out, "2 later versions") && strstr(out, "2 release requests"),
       "hq_migrates_to_postgresql (%s)", out);
    snprintf(from, sizeof from, "sqlite:%s/liaison.db", B);
    rc = migrate(B, from, pg_of(B, to_b, sizeof to_b), out, sizeof out);
    ok(rc == 0, "tokyo_migrates_to_postgresql (%s)", out);
    ok(verify(A, to_a) && verify(B, to_b), "liaison_verify_passes_on_both_targets");

    setenv("LIAISON_TEST_STORE", uri_tmpl, 1);
    if (!ok(fu_start(&a, exe, A, pa) && fu_start(&b, exe, B, pb),
            "both nodes start on postgresql")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    char *after_k = listing(kenji), *after_m = listing(minjun);
    ok(before_k && after_k && !strcmp(before_k, after_k) && before_m && after_m &&
           !strcmp(before_m, after_m),
       "hq_serves_the_same_listings_byte_for_byte");
    sx = item_of(kenji, x, &vx);
    sy = item_of(kenji, y, &vy);
    ok(sx == 200 && vx == 2 && sy == 200 && vy == 2, "and_the_same_versions (%ld v%d, %ld v%d)",
       sx, vx, sy, vy);
    int vz = 0;
    ok(!strcmp(state_of(kenji, rz), "open") && item_of(minjun, z, &vz) == 404,
       "the_request_is_still_open_and_korea_does_not_read_its_item");
    /* Where each side was, before anything new is sent: the request's
     * adoption below makes a version that goes to TOKYO too. */
    long long recv1 = tokyo_received(pb);
    ok(recv1 == recv0, "tokyo_knows_where_hq_was (%lld, was %lld)", recv1, recv0);
    long long acked1 = -1, waiting = -1;
    bool seen = peer_state(admin, &acked1, &waiting);
    ok(seen && acked1 == acked0, "hq_knows_where_tokyo_was (%lld, was %lld)", acked1, acked0);
    long sc = act(yui, rz, "concur");
    bool adopted = !strcmp(state_of(kenji, rz), "adopted");
    long sz = item_of(minjun, z, &vz);
    ok(sc == 200 && adopted && sz == 200 && vz == 2,
       "the_open_request_settles_after_the_migration (%ld, %d, %ld v%d)", sc, adopted, sz, vz);
    ok(post(kenji, REL_JPN, "fedmig fedmigafter one", id) && post(kenji, REL_JPN, "fedmig fedmigafter two", id),
       "hq_posts_after_the_migration");
    ok(drained(admin, &acked1), "hq_outbox_drains (last acknowledged %lld)", acked1);
    got = arrived(reader, "fedmig", 7);
    int later = fu_count(&b, reader, "fedmigafter");
    ok(got == 7 && later == 2, "tokyo_takes_the_next_sequence_and_nothing_twice (%d, %d)", got,
       later);
    long long recv2 = tokyo_received(pb);
    ok(recv2 == acked1, "tokyo_received_up_to_what_hq_counts_acknowledged (%lld, %lld)", recv2,
       acked1);
    tn_stop(&a, SIGTERM);
    tn_stop(&b, SIGTERM);

    /* --- and back: HQ from PostgreSQL to a new SQLite store --- */
    char back[400];
    snprintf(back, sizeof back, "sqlite:%s/back.db", A);
    rc = migrate(A, to_a, back, out, sizeof out);
    ok(rc == 0 && verify(A, back), "hq_migrates_back_to_sqlite_and_verifies (%s)", out);
    setenv("LIAISON_TEST_STORE", back, 1);
    char *again_k = NULL;
    int va = 0;
    if (ok(fu_start(&a, exe, A, pa), "hq starts on the new sqlite store")) {
        again_k = listing(kenji);
        long s1 = item_of(minjun, z, &va), s2 = item_of(kenji, x, &vx);
        ok(again_k && strstr(again_k, "fedmigafter two") && s1 == 200 && va == 2 && s2 == 200 &&
               vx == 2,
           "hq_serves_the_same_items_and_versions_from_sqlite_again");
        tn_stop(&a, SIGTERM);
    }
    ok(tn_openapi_conforms(&a), "the API exchanges with HQ match the spec");

    free(before_k);
    free(before_m);
    free(after_k);
    free(after_m);
    free(again_k);
    free(kenji);
    free(yui);
    free(minjun);
    free(admin);
    free(reader);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (tap_failed == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    curl_global_cleanup();
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
