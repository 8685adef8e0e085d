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
 *
 * With -l RATE (latency): both nodes up, a reader's live stream open at
 * TOKYO, items posted at HQ at RATE items/s for -d SECONDS (each at its
 * scheduled moment, by -p threads); each item's latency is from the start
 * of its POST at HQ to its event on TOKYO's stream. Prints p50, p99 and
 * the maximum of each run, then the medians.
 * Not a test: a measurement (docs/PERFORMANCE.md).
 *
 *   liaison-fed-transport-bench [-n ITEMS] [-p POSTERS] [-r RUNS] [LIAISON]
 *   liaison-fed-transport-bench -l RATE [-d SECONDS] [-p POSTERS] [-r RUNS] [LIAISON] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
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

/* ---- latency: post at HQ -> event on TOKYO's stream ------------------------ */

typedef struct lat_run {
    const test_node *a;
    const char *token;
    int n, threads, k; /* items; posting threads; this thread's index */
    double t0, rate;
    double *sent, *seen; /* per item: POST started; event read (0: not yet) */
    atomic_int *failed;
    atomic_bool *stop;
    int fd; /* the stream */
} lat_run;

static void *lat_post_main(void *arg)
{
    lat_run *p = arg;
    for (int i = p->k; i < p->n; i += p->threads) {
        double at = p->t0 + i / p->rate, d = at - now_s();
        if (d > 0)
            usleep((useconds_t)(d * 1e6));
        char body[64], id[37];
        snprintf(body, sizeof body, "benchlat bl%07dx", i);
        p->sent[i] = now_s();
        if (!fu_post(p->a, p->token, "space", REL_JPN, body, id))
            atomic_fetch_add(p->failed, 1);
    }
    return NULL;
}

/* Read the stream, noting when each item's marker first appears. */
static void *lat_read_main(void *arg)
{
    lat_run *p = arg;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    while (buf && !atomic_load(p->stop)) {
        struct pollfd pf = {.fd = p->fd, .events = POLLIN};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        ssize_t r = read(p->fd, buf + len, cap - len);
        if (r <= 0)
            break;
        double t = now_s();
        len += (size_t)r;
        buf[len] = '\0';
        char *q = buf, *m;
        while ((m = strstr(q, "bl")) && m + 10 <= buf + len) {
            int i;
            if (m[9] == 'x' && sscanf(m + 2, "%7d", &i) == 1 && i >= 0 && i < p->n &&
                p->seen[i] == 0)
                p->seen[i] = t;
            q = m + 2;
        }
        /* Keep the unscanned tail (a marker cut by the read). */
        size_t keep = len < 16 ? len : 16;
        memmove(buf, buf + len - keep, keep);
        len = keep;
    }
    free(buf);
    return NULL;
}

static int stream_open(const test_node *t, const char *token, const char *channel)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/stream?channel=%s HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
                     channel, token);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One latency run: p50, p99 and max in ms of the items seen; *lost those
 * never seen (-1 return: failed). */
static int run_latency(const char *exe, double rate, int secs, int threads, double *p50,
                       double *p99, double *max, int *lost)
{
    char dir[] = "/tmp/lsn-fedlat-XXXXXX", A[300], B[300];
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
        !fu_start(&a, exe, A, pa) || !fu_start(&b, exe, B, pb))
        return -1;
    char *token = tn_token(&a, "ingrid.halvorsen"), *admin = tn_token(&a, "marco.bellini"),
         *reader = tn_token(&b, "kenji.watanabe");
    /* The demo's own items delivered first: the link is up and idle. */
    for (int i = 0; i < 3000 && waiting(&a, admin) != 0; i++)
        usleep(20000);
    int n = (int)(rate * secs), rc = -1;
    double *sent = calloc((size_t)n, sizeof *sent), *seen = calloc((size_t)n, sizeof *seen);
    atomic_int failed = 0;
    atomic_bool stop = false;
    lat_run base = {.a = &a, .token = token, .n = n, .threads = threads, .rate = rate,
                    .sent = sent, .seen = seen, .failed = &failed, .stop = &stop};
    base.fd = stream_open(&b, reader, "space");
    pthread_t rd, th[64];
    lat_run ps[64];
    if (sent && seen && base.fd >= 0 && pthread_create(&rd, NULL, lat_read_main, &base) == 0) {
        usleep(500000); /* the stream's headers and first comment */
        base.t0 = now_s() + 0.1;
        for (int k = 0; k < threads; k++) {
            ps[k] = base;
            ps[k].k = k;
            pthread_create(&th[k], NULL, lat_post_main, &ps[k]);
        }
        for (int k = 0; k < threads; k++)
            pthread_join(th[k], NULL);
        /* Wait (at most 60 s) for the last events. */
        double end = now_s() + 60;
        for (int i = n - 1; i >= 0 && now_s() < end;)
            if (seen[i] || sent[i] == 0)
                i--;
            else
                usleep(10000);
        atomic_store(&stop, true);
        pthread_join(rd, NULL);
        double *l = malloc((size_t)n * sizeof *l);
        int m = 0;
        for (int i = 0; l && i < n; i++)
            if (seen[i] > 0 && sent[i] > 0)
                l[m++] = (seen[i] - sent[i]) * 1000;
        *lost = n - m;
        if (m > 0 && failed == 0) {
            qsort(l, (size_t)m, sizeof *l, cmp);
            *p50 = l[m / 2];
            *p99 = l[(int)(m * 0.99) < m ? (int)(m * 0.99) : m - 1];
            *max = l[m - 1];
            rc = 0;
        } else {
            fprintf(stderr, "fed-transport-bench: %d posts failed, %d seen\n", (int)failed, m);
        }
        free(l);
    }
    if (base.fd >= 0)
        close(base.fd);
    free(sent);
    free(seen);
    tn_stop(&b, SIGTERM);
    tn_stop(&a, SIGTERM);
    free(token);
    free(admin);
    free(reader);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}

int main(int argc, char **argv)
{
    int n = 20000, posters = 4, runs = 3, secs = 20;
    double lat_rate = 0;
    const char *exe = FED_BENCH_DEFAULT_LIAISON;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
            posters = atoi(argv[++i]);
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "-l") == 0 && i + 1 < argc)
            lat_rate = atof(argv[++i]);
        else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            secs = atoi(argv[++i]);
        else
            exe = argv[i];
    }
    if (n < 1 || posters < 1 || posters > 64 || runs < 1 || runs > 15) {
        fprintf(stderr, "usage: %s [-n ITEMS] [-p POSTERS 1-64] [-r RUNS 1-15] [LIAISON]\n",
                argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (lat_rate > 0) {
        if (lat_rate > 100000 || secs < 1 || secs > 3600) {
            fprintf(stderr, "usage: %s -l RATE (1-100000) [-d SECONDS 1-3600]\n", argv[0]);
            return 2;
        }
        double p50[15], p99[15], mx[15];
        int lost = 0, lost_total = 0;
        for (int r = 0; r < runs; r++) {
            if (run_latency(exe, lat_rate, secs, posters, &p50[r], &p99[r], &mx[r], &lost) != 0) {
                fprintf(stderr, "fed-transport-bench: latency run %d failed\n", r + 1);
                return 1;
            }
            lost_total += lost;
            printf("run %d: %d items at %.0f/s: post at HQ -> TOKYO's stream p50 %.1f ms, "
                   "p99 %.1f ms, max %.1f ms, %d not seen\n",
                   r + 1, (int)(lat_rate * secs), lat_rate, p50[r], p99[r], mx[r], lost);
            fflush(stdout);
        }
        qsort(p50, (size_t)runs, sizeof *p50, cmp);
        qsort(p99, (size_t)runs, sizeof *p99, cmp);
        qsort(mx, (size_t)runs, sizeof *mx, cmp);
        printf("median of %d runs at %.0f items/s: p50 %.1f ms, p99 %.1f ms, max %.1f ms "
               "(%d items not seen in all)\n",
               runs, lat_rate, p50[runs / 2], p99[runs / 2], mx[runs / 2], lost_total);
        curl_global_cleanup();
        return lost_total ? 1 : 0;
    }
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
