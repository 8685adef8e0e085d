/* tests/node/test_fed_release.c — release requests whose authorities are on
 * other nodes (issue 13, docs/RELEASE.md "Authorities on other nodes"):
 * two real nodes on loopback, HQ (NATO) and DNK (an ally's node), each the
 * other's peer, and FRANCE, a third peer registered at HQ whose identity
 * the test holds (it plays it). HQ's demo data has no Danish release
 * authority, so Denmark decides through its own node; HQ's clock is a file
 * the test writes (--release-clock) and its settler is out of the way, so
 * that no outcome depends on timing:
 *  - for alliance staff's item, the allied peer is one authority for its
 *    nation (FRANCE is not: France decides at HQ);
 *  - the signed notice reaches DNK, whose Danish release authority sees
 *    the request (without the item's body: it is not released to DNK),
 *    while a French one there does not;
 *  - DNK's concurrence and HQ's local one adopt it early; the outcome
 *    reaches DNK;
 *  - DNK's break before the deadline stops it;
 *  - DNK's break after HQ's deadline is refused by HQ and audited at both;
 *  - a concurrence signed by a peer that is not the authority, one signed
 *    by one peer in another's name, and one whose signature is not its
 *    sender's are refused;
 *  - the same signed concurrence sent twice is taken once.
 * The test signs its own messages with OpenSSL, apart from the node's
 * code (the format of docs/FEDERATION.md "Release messages"). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "../tap.h"
#include "fed_util.h"

#define T0 1900000000000LL
#define DEADLINE (T0 + 3600 * 1000LL)

static const char *exe;
static char dir[64], A[128], B[128], C[128], CLOCK[256];
static int pa, pb;
static test_node hq, dk;
static char *ingrid, *claire_hq, *mette_dk, *claire_dk;

static const char *S_NATO =
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"AUS\"]}]}";
static const char *S_NATO_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"AUS\",\"JPN\"]}]}";

static void set_clock(long long ms)
{
    FILE *f = fopen(CLOCK, "w");
    if (f) {
        fprintf(f, "%lld\n", ms);
        fclose(f);
    }
}

static const char *iso(long long ms, char out[40])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03dZ", (int)(ms % 1000));
    return out;
}

static const char *str(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v ? v : "";
}

static long call(const test_node *t, const char *method, const char *path, const char *tok,
                 const char *json, json_t **out)
{
    http_result r = {0};
    if (!tn_http(t, method, path, tok, json, json ? strlen(json) : 0, &r)) {
        free(r.body);
        return -1;
    }
    if (out)
        *out = json_loads(r.body ? r.body : "", 0, NULL);
    free(r.body);
    return r.status;
}

/* Post alliance staff's item at HQ and propose to release it to JPN: the
 * request's id; its answer in *out (may be NULL). */
static bool open_request(const char *word, char rid[37], json_t **out)
{
    char id[37] = "", path[128], req[1024], when[40];
    if (!fu_post(&hq, ingrid, "space", S_NATO, word, id))
        return false;
    snprintf(path, sizeof path, "/api/v1/items/%s/release-requests", id);
    snprintf(req, sizeof req, "{\"label\":%s,\"reason\":\"Japan needs it\",\"deadline\":\"%s\"}",
             S_NATO_JPN, iso(DEADLINE, when));
    json_t *j = NULL;
    long st = call(&hq, "POST", path, ingrid, req, &j);
    snprintf(rid, 37, "%s", str(j, "id"));
    if (out)
        *out = j;
    else
        json_decref(j);
    return st == 201;
}

/* A request as tok sees it at t (NULL when not 200). */
static json_t *request_at(const test_node *t, const char *tok, const char *rid, long *status)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/release-requests/%s", rid);
    json_t *j = NULL;
    long st = call(t, "GET", path, tok, NULL, &j);
    if (status)
        *status = st;
    if (st != 200) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Wait (up to a minute) until rid at t, as tok, has `field` starting with
 * `want` ("" : until it is there at all). */
static bool wait_for(const test_node *t, const char *tok, const char *rid, const char *field,
                     const char *want)
{
    for (int i = 0; i < 600; i++) {
        json_t *j = request_at(t, tok, rid, NULL);
        bool yes = j && strncmp(str(j, field), want, strlen(want)) == 0;
        json_decref(j);
        if (yes)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

static long act(const test_node *t, const char *tok, const char *rid, const char *what,
                const char *json)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/release-requests/%s/%s", rid, what);
    return call(t, "POST", path, tok, json, NULL);
}

/* How many events `event` by `actor` rid's history at HQ holds. */
static int events(const char *rid, const char *event, const char *actor)
{
    json_t *j = request_at(&hq, ingrid, rid, NULL);
    json_t *e;
    size_t i;
    int n = 0;
    json_array_foreach(json_object_get(j, "history"), i, e)
        n += strcmp(str(e, "event"), event) == 0 && strcmp(str(e, "actor"), actor) == 0;
    json_decref(j);
    return n;
}

/* Audit records of `action` at DIR that are refusals naming `needle`. */
static int refusals(const char *data_dir, const char *action, const char *needle)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "'%s' audit show --data-dir '%s' --action %s | grep refused | grep -c -- '%s'",
             exe, data_dir, action, needle);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

/* A release message signed with the key of KEY_DIR: the envelope
 * (malloc'd). */
static char *signed_message(const char *key_dir, const char *payload)
{
    char path[512];
    snprintf(path, sizeof path, "%s/node.key", key_dir);
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    static const char prefix[] = "liaison-message/1";
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char sig[256];
    size_t n = sizeof sig;
    bool ok = k && c && EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k) == 1 &&
              EVP_DigestSignUpdate(c, prefix, sizeof prefix) == 1 &&
              EVP_DigestSignUpdate(c, payload, strlen(payload)) == 1 &&
              EVP_DigestSignFinal(c, sig, &n) == 1;
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(k);
    if (!ok)
        return NULL;
    char m[4096], g[512];
    sodium_bin2base64(m, sizeof m, (const unsigned char *)payload, strlen(payload),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(g, sizeof g, sig, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *env = json_pack("{s:s, s:s}", "message", m, "signature", g);
    char *text = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    return text;
}

/* The error message of the last refused message ("" when none). */
static char last_error[300];

/* PUT a concurrence for rid to HQ, signed with SIGNER's key, saying it is
 * from FROM, over the TLS identity of SENDER: the status. */
static long send_concur(const char *signer, const char *sender, const char *from,
                        const char *rid)
{
    char payload[512], mid[64];
    snprintf(payload, sizeof payload,
             "{\"by\":\"test\",\"from\":\"%s\",\"kind\":\"concur\",\"rid\":\"%s\",\"time\":1,"
             "\"to\":\"HQ\"}", from, rid);
    char *env = signed_message(signer, payload);
    snprintf(mid, sizeof mid, "concur-%s", rid);
    http_result r;
    long st = env && fu_put_route(pa, A, sender, "/fed/v1/release", mid, env, &r) ? r.status : -1;
    last_error[0] = '\0';
    if (env) {
        json_t *a = json_loads(r.body ? r.body : "", 0, NULL);
        snprintf(last_error, sizeof last_error, "%s", str(a, "message"));
        json_decref(a);
        free(r.body);
    }
    free(env);
    return st;
}

/* HQ's demo data with Denmark's release authority (mette.sorensen) a
 * member only: Denmark then decides through its own node. */
static bool hq_demo(const char *root, char out[256])
{
    char src[512];
    snprintf(src, sizeof src, "%s/data/demo.json", root);
    json_t *d = json_load_file(src, 0, NULL);
    json_t *users = json_object_get(d, "users"), *u;
    size_t i;
    json_array_foreach(users, i, u)
        if (strcmp(str(u, "name"), "mette.sorensen") == 0) {
            json_t *roles = json_object_get(u, "roles"), *r;
            size_t k;
            json_array_foreach(roles, k, r)
                if (strcmp(json_string_value(r), "release_authority") == 0) {
                    json_array_remove(roles, k);
                    break;
                }
        }
    json_t *items = json_object_get(d, "items");
    for (i = json_array_size(items); i-- > 0;)
        if (strcmp(str(json_array_get(items, i), "author"), "mette.sorensen") == 0)
            json_array_remove(items, i); /* she may no longer release them */
    snprintf(out, 256, "%s/hq-demo.json", dir);
    bool ok = d && json_dump_file(d, out, JSON_INDENT(1)) == 0;
    json_decref(d);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIAISON_EXE SOURCE_ROOT\n", argv[0]);
        return 2;
    }
    exe = argv[1];
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    snprintf(dir, sizeof dir, "/tmp/lsn-fedrel-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/dnk", dir);
    snprintf(C, sizeof C, "%s/france", dir);
    snprintf(CLOCK, sizeof CLOCK, "%s/clock", dir);
    set_clock(T0);
    pa = fu_free_port();
    pb = fu_free_port();
    while (pb == pa)
        pb = fu_free_port();
    char demo[256], more[1024];
    ok(hq_demo(argv[2], demo), "HQ's demo data without a Danish release authority");
    ok(fu_node_init(exe, A, "HQ", "NATO") && fu_node_init(exe, B, "DNK", "DNK") &&
           fu_node_init(exe, C, "FRANCE", "FRA"),
       "three node identities made");
    ok(fu_peer_add(exe, A, "DNK", "DNK", B, pb) && fu_peer_add(exe, B, "HQ", "NATO", A, pa) &&
           fu_peer_add(exe, A, "FRANCE", "FRA", C, fu_free_port()),
       "HQ and DNK each the other's peer; FRANCE a peer of HQ");
    snprintf(more, sizeof more,
             "--demo-file %s --release-clock %s --release-settle-interval 3600", demo, CLOCK);
    if (!ok(fu_start_more(&hq, exe, A, pa, more) && fu_start(&dk, exe, B, pb),
            "the two nodes start")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    ingrid = tn_token(&hq, "ingrid.halvorsen");
    claire_hq = tn_token(&hq, "claire.dubois");
    mette_dk = tn_token(&dk, "mette.sorensen");
    claire_dk = tn_token(&dk, "claire.dubois");

    /* --- the authorities: France here, Denmark on its node --- */
    char rid1[37];
    json_t *j = NULL;
    ok(open_request("fedrel one", rid1, &j), "alliance staff's request opens at HQ");
    bool fra = false, dnk = false, france = false, mette = false;
    json_t *au;
    size_t i;
    json_array_foreach(json_object_get(j, "authorities"), i, au)
    {
        fra |= strcmp(str(au, "user"), "claire.dubois") == 0;
        dnk |= strcmp(str(au, "user"), "peer:DNK") == 0 && strcmp(str(au, "node"), "DNK") == 0 &&
               strcmp(str(au, "organisation"), "DNK") == 0;
        france |= strcmp(str(au, "user"), "peer:FRANCE") == 0;
        mette |= strcmp(str(au, "user"), "mette.sorensen") == 0;
    }
    json_decref(j);
    ok(fra && dnk && !mette, "the_allied_peer_is_one_authority_for_its_nation");
    ok(!france, "a_nation_decided_here_names_no_peer");

    /* --- the notice reaches DNK --- */
    ok(wait_for(&dk, mette_dk, rid1, "state", "open"),
       "the_notice_reaches_the_peer_and_its_release_authority_sees_it");
    long st = 0;
    j = request_at(&dk, mette_dk, rid1, &st);
    ok(j && strcmp(str(j, "origin"), "HQ") == 0 &&
           strstr(str(j, "marking"), "JPN") && strcmp(str(j, "reason"), "Japan needs it") == 0,
       "the_peer_sees_the_origin_the_proposed_marking_and_the_reason");
    ok(j && !json_object_get(j, "body"), "the_peer_gets_no_body_of_an_item_not_released_to_it");
    json_decref(j);
    json_decref(request_at(&dk, claire_dk, rid1, &st));
    ok(st == 404, "another_nations_authority_at_the_peer_does_not_see_it (%ld)", st);
    j = NULL;
    call(&dk, "GET", "/api/v1/release-requests?state=open", mette_dk, NULL, &j);
    bool listed = false;
    json_array_foreach(json_object_get(j, "requests"), i, au)
        listed |= strcmp(str(au, "id"), rid1) == 0;
    json_decref(j);
    ok(listed, "it_is_in_the_peer_authoritys_open_requests");

    /* --- consensus across nodes --- */
    ok(act(&hq, claire_hq, rid1, "concur", NULL) == 200, "france_concurs_at_hq");
    j = request_at(&hq, ingrid, rid1, NULL);
    ok(j && strcmp(str(j, "state"), "open") == 0, "one_ally_concurring_is_not_consensus");
    json_decref(j);
    ok(act(&dk, mette_dk, rid1, "concur", NULL) == 200, "denmark_concurs_at_its_node");
    ok(wait_for(&hq, ingrid, rid1, "state", "adopted"),
       "remote_and_local_concurrence_adopt_early");
    ok(events(rid1, "concur", "peer:DNK") == 1, "the_history_says_denmark_concurred");
    ok(wait_for(&dk, mette_dk, rid1, "state", "adopted"), "the_outcome_reaches_the_peer");
    ok(wait_for(&dk, mette_dk, rid1, "delivery", "accepted"),
       "the_peer_sees_its_answer_was_accepted");

    /* --- a remote break before the deadline --- */
    char rid2[37];
    ok(open_request("fedrel two", rid2, NULL) && wait_for(&dk, mette_dk, rid2, "state", "open"),
       "a second request reaches DNK");
    ok(act(&dk, mette_dk, rid2, "break-silence", "{\"reason\":\"not before the summit\"}") ==
           200,
       "denmark_breaks_silence_at_its_node");
    ok(wait_for(&hq, ingrid, rid2, "state", "silence-broken"),
       "a_remote_break_before_the_deadline_stops_it");
    j = request_at(&hq, ingrid, rid2, NULL);
    bool why = false;
    json_array_foreach(json_object_get(j, "authorities"), i, au)
        why |= strcmp(str(au, "user"), "peer:DNK") == 0 &&
               strcmp(str(au, "reason"), "not before the summit") == 0;
    json_decref(j);
    ok(why, "its_reason_is_shown_at_the_origin");
    ok(wait_for(&dk, mette_dk, rid2, "state", "silence-broken"), "and_the_peer_sees_it_stopped");

    /* --- a remote break after the deadline --- */
    char rid3[37];
    ok(open_request("fedrel three", rid3, NULL) && wait_for(&dk, mette_dk, rid3, "state", "open"),
       "a third request reaches DNK");
    set_clock(DEADLINE + 1); /* HQ's clock: past the deadline; DNK's answer not yet sent */
    ok(act(&dk, mette_dk, rid3, "break-silence", "{\"reason\":\"too late\"}") == 200,
       "denmark_breaks_silence_after_hqs_deadline");
    ok(wait_for(&dk, mette_dk, rid3, "delivery", "refused: The request is closed."),
       "a_remote_break_after_the_deadline_is_refused_by_the_origin");
    j = request_at(&hq, ingrid, rid3, NULL);
    ok(j && strcmp(str(j, "state"), "adopted") == 0, "the_request_is_adopted_not_broken");
    json_decref(j);
    ok(refusals(A, "release.break", "peer:DNK") >= 1, "the_late_break_is_audited_at_the_origin");
    ok(refusals(B, "fed.release", "break to HQ") >= 1, "and_at_the_peer");
    ok(wait_for(&dk, mette_dk, rid3, "state", "adopted"), "the_peer_sees_it_adopted");
    set_clock(T0);

    /* --- forged answers --- */
    char rid4[37];
    ok(open_request("fedrel four", rid4, NULL) && wait_for(&dk, mette_dk, rid4, "state", "open"),
       "a fourth request reaches DNK");
    st = send_concur(C, C, "FRANCE", rid4);
    ok(st == 404 && strcmp(last_error, "No such release request.") == 0,
       "a_concur_from_a_peer_that_is_not_the_authority_is_refused (%ld %s)", st, last_error);
    st = send_concur(C, C, "DNK", rid4);
    ok(st == 403 && strstr(last_error, "sent by FRANCE"),
       "a_message_signed_by_one_peer_in_anothers_name_is_refused (%ld %s)", st, last_error);
    st = send_concur(C, B, "DNK", rid4);
    ok(st == 403 && strstr(last_error, "signature does not verify"),
       "a_message_whose_signature_is_not_its_senders_is_refused (%ld %s)", st, last_error);
    ok(events(rid4, "concur", "peer:DNK") == 0 && events(rid4, "concur", "peer:FRANCE") == 0,
       "none_of_them_is_in_the_history");
    ok(refusals(A, "release.concur", "peer:FRANCE") >= 1 &&
           refusals(A, "fed.release", "signature does not verify") >= 1,
       "each_refusal_is_audited_at_the_origin");

    /* --- exactly once --- */
    st = send_concur(B, B, "DNK", rid4);
    long again = send_concur(B, B, "DNK", rid4);
    ok(st == 200 && again == 200 && events(rid4, "concur", "peer:DNK") == 1,
       "the_same_signed_concurrence_sent_twice_is_taken_once (%ld, %ld)", st, again);
    j = request_at(&hq, ingrid, rid4, NULL);
    ok(j && strcmp(str(j, "state"), "open") == 0, "and_the_request_waits_for_france");
    json_decref(j);
    ok(act(&hq, claire_hq, rid4, "concur", NULL) == 200 &&
           wait_for(&hq, ingrid, rid4, "state", "adopted"),
       "france_concurring_then_adopts_it");

    free(ingrid);
    free(claire_hq);
    free(mette_dk);
    free(claire_dk);
    tn_stop(&hq, SIGTERM);
    tn_stop(&dk, SIGTERM);
    const char *va[] = {"verify", "--data-dir", A, NULL};
    const char *vb[] = {"verify", "--data-dir", B, NULL};
    ok(fu_run(exe, va) == 0 && fu_run(exe, vb) == 0, "both_audit_chains_verify");
    ok(tn_openapi_conforms(&hq) && tn_openapi_conforms(&dk),
       "every exchange matched docs/api/openapi.yaml");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (tap_failed == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    curl_global_cleanup();
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
