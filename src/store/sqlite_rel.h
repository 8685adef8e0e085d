/* store/sqlite_rel.h — the SQLite back-end's part for release requests and
 * item versions (sqlite_rel.c): its schema step, its statements' SQL (named
 * in the statement table by SQ_REL_SQL), and the writer's hook that links a
 * new version of an item, hides the row it replaces and adopts its release
 * request, in the version's transaction. Not for use outside src/store. */
#ifndef STORE_SQLITE_REL_H
#define STORE_SQLITE_REL_H

#include "store/store.h"

#define SQ_REL_COLS                                                                     \
    "SELECT id, rid, item_uuid, item_row, proposer, kind, label, marking_en, "          \
    "marking_fr, reason, created_ms, deadline_ms, extended, state, closed_ms, "         \
    "coalesce(new_row, 0) FROM release_requests "

/* The statements, as entries of sqlite_conn.c's table (sq_stmt order). */
#define SQ_REL_SQL                                                                     \
    [SQ_REL_VERSION_INSERT] = "INSERT INTO item_versions(row_id, item_uuid, version) "  \
                              "VALUES (?1,?2,?3)",                                      \
    [SQ_REL_HIDE] = "INSERT INTO item_hidden(row_id, why, time_ms, mac) "               \
                    "VALUES (?1,?2,?3,?4)",                                             \
    [SQ_REL_ADOPT] = "UPDATE release_requests SET state = 'adopted', closed_ms = ?2, "  \
                     "new_row = ?3 WHERE id = ?1 AND state = 'open'",                   \
    [SQ_REL_HISTORY_INSERT] = "INSERT INTO release_history(request, seq, time_ms, "     \
                              "actor, event, detail) SELECT ?1, coalesce(max(seq), 0) " \
                              "+ 1, ?2, ?3, ?4, ?5 FROM release_history "               \
                              "WHERE request = ?1",                                     \
    [SQ_REL_INSERT] = "INSERT INTO release_requests(rid, item_uuid, item_row, "         \
                      "proposer, kind, label, marking_en, marking_fr, reason, "         \
                      "created_ms, deadline_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,"    \
                      "?10,?11)",                                                       \
    [SQ_REL_AUTH_INSERT] = "INSERT INTO release_authorities(request, user, "            \
                           "organisation, node, pos) VALUES (?1,?2,?3,?4,?5)",          \
    [SQ_REL_STATE] = "SELECT state, deadline_ms, extended, proposer FROM "              \
                     "release_requests WHERE id = ?1",                                  \
    [SQ_REL_ANSWER_GET] = "SELECT answer FROM release_authorities "                     \
                          "WHERE request = ?1 AND user = ?2",                           \
    [SQ_REL_ANSWER_SET] = "UPDATE release_authorities SET answer = ?3, "                \
                          "answered_ms = ?4, reason = ?5 "                              \
                          "WHERE request = ?1 AND user = ?2",                           \
    [SQ_REL_SET_STATE] = "UPDATE release_requests SET state = ?2, closed_ms = ?3 "      \
                         "WHERE id = ?1 AND state = 'open'",                            \
    [SQ_REL_EXTEND] = "UPDATE release_requests SET deadline_ms = ?2, extended = 1 "     \
                      "WHERE id = ?1",                                                  \
    [SQ_REL_GET] = SQ_REL_COLS "WHERE rid = ?1",                                        \
    [SQ_REL_AUTHS] = "SELECT user, organisation, node, answer, answered_ms, reason "    \
                     "FROM release_authorities WHERE request = ?1 ORDER BY pos",        \
    [SQ_REL_HISTORY] = "SELECT time_ms, actor, event, detail FROM release_history "     \
                       "WHERE request = ?1 ORDER BY seq",                               \
    [SQ_REL_LIST] = SQ_REL_COLS "WHERE (?1 IS NULL OR proposer = ?1 OR id IN "          \
                    "(SELECT request FROM release_authorities WHERE user = ?1)) "       \
                    "AND (?2 IS NULL OR state = ?2) ORDER BY id DESC",                  \
    /* Open, and past the deadline or concurred by every organisation. */            \
    [SQ_REL_DUE] = SQ_REL_COLS "WHERE state = 'open' AND (deadline_ms <= ?1 OR "        \
                   "NOT EXISTS (SELECT 1 FROM release_authorities a WHERE a.request = " \
                   "release_requests.id GROUP BY a.organisation "                       \
                   "HAVING sum(a.answer = 'concur') = 0)) ORDER BY deadline_ms, id",    \
    [SQ_REL_VERSIONS] = "SELECT items.id, 1, h.why, h.time_ms, h.mac FROM items "       \
                        "LEFT JOIN item_hidden h "                                      \
                        "ON h.row_id = items.id WHERE items.uuid = ?1 AND NOT EXISTS "  \
                        "(SELECT 1 FROM item_versions v WHERE v.row_id = items.id) "    \
                        "UNION ALL SELECT v.row_id, v.version, h.why, h.time_ms, h.mac FROM " \
                        "item_versions v LEFT JOIN item_hidden h ON h.row_id = "        \
                        "v.row_id WHERE v.item_uuid = ?1 ORDER BY 2",                   \
    [SQ_REL_TOMBSTONE_INSERT] = "INSERT INTO item_tombstones(row_id, xml) VALUES (?1,?2)", \
    [SQ_REL_TOMBSTONE_GET] = "SELECT xml FROM item_tombstones WHERE row_id = ?1"

struct sq_conn;
/* The schema step that adds versions and release requests, run inside the
 * migration's transaction: it sets the schema version to `version`
 * (sqlite_conn.c's SCHEMA_REL). */
lsn_err sq_schema_rel(struct sq_conn *c, int version, lsn_error *err);

struct sq_store;
/* Writer only, inside the open transaction: for a later version of an item
 * (item->ver.version > 1), link row `id` to the item, hide the row it
 * supersedes and adopt its request. */
lsn_err sq_rel_item_written(struct sq_store *s, int64_t id, const store_item *item,
                            int64_t now_ms, lsn_error *err);

/* The rows of item `item`, checked as one history (alarm.h,
 * store_versions_end): to cb (may be NULL) if *intact, else none. */
lsn_err sq_item_history(store *b, const uint8_t item[STORE_UUID_LEN],
                        int (*cb)(void *ctx, int64_t row, int version, const char *hidden),
                        void *ctx, int *intact, lsn_error *err) LSN_MUST_CHECK;

/* The back-end's table (store_ops.rel). */
extern const struct store_rel_ops sq_rel_ops;

#endif
