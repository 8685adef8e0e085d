/* federation/message.h — a signed message between nodes that is not an
 * item: the release messages of issue 13 (a request's notice, an
 * authority's answer, the outcome; docs/FEDERATION.md "Release messages").
 *
 * The signature is ECDSA P-256 with SHA-256 (DER) by the sender's node key
 * over a fixed prefix and the message's bytes, so that a signature made
 * for one use of the key can never pass for another. The receiver verifies
 * with the sender's pinned certificate only, before it parses what is
 * signed. */
#ifndef FEDERATION_MESSAGE_H
#define FEDERATION_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "federation/identity.h"

/* Sign data[0..len) with `me`'s private key: *sig (lsn_free), *sig_len. */
LSN_MUST_CHECK lsn_err fed_message_sign(const fed_identity *me, const void *data, size_t len,
                                        uint8_t **sig, size_t *sig_len, lsn_error *err);

/* Whether sig verifies over data with `pinned`'s public key. */
LSN_MUST_CHECK bool fed_message_verify(const fed_identity *pinned, const void *data,
                                       size_t len, const uint8_t *sig, size_t sig_len);

#endif
