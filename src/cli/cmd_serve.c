/* cli/cmd_serve.c — `liaison serve`: run a node. The verb takes the
 * server's own option table (src/server/config.h) rather than the
 * command's, so main.c hands it the raw arguments (its table row has
 * max_operands -1); the node lives in src/node. */
#include "cli.h"
#include "node/node.h"

int cli_cmd_serve(const cli_verb *v, const cli_args *a)
{
    (void)v;
    /* operands[-1] is the verb's own word, as node_serve_main expects. */
    return node_serve_main(a->noperands + 1, a->operands - 1);
}
