/* bench/fed_bench.c — liaison-fed-bench: how many STANAG 4778 bindings a
 * node signs and verifies per second (src/federation), one thread. A
 * measurement, not a test (docs/PERFORMANCE.md, "Signed bindings").
 *
 * usage: liaison-fed-bench [-n ITEMS] [-r RUNS] [-b BODY_BYTES]
 * For each run: sign ITEMS bindings (a NATO RESTRICTED Releasable to JPN
 * label, a body of BODY_BYTES), then verify each against the pinned
 * certificate and check the body against its digest. Prints each run and
 * the medians. Exits 1 if any binding fails to sign or verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "federation/binding.h"
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

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n = 2000, runs = 5, body_bytes = 1000, c;
    while ((c = getopt(argc, argv, "n:r:b:")) != -1) {
        if (c == 'n')
            n = atoi(optarg);
        else if (c == 'r')
            runs = atoi(optarg);
        else if (c == 'b')
            body_bytes = atoi(optarg);
        else
            return 2;
    }
    if (n < 1 || runs < 1 || runs > 99 || body_bytes < 0)
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
    double sign_rate[99], verify_rate[99];
    int failures = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        for (int i = 0; i < n; i++)
            if (fed_binding_sign(id, NULL, label, sizeof label - 1, &content, 0, &xml[i],
                                 &len[i], &err) != LSN_OK)
                failures++;
        double t1 = now();
        for (int i = 0; i < n; i++) {
            fed_binding *b = NULL;
            char reason[256];
            if (!xml[i] || fed_binding_verify(id, xml[i], len[i], &b, reason,
                                              sizeof reason) != LSN_OK ||
                !b || !fed_binding_content_matches(b, &content))
                failures++;
            fed_binding_free(b);
            lsn_free(xml[i]);
            xml[i] = NULL;
        }
        double t2 = now();
        sign_rate[r] = n / (t1 - t0);
        verify_rate[r] = n / (t2 - t1);
        printf("run %d: %d items, body %d bytes: sign %.0f/s, verify %.0f/s\n", r + 1, n,
               body_bytes, sign_rate[r], verify_rate[r]);
    }
    qsort(sign_rate, (size_t)runs, sizeof *sign_rate, cmp);
    qsort(verify_rate, (size_t)runs, sizeof *verify_rate, cmp);
    printf("median of %d runs: sign %.0f bindings/s, verify %.0f bindings/s%s\n", runs,
           sign_rate[runs / 2], verify_rate[runs / 2], failures ? " (FAILURES)" : "");
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
