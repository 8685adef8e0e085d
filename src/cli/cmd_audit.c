/* cli/cmd_audit.c — `liaison audit show` and `audit export`: the audit log
 * of a node's data directory, filtered by actor, action, object and time,
 * for a person (one readable line per record) or for a tool (JSON lines,
 * each with its chain hash, so that an unfiltered export can be checked
 * against the chain by anyone: docs/STORE.md says how the hash is made).
 * The reading and its filter are the service layer's (svc_audit_read, the
 * same as GET /api/v1/audit): the auditor right, and the reading recorded. */
#define _GNU_SOURCE /* timegm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "admin.h"

/* TIME as Unix milliseconds (digits) or YYYY-MM-DDTHH:MM:SSZ (UTC). */
static bool parse_time(const char *opt, const char *s, int64_t *out)
{
    if (!s) {
        *out = 0;
        return true;
    }
    char *end;
    if (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s)) {
        unsigned long long v = strtoull(s, &end, 10);
        if (strlen(s) <= 15) {
            *out = (int64_t)v;
            return true;
        }
    } else {
        struct tm tm = {0};
        end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (end && *end == '\0') {
            *out = (int64_t)timegm(&tm) * 1000;
            return true;
        }
    }
    cli_error(opt, "'%s' is not a time (Unix milliseconds or YYYY-MM-DDTHH:MM:SSZ)", s);
    return false;
}

static int show_cb(void *ctx, const store_audit_event *ev)
{
    (void)ctx;
    time_t t = (time_t)(ev->time_ms / 1000);
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *detail = ev->detail ? ev->detail : "";
    printf("%llu %s %s %s %s %s%s%s\n", (unsigned long long)ev->seq, when,
           ev->actor ? ev->actor : "", ev->action ? ev->action : "",
           ev->object ? ev->object : "", ev->outcome ? ev->outcome : "",
           detail[0] ? " — " : "", detail);
    return STORE_NEXT;
}

static int export_cb(void *ctx, const store_audit_event *ev)
{
    (void)ctx;
    char hex[2 * STORE_HASH_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, ev->hash, STORE_HASH_LEN);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq",
                          (json_int_t)ev->seq, "time", (json_int_t)ev->time_ms, "actor",
                          ev->actor ? ev->actor : "", "action", ev->action ? ev->action : "",
                          "object", ev->object ? ev->object : "", "outcome",
                          ev->outcome ? ev->outcome : "", "detail",
                          ev->detail ? ev->detail : "", "hash", hex);
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!line)
        return STORE_STOP;
    printf("%s\n", line);
    free(line);
    return STORE_NEXT;
}

static int audit_read(const cli_verb *v, const cli_args *a, store_audit_cb cb)
{
    svc_audit_filter f = {.actor = cli_opt(a, CLI_OPT_ACTOR),
                          .action = cli_opt(a, CLI_OPT_ACTION),
                          .object = cli_opt(a, CLI_OPT_OBJECT)};
    if (!parse_time("--since", cli_opt(a, CLI_OPT_SINCE), &f.since_ms) ||
        !parse_time("--until", cli_opt(a, CLI_OPT_UNTIL), &f.until_ms))
        return CLI_EXIT_ERROR;
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    svc_result res;
    int exit = CLI_EXIT_OK;
    /* The whole log: the reading's own record comes after what it reads. */
    if (svc_audit_read(&ad.s, &ad.actor, 0, SIZE_MAX, &f, cb, NULL, &res) != LSN_OK) {
        cli_error(v->name, "%s", res.reason);
        exit = CLI_EXIT_ERROR;
    }
    admin_close(&ad);
    return exit;
}

int cli_cmd_audit_show(const cli_verb *v, const cli_args *a)
{
    return audit_read(v, a, show_cb);
}

int cli_cmd_audit_export(const cli_verb *v, const cli_args *a)
{
    return audit_read(v, a, export_cb);
}
