/* cli/cmd_users.c — offline account management of a node's data
 * directory: `liaison user list | show | disable | enable | remove | passwd
 * | token | set-clearance | set-roles`.
 *
 * The acts are the node's service layer's (src/node/service_users.c), as
 * for the administrator's routes: the same checks and audit records, with
 * "cli:LOGIN" as the actor (cmd_admin.c says who holds which right
 * offline). A running node sees a change made here within its reader
 * cache's time (2 s); its web sessions of a disabled or removed user end
 * there too, since each session's user is read again from the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admin.h"
#include "core/alloc.h"
#include "server/client_cert.h"

static const char *const status_names[] = {"active", "disabled", "removed"};

static const char *status_name(unsigned s)
{
    return s <= STORE_USER_REMOVED ? status_names[s] : "removed";
}

/* Roles as "member,auditor". */
static void roles_text(unsigned roles, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned bit = 1; bit <= STORE_ROLE_ADMINISTRATOR; bit <<= 1)
        if (roles & bit) {
            int k = snprintf(out + used, cap - used, "%s%s", used ? "," : "",
                             svc_role_name(bit));
            if (k > 0 && (size_t)k < cap - used)
                used += (size_t)k;
        }
}

static int list_cb(void *ctx, const store_user *u)
{
    (void)ctx;
    char roles[128];
    roles_text(u->roles, roles, sizeof roles);
    printf("%s\t%s\t%s\t%s\n", u->name, u->organisation, roles, status_name(u->status));
    return STORE_NEXT;
}

int cli_cmd_user_list(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    svc_result res;
    int exit = admin_outcome("user list", svc_user_list(&ad.s, &ad.actor, list_cb, NULL, &res),
                             &res);
    admin_close(&ad);
    return exit;
}

int cli_cmd_user_show(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    store_user *u = NULL;
    svc_result res;
    int exit = admin_outcome("user show",
                             svc_user_get(&ad.s, &ad.actor, a->operands[0], &u, &res), &res);
    if (exit == CLI_EXIT_OK) {
        char roles[128];
        roles_text(u->roles, roles, sizeof roles);
        printf("name: %s\norganisation: %s\nroles: %s\nstatus: %s\npassword: %s\n"
               "certificate: %s\nclearance: %s\n",
               u->name, u->organisation, roles, status_name(u->status),
               u->password_hash ? "set" : "none", u->has_cert ? "bound" : "none",
               u->clearance);
        if (u->cert_subject) {
            char hex[2 * SRV_CERT_FP_LEN + 1];
            sodium_bin2hex(hex, sizeof hex, u->cert_issuer, SRV_CERT_FP_LEN);
            printf("certificate subject: %s\ncertificate issuer: CA SHA-256 %s\n",
                   u->cert_subject, hex);
        }
    }
    lsn_free(u);
    admin_close(&ad);
    return exit;
}

static int set_status(const cli_verb *v, const cli_args *a, unsigned status, const char *done)
{
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    char what[64];
    snprintf(what, sizeof what, "user %s", v->name);
    svc_result res;
    int exit = admin_outcome(
        what, svc_user_set_status(&ad.s, &ad.actor, a->operands[0], status, &res), &res);
    if (exit == CLI_EXIT_OK)
        printf("user %s %s\n", a->operands[0], done);
    admin_close(&ad);
    return exit;
}

int cli_cmd_user_disable(const cli_verb *v, const cli_args *a)
{
    return set_status(v, a, STORE_USER_DISABLED, "disabled");
}

int cli_cmd_user_enable(const cli_verb *v, const cli_args *a)
{
    return set_status(v, a, STORE_USER_ACTIVE, "enabled");
}

int cli_cmd_user_remove(const cli_verb *v, const cli_args *a)
{
    return set_status(v, a, STORE_USER_REMOVED, "removed");
}

/* The new password: the first line of standard input, not echoed when it
 * is a terminal. false when there is none. */
static bool read_password(char *out, size_t cap)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "new password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool got = fgets(out, (int)cap, stdin) != NULL;
    if (tty) {
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (got)
        out[strcspn(out, "\r\n")] = '\0';
    return got;
}

int cli_cmd_user_passwd(const cli_verb *v, const cli_args *a)
{
    char pw[SVC_PASSWORD_MAX + 2];
    if (!read_password(pw, sizeof pw)) {
        cli_error("user passwd", "no password on standard input");
        return CLI_EXIT_ERROR;
    }
    admin ad;
    if (!admin_open(&ad, v, a, false, false)) {
        sodium_memzero(pw, sizeof pw);
        return CLI_EXIT_ERROR;
    }
    svc_result res;
    int exit = admin_outcome("user passwd",
                             svc_user_passwd(&ad.s, &ad.actor, a->operands[0], pw, &res), &res);
    sodium_memzero(pw, sizeof pw);
    if (exit == CLI_EXIT_OK)
        printf("password of %s set\n", a->operands[0]);
    admin_close(&ad);
    return exit;
}

int cli_cmd_user_token(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    char token[STORE_TOKEN_CHARS + 1];
    svc_result res;
    int exit = admin_outcome(
        "user token", svc_user_token_new(&ad.s, &ad.actor, a->operands[0], token, &res), &res);
    if (exit == CLI_EXIT_OK) {
        printf("%s\n", token); /* shown once, alone on stdout, as by user add */
        fflush(stdout);
        fprintf(stderr, "liaison: new token of %s; the old one no longer works; the token "
                "above is shown once and stored only as a hash\n", a->operands[0]);
    }
    sodium_memzero(token, sizeof token);
    admin_close(&ad);
    return exit;
}

int cli_cmd_user_set_clearance(const cli_verb *v, const cli_args *a)
{
    char *text = NULL;
    size_t len = 0;
    lsn_form form;
    if (!admin_clearance_text(a->clearance, &text, &len, &form))
        return CLI_EXIT_ERROR;
    admin ad;
    if (!admin_open(&ad, v, a, false, true)) {
        free(text);
        return CLI_EXIT_ERROR;
    }
    svc_result res;
    int exit = admin_outcome("user set-clearance",
                             svc_user_set_clearance(&ad.s, &ad.actor, a->operands[0], text, len,
                                                    form, &res),
                             &res);
    if (exit == CLI_EXIT_OK)
        printf("clearance of %s set\n", a->operands[0]);
    free(text);
    admin_close(&ad);
    return exit;
}

int cli_cmd_user_set_roles(const cli_verb *v, const cli_args *a)
{
    unsigned roles = 0;
    if (a->nroles == 0) {
        cli_error("user set-roles", "--role is required (repeat it for several roles)");
        return CLI_EXIT_ERROR;
    }
    for (size_t i = 0; i < a->nroles; i++) {
        unsigned bit;
        if (!svc_role_parse(a->roles[i], &bit)) {
            cli_error("--role", "unknown role '%s' (member, release-authority, auditor, "
                      "administrator)", a->roles[i]);
            return CLI_EXIT_ERROR;
        }
        roles |= bit;
    }
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    svc_result res;
    int exit = admin_outcome(
        "user set-roles", svc_user_set_roles(&ad.s, &ad.actor, a->operands[0], roles, &res),
        &res);
    if (exit == CLI_EXIT_OK) {
        char text[128];
        roles_text(roles ? roles : STORE_ROLE_MEMBER, text, sizeof text);
        printf("roles of %s: %s\n", a->operands[0], text);
    }
    admin_close(&ad);
    return exit;
}

/* ---- named access tokens ------------------------------------------------ */

int cli_cmd_token_add(const cli_verb *v, const cli_args *a)
{
    const char *days_text = cli_opt(a, CLI_OPT_EXPIRES);
    long days = 0;
    if (days_text) {
        char *end = NULL;
        days = strtol(days_text, &end, 10);
        if (!*days_text || *end || days < 1 || days > 3650) {
            cli_error("--expires", "'%s' is not a number of days from 1 to 3650", days_text);
            return CLI_EXIT_ERROR;
        }
    }
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    int64_t expires = days ? ((int64_t)time(NULL) + (int64_t)days * 86400) * 1000 : 0;
    char token[STORE_TOKEN_CHARS + 1];
    svc_result res;
    int exit = admin_outcome("token add",
                             svc_token_add(&ad.s, &ad.actor, a->operands[0],
                                           cli_opt(a, CLI_OPT_NAME), expires, token, &res),
                             &res);
    if (exit == CLI_EXIT_OK) {
        printf("%s\n", token);
        fflush(stdout);
        fprintf(stderr, "liaison: token '%s' of %s added%s; shown once, stored only as a "
                "hash\n", cli_opt(a, CLI_OPT_NAME), a->operands[0],
                days ? "" : " (no expiry)");
    }
    sodium_memzero(token, sizeof token);
    admin_close(&ad);
    return exit;
}

/* A time in ms as UTC text. */
static void utc_text(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, cap, "?");
}

static int token_cb(void *ctx, const store_token *t)
{
    (void)ctx;
    char made[32], until[32] = "never";
    utc_text(t->created_ms, made, sizeof made);
    if (t->expires_ms)
        utc_text(t->expires_ms, until, sizeof until);
    printf("%s\t%s\t%s\n", t->name, made, until);
    return STORE_NEXT;
}

int cli_cmd_token_list(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    svc_result res;
    int exit = admin_outcome(
        "token list", svc_token_list(&ad.s, &ad.actor, a->operands[0], token_cb, NULL, &res),
        &res);
    admin_close(&ad);
    return exit;
}

int cli_cmd_token_revoke(const cli_verb *v, const cli_args *a)
{
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    svc_result res;
    int exit = admin_outcome("token revoke",
                             svc_token_revoke(&ad.s, &ad.actor, a->operands[0],
                                              cli_opt(a, CLI_OPT_NAME), &res),
                             &res);
    if (exit == CLI_EXIT_OK)
        printf("token '%s' of %s revoked\n", cli_opt(a, CLI_OPT_NAME), a->operands[0]);
    admin_close(&ad);
    return exit;
}

/* user set-certificate NAME --subject DN --issuer CAFILE */
static int set_certificate_subject(const cli_verb *v, const cli_args *a)
{
    const char *dn = cli_opt(a, CLI_OPT_SUBJECT), *ca = cli_opt(a, CLI_OPT_ISSUER);
    char subject[SRV_CERT_DN_MAX];
    uint8_t issuer[SRV_CERT_FP_LEN];
    lsn_error err = {0};
    if (!ca) {
        cli_error("user set-certificate", "--subject needs --issuer CAFILE, the CA that "
                  "issues the certificates");
        return CLI_EXIT_ERROR;
    }
    if (srv_cert_dn_canonical(dn, subject, sizeof subject, &err) != LSN_OK ||
        srv_cert_file_fingerprint(ca, issuer, &err) != LSN_OK) {
        cli_error("user set-certificate", "%s", err.message);
        return CLI_EXIT_ERROR;
    }
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    svc_result res;
    int exit = admin_outcome("user set-certificate",
                             svc_user_set_certificate_subject(&ad.s, &ad.actor, a->operands[0],
                                                              subject, issuer, &res),
                             &res);
    if (exit == CLI_EXIT_OK) {
        char hex[2 * SRV_CERT_FP_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, issuer, sizeof issuer);
        printf("%s: certificates with subject %s issued by CA SHA-256 %s\n", a->operands[0],
               subject, hex);
    }
    admin_close(&ad);
    return exit;
}

int cli_cmd_user_set_certificate(const cli_verb *v, const cli_args *a)
{
    const char *file = cli_opt(a, CLI_OPT_CERTIFICATE);
    if (!file == !cli_opt(a, CLI_OPT_SUBJECT) || (file && cli_opt(a, CLI_OPT_ISSUER))) {
        cli_error("user set-certificate", "give --certificate FILE|none, or --subject DN "
                  "--issuer CAFILE");
        return CLI_EXIT_ERROR;
    }
    if (!file)
        return set_certificate_subject(v, a);
    bool none = strcmp(file, "none") == 0;
    uint8_t fp[SRV_CERT_FP_LEN];
    lsn_error err = {0};
    if (!none && srv_cert_file_fingerprint(file, fp, &err) != LSN_OK) {
        cli_error("user set-certificate", "%s", err.message);
        return CLI_EXIT_ERROR;
    }
    admin ad;
    if (!admin_open(&ad, v, a, false, false))
        return CLI_EXIT_ERROR;
    svc_result res;
    int exit = admin_outcome("user set-certificate",
                             svc_user_set_certificate(&ad.s, &ad.actor, a->operands[0],
                                                      none ? NULL : fp, &res),
                             &res);
    if (exit == CLI_EXIT_OK) {
        char hex[2 * SRV_CERT_FP_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, fp, sizeof fp);
        if (none)
            printf("%s: no certificate\n", a->operands[0]);
        else
            printf("%s: certificate SHA-256 %s\n", a->operands[0], hex);
    }
    admin_close(&ad);
    return exit;
}
