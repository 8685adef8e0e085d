/* store/audit.h — the hash-chained audit log, independent of the back-end.
 *
 * Entry n's hash is SHA-256(hash of entry n-1 || canonical encoding of entry
 * n), the hash before entry 1 being 32 zero bytes. The encoding
 * (audit_entry_hash) covers the sequence number, the time and every text
 * field, each length-prefixed. Back-ends call audit_entry_hash when they
 * append; `liaison audit verify` calls audit_verify, which walks the chain
 * through store_ops.audit_list. */
#ifndef STORE_AUDIT_H
#define STORE_AUDIT_H

#include "store/store.h"

typedef enum audit_fault {
    AUDIT_INTACT = 0,
    AUDIT_ALTERED,   /* an entry's content or hash does not match the chain */
    AUDIT_REMOVED,   /* a sequence number is missing */
    AUDIT_REORDERED, /* an entry stands where another belongs */
} audit_fault;

typedef struct audit_report {
    uint64_t entries;   /* entries read */
    audit_fault fault;  /* AUDIT_INTACT when the whole chain verifies */
    uint64_t first_bad; /* sequence number of the first bad entry; 0 if intact */
    uint8_t head[STORE_HASH_LEN]; /* hash of the last entry that verified */
} audit_report;

/* The chain hash of `ev` (its seq, time_ms, actor, action, object, outcome,
 * detail; not its hash field) following `prev`. */
void audit_entry_hash(const uint8_t prev[STORE_HASH_LEN], const store_audit_event *ev,
                      uint8_t out[STORE_HASH_LEN]);

/* Walk the whole audit log of `s` and fill *report. Returns an error only if
 * the log could not be read; a broken chain is a result, not an error:
 * check report->fault. The chain cannot show entries cut off at its end:
 * keep report->head outside the node to detect truncation. */
lsn_err audit_verify(store *s, audit_report *report, lsn_error *err) LSN_MUST_CHECK;

/* "intact", "altered", "removed", "reordered". */
const char *audit_fault_name(audit_fault f);

/* One line for a person (what `liaison audit verify` prints), into out
 * (always NUL-terminated; 160 bytes are enough):
 *   "audit log intact: 42 entries, head 3f5a...e1"
 *   "audit log broken: entry 17 altered (17 entries read)" */
void audit_report_line(const audit_report *r, char *out, size_t n);

#endif
