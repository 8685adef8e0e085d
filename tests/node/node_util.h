/* tests/node/node_util.h — helpers for the node's integration tests: start
 * a real `liaison serve` on a loopback port and read its port, HTTP calls
 * with libcurl, demo credentials, raw socket reads.
 *
 * With LIAISON_OPENAPI_PROXY (tests/api/openapi-proxy.sh) and
 * LIAISON_OPENAPI_SPEC (docs/api/openapi.yaml) in the environment, tn_start
 * puts the validating proxy in front of the node: `port` is then the
 * proxy's, and every exchange through it is checked against the spec
 * (tn_openapi_conforms). Tests of raw HTTP framing use `node_port`. */
#ifndef TESTS_NODE_UTIL_H
#define TESTS_NODE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

typedef struct test_node {
    pid_t pid;
    int port;        /* where tests talk HTTP: the proxy's, or the node's */
    int node_port;   /* the node itself (raw framing tests) */
    pid_t proxy_pid; /* 0 without the validating proxy */
    char report[300];
    int metrics_port; /* the metrics listener's (issue 9: not the API's) */
    char dir[256];
} test_node;

/* Start `EXE serve --demo --data-dir DIR --listen 127.0.0.1:0
 * --metrics-listen 127.0.0.1:0 EXTRA...`,
 * wait (at most 120 s) for its "listening on" line. false on failure. */
bool tn_start(test_node *n, const char *exe, const char *dir, const char *extra);
/* The store URI of the node of data directory `dir` (into buf), from
 * LIAISON_TEST_STORE: its "{node}" replaced by dir's last component, so
 * that nodes of one test each have a database of their own
 * ("postgresql://liaison@/{node}?host=..."); NULL when the environment
 * names none (the default SQLite store in dir). */
const char *tn_store_of(const char *dir, char *buf, size_t cap);
/* " --store 'URI'" for an administrative command of the test, when the
 * environment names the nodes' store (LIAISON_TEST_STORE), else "". */
const char *tn_store_flag(void);
/* SIGTERM (graceful) or SIGKILL, then reap; returns the exit status word.
 * Stops the validating proxy too (after the node), which closes its report. */
int tn_stop(test_node *n, int sig);
/* After tn_stop: true when the proxy checked at least one exchange and
 * found no violation of the spec; prints each violation as a TAP comment.
 * True without a proxy (nothing to check). */
bool tn_openapi_conforms(const test_node *n);

typedef struct http_result {
    long status;
    char *body;      /* malloc'd, NUL-terminated */
    size_t len;
} http_result;

/* One request; token may be NULL; body may be NULL (GET). Returns false on
 * a transport error. Free r->body with free(). */
bool tn_http(const test_node *n, const char *method, const char *path, const char *token,
             const char *body, size_t body_len, http_result *r);
/* GET returning parsed JSON (NULL if not JSON); *status set. */
json_t *tn_get_json(const test_node *n, const char *path, const char *token, long *status);

/* Token of a demo user from DIR/demo-credentials.json (static storage per
 * call site: copy it). NULL if absent. */
char *tn_token(const test_node *n, const char *user);

#endif
