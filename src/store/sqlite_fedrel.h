/* store/sqlite_fedrel.h — the SQLite back-end's release messages
 * (store_fedrel.h): its schema step and its statements' SQL (named in
 * sqlite_conn.c's table by SQ_FEDREL_SQL). Not for use outside src/store. */
#ifndef STORE_SQLITE_FEDREL_H
#define STORE_SQLITE_FEDREL_H

#include "liaison/error.h"

struct sq_conn;
struct store_fedrel_ops;
lsn_err sq_schema_fedrel(struct sq_conn *c, int version, lsn_error *err);
extern const struct store_fedrel_ops sq_fedrel_ops;

#define SQ_FEDREL_SQL                                                                   \
    [SQ_FEDREL_INSERT] = "INSERT OR IGNORE INTO fed_release_messages(peer, outgoing, "  \
                         "rid, kind, message, time_ms) VALUES (?1,?2,?3,?4,?5,?6)",     \
    [SQ_FEDREL_DONE] = "UPDATE fed_release_messages SET done_ms = ?2, result = ?3 "     \
                       "WHERE id = ?1",                                                 \
    [SQ_FEDREL_LIST] = "SELECT id, peer, outgoing, rid, kind, message, time_ms, "       \
                       "done_ms, result FROM fed_release_messages "                     \
                       "WHERE (?1 IS NULL OR peer = ?1) AND CASE ?2 "                   \
                       "WHEN 0 THEN outgoing = 0 WHEN 1 THEN outgoing = 1 "             \
                       "ELSE outgoing = 1 AND done_ms = 0 END "                          \
                       "AND (?3 IS NULL OR rid = ?3) ORDER BY id"

#endif
