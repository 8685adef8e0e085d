/* tests/node/fed_util.h — helpers for the federation transport's tests:
 * two (or more) real nodes on 127.0.0.1 with their federation listeners,
 * identities made with `liaison node init`, peers with `liaison peer add`,
 * and a raw sender of batches with a client certificate of the test's
 * choosing (fed_put). */
#ifndef TESTS_FED_UTIL_H
#define TESTS_FED_UTIL_H

#include <stdbool.h>
#include "node_util.h"

/* Run `EXE ARGS...` (NULL-terminated), its output to /dev/null; its exit
 * status (-1 if it did not exit). */
int fu_run(const char *exe, const char *const *args);
/* A free TCP port on 127.0.0.1 below the ephemeral range (bound then
 * released). */
int fu_free_port(void);
/* Make DIR's identity NAME of NATION. */
bool fu_node_init(const char *exe, const char *dir, const char *name, const char *nation);
/* `EXE verify` of the node of DIR (on its store: tn_store_of); its exit
 * status. */
int fu_verify(const char *exe, const char *dir);
/* Register at DIR (on its store: tn_store_of) the node of PEER_DIR as peer
 * NAME of NATION whose federation listener is on 127.0.0.1:PORT. */
bool fu_peer_add(const char *exe, const char *dir, const char *name, const char *nation,
                 const char *peer_dir, int port);
/* The same for a peer reached through peer VIA. */
bool fu_peer_add_via(const char *exe, const char *dir, const char *name, const char *nation,
                     const char *peer_dir, int port, const char *via);
/* The same with a relay (may be NULL) and a highest classification agreed
 * (may be NULL). */
bool fu_peer_add_full(const char *exe, const char *dir, const char *name, const char *nation,
                      const char *peer_dir, int port, const char *via, const char *max);
/* Start a node on DIR (its demo data seeded when empty) with its
 * federation listener on PORT and short retries. */
bool fu_start(test_node *t, const char *exe, const char *dir, int port);
/* The same with more options for `liaison serve` (MORE: "--policy F ..."). */
bool fu_start_more(test_node *t, const char *exe, const char *dir, int port, const char *more);
/* The same without the validating proxy in front (a node whose API the
 * test does not use). */
bool fu_start_unproxied(test_node *t, const char *exe, const char *dir, int port);
/* PUT body to https://127.0.0.1:PORT/fed/v1/send/TXN with the client
 * certificate and key of DIR (NULL: none), trusting the certificate of
 * SERVER_DIR only. *status 0 when the exchange failed (TLS refused...);
 * the answer in r->body (free). */
bool fu_put(int port, const char *server_dir, const char *client_dir, const char *txn,
            const char *body, http_result *r);
/* The same, and how the exchange ended: *code the libcurl code (0 when an
 * HTTP answer came), why its message (CURL_ERROR_SIZE, 256 bytes). */
bool fu_put_why(int port, const char *server_dir, const char *client_dir, const char *txn,
                const char *body, http_result *r, int *code, char why[256]);
/* The same to ROUTE/NAME ("/fed/v1/release", MID). */
bool fu_put_route(int port, const char *server_dir, const char *client_dir, const char *route,
                  const char *name, const char *body, http_result *r);
/* POST an item to CHANNEL at t as TOKEN with label (JSON text) and body:
 * the new item's id into id (37 bytes). */
bool fu_post(const test_node *t, const char *token, const char *channel, const char *label,
             const char *body, char id[37]);
/* How many items a search for WORD finds at t for TOKEN (-1: failed). */
int fu_count(const test_node *t, const char *token, const char *word);

#endif
