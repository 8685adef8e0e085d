/* store/verify.c — checking a whole store (see verify.h).
 *
 * Four checks, through the store interface only:
 *  1. the audit chain (audit_verify);
 *  2. the anchor: signed, and naming a record the log still holds with the
 *     hash it signed (the anchor may lag the log, never lead it);
 *  3. every item: listed (which checks label, row and body against the
 *     seal) and, if it has an attachment, fetched (its bytes too). A store
 *     withholds an item that fails; its alarm tells us which and why;
 *  4. every item the audit log says was posted is still there: each post
 *     record ("post", "ok", "item:UUID") is the item's own, written in its
 *     transaction, so a deleted item leaves its record behind (and removing
 *     the record breaks the chain, or the anchor if it was the last). An
 *     item whose public id was altered is found altered (3) and, under the
 *     id it was posted with, missing (4). And each posted item's history
 *     (store_item_versions): its version links and hidden marks are sealed
 *     and must make one history (the store's alarm says which fails), each
 *     hidden row's own seal is checked too (a listing skips hidden rows),
 *     and an item the log says was withdrawn ("item.withdraw", "ok") must
 *     not be served (its hidden mark removed). */
#include "store/verify.h"
#include "store/store_rel.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

typedef struct vctx {
    store *s;
    store_verify_report *r;
    int count_alarms; /* phase 3: count and name; phase 4: only note */
    int check_posts;  /* phase 4 too, or only the anchor */
    int fetching;     /* inside phase 3's fetch of an item already counted */
    int history;      /* inside phase 4's read of an item's versions */
    int64_t any_row;  /* phase 4: a row of the item, hidden or not */
    uint64_t last_seq;
    int have_anchor_hash;
    uint8_t anchor_hash[STORE_HASH_LEN];
    lsn_err rc;
    lsn_error err;
} vctx;

static void on_alarm(void *ctx, int64_t id, const uint8_t uuid[STORE_UUID_LEN],
                     const char *why)
{
    vctx *v = ctx;
    (void)id;
    if (!v->count_alarms && !v->history)
        return;
    store_verify_report *r = v->r;
    char u[37];
    store_uuid_text(uuid, u);
    if (!v->fetching && !v->history)
        r->items++; /* withheld from the listing: read all the same */
    for (uint64_t i = 0; i < r->items_bad && i < STORE_VERIFY_NAMED; i++)
        if (strcmp(r->bad_ids[i], u) == 0)
            return; /* listed, then fetched: one item */
    if (r->items_bad < STORE_VERIFY_NAMED) {
        memcpy(r->bad_ids[r->items_bad], u, sizeof u);
        snprintf(r->bad_why[r->items_bad], sizeof r->bad_why[0], "%s", why);
    }
    r->items_bad++;
}

/* Phase 3: each listed item; fetch those with an attachment. */
static int on_item(void *ctx, const store_item *it)
{
    vctx *v = ctx;
    v->r->items++;
    if (it->media_type) {
        store_item *full = NULL;
        v->fetching = 1;
        v->rc = store_item_get(v->s, it->id, &full, &v->err);
        v->fetching = 0;
        if (v->rc != LSN_OK)
            return STORE_STOP;
        lsn_free(full); /* NULL if it failed: the alarm counted it */
    }
    return STORE_NEXT;
}

/* "item:UUID": the item's public id; false for any other object. */
static bool item_object(const char *o, uint8_t uuid[STORE_UUID_LEN])
{
    return o && strncmp(o, "item:", 5) == 0 && store_uuid_parse(o + 5, uuid);
}

/* store_version_cb: note that the item has a row, hidden or not; check a
 * hidden row's seal (fetched whole: a listing never reads it). */
static int history_row(void *ctx, int64_t row, int version, const char *hidden)
{
    vctx *v = ctx;
    (void)version;
    if (!v->any_row)
        v->any_row = row;
    if (!hidden)
        return STORE_NEXT;
    store_item *full = NULL;
    v->r->items++;
    v->fetching = 1;
    v->rc = store_item_get(v->s, row, &full, &v->err);
    v->fetching = 0;
    lsn_free(full); /* NULL if it failed: the alarm counted it */
    return v->rc == LSN_OK ? STORE_NEXT : STORE_STOP;
}

/* Phase 2 and 4 in one pass over the log. */
static int on_record(void *ctx, const store_audit_event *ev)
{
    vctx *v = ctx;
    v->last_seq = ev->seq;
    if (v->r->anchor.state == STORE_ANCHOR_OK && ev->seq == v->r->anchor.seq) {
        memcpy(v->anchor_hash, ev->hash, STORE_HASH_LEN);
        v->have_anchor_hash = 1;
    }
    uint8_t uuid[STORE_UUID_LEN];
    if (!v->check_posts || strcmp(ev->outcome, "ok") != 0 || !item_object(ev->object, uuid))
        return STORE_NEXT;
    store_item_ref ref;
    if (strcmp(ev->action, "item.withdraw") == 0) {
        /* Withdrawn: never served again. */
        if ((v->rc = store_item_find(v->s, uuid, &ref, &v->err)) != LSN_OK)
            return STORE_STOP;
        if (ref.id > 0) {
            v->history = 1;
            on_alarm(v, ref.id, uuid, "withdrawn, yet served (its hidden mark removed)");
            v->history = 0;
        }
        return STORE_NEXT;
    }
    if (strcmp(ev->action, "post") != 0)
        return STORE_NEXT;
    v->r->posted++;
    if ((v->rc = store_item_find(v->s, uuid, &ref, &v->err)) != LSN_OK)
        return STORE_STOP;
    /* Its history: links and hidden marks (the store's alarm tells of one
     * that fails), hidden rows' seals. A withdrawn item (store_rel.h) is
     * not served but still stored: not missing. */
    v->any_row = 0;
    v->history = 1;
    v->rc = store_item_versions(v->s, uuid, history_row, v, &v->err);
    v->history = 0;
    if (v->rc != LSN_OK)
        return STORE_STOP;
    if (ref.id <= 0 && !v->any_row) { /* gone (an altered one is still found, and failed in 3) */
        if (v->r->missing < STORE_VERIFY_NAMED)
            store_uuid_text(uuid, v->r->missing_ids[v->r->missing]);
        v->r->missing++;
    }
    return STORE_NEXT;
}

static void anchor_verdict(store_verify_report *r, const vctx *v)
{
    if (r->anchor.state == STORE_ANCHOR_OK) {
        if (r->anchor.seq > v->last_seq)
            r->truncated = 1;
        else if (!v->have_anchor_hash ||
                 sodium_memcmp(v->anchor_hash, r->anchor.hash, STORE_HASH_LEN) != 0)
            r->rewritten = 1;
    }
    r->ok = r->audit.fault == AUDIT_INTACT && r->anchor.state != STORE_ANCHOR_BAD &&
            !r->truncated && !r->rewritten && !r->items_bad && !r->missing;
}

lsn_err store_verify_audit(store *s, store_verify_report *r, lsn_error *err)
{
    memset(r, 0, sizeof *r);
    vctx v = { .s = s, .r = r };
    lsn_err rc;
    if ((rc = audit_verify(s, &r->audit, err)) != LSN_OK ||
        (rc = store_anchor_read(s, &r->anchor, err)) != LSN_OK ||
        (rc = store_audit_list(s, 0, on_record, &v, err)) != LSN_OK)
        return rc;
    anchor_verdict(r, &v);
    return LSN_OK;
}

lsn_err store_verify(store *s, store_verify_report *r, lsn_error *err)
{
    memset(r, 0, sizeof *r);
    vctx v = { .s = s, .r = r, .check_posts = 1 };
    lsn_err rc;
    if ((rc = audit_verify(s, &r->audit, err)) != LSN_OK ||
        (rc = store_anchor_read(s, &r->anchor, err)) != LSN_OK)
        return rc;

    store_alarm_cb saved = s->alarm;
    void *saved_ctx = s->alarm_ctx;
    store_set_alarm(s, on_alarm, &v);
    v.count_alarms = 1;
    rc = store_item_list(s, NULL, NULL, 0, 0, on_item, &v, err);
    if (rc == LSN_OK && v.rc != LSN_OK) {
        rc = v.rc;
        if (err)
            *err = v.err;
    }
    if (rc == LSN_OK) {
        v.count_alarms = 0;
        rc = store_audit_list(s, 0, on_record, &v, err);
        if (rc == LSN_OK && v.rc != LSN_OK) {
            rc = v.rc;
            if (err)
                *err = v.err;
        }
    }
    store_set_alarm(s, saved, saved_ctx);
    if (rc != LSN_OK)
        return rc;
    anchor_verdict(r, &v);
    return LSN_OK;
}

void store_verify_lines(const store_verify_report *r, void (*fn)(void *ctx, const char *line),
                        void *ctx)
{
    char line[512];
    audit_report_line(&r->audit, line, sizeof line);
    fn(ctx, line);
    switch (r->anchor.state) {
    case STORE_ANCHOR_NONE:
        fn(ctx, "audit anchor: none yet (the log is not anchored: truncation cannot be seen)");
        break;
    case STORE_ANCHOR_BAD:
        snprintf(line, sizeof line, "audit anchor BAD: %s", r->anchor.why);
        fn(ctx, line);
        break;
    case STORE_ANCHOR_OK:
        if (r->truncated)
            snprintf(line, sizeof line,
                     "audit log TRUNCATED: its anchor names record %llu, the log ends "
                     "before it",
                     (unsigned long long)r->anchor.seq);
        else if (r->rewritten)
            snprintf(line, sizeof line,
                     "audit log REWRITTEN: record %llu is not the one its anchor signed",
                     (unsigned long long)r->anchor.seq);
        else
            snprintf(line, sizeof line, "audit anchor: record %llu, matches",
                     (unsigned long long)r->anchor.seq);
        fn(ctx, line);
        break;
    }
    if (!r->items && !r->posted && !r->items_bad && !r->missing)
        return; /* an audit-only report */
    snprintf(line, sizeof line, "items: %llu read, %llu failed their seal",
             (unsigned long long)r->items, (unsigned long long)r->items_bad);
    fn(ctx, line);
    for (uint64_t i = 0; i < r->items_bad && i < STORE_VERIFY_NAMED; i++) {
        snprintf(line, sizeof line, "item %s ALTERED: %s", r->bad_ids[i], r->bad_why[i]);
        fn(ctx, line);
    }
    snprintf(line, sizeof line, "posted items: %llu checked, %llu missing",
             (unsigned long long)r->posted, (unsigned long long)r->missing);
    fn(ctx, line);
    for (uint64_t i = 0; i < r->missing && i < STORE_VERIFY_NAMED; i++) {
        snprintf(line, sizeof line, "item %s DELETED: its post record remains",
                 r->missing_ids[i]);
        fn(ctx, line);
    }
}
