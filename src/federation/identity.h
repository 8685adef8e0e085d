/* federation/identity.h — a node's identity: its name, the nation or body
 * it stands for, an ECDSA P-256 key pair and an X.509 certificate.
 *
 * The certificate is the one record of the identity: its subject holds the
 * name (CN) and the nation (OU), so that a peer who pins the certificate
 * also pins who it speaks for. In a data directory: DIR/node.crt (PEM,
 * readable) and DIR/node.key (PEM PKCS#8, mode 0600). docs/FEDERATION.md
 * describes the certificate's profile. */
#ifndef FEDERATION_IDENTITY_H
#define FEDERATION_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "liaison/error.h"

#define FED_CERT_FILE "node.crt"
#define FED_KEY_FILE "node.key"

/* A node name: 1-64 bytes of UTF-8 (the limit of an X.509 CN), no control
 * characters; a nation: 1-64 bytes of printable ASCII. */
#define FED_NAME_MAX 64
/* "AB:CD:...": 32 bytes as colon-separated upper-case hex, as
 * `openssl x509 -fingerprint -sha256` prints them. */
#define FED_FINGERPRINT_SIZE (32 * 3)

typedef struct fed_identity fed_identity;

/* Make a new identity in `dir` (created 0700 when missing): a P-256 key
 * pair and a self-signed certificate for `name` and `nation`, valid ten
 * years. Refuses (LSN_ERR_DUPLICATE) when DIR already holds node.crt or
 * node.key: an identity is never overwritten. On success *out (if given)
 * holds the new identity with its private key (fed_identity_free). */
LSN_MUST_CHECK lsn_err fed_identity_create(const char *dir, const char *name,
                                           const char *nation, fed_identity **out,
                                           lsn_error *err);

/* Load DIR/node.crt, and DIR/node.key when `with_key` (checked to be the
 * certificate's key; a key file readable by others is refused). The caller
 * frees *out. */
LSN_MUST_CHECK lsn_err fed_identity_load(const char *dir, bool with_key,
                                         fed_identity **out, lsn_error *err);

/* Load a certificate alone (a peer's, to pin): PEM, an ECDSA P-256 key. */
LSN_MUST_CHECK lsn_err fed_identity_load_certificate(const char *path,
                                                     fed_identity **out,
                                                     lsn_error *err);

/* The same from PEM bytes in memory (`source` names them in messages). */
LSN_MUST_CHECK lsn_err fed_identity_from_pem(const char *pem, size_t len,
                                             const char *source,
                                             fed_identity **out, lsn_error *err);

void fed_identity_free(fed_identity *id); /* NULL is a no-op */

/* Accessors: strings owned by the identity. */
const char *fed_identity_name(const fed_identity *id);
const char *fed_identity_nation(const fed_identity *id);
const char *fed_identity_fingerprint(const fed_identity *id);
bool fed_identity_has_key(const fed_identity *id);

/* The OpenSSL key (EVP_PKEY *): private when loaded with the key, else the
 * certificate's public key. Owned by the identity. */
void *fed_identity_pkey(const fed_identity *id);

#endif
