/* cli/options.c — the option table and the command-line parser.
 *
 * Each option is described once here (name, argument, help); a verb's row
 * in verbs.c says which it accepts, and getopt_long's table is built from
 * both, so that help and parsing cannot disagree. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct cli_option {
    unsigned long long bit; /* enum cli_opt_bit */
    const char *name;    /* long name, without "--" */
    const char *arg;     /* argument name for help */
    const char *help;
} cli_option;

static const cli_option options[] = {
    {CLI_OPT_POLICY, "policy", "FILE",
     "load this SPIF policy (repeatable)"},
    {CLI_OPT_LANG, "lang", "TAG", "language of the marking (e.g. en, fr, fr-CA)"},
    {CLI_OPT_CLEARANCE, "clearance", "FILE", "the clearance to decide for"},
    {CLI_OPT_TO, "to", "FORM|URI",
     "output form: 4774, spiffing or json (store migrate: the target store's URI)"},
    {CLI_OPT_FROM, "from", "URI", "the store to copy from: sqlite:PATH or postgresql://..."},
    {CLI_OPT_TO_POLICY, "to-policy", "OID", "translate into this equivalent policy"},
    {CLI_OPT_URL, "url", "URL",
     "the node (default $LIAISON_URL, else http://127.0.0.1:8470)"},
    {CLI_OPT_TOKEN, "token", "TOKEN",
     "bearer token (default $LIAISON_TOKEN, which ps cannot show)"},
    {CLI_OPT_CACERT, "cacert", "FILE", "trust the CA certificates in FILE (PEM)"},
    {CLI_OPT_CHANNEL, "channel", "NAME", "the channel"},
    {CLI_OPT_LABEL, "label", "FILE|JSON",
     "the item's label: a file (JSON or STANAG 4774 XML) or inline JSON"},
    {CLI_OPT_BODY, "body", "TEXT", "the item's text"},
    {CLI_OPT_BODY_FILE, "body-file", "FILE", "read the item's text from FILE ('-': stdin)"},
    {CLI_OPT_AFTER, "after", "ID", "only items with a larger id"},
    {CLI_OPT_LIMIT, "limit", "N", "at most N items"},
    {CLI_OPT_DATA, "data-dir", "DIR", "the node's data directory (default ./liaison-data)"},
    {CLI_OPT_NATION, "nation", "VALUE",
     "the policy category value it stands for (JPN, NATO, ...)"},
    {CLI_OPT_ORG, "org", "ORG", "the user's organisation"},
    {CLI_OPT_ROLE, "role", "ROLE",
     "member, release-authority, auditor or administrator (repeatable)"},
    {CLI_OPT_PURPOSE, "purpose", "TEXT", "what the channel is for"},
    {CLI_OPT_LOCAL, "local", NULL, "keep the channel local: none of its items goes to a peer"},
    {CLI_OPT_NAME, "name", "NAME", "the node's name, or a token's (at most 64 bytes)"},
    {CLI_OPT_CERTIFICATE, "certificate", "FILE",
     "the origin node's certificate (PEM), pinned: the one to verify with"},
    {CLI_OPT_CONTENT, "content", "FILE", "the item's content (its body) ('-': stdin)"},
    {CLI_OPT_UUID, "uuid", "UUID", "the item's UUID (default: a fresh one)"},
    {CLI_OPT_STORE, "store", "URI", "the node's store: sqlite:PATH (default sqlite:DIR/liaison.db) or postgresql://..."},
    {CLI_OPT_FORCE, "force", NULL, "print the marking of an invalid label too (still exits 1)"},
    {CLI_OPT_PORTION, "portion", NULL, "the portion form, for paragraphs and subject lines: (NR)"},
    {CLI_OPT_MAX_CLASS, "max-classification", "CLASS",
     "the highest classification agreed with the peer (default: the policy's highest)"},
    {CLI_OPT_VIA, "via", "PEER", "the peer that relays for it (default: direct)"},
    {CLI_OPT_EXPIRES, "expires", "DAYS", "the token expires after DAYS days (1 to 3650; default: never)"},
    {CLI_OPT_ACTOR, "actor", "A", "only records by this actor (exact)"},
    {CLI_OPT_ACTION, "action", "X", "only records of this action (exact)"},
    {CLI_OPT_OBJECT, "object", "O", "only records on this object (exact)"},
    {CLI_OPT_SINCE, "since", "TIME", "only records at or after TIME (Unix ms or YYYY-MM-DDTHH:MM:SSZ)"},
    {CLI_OPT_UNTIL, "until", "TIME", "only records before TIME (same forms)"},
    {CLI_OPT_SUBJECT, "subject", "DN",
     "bind every certificate with this subject (\"CN=...,O=...\"), with --issuer"},
    {CLI_OPT_ISSUER, "issuer", "FILE",
     "the CA certificate (PEM) that must have issued it; in --tls-client-ca"},
    {CLI_OPT_REASON, "reason", "TEXT", "why (a release request, a break of silence)"},
    {CLI_OPT_DEADLINE, "deadline", "TIME",
     "a release request's deadline, UTC: YYYY-MM-DDTHH:MM:SSZ (default: the node's)"},
    {CLI_OPT_STATE, "state", "STATE", "only requests in STATE: open, adopted, silence-broken, withdrawn"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

void cli_usage_line(const cli_verb *v, void *fp)
{
    FILE *f = fp;
    fprintf(f, "usage: liaison ");
    if (v->group)
        fprintf(f, "%s ", v->group);
    fprintf(f, "%s", v->name);
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (!(v->opts & options[i].bit))
            continue;
        bool req = (v->required & options[i].bit) != 0;
        fprintf(f, " %s--%s%s%s%s%s", req ? "" : "[", options[i].name,
                options[i].arg ? " " : "", options[i].arg ? options[i].arg : "", req ? "" : "]",
                options[i].bit == CLI_OPT_POLICY || options[i].bit == CLI_OPT_ROLE ? "..." : "");
    }
    if (v->operands[0])
        fprintf(f, " %s", v->operands);
    fprintf(f, "\n");
}

/* Print a paragraph wrapped at 76 columns (help text is ours, not input). */
static void print_wrapped(const char *text)
{
    size_t col = 0;
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (col && col + 1 + w > 76) {
            putchar('\n');
            col = 0;
        } else if (col) {
            putchar(' ');
            col++;
        }
        fwrite(p, 1, w, stdout);
        col += w;
        p += w;
        while (*p == ' ')
            p++;
    }
    putchar('\n');
}

void cli_help_verb(const cli_verb *v)
{
    cli_usage_line(v, stdout);
    printf("\n%s.\n", v->help);
    if (v->details) {
        putchar('\n');
        print_wrapped(v->details);
    }
    printf("\noptions:\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (!(v->opts & options[i].bit))
            continue;
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        printf("  %-20s %s\n", left, options[i].help);
    }
    printf("  %-20s %s\n", "--help", "show this help");
    printf("\nexit status: 0 success, 1 invalid/denied/failed checks, 2 error\n");
}

bool cli_help_group(const char *group, void *fp)
{
    bool found = false;
    for (size_t i = 0; i < cli_nverbs; i++) {
        const cli_verb *v = &cli_verbs[i];
        if (!v->group || strcmp(v->group, group) != 0)
            continue;
        found = true;
        if (fp)
            cli_usage_line(v, fp);
    }
    return found;
}

void cli_help_all(void)
{
    printf("usage: liaison VERB [options] ARGS\n"
           "       liaison --help | --version\n\n"
           "liaison answers questions about confidentiality labels under an\n"
           "Open XML SPIF security policy.\n\nverbs:\n");
    for (size_t i = 0; i < cli_nverbs; i++) {
        const cli_verb *v = &cli_verbs[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", v->group ? v->group : "",
                 v->group ? " " : "", v->name);
        printf("  %-22s %s\n", left, v->help);
    }
    printf("\nWithout --policy, the label, clearance and policy verbs use the bundled\n"
           "policy (NATO, 1.3.26.1.3.1); conformance sequences load their own.\n"
           "'liaison VERB --help' describes a verb and its options.\n"
           "exit status: 0 success, 1 invalid/denied/failed checks, 2 error\n");
}

const char *cli_opt(const cli_args *a, unsigned long long bit)
{
    return bit ? a->value[__builtin_ctzll(bit)] : NULL;
}

static const char *verb_label(const cli_verb *v, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", v->group ? v->group : "", v->group ? " " : "",
             v->name);
    return buf;
}

int cli_parse_args(const cli_verb *v, int argc, char **argv, cli_args *out)
{
    struct option longopts[NOPTIONS + 2];
    size_t n = 0;
    char name[64];

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (!(v->opts & options[i].bit))
            continue;
        longopts[n].name = options[i].name;
        longopts[n].has_arg = options[i].arg ? required_argument : no_argument;
        longopts[n].flag = NULL;
        longopts[n].val = (int)i; /* index into options[] */
        n++;
    }
    longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n] = (struct option){NULL, 0, NULL, 0};

    optind = 1; /* getopt is global state; reset for each parse */
    opterr = 0; /* we word the messages ourselves */
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            out->help = true;
            continue;
        }
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            cli_error(verb_label(v, name, sizeof name), "%s: %s", bad,
                      c == ':' ? "option needs an argument" : "unknown option");
            cli_usage_line(v, stderr);
            return CLI_EXIT_ERROR;
        }
        switch (options[c].bit) {
        case CLI_OPT_POLICY:
            if (out->npolicies == CLI_MAX_POLICIES) {
                cli_error(verb_label(v, name, sizeof name),
                          "at most %d --policy options", CLI_MAX_POLICIES);
                return CLI_EXIT_ERROR;
            }
            out->policies[out->npolicies++] = optarg;
            break;
        case CLI_OPT_LANG: out->lang = optarg; break;
        case CLI_OPT_CLEARANCE: out->clearance = optarg; break;
        case CLI_OPT_TO: out->to = optarg; break;
        case CLI_OPT_TO_POLICY: out->to_policy = optarg; break;
        case CLI_OPT_ROLE:
            if (out->nroles == CLI_MAX_ROLES) {
                cli_error(verb_label(v, name, sizeof name),
                          "at most %d --role options", CLI_MAX_ROLES);
                return CLI_EXIT_ERROR;
            }
            out->roles[out->nroles++] = optarg;
            break;
        default: break;
        }
        if (options[c].bit != CLI_OPT_POLICY && options[c].bit != CLI_OPT_ROLE)
            out->value[__builtin_ctzll(options[c].bit)] = options[c].arg ? optarg : "";
    }
    if (out->help)
        return 0;
    out->operands = argv + optind;
    out->noperands = argc - optind;
    for (size_t i = 0; i < NOPTIONS; i++) {
        if ((v->required & options[i].bit) && options[i].bit != CLI_OPT_POLICY &&
            options[i].bit != CLI_OPT_ROLE && !cli_opt(out, options[i].bit)) {
            cli_error(verb_label(v, name, sizeof name), "--%s is required",
                      options[i].name);
            cli_usage_line(v, stderr);
            return CLI_EXIT_ERROR;
        }
    }
    if (out->noperands < v->min_operands || out->noperands > v->max_operands) {
        cli_error(verb_label(v, name, sizeof name), "%s",
                  out->noperands < v->min_operands ? "missing operand"
                                                   : "too many operands");
        cli_usage_line(v, stderr);
        return CLI_EXIT_ERROR;
    }
    return 0;
}
