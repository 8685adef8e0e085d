/* server/auth.h — bearer tokens.
 *
 * A token is 32 random bytes, shown once as "lsn_" + URL-safe base64. The
 * node only ever stores its SHA-256 hash; a request's token is hashed and
 * the hash handed to a lookup callback supplied by the embedder (the store,
 * later), so this module depends on no store. Hashing first also means a
 * store's index lookup never compares secrets. */
#ifndef SERVER_AUTH_H
#define SERVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "liaison/error.h"

struct srv_client_cert; /* server/client_cert.h */

#define SRV_TOKEN_HASH_LEN 32   /* SHA-256 */
#define SRV_TOKEN_MAX 128       /* longest token accepted in a header */
#define SRV_TOKEN_LEN 47        /* "lsn_" + 43 base64url characters */
#define SRV_SESSION_COOKIE "lsn_session" /* the web session's cookie */
#define SRV_CSRF_HEADER "X-CSRF-Token"   /* the page sends its session's token */
#define SRV_CSRF_LEN 43                  /* base64url of 32 bytes */

typedef struct srv_auth {
    /* Return the user (embedder's opaque pointer) whose stored token hash
     * equals hash, or NULL. Called from server threads concurrently. */
    void *(*lookup)(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN]);
    /* Called once the request is done with a user lookup returned; may be
     * NULL when users need no release. */
    void (*release)(void *ctx, void *user);
    /* Whether user holds the right `need` a route names (srv_route.need,
     * never 0 here): NULL if so, else the sentence of the 403. May be NULL
     * when no route names a right. */
    const char *(*allow)(void *ctx, void *user, unsigned need);
    /* The user of a web session whose cookie (SRV_SESSION_COOKIE) hashes to
     * hash, or NULL (no such session, or it ended). May be NULL: no
     * sessions. Its result is released by `release` as lookup's is. */
    void *(*lookup_session)(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN]);
    /* The user bound to this verified client certificate (by its SHA-256
     * fingerprint, or by its subject under its issuing CA:
     * server/client_cert.h), or NULL. May be NULL. Asked only with TLS and
     * tls-client-ca, when the request has neither a bearer token nor a
     * session cookie. Released by `release`. */
    void *(*lookup_cert)(void *ctx, const struct srv_client_cert *cert);
    /* The name of a user the lookups returned, for the access log (valid
     * until release). May be NULL: the log says null. */
    const char *(*user_name)(void *ctx, void *user);
    void *ctx;
} srv_auth;

typedef enum srv_auth_result {
    SRV_AUTH_OK = 0,
    SRV_AUTH_MISSING,   /* no Authorization header, or not Bearer */
    SRV_AUTH_MALFORMED, /* Bearer with an unusable token */
    SRV_AUTH_UNKNOWN    /* well-formed token that matches no user */
} srv_auth_result;

/* Initialise libsodium (idempotent, thread-safe). Returns LSN_OK, or an
 * error if the library cannot start. */
lsn_err srv_crypto_init(lsn_error *err) LSN_MUST_CHECK;

/* Hash a token (its bytes as given) into out. */
void srv_token_hash(const char *token, size_t len, uint8_t out[SRV_TOKEN_HASH_LEN]);

/* Compare two token hashes in constant time. */
bool srv_token_hash_equal(const uint8_t a[SRV_TOKEN_HASH_LEN],
                          const uint8_t b[SRV_TOKEN_HASH_LEN]) LSN_MUST_CHECK;

/* Make a new random token into out (NUL-terminated, SRV_TOKEN_LEN chars) and
 * its hash into hash (if not NULL). The caller shows the token once, stores
 * only the hash, and wipes out with srv_wipe. */
lsn_err srv_token_generate(char out[SRV_TOKEN_LEN + 1],
                           uint8_t hash[SRV_TOKEN_HASH_LEN], lsn_error *err) LSN_MUST_CHECK;

/* Authenticate an Authorization header value (may be NULL): on SRV_AUTH_OK
 * *user is what the lookup returned. The request hash is wiped after use. */
srv_auth_result srv_authenticate(const srv_auth *auth, const char *header,
                                 void **user) LSN_MUST_CHECK;

/* Whether text is a well-formed token (a cookie's value): b64token
 * characters only, 1..SRV_TOKEN_MAX of them. */
bool srv_token_well_formed(const char *text) LSN_MUST_CHECK;

/* The CSRF token of the session whose cookie hashes to session_hash: a
 * keyed BLAKE2b of a constant under that hash, in base64url (out holds
 * SRV_CSRF_LEN + 1). Only who holds the session (or its hash) can make it;
 * the page learns it from the sign-in's answer and sends it in the
 * SRV_CSRF_HEADER header of every state-changing request. */
void srv_csrf_token(const uint8_t session_hash[SRV_TOKEN_HASH_LEN], char out[SRV_CSRF_LEN + 1]);

/* Whether `sent` (may be NULL) is the CSRF token of session_hash (compared
 * in constant time). */
bool srv_csrf_check(const uint8_t session_hash[SRV_TOKEN_HASH_LEN], const char *sent)
    LSN_MUST_CHECK;

/* Wipe len bytes at p in a way the compiler keeps. */
void srv_wipe(void *p, size_t len);

/* Lower-case hex of a hash into out (65 bytes), for stores and logs. */
void srv_token_hash_hex(const uint8_t hash[SRV_TOKEN_HASH_LEN], char out[65]);

#endif
