/* store/verify.h — checking a whole store: every item against its seal,
 * every posted item still present, the audit chain, and the chain's anchor
 * (what `liaison verify` runs). Back-end independent: it goes through the
 * store interface, catching withheld items with the integrity alarm. */
#ifndef STORE_VERIFY_H
#define STORE_VERIFY_H

#include "store/audit.h"
#include "store/store.h"

/* How many failing items a report names; beyond, they are only counted. */
#define STORE_VERIFY_NAMED 16

typedef struct store_verify_report {
    audit_report audit;       /* the chain (audit.h) */
    store_anchor anchor;      /* the anchor as read */
    int truncated;            /* the log ends before the anchor's record */
    int rewritten;            /* the anchor's record is not the one it signed */
    uint64_t items;           /* items read */
    uint64_t items_bad;       /* items that failed their seal */
    uint64_t posted;          /* post records checked */
    uint64_t missing;         /* posted items no longer in the store */
    char bad_ids[STORE_VERIFY_NAMED][37];     /* public ids (UUID text) */
    char bad_why[STORE_VERIFY_NAMED][64];
    char missing_ids[STORE_VERIFY_NAMED][37];
    int ok;                   /* nothing failed */
} store_verify_report;

/* Check the whole store `s`. A failure found is a result (report->ok = 0),
 * not an error; an error means the store could not be read. Items that
 * fail are audited as on any read. The store's alarm function is replaced
 * during the call and restored after it: no other thread may use the store
 * meanwhile. */
lsn_err store_verify(store *s, store_verify_report *report, lsn_error *err) LSN_MUST_CHECK;

/* Only the audit log: its chain and its anchor (no items). */
lsn_err store_verify_audit(store *s, store_verify_report *report,
                           lsn_error *err) LSN_MUST_CHECK;

/* Write one line per failure of `r` to `fn` (a sentence naming what failed
 * and where, without a newline), or one line saying all is well. */
void store_verify_lines(const store_verify_report *r, void (*fn)(void *ctx, const char *line),
                        void *ctx);

#endif
