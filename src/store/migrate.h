/* store/migrate.h — copying a node's whole store into another back-end
 * (`liaison store migrate --from sqlite:PATH --to postgresql://...`),
 * through the store interface only, so any back-end to any other.
 *
 * Copied: organisations, channels, users (password, status, certificate),
 * peers, label classes (as the items use them, in the same order: the same
 * ids), items (public ids, times, attachments, bindings, outbox entries)
 * and the audit log, record for record: appended in order onto the same
 * head, each record chains to the same hash, which is checked. Named access
 * tokens cannot be copied (the interface gives no token's hash out): they
 * are counted, and must be issued again.
 *
 * Before: the source's chain must verify. The target must be empty, or hold
 * what an interrupted migration from this source left (its audit log a
 * prefix of the source's): the migration then resumes (items already there,
 * by public id, are skipped). After: the target's chain verifies and ends at
 * the source's head, and it holds as many items. */
#ifndef STORE_MIGRATE_H
#define STORE_MIGRATE_H

#include "store/store.h"

typedef struct store_migrate_report {
    uint64_t orgs, channels, users, peers; /* added (already there: not counted) */
    uint64_t items, items_skipped;         /* copied; found already there */
    uint64_t audit, audit_skipped;         /* records appended; already there */
    uint64_t tokens;                       /* named tokens copied (by hash) */
    uint64_t tokens_not_copied;            /* listed without a hash: issue again */
    uint64_t head_seq;                     /* the chain's head, in both */
    uint8_t head[STORE_HASH_LEN];
} store_migrate_report;

/* Copy `from` into `to`. An error (err says) leaves `to` resumable. */
lsn_err store_migrate(store *from, store *to, store_migrate_report *r,
                      lsn_error *err) LSN_MUST_CHECK;

#endif
