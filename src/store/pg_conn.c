/* store/pg_conn.c — PostgreSQL connections for the store: session settings,
 * the schema and its version, the statement table, running a prepared
 * statement, reading columns of binary results, the reader pool and the one
 * read loop of the back-end.
 *
 * Durability: every session runs with synchronous_commit = on, so a COMMIT
 * returns only once its WAL record is flushed on the server; the writer
 * acknowledges a post only after its COMMIT returned (docs/STORE.md). */
#include "store/pg_internal.h"
#include "store/pg_rel.h"
#include "store/pg_fedrel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

/* An item's columns, in the order pg_row_item_raw reads them (the same as
 * SQLite's): its own and its class's, the attachment's bytes (10) or only
 * their size (13), its public id and class, its seal (16-18, in its own
 * row since version 13: no join), then the
 * attachment's file name (19, version 7), which the seal covers too. */
#define ITEM_COLS_HEAD                                                             \
    "i.id, i.channel, i.author, i.organisation, c.label, c.marking_en, "           \
    "c.marking_fr, c.classification::int8, "
#define ITEM_COLS_TAIL "i.created_ms, i.content_hash, "
#define ITEM_COLS_SEAL ", i.uuid, i.class, i.body_digest, i.attachment_digest, i.mac, " \
                       "i.attachment_name, ver.item_uuid, ver.version::int8, " LATER_COL
/* ... then (PG_LATER_COL, 22) whether the row is superseded — a later
 * version of its item exists — and yet not hidden: only a hidden mark
 * removed behind the store's back makes one (row_item withholds it). */
#define LATER_COL                                                                  \
    "(EXISTS (SELECT 1 FROM item_versions nv WHERE nv.item_uuid = "                \
    "coalesce(ver.item_uuid, i.uuid) AND nv.version > coalesce(ver.version, 1)) "  \
    "AND NOT EXISTS (SELECT 1 FROM item_hidden nh WHERE nh.row_id = i.id))::int4::int8"
#define ITEM_COLS ITEM_COLS_HEAD "i.body, i.media_type, i.attachment, " ITEM_COLS_TAIL \
                  "NULL::int8" ITEM_COLS_SEAL
#define ITEM_LIST_COLS ITEM_COLS_HEAD "i.body, i.media_type, NULL::bytea, " ITEM_COLS_TAIL \
                       "octet_length(i.attachment)::int8" ITEM_COLS_SEAL
#define ITEM_FROM " FROM items i JOIN label_classes c ON c.id = i.class " VER_JOIN
/* ... then, as columns 20-21 (PG_VER_COL), the item's public id and version
 * when the row is a later version of an item (pg_rel.c; NULL for a first
 * version). */
#define VER_JOIN "LEFT JOIN item_versions ver ON ver.row_id = i.id "
/* Rows a read serves: those not hidden (superseded by a later version, or
 * withdrawn: store_rel.h). `t` names the items row. */
#define NOT_HIDDEN(t) "NOT EXISTS (SELECT 1 FROM item_hidden h WHERE h.row_id = " t ".id)"
#define USER_COLS "SELECT u.id, u.name, u.organisation, u.clearance, u.roles, u.token_hash, " \
                  "u.password_hash, u.status::int8, u.cert_fingerprint, u.cert_subject, " \
                  "u.cert_issuer "
/* The search of a reader of every class (or of every class decided so
 * far): in id order, restricted to a channel by the token the writer put
 * in each item's tsvector with a weight of its own (B: channel), so that a
 * word of a body never stands for one. Every row it reads is visible to
 * that reader but those of classes added since its decision. */
#define SEARCH_HEAD "SELECT " ITEM_LIST_COLS ITEM_FROM \
                    "WHERE i.tsv @@ (plainto_tsquery('simple', $1::text)"
#define SEARCH_TAIL " AND i.id > $3::int8 AND i.class <= $4::int8 AND " NOT_HIDDEN("i") \
                    " ORDER BY i.id LIMIT $5::int8"
/* The search of a reader of a list of classes, driven from those classes
 * as the listing is (MERGED below): per visible class, its next matches
 * by the (class, id) index, merged by id. Only rows of the reader's
 * classes are read, so that the time of an answer does not grow with the
 * invisible items that match (docs/STORE.md, "Search on PostgreSQL").
 * The plan is held to that by the query's form, not left to the planner's
 * estimates: the cursor is a row comparison on (class, id) and the class
 * is bounded above, so only (class, id) indexes can seek to it (the
 * primary key, walked in id order from the cursor, read every class's rows
 * between two visible matches: 49,451 rows for 50 at 1M); the order is
 * (class, id), which no other index gives without a sort of the rest of
 * the table; and the words are tested by ts_match_vq, the function behind
 * @@, which no index serves (the word's GIN posting list holds every
 * class's items). */
#define SEARCH_MERGED(where)                                                         \
    "SELECT " ITEM_LIST_COLS " FROM (SELECT x.id FROM "                                \
    "(SELECT plainto_tsquery('simple', $4::text) AS q) w "                            \
    "CROSS JOIN unnest($2::int8[]) AS v(cls) "                                        \
    "CROSS JOIN LATERAL (SELECT id FROM items WHERE " where " (class, id) > "         \
    "(v.cls, $3::int8) AND class <= v.cls AND ts_match_vq(tsv, w.q) AND "             \
    NOT_HIDDEN("items") " ORDER BY class, id LIMIT $5::int8) x "                      \
    "ORDER BY x.id LIMIT $5::int8) ids "                                              \
    "JOIN items i ON i.id = ids.id JOIN label_classes c ON c.id = i.class "          \
    VER_JOIN "ORDER BY i.id"
/* One visible class's next ids, by the (channel, class, id) or (class, id)
 * index, merged: a seek and at most a page per class, whatever the items
 * of other classes. */
#define MERGED(where)                                                              \
    "SELECT " ITEM_LIST_COLS " FROM (SELECT x.id FROM unnest($2::int8[]) AS v(cls) " \
    "CROSS JOIN LATERAL (SELECT id FROM items WHERE " where " class = v.cls "        \
    "AND id > $3::int8 AND " NOT_HIDDEN("items") " ORDER BY id LIMIT $4::int8) x "  \
    "ORDER BY x.id LIMIT $4::int8) ids "                                             \
    "JOIN items i ON i.id = ids.id JOIN label_classes c ON c.id = i.class "          \
    VER_JOIN "ORDER BY i.id"

static const char *const sql[PG_NSTMT] = {
    [PG_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [PG_ITEM_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM items",
    /* Only the first 256 KiB of a body are indexed: a tsvector holds at
     * most 1 MiB, and a post must not be refused for its size below the
     * store's own limit. The channel's token (hCHANNEL, weight B) serves
     * the search of a reader of every class. Rows written by earlier code
     * also hold class tokens (kCLASS, kCLASShCHANNEL, weight A), which no
     * search reads since a reader's classes are read by their index
     * (SEARCH_MERGED): two GIN entries an item less to write. */
    [PG_ITEM_INSERT] =
        "INSERT INTO items(id, uuid, channel, class, author, organisation, body, "
        "media_type, attachment, created_ms, content_hash, attachment_name, body_digest, "
        "attachment_digest, mac, tsv) "
        "SELECT $1::int8, $2::bytea, ch.name, $4::int8, $5::text, $6::text, $7::text, "
        "$8::text, $9::bytea, $10::int8, $11::bytea, $12::text, $13::bytea, $14::bytea, "
        "$15::bytea, "
        "to_tsvector('simple', left($7::text, 262144)) || "
        "setweight(format('h%s:1', ch.id)::tsvector, 'B') "
        "FROM channels ch WHERE ch.name = $3::text",
    [PG_AUDIT_INSERT] = "INSERT INTO audit(seq, time_ms, actor, action, object, outcome, "
                        "detail, hash) VALUES ($1::int8, $2::int8, $3::text, $4::text, "
                        "$5::text, $6::text, $7::text, $8::bytea)",
    /* Classes are found by the SHA-256 of their label (a label may be
     * longer than a B-tree entry can hold) and numbered after the highest
     * under the write lock, so that their ids have no gaps (a sequence
     * would lose one to each rolled-back group). */
    [PG_CLASS_INSERT] = "INSERT INTO label_classes(id, label_hash, label, marking_en, "
                        "marking_fr, classification) SELECT coalesce(max(id), 0) + 1, "
                        "$1::bytea, $2::text, $3::text, $4::text, $5::int4 FROM label_classes "
                        "RETURNING id, marking_en, marking_fr, classification::int8",
    [PG_CLASS_ID] = "SELECT id, marking_en, marking_fr, classification::int8 "
                    "FROM label_classes WHERE label_hash = $1::bytea AND label = $2::text",
    [PG_ORG_INSERT] = "INSERT INTO organisations(name, category) VALUES ($1::text, $2::text) "
                      "RETURNING id",
    [PG_USER_INSERT] = "INSERT INTO users(name, organisation, clearance, roles, token_hash, "
                       "password_hash) VALUES ($1::text, $2::text, $3::text, $4::int8, "
                       "$5::bytea, $6::text) RETURNING id",
    /* One statement for every change of an account: NULL leaves a column. */
    [PG_USER_UPDATE] =
        "UPDATE users SET password_hash = CASE WHEN $2::text IS NULL THEN password_hash "
        "WHEN $2::text = '' THEN NULL ELSE $2::text END, status = coalesce($3::int4, status), "
        "clearance = coalesce($4::text, clearance), roles = coalesce($5::int8, roles), "
        "token_hash = coalesce($6::bytea, token_hash), cert_fingerprint = CASE WHEN "
        "$7::int4 = 1 THEN NULL ELSE coalesce($8::bytea, cert_fingerprint) END, "
        "cert_subject = CASE WHEN $7::int4 = 1 THEN NULL ELSE coalesce($9::text, cert_subject) "
        "END, cert_issuer = CASE WHEN $7::int4 = 1 THEN NULL ELSE coalesce($10::bytea, "
        "cert_issuer) END WHERE name = $1::text",
    [PG_CHANNEL_INSERT] = "INSERT INTO channels(name, purpose, local) VALUES ($1::text, $2::text, $3::int8 <> 0) "
                          "RETURNING id",
    [PG_TOKEN_INSERT] = "INSERT INTO tokens(hash, \"user\", name, created_ms, expires_ms) "
                        "VALUES ($1::bytea, $2::text, $3::text, $4::int8, $5::int8)",
    [PG_TOKEN_DELETE] = "DELETE FROM tokens WHERE \"user\" = $1::text AND name = $2::text",
    [PG_FED_BINDING_INSERT] = "INSERT INTO item_bindings(item, xml) VALUES ($1::int8, $2::bytea)",
    /* A binding made when first asked for: the first one stored stays. */
    [PG_FED_BINDING_KEEP] = "INSERT INTO item_bindings(item, xml) SELECT id, $2::bytea "
                            "FROM items WHERE id = $1::int8 ON CONFLICT (item) DO NOTHING",
    /* The next sequence of the peer's outbox: gapless, since only writers
     * insert, under the write lock, and entries are never removed. */
    [PG_FED_OUTBOX_INSERT] = "INSERT INTO outbox(peer, seq, item) SELECT $1::int8, "
                             "coalesce(max(seq), 0) + 1, $2::int8 FROM outbox "
                             "WHERE peer = $1::int8",
    [PG_FED_PEER_INSERT] = "INSERT INTO peers(name, url, nation, certificate, "
                           "max_classification, via, created_ms, policy) VALUES ($1::text, "
                           "$2::text, $3::text, $4::text, $5::text, $6::text, $7::int8, "
                           "$8::text) RETURNING id",
    /* The transport's notes of a peer (its state after an exchange), and
     * the last of its sequences made durable here (with its batch). */
    [PG_FED_PEER_NOTE] = "UPDATE peers SET state = $2::text, last_contact_ms = "
                         "CASE WHEN $3::int8 > 0 THEN $3::int8 ELSE last_contact_ms END, "
                         "last_error = $4::text, last_acked = "
                         "CASE WHEN $5::int8 >= 0 THEN $5::int8 ELSE last_acked END "
                         "WHERE id = $1::int8 RETURNING id",
    [PG_FED_PEER_RECEIVED] = "UPDATE peers SET received_seq = $2::int8 WHERE id = $1::int8 "
                             "RETURNING id",

    [PG_ORG_GET] = "SELECT id, name, category FROM organisations WHERE name = $1::text",
    [PG_ORG_LIST] = "SELECT id, name, category FROM organisations ORDER BY id",
    [PG_USER_GET] = USER_COLS "FROM users u WHERE u.name = $1::text",
    /* A user's own token, or one of their named tokens not expired ($2:
     * now in ms). */
    [PG_USER_BY_TOKEN] = "(" USER_COLS "FROM users u WHERE u.token_hash = $1::bytea) "
                         "UNION ALL (" USER_COLS "FROM tokens t JOIN users u ON "
                         "u.name = t.\"user\" WHERE t.hash = $1::bytea AND "
                         "(t.expires_ms IS NULL OR t.expires_ms > $2::int8)) LIMIT 1",
    [PG_USER_LIST] = USER_COLS "FROM users u ORDER BY u.id",
    [PG_TOKEN_LIST] = "SELECT \"user\", name, created_ms, coalesce(expires_ms, 0), hash "
                      "FROM tokens "
                      "WHERE \"user\" = $1::text ORDER BY name",
    [PG_USER_BY_CERT] = USER_COLS "FROM users u WHERE u.cert_fingerprint = $1::bytea",
    [PG_USER_BY_CERT_SUBJECT] = USER_COLS "FROM users u WHERE u.cert_subject = $1::text "
                                "AND u.cert_issuer = $2::bytea",
    [PG_CHANNEL_GET] = "SELECT id, name, purpose, local::int4::int8 FROM channels WHERE name = $1::text",
    [PG_CHANNEL_LIST] = "SELECT id, name, purpose, local::int4::int8 FROM channels ORDER BY id",
    [PG_ITEM_GET] = "SELECT " ITEM_COLS ITEM_FROM "WHERE i.id = $1::int8",
    /* The row without body and attachment: its seal is checked at a cost
     * that does not depend on the body's size. */
    [PG_ITEM_LABEL] = "SELECT " ITEM_COLS_HEAD "NULL::text, i.media_type, NULL::bytea, "
                      ITEM_COLS_TAIL "octet_length(i.attachment)::int8" ITEM_COLS_SEAL
                      ITEM_FROM "WHERE i.id = $1::int8",
    /* The item's current row: its first, or the version linked to it, not
     * hidden (a later version's own uuid is never given out); and whether
     * it has later versions (then its history is checked: pg_item_find). */
    [PG_ITEM_FIND] = "SELECT i.id, i.class, (EXISTS (SELECT 1 FROM item_versions w WHERE "
                     "w.item_uuid = $1::bytea))::int4::int8 FROM items i WHERE "
                     "i.uuid = $1::bytea AND "
                     NOT_HIDDEN("i") " AND NOT EXISTS (SELECT 1 FROM item_versions v "
                     "WHERE v.row_id = i.id) UNION ALL SELECT i.id, i.class, 1::int8 FROM "
                     "item_versions v JOIN items i ON i.id = v.row_id WHERE "
                     "v.item_uuid = $1::bytea AND " NOT_HIDDEN("i") " LIMIT 1",
    [PG_ITEM_LIST] = "SELECT " ITEM_LIST_COLS ITEM_FROM "WHERE i.channel = $1::text AND "
                     "i.id > $2::int8 AND i.class <= $3::int8 AND " NOT_HIDDEN("i")
                     " ORDER BY i.id LIMIT $4::int8",
    [PG_ITEM_LIST_ALL] = "SELECT " ITEM_LIST_COLS ITEM_FROM "WHERE i.id > $1::int8 AND "
                         "i.class <= $2::int8 AND " NOT_HIDDEN("i")
                         " ORDER BY i.id LIMIT $3::int8",
    [PG_ITEM_LIST_CC] = MERGED("channel = $1::text AND"),
    [PG_ITEM_LIST_C] = MERGED("$1::text IS NULL AND"),
    [PG_ITEM_SEARCH] = SEARCH_HEAD ") AND $2::text IS NULL" SEARCH_TAIL,
    [PG_ITEM_SEARCH_IN] = SEARCH_HEAD " && to_tsquery('simple', $2::text))" SEARCH_TAIL,
    [PG_ITEM_SEARCH_CC] = SEARCH_MERGED("channel = $1::text AND"),
    [PG_ITEM_SEARCH_C] = SEARCH_MERGED("$1::text IS NULL AND"),
    [PG_ITEM_LAST] = "SELECT coalesce(max(id), 0) FROM items",
    [PG_CLASS_LIST] = "SELECT id, label, marking_en, marking_fr, classification::int8 "
                      "FROM label_classes WHERE id > $1::int8 ORDER BY id",
    [PG_CLASS_LAST] = "SELECT coalesce(max(id), 0) FROM label_classes",
    [PG_AUDIT_LIST] = "SELECT seq, time_ms, actor, action, object, outcome, detail, hash "
                      "FROM audit WHERE seq > $1::int8 ORDER BY seq LIMIT $2::int8",
    [PG_AUDIT_HASH_AT] = "SELECT hash FROM audit WHERE seq = $1::int8",
    /* Where the seals are: a table of their own (versions 6-11), the items'
     * rows (12 on), or nowhere yet (a new database). */
    [PG_SEALS_WHERE] = "SELECT (to_regclass('item_seals') IS NOT NULL)::int4::int8, "
                       "(EXISTS (SELECT 1 FROM information_schema.columns WHERE "
                       "table_schema = current_schema() AND table_name = 'items' AND "
                       "column_name = 'mac'))::int4::int8",
    [PG_HAS_SEALS_TABLE] = "SELECT (EXISTS (SELECT 1 FROM item_seals))::int4::int8",
    [PG_HAS_SEALS_ROW] = "SELECT (EXISTS (SELECT 1 FROM items WHERE mac IS NOT NULL))::int4::int8",
    /* Every later version with its seal (the upgrade to version 13). */
    [PG_ITEM_VERSIONED] = "SELECT " ITEM_COLS ITEM_FROM "WHERE ver.row_id IS NOT NULL "
                          "ORDER BY i.id",
    [PG_ITEM_RESEAL] = "UPDATE items SET mac = $2::bytea WHERE id = $1::int8",
    [PG_HIDDEN_ALL] = "SELECT row_id, why, time_ms FROM item_hidden ORDER BY row_id",
    [PG_HIDDEN_SEAL] = "UPDATE item_hidden SET mac = $2::bytea WHERE row_id = $1::int8",
    [PG_FED_BINDING_GET] = "SELECT xml FROM item_bindings WHERE item = $1::int8",
    [PG_FED_PEER_LIST] = "SELECT p.id, p.name, p.url, p.nation, p.certificate, "
                         "p.max_classification, p.via, p.state, p.created_ms, "
                         "p.last_contact_ms, p.last_error, p.last_acked, "
                         "(SELECT coalesce(max(seq), 0) FROM outbox o WHERE o.peer = p.id), "
                         "p.received_seq, p.policy FROM peers p ORDER BY p.id",
    [PG_FED_OUTBOX_LIST] = "SELECT seq, item FROM outbox WHERE peer = $1::int8 AND "
                           "seq > $2::int8 ORDER BY seq LIMIT $3::int8",
    PG_REL_SQL,
    PG_FEDREL_SQL,
};

/* ---- the schema ------------------------------------------------------------ */

/* Version 6, the same content as SQLite's six steps (docs/STORE.md,
 * "Schema"), made at once: a PostgreSQL store starts at version 6. Items,
 * classes, seals, bindings, outboxes and the audit log are append-only
 * (a trigger refuses UPDATE and DELETE). store_lock is the one row every
 * writer locks (pg_writer.c). */
static const char schema_v6[] =
    "CREATE TABLE liaison_schema(version integer NOT NULL);\n"
    "CREATE TABLE store_lock(one integer PRIMARY KEY CHECK (one = 1));\n"
    "INSERT INTO store_lock VALUES (1);\n"
    "CREATE FUNCTION liaison_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "  BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;\n"
    "CREATE TABLE organisations(\n"
    "  id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, category text NOT NULL);\n"
    "CREATE TABLE users(\n"
    "  id bigserial PRIMARY KEY, name text NOT NULL UNIQUE,\n"
    "  organisation text NOT NULL REFERENCES organisations(name),\n"
    "  clearance text NOT NULL, roles bigint NOT NULL,\n"
    "  token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),\n"
    "  password_hash text, status integer NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),\n"
    "  cert_fingerprint bytea CHECK (cert_fingerprint IS NULL OR length(cert_fingerprint) = 32));\n"
    "CREATE UNIQUE INDEX users_by_cert ON users(cert_fingerprint)\n"
    "  WHERE cert_fingerprint IS NOT NULL;\n"
    "CREATE TABLE tokens(\n"
    "  hash bytea PRIMARY KEY CHECK (length(hash) = 32),\n"
    "  \"user\" text NOT NULL REFERENCES users(name), name text NOT NULL,\n"
    "  created_ms bigint NOT NULL, expires_ms bigint, UNIQUE (\"user\", name));\n"
    "CREATE TABLE channels(\n"
    "  id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, purpose text NOT NULL);\n"
    "CREATE TABLE label_classes(\n"
    "  id bigint PRIMARY KEY, label_hash bytea NOT NULL UNIQUE,\n"
    "  label text NOT NULL, marking_en text NOT NULL, marking_fr text NOT NULL,\n"
    "  classification integer);\n"
    "CREATE TABLE items(\n"
    "  id bigint PRIMARY KEY,\n"
    "  uuid bytea NOT NULL UNIQUE CHECK (length(uuid) = 16),\n"
    "  channel text NOT NULL REFERENCES channels(name),\n"
    "  class bigint NOT NULL REFERENCES label_classes(id),\n"
    "  author text NOT NULL, organisation text NOT NULL, body text NOT NULL,\n"
    "  media_type text, attachment bytea, created_ms bigint NOT NULL,\n"
    "  content_hash bytea NOT NULL CHECK (length(content_hash) = 32),\n"
    "  tsv tsvector NOT NULL);\n"
    "CREATE INDEX items_by_channel_class ON items(channel, class, id);\n"
    "CREATE INDEX items_by_channel ON items(channel, id);\n"
    "CREATE INDEX items_by_class ON items(class, id);\n"
    "CREATE INDEX items_text ON items USING gin(tsv);\n"
    "CREATE TABLE item_seals(\n"
    "  item_id bigint PRIMARY KEY,\n"
    "  body_digest bytea NOT NULL CHECK (length(body_digest) = 32),\n"
    "  attachment_digest bytea NOT NULL CHECK (length(attachment_digest) = 32),\n"
    "  mac bytea NOT NULL CHECK (length(mac) = 32));\n"
    "CREATE TABLE audit(\n"
    "  seq bigint PRIMARY KEY, time_ms bigint NOT NULL, actor text NOT NULL,\n"
    "  action text NOT NULL, object text NOT NULL, outcome text NOT NULL,\n"
    "  detail text NOT NULL, hash bytea NOT NULL CHECK (length(hash) = 32));\n"
    "CREATE TABLE item_bindings(\n"
    "  item bigint PRIMARY KEY REFERENCES items(id), xml bytea NOT NULL);\n"
    "CREATE TABLE peers(\n"
    "  id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, url text NOT NULL,\n"
    "  nation text NOT NULL, certificate text NOT NULL, max_classification text,\n"
    "  via text REFERENCES peers(name), state text NOT NULL DEFAULT 'new',\n"
    "  created_ms bigint NOT NULL, last_contact_ms bigint NOT NULL DEFAULT 0,\n"
    "  last_error text, last_acked bigint NOT NULL DEFAULT 0);\n"
    "CREATE TABLE outbox(\n"
    "  peer bigint NOT NULL REFERENCES peers(id), seq bigint NOT NULL,\n"
    "  item bigint NOT NULL REFERENCES items(id), PRIMARY KEY (peer, seq));\n"
    "CREATE TRIGGER items_append_only BEFORE UPDATE OR DELETE ON items\n"
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"
    "CREATE TRIGGER label_classes_append_only BEFORE UPDATE OR DELETE ON label_classes\n"
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"
    "CREATE TRIGGER item_seals_append_only BEFORE UPDATE OR DELETE ON item_seals\n"
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit\n"
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"
    "CREATE TRIGGER item_bindings_append_only BEFORE UPDATE OR DELETE ON item_bindings\n"
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"
    "CREATE TRIGGER outbox_append_only BEFORE UPDATE ON outbox\n"
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"
    "INSERT INTO liaison_schema VALUES (6);\n";

/* Version 7, SQLite's step 7 (people, issue 11, second part): an
 * attachment's file name; users bound to client certificates by subject
 * and issuing CA (one user per pair). */
static const char schema_v6_to_v7[] =
    "ALTER TABLE items ADD COLUMN attachment_name text;\n"
    "ALTER TABLE users ADD COLUMN cert_subject text;\n"
    "ALTER TABLE users ADD COLUMN cert_issuer bytea\n"
    "  CHECK (cert_issuer IS NULL OR length(cert_issuer) = 32);\n"
    "CREATE UNIQUE INDEX users_by_cert_subject ON users(cert_subject, cert_issuer)\n"
    "  WHERE cert_subject IS NOT NULL;\n"
    "UPDATE liaison_schema SET version = 7;\n";

/* Version 8, SQLite's step 8 (release requests, issue 13): item versions,
 * hidden rows, release requests with their authorities and history
 * (pg_rel.c). SQLite's step 9 (a per-class full-text index) has no
 * counterpart: a search of a reader's classes reads them by their
 * (class, id) index (SEARCH_MERGED), with the same results. */
static const char schema_v7_to_v8[] = PG_REL_SCHEMA "UPDATE liaison_schema SET version = 8;\n";

/* Version 9, SQLite's step 10 (the federation transport, issue 10): the
 * last of each peer's sequences made durable here. */
static const char schema_v8_to_v9[] =
    "ALTER TABLE peers ADD COLUMN received_seq bigint NOT NULL DEFAULT 0\n"
    "  CHECK (received_seq >= 0);\n"
    "UPDATE liaison_schema SET version = 9;\n";

/* Version 10, SQLite's step 11 (equivalent policies at the boundary):
 * the policy a peer's node decides under (an OID; NULL: the node's own). */
static const char schema_v9_to_v10[] =
    "ALTER TABLE peers ADD COLUMN policy text;\n"
    "UPDATE liaison_schema SET version = 10;\n";

/* Version 11, SQLite's step 12 (issue 10): a channel kept local. */
static const char schema_v10_to_v11[] =
    "ALTER TABLE channels ADD COLUMN local boolean NOT NULL DEFAULT false;\n"
    "UPDATE liaison_schema SET version = 11;\n";

/* Version 12, SQLite's step 13 (issues 10 and 13): a withdrawal's signed
 * tombstone, kept verbatim with the withdrawn row. */
static const char schema_v11_to_v12[] =
    "CREATE TABLE item_tombstones(\n"
    "  row_id bigint PRIMARY KEY REFERENCES items(id), xml bytea NOT NULL);\n"
    "CREATE TRIGGER item_tombstones_append_only BEFORE UPDATE OR DELETE ON item_tombstones\n"
    "  FOR EACH ROW EXECUTE FUNCTION liaison_append_only();\n"
    "UPDATE liaison_schema SET version = 12;\n";

/* Version 13, SQLite's step 14: the seal in the item's row (one INSERT an
 * item, no join on read), later versions' seals over their links, hidden
 * marks sealed (pg_seal.c, pg_seal_schema_row, between head and tail). */
static const char schema_v12_to_v13_head[] =
    "ALTER TABLE items ADD COLUMN body_digest bytea, ADD COLUMN attachment_digest bytea,\n"
    "  ADD COLUMN mac bytea;\n"
    "ALTER TABLE items DISABLE TRIGGER items_append_only;\n"
    "UPDATE items i SET body_digest = s.body_digest, attachment_digest = s.attachment_digest,\n"
    "  mac = s.mac FROM item_seals s WHERE s.item_id = i.id;\n"
    "ALTER TABLE item_hidden ADD COLUMN mac bytea;\n"
    "ALTER TABLE item_hidden DISABLE TRIGGER item_hidden_append_only;\n";
static const char schema_v12_to_v13_tail[] =
    "ALTER TABLE items ENABLE TRIGGER items_append_only;\n"
    "ALTER TABLE item_hidden ENABLE TRIGGER item_hidden_append_only;\n"
    "DROP TABLE item_seals;\n"
    "UPDATE liaison_schema SET version = 13;\n";

/* Version 14, SQLite's step 15 (issue 13): the signed release messages
 * exchanged with peers (pg_fedrel.c). */
static const char schema_v13_to_v14[] = PG_FEDREL_SCHEMA "UPDATE liaison_schema SET version = 14;\n";

#define SCHEMA_VERSION 14

/* ---- errors ------------------------------------------------------------------ */

lsn_err pg_fail(pg_conn *c, const PGresult *res, lsn_error *err, const char *doing)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = c && c->db ? PQerrorMessage(c->db) : "no connection";
    char m[512];
    snprintf(m, sizeof m, "%s", msg);
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        m[--n] = '\0';
    for (char *ch = m; *ch; ch++) /* one line: libpq's messages have several */
        if (*ch == '\n' || *ch == '\t')
            *ch = ' ';
    if (state && strcmp(state, "23505") == 0)
        return core_fail(err, LSN_ERR_DUPLICATE, "%s: already present (%s)", doing, m);
    if (state && strcmp(state, "23503") == 0)
        return core_fail(err, LSN_ERR_ARG, "%s: it names an unknown channel or organisation",
                         doing);
    if (state && (strncmp(state, "23", 2) == 0 || strcmp(state, "22021") == 0 ||
                  strcmp(state, "22P02") == 0))
        return core_fail(err, LSN_ERR_ARG, "%s: %s", doing, m);
    if (state && (strcmp(state, "54000") == 0 || strcmp(state, "22001") == 0))
        return core_fail(err, LSN_ERR_LIMIT, "%s: %s", doing, m);
    if (state && strcmp(state, "53200") == 0)
        return core_fail(err, LSN_ERR_NOMEM, "%s: %s", doing, m);
    return core_fail(err, LSN_ERR_IO, "%s: %s", doing, m);
}

/* ---- connections ------------------------------------------------------------ */

lsn_err pg_exec(pg_conn *c, const char *q, const char *doing, lsn_error *err)
{
    PGresult *r = PQexec(c->db, q);
    lsn_err e = LSN_OK;
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        e = r ? pg_fail(c, r, err, doing)
              : core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", doing);
    PQclear(r);
    return e;
}

/* libpq writes notices (a text-search query without words, say) to stderr
 * by default: the store has nothing to tell there. */
static void quiet(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

lsn_err pg_conn_open(pg_conn *c, const char *conninfo, lsn_error *err)
{
    memset(c, 0, sizeof *c);
    c->db = PQconnectdb(conninfo);
    if (!c->db)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory connecting to PostgreSQL");
    if (PQstatus(c->db) != CONNECTION_OK) {
        lsn_err e = pg_fail(c, NULL, err, "connecting to PostgreSQL");
        pg_conn_close(c);
        return e;
    }
    PQsetNoticeReceiver(c->db, quiet, NULL);
    /* Durable before acknowledged, whatever the server's default; UTF-8
     * both ways; no statement left waiting on a lock for ever. */
    lsn_err e = pg_exec(c, "SET synchronous_commit = on; SET client_encoding = 'UTF8'; "
                           "SET lock_timeout = '60s'; SET search_path = public",
                        "setting up the PostgreSQL session", err);
    if (e)
        pg_conn_close(c);
    return e;
}

void pg_conn_close(pg_conn *c)
{
    PQfinish(c->db);
    c->db = NULL;
    memset(c->prepared, 0, sizeof c->prepared);
}

/* Prepare `which` on c (once per connection), named "sN". */
static lsn_err prepare(pg_conn *c, pg_stmt which, char name[16], const char *doing,
                       lsn_error *err)
{
    snprintf(name, 16, "s%d", (int)which);
    if (c->prepared[which])
        return LSN_OK;
    PGresult *p = PQprepare(c->db, name, sql[which], 0, NULL);
    if (!p || PQresultStatus(p) != PGRES_COMMAND_OK) {
        lsn_err e = pg_fail(c, p, err, doing);
        PQclear(p);
        return e;
    }
    PQclear(p);
    c->prepared[which] = 1;
    return LSN_OK;
}

/* A statement's parameters as libpq takes them: integers as text (in
 * nums), bytes in binary, NULL as NULL. */
typedef struct params {
    const char *values[PG_ARGS_MAX];
    int lengths[PG_ARGS_MAX], formats[PG_ARGS_MAX];
    char nums[PG_ARGS_MAX][24];
} params;

static void set_params(params *p, const pg_arg *args, int n)
{
    if (n > PG_ARGS_MAX)
        core_misuse("store: too many parameters");
    for (int i = 0; i < n; i++) {
        p->lengths[i] = 0;
        p->formats[i] = 0;
        switch (args[i].kind) {
        case PG_A_NULL: p->values[i] = NULL; break;
        case PG_A_TEXT: p->values[i] = args[i].text; break;
        case PG_A_INT:
            snprintf(p->nums[i], sizeof p->nums[i], "%lld", (long long)args[i].num);
            p->values[i] = p->nums[i];
            break;
        case PG_A_BYTES:
            /* Binary: the bytes as they are (an empty value is not NULL). */
            p->values[i] = args[i].bytes ? (const char *)args[i].bytes : "";
            p->lengths[i] = (int)args[i].len;
            p->formats[i] = 1;
            break;
        }
    }
}

lsn_err pg_run(pg_conn *c, pg_stmt which, const pg_arg *args, int n, PGresult **res,
               const char *doing, lsn_error *err)
{
    *res = NULL;
    char name[16];
    lsn_err e = prepare(c, which, name, doing, err);
    if (e)
        return e;
    params p;
    set_params(&p, args, n);
    PGresult *r = PQexecPrepared(c->db, name, n, p.values, p.lengths, p.formats, 1);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        e = r ? pg_fail(c, r, err, doing)
              : core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", doing);
        PQclear(r);
        return e;
    }
    *res = r;
    return LSN_OK;
}

lsn_err pg_pipeline(pg_conn *c, const pg_pipe_stmt *q, int n, lsn_error *err)
{
    char name[16];
    lsn_err e;
    for (int i = 0; i < n; i++) /* prepared first: outside the pipeline */
        if ((e = prepare(c, q[i].which, name, q[i].doing, err)))
            return e;
    if (!PQenterPipelineMode(c->db))
        return pg_fail(c, NULL, err, "entering pipeline mode");
    int sent = 0;
    e = LSN_OK;
    for (; sent < n; sent++) {
        params p;
        set_params(&p, q[sent].args, q[sent].n);
        snprintf(name, sizeof name, "s%d", (int)q[sent].which);
        if (!PQsendQueryPrepared(c->db, name, q[sent].n, p.values, p.lengths, p.formats, 1)) {
            e = pg_fail(c, NULL, err, q[sent].doing);
            break;
        }
    }
    if (!PQpipelineSync(c->db) && !e)
        e = pg_fail(c, NULL, err, "sending a pipeline");
    /* Every result, then the sync's: the first failure says why; those
     * after it were not run (PGRES_PIPELINE_ABORTED). */
    for (int i = 0; i < sent; i++) {
        PGresult *r = PQgetResult(c->db);
        if (!r) {
            if (!e)
                e = pg_fail(c, NULL, err, q[i].doing);
            break;
        }
        ExecStatusType st = PQresultStatus(r);
        if (!e && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            e = pg_fail(c, r, err, q[i].doing);
        else if (!e && q[i].rows >= 0 && strtol(PQcmdTuples(r), NULL, 10) != q[i].rows)
            e = core_fail(err, LSN_ERR_ARG, "%s: %s", q[i].doing, q[i].none);
        PQclear(r);
        PQclear(PQgetResult(c->db)); /* the NULL that ends each query's results */
    }
    for (PGresult *r; (r = PQgetResult(c->db));) { /* the sync */
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC)
            break;
    }
    if (!PQexitPipelineMode(c->db) && !e)
        e = pg_fail(c, NULL, err, "leaving pipeline mode");
    return e;
}

/* ---- columns of binary results ------------------------------------------------ */

int pg_col_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col);
}

const char *pg_col_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

const char *pg_col_text_or_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int64_t pg_col_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
    int n = PQgetlength(r, row, col);
    uint64_t v = 0;
    for (int i = 0; i < n && i < 8; i++)
        v = v << 8 | p[i];
    if (n == 4) /* int4: sign-extend */
        return (int64_t)(int32_t)(uint32_t)v;
    return (int64_t)v;
}

void pg_col_hash(const PGresult *r, int row, int col, uint8_t out[STORE_HASH_LEN])
{
    /* A value of another size (only a tampered row has one) reads as zeros
     * beyond its end, so that checks fail. */
    memset(out, 0, STORE_HASH_LEN);
    if (PQgetisnull(r, row, col))
        return;
    int n = PQgetlength(r, row, col);
    memcpy(out, PQgetvalue(r, row, col), n < STORE_HASH_LEN ? (size_t)n : STORE_HASH_LEN);
}

/* ---- the schema ---------------------------------------------------------------- */

lsn_err pg_schema_migrate(pg_conn *c, const seal_keys *k, lsn_error *err)
{
    /* Text compares byte for byte (the C collation) and is UTF-8, as with
     * SQLite: names sort and match the same on both back-ends, and what a
     * node stores comes back as it was given. */
    PGresult *r = PQexec(c->db, "SELECT pg_encoding_to_char(encoding), datcollate, datctype "
                                "FROM pg_database WHERE datname = current_database()");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        lsn_err e = pg_fail(c, r, err, "reading the database's encoding");
        PQclear(r);
        return e;
    }
    char enc[64], coll[64];
    snprintf(enc, sizeof enc, "%s", PQgetvalue(r, 0, 0));
    snprintf(coll, sizeof coll, "%s", PQgetvalue(r, 0, 1));
    int ctype_c = strcmp(PQgetvalue(r, 0, 2), "C") == 0 || strcmp(PQgetvalue(r, 0, 2), "POSIX") == 0;
    PQclear(r);
    if (strcmp(enc, "UTF8") != 0)
        return core_fail(err, LSN_ERR_ARG,
                         "the database's encoding is %s: liaison needs UTF8, so that every "
                         "label and body is kept as given (createdb -E UTF8 --locale=C "
                         "-T template0)", enc);
    if ((strcmp(coll, "C") != 0 && strcmp(coll, "POSIX") != 0) || !ctype_c)
        return core_fail(err, LSN_ERR_ARG,
                         "the database's collation is %s: liaison needs C, so that names "
                         "compare byte for byte as on every node (createdb -E UTF8 "
                         "--locale=C -T template0)", coll);
    /* Durable before acknowledged: a COMMIT that returned must be on
     * stable storage, which a server running without fsync does not do. */
    r = PQexec(c->db, "SELECT current_setting('fsync')");
    int nosync = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                 strcmp(PQgetvalue(r, 0, 0), "on") != 0;
    PQclear(r);
    if (nosync)
        return core_fail(err, LSN_ERR_ARG,
                         "the PostgreSQL server runs with fsync off: a post it acknowledged "
                         "could be lost in a crash (set fsync = on)");
    /* One migrator at a time: a lock of the transaction, so that two node
     * processes starting together do not both create the schema. */
    lsn_err e = pg_exec(c, "BEGIN; SELECT pg_advisory_xact_lock(7375911431)",
                        "locking the schema", err);
    if (e)
        return e;
    int v = -1;
    r = PQexec(c->db, "SELECT to_regclass('liaison_schema') IS NOT NULL");
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
            v = 0;
        } else {
            PQclear(r);
            r = PQexec(c->db, "SELECT max(version) FROM liaison_schema");
            if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
                v = atoi(PQgetvalue(r, 0, 0));
        }
    }
    if (v < 0)
        e = pg_fail(c, r, err, "reading the schema version");
    PQclear(r);
    if (!e && v > SCHEMA_VERSION)
        e = core_fail(err, LSN_ERR_IO,
                      "the store has schema version %d, newer than this program's %d", v,
                      SCHEMA_VERSION);
    if (!e && v < 1)
        e = pg_exec(c, schema_v6, "creating the schema", err);
    if (!e && v < 7)
        e = pg_exec(c, schema_v6_to_v7, "upgrading the schema to version 7", err);
    if (!e && v < 8)
        e = pg_exec(c, schema_v7_to_v8, "upgrading the schema to version 8", err);
    if (!e && v < 9)
        e = pg_exec(c, schema_v8_to_v9, "upgrading the schema to version 9", err);
    if (!e && v < 10)
        e = pg_exec(c, schema_v9_to_v10, "upgrading the schema to version 10", err);
    if (!e && v < 11)
        e = pg_exec(c, schema_v10_to_v11, "upgrading the schema to version 11", err);
    if (!e && v < 12)
        e = pg_exec(c, schema_v11_to_v12, "upgrading the schema to version 12", err);
    if (!e && v < 13 && !(e = pg_exec(c, schema_v12_to_v13_head,
                                      "upgrading the schema to version 13", err)) &&
        !(e = pg_seal_schema_row(c, k, err)))
        e = pg_exec(c, schema_v12_to_v13_tail, "upgrading the schema to version 13", err);
    if (!e && v < 14)
        e = pg_exec(c, schema_v13_to_v14, "upgrading the schema to version 14", err);
    /* Later versions: `if (!e && v < 15) e = pg_exec(c, schema_v14_to_v15, ...)`
     * ending with `UPDATE liaison_schema SET version = 15`. */
    if (e) {
        PQclear(PQexec(c->db, "ROLLBACK"));
        return e;
    }
    return pg_exec(c, "COMMIT", "creating the schema", err);
}

/* ---- the reader pool ------------------------------------------------------------ */

lsn_err pg_reader_take(pg_store *s, pg_conn **out, lsn_error *err)
{
    pthread_mutex_lock(&s->pool_mu);
    while (!s->pool_free && s->readers >= PG_READERS_MAX)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    pg_conn *c = s->pool_free;
    if (c) {
        s->pool_free = c->next_free;
        pthread_mutex_unlock(&s->pool_mu);
        *out = c;
        return LSN_OK;
    }
    s->readers++;
    pthread_mutex_unlock(&s->pool_mu);
    lsn_err e = LSN_OK;
    c = core_calloc(1, sizeof *c);
    if (!c)
        e = core_fail(err, LSN_ERR_NOMEM, "out of memory opening a store connection");
    else
        e = pg_conn_open(c, s->conninfo, err);
    if (e) {
        lsn_free(c);
        pthread_mutex_lock(&s->pool_mu);
        s->readers--;
        pthread_cond_signal(&s->pool_cv);
        pthread_mutex_unlock(&s->pool_mu);
        return e;
    }
    *out = c;
    return LSN_OK;
}

void pg_reader_give(pg_store *s, pg_conn *c)
{
    /* A connection the server dropped is not kept: the next read opens a
     * new one. */
    if (PQstatus(c->db) != CONNECTION_OK || PQtransactionStatus(c->db) != PQTRANS_IDLE) {
        pg_conn_close(c);
        lsn_free(c);
        pthread_mutex_lock(&s->pool_mu);
        s->readers--;
        pthread_cond_signal(&s->pool_cv);
        pthread_mutex_unlock(&s->pool_mu);
        return;
    }
    pthread_mutex_lock(&s->pool_mu);
    c->next_free = s->pool_free;
    s->pool_free = c;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

void pg_readers_close(pg_store *s)
{
    pg_conn *c = s->pool_free;
    while (c) {
        pg_conn *next = c->next_free;
        pg_conn_close(c);
        lsn_free(c);
        c = next;
    }
    s->pool_free = NULL;
    s->readers = 0;
}

/* ---- the read loop ----------------------------------------------------------------- */

lsn_err pg_query(pg_store *s, pg_stmt which, pg_arg *args, int n, int page_at, pg_row_fn fn,
                 void *ctx, const char *doing, lsn_error *err)
{
    pg_conn *c;
    lsn_err e = pg_reader_take(s, &c, err);
    if (e)
        return e;
    /* The page: the caller's (a listing's limit), or PG_PAGE. */
    int64_t page = PG_PAGE;
    if (page_at >= 0) {
        if (args[n - 1].kind == PG_A_INT && args[n - 1].num > 0 && args[n - 1].num < PG_PAGE)
            page = args[n - 1].num;
        args[n - 1] = PG_INT(page);
    }
    for (;;) {
        PGresult *r;
        if ((e = pg_run(c, which, args, n, &r, doing, err)))
            break;
        int rows = PQntuples(r), stop = 0;
        for (int i = 0; i < rows && !stop; i++) {
            int x = fn(ctx, r, i);
            if (x < 0) {
                e = core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", doing);
                stop = 1;
            } else if (x != STORE_NEXT) {
                stop = 1;
            }
        }
        if (page_at >= 0 && rows > 0)
            args[page_at] = PG_INT(pg_col_int(r, rows - 1, 0));
        PQclear(r);
        if (stop || page_at < 0 || rows < page)
            break;
    }
    pg_reader_give(s, c);
    return e;
}
