/* store/alarm.h — what every back-end does when an item row fails its seal
 * check, or a restricted read is handed a row it did not ask for: an audit
 * record queued to the writer without waiting, and the store's alarm
 * (store_set_alarm). And the anchor's check at open: the signed head
 * against the log, then its writer. Back-end independent; not for use
 * outside src/store. */
#ifndef STORE_ALARM_H
#define STORE_ALARM_H

#include "store/anchor.h"
#include "store/store.h"
#include "store/writer.h"

/* Withhold `it`: queue its audit record (system, integrity, item:UUID,
 * alarm, "withheld: why") to `w` and call the store's alarm (or write a
 * line on stderr). From a reading thread, never the writer. */
void store_alarm_raise(store *s, writer *w, const store_item *it, const char *why);

/* Whether `it`, read through an index by a restricted read, is of
 * `channel` (NULL: any) and of a class of `vis` (NULL: any): 1, or 0
 * after raising the alarm (the index was altered). */
int store_alarm_asked(store *s, writer *w, const store_item *it, const char *channel,
                      const store_classes *vis);

/* An item's rows (its versions) as a back-end reads them, gathered before
 * any is handed on: store_versions_add each, then store_versions_end. */
typedef struct store_version_mark {
    int64_t row;
    int version;
    int marked;                   /* a hidden mark: */
    char why[16];                 /*   its reason, */
    int64_t time_ms;              /*   time */
    uint8_t mac[SEAL_LEN];        /*   and MAC, */
    size_t mac_len;               /*   as many bytes as stored */
} store_version_mark;
typedef struct store_versions {
    store_version_mark *v;
    size_t n, cap;
    int nomem;
} store_versions;
/* Note one row (why NULL: no hidden mark; mac: mac_len bytes). */
void store_versions_add(store_versions *h, int64_t row, int version, const char *why,
                        int64_t time_ms, const void *mac, size_t mac_len);
/* Check the history of item `item` (rows in version order): each hidden
 * mark's seal, versions v..n without a gap (v = 1 at the origin; a peer
 * holds from the first version its guard admitted), every version but the last
 * hidden, the last not superseded. Intact: each row to cb, as read. Not:
 * the alarm (store_alarm_raise) and no row at all, as if absent; *intact
 * (if not NULL) tells which. cb may be NULL. Frees h. */
lsn_err store_versions_end(store *s, writer *w, const seal_keys *k,
                           const uint8_t item[STORE_UUID_LEN], store_versions *h,
                           int (*cb)(void *ctx, int64_t row, int version, const char *hidden),
                           void *ctx, int *intact, lsn_error *err) LSN_MUST_CHECK;

/* The log's head as stored, and the stored hash of record seq (0: none). */
typedef lsn_err (*anchor_head_fn)(void *ctx, uint64_t *seq, uint8_t hash[STORE_HASH_LEN],
                                  lsn_error *err);
typedef int (*anchor_stored_fn)(void *ctx, uint64_t seq, uint8_t out[STORE_HASH_LEN]);

/* Check the anchor of `path` against the log (its head read after the
 * anchor) and start its writer into *out. A mismatch leaves *out NULL
 * (frozen: the evidence stays for liaison verify) and raises an alarm on
 * stderr; it is not an error. A log never anchored is anchored as it is. */
lsn_err anchor_check_start(const char *path, const seal_keys *k, anchor_head_fn head,
                           anchor_stored_fn stored, void *ctx, anchor_writer **out,
                           lsn_error *err) LSN_MUST_CHECK;

#endif
