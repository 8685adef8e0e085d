/* store/migrate.h — copying a node's whole store into another back-end
 * (`liaison store migrate --from sqlite:PATH --to postgresql://...`),
 * through the store interface only, so any back-end to any other.
 *
 * Copied: organisations, channels, users (password, status, certificate,
 * named tokens by their hash), peers with their delivery state (state,
 * last contact, the sequence each acknowledged, the last of theirs
 * received here), label classes (as the items use them, in the same
 * order: the same ids), every item row in id order (public ids, times,
 * attachments, bindings, outbox entries: each peer's outbox the same
 * sequences), hidden ones too — a later version linked to its item and
 * superseding the same version, a withdrawn row withdrawn —, release
 * requests (authorities, answers, history: lived again through the
 * interface and compared, field by field, with the source's; an adopted
 * one adopted by the append of its version), and the audit log, record
 * for record: appended in order onto the same head, each record chains to
 * the same hash, which is checked. Each item is sealed again by the
 * target, with its key. Not kept: the time a withdrawn row was hidden
 * (the interface does not read it; the row's own time is given).
 *
 * Before: the source's chain must verify. The target must be empty, or hold
 * what an interrupted migration from this source left (its audit log a
 * prefix of the source's, or no record yet and the source's first row
 * as its first: a run stopped among the rows, since the log is copied
 * last): the migration then resumes (rows already there,
 * by public id and version, are skipped; a request goes on from the last
 * event the target has). After: the target's chain verifies and ends at
 * the source's head, and it holds as many items. */
#ifndef STORE_MIGRATE_H
#define STORE_MIGRATE_H

#include "store/store.h"

typedef struct store_migrate_report {
    uint64_t orgs, channels, users, peers; /* added (already there: not counted) */
    uint64_t items, items_skipped;         /* rows copied; found already there */
    uint64_t versions, withdrawn;          /* of the rows copied: later versions;
                                              rows withdrawn */
    uint64_t releases;                     /* release requests added */
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
