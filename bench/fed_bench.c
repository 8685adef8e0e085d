/* bench/fed_bench.c — liaison-fed-bench: how many STANAG 4778 bindings a
 * node signs and verifies per second (src/federation). A measurement, not a
 * test (docs/PERFORMANCE.md, "Signed bindings").
 *
 * usage: liaison-fed-bench [-n ITEMS] [-r RUNS] [-b BODY_BYTES] [-t THREADS] [-B BATCH]
 * For each run: sign ITEMS bindings on one thread (a NATO RESTRICTED
 * Releasable to JPN label, a body of BODY_BYTES), then verify them all
 * against the pinned certificate, checking each body against its digest,
 * once on one thread (the baseline) and once as batches of BATCH (default
 * 32, at most 64) on THREADS threads (fed_binding_verify_batch; default 2). Prints each run, the
 * medians and the ratio of the medians. Exits 1 if any binding fails to
 * sign or verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "federation/binding.h"
#include "federation/binding_batch.h"
#include "federation/identity.h"
#include "liaison/liaison.h"

static const char label[] =
    "<originatorConfidentialityLabel "
    "xmlns=\"urn:nato:stanag:4774:confidentialitymetadatalabel:1:0\">"
    "<ConfidentialityInformation>"
    "<PolicyIdentifier URL=\"urn:oid:1.3.26.1.3.1\">NATO</PolicyIdentifier>"
    "<Classification>RESTRICTED</Classification>"
    "<Category TagName=\"Releasable To\" Type=\"PERMISSIVE\">"
    "<GenericValue>JPN</GenericValue><GenericValue>NATO</GenericValue></Category>"
    "<Category TagName=\"Context\" Type=\"PERMISSIVE\">"
    "<GenericValue>NATO</GenericValue><GenericValue>Releasable</GenericValue></Category>"
    "</ConfidentialityInformation></originatorConfidentialityLabel>";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used by the whole process (every thread). */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Verify the n bindings as batches of `batch` on `threads` threads; the
 * number refused. */
static int verify_all(const fed_identity *id, char **xml, size_t *len, int n,
                      const fed_content *content, unsigned threads, int batch)
{
    fed_verify_job jobs[64];
    int failures = 0;
    for (int at = 0; at < n; at += batch) {
        int k = n - at < batch ? n - at : batch;
        for (int i = 0; i < k; i++)
            jobs[i] = (fed_verify_job){.pinned = id, .data = xml[at + i], .len = len[at + i],
                                       .content = content};
        if (fed_binding_verify_batch(jobs, (size_t)k, threads) != LSN_OK)
            failures += k;
        for (int i = 0; i < k; i++) {
            if (jobs[i].rc != LSN_OK || !jobs[i].binding)
                failures++;
            fed_binding_free(jobs[i].binding);
        }
    }
    return failures;
}

int main(int argc, char **argv)
{
    int n = 2000, runs = 5, body_bytes = 1000, threads = 2, batch = 32, c;
    while ((c = getopt(argc, argv, "n:r:b:t:B:")) != -1) {
        if (c == 'n')
            n = atoi(optarg);
        else if (c == 'r')
            runs = atoi(optarg);
        else if (c == 'b')
            body_bytes = atoi(optarg);
        else if (c == 't')
            threads = atoi(optarg);
        else if (c == 'B')
            batch = atoi(optarg);
        else
            return 2;
    }
    if (n < 1 || runs < 1 || runs > 99 || body_bytes < 0 || threads < 1 || threads > 64 ||
        batch < 1 || batch > 64)
        return 2;
    char dir[] = "/tmp/liaison-fed-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char home[64];
    snprintf(home, sizeof home, "%s/node", dir);
    fed_identity *id = NULL;
    lsn_error err = {0};
    if (fed_identity_create(home, "NATO HQ", "NATO", &id, &err) != LSN_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    char *body = malloc((size_t)body_bytes + 1);
    memset(body, 'x', (size_t)body_bytes);
    fed_content content = {.body = body, .body_len = (size_t)body_bytes};
    char **xml = calloc((size_t)n, sizeof *xml);
    size_t *len = calloc((size_t)n, sizeof *len);
    double sign_rate[99], verify_rate[99], par_rate[99], ratio[99], cpu1[99], cpuT[99];
    int failures = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        for (int i = 0; i < n; i++)
            if (fed_binding_sign(id, NULL, "cyber-defence", label, sizeof label - 1,
                                 &content, 0, &xml[i],
                                 &len[i], &err) != LSN_OK)
                failures++;
        double t1 = now(), c1 = cpu();
        failures += verify_all(id, xml, len, n, &content, 1, batch);
        double t2 = now(), c2 = cpu();
        failures += verify_all(id, xml, len, n, &content, (unsigned)threads, batch);
        double t3 = now(), c3 = cpu();
        for (int i = 0; i < n; i++) {
            lsn_free(xml[i]);
            xml[i] = NULL;
        }
        sign_rate[r] = n / (t1 - t0);
        verify_rate[r] = n / (t2 - t1);
        par_rate[r] = n / (t3 - t2);
        ratio[r] = par_rate[r] / verify_rate[r];
        cpu1[r] = (c2 - c1) / n * 1e6;
        cpuT[r] = (c3 - c2) / n * 1e6;
        printf("run %d: %d items, body %d bytes: sign %.0f/s, verify %.0f/s on 1 thread "
               "(%.0f us CPU each), %.0f/s on %d threads (%.0f us CPU each): x%.2f\n",
               r + 1, n, body_bytes, sign_rate[r], verify_rate[r], cpu1[r], par_rate[r],
               threads, cpuT[r], ratio[r]);
    }
    qsort(sign_rate, (size_t)runs, sizeof *sign_rate, cmp);
    qsort(verify_rate, (size_t)runs, sizeof *verify_rate, cmp);
    qsort(par_rate, (size_t)runs, sizeof *par_rate, cmp);
    qsort(ratio, (size_t)runs, sizeof *ratio, cmp);
    qsort(cpu1, (size_t)runs, sizeof *cpu1, cmp);
    qsort(cpuT, (size_t)runs, sizeof *cpuT, cmp);
    printf("median of %d runs: sign %.0f bindings/s, verify %.0f bindings/s on 1 thread "
           "(%.0f us CPU each), %.0f bindings/s on %d threads (%.0f us CPU each); "
           "median ratio of each run's pair x%.2f%s\n",
           runs, sign_rate[runs / 2], verify_rate[runs / 2], cpu1[runs / 2],
           par_rate[runs / 2], threads, cpuT[runs / 2], ratio[runs / 2],
           failures ? " (FAILURES)" : "");
    fed_identity_free(id);
    free(body);
    free(xml);
    free(len);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return failures ? 1 : 0;
}
