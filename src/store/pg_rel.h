/* store/pg_rel.h — the PostgreSQL back-end's part for release requests and
 * item versions (pg_rel.c): its schema step (version 8, SQLite's step 8),
 * its statements' SQL (named in pg_conn.c's table by PG_REL_SQL), and the
 * writer's hook that links a new version of an item, hides the row it
 * replaces and adopts its release request, in the version's transaction.
 * Not for use outside src/store. */
#ifndef STORE_PG_REL_H
#define STORE_PG_REL_H

#include "store/store.h"

/* Versions, hidden rows and a request's history are append-only, as items
 * are; a request's row and its authorities' rows change (state, answers).
 * The primary key of item_hidden (a row superseded once), the uniqueness
 * of (item_uuid, version) and of new_row (a request adopted by one
 * version) make a version exactly-once, as on SQLite. */
#define PG_REL_SCHEMA                                                                   \
    "CREATE TABLE item_versions(\n"                                                     \
    "  row_id bigint PRIMARY KEY REFERENCES items(id),\n"                               \
    "  item_uuid bytea NOT NULL CHECK (length(item_uuid) = 16),\n"                      \
    "  version integer NOT NULL CHECK (version >= 2), UNIQUE (item_uuid, version));\n"  \
    "CREATE TABLE item_hidden(\n"                                                       \
    "  row_id bigint PRIMARY KEY REFERENCES items(id),\n"                               \
    "  why text NOT NULL CHECK (why IN ('superseded', 'withdrawn')),\n"                 \
    "  time_ms bigint NOT NULL);\n"                                                     \
    "CREATE TABLE release_requests(\n"                                                  \
    "  id bigserial PRIMARY KEY, rid bytea NOT NULL UNIQUE CHECK (length(rid) = 16),\n" \
    "  item_uuid bytea NOT NULL CHECK (length(item_uuid) = 16),\n"                      \
    "  item_row bigint NOT NULL REFERENCES items(id), proposer text NOT NULL,\n"        \
    "  kind text NOT NULL CHECK (kind IN ('release', 'downgrade')),\n"                  \
    "  label text NOT NULL, marking_en text NOT NULL, marking_fr text NOT NULL,\n"      \
    "  reason text NOT NULL, created_ms bigint NOT NULL, deadline_ms bigint NOT NULL,\n"\
    "  extended integer NOT NULL DEFAULT 0,\n"                                          \
    "  state text NOT NULL DEFAULT 'open'\n"                                            \
    "    CHECK (state IN ('open', 'adopted', 'silence-broken', 'withdrawn')),\n"        \
    "  closed_ms bigint NOT NULL DEFAULT 0, new_row bigint UNIQUE REFERENCES items(id));\n" \
    "CREATE INDEX release_requests_open ON release_requests(state, deadline_ms);\n"     \
    "CREATE INDEX release_requests_by_proposer ON release_requests(proposer, id);\n"    \
    "CREATE TABLE release_authorities(\n"                                               \
    "  request bigint NOT NULL REFERENCES release_requests(id), \"user\" text NOT NULL,\n" \
    "  organisation text NOT NULL, node text, pos integer NOT NULL,\n"                  \
    "  answer text NOT NULL DEFAULT 'none' CHECK (answer IN ('none', 'concur', 'break')),\n" \
    "  answered_ms bigint NOT NULL DEFAULT 0, reason text,\n"                           \
    "  PRIMARY KEY (request, \"user\"));\n"                                             \
    "CREATE INDEX release_authorities_by_user ON release_authorities(\"user\", request);\n" \
    "CREATE TABLE release_history(\n"                                                   \
    "  request bigint NOT NULL REFERENCES release_requests(id), seq integer NOT NULL,\n" \
    "  time_ms bigint NOT NULL, actor text NOT NULL, event text NOT NULL,\n"            \
    "  detail text NOT NULL, PRIMARY KEY (request, seq));\n"                            \
    "CREATE TRIGGER item_versions_append_only BEFORE UPDATE OR DELETE ON item_versions\n" \
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"                          \
    "CREATE TRIGGER item_hidden_append_only BEFORE UPDATE OR DELETE ON item_hidden\n"   \
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"                          \
    "CREATE TRIGGER release_history_append_only BEFORE UPDATE OR DELETE ON release_history\n" \
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"

/* A request's columns, in the order pg_rel.c's row_release reads them. */
#define PG_REL_COLS                                                                     \
    "SELECT id, rid, item_uuid, item_row, proposer, kind, label, marking_en, "          \
    "marking_fr, reason, created_ms, deadline_ms, extended::int8, state, closed_ms, "   \
    "coalesce(new_row, 0) FROM release_requests "

/* The statements, as entries of pg_conn.c's table (pg_stmt order). */
#define PG_REL_SQL                                                                      \
    [PG_REL_VERSION_INSERT] = "INSERT INTO item_versions(row_id, item_uuid, version) "  \
                              "VALUES ($1::int8, $2::bytea, $3::int4)",                 \
    [PG_REL_HIDE] = "INSERT INTO item_hidden(row_id, why, time_ms, mac) "               \
                    "VALUES ($1::int8, $2::text, $3::int8, $4::bytea)",                 \
    [PG_REL_ADOPT] = "UPDATE release_requests SET state = 'adopted', closed_ms = $2::int8, " \
                     "new_row = $3::int8 WHERE id = $1::int8 AND state = 'open'",       \
    [PG_REL_HISTORY_INSERT] = "INSERT INTO release_history(request, seq, time_ms, "     \
                              "actor, event, detail) SELECT $1::int8, "                 \
                              "coalesce(max(seq), 0) + 1, $2::int8, $3::text, $4::text, " \
                              "$5::text FROM release_history WHERE request = $1::int8", \
    [PG_REL_INSERT] = "INSERT INTO release_requests(rid, item_uuid, item_row, "         \
                      "proposer, kind, label, marking_en, marking_fr, reason, "         \
                      "created_ms, deadline_ms) VALUES ($1::bytea, $2::bytea, $3::int8, " \
                      "$4::text, $5::text, $6::text, $7::text, $8::text, $9::text, "    \
                      "$10::int8, $11::int8) RETURNING id",                             \
    [PG_REL_AUTH_INSERT] = "INSERT INTO release_authorities(request, \"user\", "        \
                           "organisation, node, pos) VALUES ($1::int8, $2::text, "      \
                           "$3::text, $4::text, $5::int4)",                             \
    [PG_REL_STATE] = "SELECT state, deadline_ms, extended::int8, proposer FROM "        \
                     "release_requests WHERE id = $1::int8",                            \
    [PG_REL_ANSWER_GET] = "SELECT answer FROM release_authorities "                     \
                          "WHERE request = $1::int8 AND \"user\" = $2::text",           \
    [PG_REL_ANSWER_SET] = "UPDATE release_authorities SET answer = $3::text, "          \
                          "answered_ms = $4::int8, reason = $5::text "                  \
                          "WHERE request = $1::int8 AND \"user\" = $2::text",           \
    [PG_REL_SET_STATE] = "UPDATE release_requests SET state = $2::text, "               \
                         "closed_ms = $3::int8 WHERE id = $1::int8 AND state = 'open'", \
    [PG_REL_EXTEND] = "UPDATE release_requests SET deadline_ms = $2::int8, extended = 1 " \
                      "WHERE id = $1::int8",                                            \
    [PG_REL_GET] = PG_REL_COLS "WHERE rid = $1::bytea",                                 \
    [PG_REL_AUTHS] = "SELECT \"user\", organisation, node, answer, answered_ms, reason " \
                     "FROM release_authorities WHERE request = $1::int8 ORDER BY pos",  \
    [PG_REL_HISTORY] = "SELECT time_ms, actor, event, detail FROM release_history "     \
                       "WHERE request = $1::int8 ORDER BY seq",                         \
    [PG_REL_LIST] = PG_REL_COLS "WHERE ($1::text IS NULL OR proposer = $1::text OR id " \
                    "IN (SELECT request FROM release_authorities WHERE \"user\" = "     \
                    "$1::text)) AND ($2::text IS NULL OR state = $2::text) "            \
                    "ORDER BY id DESC",                                                 \
    /* Open, and past the deadline or concurred by every organisation. */            \
    [PG_REL_DUE] = PG_REL_COLS "WHERE state = 'open' AND (deadline_ms <= $1::int8 OR "  \
                   "NOT EXISTS (SELECT 1 FROM release_authorities a WHERE a.request = " \
                   "release_requests.id GROUP BY a.organisation HAVING "                \
                   "count(*) FILTER (WHERE a.answer = 'concur') = 0)) "                 \
                   "ORDER BY deadline_ms, id",                                          \
    [PG_REL_VERSIONS] = "SELECT i.id, 1::int8, h.why, h.time_ms, h.mac FROM items i "   \
                        "LEFT JOIN item_hidden h "                                      \
                        "ON h.row_id = i.id WHERE i.uuid = $1::bytea AND NOT EXISTS "   \
                        "(SELECT 1 FROM item_versions v WHERE v.row_id = i.id) "        \
                        "UNION ALL SELECT v.row_id, v.version::int8, h.why, h.time_ms, " \
                        "h.mac FROM "                                                   \
                        "item_versions v LEFT JOIN item_hidden h ON h.row_id = "        \
                        "v.row_id WHERE v.item_uuid = $1::bytea ORDER BY 2",            \
    [PG_REL_TOMBSTONE_INSERT] = "INSERT INTO item_tombstones(row_id, xml) "             \
                                "VALUES ($1::int8, $2::bytea)",                         \
    [PG_REL_TOMBSTONE_GET] = "SELECT xml FROM item_tombstones WHERE row_id = $1::int8"

struct pg_store;
/* Writer only, inside the open transaction: for a later version of an item
 * (item->ver.version > 1), link row `id` to the item, hide the row it
 * supersedes and adopt its request. */
lsn_err pg_rel_item_written(struct pg_store *s, int64_t id, const store_item *item,
                            int64_t now_ms, lsn_error *err);

/* The rows of item `item`, checked as one history (alarm.h,
 * store_versions_end): to cb (may be NULL) if *intact, else none. */
lsn_err pg_item_history(store *b, const uint8_t item[STORE_UUID_LEN],
                        int (*cb)(void *ctx, int64_t row, int version, const char *hidden),
                        void *ctx, int *intact, lsn_error *err) LSN_MUST_CHECK;

/* The back-end's table (store_ops.rel). */
extern const struct store_rel_ops pg_rel_ops;

#endif
