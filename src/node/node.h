/* node/node.h — the node: `liaison serve`.
 *
 * The node stands on the public engine API (include/liaison/), the store
 * (src/store) and the HTTP plumbing (src/server): it opens the data
 * directory and its store, loads the policy, registers the API handlers in
 * the server's route table, publishes durable items to the stream hub, and
 * writes every post, read, denial and refusal to the audit log. */
#ifndef NODE_NODE_H
#define NODE_NODE_H

/* Run `liaison serve` with its arguments (argv[0] is "serve"): the
 * server's option table (src/server/config.h) plus --demo (seed an empty
 * data directory with the demo data), --demo-file FILE and --help. Blocks
 * until SIGTERM or SIGINT, then finishes in-flight requests, closes the
 * store and returns 0; returns 2 on a start-up error (reported on stderr).
 * Prints "liaison: listening on http(s)://HOST:PORT" on stdout once ready. */
int node_serve_main(int argc, char **argv);

#endif
