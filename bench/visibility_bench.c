/* bench/visibility_bench.c — what a reader may not see must cost nothing
 * (issue 8): p50/p99 of a 50-item listing, a search and a fetch by UUID,
 * through the store's reads restricted to a reader's visible classes, for
 * three readers of one channel:
 *  - "all"     sees every class (the channel's index alone, all_upto);
 *  - "0.1%"    sees one class, which 1 item in 1,000 of the channel has;
 *  - "nothing" sees one class that has no item in this channel.
 * The channel is seeded with N items (default 10k, 100k, 1M) through the
 * store API: asynchronous appends, which the group-commit writer packs into
 * large transactions (no HTTP). Not a test: figures go to
 * docs/PERFORMANCE.md ("Visibility as an index").
 *
 *   liaison-visibility-bench [-d DIR] [-r REPS] [-R READER] [-k] [-u URI [-s]] [N...]
 *
 * -R all|0.1%|nothing measures that reader only (to profile one reader's
 * reads, e.g. with valgrind --tool=callgrind --toggle-collect=sq_item_search);
 * -k keeps each database (to try queries on it with the sqlite3 shell).
 * -u URI seeds and reads that store instead (postgresql://...: an empty
 * database, its key in DIR); one size only, and the database is kept.
 * -s with -u: the database was seeded by an earlier run of the same N (its
 * key in DIR): read it again without seeding (before/after a change of the
 * read path, on the same rows, warm).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liaison/alloc.h"
#include "store/store.h"

#define LABEL_COMMON "{\"l\":\"common\"}"
#define LABEL_RARE "{\"l\":\"rare\"}"
#define LABEL_ELSEWHERE "{\"l\":\"elsewhere\"}"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void done_cb(void *ctx, lsn_err rc, int64_t id, const uint8_t h[STORE_HASH_LEN],
                    uint64_t seq, const lsn_error *err)
{
    (void)id, (void)h, (void)seq, (void)err;
    if (rc != LSN_OK)
        atomic_fetch_add((atomic_int *)ctx, 1);
}

static store_item item(const char *channel, const char *label, const char *body)
{
    return (store_item){ .channel = channel, .author = "bench", .organisation = "NATO IS",
                         .label = label, .marking_en = "M", .marking_fr = "M",
                         .classification = 1, .body = body };
}

/* Seed: class 1 "elsewhere" (1,000 items in channel d), then N items of
 * channel c, 1 in 1,000 of class "rare", the others "common". */
static int seed(store *s, long n)
{
    lsn_error err;
    atomic_int failed = 0;
    int64_t id;
    char body[96];
    if (store_channel_add(s, "c", "C", NULL, &err) != LSN_OK ||
        store_channel_add(s, "d", "D", NULL, &err) != LSN_OK)
        return -1;
    for (int i = 0; i < 1000; i++) {
        snprintf(body, sizeof body, "report %d elsewhere", i);
        store_item it = item("d", LABEL_ELSEWHERE, body);
        if (store_item_append_async(s, &it, NULL, done_cb, &failed, &err) != LSN_OK)
            return -1;
    }
    for (long i = 0; i < n; i++) {
        snprintf(body, sizeof body, "report %ld on the channel topic", i);
        store_item it = item("c", i % 1000 == 500 ? LABEL_RARE : LABEL_COMMON, body);
        if (store_item_append_async(s, &it, NULL, done_cb, &failed, &err) != LSN_OK)
            return -1;
    }
    store_item last = item("c", LABEL_COMMON, "the end");
    if (store_item_append(s, &last, NULL, &id, NULL, &err) != LSN_OK)
        return -1;
    return failed ? -1 : 0;
}

typedef struct collect {
    int64_t ids[64];
    uint8_t uuids[64][STORE_UUID_LEN];
    size_t n;
} collect;

static int collect_cb(void *ctx, const store_item *it)
{
    collect *c = ctx;
    if (c->n < 64) {
        c->ids[c->n] = it->id;
        memcpy(c->uuids[c->n], it->uuid, STORE_UUID_LEN);
    }
    c->n++;
    return c->n >= 50 ? STORE_STOP : STORE_NEXT;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, const char *reader, long n, double *t, int reps,
                   size_t items)
{
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    printf("%-8ld %-8s %-7s %3zu items  p50 %8.3f ms  p99 %8.3f ms\n", n, reader, what,
           items, t[reps / 2] * 1e3, t[(reps * 99) / 100] * 1e3);
}

int main(int argc, char **argv)
{
    const char *dir = "/tmp";
    int reps = 200;
    long sizes[8] = { 10000, 100000, 1000000 };
    int nsizes = 3, given = 0;
    const char *only = NULL;
    int keep = 0, seeded = 0;
    const char *uri = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-d") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-R") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "-u") && i + 1 < argc)
            uri = argv[++i];
        else if (!strcmp(argv[i], "-k"))
            keep = 1;
        else if (!strcmp(argv[i], "-s"))
            seeded = 1;
        else if (given < 8)
            sizes[given++] = atol(argv[i]);
    }
    if (given)
        nsizes = given;
    if (reps < 2)
        reps = 2;
    if (uri && nsizes != 1) {
        fprintf(stderr, "-u URI: give one size (the database must be empty)\n");
        return 2;
    }
    double *t = malloc((size_t)reps * sizeof *t);
    for (int k = 0; k < nsizes; k++) {
        long n = sizes[k];
        char path[512];
        snprintf(path, sizeof path, "%s/liaison-visbench-%ld-%d.db", dir, n, (int)getpid());
        store *s = NULL;
        lsn_error err;
        if ((uri ? store_open_keyed(uri, dir, &s, &err) : store_open(path, &s, &err)) !=
            LSN_OK) {
            fprintf(stderr, "open %s: %s\n", uri ? "the store" : path, err.message);
            return 1;
        }
        double t0 = now_s();
        if (!(uri && seeded) && seed(s, n) != 0) {
            fprintf(stderr, "seeding failed\n");
            return 1;
        }
        if (uri && seeded)
            printf("# %ld items in the channel, seeded before\n", n);
        else
            printf("# %ld items in the channel seeded in %.1f s\n", n, now_s() - t0);
        /* classes: 1 elsewhere, 2 common, 3 rare (in order of first use) */
        static const int64_t rare = 3, elsewhere = 1;
        store_classes readers[3] = {
            { .all_upto = 3 }, { .ids = &rare, .n = 1 }, { .ids = &elsewhere, .n = 1 },
        };
        const char *names[3] = { "all", "0.1%", "nothing" };
        for (int r = 0; r < 3; r++) {
            if (only && strcmp(only, names[r]) != 0)
                continue;
            collect c;
            /* A 50-item listing, from a cursor a tenth into the channel. */
            int64_t start = n / 10;
            for (int i = 0; i < reps; i++) {
                c.n = 0;
                double a = now_s();
                if (store_item_list(s, "c", &readers[r], start, 50, collect_cb, &c, &err))
                    return 1;
                t[i] = now_s() - a;
            }
            report("list", names[r], n, t, reps, c.n);
            for (int i = 0; i < reps; i++) {
                c.n = 0;
                double a = now_s();
                if (store_item_search(s, "report", "c", &readers[r], start, collect_cb, &c,
                                      &err))
                    return 1;
                t[i] = now_s() - a;
            }
            report("search", names[r], n, t, reps, c.n);
            /* Fetch by UUID: find the class, decide, read the row if
             * visible (as the node does); UUIDs of the channel's items. */
            c.n = 0;
            store_item_list(s, "c", NULL, start, 50, collect_cb, &c, &err);
            for (int i = 0; i < reps; i++) {
                store_item_ref ref;
                store_item *it = NULL;
                double a = now_s();
                if (store_item_find(s, c.uuids[i % 50], &ref, &err))
                    return 1;
                int visible = readers[r].all_upto ? ref.class_id <= readers[r].all_upto
                                                  : ref.class_id == readers[r].ids[0];
                if (visible && store_item_get(s, ref.id, &it, &err))
                    return 1;
                lsn_free(it);
                t[i] = now_s() - a;
            }
            report("fetch", names[r], n, t, reps, (size_t)(r == 0));
        }
        store_close(s);
        if (uri)
            continue;
        if (keep) {
            printf("# kept %s\n", path);
            continue;
        }
        char extra[600];
        unlink(path);
        snprintf(extra, sizeof extra, "%s-wal", path);
        unlink(extra);
        snprintf(extra, sizeof extra, "%s-shm", path);
        unlink(extra);
    }
    free(t);
    return 0;
}
