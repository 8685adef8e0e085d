/* cli/cli.h — shared pieces of the `liaison` command (internal to src/cli).
 *
 * The command is a client of libliaison like any other program: it includes
 * only the public headers (include/liaison/). This header declares the verb
 * table (verbs.c), the option parser (options.c), file reading (io.c),
 * policy-set set-up and error reporting (common.c), and the verb handlers
 * (one file per verb group). */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "liaison/liaison.h"

/* Exit codes, documented in docs/liaison.1. */
enum {
    CLI_EXIT_OK = 0,      /* valid, granted, all conformance checks passed */
    CLI_EXIT_NO = 1,      /* invalid, denied, a conformance check failed */
    CLI_EXIT_ERROR = 2    /* usage error, unreadable file, malformed input */
};

/* Options a verb may accept, as bits; the option table in options.c holds
 * their names, argument names and help. */
enum cli_opt_bit {
    CLI_OPT_POLICY = 1u << 0,
    CLI_OPT_LANG = 1u << 1,
    CLI_OPT_CLEARANCE = 1u << 2,
    CLI_OPT_TO = 1u << 3,
    CLI_OPT_TO_POLICY = 1u << 4,
    /* client verbs (cmd_client.c) */
    CLI_OPT_URL = 1u << 5,
    CLI_OPT_TOKEN = 1u << 6,
    CLI_OPT_CACERT = 1u << 7,
    CLI_OPT_CHANNEL = 1u << 8,
    CLI_OPT_LABEL = 1u << 9,
    CLI_OPT_BODY = 1u << 10,
    CLI_OPT_BODY_FILE = 1u << 11,
    CLI_OPT_AFTER = 1u << 12,
    CLI_OPT_LIMIT = 1u << 13,
    /* administrative verbs (cmd_admin.c) */
    CLI_OPT_DATA = 1u << 14,
    CLI_OPT_NATION = 1u << 15,
    CLI_OPT_ORG = 1u << 16,
    CLI_OPT_ROLE = 1u << 17,
    CLI_OPT_PURPOSE = 1u << 18,
    /* federation verbs (cmd_federation.c) */
    CLI_OPT_NAME = 1u << 19,
    CLI_OPT_CERTIFICATE = 1u << 20,
    CLI_OPT_CONTENT = 1u << 21,
    CLI_OPT_UUID = 1u << 22,
    CLI_OPT_STORE = 1u << 23,
    CLI_OPT_FORCE = 1u << 24, /* no argument */
    CLI_OPT_PORTION = 1u << 25, /* no argument */
    CLI_OPT_EXPIRES = 1u << 26,
    /* peers (cmd_admin.c) */
    CLI_OPT_MAX_CLASS = 1u << 27,
    CLI_OPT_VIA = 1u << 28,
    /* the audit log's filters (cmd_audit.c); the mask is 64 bits wide */
    CLI_OPT_ACTOR = 1ull << 29,
    CLI_OPT_ACTION = 1ull << 30,
    CLI_OPT_OBJECT = 1ull << 31,
    CLI_OPT_SINCE = 1ull << 32,
    CLI_OPT_UNTIL = 1ull << 33,
    CLI_OPT_SUBJECT = 1ull << 34,
    CLI_OPT_ISSUER = 1ull << 35,
    /* release requests */
    CLI_OPT_REASON = 1ull << 36,
    CLI_OPT_DEADLINE = 1ull << 37,
    CLI_OPT_STATE = 1ull << 38,
    CLI_OPT_FROM = 1ull << 39,
    CLI_OPT_LOCAL = 1ull << 40 /* no argument: channel add */
};

/* Bits are below this; cli_args.value is indexed by bit position. */
#define CLI_OPT_SLOTS 64
#define CLI_MAX_ROLES 8

#define CLI_MAX_POLICIES 64

/* The parsed command line of one verb. Strings point into argv. */
typedef struct cli_args {
    const char *policies[CLI_MAX_POLICIES];
    size_t npolicies;
    const char *lang;       /* --lang, NULL when absent */
    const char *clearance;  /* --clearance */
    const char *to;         /* --to */
    const char *to_policy;  /* --to-policy */
    /* Every single-valued option's argument, indexed by the position of its
     * bit (cli_opt): NULL when absent. */
    const char *value[CLI_OPT_SLOTS];
    const char *roles[CLI_MAX_ROLES]; /* --role, repeatable */
    size_t nroles;
    bool help;              /* --help was given */
    char **operands;        /* what follows the options */
    int noperands;
} cli_args;

/* The argument of the single-valued option `bit`, NULL when absent. */
const char *cli_opt(const cli_args *a, unsigned long long bit);

struct cli_verb;
typedef int (*cli_handler)(const struct cli_verb *verb, const cli_args *args);

/* One row of the verb table: everything that --help, the parser and the
 * man page say about a verb. */
typedef struct cli_verb {
    const char *group;     /* "label", "policy", or NULL for a top-level verb */
    const char *name;      /* "validate" */
    const char *operands;  /* "LABEL", shown in the usage line */
    int min_operands, max_operands;
    unsigned long long opts; /* enum cli_opt_bit: the options it takes */
    unsigned long long required; /* the options it cannot do without */
    const char *help;      /* one line */
    const char *details;   /* a paragraph for `VERB --help`; may be NULL */
    cli_handler handler;
    unsigned act;          /* the right it needs: an act of the node's table of
                              rights (node/service.h svc_act); 0: none */
} cli_verb;

extern const cli_verb cli_verbs[];
extern const size_t cli_nverbs;

/* The verb named by argv[0] (and argv[1] for grouped verbs); *used receives
 * how many words named it. NULL when none matches. */
const cli_verb *cli_verb_find(int argc, char **argv, int *used);

/* Print the top-level help (every verb, from the table) to stdout. */
void cli_help_all(void);
/* When `group` names a verb group ("label"), print its verbs' usage lines
 * to `f` (if not NULL) and return true; false when it is no group. */
bool cli_help_group(const char *group, void *f);
/* Print a verb's help: usage line, paragraph, its options. */
void cli_help_verb(const cli_verb *v);
/* Print "usage: liaison GROUP NAME [options] OPERANDS" to `f`. */
void cli_usage_line(const cli_verb *v, void *f);

/* Parse a verb's options and operands (argv[0] is the verb's last word).
 * Returns 0, or CLI_EXIT_ERROR after printing the problem to stderr. */
int cli_parse_args(const cli_verb *v, int argc, char **argv, cli_args *out);

/* Read a whole file ("-" is stdin) of at most `cap` bytes. On success
 * returns 0, *data (NUL-terminated, free with free()) and *len. On failure
 * returns an errno value (EFBIG when larger than cap) and *data is NULL. */
int cli_read_file(const char *path, size_t cap, char **data, size_t *len);

/* The size cap of files the command reads (labels, clearances, conformance
 * files). Policies are read by the library with its own cap. */
#define CLI_FILE_MAX (16u * 1024u * 1024u)

/* Report "liaison: WHAT: MESSAGE" on stderr. */
void cli_error(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Build the policy set of a verb: every --policy file in order, or the
 * bundled policy when none is given. Returns NULL after reporting. */
lsn_policy_set *cli_policy_set(const cli_args *args);

/* Read and parse a label file in any form. Returns LSN_OK and *out, or the
 * error with err filled (I/O problems are reported as LSN_ERR_IO with the
 * system's reason). */
lsn_err cli_label_load(const lsn_policy_set *set, const char *path,
                       lsn_label **out, lsn_error *err);
lsn_err cli_clearance_load(const lsn_policy_set *set, const char *path,
                           lsn_clearance **out, lsn_error *err);

/* A label's or clearance's marking in a freshly allocated string (free with
 * free()); NULL with err filled on failure. */
char *cli_label_marking(const lsn_label *l, const char *lang, lsn_error *err);
/* The same, in the portion form ("(NR)"). */
char *cli_label_portion_marking(const lsn_label *l, const char *lang, lsn_error *err);
char *cli_clearance_marking(const lsn_clearance *c, const char *lang, lsn_error *err);

/* Verb handlers. */
int cli_cmd_label_validate(const cli_verb *v, const cli_args *a);
int cli_cmd_label_mark(const cli_verb *v, const cli_args *a);
int cli_cmd_label_check(const cli_verb *v, const cli_args *a);
int cli_cmd_label_convert(const cli_verb *v, const cli_args *a);
int cli_cmd_clearance_mark(const cli_verb *v, const cli_args *a);
int cli_cmd_policy_show(const cli_verb *v, const cli_args *a);
int cli_cmd_conformance(const cli_verb *v, const cli_args *a);
/* The node (cmd_serve.c, src/node). */
int cli_cmd_serve(const cli_verb *v, const cli_args *a);
/* Client verbs (cmd_client.c): talk to a node over HTTP. */
int cli_cmd_post(const cli_verb *v, const cli_args *a);
int cli_cmd_read(const cli_verb *v, const cli_args *a);
int cli_cmd_tail(const cli_verb *v, const cli_args *a);
int cli_cmd_search(const cli_verb *v, const cli_args *a);
/* The --label argument as JSON: an object (inline, or a file of the JSON
 * label form) or a string (a file of STANAG 4774 XML). NULL after
 * reporting. */
struct json_t;
struct json_t *cli_label_arg(const char *arg);
/* Release requests and corrections (cmd_release.c): a node over HTTP. */
int cli_cmd_release_request(const cli_verb *v, const cli_args *a);
int cli_cmd_release_list(const cli_verb *v, const cli_args *a);
int cli_cmd_release_show(const cli_verb *v, const cli_args *a);
int cli_cmd_release_concur(const cli_verb *v, const cli_args *a);
int cli_cmd_release_break(const cli_verb *v, const cli_args *a);
int cli_cmd_release_withdraw(const cli_verb *v, const cli_args *a);
int cli_cmd_release_extend(const cli_verb *v, const cli_args *a);
int cli_cmd_item_withdraw(const cli_verb *v, const cli_args *a);
int cli_cmd_item_narrow(const cli_verb *v, const cli_args *a);
/* Administrative verbs (cmd_admin.c): work on a data directory. */
int cli_cmd_org_add(const cli_verb *v, const cli_args *a);
int cli_cmd_user_add(const cli_verb *v, const cli_args *a);
int cli_cmd_channel_add(const cli_verb *v, const cli_args *a);
int cli_cmd_peer_add(const cli_verb *v, const cli_args *a);
int cli_cmd_peer_list(const cli_verb *v, const cli_args *a);
int cli_cmd_audit_verify(const cli_verb *v, const cli_args *a);
int cli_cmd_audit_show(const cli_verb *v, const cli_args *a);
int cli_cmd_audit_export(const cli_verb *v, const cli_args *a);
/* cmd_users.c: accounts */
int cli_cmd_user_list(const cli_verb *v, const cli_args *a);
int cli_cmd_user_show(const cli_verb *v, const cli_args *a);
int cli_cmd_user_disable(const cli_verb *v, const cli_args *a);
int cli_cmd_user_enable(const cli_verb *v, const cli_args *a);
int cli_cmd_user_remove(const cli_verb *v, const cli_args *a);
int cli_cmd_user_passwd(const cli_verb *v, const cli_args *a);
int cli_cmd_user_token(const cli_verb *v, const cli_args *a);
int cli_cmd_user_set_clearance(const cli_verb *v, const cli_args *a);
int cli_cmd_user_set_roles(const cli_verb *v, const cli_args *a);
int cli_cmd_user_set_certificate(const cli_verb *v, const cli_args *a);
int cli_cmd_token_add(const cli_verb *v, const cli_args *a);
int cli_cmd_token_list(const cli_verb *v, const cli_args *a);
int cli_cmd_token_revoke(const cli_verb *v, const cli_args *a);
int cli_cmd_verify(const cli_verb *v, const cli_args *a);
int cli_cmd_store_migrate(const cli_verb *v, const cli_args *a);
/* Federation verbs (cmd_federation.c): node identity, signed bindings. */
int cli_cmd_node_init(const cli_verb *v, const cli_args *a);
int cli_cmd_node_show(const cli_verb *v, const cli_args *a);
int cli_cmd_binding_sign(const cli_verb *v, const cli_args *a);
int cli_cmd_binding_verify(const cli_verb *v, const cli_args *a);
int cli_cmd_binding_translate(const cli_verb *v, const cli_args *a);

#endif
