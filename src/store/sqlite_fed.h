/* store/sqlite_fed.h — the SQLite back-end's federation part
 * (sqlite_fed.c): its schema step, its statements' SQL (named in the
 * statement table by SQ_FED_SQL) and the writer's hook that stores an
 * item's binding and outbox entries in the item's transaction. Not for use
 * outside src/store. */
#ifndef STORE_SQLITE_FED_H
#define STORE_SQLITE_FED_H

/* The statements, as entries of sqlite_conn.c's table (sq_stmt order). */
#define SQ_FED_SQL                                                                     \
    [SQ_FED_BINDING_INSERT] = "INSERT INTO item_bindings(item, xml) VALUES (?1,?2)",   \
    /* A binding made when first asked for: the first one stored stays. */             \
    [SQ_FED_BINDING_KEEP] = "INSERT OR IGNORE INTO item_bindings(item, xml) "          \
                            "SELECT id, ?2 FROM items WHERE id = ?1",                  \
    /* The next sequence of the peer's outbox: gapless, since only the writer     \
     * inserts and entries are never removed. */                                      \
    [SQ_FED_OUTBOX_INSERT] = "INSERT INTO outbox(peer, seq, item) "                    \
                             "SELECT ?1, coalesce(max(seq), 0) + 1, ?2 "               \
                             "FROM outbox WHERE peer = ?1",                            \
    [SQ_FED_PEER_INSERT] = "INSERT INTO peers(name, url, nation, certificate, "        \
                           "max_classification, via, created_ms, policy) "             \
                           "VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",                            \
    [SQ_FED_PEER_NOTE] = "UPDATE peers SET state = ?2, last_contact_ms = "            \
                         "CASE WHEN ?3 > 0 THEN ?3 ELSE last_contact_ms END, "         \
                         "last_error = ?4, last_acked = "                              \
                         "CASE WHEN ?5 >= 0 THEN ?5 ELSE last_acked END WHERE id = ?1", \
    [SQ_FED_PEER_RECEIVED] = "UPDATE peers SET received_seq = ?2 WHERE id = ?1",       \
    [SQ_FED_BINDING_GET] = "SELECT xml FROM item_bindings WHERE item = ?1",            \
    [SQ_FED_PEER_LIST] = "SELECT id, name, url, nation, certificate, "                 \
                         "max_classification, via, state, created_ms, "                \
                         "last_contact_ms, last_error, last_acked, "                   \
                         "(SELECT coalesce(max(seq), 0) FROM outbox "                  \
                         " WHERE outbox.peer = peers.id), received_seq, policy "               \
                         "FROM peers ORDER BY id",                                     \
    [SQ_FED_OUTBOX_LIST] = "SELECT seq, item FROM outbox WHERE peer = ?1 AND seq > ?2 " \
                           "ORDER BY seq LIMIT ?3"

struct sq_conn;
/* The schema step that adds bindings, peers and outboxes, run inside the
 * migration's transaction: it sets the schema version to `version` (its
 * number is sqlite_conn.c's SCHEMA_FED). */
lsn_err sq_schema_fed(struct sq_conn *c, int version, lsn_error *err);
/* The schema step of the transport: each peer's received_seq (the last of
 * its sequences made durable here). Sets the version to `version`. */
lsn_err sq_schema_fed_transport(struct sq_conn *c, int version, lsn_error *err);
/* The step of equivalent policies: each peer's policy (an OID; NULL: the
 * node's own). Sets the version to `version`. */
lsn_err sq_schema_fed_policy(struct sq_conn *c, int version, lsn_error *err);

struct sq_store;
/* Writer only, inside the open transaction: store the binding and the
 * outbox entries of `item`, just inserted as row `id`. */
lsn_err sq_fed_item_written(struct sq_store *s, int64_t id, const store_item *item,
                            lsn_error *err);

/* The back-end's table (store_ops.fed). */
extern const struct store_fed_ops sq_fed_ops;

#endif
