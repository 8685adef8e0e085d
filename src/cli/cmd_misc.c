/* cli/cmd_misc.c — the small verbs: `clearance mark` and `policy show`. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "liaison/introspect.h"

int cli_cmd_clearance_mark(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *path = a->operands[0];
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    lsn_error err = {0};
    lsn_clearance *c = NULL;
    int rc = CLI_EXIT_OK;
    char *m = NULL;
    if (cli_clearance_load(set, path, &c, &err) != LSN_OK ||
        !(m = cli_clearance_marking(c, a->lang, &err))) {
        cli_error(path, "%s", err.message[0] ? err.message : lsn_strerror(err.code));
        rc = CLI_EXIT_ERROR;
    } else {
        printf("%s\n", m);
    }
    free(m);
    lsn_clearance_free(c);
    lsn_policy_set_free(set);
    return rc;
}

int cli_cmd_policy_show(const cli_verb *v, const cli_args *a)
{
    (void)v;
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    for (size_t i = 0; i < lsn_policy_set_count(set); i++) {
        const lsn_policy *p = lsn_policy_set_at(set, i);
        /* A policy is known by OID and version: say which was loaded. */
        const char *version = lsn_policy_version(p);
        if (version && version[0])
            printf("%s %s (version %s)\n", lsn_policy_id(p), lsn_policy_name(p), version);
        else
            printf("%s %s\n", lsn_policy_id(p), lsn_policy_name(p));
        /* what the loader ignored, so that an administrator sees it */
        for (size_t w = 0; w < lsn_policy_warning_count(p); w++)
            fprintf(stderr, "liaison: warning: %s\n", lsn_policy_warning_at(p, w));
    }
    lsn_policy_set_free(set);
    return CLI_EXIT_OK;
}
