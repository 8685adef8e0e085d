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

bool tn_start(test_node *n, const char *exe, const char *dir, const char *extra)
{
    int p[2];
    if (pipe(p) != 0)
        return false;
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    n->port = 0;
    n->pid = fork();
    if (n->pid < 0)
        return false;
    if (n->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char *argv[16];
        int a = 0;
        argv[a++] = (char *)exe;
        argv[a++] = "serve";
        argv[a++] = "--demo";
        argv[a++] = "--data-dir";
        argv[a++] = (char *)dir;
        argv[a++] = "--listen";
        argv[a++] = "127.0.0.1:0";
        char extra_copy[256];
        if (extra) {
            snprintf(extra_copy, sizeof extra_copy, "%s", extra);
            for (char *t = strtok(extra_copy, " "); t && a < 15; t = strtok(NULL, " "))
                argv[a++] = t;
        }
        argv[a] = NULL;
        execv(exe, argv);
        _exit(127);
    }
    close(p[1]);
    char buf[4096];
    size_t len = 0;
    /* Bounded: 120 s for seeding under sanitizers on a loaded machine. */
    for (int waited = 0; waited < 1200 && !n->port; waited++) {
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        ssize_t r = read(p[0], buf + len, sizeof buf - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        char *l = strstr(buf, "listening on http://127.0.0.1:");
        if (l && strchr(l, '\n'))
            n->port = (int)strtol(l + strlen("listening on http://127.0.0.1:"), NULL, 10);
    }
    close(p[0]);
    if (!n->port) {
        kill(n->pid, SIGKILL);
        waitpid(n->pid, NULL, 0);
        return false;
    }
    return true;
}

int tn_stop(test_node *n, int sig)
{
    int status = -1;
    kill(n->pid, sig);
    for (int i = 0; i < 600; i++) { /* at most 60 s */
        pid_t r = waitpid(n->pid, &status, WNOHANG);
        if (r == n->pid)
            return status;
        usleep(100000);
    }
    kill(n->pid, SIGKILL);
    waitpid(n->pid, &status, 0);
    return status;
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
    h = curl_slist_append(h, "Expect:");
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
