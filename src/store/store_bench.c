/* store/store_bench.c — micro benchmark of durable item appends through the
 * group-commit writer: N threads post M items each (with their audit post
 * record, as the server does) into a fresh SQLite store; prints appends/s
 * per run and the median. Not a test; figures go to docs/STORE.md.
 *
 * With -a WINDOW, one thread posts THREADS x PER_THREAD items through the
 * asynchronous append instead, keeping at most WINDOW in flight (as an
 * event-driven server with that many concurrent posts would).
 *
 * With -l LISTINGS, each run then lists the whole channel LISTINGS times
 * and prints the best time per row read (every row's seal is checked as
 * it is read: docs/PERFORMANCE.md, "Seals and anchor").
 *
 * With -u URI, the store is that PostgreSQL database (postgresql://...; its
 * key in DIR) instead: every run appends to it, so give it an empty one.
 *
 *   liaison-store-bench [-t THREADS] [-n PER_THREAD] [-r RUNS] [-d DIR]
 *                       [-s BODY_BYTES] [-a WINDOW] [-l LISTINGS] [-u URI] */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static const char *bench_label =
    "{\"policy\":\"NATO\",\"classification\":\"NATO UNCLASSIFIED\"}";

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
            .label = bench_label,
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

typedef struct window {
    sem_t slots;
    atomic_int failed;
} window;

static void posted(void *ctx, lsn_err rc, int64_t id, const uint8_t hash[STORE_HASH_LEN],
                   uint64_t seq, const lsn_error *err)
{
    window *w = ctx;
    (void)id, (void)hash, (void)seq;
    if (rc != LSN_OK) {
        fprintf(stderr, "append: %s\n", err->message);
        atomic_store(&w->failed, 1);
    }
    sem_post(&w->slots);
}

/* Post `total` items asynchronously, at most `inflight` at a time. */
static int post_async(store *s, int total, int inflight, const char *body)
{
    window w;
    sem_init(&w.slots, 0, (unsigned)inflight);
    atomic_init(&w.failed, 0);
    for (int i = 0; i < total; i++) {
        store_item it = {
            .channel = "bench", .author = "bench-user", .organisation = "NATO IS",
            .label = bench_label, .marking_en = "NATO UNCLASSIFIED",
            .marking_fr = "NATO SANS CLASSIFICATION", .classification = 1, .body = body,
        };
        store_audit_event post = { .actor = "bench-user", .action = "post", .outcome = "ok" };
        lsn_error err;
        sem_wait(&w.slots);
        if (store_item_append_async(s, &it, &post, posted, &w, &err) != LSN_OK) {
            fprintf(stderr, "append: %s\n", err.message);
            return 1;
        }
    }
    for (int i = 0; i < inflight; i++) /* wait for the last ones */
        sem_wait(&w.slots);
    sem_destroy(&w.slots);
    return atomic_load(&w.failed);
}

static int count_row(void *ctx, const store_item *it)
{
    (void)it;
    ++*(long *)ctx;
    return STORE_NEXT;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* List the whole channel `times` times; print the best time per row. */
static int list_all(store *s, int run, int times)
{
    double best = 0;
    long rows = 0;
    for (int l = 0; l < times; l++) {
        lsn_error err;
        rows = 0;
        double t0 = now_s();
        if (store_item_list(s, "bench", NULL, 0, 0, count_row, &rows, &err) != LSN_OK) {
            fprintf(stderr, "liaison-store-bench: %s\n", err.message);
            return 1;
        }
        double dt = now_s() - t0;
        if (l == 0 || dt < best)
            best = dt;
    }
    printf("run %d: listing %ld rows, best of %d: %.1f ms = %.2f us per row\n", run, rows,
           times, best * 1e3, best * 1e6 / (double)(rows ? rows : 1));
    return 0;
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
    int threads = 32, per = 1000, runs = 5, body_bytes = 200, inflight = 0, listings = 0;
    const char *dir = "/tmp", *uri = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "t:n:r:d:s:a:l:u:")) != -1) {
        switch (opt) {
        case 't': threads = number(optarg); break;
        case 'n': per = number(optarg); break;
        case 'r': runs = number(optarg); break;
        case 'd': dir = optarg; break;
        case 's': body_bytes = number(optarg); break;
        case 'a': inflight = number(optarg); break;
        case 'l': listings = number(optarg); break;
        case 'u': uri = optarg; break;
        default:
            fprintf(stderr, "usage: liaison-store-bench [-t THREADS] [-n PER_THREAD] "
                            "[-r RUNS] [-d DIR] [-s BODY_BYTES] [-a WINDOW] "
                            "[-l LISTINGS] [-u URI]\n");
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
        lsn_err ce = LSN_OK;
        if ((uri ? store_open_keyed(uri, dir, &s, &err) : store_sqlite_open(path, &s, &err)) !=
                LSN_OK ||
            ((ce = store_channel_add(s, "bench", "benchmark", NULL, &err)) != LSN_OK &&
             !(uri && ce == LSN_ERR_DUPLICATE))) {
            fprintf(stderr, "liaison-store-bench: %s\n", err.message);
            return 1;
        }
        double t0 = now_s();
        int failed = 0;
        if (inflight) {
            failed = post_async(s, threads * per, inflight, body);
        } else {
            for (int i = 0; i < threads; i++) {
                ws[i] = (worker){ .s = s, .n = per, .t = i, .body = body };
                pthread_create(&ts[i], NULL, post_loop, &ws[i]);
            }
            for (int i = 0; i < threads; i++) {
                pthread_join(ts[i], NULL);
                failed |= ws[i].failed;
            }
        }
        double dt = now_s() - t0;
        if (listings && !failed)
            failed = list_all(s, r + 1, listings);
        store_close(s);
        char side[4200];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
        snprintf(side, sizeof side, "%s.key", path);
        unlink(side);
        snprintf(side, sizeof side, "%s.anchor", path);
        unlink(side);
        if (failed)
            return 1;
        rates[r] = (double)threads * per / dt;
        printf("run %d: %d x %d appends (%s) in %.3f s = %.0f durable appends/s\n", r + 1,
               threads, per, inflight ? "async" : "threads", dt, rates[r]);
    }
    qsort(rates, (size_t)runs, sizeof *rates, cmp_double);
    if (inflight)
        printf("median: %.0f durable appends/s (async, %d in flight, %d runs, %d-byte bodies)\n",
               rates[runs / 2], inflight, runs, body_bytes);
    else
        printf("median: %.0f durable appends/s (%d threads, %d runs, %d-byte bodies)\n",
               rates[runs / 2], threads, runs, body_bytes);
    free(body);
    free(ws);
    free(ts);
    free(rates);
    return 0;
}
