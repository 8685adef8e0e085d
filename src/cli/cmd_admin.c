/* cli/cmd_admin.c — offline administration of a node's data directory:
 * `liaison org add`, `user add`, `channel add`, `audit verify` and
 * `verify` (the whole store: items' seals, posts, chain and anchor).
 *
 * These verbs open the node's store directly (as `sqlite3` opens a file)
 * through the one function the node uses too (svc_store_open: --store URI,
 * default sqlite:DIR/liaison.db), so that a node can be set up before it
 * first starts and its audit log checked while it is stopped or running.
 * The acts themselves are the node's service layer's (src/node/service.h):
 * the same checks, the same audit records, refusals included, with
 * "cli:LOGIN" as the actor. Who may act offline: the owner of the data
 * directory (or root) holds the administrator and auditor roles — the
 * directory is 0700, so that is who can open the store at all — and the
 * verb table names the right each verb needs. */
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admin.h"
#include "store/migrate.h"

static const char *data_dir(const cli_args *a)
{
    const char *dir = cli_opt(a, CLI_OPT_DATA);
    return dir ? dir : SVC_DATA_DIR_DEFAULT;
}

/* Who acts: "cli:LOGIN" — the person at the terminal, as far as the system
 * knows — with the roles the data directory's owner holds. */
static void operator_of(admin *ad, const char *dir)
{
    struct passwd *pw = getpwuid(getuid());
    snprintf(ad->name, sizeof ad->name, "cli:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
    struct stat st;
    bool owner = getuid() == 0 || (stat(dir, &st) == 0 && st.st_uid == getuid());
    ad->actor = (svc_actor){.name = ad->name,
                            .roles = owner ? STORE_ROLE_ADMINISTRATOR | STORE_ROLE_AUDITOR : 0};
}

void admin_close(admin *ad)
{
    svc_release(&ad->s);
    store_close(ad->st);
    lsn_policy_set_free(ad->set);
}

/* Open the store of the data directory (with `create`, a missing directory
 * and store are made) and the service over it. The verb's right is checked
 * first, from the table. Returns false after reporting. */
bool admin_open(admin *ad, const cli_verb *v, const cli_args *a, bool create,
                bool policy)
{
    memset(ad, 0, sizeof *ad);
    const char *dir = data_dir(a);
    operator_of(ad, dir);
    char what[64];
    snprintf(what, sizeof what, "%s %s", v->group, v->name);
    struct stat st;
    if ((!create || stat(dir, &st) == 0) && !svc_allowed(ad->actor.roles, (svc_act)v->act)) {
        cli_error(what, "%s (the owner of %s holds it offline)", svc_acts[v->act].why, dir);
        return false;
    }
    if (policy && !(ad->set = cli_policy_set(a)))
        return false;
    lsn_error err = {0};
    if (svc_store_open(dir, cli_opt(a, CLI_OPT_STORE), create, &ad->st, &err) != LSN_OK) {
        cli_error(what, "%s", err.message);
        admin_close(ad);
        return false;
    }
    operator_of(ad, dir); /* a directory just made is the operator's */
    if (svc_init(&ad->s, ad->st, ad->set, 0, false) != LSN_OK) {
        cli_error(what, "out of memory");
        admin_close(ad);
        return false;
    }
    return true;
}

/* The exit code of a service result, reporting a refusal. */
int admin_outcome(const char *what, lsn_err rc, const svc_result *res)
{
    if (rc == LSN_OK)
        return CLI_EXIT_OK;
    cli_error(what, "%s", res->reason);
    return CLI_EXIT_ERROR;
}

int cli_cmd_org_add(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, true, true)) /* the policy names the nations */
        return CLI_EXIT_ERROR;
    const char *name = a->operands[0], *nation = cli_opt(a, CLI_OPT_NATION);
    svc_result res;
    int exit = admin_outcome("org add", svc_org_add(&ad.s, &ad.actor, name, nation, &res), &res);
    if (exit == CLI_EXIT_OK)
        printf("organisation %s added (%s)\n", name, nation);
    admin_close(&ad);
    return exit;
}

int cli_cmd_channel_add(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, true, false))
        return CLI_EXIT_ERROR;
    const char *name = a->operands[0];
    svc_result res;
    int exit = admin_outcome("channel add",
                       svc_channel_add(&ad.s, &ad.actor, name, cli_opt(a, CLI_OPT_PURPOSE),
                                       cli_opt(a, CLI_OPT_LOCAL) != NULL, &res),
                       &res);
    if (exit == CLI_EXIT_OK)
        printf("channel %s added%s\n", name, cli_opt(a, CLI_OPT_LOCAL) ? " (kept local)" : "");
    admin_close(&ad);
    return exit;
}

/* The clearance argument: inline JSON (it starts with '{') or a file in any
 * clearance form. Its bytes into *text (free()), its form into *form. */
bool admin_clearance_text(const char *arg, char **text, size_t *len, lsn_form *form)
{
    const char *p = arg;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '{') {
        *text = strdup(arg);
        *len = *text ? strlen(arg) : 0;
        *form = LSN_FORM_JSON;
        return *text != NULL;
    }
    int e = cli_read_file(arg, CLI_FILE_MAX, text, len);
    if (e) {
        cli_error(arg, "%s", strerror(e));
        return false;
    }
    *form = LSN_FORM_AUTO;
    return true;
}

int cli_cmd_user_add(const cli_verb *v, const cli_args *a)
{
    unsigned rolebits = 0;
    for (size_t i = 0; i < a->nroles; i++) {
        unsigned bit;
        if (!svc_role_parse(a->roles[i], &bit)) {
            cli_error("--role", "unknown role '%s' (member, release-authority, auditor, "
                      "administrator)", a->roles[i]);
            return CLI_EXIT_ERROR;
        }
        rolebits |= bit;
    }
    svc_new_user u = {.name = a->operands[0], .organisation = cli_opt(a, CLI_OPT_ORG),
                      .roles = rolebits};
    char *ctext = NULL;
    if (!admin_clearance_text(a->clearance, &ctext, &u.clearance_len, &u.clearance_form))
        return CLI_EXIT_ERROR;
    u.clearance = ctext;
    admin ad;
    if (!admin_open(&ad, v, a, true, true)) {
        free(ctext);
        return CLI_EXIT_ERROR;
    }
    char token[STORE_TOKEN_CHARS + 1];
    svc_result res;
    int exit = admin_outcome("user add",
                       svc_user_add(&ad.s, &ad.actor, &u, token, NULL, 0, &res), &res);
    if (exit == CLI_EXIT_OK) {
        /* The one and only time the token is shown: stdout alone, so that
         * `TOKEN=$(liaison user add ...)` captures it. */
        printf("%s\n", token);
        fflush(stdout);
        fprintf(stderr, "liaison: user %s added; the token above is shown once "
                "and stored only as a hash\n", u.name);
    }
    sodium_memzero(token, sizeof token);
    admin_close(&ad);
    free(ctext);
    return exit;
}

int cli_cmd_audit_verify(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    store_verify_report r;
    svc_result res;
    int exit;
    if (svc_audit_verify(&ad.s, &ad.actor, &r, &res) != LSN_OK) {
        cli_error("audit verify", "%s", res.reason);
        exit = CLI_EXIT_ERROR;
    } else {
        printf("%s\n", res.reason);
        exit = r.ok ? CLI_EXIT_OK : CLI_EXIT_NO;
    }
    admin_close(&ad);
    return exit;
}

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

int cli_cmd_verify(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    store_verify_report r;
    svc_result res;
    int exit;
    if (svc_store_verify(&ad.s, &ad.actor, &r, &res) != LSN_OK) {
        cli_error("verify", "%s", res.reason);
        exit = CLI_EXIT_ERROR;
    } else {
        store_verify_lines(&r, print_line, NULL);
        printf("%s\n", res.reason);
        exit = r.ok ? CLI_EXIT_OK : CLI_EXIT_NO;
    }
    admin_close(&ad);
    return exit;
}

/* ---- peers ---------------------------------------------------------------- */

int cli_cmd_peer_add(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, true, true))
        return CLI_EXIT_ERROR;
    const char *file = cli_opt(a, CLI_OPT_CERTIFICATE);
    char *pem = NULL;
    size_t len = 0;
    int e = cli_read_file(file, CLI_FILE_MAX, &pem, &len);
    if (e) {
        cli_error(file, "%s", strerror(e));
        admin_close(&ad);
        return CLI_EXIT_ERROR;
    }
    svc_new_peer p = {.name = a->operands[0], .url = cli_opt(a, CLI_OPT_URL),
                      .nation = cli_opt(a, CLI_OPT_NATION), .certificate = pem,
                      .certificate_len = len,
                      .max_classification = cli_opt(a, CLI_OPT_MAX_CLASS),
                      .via = cli_opt(a, CLI_OPT_VIA), .policy = a->to_policy};
    svc_result res;
    int exit = admin_outcome("peer add", svc_peer_add(&ad.s, &ad.actor, &p, &res), &res);
    if (exit == CLI_EXIT_OK)
        printf("peer %s added (%s, %s)\n", p.name, p.nation, p.url);
    free(pem);
    admin_close(&ad);
    return exit;
}

static void print_time(int64_t ms, char *out, size_t cap)
{
    if (!ms) {
        snprintf(out, cap, "never");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int peer_line(void *ctx, const store_peer *p)
{
    const lsn_policy_set *set = ctx;
    const lsn_policy *pol = p->policy ? lsn_policy_set_find_id(set, p->policy)
                            : set && lsn_policy_set_count(set) ? lsn_policy_set_at(set, 0)
                                                               : NULL;
    char contact[32];
    print_time(p->last_contact_ms, contact, sizeof contact);
    printf("%s\tnation %s\t%s%s%s\tpolicy %s\tstate %s\tlast contact %s\twaiting %llu\t"
           "acknowledged %llu\tlast error %s\n",
           p->name, p->nation, p->url, p->via ? " via " : "", p->via ? p->via : "",
           pol ? lsn_policy_name(pol) : p->policy ? p->policy : "(this node's)", p->state,
           contact, (unsigned long long)(p->last_seq - p->last_acked),
           (unsigned long long)p->last_acked, p->last_error ? p->last_error : "none");
    return STORE_NEXT;
}

int cli_cmd_peer_list(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, false, true))
        return CLI_EXIT_ERROR;
    svc_result res;
    int exit = admin_outcome(
        "peer list", svc_peer_list(&ad.s, &ad.actor, peer_line, (void *)ad.s.set, &res), &res);
    admin_close(&ad);
    return exit;
}

/* ---- store migrate ----------------------------------------------------------- */

int cli_cmd_store_migrate(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *dir = data_dir(a), *from_uri = cli_opt(a, CLI_OPT_FROM);
    const char *to_uri = a->to;
    admin ad;
    operator_of(&ad, dir);
    if (!svc_allowed(ad.actor.roles, SVC_ACT_ADMINISTER)) {
        cli_error("store migrate", "%s (the owner of %s holds it offline)",
                  svc_acts[SVC_ACT_ADMINISTER].why, dir);
        return CLI_EXIT_ERROR;
    }
    store *from = NULL, *to = NULL;
    lsn_error err = {0};
    char shown[1024]; /* never a password on the terminal */
    if (store_open_keyed(from_uri, dir, &from, &err) != LSN_OK) {
        store_uri_redact(from_uri, shown, sizeof shown);
        cli_error("store migrate", "cannot open %s: %s", shown, err.message);
        return CLI_EXIT_ERROR;
    }
    if (store_open_keyed(to_uri, dir, &to, &err) != LSN_OK) {
        store_uri_redact(to_uri, shown, sizeof shown);
        cli_error("store migrate", "cannot open %s: %s", shown, err.message);
        store_close(from);
        return CLI_EXIT_ERROR;
    }
    store_migrate_report r;
    int exit = CLI_EXIT_OK;
    if (store_migrate(from, to, &r, &err) != LSN_OK) {
        cli_error("store migrate", "%s (run it again to resume)", err.message);
        exit = CLI_EXIT_ERROR;
    } else {
        char head[2 * STORE_HASH_LEN + 1];
        sodium_bin2hex(head, sizeof head, r.head, STORE_HASH_LEN);
        printf("migrated: %llu organisations, %llu channels, %llu users, %llu named tokens, "
               "%llu peers, %llu items (%llu already there; %llu later versions, %llu "
               "withdrawn), %llu release requests, %llu audit records (%llu already there); "
               "audit chain verified in both to record %llu, head %s\n",
               (unsigned long long)r.orgs, (unsigned long long)r.channels,
               (unsigned long long)r.users, (unsigned long long)r.tokens,
               (unsigned long long)r.peers,
               (unsigned long long)r.items, (unsigned long long)r.items_skipped,
               (unsigned long long)r.versions, (unsigned long long)r.withdrawn,
               (unsigned long long)r.releases,
               (unsigned long long)r.audit, (unsigned long long)r.audit_skipped,
               (unsigned long long)r.head_seq, head);
        if (r.tokens_not_copied)
            printf("named access tokens not copied: %llu (issue them again)\n",
                   (unsigned long long)r.tokens_not_copied);
    }
    store_close(to);
    store_close(from);
    return exit;
}
