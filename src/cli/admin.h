/* cli/admin.h — what the offline administrative verbs share (cmd_admin.c,
 * cmd_users.c): the operator acting on a data directory through the
 * node's service layer. Internal to src/cli. */
#ifndef CLI_ADMIN_H
#define CLI_ADMIN_H

#include <stdbool.h>
#include "cli.h"
#include "node/service.h"

/* The offline operator and its service. */
typedef struct admin {
    char name[128]; /* "cli:LOGIN" */
    svc_actor actor;
    svc s;
    store *st;
    lsn_policy_set *set;
} admin;

/* Open the store of the data directory (with `create`, a missing directory
 * and store are made; with `policy`, the policy set of --policy or the
 * bundled one) and the service over it, after checking the verb's right.
 * Returns false after reporting. */
bool admin_open(admin *ad, const cli_verb *v, const cli_args *a, bool create, bool policy);
void admin_close(admin *ad);
/* The exit code of a service result, reporting a refusal. */
int admin_outcome(const char *what, lsn_err rc, const svc_result *res);
/* The clearance argument: inline JSON (starts with '{') or a file in any
 * clearance form: its bytes into *text (free()), its form into *form. */
bool admin_clearance_text(const char *arg, char **text, size_t *len, lsn_form *form);

#endif
