/* tests/node/test_node_crash.c — durability at node level: many concurrent
 * posts while the `liaison serve` process is SIGKILLed; after a restart
 * every acknowledged item (a 201 was received) is present with its body and
 * content hash, ids go on increasing, and `liaison audit verify` passes.
 * Then the same load with SIGTERM: the node exits 0 (posts waiting for their
 * commit are answered first) and every acknowledged item is there.
 *
 *   test_node_crash LIAISON_EXE */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

#include "../tap.h"
#include "node_util.h"

#define NTHREADS 8
#define PER_THREAD 400

static test_node N;
static char *TOKEN;
static const char *LABEL =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}";

typedef struct acked {
    char id[40]; /* the item's public id (UUID) */
    char body[64];
    char hash[65];
} acked;

typedef struct poster {
    int t;
    acked acks[PER_THREAD];
    int nacks;
} poster;

static atomic_int total_acked;
static atomic_bool stop_posting;

static void *post_loop(void *arg)
{
    poster *p = arg;
    for (int i = 0; i < PER_THREAD && !atomic_load(&stop_posting); i++) {
        char body[64], req[1024];
        snprintf(body, sizeof body, "crash probe %d-%d", p->t, i);
        snprintf(req, sizeof req, "{\"label\":%s,\"body\":\"%s\"}", LABEL, body);
        http_result r;
        bool sent = tn_http(&N, "POST", "/api/v1/channels/cyber-defence/items", TOKEN, req,
                            strlen(req), &r);
        if (sent && r.status == 201) {
            json_t *j = json_loads(r.body, 0, NULL);
            acked *a = &p->acks[p->nacks++];
            snprintf(a->id, sizeof a->id, "%s",
                     json_string_value(json_object_get(j, "id")) ?: "");
            snprintf(a->body, sizeof a->body, "%s", body);
            snprintf(a->hash, sizeof a->hash, "%s",
                     json_string_value(json_object_get(j, "contentHash")) ?: "");
            json_decref(j);
            atomic_fetch_add(&total_acked, 1);
        }
        free(r.body);
        if (!sent)
            break; /* the node is gone */
    }
    return NULL;
}

/* Every acknowledged post of P is present and intact on the running node. */
static void check_acked(const poster *P, int acked_n, const char *when)
{
    int missing = 0, altered = 0;
    for (int t = 0; t < NTHREADS; t++)
        for (int i = 0; i < P[t].nacks; i++) {
            const acked *a = &P[t].acks[i];
            char path[96];
            snprintf(path, sizeof path, "/api/v1/items/%s", a->id);
            long st;
            json_t *j = tn_get_json(&N, path, TOKEN, &st);
            if (st != 200)
                missing++;
            else if (strcmp(json_string_value(json_object_get(j, "body")) ?: "", a->body) ||
                     strcmp(json_string_value(json_object_get(j, "contentHash")) ?: "", a->hash))
                altered++;
            json_decref(j);
        }
    ok(missing == 0, "every_acknowledged_item_is_present_after_the_%s (%d missing of %d)",
       when, missing, acked_n);
    ok(altered == 0, "every_acknowledged_item_is_intact_after_the_%s (%d altered)", when,
       altered);
}

/* Post from NTHREADS threads into P until stop_posting (or PER_THREAD
 * each); returns once at least `want` were acknowledged (bounded wait). */
static void start_posting(poster *P, pthread_t *th, int want)
{
    atomic_store(&stop_posting, false);
    atomic_store(&total_acked, 0);
    for (int t = 0; t < NTHREADS; t++) {
        P[t].t = t;
        P[t].nacks = 0;
        pthread_create(&th[t], NULL, post_loop, &P[t]);
    }
    for (int i = 0; i < 600 && atomic_load(&total_acked) < want; i++)
        usleep(50000);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_node_crash LIAISON_EXE\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
    char dir[] = "/tmp/liaison-test-crash-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char data[300];
    snprintf(data, sizeof data, "%s/data", dir);
    if (!ok(tn_start(&N, argv[1], data, "--threads 8"), "node_starts"))
        return tap_done();
    TOKEN = tn_token(&N, "ingrid.halvorsen");
    ok(TOKEN != NULL, "demo_token_found");

    static poster P[NTHREADS];
    pthread_t th[NTHREADS];
    /* Kill mid-stream: once some posts were acknowledged. */
    start_posting(P, th, 100);
    int status = tn_stop(&N, SIGKILL);
    atomic_store(&stop_posting, true);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    ok(tn_openapi_conforms(&N), "every_exchange_before_the_kill_conforms_to_openapi_yaml");
    ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "node_was_killed_with_sigkill");
    int acked_n = atomic_load(&total_acked);
    ok(acked_n >= 1, "some_posts_were_acknowledged_before_the_kill (%d)", acked_n);

    if (!ok(tn_start(&N, argv[1], data, "--threads 4"), "node_restarts_on_the_same_data"))
        return tap_done();
    check_acked(P, acked_n, "kill");
    http_result r;
    char req[1024];
    snprintf(req, sizeof req, "{\"label\":%s,\"body\":\"after the crash\"}", LABEL);
    tn_http(&N, "POST", "/api/v1/channels/cyber-defence/items", TOKEN, req, strlen(req), &r);
    json_t *j = json_loads(r.body, 0, NULL);
    const char *nid = json_string_value(json_object_get(j, "id"));
    char path[96];
    snprintf(path, sizeof path, "/api/v1/items/%s", nid ?: "none");
    long st2;
    json_t *got = tn_get_json(&N, path, TOKEN, &st2);
    ok(r.status == 201 && nid && st2 == 200, "posts_go_on_after_restart");
    json_decref(got);
    json_decref(j);
    free(r.body);
    /* SIGTERM under the same load: posts waiting for their commit are
     * answered before the node exits, and whatever was acknowledged is
     * there after the next start. */
    start_posting(P, th, 100);
    status = tn_stop(&N, SIGTERM);
    atomic_store(&stop_posting, true);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    ok(tn_openapi_conforms(&N), "every_exchange_under_sigterm_conforms_to_openapi_yaml");
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "node_stops_cleanly_with_sigterm_under_post_load");
    acked_n = atomic_load(&total_acked);
    if (!ok(tn_start(&N, argv[1], data, "--threads 4"), "node_restarts_after_sigterm"))
        return tap_done();
    (void)check_acked(P, acked_n, "sigterm");
    status = tn_stop(&N, SIGTERM);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "node_stops_cleanly_after_restart");
    ok(tn_openapi_conforms(&N), "every_exchange_after_the_restart_conforms_to_openapi_yaml");

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' audit verify --data-dir '%s'%s > '%s/verify.txt' 2>&1",
             argv[1], data, tn_store_flag(), dir);
    int rc = system(cmd);
    ok(rc == 0, "audit_chain_verifies_after_the_crash (exit %d)", rc);

    free(TOKEN);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        ok(0, "cleanup");
    curl_global_cleanup();
    return tap_done();
}
