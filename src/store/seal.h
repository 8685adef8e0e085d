/* store/seal.h — sealing stored items with a key kept outside the database.
 *
 * The content hash (hash.h) shows an accident, not an attacker: whoever can
 * write the database file can recompute it. A seal is a keyed BLAKE2b-256
 * MAC (libsodium's crypto_generichash with a key) over an item's row id,
 * public id (UUID), label class id, a digest of its class's label, markings
 * and classification as the class row holds them (the label the item is
 * decided on is its class's), channel, author, organisation, creation time,
 * a digest of its body, its attachment's media type, size and digest, and
 * its content hash, and for a later version of an item its link (the
 * item's public id and the version's number). So a relabelled class row, a class id swapped in an
 * item row, a forged body or a seal moved to another item all fail. The key lives in a file beside the database
 * (PATH.key, mode 0600, made on first open), never in it.
 *
 * The seal is kept in the item's own row (columns body_digest,
 * attachment_digest, mac: schema 13; before, a table item_seals read through
 * a join). The body and attachment enter the MAC through those digests, so
 * that a check needs only what each read path
 * reads anyway:
 *   - a label read (item_label) checks the MAC from the row's small fields
 *     and the stored digests: its cost does not depend on the body's size;
 *   - a listing also checks the body against its digest and the attachment's
 *     size against the sealed size (it reads no attachment bytes);
 *   - a fetch also checks the attachment's bytes against their digest.
 * The class's digest is a plain function of the class row's text, so a
 * reading thread remembers it for the last classes it read
 * (seal_class_digest): a listing hashes a class's label once, not once per
 * row — and still compares the row's text with what it hashed.
 *
 * The same key file also yields (crypto_kdf) the Ed25519 key that signs the
 * audit chain's anchor (anchor.h). This module is back-end independent. */
#ifndef STORE_SEAL_H
#define STORE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "store/store.h"

#define SEAL_LEN 32     /* a MAC, a digest */
#define SEAL_KEY_LEN 32 /* the key file's size */

typedef struct seal_keys {
    uint8_t mac[SEAL_LEN];   /* items' MAC key */
    /* BLAKE2b's state once the key block is absorbed: each MAC starts from
     * a copy (bytes, as the state type wants 64-byte alignment). */
    unsigned char mac0[sizeof(crypto_generichash_state)];
    uint8_t sign_sk[64];     /* the anchor's Ed25519 secret key */
    uint8_t sign_pk[32];     /* ... and its public key */
} seal_keys;

/* Digests of the content, computed on the poster's thread. */
typedef struct seal_digests {
    uint8_t body[SEAL_LEN];
    uint8_t attachment[SEAL_LEN]; /* all zero when there is no attachment */
} seal_digests;

/* How much of an item a read path has in hand. */
typedef enum seal_level {
    SEAL_LABEL,  /* the row without body and attachment (item_label) */
    SEAL_LISTED, /* the body, the attachment's size (listing, search) */
    SEAL_FULL,   /* everything, attachment bytes included (item_get) */
} seal_level;

/* What a read path read of one item's seal (its row's seal columns). */
typedef struct seal_row {
    int present;                     /* 0: the item has no seal row */
    uint8_t body[SEAL_LEN];          /* stored body digest */
    uint8_t attachment[SEAL_LEN];    /* stored attachment digest */
    uint8_t mac[SEAL_LEN];
} seal_row;

/* Load the key of the store at `db_path` from "db_path.key", or make it
 * (random, mode 0600, synced) when absent and `may_create`. Refuses, with a
 * sentence saying why, a key file readable or writable by anyone but its
 * owner, owned by another user, not a regular file, or not exactly
 * SEAL_KEY_LEN bytes. *created tells whether it was made now. The keys are
 * locked in memory where possible; wipe them with seal_keys_wipe(). */
lsn_err seal_keys_load(const char *db_path, int may_create, seal_keys *k, int *created,
                       lsn_error *err) LSN_MUST_CHECK;
void seal_keys_wipe(seal_keys *k);
/* The key file's path for a database path (out must hold PATH_MAX). */
int seal_key_path(const char *db_path, char *out, size_t n);

/* Digest an item's body and attachment. */
void seal_digest(const store_item *it, seal_digests *d);

/* The digest of an item's class as the MAC covers it: the label, markings
 * and classification of `it` (the class row's). Remembered per thread for
 * a few classes, keyed by the whole text (a row whose text differs is
 * hashed again). */
void seal_class_digest(const store_item *it, uint8_t out[SEAL_LEN]);

/* The MAC of an item: `it` gives the row's fields (id, uuid, class_id,
 * created_ms and content_hash included; body and attachment bytes are not
 * read — their digests are `d`; nor its label and markings — their digest
 * is `cls`, seal_class_digest), attachment_len its attachment's size. */
void seal_mac(const seal_keys *k, const store_item *it, const uint8_t cls[SEAL_LEN],
              const seal_digests *d, uint8_t out[SEAL_LEN]);

/* The MAC of a new row of item `it` as a writer stores it: with the id,
 * class, public id, time and content hash the writer gives it (its
 * version link is it->ver). */
void seal_new_row(const seal_keys *k, const store_item *it, int64_t id, int64_t class_id,
                  const uint8_t uuid[STORE_UUID_LEN], int64_t created_ms,
                  const uint8_t content_hash[STORE_HASH_LEN], const uint8_t cls[SEAL_LEN],
                  const seal_digests *d, uint8_t out[SEAL_LEN]);

/* The MAC of a hidden mark (item_hidden: a row superseded or withdrawn,
 * store_rel.h): the row's id, why and when, so that a mark altered, moved
 * to another row or added without the key fails. */
void seal_hidden_mac(const seal_keys *k, int64_t row, const char *why, int64_t time_ms,
                     uint8_t out[SEAL_LEN]);
/* Check a hidden mark read with its stored MAC (`mac_len` bytes; NULL: none):
 * NULL when intact, else a short reason. */
const char *seal_hidden_check(const seal_keys *k, int64_t row, const char *why,
                              int64_t time_ms, const uint8_t *mac,
                              size_t mac_len) LSN_MUST_CHECK;

/* Check an item read at `level` against its seal (`row`: the row's seal
 * columns). Returns NULL when intact, else a short reason ("no seal",
 * "version link altered", "label or row altered", "body altered",
 * "attachment altered"). At SEAL_LABEL the body and attachment
 * fields of `it` are not looked at. */
const char *seal_check(const seal_keys *k, const store_item *it, seal_level level,
                       const seal_row *row) LSN_MUST_CHECK;

#endif
