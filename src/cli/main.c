/* cli/main.c — the `liaison` command: global options and dispatch.
 *
 * `liaison VERB [options] ARGS`: the verb is looked up in the verb table
 * (verbs.c), its options parsed (options.c), and its handler run. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_help_all();
        return CLI_EXIT_ERROR;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        cli_help_all();
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("liaison %s\n", LSN_VERSION);
        return CLI_EXIT_OK;
    }

    int used = 0;
    const cli_verb *v = cli_verb_find(argc - 1, argv + 1, &used);
    if (!v) {
        /* A group alone ("liaison label") or with --help lists the group's
         * verbs; anything else is unknown. */
        bool help = argc >= 3 && (strcmp(argv[2], "--help") == 0 ||
                                  strcmp(argv[2], "-h") == 0);
        if ((argc == 2 || help) && cli_help_group(argv[1], help ? stdout : stderr))
            return help ? CLI_EXIT_OK : CLI_EXIT_ERROR;
        cli_error(argc >= 3 && cli_help_group(argv[1], NULL) ? argv[2] : argv[1],
                  "unknown verb (try 'liaison --help')");
        return CLI_EXIT_ERROR;
    }

    if (v->max_operands < 0) {
        /* A verb with its own option table (serve: src/server/config.h)
         * parses its arguments itself. */
        cli_args raw;
        memset(&raw, 0, sizeof raw);
        raw.operands = argv + used + 1;
        raw.noperands = argc - used - 1;
        return v->handler(v, &raw);
    }
    cli_args args;
    /* argv[used] is the verb's last word: getopt starts after it. */
    int rc = cli_parse_args(v, argc - used, argv + used, &args);
    if (rc != 0)
        return rc;
    if (args.help) {
        cli_help_verb(v);
        return CLI_EXIT_OK;
    }
    return v->handler(v, &args);
}
