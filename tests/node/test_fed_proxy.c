/* tests/node/test_fed_proxy.c — a tampering proxy between two running
 * nodes (issue 10, "Proof": "a test proxy between two nodes flips one byte
 * of the label, of the body, of the signature, swaps a label between two
 * items, replays an old batch, and wraps the signed element; each is
 * refused and audited, and the items behind it still arrive").
 *
 * HQ (NATO) sends to TOKYO (JPN) through the proxy: HQ has TOKYO
 * registered at the proxy's address with TOKYO's certificate, and the
 * proxy serves TLS with TOKYO's certificate and key, so HQ's pin holds (a
 * man in the middle who stole TOKYO's key). The proxy forwards each batch
 * to TOKYO's real listener with HQ's client certificate and key (TOKYO's
 * pin of HQ holds too), and hands TOKYO's answer back to HQ: the proxy is
 * in the path of HQ's real sender, its retries, its probes and its
 * cursor. The proxy runs in this process (libmicrohttpd for HQ's side,
 * libcurl for TOKYO's) and alters, in the batch as it passes, the items
 * whose body starts with "tampvictim", as the case at hand says.
 *
 * For each alteration an item is posted at HQ, then a genuine one behind
 * it: the altered item is refused at TOKYO and audited there exactly once
 * (`liaison audit show`), it never appears, the one behind arrives, and
 * HQ's cursor moves on. A replayed old batch (sent again verbatim before
 * the current one) stores nothing twice. Both audit chains verify.
 *
 * Usage: test_fed_proxy LIAISON_EXE */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "../tap.h"
#include "fed_util.h"
#include "tamper_util.h"

#define REL_JPN                                                                            \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}"
#define REL_JPN_KOR                                                                        \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\",\"KOR\"]}]}"
#define VICTIM "tampvictim"

static const char *exe;
static char A[300], B[300];
static int pb;

/* ---- the proxy ----------------------------------------------------------- */

typedef enum mode {
    PASS,         /* forward as it is */
    FLIP_LABEL,   /* one byte of the signed label */
    FLIP_BODY,    /* one byte of the body */
    FLIP_SIG,     /* one byte of the signature value */
    SWAP_LABEL,   /* the label of another item (the donor's) */
    WRAP,         /* the signed element wrapped, a forged one in its place */
    REPLAY,       /* an old batch sent again, verbatim, before this one */
    NMODES
} mode;

static const char *const mode_names[NMODES] = {
    "passed", "label byte flipped", "body byte flipped", "signature byte flipped",
    "label swapped", "signed element wrapped", "old batch replayed",
};

static struct {
    pthread_mutex_t mu;
    mode mode;
    unsigned done[NMODES]; /* items (or batches, REPLAY) altered per mode */
    char *donor;           /* the binding of the item "tampdonor" as it passed */
    char *old_txn, *old_batch; /* the first batch that carried "tampwarm" */
    long replay_status;    /* TOKYO's answer to the replay */
    json_int_t replay_stored, replay_dups;
} px = {.mu = PTHREAD_MUTEX_INITIALIZER};

static char *unbase64(const char *b64)
{
    size_t n = strlen(b64), len = 0;
    char *o = malloc(n + 1);
    if (o && sodium_base642bin((unsigned char *)o, n, b64, n, NULL, &len, NULL,
                               sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(o);
        return NULL;
    }
    if (o)
        o[len] = '\0';
    return o;
}

static json_t *base64(const char *s)
{
    size_t n = strlen(s), cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *t = malloc(cap);
    sodium_bin2base64(t, cap, (const unsigned char *)s, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(t);
    free(t);
    return j;
}

/* Alter one item of a batch as m says (under px.mu); true if it did. */
static bool alter(json_t *it, mode m)
{
    const char *body = json_string_value(json_object_get(it, "body"));
    if (m == FLIP_BODY) {
        char *b = strdup(body);
        b[strlen(b) - 1] ^= 0x01;
        json_object_set_new(it, "body", json_string(b));
        free(b);
        return true;
    }
    char *xml = unbase64(json_string_value(json_object_get(it, "binding")));
    char *t = NULL;
    if (!xml)
        return false;
    switch (m) {
    case FLIP_LABEL: t = tamper_flip_label(xml); break;
    case FLIP_SIG: t = tamper_flip_signature(xml); break;
    case SWAP_LABEL: t = px.donor ? tamper_swap_label(xml, px.donor) : NULL; break;
    case WRAP: t = px.donor ? tamper_wrap(xml, px.donor) : NULL; break;
    default: break;
    }
    free(xml);
    if (!t)
        return false;
    json_object_set_new(it, "binding", base64(t));
    free(t);
    return true;
}

/* PUT body to TOKYO's listener as HQ: TOKYO's status and answer (*answer,
 * free). */
static size_t collect(char *p, size_t size, size_t nmemb, void *ctx)
{
    http_result *r = ctx;
    size_t n = size * nmemb;
    char *b = realloc(r->body, r->len + n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, p, n);
    r->len += n;
    b[r->len] = '\0';
    r->body = b;
    return n;
}

static long forward(const char *txn, const char *body, char **answer)
{
    http_result r = {0};
    CURL *c = curl_easy_init();
    char url[160], ca[512], crt[512], key[512];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/fed/v1/send/%s", pb, txn);
    snprintf(ca, sizeof ca, "%s/node.crt", B);
    snprintf(crt, sizeof crt, "%s/node.crt", A);
    snprintf(key, sizeof key, "%s/node.key", A);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_SSLCERT, crt);
    curl_easy_setopt(c, CURLOPT_SSLKEY, key);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    *answer = r.body;
    return r.status;
}

/* A batch from HQ: remember what later cases need, alter it as the mode
 * says, forward it; TOKYO's answer back. */
static long relay(const char *txn, const char *text, char **answer)
{
    json_t *batch = json_loads(text, 0, NULL);
    json_t *items = json_object_get(batch, "items");
    pthread_mutex_lock(&px.mu);
    mode m = px.mode;
    bool victims = false, warm = false;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        const char *body = json_string_value(json_object_get(it, "body"));
        if (!body)
            continue;
        if (strncmp(body, "tampwarm", 8) == 0)
            warm = true;
        if (strncmp(body, "tampdonor", 9) == 0 && !px.donor)
            px.donor = unbase64(json_string_value(json_object_get(it, "binding")));
        if (strncmp(body, VICTIM, strlen(VICTIM)) == 0) {
            victims = true;
            if (m != PASS && m != REPLAY && alter(it, m))
                px.done[m]++;
        }
    }
    if (warm && !px.old_batch) {
        px.old_batch = strdup(text);
        px.old_txn = strdup(txn);
    }
    char *old_batch = NULL, *old_txn = NULL;
    if (m == REPLAY && victims && px.old_batch && px.done[REPLAY] == 0) {
        old_batch = strdup(px.old_batch);
        old_txn = strdup(px.old_txn);
        px.done[REPLAY]++;
    }
    pthread_mutex_unlock(&px.mu);
    if (old_batch) {
        char *ans = NULL;
        long st = forward(old_txn, old_batch, &ans);
        json_t *j = json_loads(ans ? ans : "", 0, NULL);
        pthread_mutex_lock(&px.mu);
        px.replay_status = st;
        px.replay_stored = json_integer_value(json_object_get(j, "stored"));
        px.replay_dups = json_integer_value(json_object_get(j, "duplicates"));
        pthread_mutex_unlock(&px.mu);
        json_decref(j);
        free(ans);
        free(old_batch);
        free(old_txn);
    }
    char *out = batch ? json_dumps(batch, JSON_COMPACT) : strdup(text);
    json_decref(batch);
    long st = forward(txn, out, answer);
    free(out);
    return st;
}

typedef struct upload {
    char *data;
    size_t len;
} upload;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *data_size, void **state)
{
    (void)cls;
    (void)version;
    upload *u = *state;
    if (!u) {
        *state = calloc(1, sizeof *u);
        return *state ? MHD_YES : MHD_NO;
    }
    if (*data_size) {
        char *d = realloc(u->data, u->len + *data_size + 1);
        if (!d)
            return MHD_NO;
        memcpy(d + u->len, data, *data_size);
        u->len += *data_size;
        d[u->len] = '\0';
        u->data = d;
        *data_size = 0;
        return MHD_YES;
    }
    const char *prefix = "/fed/v1/send/";
    char *answer = NULL;
    long st = 502;
    if (strcmp(method, "PUT") == 0 && strncmp(url, prefix, strlen(prefix)) == 0)
        st = relay(url + strlen(prefix), u->data ? u->data : "", &answer);
    if (st == 0)
        st = 502; /* TOKYO did not answer: HQ retries */
    const char *text = answer ? answer : "{}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)st, r);
    MHD_destroy_response(r);
    free(answer);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **state,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    upload *u = *state;
    if (u)
        free(u->data);
    free(u);
    *state = NULL;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    static const size_t cap = 1 << 16;
    char *b = f ? calloc(1, cap) : NULL;
    if (b && fread(b, 1, cap - 1, f) == 0) {
        free(b);
        b = NULL;
    }
    if (f)
        fclose(f);
    return b;
}

/* The proxy on 127.0.0.1:port, serving TLS as TOKYO (its certificate and
 * key): cert and key are kept for the daemon's life. */
static struct MHD_Daemon *proxy_start(int port, char **cert, char **key)
{
    char p[512];
    snprintf(p, sizeof p, "%s/node.crt", B);
    *cert = slurp(p);
    snprintf(p, sizeof p, "%s/node.key", B);
    *key = slurp(p);
    if (!*cert || !*key)
        return NULL;
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG,
                            (uint16_t)port, NULL, NULL, on_request, NULL,
                            MHD_OPTION_HTTPS_MEM_CERT, *cert, MHD_OPTION_HTTPS_MEM_KEY, *key,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
}

/* ---- the test ------------------------------------------------------------ */

/* How many `fed.receive` records at TOKYO are refusals (`liaison audit
 * show`, read while the node runs). */
static int refusals(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "'%s' audit show --data-dir '%s' --action fed.receive | grep -c refused", exe, B);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
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

static void set_mode(mode m)
{
    pthread_mutex_lock(&px.mu);
    px.mode = m;
    pthread_mutex_unlock(&px.mu);
}

static unsigned done(mode m)
{
    pthread_mutex_lock(&px.mu);
    unsigned n = px.done[m];
    pthread_mutex_unlock(&px.mu);
    return n;
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
    char dir[] = "/tmp/lsn-fedpx-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/tokyo", dir);
    int pa = fu_free_port(), pp = fu_free_port();
    pb = fu_free_port();
    while (pb == pa)
        pb = fu_free_port();
    while (pp == pa || pp == pb)
        pp = fu_free_port();

    ok(fu_node_init(exe, A, "HQ", "NATO") && fu_node_init(exe, B, "TOKYO", "JPN"),
       "two node identities made");
    /* HQ reaches TOKYO at the proxy's address, pinning TOKYO's
     * certificate; TOKYO knows HQ by its own. */
    ok(fu_peer_add(exe, A, "TOKYO", "JPN", B, pp) && fu_peer_add(exe, B, "HQ", "NATO", A, pa),
       "TOKYO registered at HQ at the proxy's address, HQ at TOKYO");
    char *cert = NULL, *key = NULL;
    struct MHD_Daemon *proxy = proxy_start(pp, &cert, &key);
    test_node a, b;
    if (!ok(proxy && fu_start(&a, exe, A, pa) && fu_start(&b, exe, B, pb),
            "the proxy (as TOKYO) and the two nodes start")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    char *poster = tn_token(&a, "ingrid.halvorsen"), *reader = tn_token(&b, "kenji.watanabe"),
         *admin = tn_token(&a, "marco.bellini");
    char id[37];

    /* Through the proxy untouched: a first batch (kept for the replay) and
     * the donor of a label. */
    ok(fu_post(&a, poster, "cyber-defence", REL_JPN, "tampwarm through the proxy", id) &&
           wait_count(&b, reader, "tampwarm", 1) == 1,
       "an_item_passes_the_proxy_untouched_and_arrives");
    ok(fu_post(&a, poster, "cyber-defence", REL_JPN_KOR, "tampdonor of a label", id) &&
           wait_count(&b, reader, "tampdonor", 1) == 1,
       "the_donor_of_a_label_arrives");
    int before = refusals();
    ok(before == 0, "no refusal at TOKYO yet (%d)", before);

    const mode cases[] = {FLIP_LABEL, FLIP_BODY, FLIP_SIG, SWAP_LABEL, WRAP};
    const char *const words[] = {"tamplabel", "tampbody", "tampsig", "tampswap", "tampwrap"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        set_mode(cases[i]);
        char victim[96], good[96];
        snprintf(victim, sizeof victim, VICTIM "%zu %s", i, words[i]);
        snprintf(good, sizeof good, "tampbehind%zu genuine", i);
        char gword[32];
        snprintf(gword, sizeof gword, "tampbehind%zu", i);
        ok(fu_post(&a, poster, "cyber-defence", REL_JPN, victim, id) &&
               fu_post(&a, poster, "cyber-defence", REL_JPN, good, id),
           "HQ accepts an item and one behind it (%s)", mode_names[cases[i]]);
        ok(wait_count(&b, reader, gword, 1) == 1, "the_item_behind_arrives: %s",
           mode_names[cases[i]]);
        set_mode(PASS);
        ok(done(cases[i]) >= 1, "the proxy altered the item: %s", mode_names[cases[i]]);
        char vword[32];
        snprintf(vword, sizeof vword, VICTIM "%zu", i);
        ok(fu_count(&b, reader, vword) == 0, "the_altered_item_never_appears: %s",
           mode_names[cases[i]]);
        int n = refusals();
        ok(n == before + (int)i + 1, "refused_and_audited_exactly_once: %s (%d refusals in all)",
           mode_names[cases[i]], n - before);
    }

    /* An old batch replayed verbatim (the proxy sends it again before the
     * next one): every item in it is durable at TOKYO already, so nothing
     * is stored twice; it is what an honest sender's retry after a lost
     * answer looks like, so it is skipped, not a refusal. */
    set_mode(REPLAY);
    ok(fu_post(&a, poster, "cyber-defence", REL_JPN, VICTIM "r tampreplay", id) &&
           fu_post(&a, poster, "cyber-defence", REL_JPN, "tampbehindr genuine", id),
       "HQ accepts two items while the proxy replays an old batch");
    ok(wait_count(&b, reader, "tampbehindr", 1) == 1, "the_items_behind_a_replay_arrive");
    set_mode(PASS);
    pthread_mutex_lock(&px.mu);
    long rst = px.replay_status;
    json_int_t rstored = px.replay_stored, rdups = px.replay_dups;
    pthread_mutex_unlock(&px.mu);
    ok(done(REPLAY) == 1 && rst == 200 && rstored == 0 && rdups >= 1,
       "a_replayed_old_batch_stores_nothing (%ld, stored %lld, duplicates %lld)", rst,
       (long long)rstored, (long long)rdups);
    ok(fu_count(&b, reader, "tampwarm") == 1 && fu_count(&b, reader, "tampreplay") == 1,
       "what_the_replay_carried_is_there_once");
    ok(refusals() == before + 5, "a_replay_is_not_audited_as_a_refusal");

    /* HQ's sender went on: nothing waits for TOKYO. */
    bool drained = false;
    for (int i = 0; i < 300 && !drained; i++) {
        long st = 0;
        json_t *peers = tn_get_json(&a, "/api/v1/peers", admin, &st);
        json_t *p0 = json_array_get(json_object_get(peers, "peers"), 0);
        drained = st == 200 && json_integer_value(json_object_get(p0, "waiting")) == 0;
        json_decref(peers);
        if (!drained)
            usleep(100000);
    }
    ok(drained, "hqs_cursor_moved_past_every_altered_item");

    char show[700];
    snprintf(show, sizeof show,
             "'%s' audit show --data-dir '%s' --action fed.receive | sed 's/^/# /'", exe, B);
    if (system(show) != 0)
        fprintf(stderr, "audit show failed\n");
    fflush(stdout);
    free(poster);
    free(reader);
    free(admin);
    tn_stop(&a, SIGTERM);
    tn_stop(&b, SIGTERM);
    MHD_stop_daemon(proxy);
    free(cert);
    free(key);
    free(px.donor);
    free(px.old_batch);
    free(px.old_txn);
    const char *va[] = {"verify", "--data-dir", A, NULL};
    const char *vb[] = {"verify", "--data-dir", B, NULL};
    ok(fu_run(exe, va) == 0 && fu_run(exe, vb) == 0, "both_audit_chains_verify");
    ok(tn_openapi_conforms(&a) && tn_openapi_conforms(&b), "the API exchanges match the spec");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (tap_failed == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    curl_global_cleanup();
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
