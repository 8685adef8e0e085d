/* cli/http_client.c — the libcurl plumbing of the client verbs.
 *
 * One easy handle per command, reset before each request. Every request
 * carries the bearer token and verifies TLS (peer and host name) unless
 * nothing but plain HTTP is in use; redirects are not followed (a token must
 * not be carried to another host), only http and https are spoken, and a
 * reply is read into a buffer with a hard cap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "http_client.h"

struct cli_http {
    CURL *curl;
    char *base;     /* the node's URL, without a trailing '/' */
    char *auth;     /* "Authorization: Bearer TOKEN" (wiped on free) */
    const char *cacert;
    const char *verb; /* for messages */
    char errbuf[CURL_ERROR_SIZE];
};

/* The body being collected, capped. */
typedef struct sink_buf {
    char *data;
    size_t len, cap;
    bool too_big;
} sink_buf;

static void wipe(char *s)
{
    if (!s)
        return;
    /* volatile so that the compiler keeps the stores before free() */
    volatile char *p = s;
    while (*p)
        *p++ = 0;
}

cli_http *cli_http_new(const cli_args *a, const char *verb)
{
    const char *url = cli_opt(a, CLI_OPT_URL);
    const char *token = cli_opt(a, CLI_OPT_TOKEN);
    if (!url || !*url)
        url = getenv("LIAISON_URL");
    if (!url || !*url)
        url = CLI_HTTP_DEFAULT_URL;
    if (!token || !*token)
        token = getenv("LIAISON_TOKEN");
    if (!token || !*token) {
        cli_error(verb, "no token: give --token or set LIAISON_TOKEN");
        return NULL;
    }
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        cli_error(verb, "%s: the node's URL must start with http:// or https://", url);
        return NULL;
    }
    for (const char *p = token; *p; p++) {
        /* a token goes into a header line: nothing that could end it */
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            cli_error(verb, "the token holds a space or control character");
            return NULL;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cli_error(verb, "cannot initialise libcurl");
        return NULL;
    }
    cli_http *h = calloc(1, sizeof *h);
    size_t ulen = strlen(url), alen = strlen(token) + sizeof "Authorization: Bearer ";
    if (h) {
        h->curl = curl_easy_init();
        h->base = strdup(url);
        h->auth = malloc(alen);
    }
    if (!h || !h->curl || !h->base || !h->auth) {
        cli_error(verb, "out of memory");
        cli_http_free(h);
        return NULL;
    }
    while (ulen > 0 && h->base[ulen - 1] == '/')
        h->base[--ulen] = '\0';
    snprintf(h->auth, alen, "Authorization: Bearer %s", token);
    h->cacert = cli_opt(a, CLI_OPT_CACERT);
    h->verb = verb;
    return h;
}

void cli_http_free(cli_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    wipe(h->auth);
    free(h->auth);
    free(h->base);
    free(h);
    curl_global_cleanup();
}

char *cli_http_escape(cli_http *h, const char *text)
{
    return curl_easy_escape(h->curl, text, (int)strlen(text));
}

void cli_http_free_string(char *s)
{
    curl_free(s);
}

void cli_http_reply_release(cli_http_reply *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

static bool buf_add(sink_buf *b, const char *data, size_t n)
{
    if (n > CLI_HTTP_REPLY_MAX - b->len) {
        b->too_big = true;
        return false;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return false;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    size_t n = size * nmemb;
    return buf_add(ctx, data, n) ? n : 0; /* 0 makes curl stop */
}

/* Settings every request shares; `headers` receives the list to free. */
static bool prepare(cli_http *h, const char *method, const char *path,
                    const char *json_body, const char *last_id,
                    struct curl_slist **headers)
{
    CURL *c = h->curl;
    curl_easy_reset(c);
    size_t n = strlen(h->base) + strlen(path) + 1;
    char *url = malloc(n);
    if (!url)
        return false;
    snprintf(url, n, "%s%s", h->base, path);
    bool ok = curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK;
    free(url); /* curl keeps its own copy */

    struct curl_slist *l = NULL, *t;
    char idh[64];
    const char *lines[4] = {h->auth, "Accept: application/json, text/event-stream",
                            json_body ? "Content-Type: application/json" : NULL, NULL};
    if (last_id) {
        snprintf(idh, sizeof idh, "Last-Event-ID: %s", last_id);
        lines[3] = idh;
    }
    for (size_t i = 0; i < 4; i++) {
        if (!lines[i])
            continue;
        if (!(t = curl_slist_append(l, lines[i]))) {
            curl_slist_free_all(l);
            return false;
        }
        l = t;
    }
    *headers = l;
    ok = ok && curl_easy_setopt(c, CURLOPT_HTTPHEADER, l) == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85 */
    ok = ok && curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
#else
    ok = ok && curl_easy_setopt(c, CURLOPT_PROTOCOLS,
                                (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) == CURLE_OK;
#endif
    ok = ok && curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (h->cacert)
        ok = ok && curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_USERAGENT, "liaison/" LSN_VERSION) == CURLE_OK;
    if (json_body) {
        ok = ok && curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body) == CURLE_OK;
        ok = ok && curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                                    (curl_off_t)strlen(json_body)) == CURLE_OK;
    }
    ok = ok && curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
    h->errbuf[0] = '\0';
    return ok;
}

static void report_transport(cli_http *h, CURLcode rc)
{
    cli_error(h->verb, "cannot reach the node at %s: %s", h->base,
              h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
}

int cli_http_call(cli_http *h, const char *method, const char *path,
                  const char *json_body, cli_http_reply *r)
{
    memset(r, 0, sizeof *r);
    struct curl_slist *headers = NULL;
    sink_buf b = {0};
    if (!prepare(h, method, path, json_body, NULL, &headers) ||
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, 120L) != CURLE_OK) {
        curl_slist_free_all(headers);
        cli_error(h->verb, "cannot set up the request (out of memory?)");
        return CLI_EXIT_ERROR;
    }
    CURLcode rc = curl_easy_perform(h->curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        if (b.too_big)
            cli_error(h->verb, "the node's reply is larger than %u bytes", CLI_HTTP_REPLY_MAX);
        else
            report_transport(h, rc);
        free(b.data);
        return CLI_EXIT_ERROR;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
    r->body = b.data ? b.data : strdup("");
    r->len = b.len;
    if (!r->body) {
        cli_error(h->verb, "out of memory");
        return CLI_EXIT_ERROR;
    }
    return 0;
}

void cli_put_clean(const char *s, bool multiline)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            /* U+0080..U+009F, the C1 controls (CSI among them) */
            putchar('?');
            p++;
        } else if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t'))) ||
                   *p == 0x7f) {
            putchar('?');
        } else {
            putchar(*p);
        }
    }
}

int cli_http_report(const cli_http_reply *r)
{
    int exit = r->status == 403 || r->status == 422 ? CLI_EXIT_NO : CLI_EXIT_ERROR;
    json_error_t jerr;
    json_t *j = r->body ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
    const char *msg = json_is_object(j) ? json_string_value(json_object_get(j, "message"))
                                        : NULL;
    fflush(stdout);
    if (msg) {
        /* The node's sentence, cleaned: it goes to a terminal. */
        fputs("liaison: ", stderr);
        for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
            fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
        fputc('\n', stderr);
    } else {
        fprintf(stderr, "liaison: the node answered HTTP %ld without an error message\n",
                r->status);
    }
    json_decref(j);
    return exit;
}

/* What a stream's write callback needs. */
typedef struct stream_ctx {
    cli_http *h;
    cli_http_sink sink;
    void *ctx;
    bool stopped;
    long status;  /* 0 until the first bytes */
    sink_buf err; /* the body of a non-200 reply */
} stream_ctx;

static size_t on_stream(char *data, size_t size, size_t nmemb, void *p)
{
    stream_ctx *s = p;
    size_t n = size * nmemb;
    if (s->status == 0)
        curl_easy_getinfo(s->h->curl, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200)
        return buf_add(&s->err, data, n) ? n : 0;
    if (!s->sink(s->ctx, data, n)) {
        s->stopped = true;
        return 0;
    }
    return n;
}

int cli_http_stream(cli_http *h, const char *path, const char *last_id,
                    cli_http_sink sink, void *ctx, bool *stopped,
                    cli_http_reply *r)
{
    memset(r, 0, sizeof *r);
    *stopped = false;
    struct curl_slist *headers = NULL;
    stream_ctx s = {.h = h, .sink = sink, .ctx = ctx};
    if (!prepare(h, "GET", path, NULL, last_id, &headers) ||
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_stream) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
        /* No overall timeout; a node sends a comment when idle, so 90 s of
         * silence means the connection is dead. */
        curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, 90L) != CURLE_OK) {
        curl_slist_free_all(headers);
        cli_error(h->verb, "cannot set up the request (out of memory?)");
        return CLI_EXIT_ERROR;
    }
    CURLcode rc = curl_easy_perform(h->curl);
    curl_slist_free_all(headers);
    if (s.status == 0)
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &s.status);
    r->status = s.status;
    if (s.stopped) {
        *stopped = true;
        free(s.err.data);
        return 0;
    }
    if (s.status != 0 && s.status != 200) {
        r->body = s.err.data ? s.err.data : strdup("");
        r->len = s.err.len;
        return 0;
    }
    free(s.err.data);
    if (rc != CURLE_OK) {
        report_transport(h, rc);
        return CLI_EXIT_ERROR;
    }
    return 0; /* the node closed the stream */
}
