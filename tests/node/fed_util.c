/* tests/node/fed_util.c — see fed_util.h. */
#include "fed_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

int fu_run(const char *exe, const char *const *args)
{
    const char *argv[32];
    int a = 0;
    argv[a++] = exe;
    for (int i = 0; args[i] && a < 31; i++)
        argv[a++] = args[i];
    argv[a] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            close(fd);
        }
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int st = -1;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int fu_free_port(void)
{
    /* Below the kernel's ephemeral range (32768-60999 by default): a
     * federation port stays registered across a node's restarts, and a
     * port in the ephemeral range could meanwhile become the local end of
     * some outgoing connection (Address already in use). */
    static unsigned salt;
    if (!salt)
        salt = (unsigned)getpid() * 2654435761u;
    for (int tries = 0; tries < 200; tries++) {
        salt = salt * 1103515245u + 12345u;
        int port = 20000 + (int)((salt >> 8) % 12000);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool free_ = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (fd >= 0)
            close(fd);
        if (free_)
            return port;
    }
    return 0;
}

bool fu_node_init(const char *exe, const char *dir, const char *name, const char *nation)
{
    const char *args[] = {"node", "init", "--data-dir", dir, "--name", name, "--nation",
                          nation, NULL};
    return fu_run(exe, args) == 0;
}

bool fu_peer_add(const char *exe, const char *dir, const char *name, const char *nation,
                 const char *peer_dir, int port)
{
    return fu_peer_add_full(exe, dir, name, nation, peer_dir, port, NULL, NULL);
}

int fu_verify(const char *exe, const char *dir)
{
    char store[1100];
    const char *uri = tn_store_of(dir, store, sizeof store);
    const char *args[] = {"verify", "--data-dir", dir, uri ? "--store" : NULL, uri, NULL};
    return fu_run(exe, args);
}

bool fu_peer_add_via(const char *exe, const char *dir, const char *name, const char *nation,
                     const char *peer_dir, int port, const char *via)
{
    return fu_peer_add_full(exe, dir, name, nation, peer_dir, port, via, NULL);
}

bool fu_peer_add_full(const char *exe, const char *dir, const char *name, const char *nation,
                      const char *peer_dir, int port, const char *via, const char *max)
{
    char url[64], crt[512];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    snprintf(crt, sizeof crt, "%s/node.crt", peer_dir);
    const char *args[18] = {"peer", "add", name, "--data-dir", dir, "--url", url, "--nation",
                            nation, "--certificate", crt};
    int a = 11;
    char store[1100];
    if (tn_store_of(dir, store, sizeof store)) {
        args[a++] = "--store";
        args[a++] = store;
    }
    if (via) {
        args[a++] = "--via";
        args[a++] = via;
    }
    if (max) {
        args[a++] = "--max-classification";
        args[a++] = max;
    }
    args[a] = NULL;
    return fu_run(exe, args) == 0;
}

bool fu_start(test_node *t, const char *exe, const char *dir, int port)
{
    return fu_start_more(t, exe, dir, port, "");
}

bool fu_start_more(test_node *t, const char *exe, const char *dir, int port, const char *more)
{
    char extra[2048];
    snprintf(extra, sizeof extra,
             "--federation-listen 127.0.0.1:%d --federation-retry-min 100 "
             "--federation-retry-max 1000 --federation-probe 300 %s",
             port, more);
    /* A port just released by a killed node may linger a moment: try
     * again (tn_start stops a node that did not start). */
    for (int i = 0; i < 5; i++) {
        if (tn_start(t, exe, dir, extra))
            return true;
        sleep(1);
    }
    return false;
}

bool fu_start_unproxied(test_node *t, const char *exe, const char *dir, int port)
{
    char *proxy = getenv("LIAISON_OPENAPI_PROXY");
    char *saved = proxy ? strdup(proxy) : NULL;
    unsetenv("LIAISON_OPENAPI_PROXY");
    bool ok = fu_start(t, exe, dir, port);
    if (saved) {
        setenv("LIAISON_OPENAPI_PROXY", saved, 1);
        free(saved);
    }
    return ok;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
    http_result *r = ctx;
    size_t n = size * nmemb;
    char *b = realloc(r->body, r->len + n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, p, n);
    r->len += n;
    b[r->len] = '\0';
    r->body = b;
    return n;
}

bool fu_put(int port, const char *server_dir, const char *client_dir, const char *txn,
            const char *body, http_result *r)
{
    int code;
    char why[CURL_ERROR_SIZE];
    return fu_put_why(port, server_dir, client_dir, txn, body, r, &code, why);
}

static bool put_route_why(int port, const char *server_dir, const char *client_dir,
                          const char *route, const char *name, const char *body,
                          http_result *r, int *code, char why[256]);

bool fu_put_why(int port, const char *server_dir, const char *client_dir, const char *txn,
                const char *body, http_result *r, int *code, char why[256])
{
    return put_route_why(port, server_dir, client_dir, "/fed/v1/send", txn, body, r, code, why);
}

bool fu_put_route(int port, const char *server_dir, const char *client_dir, const char *route,
                  const char *name, const char *body, http_result *r)
{
    int code;
    char why[CURL_ERROR_SIZE];
    return put_route_why(port, server_dir, client_dir, route, name, body, r, &code, why);
}

static bool put_route_why(int port, const char *server_dir, const char *client_dir,
                          const char *route, const char *name, const char *body,
                          http_result *r, int *code, char why[256])
{
    memset(r, 0, sizeof *r);
    *code = -1;
    why[0] = '\0';
    CURL *c = curl_easy_init();
    if (!c)
        return false;
    char url[256], ca[512], crt[512], key[512];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s/%s", port, route, name);
    snprintf(ca, sizeof ca, "%s/node.crt", server_dir);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    if (client_dir) {
        snprintf(crt, sizeof crt, "%s/node.crt", client_dir);
        snprintf(key, sizeof key, "%s/node.key", client_dir);
        curl_easy_setopt(c, CURLOPT_SSLCERT, crt);
        curl_easy_setopt(c, CURLOPT_SSLKEY, key);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
    CURLcode rc = curl_easy_perform(c);
    *code = (int)rc;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return true;
}

bool fu_post(const test_node *t, const char *token, const char *channel, const char *label,
             const char *body, char id[37])
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/channels/%s/items", channel);
    json_t *lj = json_loads(label, 0, NULL);
    json_t *doc = json_pack("{s:o, s:s}", "label", lj, "body", body);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_result r;
    bool ok = text && tn_http(t, "POST", path, token, text, strlen(text), &r);
    free(text);
    if (!ok)
        return false;
    json_t *ans = r.status == 201 ? json_loads(r.body, 0, NULL) : NULL;
    const char *s = json_string_value(json_object_get(ans, "id"));
    if (s)
        snprintf(id, 37, "%s", s);
    json_decref(ans);
    free(r.body);
    return s != NULL;
}

int fu_count(const test_node *t, const char *token, const char *word)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/search?q=%s", word);
    long status = 0;
    json_t *j = tn_get_json(t, path, token, &status);
    int n = status == 200 && j ? (int)json_array_size(json_object_get(j, "items")) : -1;
    json_decref(j);
    return n;
}
