/* cli/cmd_release.c — `liaison release request|list|show|concur|break|
 * withdraw|extend` and `liaison item withdraw|narrow`: release requests and
 * corrections on a node over HTTP (docs/RELEASE.md). Each verb is one call;
 * the node decides and audits. Exit 0 when done, 1 when the node refuses
 * under the policy (403, 422), 2 for anything else (404, 409 included). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "http_client.h"

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* "RID STATE DEADLINE MARKING" (list: with the item). */
static void print_request(const json_t *r, bool with_item)
{
    cli_put_clean(jstr(r, "id"), false);
    printf(" %s ", jstr(r, "state"));
    cli_put_clean(jstr(r, "deadline"), false);
    if (with_item) {
        putchar(' ');
        cli_put_clean(jstr(r, "item"), false);
    }
    putchar(' ');
    cli_put_clean(jstr(r, "marking"), false);
    putchar('\n');
}

static void print_authorities(const json_t *r)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(r, "authorities"), i, a)
    {
        printf("  authority ");
        cli_put_clean(jstr(a, "user"), false);
        printf(" (");
        cli_put_clean(jstr(a, "organisation"), false);
        printf("): %s", jstr(a, "answer"));
        if (json_is_string(json_object_get(a, "reason"))) {
            printf(": ");
            cli_put_clean(jstr(a, "reason"), false);
        }
        putchar('\n');
    }
}

static void print_history(const json_t *r)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "history"), i, e)
    {
        printf("  ");
        cli_put_clean(jstr(e, "time"), false);
        putchar(' ');
        cli_put_clean(jstr(e, "actor"), false);
        printf(" %s ", jstr(e, "event"));
        cli_put_clean(jstr(e, "detail"), false);
        putchar('\n');
    }
}

typedef void (*printer)(const json_t *reply);

/* METHOD PATH with body (may be NULL; owned: freed here), then print the
 * reply with `print` when it is 200 or 201. */
static int call(const cli_args *a, const char *verb, const char *method, const char *path,
                json_t *body, printer print)
{
    char *req = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (body && !req) {
        cli_error(verb, "out of memory");
        return CLI_EXIT_ERROR;
    }
    cli_http *h = cli_http_new(a, verb);
    int exit = CLI_EXIT_ERROR;
    cli_http_reply r;
    if (h && cli_http_call(h, method, path, req, &r) == 0) {
        if (r.status != 200 && r.status != 201) {
            exit = cli_http_report(&r);
        } else {
            json_t *j = json_loadb(r.body, r.len, 0, NULL);
            if (!json_is_object(j)) {
                cli_error(verb, "the node's reply is not JSON");
            } else {
                print(j);
                exit = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
            }
            json_decref(j);
        }
        cli_http_reply_release(&r);
    }
    free(req);
    cli_http_free(h);
    return exit;
}

/* An id operand (a UUID: 36 characters of hex and dashes) into a path. */
static bool id_path(const char *verb, const char *id, const char *prefix, const char *tail,
                    char *out, size_t cap)
{
    size_t n = strlen(id);
    bool ok = n == 36;
    for (size_t i = 0; ok && i < n; i++)
        ok = id[i] == '-' || (id[i] >= '0' && id[i] <= '9') ||
             (id[i] >= 'a' && id[i] <= 'f') || (id[i] >= 'A' && id[i] <= 'F');
    if (!ok) {
        cli_error(verb, "%s is not an id (a UUID)", id);
        return false;
    }
    snprintf(out, cap, "%s%s%s", prefix, id, tail);
    return true;
}

static void print_one(const json_t *r)
{
    print_request(r, false);
    print_authorities(r);
}

static void print_full(const json_t *r)
{
    print_request(r, true);
    printf("  proposer ");
    cli_put_clean(jstr(r, "proposer"), false);
    printf(" (%s): ", jstr(r, "kind"));
    cli_put_clean(jstr(r, "reason"), false);
    putchar('\n');
    print_authorities(r);
    print_history(r);
}

static void print_list(const json_t *j)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(j, "requests"), i, r)
        print_request(r, true);
}

int cli_cmd_release_request(const cli_verb *v, const cli_args *a)
{
    (void)v;
    char path[128];
    if (!id_path("release request", a->operands[0], "/api/v1/items/",
                 "/release-requests", path, sizeof path))
        return CLI_EXIT_ERROR;
    json_t *label = cli_label_arg(cli_opt(a, CLI_OPT_LABEL));
    if (!label)
        return CLI_EXIT_ERROR;
    json_t *body = json_pack("{s:o, s:s}", "label", label, "reason", cli_opt(a, CLI_OPT_REASON));
    const char *deadline = cli_opt(a, CLI_OPT_DEADLINE);
    if (body && deadline && json_object_set_new(body, "deadline", json_string(deadline))) {
        json_decref(body);
        body = NULL;
    }
    if (!body) {
        cli_error("release request", "the reason must be UTF-8 text");
        return CLI_EXIT_ERROR;
    }
    return call(a, "release request", "POST", path, body, print_one);
}

int cli_cmd_release_list(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *state = cli_opt(a, CLI_OPT_STATE);
    static const char *const states[] = {"open", "adopted", "silence-broken", "withdrawn"};
    bool known = !state;
    for (size_t i = 0; state && i < 4; i++)
        known = known || strcmp(state, states[i]) == 0;
    if (!known) {
        cli_error("release list", "--state is open, adopted, silence-broken or withdrawn");
        return CLI_EXIT_ERROR;
    }
    char path[128];
    snprintf(path, sizeof path, "/api/v1/release-requests%s%s", state ? "?state=" : "",
             state ? state : "");
    return call(a, "release list", "GET", path, NULL, print_list);
}

int cli_cmd_release_show(const cli_verb *v, const cli_args *a)
{
    (void)v;
    char path[128];
    if (!id_path("release show", a->operands[0], "/api/v1/release-requests/", "", path,
                 sizeof path))
        return CLI_EXIT_ERROR;
    return call(a, "release show", "GET", path, NULL, print_full);
}

/* An act on a request: POST .../RID/WHAT with body. */
static int release_act(const cli_args *a, const char *verb, const char *what, json_t *body)
{
    char path[160], tail[40];
    snprintf(tail, sizeof tail, "/%s", what);
    if (!id_path(verb, a->operands[0], "/api/v1/release-requests/", tail, path,
                 sizeof path)) {
        json_decref(body);
        return CLI_EXIT_ERROR;
    }
    return call(a, verb, "POST", path, body, print_one);
}

int cli_cmd_release_concur(const cli_verb *v, const cli_args *a)
{
    (void)v;
    return release_act(a, "release concur", "concur", NULL);
}

int cli_cmd_release_break(const cli_verb *v, const cli_args *a)
{
    (void)v;
    json_t *body = json_pack("{s:s}", "reason", cli_opt(a, CLI_OPT_REASON));
    if (!body) {
        cli_error("release break", "the reason must be UTF-8 text");
        return CLI_EXIT_ERROR;
    }
    return release_act(a, "release break", "break-silence", body);
}

int cli_cmd_release_withdraw(const cli_verb *v, const cli_args *a)
{
    (void)v;
    return release_act(a, "release withdraw", "withdraw", NULL);
}

int cli_cmd_release_extend(const cli_verb *v, const cli_args *a)
{
    (void)v;
    json_t *body = json_pack("{s:s}", "deadline", cli_opt(a, CLI_OPT_DEADLINE));
    if (!body) {
        cli_error("release extend", "out of memory");
        return CLI_EXIT_ERROR;
    }
    return release_act(a, "release extend", "extend", body);
}

static void print_withdrawn(const json_t *j)
{
    cli_put_clean(jstr(j, "id"), false);
    printf(" %s\n", jstr(j, "state"));
}

static void print_version(const json_t *j)
{
    cli_put_clean(jstr(j, "id"), false);
    printf(" %lld\n", (long long)json_integer_value(json_object_get(j, "version")));
}

int cli_cmd_item_withdraw(const cli_verb *v, const cli_args *a)
{
    (void)v;
    char path[128];
    if (!id_path("item withdraw", a->operands[0], "/api/v1/items/", "/withdraw", path,
                 sizeof path))
        return CLI_EXIT_ERROR;
    return call(a, "item withdraw", "POST", path, NULL, print_withdrawn);
}

int cli_cmd_item_narrow(const cli_verb *v, const cli_args *a)
{
    (void)v;
    char path[128];
    if (!id_path("item narrow", a->operands[0], "/api/v1/items/", "/narrow", path,
                 sizeof path))
        return CLI_EXIT_ERROR;
    json_t *label = cli_label_arg(cli_opt(a, CLI_OPT_LABEL));
    if (!label)
        return CLI_EXIT_ERROR;
    return call(a, "item narrow", "POST", path, json_pack("{s:o}", "label", label),
                print_version);
}
