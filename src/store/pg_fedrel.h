/* store/pg_fedrel.h — the PostgreSQL back-end's release messages
 * (store_fedrel.h), as sqlite_fedrel.h is SQLite's: its schema (version
 * 12) and its statements' SQL (named in pg_conn.c's table by
 * PG_FEDREL_SQL). Not for use outside src/store. */
#ifndef STORE_PG_FEDREL_H
#define STORE_PG_FEDREL_H

struct store_fedrel_ops;
extern const struct store_fedrel_ops pg_fedrel_ops;

/* Version 12, SQLite's step 13. */
#define PG_FEDREL_SCHEMA                                                               \
    "CREATE TABLE fed_release_messages(\n"                                              \
    "  id bigserial PRIMARY KEY, peer text NOT NULL, outgoing boolean NOT NULL,\n"     \
    "  rid bytea NOT NULL CHECK (length(rid) = 16),\n"                                  \
    "  kind text NOT NULL CHECK (kind IN ('notice', 'concur', 'break', 'outcome')),\n"  \
    "  message text NOT NULL, time_ms bigint NOT NULL,\n"                               \
    "  done_ms bigint NOT NULL DEFAULT 0, result text,\n"                               \
    "  UNIQUE (peer, outgoing, rid, kind));\n"                                          \
    "CREATE INDEX fed_release_messages_waiting ON fed_release_messages(peer, outgoing, " \
    "done_ms);\n"

#define PG_FEDREL_SQL                                                                   \
    [PG_FEDREL_INSERT] = "INSERT INTO fed_release_messages(peer, outgoing, rid, kind, " \
                         "message, time_ms) VALUES ($1::text, $2::int8 = 1, $3::bytea, " \
                         "$4::text, $5::text, $6::int8) ON CONFLICT DO NOTHING",        \
    [PG_FEDREL_DONE] = "UPDATE fed_release_messages SET done_ms = $2::int8, "           \
                       "result = $3::text WHERE id = $1::int8",                         \
    [PG_FEDREL_LIST] = "SELECT id, peer, outgoing::int4::int8, rid, kind, message, time_ms, " \
                       "done_ms, result FROM fed_release_messages "                     \
                       "WHERE ($1::text IS NULL OR peer = $1::text) AND CASE $2::int8 " \
                       "WHEN 0 THEN NOT outgoing WHEN 1 THEN outgoing "                 \
                       "ELSE outgoing AND done_ms = 0 END "                             \
                       "AND ($3::bytea IS NULL OR rid = $3::bytea) ORDER BY id"

#endif
