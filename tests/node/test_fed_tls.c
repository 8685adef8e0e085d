/* tests/node/test_fed_tls.c — who may speak on a federation listener,
 * decided in the TLS handshake (issue 10, "Proof": "An unknown certificate
 * is refused at TLS"), against the peers registered now.
 *
 * HQ (NATO) and TOKYO (JPN) are each the other's peer; STRANGER has an
 * identity no node registered; SHAPE (NATO) has TOKYO registered but
 * TOKYO does not know it yet. A client with STRANGER's certificate, or
 * with none, fails the TLS handshake at TOKYO (libcurl reports a TLS
 * error; no HTTP status at all), as SHAPE does at first; HQ's passes.
 * Then an administrator registers SHAPE at the running TOKYO (POST
 * /api/v1/peers): SHAPE's certificate passes the handshake at once, the
 * item SHAPE posted meanwhile arrives at TOKYO, and TOKYO sends SHAPE what
 * it releases to it, with no restart of either.
 *
 * Usage: test_fed_tls LIAISON_EXE */
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

#define REL_JPN                                                                            \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}"
#define EMPTY_BATCH "{\"destination\":\"TOKYO\",\"items\":[]}"

static const char *exe;

/* The exchange with TOKYO's listener as the holder of CLIENT_DIR's key
 * (NULL: no certificate) ended in the TLS handshake: no HTTP status, and
 * libcurl's error is one of TLS (the handshake refused, or its alert read
 * as the first answer: with TLS 1.3 the client's certificate is judged
 * after the client's side of the handshake is done). */
static bool refused_at_tls(int port, const char *server_dir, const char *client_dir,
                           const char *what)
{
    http_result r;
    int code;
    char why[CURL_ERROR_SIZE];
    fu_put_why(port, server_dir, client_dir, "1-1", EMPTY_BATCH, &r, &code, why);
    free(r.body);
    /* Under TLS 1.3 the client may finish its half of the handshake and
     * send before the server's alert arrives: it then sees the connection
     * closed under its write (a broken pipe or a reset) rather than the
     * alert. Either way no HTTP answer came: the handshake was refused. */
    bool tls = r.status == 0 &&
               (code == CURLE_SSL_CONNECT_ERROR ||
                ((code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR) &&
                 (strstr(why, "alert") || strstr(why, "Broken pipe") ||
                  strstr(why, "reset"))));
    printf("# %s: HTTP status %ld, curl %d (%s)\n", what, r.status, code, why);
    return tls;
}

/* The same client gets an HTTP answer: its status. */
static long answered(int port, const char *server_dir, const char *client_dir)
{
    http_result r;
    int code;
    char why[CURL_ERROR_SIZE];
    fu_put_why(port, server_dir, client_dir, "1-1", EMPTY_BATCH, &r, &code, why);
    free(r.body);
    if (r.status == 0)
        printf("# no answer: curl %d (%s)\n", code, why);
    return r.status;
}

/* Wait (at most 60 s) until a search for word at t finds want items. */
static int wait_count(const test_node *t, const char *token, const char *word, int want)
{
    int n = -1;
    for (int i = 0; i < 600; i++) {
        n = fu_count(t, token, word);
        if (n == want)
            break;
        usleep(100000);
    }
    return n;
}

/* Register the node of PEER_DIR as peer NAME of NATION at the running t
 * (POST /api/v1/peers as TOKEN): the status. */
static long api_peer_add(const test_node *t, const char *token, const char *name,
                         const char *nation, const char *peer_dir, int port)
{
    char crt[512], url[64];
    snprintf(crt, sizeof crt, "%s/node.crt", peer_dir);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    FILE *f = fopen(crt, "r");
    static char pem[8192];
    size_t n = f ? fread(pem, 1, sizeof pem - 1, f) : 0;
    if (f)
        fclose(f);
    pem[n] = '\0';
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "url", url, "nation",
                            nation, "certificate", pem);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_result r;
    long st = text && tn_http(t, "POST", "/api/v1/peers", token, text, strlen(text), &r)
                  ? r.status : 0;
    if (st)
        free(r.body);
    free(text);
    return st;
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
    char dir[] = "/tmp/lsn-fedtls-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char A[300], B[300], F[300], S[300];
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/tokyo", dir);
    snprintf(F, sizeof F, "%s/stranger", dir);
    snprintf(S, sizeof S, "%s/shape", dir);
    int pa = fu_free_port(), pb = fu_free_port(), ps = fu_free_port();
    while (pb == pa)
        pb = fu_free_port();
    while (ps == pa || ps == pb)
        ps = fu_free_port();

    ok(fu_node_init(exe, A, "HQ", "NATO") && fu_node_init(exe, B, "TOKYO", "JPN") &&
           fu_node_init(exe, F, "STRANGER", "NATO") && fu_node_init(exe, S, "SHAPE", "NATO"),
       "four node identities made");
    ok(fu_peer_add(exe, A, "TOKYO", "JPN", B, pb) && fu_peer_add(exe, B, "HQ", "NATO", A, pa) &&
           fu_peer_add(exe, S, "TOKYO", "JPN", B, pb),
       "HQ and TOKYO each the other's peer; TOKYO a peer of SHAPE, not yet the other way");
    test_node a, b, s;
    if (!ok(fu_start(&a, exe, A, pa) && fu_start(&b, exe, B, pb) && fu_start(&s, exe, S, ps),
            "the three nodes start")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    char *admin = tn_token(&b, "marco.bellini"), *reader = tn_token(&b, "kenji.watanabe"),
         *poster = tn_token(&s, "ingrid.halvorsen");

    ok(refused_at_tls(pb, B, F, "unknown"), "an_unknown_certificate_fails_the_tls_handshake");
    ok(refused_at_tls(pb, B, NULL, "none"), "no_certificate_fails_the_tls_handshake");
    ok(refused_at_tls(pb, B, S, "not yet registered"),
       "a_node_not_registered_here_fails_the_tls_handshake");
    long st = answered(pb, B, A);
    ok(st == 200, "a_registered_peer_passes_the_handshake_and_is_answered (%ld)", st);

    /* SHAPE posts while TOKYO does not know it: its sender is refused at
     * TLS and retries. */
    char id[37];
    ok(fu_post(&s, poster, "cyber-defence", REL_JPN, "tlslate from shape", id),
       "SHAPE accepts an item released to JPN");
    ok(fu_count(&b, reader, "tlslate") == 0, "nothing_of_an_unregistered_node_is_taken");
    st = api_peer_add(&b, admin, "SHAPE", "NATO", S, ps);
    ok(st == 201, "an administrator registers SHAPE at the running TOKYO (%ld)", st);
    st = answered(pb, B, S);
    ok(st == 200, "a_peer_added_while_the_node_runs_passes_the_handshake_at_once (%ld)", st);
    ok(wait_count(&b, reader, "tlslate", 1) == 1,
       "its_item_arrives_without_a_restart_of_either_node");
    /* And the other way: TOKYO's sender for SHAPE starts with the
     * registration, not with TOKYO's next start. */
    char *tposter = tn_token(&b, "ingrid.halvorsen");
    ok(fu_post(&b, tposter, "cyber-defence", REL_JPN, "tlsback from tokyo", id),
       "TOKYO accepts an item released to NATO and JPN");
    ok(wait_count(&s, poster, "tlsback", 1) == 1,
       "the_running_node_sends_to_a_peer_added_since_it_started");
    free(tposter);
    ok(refused_at_tls(pb, B, F, "unknown, after"),
       "the_unknown_certificate_is_still_refused_after_the_registry_changed");

    free(admin);
    free(reader);
    free(poster);
    tn_stop(&a, SIGTERM);
    tn_stop(&b, SIGTERM);
    tn_stop(&s, SIGTERM);
    const char *vb[] = {"verify", "--data-dir", B, NULL};
    const char *vs[] = {"verify", "--data-dir", S, NULL};
    ok(fu_run(exe, vb) == 0 && fu_run(exe, vs) == 0, "the_audit_chains_verify");
    ok(tn_openapi_conforms(&b) && tn_openapi_conforms(&s),
       "the API exchanges match the spec");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (tap_failed == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    curl_global_cleanup();
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
