/* cli/cmd_admin.c — offline administration of a node's data directory:
 * `liaison org add`, `user add`, `channel add` and `audit verify`.
 *
 * These verbs open the node's store directly (as `sqlite3` opens a file),
 * through the store interface (src/store/store.h), so that a node can be set
 * up before it first starts and its audit log checked while it is stopped or
 * running (the store continues one audit chain across processes). Every act
 * is itself appended to the audit log, refusals included, with the local
 * login as the actor. */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "store/audit.h"
#include "store/store.h"

/* The store's file inside a data directory (the node opens the same). */
#define STORE_FILE "liaison.db"

/* Who acts: "cli:LOGIN" — the person at the terminal, as far as the system
 * knows; the node's users are not involved in offline administration. */
static void actor_name(char *out, size_t n)
{
    struct passwd *pw = getpwuid(getuid());
    snprintf(out, n, "cli:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
}

/* Open the store of the data directory. With `create`, a missing directory
 * is made (owner-only: it will hold labelled items and token hashes);
 * without, a missing directory is an error rather than a new empty store. */
static store *open_data(const cli_args *a, const char *what, bool create)
{
    const char *dir = cli_opt(a, CLI_OPT_DATA);
    if (!dir)
        dir = CLI_DEFAULT_DATA_DIR;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || !create) {
            cli_error(dir, "%s", errno == ENOENT ? "no such data directory" : strerror(errno));
            return NULL;
        }
        if (mkdir(dir, 0700) != 0) {
            cli_error(dir, "cannot create the data directory: %s", strerror(errno));
            return NULL;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        cli_error(dir, "not a directory");
        return NULL;
    }
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, STORE_FILE);
    if (n < 0 || (size_t)n >= sizeof path) {
        cli_error(dir, "path too long");
        return NULL;
    }
    if (!create && access(path, F_OK) != 0) {
        cli_error(dir, "no store in this data directory (%s)", STORE_FILE);
        return NULL;
    }
    store *s = NULL;
    lsn_error err = {0};
    if (store_open(path, &s, &err) != LSN_OK) {
        cli_error(what, "cannot open the store %s: %s", path, err.message);
        return NULL;
    }
    return s;
}

/* Append the record of an administrative act. A failure to record is
 * reported and turns success into an error: an unrecorded act must not
 * pass silently. */
static int record(store *s, const char *action, const char *object,
                  const char *outcome, const char *detail, int rc)
{
    char actor[128];
    actor_name(actor, sizeof actor);
    store_audit_event ev = {.time_ms = 0, .actor = actor, .action = action,
                            .object = object, .outcome = outcome, .detail = detail};
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
        ev.time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    lsn_error err = {0};
    if (store_audit_append(s, &ev, &err) != LSN_OK) {
        cli_error("audit", "cannot record %s %s: %s", action, object, err.message);
        return CLI_EXIT_ERROR;
    }
    return rc;
}

/* A name or value from the command line: non-empty, printable, bounded. */
static bool check_text(const char *what, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        cli_error(what, n ? "longer than %zu bytes" : "must not be empty", max);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            cli_error(what, "control characters are not allowed");
            return false;
        }
    }
    return true;
}

/* Report a store refusal in words a person can act on; the refusal is
 * recorded too. */
static int refused(store *s, const char *action, const char *object,
                   const char *what, const lsn_error *err, lsn_err rc)
{
    char msg[LSN_ERROR_MESSAGE_MAX + 64];
    if (rc == LSN_ERR_DUPLICATE)
        snprintf(msg, sizeof msg, "%s already exists", what);
    else
        snprintf(msg, sizeof msg, "%s", err->message);
    cli_error(what, "%s", rc == LSN_ERR_DUPLICATE ? "already exists" : err->message);
    return record(s, action, object, "refused", msg, CLI_EXIT_ERROR);
}

int cli_cmd_org_add(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *name = a->operands[0], *nation = cli_opt(a, CLI_OPT_NATION);
    if (!check_text("organisation name", name, 255) || !check_text("--nation", nation, 255))
        return CLI_EXIT_ERROR;
    store *s = open_data(a, "org add", true);
    if (!s)
        return CLI_EXIT_ERROR;
    char object[300], what[300];
    snprintf(object, sizeof object, "org:%s", name);
    snprintf(what, sizeof what, "organisation '%s'", name);
    lsn_error err = {0};
    int64_t id = 0;
    lsn_err rc = store_org_add(s, name, nation, &id, &err);
    int exit;
    if (rc != LSN_OK) {
        exit = refused(s, "org.add", object, what, &err, rc);
    } else {
        char detail[300];
        snprintf(detail, sizeof detail, "nation %s", nation);
        exit = record(s, "org.add", object, "ok", detail, CLI_EXIT_OK);
        if (exit == CLI_EXIT_OK)
            printf("organisation %s added (%s)\n", name, nation);
    }
    store_close(s);
    return exit;
}

int cli_cmd_channel_add(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *name = a->operands[0], *purpose = cli_opt(a, CLI_OPT_PURPOSE);
    if (!purpose)
        purpose = name; /* the store wants one; the name says something */
    if (!check_text("channel name", name, 255) || !check_text("--purpose", purpose, 4096))
        return CLI_EXIT_ERROR;
    store *s = open_data(a, "channel add", true);
    if (!s)
        return CLI_EXIT_ERROR;
    char object[300], what[300];
    snprintf(object, sizeof object, "channel:%s", name);
    snprintf(what, sizeof what, "channel '%s'", name);
    lsn_error err = {0};
    int64_t id = 0;
    lsn_err rc = store_channel_add(s, name, purpose, &id, &err);
    int exit;
    if (rc != LSN_OK) {
        exit = refused(s, "channel.add", object, what, &err, rc);
    } else {
        exit = record(s, "channel.add", object, "ok", purpose, CLI_EXIT_OK);
        if (exit == CLI_EXIT_OK)
            printf("channel %s added\n", name);
    }
    store_close(s);
    return exit;
}

/* Role names as on the command line and in docs/liaison.1. */
static const struct {
    const char *name;
    unsigned bit;
} roles[] = {
    {"member", STORE_ROLE_MEMBER},
    {"release-authority", STORE_ROLE_RELEASE_AUTHORITY},
    {"release_authority", STORE_ROLE_RELEASE_AUTHORITY}, /* as the API spells it */
    {"auditor", STORE_ROLE_AUDITOR},
    {"administrator", STORE_ROLE_ADMINISTRATOR},
};

static bool parse_roles(const cli_args *a, unsigned *out)
{
    *out = a->nroles ? 0 : STORE_ROLE_MEMBER;
    for (size_t i = 0; i < a->nroles; i++) {
        size_t j = 0;
        while (j < sizeof roles / sizeof roles[0] && strcmp(roles[j].name, a->roles[i]) != 0)
            j++;
        if (j == sizeof roles / sizeof roles[0]) {
            cli_error("--role", "unknown role '%s' (member, release-authority, auditor, "
                      "administrator)", a->roles[i]);
            return false;
        }
        *out |= roles[j].bit;
    }
    return true;
}

/* The clearance as the store keeps it: the engine's canonical JSON,
 * checked against the policy. `arg` is inline JSON (it starts with '{') or
 * a file in any clearance form. Returns a string to free with lsn_free(),
 * or NULL after reporting. */
static char *canonical_clearance(const cli_args *a, const char *arg)
{
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return NULL;
    lsn_error err = {0};
    lsn_clearance *c = NULL;
    lsn_err rc;
    const char *p = arg;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '{')
        rc = lsn_clearance_parse(set, arg, strlen(arg), LSN_FORM_JSON, &c, &err);
    else
        rc = cli_clearance_load(set, arg, &c, &err);
    char *json = NULL;
    size_t len = 0;
    if (rc != LSN_OK) {
        cli_error(*p == '{' ? "--clearance" : arg, "invalid clearance: %s", err.message);
    } else if (lsn_clearance_write(c, LSN_FORM_JSON, &json, &len, &err) != LSN_OK) {
        cli_error("--clearance", "cannot write the clearance: %s", err.message);
        json = NULL;
    }
    lsn_clearance_free(c);
    lsn_policy_set_free(set);
    return json;
}

int cli_cmd_user_add(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *name = a->operands[0], *org = cli_opt(a, CLI_OPT_ORG);
    unsigned rolebits;
    if (!check_text("user name", name, 255) || !check_text("--org", org, 255) ||
        !parse_roles(a, &rolebits))
        return CLI_EXIT_ERROR;
    char *clearance = canonical_clearance(a, a->clearance);
    if (!clearance)
        return CLI_EXIT_ERROR;
    store *s = open_data(a, "user add", true);
    if (!s) {
        lsn_free(clearance);
        return CLI_EXIT_ERROR;
    }
    char object[300], what[300];
    snprintf(object, sizeof object, "user:%s", name);
    snprintf(what, sizeof what, "user '%s'", name);
    lsn_error err = {0};
    int exit = CLI_EXIT_ERROR;
    char token[STORE_TOKEN_CHARS + 1] = "";

    /* The organisation must exist: the store would refuse too, but with a
     * message about a foreign key rather than about the organisation. */
    store_org *o = NULL;
    if (store_org_get(s, org, &o, &err) != LSN_OK) {
        cli_error("user add", "%s", err.message);
        goto out;
    }
    if (!o) {
        char msg[300];
        snprintf(msg, sizeof msg, "unknown organisation '%s'", org);
        cli_error("--org", "%s (add it with 'liaison org add')", msg);
        exit = record(s, "user.add", object, "refused", msg, CLI_EXIT_ERROR);
        goto out;
    }
    lsn_free(o);

    if (store_token_new(token, &err) != LSN_OK) {
        cli_error("user add", "cannot make a token: %s", err.message);
        goto out;
    }
    store_user u = {.name = name, .organisation = org, .clearance = clearance,
                    .roles = rolebits};
    /* Only the hash is stored; the token itself is printed once below. */
    store_token_hash(token, u.token_hash);
    int64_t id = 0;
    lsn_err rc = store_user_add(s, &u, &id, &err);
    if (rc != LSN_OK) {
        exit = refused(s, "user.add", object, what, &err, rc);
        goto out;
    }
    char detail[400];
    snprintf(detail, sizeof detail, "organisation %s, roles %u", org, rolebits);
    exit = record(s, "user.add", object, "ok", detail, CLI_EXIT_OK);
    if (exit == CLI_EXIT_OK) {
        /* The one and only time the token is shown: stdout alone, so that
         * `TOKEN=$(liaison user add ...)` captures it. */
        printf("%s\n", token);
        fflush(stdout);
        fprintf(stderr, "liaison: user %s added; the token above is shown once "
                "and stored only as a hash\n", name);
    }
out:
    sodium_memzero(token, sizeof token);
    store_close(s);
    lsn_free(clearance);
    return exit;
}

int cli_cmd_audit_verify(const cli_verb *v, const cli_args *a)
{
    (void)v;
    store *s = open_data(a, "audit verify", false);
    if (!s)
        return CLI_EXIT_ERROR;
    audit_report r;
    lsn_error err = {0};
    if (audit_verify(s, &r, &err) != LSN_OK) {
        cli_error("audit verify", "cannot read the audit log: %s", err.message);
        store_close(s);
        return CLI_EXIT_ERROR;
    }
    char line[256], hex[2 * STORE_HASH_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, r.head, STORE_HASH_LEN);
    int exit;
    if (r.fault == AUDIT_INTACT) {
        snprintf(line, sizeof line, "audit: %llu entries, chain intact, head %s",
                 (unsigned long long)r.entries, hex);
        exit = CLI_EXIT_OK;
    } else {
        snprintf(line, sizeof line,
                 "audit: entry %llu %s, chain broken (%llu entries read)",
                 (unsigned long long)r.first_bad, audit_fault_name(r.fault),
                 (unsigned long long)r.entries);
        exit = CLI_EXIT_NO;
    }
    printf("%s\n", line);
    /* The check is an act too; its record carries the head it saw, so a
     * later verification can tell the log was not cut short before it. */
    if (record(s, "audit.verify", "audit", exit == CLI_EXIT_OK ? "ok" : "broken",
               line, exit) == CLI_EXIT_ERROR)
        exit = CLI_EXIT_ERROR;
    store_close(s);
    return exit;
}
