/* store/alarm.c — the integrity alarm and the anchor's check at open, for
 * every back-end (alarm.h). */
#include "store/alarm.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

/* An audit record queued without waiting: the alarm is raised on a reading
 * thread, which must not wait for the writer (and the record is committed
 * with the next group, before any later audit record of the same reader). */
typedef struct alarm_req {
    writer_req r;
    store_audit_event ev;
    char object[48];
    char detail[160];
} alarm_req;

static void alarm_done(writer_req *r)
{
    lsn_free(r); /* r is the alarm_req's first member */
}

void store_alarm_raise(store *s, writer *w, const store_item *it, const char *why)
{
    char u[37];
    store_uuid_text(it->uuid, u);
    alarm_req *a = core_calloc(1, sizeof *a);
    if (a) {
        snprintf(a->object, sizeof a->object, "item:%s", u);
        snprintf(a->detail, sizeof a->detail, "withheld: %s", why);
        a->ev = (store_audit_event){ .actor = "system", .action = "integrity",
                                     .object = a->object, .outcome = "alarm",
                                     .detail = a->detail, .time_ms = writer_now_ms() };
        a->r = (writer_req){ .kind = WRITER_AUDIT, .event = &a->ev, .complete = alarm_done };
        writer_submit_async(w, &a->r);
    } else {
        fprintf(stderr, "liaison: ALARM: out of memory auditing item %s\n", u);
    }
    if (s->alarm)
        s->alarm(s->alarm_ctx, it->id, it->uuid, why);
    else
        fprintf(stderr, "liaison: ALARM: item %s withheld: %s\n", u, why);
}

void store_versions_add(store_versions *h, int64_t row, int version, const char *why,
                        int64_t time_ms, const void *mac, size_t mac_len)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 4;
        store_version_mark *v = core_realloc(h->v, cap * sizeof *v);
        if (!v) {
            h->nomem = 1;
            return;
        }
        h->v = v;
        h->cap = cap;
    }
    store_version_mark *m = &h->v[h->n++];
    memset(m, 0, sizeof *m);
    m->row = row;
    m->version = version;
    m->marked = why != NULL;
    /* A reason too long for any real one is kept cut, and fails its MAC. */
    snprintf(m->why, sizeof m->why, "%s", why ? why : "");
    if (why && strlen(why) >= sizeof m->why)
        m->why[0] = '?';
    m->time_ms = time_ms;
    m->mac_len = mac && mac_len <= SEAL_LEN ? mac_len : 0;
    if (m->mac_len)
        memcpy(m->mac, mac, m->mac_len);
}

/* Why the history fails, or NULL. */
static const char *history_fault(const seal_keys *k, const store_versions *h)
{
    for (size_t i = 0; i < h->n; i++) {
        const store_version_mark *m = &h->v[i];
        /* 1..n at the origin; a peer holds an item from the first version
         * its guard admitted (v..n), without a gap either. */
        if (h->v[0].version < 1 || m->version != h->v[0].version + (int)i)
            return "version link removed or added (its versions are not v to n)";
        if (m->marked && seal_hidden_check(k, m->row, m->why, m->time_ms,
                                           m->mac_len ? m->mac : NULL, m->mac_len))
            return "hidden mark altered or added (its seal does not match)";
        if (i + 1 < h->n && !m->marked)
            return "hidden mark removed (an earlier version is not hidden)";
        if (i + 1 == h->n && m->marked && strcmp(m->why, "superseded") == 0)
            return "hidden mark added (its latest version is superseded)";
    }
    return NULL;
}

lsn_err store_versions_end(store *s, writer *w, const seal_keys *k,
                           const uint8_t item[STORE_UUID_LEN], store_versions *h,
                           int (*cb)(void *ctx, int64_t row, int version, const char *hidden),
                           void *ctx, int *intact, lsn_error *err)
{
    lsn_err e = LSN_OK;
    const char *why = h->nomem ? NULL : history_fault(k, h);
    if (intact)
        *intact = !why;
    if (h->nomem) {
        e = core_fail(err, LSN_ERR_NOMEM, "out of memory reading an item's versions");
    } else if (why) {
        store_item it = { .id = h->n ? h->v[0].row : 0 };
        memcpy(it.uuid, item, STORE_UUID_LEN);
        store_alarm_raise(s, w, &it, why);
    } else if (cb) {
        for (size_t i = 0; i < h->n; i++)
            if (cb(ctx, h->v[i].row, h->v[i].version,
                   h->v[i].marked ? h->v[i].why : NULL) != STORE_NEXT)
                break;
    }
    lsn_free(h->v);
    *h = (store_versions){ 0 };
    return e;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int store_alarm_asked(store *s, writer *w, const store_item *it, const char *channel,
                      const store_classes *vis)
{
    int asked = !channel || strcmp(it->channel, channel) == 0;
    if (asked && vis)
        asked = vis->all_upto > 0 ? it->class_id <= vis->all_upto
                                  : bsearch(&it->class_id, vis->ids, vis->n, sizeof *vis->ids,
                                            cmp_id) != NULL;
    if (!asked)
        store_alarm_raise(s, w, it, "not of the channel or class read (an index was altered)");
    return asked;
}

lsn_err anchor_check_start(const char *path, const seal_keys *k, anchor_head_fn head,
                           anchor_stored_fn stored, void *ctx, anchor_writer **out,
                           lsn_error *err)
{
    *out = NULL;
    store_anchor a;
    uint64_t head_seq;
    uint8_t head_hash[STORE_HASH_LEN];
    lsn_err e = anchor_read(path, k->sign_pk, &a, err);
    /* The head after the anchor: another process (the node, an
     * administrative command) may have committed and anchored meanwhile,
     * and an anchor read after the head could look ahead of it. */
    if (e || (e = head(ctx, &head_seq, head_hash, err)))
        return e;
    const char *bad = NULL;
    char why[400];
    uint8_t h[STORE_HASH_LEN];
    if (a.state == STORE_ANCHOR_BAD) {
        snprintf(why, sizeof why, "the audit anchor is bad: %s", a.why);
        bad = why;
    } else if (a.state == STORE_ANCHOR_OK && a.seq > head_seq) {
        snprintf(why, sizeof why,
                 "the audit log ends at record %llu but its anchor names record %llu: "
                 "records were removed from its end",
                 (unsigned long long)head_seq, (unsigned long long)a.seq);
        bad = why;
    } else if (a.state == STORE_ANCHOR_OK && a.seq > 0 &&
               (!stored(ctx, a.seq, h) || sodium_memcmp(h, a.hash, STORE_HASH_LEN) != 0)) {
        snprintf(why, sizeof why,
                 "audit record %llu is not the one its anchor names: the log was rewritten",
                 (unsigned long long)a.seq);
        bad = why;
    }
    if (bad) {
        /* Keep the evidence: no anchor is written over it until a person
         * has looked (liaison verify) and moved the file aside. */
        fprintf(stderr, "liaison: ALARM: %s; the anchor is kept as it is (run liaison verify)\n",
                bad);
        return LSN_OK;
    }
    *out = anchor_writer_start(path, k, err);
    if (!*out)
        return LSN_ERR_NOMEM;
    /* A store never anchored (new, or from before anchors) is anchored as
     * it is now. */
    if (head_seq > 0)
        anchor_writer_note(*out, head_seq, head_hash);
    return LSN_OK;
}
