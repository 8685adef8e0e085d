/* cli/cmd_label.c — the `label` verbs: validate, mark, check, convert.
 *
 * Each verb builds the policy set (--policy or the bundled policy), reads
 * one label, asks the library one question and prints the answer on one
 * line. Exit codes: 0 yes, 1 no (invalid, denied), 2 error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Report a failure to read LABEL and return the exit code. */
static int fail(const char *what, const lsn_error *err)
{
    cli_error(what, "%s", err->message[0] ? err->message : lsn_strerror(err->code));
    return CLI_EXIT_ERROR;
}

/* Which policy a verdict was reached under, as " (policy NAME, OID X,
 * version V)": two policies may read one label differently, so a verdict
 * names the one it used (ADatP-4774 policies are known by OID and version). */
static void policy_words(const lsn_label *label, char *out, size_t cap)
{
    const lsn_policy *p = label ? lsn_label_policy(label) : NULL;
    out[0] = '\0';
    if (!p)
        return;
    const char *name = lsn_policy_name(p), *oid = lsn_policy_id(p), *ver = lsn_policy_version(p);
    snprintf(out, cap, " (policy %s, OID %s%s%s)", name && name[0] ? name : "unnamed",
             oid && oid[0] ? oid : "none", ver && ver[0] ? ", version " : "",
             ver && ver[0] ? ver : "");
}

int cli_cmd_label_validate(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *path = a->operands[0];
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    lsn_error err = {0};
    lsn_label *label = NULL;
    int rc;
    lsn_err e = cli_label_load(set, path, &label, &err);
    if (e == LSN_ERR_LABEL) {
        /* The label is readable but does not fit its policy's terms
         * (an unknown classification or category): that is a verdict. */
        printf("invalid: %s\n", err.message);
        rc = CLI_EXIT_NO;
    } else if (e != LSN_OK) {
        rc = fail(path, &err);
    } else {
        bool valid = false;
        char reason[LSN_ERROR_MESSAGE_MAX] = "", under[LSN_ERROR_MESSAGE_MAX];
        policy_words(label, under, sizeof under);
        e = lsn_label_validate(label, &valid, reason, sizeof reason);
        if (e != LSN_OK) {
            cli_error(path, "cannot validate: %s", lsn_strerror(e));
            rc = CLI_EXIT_ERROR;
        } else if (valid) {
            printf("valid%s\n", under);
            rc = CLI_EXIT_OK;
        } else {
            printf("invalid: %s%s\n", reason[0] ? reason : "(no reason given)", under);
            rc = CLI_EXIT_NO;
        }
    }
    lsn_label_free(label);
    lsn_policy_set_free(set);
    return rc;
}

int cli_cmd_label_mark(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *path = a->operands[0];
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    lsn_error err = {0};
    lsn_label *label = NULL;
    int rc = CLI_EXIT_OK;
    bool valid = false;
    char reason[LSN_ERROR_MESSAGE_MAX] = "";
    lsn_err e = cli_label_load(set, path, &label, &err);
    if (e == LSN_ERR_LABEL) {
        printf("invalid: %s\n", err.message);
        rc = CLI_EXIT_NO;
    } else if (e != LSN_OK) {
        rc = fail(path, &err);
    } else if ((e = lsn_label_validate(label, &valid, reason, sizeof reason)) != LSN_OK) {
        cli_error(path, "cannot validate: %s", lsn_strerror(e));
        rc = CLI_EXIT_ERROR;
    } else {
        /* A marking of an invalid label misleads: it is printed only when
         * asked for (--force), and the exit status says invalid either way. */
        bool force = cli_opt(a, CLI_OPT_FORCE) != NULL;
        if (!valid) {
            char under[LSN_ERROR_MESSAGE_MAX];
            policy_words(label, under, sizeof under);
            rc = CLI_EXIT_NO;
            if (!force)
                printf("invalid: %s%s\n", reason[0] ? reason : "(no reason given)", under);
            else
                cli_error(path, "invalid label, marked anyway (--force): %s%s",
                          reason[0] ? reason : "(no reason given)", under);
        }
        char *m = NULL;
        if (valid || force)
            m = cli_opt(a, CLI_OPT_PORTION) ? cli_label_portion_marking(label, a->lang, &err)
                                            : cli_label_marking(label, a->lang, &err);
        if (m) {
            printf("%s\n", m);
            free(m);
        } else if (valid || force) {
            rc = fail(path, &err);
        }
    }
    lsn_label_free(label);
    lsn_policy_set_free(set);
    return rc;
}

int cli_cmd_label_check(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *path = a->operands[0];
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    lsn_error err = {0};
    lsn_label *label = NULL;
    lsn_clearance *clr = NULL;
    int rc;
    if (cli_clearance_load(set, a->clearance, &clr, &err) != LSN_OK) {
        rc = fail(a->clearance, &err);
        goto out;
    }
    lsn_err e = cli_label_load(set, path, &label, &err);
    if (e == LSN_ERR_LABEL) {
        /* A label that does not fit its policy is invalid, and an invalid
         * label is denied — a decision, not an error. */
        printf("denied: invalid label: %s\n", err.message);
        rc = CLI_EXIT_NO;
        goto out;
    }
    if (e != LSN_OK) {
        rc = fail(path, &err);
        goto out;
    }
    lsn_decision d = LSN_DENY;
    char reason[LSN_ERROR_MESSAGE_MAX] = "";
    e = lsn_access_explain(set, label, clr, &d, reason, sizeof reason);
    if (e != LSN_OK) {
        cli_error(path, "cannot decide: %s%s%s", lsn_strerror(e),
                  reason[0] ? ": " : "", reason);
        rc = CLI_EXIT_ERROR;
    } else if (d == LSN_GRANT) {
        printf("granted\n");
        rc = CLI_EXIT_OK;
    } else {
        printf("denied: %s\n", reason[0] ? reason : "(no reason given)");
        rc = CLI_EXIT_NO;
    }
out:
    lsn_clearance_free(clr);
    lsn_label_free(label);
    lsn_policy_set_free(set);
    return rc;
}

/* The output forms by name. */
static const struct {
    const char *name;
    lsn_form form;
} forms[] = {
    {"4774", LSN_FORM_4774},
    {"spiffing", LSN_FORM_SPIFFING},
    {"json", LSN_FORM_JSON},
};

int cli_cmd_label_convert(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *path = a->operands[0];
    lsn_form form = LSN_FORM_AUTO;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (strcmp(a->to, forms[i].name) == 0)
            form = forms[i].form;
    if (form == LSN_FORM_AUTO) {
        cli_error("label convert", "--to %s: unknown form (4774, spiffing or json)",
                  a->to);
        return CLI_EXIT_ERROR;
    }
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    lsn_error err = {0};
    lsn_label *label = NULL, *translated = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = CLI_EXIT_OK;
    if (cli_label_load(set, path, &label, &err) != LSN_OK) {
        rc = fail(path, &err);
        goto out;
    }
    const lsn_label *src = label;
    if (a->to_policy) {
        if (lsn_label_translate(label, set, a->to_policy, &translated, &err) != LSN_OK) {
            rc = fail(path, &err);
            goto out;
        }
        src = translated;
    }
    if (lsn_label_write(src, form, &text, &len, &err) != LSN_OK) {
        rc = fail(path, &err);
        goto out;
    }
    fwrite(text, 1, len, stdout);
    if (len == 0 || text[len - 1] != '\n')
        fputc('\n', stdout);
out:
    lsn_free(text);
    lsn_label_free(translated);
    lsn_label_free(label);
    lsn_policy_set_free(set);
    return rc;
}
