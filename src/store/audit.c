/* store/audit.c — hashing and verifying the audit chain (see audit.h). */
#include "store/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/hash.h"

void audit_entry_hash(const uint8_t prev[STORE_HASH_LEN], const store_audit_event *ev,
                      uint8_t out[STORE_HASH_LEN])
{
    store_hash_ctx h;
    store_hash_begin(&h, "liaison audit v1");
    store_hash_raw(&h, prev, STORE_HASH_LEN);
    store_hash_u64(&h, ev->seq);
    store_hash_u64(&h, (uint64_t)ev->time_ms);
    store_hash_str(&h, ev->actor);
    store_hash_str(&h, ev->action);
    store_hash_str(&h, ev->object);
    store_hash_str(&h, ev->outcome);
    store_hash_str(&h, ev->detail);
    store_hash_end(&h, out);
}

const char *audit_fault_name(audit_fault f)
{
    switch (f) {
    case AUDIT_INTACT: return "intact";
    case AUDIT_ALTERED: return "altered";
    case AUDIT_REMOVED: return "removed";
    case AUDIT_REORDERED: return "reordered";
    }
    return "unknown";
}

typedef struct walk {
    audit_report *r;
    uint8_t prev[STORE_HASH_LEN]; /* hash of the last verified entry */
    uint64_t expect;              /* the sequence number that must come next */
    int pending;                  /* entry `expect` failed: look at the next one */
} walk;

static int chains_as(const walk *w, const store_audit_event *ev, uint64_t seq)
{
    store_audit_event e = *ev;
    uint8_t h[STORE_HASH_LEN];
    e.seq = seq;
    audit_entry_hash(w->prev, &e, h);
    return sodium_memcmp(h, ev->hash, sizeof h) == 0;
}

static int walk_entry(void *ctx, const store_audit_event *ev)
{
    walk *w = ctx;
    w->r->entries++;
    if (w->pending) {
        /* Entry `expect` did not chain. If the entry after it would have
         * chained in its place, the two were swapped: a reordering. */
        w->r->fault = chains_as(w, ev, w->expect) ? AUDIT_REORDERED : AUDIT_ALTERED;
        w->r->first_bad = w->expect;
        return STORE_STOP;
    }
    if (ev->seq != w->expect) {
        w->r->fault = AUDIT_REMOVED;
        w->r->first_bad = w->expect;
        return STORE_STOP;
    }
    if (!chains_as(w, ev, ev->seq)) {
        w->pending = 1;
        return STORE_NEXT;
    }
    memcpy(w->prev, ev->hash, STORE_HASH_LEN);
    w->expect++;
    return STORE_NEXT;
}

lsn_err audit_verify(store *s, audit_report *report, lsn_error *err)
{
    walk w = { .r = report, .expect = 1 };
    memset(report, 0, sizeof *report);
    lsn_err rc = s->ops->audit_list(s, 0, walk_entry, &w, err);
    if (rc != LSN_OK)
        return rc;
    if (w.pending && report->fault == AUDIT_INTACT) { /* the last entry is bad */
        report->fault = AUDIT_ALTERED;
        report->first_bad = w.expect;
    }
    memcpy(report->head, w.prev, STORE_HASH_LEN);
    return LSN_OK;
}

void audit_report_line(const audit_report *r, char *out, size_t n)
{
    if (!out || n == 0)
        return;
    if (r->fault == AUDIT_INTACT) {
        char hex[2 * STORE_HASH_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, r->head, STORE_HASH_LEN);
        snprintf(out, n, "audit log intact: %llu entries, head %s",
                 (unsigned long long)r->entries, hex);
    } else {
        snprintf(out, n, "audit log broken: entry %llu %s (%llu entries read)",
                 (unsigned long long)r->first_bad, audit_fault_name(r->fault),
                 (unsigned long long)r->entries);
    }
}
