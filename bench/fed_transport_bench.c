/* bench/fed_transport_bench.c — liaison-fed-transport-bench: items/s from
 * one node to another over the federation transport (issue 10), signed at
 * the origin, guarded, sent over mutual TLS, verified, decided again and
 * made durable at the destination.
 *
 * Two real nodes on loopback, HQ (NATO) and TOKYO (JPN), each the other's
 * peer. TOKYO is down while N items released to JPN are posted at HQ
 * (P posting threads): a backlog. Then TOKYO starts, and the time from its
 * start until HQ's outbox for it is empty (HQ's GET /api/v1/peers polled
 * every 20 ms) gives the items/s A → B and the backlog's catch-up time.
 * Each run on fresh data directories; the median of R runs is printed.
 * Not a test: a measurement (docs/PERFORMANCE.md).
 *
 *   liaison-fed-transport-bench [-n ITEMS] [-p POSTERS] [-r RUNS] [LIAISON] */
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

#include "../tests/node/fed_util.h"

#define REL_JPN                                                                            \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct poster {
    const test_node *a;
    const char *token;
    int from, to;
    atomic_int *failed;
} poster;

static void *post_main(void *arg)
{
    poster *p = arg;
    for (int i = p->from; i < p->to; i++) {
        char body[64], id[37];
        snprintf(body, sizeof body, "bench item %d", i);
        if (!fu_post(p->a, p->token, "cyber-defence", REL_JPN, body, id))
            atomic_fetch_add(p->failed, 1);
    }
    return NULL;
}

/* HQ's items waiting for TOKYO (-1: not known). */
static long waiting(const test_node *a, const char *admin)
{
    long st = 0;
    json_t *j = tn_get_json(a, "/api/v1/peers", admin, &st);
    json_t *p = json_array_get(json_object_get(j, "peers"), 0);
    long w = st == 200 && p ? (long)json_integer_value(json_object_get(p, "waiting")) : -1;
    json_decref(j);
    return w;
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* One run: the catch-up's seconds (-1: failed); *post_rate the posts/s;
 * *total the backlog caught up (the N items and the demo's own items for
 * TOKYO, posted when HQ seeded its data). */
static double run(const char *exe, int n, int posters, double *post_rate, long *total)
{
    char dir[] = "/tmp/lsn-fedbench-XXXXXX", A[300], B[300];
    if (!mkdtemp(dir))
        return -1;
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/tokyo", dir);
    int pa = fu_free_port(), pb = fu_free_port();
    while (pb == pa)
        pb = fu_free_port();
    test_node a, b;
    if (!fu_node_init(exe, A, "HQ", "NATO") || !fu_node_init(exe, B, "TOKYO", "JPN") ||
        !fu_peer_add(exe, A, "TOKYO", "JPN", B, pb) || !fu_peer_add(exe, B, "HQ", "NATO", A, pa) ||
        !fu_start(&a, exe, A, pa))
        return -1;
    char *token = tn_token(&a, "ingrid.halvorsen"), *admin = tn_token(&a, "marco.bellini");
    long base = waiting(&a, admin); /* the demo's own items for TOKYO */
    *total = base + n;
    pthread_t th[64];
    poster ps[64];
    atomic_int failed = 0;
    double t0 = now_s();
    for (int k = 0; k < posters; k++) {
        ps[k] = (poster){&a, token, n * k / posters, n * (k + 1) / posters, &failed};
        pthread_create(&th[k], NULL, post_main, &ps[k]);
    }
    for (int k = 0; k < posters; k++)
        pthread_join(th[k], NULL);
    *post_rate = n / (now_s() - t0);
    double secs = -1;
    if (failed == 0 && waiting(&a, admin) == base + n && fu_start(&b, exe, B, pb)) {
        double s0 = now_s();
        for (;;) {
            long w = waiting(&a, admin);
            if (w == 0) {
                secs = now_s() - s0;
                break;
            }
            if (now_s() - s0 > 1800)
                break;
            usleep(20000);
        }
        tn_stop(&b, SIGTERM);
    } else {
        fprintf(stderr, "fed-transport-bench: %d posts failed\n", (int)failed);
    }
    tn_stop(&a, SIGTERM);
    free(token);
    free(admin);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return secs;
}

int main(int argc, char **argv)
{
    int n = 20000, posters = 4, runs = 3;
    const char *exe = FED_BENCH_DEFAULT_LIAISON;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
            posters = atoi(argv[++i]);
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else
            exe = argv[i];
    }
    if (n < 1 || posters < 1 || posters > 64 || runs < 1 || runs > 15) {
        fprintf(stderr, "usage: %s [-n ITEMS] [-p POSTERS 1-64] [-r RUNS 1-15] [LIAISON]\n",
                argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double rate[15], cu[15], pr[15];
    long total = 0;
    for (int r = 0; r < runs; r++) {
        cu[r] = run(exe, n, posters, &pr[r], &total);
        if (cu[r] <= 0) {
            fprintf(stderr, "fed-transport-bench: run %d failed\n", r + 1);
            return 1;
        }
        rate[r] = total / cu[r];
        printf("run %d: %d items posted at %.0f/s; backlog of %ld caught up in %.2f s: "
               "%.0f items/s A->B\n", r + 1, n, pr[r], total, cu[r], rate[r]);
        fflush(stdout);
    }
    qsort(cu, (size_t)runs, sizeof *cu, cmp);
    qsort(pr, (size_t)runs, sizeof *pr, cmp);
    qsort(rate, (size_t)runs, sizeof *rate, cmp);
    printf("median of %d runs: backlog of %ld caught up in %.2f s; %.0f items/s A->B "
           "(posted at %.0f/s with %d posters)\n",
           runs, total, cu[runs / 2], rate[runs / 2], pr[runs / 2], posters);
    curl_global_cleanup();
    return 0;
}
