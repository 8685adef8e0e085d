/* tests/node/test_fed_exactly_once.c — nothing lost, nothing twice (issue
 * 10): N items are posted at HQ, three in four released to JPN, while
 * TOKYO — the receiving node — is killed with SIGKILL at random moments
 * three times (and started again), then HQ once. Afterwards TOKYO holds
 * exactly the releasable items HQ holds, each once; every item HQ
 * acknowledged is there; both audit chains verify. A reader at TOKYO
 * follows its stream all along, resuming with Last-Event-ID after each
 * kill (as a browser's EventSource does): every item TOKYO holds was
 * delivered on the stream exactly once.
 *
 * N is LIAISON_FED_EXACTLY_ONCE_N (default 1000, what CI runs under ASan on
 * two cores in about a minute; the 10,000 runs with
 * LIAISON_FED_EXACTLY_ONCE_N=10000). LIAISON_FED_SEED fixes the random
 * moments (printed, to replay a failure).
 *
 * LIAISON_TEST_STORE="postgresql://liaison@/{node}?host=...": each node
 * on a PostgreSQL database of its own (hq, tokyo; federation_exactly_once_pg).
 *
 * Usage: test_fed_exactly_once LIAISON_EXE */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "../tap.h"
#include "fed_util.h"
#include "store/store.h"

#define REL_JPN                                                                            \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}"
#define NATO_ONLY                                                                          \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}"

static bool releasable(int i) { return i % 4 != 3; }

/* counts[i]: how many items with body "eo-i" the store of d holds, read
 * through the store's interface (its URI: tn_store_of, else d's SQLite
 * file), so that either back-end is counted the same way. */
typedef struct counting { int n, *counts; } counting;

static int count_item(void *ctx, const store_item *it)
{
    counting *c = ctx;
    if (!strncmp(it->body, "eo-", 3)) {
        int i = atoi(it->body + 3);
        if (i >= 0 && i < c->n)
            c->counts[i]++;
    }
    return STORE_NEXT;
}

static bool read_counts(const char *d, int n, int *counts)
{
    char uri[1100];
    if (!tn_store_of(d, uri, sizeof uri))
        snprintf(uri, sizeof uri, "sqlite:%s/liaison.db", d);
    memset(counts, 0, (size_t)n * sizeof *counts);
    store *s = NULL;
    lsn_error err;
    counting c = { n, counts };
    bool good = store_open_keyed(uri, d, &s, &err) == LSN_OK &&
                store_item_list(s, NULL, NULL, 0, 0, count_item, &c, &err) == LSN_OK;
    if (!good)
        printf("# reading %s: %s\n", uri, err.message);
    if (s)
        store_close(s);
    return good;
}

/* ---- a stream subscriber at TOKYO that resumes ------------------------------ */

/* The subscriber: reads TOKYO's stream with libcurl (which undoes the
 * chunked framing), counts each complete event whose item body is "eo-i",
 * and when the stream ends (TOKYO killed) connects again, with
 * Last-Event-ID the last event id it was given, until told to stop. */
typedef struct follower {
    pthread_mutex_t mu;
    int port;             /* TOKYO's API, which moves at each start */
    const char *token;
    int n;
    int *delivered;       /* per i: events carrying "eo-i" */
    unsigned resumed;     /* connections made with a Last-Event-ID */
    unsigned refused;     /* answers other than 200 (a resume point refused) */
    char last_id[64];     /* "0" at first: every item the reader may see */
    _Atomic bool stop;
    char buf[1 << 16];    /* the current event, as it comes */
    size_t len;
    pthread_t thread;
} follower;

/* One complete event (its lines, without the blank line that ends it). */
static void on_event(follower *f, char *ev)
{
    const char *id = NULL, *data = NULL;
    char *save = NULL;
    for (char *line = strtok_r(ev, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "id: ", 4) == 0)
            id = line + 4;
        else if (strncmp(line, "data: ", 6) == 0)
            data = line + 6;
    }
    if (!id || !data)
        return; /* a comment (heartbeat) */
    pthread_mutex_lock(&f->mu);
    snprintf(f->last_id, sizeof f->last_id, "%s", id);
    const char *b = strstr(data, "\"body\":\"eo-");
    if (b) {
        int i = atoi(b + strlen("\"body\":\"eo-"));
        if (i >= 0 && i < f->n)
            f->delivered[i]++;
    }
    pthread_mutex_unlock(&f->mu);
}

static size_t on_stream(char *p, size_t size, size_t nmemb, void *ctx)
{
    follower *f = ctx;
    size_t n = size * nmemb;
    for (size_t k = 0; k < n; k++) {
        if (p[k] == '\r')
            continue;
        if (f->len + 1 >= sizeof f->buf)
            return 0; /* an event larger than any item's: give up this stream */
        f->buf[f->len++] = p[k];
        if (f->len >= 2 && f->buf[f->len - 1] == '\n' && f->buf[f->len - 2] == '\n') {
            f->buf[f->len] = '\0';
            on_event(f, f->buf);
            f->len = 0;
        }
    }
    return n;
}

static int stream_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return ((follower *)ctx)->stop ? 1 : 0;
}

static void *follow(void *arg)
{
    follower *f = arg;
    char url[160], auth[600], resume[120];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", f->token);
    while (!f->stop) {
        pthread_mutex_lock(&f->mu);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/stream?channel=cyber-defence",
                 f->port);
        snprintf(resume, sizeof resume, "Last-Event-ID: %s", f->last_id);
        bool again = strcmp(f->last_id, "0") != 0;
        pthread_mutex_unlock(&f->mu);
        struct curl_slist *h = curl_slist_append(NULL, auth);
        h = curl_slist_append(h, resume);
        h = curl_slist_append(h, "Accept: text/event-stream");
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, stream_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
        f->len = 0; /* a partial event of a stream that ended is not counted */
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        pthread_mutex_lock(&f->mu);
        if (status == 200 && again)
            f->resumed++;
        if (status != 0 && status != 200)
            f->refused++;
        pthread_mutex_unlock(&f->mu);
        (void)rc;
        curl_easy_cleanup(c);
        curl_slist_free_all(h);
        if (!f->stop)
            usleep(200000); /* TOKYO down: try again */
    }
    return NULL;
}

/* Wait until HQ's peer TOKYO has nothing waiting (at most `secs`). */
static bool drained(const test_node *a, const char *admin, int secs)
{
    for (int i = 0; i < secs * 5; i++) {
        long st = 0;
        json_t *j = tn_get_json(a, "/api/v1/peers", admin, &st);
        json_t *p = json_array_get(json_object_get(j, "peers"), 0);
        bool done = st == 200 && p && json_integer_value(json_object_get(p, "waiting")) == 0;
        json_decref(j);
        if (done)
            return true;
        usleep(200000);
    }
    return false;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIAISON_EXE\n", argv[0]);
        return 2;
    }
    const char *exe = argv[1];
    const char *ns = getenv("LIAISON_FED_EXACTLY_ONCE_N");
    int n = ns ? atoi(ns) : 1000;
    if (n < 40)
        n = 40;
    const char *ss = getenv("LIAISON_FED_SEED");
    unsigned seed = ss ? (unsigned)strtoul(ss, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    printf("# N=%d, LIAISON_FED_SEED=%u\n", n, seed);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    char dir[] = "/tmp/lsn-fedx-eo-XXXXXX", A[300], B[300];
    if (!mkdtemp(dir))
        return 2;
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/tokyo", dir);
    int pa = fu_free_port(), pb = fu_free_port();
    while (pb == pa)
        pb = fu_free_port();
    ok(fu_node_init(exe, A, "HQ", "NATO") && fu_node_init(exe, B, "TOKYO", "JPN") &&
           fu_peer_add(exe, A, "TOKYO", "JPN", B, pb) &&
           fu_peer_add(exe, B, "HQ", "NATO", A, pa),
       "HQ and TOKYO, each the other's peer");
    test_node a, b;
    if (!ok(fu_start(&a, exe, A, pa) && fu_start_unproxied(&b, exe, B, pb), "both nodes start")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    char *poster = tn_token(&a, "ingrid.halvorsen"), *admin = tn_token(&a, "marco.bellini");
    char *reader = tn_token(&b, "kenji.watanabe");
    static follower fl = {.mu = PTHREAD_MUTEX_INITIALIZER, .last_id = "0"};
    fl.port = b.port; /* unproxied: the node itself */
    fl.token = reader;
    fl.n = n;
    fl.delivered = calloc((size_t)n, sizeof *fl.delivered);
    bool following = reader && pthread_create(&fl.thread, NULL, follow, &fl) == 0;

    /* The random moments: TOKYO killed three times, each down for a few
     * posts; HQ killed once, later. */
    int kill_b[3], back_b[3], kill_a = n * 7 / 10 + rand() % (n / 5);
    for (int k = 0; k < 3; k++) { /* windows that never overlap, all before kill_a */
        kill_b[k] = n / 10 + k * n / 5 + rand() % (n / 10);
        back_b[k] = kill_b[k] + 1 + rand() % (n / 20 + 1);
    }
    char *acked = calloc((size_t)n, 1);
    int kills = 0, restarts_ok = 1;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) {
            if (i == kill_b[k]) {
                usleep((useconds_t)(rand() % 200000)); /* a random moment of its receiving */
                tn_stop(&b, SIGKILL);
                kills++;
            }
            if (i == back_b[k]) {
                restarts_ok &= fu_start_unproxied(&b, exe, B, pb);
                pthread_mutex_lock(&fl.mu);
                fl.port = b.port;
                pthread_mutex_unlock(&fl.mu);
            }
        }
        if (i == kill_a) {
            usleep((useconds_t)(rand() % 200000));
            tn_stop(&a, SIGKILL);
            kills++;
            restarts_ok &= fu_start(&a, exe, A, pa);
        }
        char body[32], id[37];
        snprintf(body, sizeof body, "eo-%d", i);
        acked[i] = fu_post(&a, poster, "cyber-defence", releasable(i) ? REL_JPN : NATO_ONLY,
                           body, id);
    }
    ok(kills == 4 && restarts_ok, "TOKYO killed three times and HQ once, each started again");
    int nacked = 0;
    for (int i = 0; i < n; i++)
        nacked += acked[i];
    ok(nacked >= n - 2, "HQ acknowledged %d of %d posts (one in flight may be lost per kill)",
       nacked, n);
    ok(drained(&a, admin, 600), "HQ's outbox for TOKYO drains");

    /* The stream catches up with what TOKYO holds (read while it runs). */
    int *ca = calloc((size_t)n, sizeof *ca), *cb = calloc((size_t)n, sizeof *cb);
    bool caught_up = false;
    for (int t = 0; following && t < 600 && !caught_up; t++) {
        caught_up = read_counts(B, n, cb);
        pthread_mutex_lock(&fl.mu);
        for (int i = 0; i < n && caught_up; i++)
            caught_up = !cb[i] || fl.delivered[i];
        pthread_mutex_unlock(&fl.mu);
        if (!caught_up)
            usleep(100000);
    }
    usleep(1000000); /* room for a late second copy to show (not a pass condition) */
    fl.stop = true;
    if (following)
        pthread_join(fl.thread, NULL);
    tn_stop(&a, SIGTERM);
    tn_stop(&b, SIGTERM);

    ok(read_counts(A, n, ca) && read_counts(B, n, cb), "both stores read");
    int missing = 0, twice = 0, leaked = 0, lost_acked = 0;
    for (int i = 0; i < n; i++) {
        if (acked[i] && ca[i] != 1)
            lost_acked++;
        if (releasable(i) && ca[i] && cb[i] == 0)
            missing++;
        if (cb[i] > 1)
            twice++;
        if (cb[i] && (!releasable(i) || !ca[i]))
            leaked++;
    }
    ok(lost_acked == 0, "every item HQ acknowledged is held at HQ once (%d not)", lost_acked);
    ok(missing == 0, "tokyo_holds_every_releasable_item (%d missing)", missing);
    ok(twice == 0, "tokyo_holds_each_item_once (%d twice)", twice);
    ok(leaked == 0, "tokyo_holds_nothing_not_releasable_to_it (%d)", leaked);
    int unstreamed = 0, streamed_twice = 0, streamed_not_held = 0;
    for (int i = 0; i < n; i++) {
        if (cb[i] && fl.delivered[i] == 0)
            unstreamed++;
        if (fl.delivered[i] > 1)
            streamed_twice++;
        if (fl.delivered[i] && !cb[i])
            streamed_not_held++;
    }
    ok(following && fl.resumed >= 3 && fl.refused == 0,
       "the reader at TOKYO resumed its stream with Last-Event-ID after each kill "
       "(%u resumptions, %u refused)", fl.resumed, fl.refused);
    ok(following && unstreamed == 0 && streamed_not_held == 0,
       "tokyos_stream_delivered_every_item_it_holds (%d not, %d not held)", unstreamed,
       streamed_not_held);
    ok(following && streamed_twice == 0, "tokyos_stream_delivered_each_item_once (%d twice)",
       streamed_twice);
    ok(fu_verify(exe, A) == 0 && fu_verify(exe, B) == 0, "both_audit_chains_verify");
    ok(tn_openapi_conforms(&a), "the API exchanges with HQ match the spec");

    free(ca);
    free(cb);
    free(fl.delivered);
    free(reader);
    free(acked);
    free(poster);
    free(admin);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (tap_failed == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    curl_global_cleanup();
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
