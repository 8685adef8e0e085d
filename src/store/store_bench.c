/* store/store_bench.c — micro benchmark of durable item appends through the
 * group-commit writer: N threads post M items each (with their audit post
 * record, as the server does) into a fresh SQLite store; prints appends/s
 * per run and the median. Not a test; figures go to docs/STORE.md.
 *
 *   liaison-store-bench [-t THREADS] [-n PER_THREAD] [-r RUNS] [-d DIR] [-s BODY_BYTES] */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

typedef struct worker {
    store *s;
    int n;
    int t;
    const char *body;
    int failed;
} worker;

static void *post_loop(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        store_item it = {
            .channel = "bench", .author = "bench-user", .organisation = "NATO IS",
            .label = "{\"policy\":\"NATO\",\"classification\":\"NATO UNCLASSIFIED\"}",
            .marking_en = "NATO UNCLASSIFIED", .marking_fr = "NATO SANS CLASSIFICATION",
            .classification = 1, .body = w->body,
        };
        store_audit_event post = { .actor = "bench-user", .action = "post", .outcome = "ok" };
        int64_t id;
        lsn_error err;
        if (store_item_append(w->s, &it, &post, &id, NULL, &err) != LSN_OK) {
            fprintf(stderr, "append: %s\n", err.message);
            w->failed = 1;
            return NULL;
        }
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A positive number from a command-line argument, or exit. */
static int number(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 1000000) {
        fprintf(stderr, "liaison-store-bench: bad number '%s'\n", s);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    int threads = 32, per = 1000, runs = 5, body_bytes = 200;
    const char *dir = "/tmp";
    int opt;
    while ((opt = getopt(argc, argv, "t:n:r:d:s:")) != -1) {
        switch (opt) {
        case 't': threads = number(optarg); break;
        case 'n': per = number(optarg); break;
        case 'r': runs = number(optarg); break;
        case 'd': dir = optarg; break;
        case 's': body_bytes = number(optarg); break;
        default:
            fprintf(stderr, "usage: liaison-store-bench [-t THREADS] [-n PER_THREAD] "
                            "[-r RUNS] [-d DIR] [-s BODY_BYTES]\n");
            return 2;
        }
    }
    char *body = malloc((size_t)body_bytes + 1);
    worker *ws = calloc((size_t)threads, sizeof *ws);
    pthread_t *ts = calloc((size_t)threads, sizeof *ts);
    double *rates = calloc((size_t)runs, sizeof *rates);
    if (!body || !ws || !ts || !rates)
        return 1;
    for (int i = 0; i < body_bytes; i++)
        body[i] = "maritime security cyber defence "[i % 32];
    body[body_bytes] = '\0';

    for (int r = 0; r < runs; r++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/liaison-store-bench-%d-%d.db", dir, (int)getpid(), r);
        store *s;
        lsn_error err;
        if (store_sqlite_open(path, &s, &err) != LSN_OK ||
            store_channel_add(s, "bench", "benchmark", NULL, &err) != LSN_OK) {
            fprintf(stderr, "liaison-store-bench: %s\n", err.message);
            return 1;
        }
        double t0 = now_s();
        for (int i = 0; i < threads; i++) {
            ws[i] = (worker){ .s = s, .n = per, .t = i, .body = body };
            pthread_create(&ts[i], NULL, post_loop, &ws[i]);
        }
        int failed = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(ts[i], NULL);
            failed |= ws[i].failed;
        }
        double dt = now_s() - t0;
        store_close(s);
        char side[4200];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
        if (failed)
            return 1;
        rates[r] = (double)threads * per / dt;
        printf("run %d: %d threads x %d appends in %.3f s = %.0f durable appends/s\n", r + 1,
               threads, per, dt, rates[r]);
    }
    qsort(rates, (size_t)runs, sizeof *rates, cmp_double);
    printf("median: %.0f durable appends/s (%d threads, %d runs, %d-byte bodies)\n",
           rates[runs / 2], threads, runs, body_bytes);
    free(body);
    free(ws);
    free(ts);
    free(rates);
    return 0;
}
