/* cli/cmd_client.c — the client verbs: `liaison post`, `read`, `tail` and
 * `search`, which talk to a node over its HTTP API (docs/api/openapi.yaml)
 * through http_client.c.
 *
 * Items are printed for people: the marking as a banner above and below,
 * a line saying which item, who, from where and when, then the body. What
 * comes from the node is printed with control characters replaced, so an
 * item cannot drive the terminal. The node's refusals under the policy
 * (403, 422) exit 1; every other failure exits 2 (docs/liaison.1). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http_client.h"

#define TAIL_DELAY_MIN_MS 1000
#define TAIL_DELAY_MAX_MS 30000
#define TAIL_DELAY_FLOOR_MS 50 /* however small the node's retry hint */
/* An SSE event larger than this drops the connection (a node's item is
 * far smaller). */
#define SSE_EVENT_MAX (16u * 1024u * 1024u)

/* A whole number from the command line (--after, --limit), in [min, max]. */
static bool parse_count(const char *verb, const char *opt, const char *s,
                        unsigned long long min, unsigned long long max,
                        unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || *s < '0' || *s > '9') {
        cli_error(verb, "%s: not a whole number: '%s'", opt, s ? s : "");
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max) {
        cli_error(verb, "%s: '%s' is not a whole number from %llu to %llu", opt, s,
                  min, max);
        return false;
    }
    *out = v;
    return true;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Whether --lang asks for French markings (the node sends English and
 * French ones: "marking", "markingFr"). */
static bool want_french(const cli_args *a)
{
    return a->lang && (a->lang[0] == 'f' || a->lang[0] == 'F') &&
           (a->lang[1] == 'r' || a->lang[1] == 'R') && (!a->lang[2] || a->lang[2] == '-');
}

/* An item's id as the node gives it: an opaque string (a UUID), or a
 * number from an older node. */
static void print_id(const json_t *id)
{
    if (json_is_string(id))
        cli_put_clean(json_string_value(id), false);
    else
        printf("%" JSON_INTEGER_FORMAT, json_is_integer(id) ? json_integer_value(id) : 0);
}

/* Print one item (an object of the API's Item schema); in French when
 * `fr` and the node gave a French marking. */
static void print_item(const json_t *it, const char *channel, bool fr)
{
    const char *marking = fr && *jstr(it, "markingFr") ? jstr(it, "markingFr")
                                                       : jstr(it, "marking");
    const char *ch = json_is_string(json_object_get(it, "channel")) ? jstr(it, "channel")
                                                                   : channel;
    fputs("==== ", stdout);
    cli_put_clean(marking, false);
    fputs(" ====\n#", stdout);
    print_id(json_object_get(it, "id"));
    if (ch && *ch) {
        putchar(' ');
        cli_put_clean(ch, false);
    }
    fputs(" - ", stdout);
    cli_put_clean(jstr(it, "author"), false);
    fputs(" (", stdout);
    cli_put_clean(jstr(it, "organisation"), false);
    fputs(") ", stdout);
    cli_put_clean(jstr(it, "created"), false);
    putchar('\n');
    const char *body = jstr(it, "body");
    cli_put_clean(body, true);
    if (!*body || body[strlen(body) - 1] != '\n')
        putchar('\n');
    fputs("==== ", stdout);
    cli_put_clean(marking, false);
    fputs(" ====\n\n", stdout);
}

/* Parse a 200 reply holding {"items": [...]} and print every item. */
static int print_items(const char *verb, const cli_http_reply *r, const char *channel,
                       bool fr)
{
    json_error_t jerr;
    json_t *j = json_loadb(r->body, r->len, 0, &jerr);
    json_t *items = json_object_get(j, "items");
    if (!json_is_array(items)) {
        cli_error(verb, "the node's reply is not a list of items");
        json_decref(j);
        return CLI_EXIT_ERROR;
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        if (json_is_object(it))
            print_item(it, channel, fr);
    }
    json_decref(j);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

/* The label argument as JSON: an object (inline, or a file of the JSON
 * label form) or a string (a file holding STANAG 4774 XML). NULL after
 * reporting. */
json_t *cli_label_arg(const char *arg)
{
    const char *p = arg;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    char *data = NULL;
    size_t len = 0;
    const char *what = "--label";
    if (*p != '{') {
        int rc = cli_read_file(arg, CLI_FILE_MAX, &data, &len);
        if (rc != 0) {
            cli_error(arg, "%s", rc == EFBIG ? "file too large" : strerror(rc));
            return NULL;
        }
        what = arg;
        p = data;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
    } else {
        len = strlen(arg);
    }
    json_t *label = NULL;
    if (*p == '{') {
        json_error_t jerr;
        label = json_loadb(data ? data : arg, data ? len : strlen(arg),
                           JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(label)) {
            cli_error(what, "not a JSON label: %s (line %d, column %d)", jerr.text,
                      jerr.line, jerr.column);
            json_decref(label);
            label = NULL;
        }
    } else if (*p == '<') {
        if (strlen(data) != len || !(label = json_string(data)))
            cli_error(what, "an XML label must be UTF-8 text");
    } else {
        cli_error(what, "neither a JSON nor a STANAG 4774 XML label (convert it with "
                  "'liaison label convert --to json')");
    }
    free(data);
    return label;
}

int cli_cmd_post(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *channel = cli_opt(a, CLI_OPT_CHANNEL);
    const char *body = cli_opt(a, CLI_OPT_BODY), *body_file = cli_opt(a, CLI_OPT_BODY_FILE);
    if (body && body_file) {
        cli_error("post", "give --body or --body-file, not both");
        return CLI_EXIT_ERROR;
    }
    json_t *label = cli_label_arg(cli_opt(a, CLI_OPT_LABEL));
    if (!label)
        return CLI_EXIT_ERROR;
    char *text = NULL;
    size_t len = 0;
    if (!body) {
        const char *src = body_file ? body_file : "-";
        int rc = cli_read_file(src, CLI_FILE_MAX, &text, &len);
        if (rc != 0) {
            cli_error(src, "%s", rc == EFBIG ? "file too large" : strerror(rc));
            json_decref(label);
            return CLI_EXIT_ERROR;
        }
        body = text;
    } else {
        len = strlen(body);
    }
    int exit = CLI_EXIT_ERROR;
    cli_http *h = NULL;
    char *esc = NULL, *req = NULL;
    json_t *jbody = json_stringn(body, len);
    if (!jbody) {
        cli_error("post", "the body must be UTF-8 text without NUL bytes");
        json_decref(label);
        goto out;
    }
    json_t *o = json_pack("{s:o, s:o}", "label", label, "body", jbody);
    req = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!req) {
        cli_error("post", "out of memory");
        goto out;
    }
    if (!(h = cli_http_new(a, "post")))
        goto out;
    if (!(esc = cli_http_escape(h, channel))) {
        cli_error("post", "out of memory");
        goto out;
    }
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "/api/v1/channels/%s/items", esc) >= sizeof path) {
        cli_error("post", "channel name too long");
        goto out;
    }
    cli_http_reply r;
    if (cli_http_call(h, "POST", path, req, &r) != 0)
        goto out;
    if (r.status != 201 && r.status != 200) {
        exit = cli_http_report(&r);
    } else {
        json_error_t jerr;
        json_t *j = json_loadb(r.body, r.len, 0, &jerr);
        json_t *id = json_object_get(j, "id");
        if (!json_is_integer(id) && !json_is_string(id)) {
            cli_error("post", "the node's reply holds no item id");
        } else {
            print_id(id);
            putchar(' ');
            cli_put_clean(jstr(j, "marking"), false);
            putchar('\n');
            exit = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
        }
        json_decref(j);
    }
    cli_http_reply_release(&r);
out:
    if (esc)
        cli_http_free_string(esc);
    free(req);
    free(text);
    cli_http_free(h);
    return exit;
}

/* GET a list of items and print them; frees h. */
static int get_items(cli_http *h, const char *verb, const char *path,
                     const char *channel, bool fr)
{
    cli_http_reply r;
    int exit = CLI_EXIT_ERROR;
    if (cli_http_call(h, "GET", path, NULL, &r) == 0) {
        exit = r.status == 200 ? print_items(verb, &r, channel, fr) : cli_http_report(&r);
        cli_http_reply_release(&r);
    }
    cli_http_free(h);
    return exit;
}

/* Append "&name=value" (or "?name=value" first) to a path. */
static bool add_query(char *path, size_t size, const char *name, unsigned long long v)
{
    size_t n = strlen(path);
    int w = snprintf(path + n, size - n, "%c%s=%llu", strchr(path, '?') ? '&' : '?',
                     name, v);
    return w > 0 && (size_t)w < size - n;
}

/* The same with a text value, escaped (an opaque cursor). */
static bool add_query_text(cli_http *h, char *path, size_t size, const char *name,
                           const char *v)
{
    char *esc = cli_http_escape(h, v);
    if (!esc)
        return false;
    size_t n = strlen(path);
    int w = snprintf(path + n, size - n, "%c%s=%s", strchr(path, '?') ? '&' : '?', name, esc);
    cli_http_free_string(esc);
    return w > 0 && (size_t)w < size - n;
}

/* An --after value: the node's cursor (read) or event id (tail), opaque
 * text passed on as given; printable ASCII, at most 127 characters. */
static bool opaque_arg(const char *verb, const char *s)
{
    size_t n = strlen(s);
    bool good = n > 0 && n < 128;
    for (const char *c = s; good && *c; c++)
        good = *c > 0x20 && *c < 0x7f;
    if (!good)
        cli_error(verb, "--after %s: not a cursor or event id", s);
    return good;
}

/* "PREFIX" + escaped `text` + "SUFFIX" into path; false after reporting. */
static bool build_path(cli_http *h, const char *verb, char *path, size_t size,
                       const char *prefix, const char *text, const char *suffix)
{
    char *esc = cli_http_escape(h, text);
    if (!esc) {
        cli_error(verb, "out of memory");
        return false;
    }
    int w = snprintf(path, size, "%s%s%s", prefix, esc, suffix);
    cli_http_free_string(esc);
    if (w < 0 || (size_t)w >= size) {
        cli_error(verb, "%s too long", text);
        return false;
    }
    return true;
}

#define PATH_MAX_LEN 4096

int cli_cmd_read(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *channel = cli_opt(a, CLI_OPT_CHANNEL);
    const char *after_s = cli_opt(a, CLI_OPT_AFTER), *limit_s = cli_opt(a, CLI_OPT_LIMIT);
    unsigned long long limit = 0;
    if ((after_s && !opaque_arg("read", after_s)) ||
        (limit_s && !parse_count("read", "--limit", limit_s, 1, 1000, &limit)))
        return CLI_EXIT_ERROR;
    cli_http *h = cli_http_new(a, "read");
    if (!h)
        return CLI_EXIT_ERROR;
    char path[PATH_MAX_LEN];
    if (!build_path(h, "read", path, sizeof path, "/api/v1/channels/", channel, "/items") ||
        (after_s && !add_query_text(h, path, sizeof path, "after", after_s)) ||
        (limit_s && !add_query(path, sizeof path, "limit", limit))) {
        cli_http_free(h);
        return CLI_EXIT_ERROR;
    }
    return get_items(h, "read", path, channel, want_french(a));
}

int cli_cmd_search(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *query = a->operands[0], *limit_s = cli_opt(a, CLI_OPT_LIMIT);
    unsigned long long limit = 0;
    if (!*query) {
        cli_error("search", "the query is empty");
        return CLI_EXIT_ERROR;
    }
    if (strlen(query) > 512) {
        cli_error("search", "the query is longer than 512 bytes");
        return CLI_EXIT_ERROR;
    }
    if (limit_s && !parse_count("search", "--limit", limit_s, 1, 1000, &limit))
        return CLI_EXIT_ERROR;
    cli_http *h = cli_http_new(a, "search");
    if (!h)
        return CLI_EXIT_ERROR;
    char path[PATH_MAX_LEN];
    if (!build_path(h, "search", path, sizeof path, "/api/v1/search?q=", query, "") ||
        (limit_s && !add_query(path, sizeof path, "limit", limit))) {
        cli_http_free(h);
        return CLI_EXIT_ERROR;
    }
    return get_items(h, "search", path, NULL, want_french(a));
}

/* ---- tail: a Server-Sent Events reader ---------------------------------- */

typedef struct sse {
    char *line;          /* the line being read */
    size_t len, cap;
    bool after_cr;       /* the last byte was CR: a following LF ends nothing */
    char *data;          /* the event's data lines, joined by '\n' */
    size_t dlen, dcap;
    char event[64];      /* the event's type */
    char id[128];        /* the id of this event, "" if none */
    char last_id[128];   /* the last event id seen: resume from it */
    long retry_ms;       /* the node's retry hint, 0 if none */
    const char *channel;
    bool fr;             /* French markings */
    unsigned long long shown, limit; /* limit 0: no limit */
    bool broken;         /* an event over the cap or unreadable memory */
} sse;

static bool grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    if (need > SSE_EVENT_MAX)
        return false;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    char *p = realloc(*buf, c);
    if (!p)
        return false;
    *buf = p;
    *cap = c;
    return true;
}

/* An event is complete: print it if it is an item. False to stop. */
static bool sse_dispatch(sse *s)
{
    if (s->id[0])
        memcpy(s->last_id, s->id, sizeof s->id);
    bool is_item = s->dlen > 0 && (!s->event[0] || strcmp(s->event, "item") == 0 ||
                                   strcmp(s->event, "message") == 0);
    if (is_item) {
        json_error_t jerr;
        json_t *it = json_loadb(s->data, s->dlen, 0, &jerr);
        if (json_is_object(it)) {
            print_item(it, s->channel, s->fr);
            fflush(stdout);
            s->shown++;
        }
        json_decref(it);
    }
    s->dlen = 0;
    s->event[0] = '\0';
    s->id[0] = '\0';
    return !(s->limit && s->shown >= s->limit);
}

/* One line of the stream (without its end). False to stop. */
static bool sse_line(sse *s)
{
    if (s->len == 0)
        return sse_dispatch(s);
    s->line[s->len] = '\0';
    if (s->line[0] == ':')
        return true; /* a comment: the node's heartbeat */
    char *colon = strchr(s->line, ':');
    const char *value = "";
    if (colon) {
        *colon = '\0';
        value = colon + 1;
        if (*value == ' ')
            value++;
    }
    if (strcmp(s->line, "data") == 0) {
        size_t n = strlen(value);
        if (!grow(&s->data, &s->dcap, s->dlen + n + 2)) {
            s->broken = true;
            return false;
        }
        if (s->dlen)
            s->data[s->dlen++] = '\n';
        memcpy(s->data + s->dlen, value, n);
        s->dlen += n;
    } else if (strcmp(s->line, "event") == 0) {
        snprintf(s->event, sizeof s->event, "%s", value);
    } else if (strcmp(s->line, "id") == 0) {
        /* Only a plain decimal id is kept: it goes back in a header. */
        size_t n = strspn(value, "0123456789");
        if (n > 0 && n < sizeof s->id && value[n] == '\0')
            memcpy(s->id, value, n + 1);
    } else if (strcmp(s->line, "retry") == 0) {
        size_t n = strspn(value, "0123456789");
        if (n > 0 && n < 9 && value[n] == '\0')
            s->retry_ms = strtol(value, NULL, 10);
    }
    return true;
}

static bool sse_feed(void *ctx, const char *data, size_t len)
{
    sse *s = ctx;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c == '\n' && s->after_cr) {
            s->after_cr = false;
            continue;
        }
        s->after_cr = c == '\r';
        if (c == '\n' || c == '\r') {
            if (!sse_line(s))
                return false;
            s->len = 0;
            continue;
        }
        if (!grow(&s->line, &s->cap, s->len + 2)) {
            s->broken = true;
            return false;
        }
        s->line[s->len++] = c;
    }
    return true;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int cli_cmd_tail(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *channel = cli_opt(a, CLI_OPT_CHANNEL);
    const char *after_s = cli_opt(a, CLI_OPT_AFTER), *limit_s = cli_opt(a, CLI_OPT_LIMIT);
    unsigned long long limit = 0;
    if ((after_s && !opaque_arg("tail", after_s)) ||
        (limit_s && !parse_count("tail", "--limit", limit_s, 1, UINT32_MAX, &limit)))
        return CLI_EXIT_ERROR;
    cli_http *h = cli_http_new(a, "tail");
    if (!h)
        return CLI_EXIT_ERROR;
    char path[PATH_MAX_LEN];
    if (!build_path(h, "tail", path, sizeof path, "/api/v1/stream?channel=", channel, "")) {
        cli_http_free(h);
        return CLI_EXIT_ERROR;
    }
    sse s = {.channel = channel, .limit = limit, .fr = want_french(a)};
    if (after_s)
        snprintf(s.last_id, sizeof s.last_id, "%s", after_s);
    long delay = TAIL_DELAY_MIN_MS;
    int exit = CLI_EXIT_ERROR;
    for (;;) {
        bool stopped = false;
        cli_http_reply r;
        s.len = 0;
        s.dlen = 0;
        s.after_cr = false;
        s.event[0] = s.id[0] = '\0'; /* a half-received event is dropped */
        unsigned long long before = s.shown;
        int rc = cli_http_stream(h, path, s.last_id[0] ? s.last_id : NULL, sse_feed, &s,
                                 &stopped, &r);
        if (stopped && !s.broken) {
            exit = CLI_EXIT_OK; /* --limit reached */
            break;
        }
        if (s.broken) {
            cli_error("tail", "an event larger than %u bytes; reconnecting", SSE_EVENT_MAX);
        } else if (rc == 0 && r.status != 200 && r.status != 503) {
            exit = cli_http_report(&r);
            cli_http_reply_release(&r);
            break;
        }
        cli_http_reply_release(&r);
        s.broken = false;
        /* The backoff starts again only after a connection that delivered
         * an item, from the node's hint when it gave one (never below
         * TAIL_DELAY_FLOOR_MS); otherwise it doubles up to the cap, so a
         * node that accepts and hangs up at once is not hammered. */
        if (r.status == 200 && s.shown > before)
            delay = s.retry_ms > 0 ? s.retry_ms : TAIL_DELAY_MIN_MS;
        if (delay < TAIL_DELAY_FLOOR_MS)
            delay = TAIL_DELAY_FLOOR_MS;
        if (delay > TAIL_DELAY_MAX_MS)
            delay = TAIL_DELAY_MAX_MS;
        fprintf(stderr, "liaison: tail: stream %s; reconnecting in %ld ms%s%s\n",
                rc == 0 ? "closed" : "lost", delay,
                s.last_id[0] ? " after event " : "", s.last_id);
        sleep_ms(delay);
        delay = delay * 2 > TAIL_DELAY_MAX_MS ? TAIL_DELAY_MAX_MS : delay * 2;
    }
    free(s.line);
    free(s.data);
    cli_http_free(h);
    return exit;
}
