/* tests/node/test_node_scaleout.c — several node processes on one
 * PostgreSQL database (issue 14), behind what would be a load balancer:
 * three `liaison serve` on one data directory and one store
 * (LIAISON_TEST_STORE; meson runs it on a throwaway cluster). A stream is
 * opened on each; items are posted to each in turn. Every stream must
 * receive every item its reader may see exactly once and in order, and no
 * other; the audit chain, written by three writers, must verify.
 *
 *   test_node_scaleout LIAISON_EXE */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

#include "../tap.h"
#include "node_util.h"

#define NODES 3
#define ROUNDS 4 /* posts per node: a visible and a hidden item each */

static test_node N[NODES];

static const char *NATO_ONLY =
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}";
static const char *REL_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}";

/* POST an item to node k; its public id into id[37] ("" on failure). */
static long post(int k, const char *token, const char *label, const char *body, char id[37])
{
    char req[1024];
    snprintf(req, sizeof req, "{\"label\":%s,\"body\":\"%s\"}", label, body);
    http_result r;
    id[0] = '\0';
    if (!tn_http(&N[k], "POST", "/api/v1/channels/maritime-security/items", token, req,
                 strlen(req), &r))
        return 0;
    json_t *j = json_loads(r.body, 0, NULL);
    const char *s = json_string_value(json_object_get(j, "id"));
    if (r.status == 201 && s && strlen(s) == 36)
        memcpy(id, s, 37);
    json_decref(j);
    free(r.body);
    return r.status;
}

static int stream_open(int k, const char *token)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)N[k].port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/stream?channel=maritime-security HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
                     token);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read from fd into acc until `want` appears or timeout_ms passes. */
static bool stream_until(int fd, char *acc, size_t cap, const char *want, int timeout_ms)
{
    size_t len = strlen(acc);
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if (strstr(acc, want))
            return true;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(fd, acc + len, cap - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        acc[len] = '\0';
    }
    return strstr(acc, want) != NULL;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_node_scaleout LIAISON_EXE\n");
        return 2;
    }
    if (!*tn_store_flag()) {
        printf("1..0 # SKIP needs LIAISON_TEST_STORE (a PostgreSQL store)\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
    char dir[] = "/tmp/liaison-test-scaleout-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char data[300];
    snprintf(data, sizeof data, "%s/data", dir);
    /* One after the other: the first seeds the demo data, the others find
     * the store not empty. */
    bool up = true;
    for (int k = 0; k < NODES && up; k++)
        up = tn_start(&N[k], argv[1], data, "--threads 2");
    ok(up, "three_node_processes_start_on_one_database");
    if (!up)
        return tap_done();
    char *kenji = tn_token(&N[0], "kenji.watanabe");
    char *ingrid = tn_token(&N[0], "ingrid.halvorsen");
    ok(kenji && ingrid, "demo_credentials_are_there");

    int fd[NODES];
    static char acc[NODES][65536];
    bool opened = true;
    for (int k = 0; k < NODES; k++) {
        fd[k] = kenji ? stream_open(k, kenji) : -1;
        acc[k][0] = '\0';
        opened = opened && fd[k] >= 0 && stream_until(fd[k], acc[k], sizeof acc[k], "\r\n\r\n", 10000);
    }
    ok(opened, "a_stream_opens_on_each_process");
    usleep(300000);

    /* Posts to each process in turn: a visible item, then a hidden one. */
    char shown[NODES * ROUNDS][37], hidden[NODES * ROUNDS][37];
    int posted = 0;
    for (int i = 0; i < NODES * ROUNDS; i++) {
        char body[64];
        snprintf(body, sizeof body, "scaleout visible %d", i);
        posted += post(i % NODES, ingrid, REL_JPN, body, shown[i]) == 201 && shown[i][0];
        snprintf(body, sizeof body, "scaleout hidden %d", i);
        posted += post(i % NODES, ingrid, NATO_ONLY, body, hidden[i]) == 201 && hidden[i][0];
    }
    ok(posted == 2 * NODES * ROUNDS, "every_post_to_every_process_is_accepted (%d)", posted);

    char last[64];
    snprintf(last, sizeof last, "id: %s\n", shown[NODES * ROUNDS - 1]);
    for (int k = 0; k < NODES; k++) {
        bool got = fd[k] >= 0 && stream_until(fd[k], acc[k], sizeof acc[k], last, 20000);
        int once = 0, in_order = 1, leaked = 0;
        const char *prev = acc[k];
        for (int i = 0; i < NODES * ROUNDS; i++) {
            char want[64];
            snprintf(want, sizeof want, "id: %s\n", shown[i]);
            once += count(acc[k], want) == 1;
            const char *at = strstr(acc[k], want);
            if (!at || at < prev)
                in_order = 0;
            else
                prev = at;
            snprintf(want, sizeof want, "id: %s\n", hidden[i]);
            leaked += strstr(acc[k], want) != NULL;
        }
        ok(got && once == NODES * ROUNDS,
           "process_%d_streams_every_visible_item_of_every_process_exactly_once (%d of %d)", k,
           once, NODES * ROUNDS);
        ok(got && in_order, "process_%d_streams_them_in_order", k);
        ok(leaked == 0 && !strstr(acc[k], "scaleout hidden"),
           "process_%d_streams_no_item_its_reader_may_not_see", k);
        if (fd[k] >= 0)
            close(fd[k]);
    }

    /* Every process answers the same listing: one store. */
    long st0 = 0, st2 = 0;
    json_t *l0 = tn_get_json(&N[0], "/api/v1/channels/maritime-security/items?limit=100", kenji,
                             &st0);
    json_t *l2 = tn_get_json(&N[2], "/api/v1/channels/maritime-security/items?limit=100", kenji,
                             &st2);
    char *t0 = l0 ? json_dumps(json_object_get(l0, "items"), JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *t2 = l2 ? json_dumps(json_object_get(l2, "items"), JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    ok(st0 == 200 && st2 == 200 && t0 && t2 && strcmp(t0, t2) == 0 &&
           strstr(t0, "scaleout visible 0") && !strstr(t0, "scaleout hidden"),
       "every_process_lists_the_same_items");
    free(t0);
    free(t2);
    json_decref(l0);
    json_decref(l2);

    for (int k = 0; k < NODES; k++) {
        int status = tn_stop(&N[k], SIGTERM);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process_%d_stops_with_exit_0", k);
    }
    /* Three writers, one chain: gapless, in commit order. */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' audit verify --data-dir '%s'%s >/dev/null 2>&1", argv[1],
             data, tn_store_flag());
    ok(system(cmd) == 0, "the_audit_chain_of_three_writers_verifies");

    free(kenji);
    free(ingrid);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        ok(0, "cleanup");
    curl_global_cleanup();
    return tap_done();
}
