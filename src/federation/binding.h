/* federation/binding.h — an item bound to its label: a STANAG 4778 binding
 * data object signed with XML-DSig (libxmlsec1, OpenSSL back-end).
 *
 * The origin node signs, once, a MetadataBinding that holds the item's
 * 4774 label, the origin's name, the channel it posted the item in, the
 * item's UUID and a SHA-384 digest of the item's content bytes; the signed
 * bytes then travel unchanged. A receiver verifies them against the origin's
 * pinned certificate and gets back only what the signature covers.
 * docs/FEDERATION.md gives the profile (elements, algorithms, the order of
 * the checks) and an example. */
#ifndef FEDERATION_BINDING_H
#define FEDERATION_BINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "federation/identity.h"
#include "liaison/error.h"

/* A binding document is at most this large (a label is at most 256 KiB). */
#define FED_BINDING_MAX_BYTES (512u * 1024u)

/* SHA-384. */
#define FED_DIGEST_SIZE 48

/* A channel's name in a binding: 1 to 255 bytes (as a channel's name). */
#define FED_CHANNEL_MAX 255

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower-case hex. */
#define FED_UUID_SIZE 37

/* An item's content: the body and an optional attachment. */
typedef struct fed_content {
    const void *body;
    size_t body_len;
    bool has_attachment;
    const char *media_type;  /* the attachment's, when has_attachment */
    const void *attachment;
    size_t attachment_len;
} fed_content;

/* The SHA-384 digest of a content's encoding (docs/FEDERATION.md):
 *   "liaison-content/1" 0x00 | u64be(len) body |
 *   0x00                                     (no attachment), or
 *   0x01 | u64be(len) media type | u64be(len) attachment bytes.
 * Every field is length-prefixed, so no two contents share an encoding. */
LSN_MUST_CHECK lsn_err fed_content_digest(const fed_content *c,
                                          uint8_t out[FED_DIGEST_SIZE]);

/* A fresh random (version 4) UUID, lower-case. */
LSN_MUST_CHECK lsn_err fed_uuid_new(char out[FED_UUID_SIZE]);
/* True when s is a UUID in that form. */
bool fed_uuid_valid(const char *s);

/* Sign a binding with `signer` (an identity loaded with its key): origin =
 * the signer's name, `uuid` (NULL: a fresh one), `channel` (the channel the
 * origin files the item in, 1 to FED_CHANNEL_MAX bytes), the STANAG 4774 label XML
 * `label_4774` (an originatorConfidentialityLabel document, e.g. from
 * lsn_label_write(..., LSN_FORM_4774, ...)), the digest of `content`, and
 * `signing_time` (0: now). On success *out (NUL-terminated, lsn_free) holds
 * the signed document and *out_len its length. */
LSN_MUST_CHECK lsn_err fed_binding_sign(const fed_identity *signer, const char *uuid,
                                        const char *channel, const char *label_4774,
                                        size_t label_len,
                                        const fed_content *content, time_t signing_time,
                                        char **out, size_t *out_len, lsn_error *err);

/* What a verified binding says; every field is taken from the bytes that
 * the signature covers. */
typedef struct fed_binding {
    char origin[FED_NAME_MAX + 1];
    char uuid[FED_UUID_SIZE];
    char channel[FED_CHANNEL_MAX + 1]; /* the channel the origin filed it in */
    char *label_xml;        /* the signed 4774 label, exclusive-C14N bytes */
    size_t label_len;
    uint8_t digest[FED_DIGEST_SIZE]; /* SHA-384 of the content encoding */
    time_t signing_time;
} fed_binding;

void fed_binding_free(fed_binding *b); /* NULL is a no-op */

/* Verify the binding document `data` against `pinned` (the origin's
 * certificate, as the caller knows it: a certificate in the message is
 * never used). A refusal is a decision, not an error: LSN_OK with *out NULL
 * and `reason` (if given) saying why. LSN_OK with *out set: verified, the
 * caller owns *out (fed_binding_free) and must still check the content
 * against out->digest (fed_binding_content_matches) and the label against
 * its policy. Errors (LSN_ERR_NOMEM, LSN_ERR_ARG) leave *out NULL. */
LSN_MUST_CHECK lsn_err fed_binding_verify(const fed_identity *pinned,
                                          const void *data, size_t len,
                                          fed_binding **out,
                                          char *reason, size_t reason_size);

/* True when `content` has the digest a verified binding carries (compared
 * in constant time). False also when the digest cannot be computed. */
LSN_MUST_CHECK bool fed_binding_content_matches(const fed_binding *b,
                                                const fed_content *content);

#endif
