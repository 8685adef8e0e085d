/* tests/node/node_util.c — see node_util.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "node_util.h"

/* Fork and exec argv with its stdout on a pipe; wait (at most 120 s: seeding
 * under sanitizers, or a first `npm ci`, on a loaded machine) for the line
 * "PREFIX<port>". Returns the port (0 on failure, the child then killed). */
/* Start argv[0] and read its standard output until the line starting with
 * prefix gives a port; *metrics_port (when not NULL) gets the node's metrics
 * listener's port, printed before. */
static int spawn_listener(char *const argv[], const char *prefix, pid_t *pid, int *metrics_port)
{
    int p[2];
    if (pipe(p) != 0)
        return 0;
    *pid = fork();
    if (*pid < 0) {
        close(p[0]);
        close(p[1]);
        return 0;
    }
    if (*pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    char buf[4096];
    size_t len = 0;
    int port = 0;
    for (int waited = 0; waited < 1200 && !port; waited++) {
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        ssize_t r = read(p[0], buf + len, sizeof buf - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        char *m = metrics_port ? strstr(buf, "metrics on http://127.0.0.1:") : NULL;
        if (m)
            *metrics_port = (int)strtol(m + strlen("metrics on http://127.0.0.1:"), NULL, 10);
        char *l = strstr(buf, prefix);
        if (l && strchr(l, '\n'))
            port = (int)strtol(l + strlen(prefix), NULL, 10);
    }
    close(p[0]);
    if (!port) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
    }
    return port;
}

/* The validating proxy in front of the node, when the environment asks. */
static bool start_proxy(test_node *n)
{
    static int started; /* one report per proxy, even on the same data */
    const char *proxy = getenv("LIAISON_OPENAPI_PROXY");
    const char *spec = getenv("LIAISON_OPENAPI_SPEC");
    n->proxy_pid = 0;
    n->report[0] = '\0';
    if (!proxy || !*proxy || !spec || !*spec)
        return true;
    char target[64];
    snprintf(target, sizeof target, "http://127.0.0.1:%d", n->node_port);
    snprintf(n->report, sizeof n->report, "%s.openapi-%d.txt", n->dir, ++started);
    char *argv[] = {(char *)proxy, "--spec", (char *)spec, "--target", target,
                    "--report", n->report, NULL};
    n->port = spawn_listener(argv, "openapi proxy listening on http://127.0.0.1:", &n->proxy_pid, NULL);
    if (!n->port)
        n->proxy_pid = 0;
    return n->port != 0;
}

const char *tn_store_flag(void)
{
    static char flag[1100];
    const char *store = getenv("LIAISON_TEST_STORE");
    if (!store || !*store || strchr(store, '\''))
        return "";
    snprintf(flag, sizeof flag, " --store '%s'", store);
    return flag;
}

const char *tn_store_of(const char *dir, char *buf, size_t cap)
{
    const char *store = getenv("LIAISON_TEST_STORE");
    if (!store || !*store)
        return NULL;
    const char *at = strstr(store, "{node}");
    if (!at) {
        snprintf(buf, cap, "%s", store);
        return buf;
    }
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    if ((size_t)snprintf(buf, cap, "%.*s%s%s", (int)(at - store), store, base, at + 6) >= cap)
        return NULL;
    return buf;
}

bool tn_start(test_node *n, const char *exe, const char *dir, const char *extra)
{
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    char *argv[34];
    int a = 0;
    argv[a++] = (char *)exe;
    argv[a++] = "serve";
    argv[a++] = "--demo";
    argv[a++] = "--data-dir";
    argv[a++] = (char *)dir;
    argv[a++] = "--listen";
    argv[a++] = "127.0.0.1:0";
    argv[a++] = "--metrics-listen"; /* never a fixed port: tests run side by side */
    argv[a++] = "127.0.0.1:0";
    /* The store of every node a test starts, when the environment names
     * one (meson runs test_node so on PostgreSQL: LIAISON_TEST_STORE). */
    char store_uri[1100];
    const char *store = tn_store_of(dir, store_uri, sizeof store_uri);
    if (store) {
        argv[a++] = "--store";
        argv[a++] = (char *)store;
    }
    char extra_copy[2048];
    if (extra) {
        snprintf(extra_copy, sizeof extra_copy, "%s", extra);
        for (char *t = strtok(extra_copy, " "); t && a < 33; t = strtok(NULL, " "))
            argv[a++] = t;
    }
    argv[a] = NULL;
    n->metrics_port = 0;
    n->node_port = n->port = spawn_listener(argv, "listening on http://127.0.0.1:", &n->pid,
                                            &n->metrics_port);
    n->proxy_pid = 0;
    if (!n->port)
        return false;
    if (!start_proxy(n)) {
        fprintf(stderr, "tn_start: the validating proxy %s did not start\n",
                getenv("LIAISON_OPENAPI_PROXY"));
        tn_stop(n, SIGKILL);
        return false;
    }
    return true;
}

static int stop_pid(pid_t pid, int sig)
{
    int status = -1;
    kill(pid, sig);
    for (int i = 0; i < 600; i++) { /* at most 60 s */
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return status;
}

int tn_stop(test_node *n, int sig)
{
    int status = stop_pid(n->pid, sig);
    if (n->proxy_pid > 0) /* after the node: answers in flight are checked */
        stop_pid(n->proxy_pid, SIGTERM);
    n->proxy_pid = 0;
    return status;
}

bool tn_openapi_conforms(const test_node *n)
{
    if (!n->report[0])
        return true;
    FILE *f = fopen(n->report, "r");
    if (!f) {
        printf("# openapi: no report at %s\n", n->report);
        return false;
    }
    char line[4096], last[4096] = "";
    while (fgets(line, sizeof line, f)) {
        printf("# openapi %s", line);
        if (!strchr(line, '\n'))
            printf("\n");
        snprintf(last, sizeof last, "%s", line);
    }
    fclose(f);
    long exchanges = 0, violations = -1;
    return sscanf(last, "checked %ld exchanges, %ld violations", &exchanges, &violations) == 2 &&
           exchanges > 0 && violations == 0;
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t on_data(char *d, size_t sz, size_t nm, void *ctx)
{
    buf *b = ctx;
    size_t add = sz * nm;
    char *q = realloc(b->p, b->n + add + 1);
    if (!q)
        return 0;
    memcpy(q + b->n, d, add);
    b->p = q;
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

bool tn_http(const test_node *n, const char *method, const char *path, const char *token,
             const char *body, size_t body_len, http_result *r)
{
    CURL *c = curl_easy_init();
    if (!c)
        return false;
    char url[8192], auth[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", n->port, path);
    struct curl_slist *h = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    /* A body over 1 MiB asks first (100-continue), as clients do: a node
     * refusing it (413) answers before the body is sent, instead of
     * closing under a client still sending, whose reset can lose the
     * answer. Smaller bodies go at once. */
    h = curl_slist_append(h, body_len > (1u << 20) ? "Expect: 100-continue" : "Expect:");
    buf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    r->status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r->body = b.p ? b.p : strdup("");
    r->len = b.n;
    return rc == CURLE_OK;
}

json_t *tn_get_json(const test_node *n, const char *path, const char *token, long *status)
{
    http_result r;
    *status = 0;
    if (!tn_http(n, "GET", path, token, NULL, 0, &r)) {
        free(r.body);
        return NULL;
    }
    *status = r.status;
    json_t *j = json_loads(r.body, 0, NULL);
    free(r.body);
    return j;
}

char *tn_token(const test_node *n, const char *user)
{
    char path[512];
    snprintf(path, sizeof path, "%s/demo-credentials.json", n->dir);
    json_t *a = json_load_file(path, 0, NULL);
    size_t i;
    json_t *v;
    char *out = NULL;
    json_array_foreach(a, i, v) {
        if (!strcmp(json_string_value(json_object_get(v, "user")), user))
            out = strdup(json_string_value(json_object_get(v, "token")));
    }
    json_decref(a);
    return out;
}
