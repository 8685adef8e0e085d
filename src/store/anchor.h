/* store/anchor.h — the audit chain's head, signed, outside the database.
 *
 * The hash chain shows a record altered, removed or swapped, but not records
 * cut off at its end (nor a chain recomputed whole by someone who can write
 * the file). So after each commit that appended audit records, the store
 * writes the chain's head — its sequence number and hash — signed with
 * Ed25519 (the key comes from the store's key file, seal.h) to PATH.anchor
 * beside the database: a temporary file, fdatasync, rename (the directory is
 * not synced: a crash may bring back the previous anchor, which only lags).
 *
 * The anchor is written only after the records it names are committed, so it
 * may lag the database (a crash between the commit and the anchor's write)
 * but is never ahead of it. A check accepts an anchor at seq <= the log's
 * head whose hash is the stored hash of record seq, and reports truncation
 * when the log ends before the anchor's seq.
 *
 * The writing happens on a thread of its own (anchor_writer), so the store's
 * writer only hands it the new head: one lock and a signal per group. It
 * writes at most once per 20 ms, so many groups share one anchor write and
 * its fsync does not crowd the commits' own. File format (112 bytes):
 *   "LSNANCH1" | seq, 8 bytes big-endian | hash (32) | Ed25519 signature (64)
 * where the signature covers the first 48 bytes. */
#ifndef STORE_ANCHOR_H
#define STORE_ANCHOR_H

#include <stdint.h>

#include "store/seal.h"
#include "store/store.h"

/* The anchor file's path for a database path. */
int anchor_path(const char *db_path, char *out, size_t n);

/* Read and check the anchor of `db_path` with the public key `pk`. */
lsn_err anchor_read(const char *db_path, const uint8_t pk[32], store_anchor *out,
                    lsn_error *err) LSN_MUST_CHECK;

/* Write a signed anchor at once (temp file, fdatasync, rename). */
lsn_err anchor_write(const char *db_path, const seal_keys *k, uint64_t seq,
                     const uint8_t hash[STORE_HASH_LEN], lsn_error *err) LSN_MUST_CHECK;

typedef struct anchor_writer anchor_writer;

/* Start the thread that writes the anchor of `db_path` whenever the head
 * moves. `k` is borrowed and must outlive the writer. NULL when out of
 * memory or threads (err says). */
anchor_writer *anchor_writer_start(const char *db_path, const seal_keys *k, lsn_error *err);
/* The chain's head after a commit: the thread writes it soon. */
void anchor_writer_note(anchor_writer *a, uint64_t seq, const uint8_t hash[STORE_HASH_LEN]);
/* Write the last head noted, stop the thread, free. NULL is a no-op. */
void anchor_writer_stop(anchor_writer *a);

#endif
