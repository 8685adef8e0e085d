/* store/sqlite_conn.c — SQLite connections for the store: pragmas, the
 * schema and its migrations, and the statement table.
 *
 * Durability: WAL journal with synchronous=FULL, so that every COMMIT has
 * fsync()ed the WAL before it returns — the writer acknowledges a post only
 * after its COMMIT returned (see docs/STORE.md). */
#include "store/sqlite_internal.h"
#include "store/sqlite_fed.h"
#include "store/sqlite_rel.h"
#include "store/sqlite_fedrel.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

/* An item's columns, in the order row_item reads them (store_sqlite.c):
 * its own, and its label class's. A fetch has the attachment's bytes (10);
 * a listing or search only their count (13), since they can be megabytes
 * that a listing never shows. */
#define ITEM_COLS_HEAD                                                           \
    "items.id, items.channel, items.author, items.organisation, "                \
    "label_classes.label, label_classes.marking_en, label_classes.marking_fr, "  \
    "label_classes.classification, items.body, items.media_type, "
#define ITEM_COLS_TAIL "items.created_ms, items.content_hash, "
#define ITEM_COLS_ID "items.uuid, items.class"
#define ITEM_COLS ITEM_COLS_HEAD "items.attachment, " ITEM_COLS_TAIL "NULL, " ITEM_COLS_ID
#define ITEM_LIST_COLS                                                           \
    ITEM_COLS_HEAD "NULL, " ITEM_COLS_TAIL "length(items.attachment), " ITEM_COLS_ID
#define ITEM_FROM " FROM items JOIN label_classes ON label_classes.id = items.class "
/* Every item read also reads the item's seal (sqlite_seal.c) as columns
 * 16-18, kept in its own row since version 13 (NULL when the item has
 * none): no join, and one INSERT writes an item with its seal. */
#define SEAL_COLS ", items.body_digest, items.attachment_digest, items.mac" \
                  VER_COLS NAME_COLS
#define SEAL_JOIN VER_JOIN
/* ... then, as columns 19-20, the item's public id and version when the row
 * is a later version of an item (sqlite_rel.c; NULL for a first version). */
#define VER_COLS ", item_versions.item_uuid, item_versions.version"
#define VER_JOIN "LEFT JOIN item_versions ON item_versions.row_id = items.id "
/* ... then the attachment's file name (SQ_NAME_COL, 21), which the seal
 * covers too; then (SQ_LATER_COL, 22) whether the row is superseded — a
 * later version of its item exists — and yet not hidden: only a hidden
 * mark removed behind the store's back makes one (row_item withholds it).
 * One seek in item_versions' index per row; the hidden mark's only then. */
#define NAME_COLS ", items.attachment_name, EXISTS (SELECT 1 FROM item_versions nv WHERE " \
                  "nv.item_uuid = coalesce(item_versions.item_uuid, items.uuid) AND "       \
                  "nv.version > coalesce(item_versions.version, 1)) AND NOT EXISTS "       \
                  "(SELECT 1 FROM item_hidden nh WHERE nh.row_id = items.id)"
/* Rows a read serves: those not hidden (superseded by a later version, or
 * withdrawn: store_rel.h). */
#define NOT_HIDDEN "NOT EXISTS (SELECT 1 FROM item_hidden WHERE item_hidden.row_id = items.id)"

/* A user's columns, in the order row_user reads them (store_sqlite.c). */
#define USER_COLS "SELECT id, name, organisation, clearance, roles, token_hash, " \
                  "password_hash, status, cert_fingerprint, cert_subject, cert_issuer "
#define USER_COLS_T "SELECT users.id, users.name, users.organisation, users.clearance, " \
                    "users.roles, users.token_hash, users.password_hash, users.status, " \
                    "users.cert_fingerprint, users.cert_subject, users.cert_issuer "

static const char *const sql[SQ_NSTMT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_READ_BEGIN] = "BEGIN", /* a reader's: one snapshot, one lock, for many statements */
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT w",
    [SQ_RELEASE] = "RELEASE w",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO w",
    [SQ_ORG_INSERT] = "INSERT INTO organisations(name, category) VALUES (?1,?2)",
    [SQ_USER_INSERT] =
        "INSERT INTO users(name, organisation, clearance, roles, token_hash, password_hash) "
        "VALUES (?1,?2,?3,?4,?5,?6)",
    /* One statement for every change of an account (store_user_change):
     * a NULL parameter leaves its column as it is. */
    [SQ_USER_UPDATE] =
        "UPDATE users SET password_hash = CASE WHEN ?2 IS NULL THEN password_hash "
        "WHEN ?2 = '' THEN NULL ELSE ?2 END, status = coalesce(?3, status), "
        "clearance = coalesce(?4, clearance), roles = coalesce(?5, roles), "
        "token_hash = coalesce(?6, token_hash), cert_fingerprint = CASE WHEN ?7 = 1 "
        "THEN NULL ELSE coalesce(?8, cert_fingerprint) END, cert_subject = CASE WHEN ?7 = 1 "
        "THEN NULL ELSE coalesce(?9, cert_subject) END, cert_issuer = CASE WHEN ?7 = 1 "
        "THEN NULL ELSE coalesce(?10, cert_issuer) END WHERE name = ?1",
    [SQ_CHANNEL_INSERT] = "INSERT INTO channels(name, purpose, local) VALUES (?1,?2,?3)",
    [SQ_TOKEN_INSERT] = "INSERT INTO tokens(hash, user, name, created_ms, expires_ms) "
                        "VALUES (?1,?2,?3,?4,?5)",
    [SQ_TOKEN_DELETE] = "DELETE FROM tokens WHERE user = ?1 AND name = ?2",
    /* The group's items, in one statement: see sq_fts_index(). The class
     * (alone, and with the channel) and the channel go in as tokens of
     * their own columns, so that a search is restricted to a reader's
     * visible classes by the index itself. */
    [SQ_FTS_INDEX] = "INSERT INTO items_fts(rowid, body, cls, chan) "
                     "SELECT items.id, items.body, "
                     "'k' || items.class || ' k' || items.class || 'h' || channels.id, "
                     "'h' || channels.id "
                     "FROM items JOIN channels ON channels.name = items.channel "
                     "WHERE items.id >= ?1 ORDER BY items.id",
    /* The same items in the per-class index (sqlite_class_fts.c): the
     * class and channel's prefix, then the body; only the items of a
     * (class, channel) pair that had fewer than ?2 items before this
     * group (class_counts): see SQ_CFTS_PAIR_MAX. */
    [SQ_CFTS_INDEX] = "INSERT INTO items_cfts(rowid, cbody) "
                      "SELECT items.id, 'k' || items.class || 'h' || channels.id || ' ' || "
                      "items.body FROM items NOT INDEXED JOIN channels "
                      "ON channels.name = items.channel WHERE items.id >= ?1 AND coalesce((SELECT n FROM class_counts WHERE "
                      "class = items.class AND channel = channels.id), 0) < ?2 "
                      "ORDER BY items.id",
    /* Then the pairs' counts, with the group's items (NOT INDEXED: the
     * group's rows by id, never a scan of an index of every item, which
     * the planner would pick for the GROUP BY). */
    [SQ_CFTS_COUNT] = "INSERT INTO class_counts(class, channel, n) "
                      "SELECT items.class, channels.id, count(*) FROM items NOT INDEXED JOIN channels "
                      "ON channels.name = items.channel WHERE items.id >= ?1 "
                      "GROUP BY items.class, channels.id ORDER BY 1, 2 "
                      "ON CONFLICT(class, channel) DO UPDATE SET n = n + excluded.n",
    /* The pairs past the cap, by channel name (the writer remembers them). */
    [SQ_CFTS_CLOSED] = "SELECT class_counts.class, channels.name FROM class_counts JOIN "
                       "channels ON channels.id = class_counts.channel "
                       "WHERE class_counts.n >= ?1",
    [SQ_CLASS_INSERT] = "INSERT INTO label_classes(label, marking_en, marking_fr, "
                        "classification) VALUES (?1,?2,?3,?4) ON CONFLICT(label) DO NOTHING",
    [SQ_CLASS_ID] = "SELECT id, marking_en, marking_fr, classification FROM label_classes "
                    "WHERE label = ?1",
    /* Every item as it is, to seal it (the upgrade to version 4). */
    [SQ_ITEM_TO_SEAL] = "SELECT " ITEM_COLS ITEM_FROM "ORDER BY items.id",
    /* Every later version with its seal (the upgrade to version 13). */
    [SQ_ITEM_VERSIONED] = "SELECT " ITEM_COLS SEAL_COLS ITEM_FROM SEAL_JOIN
                          "WHERE item_versions.row_id IS NOT NULL ORDER BY items.id",
    [SQ_ORG_GET] = "SELECT id, name, category FROM organisations WHERE name = ?1",
    [SQ_ORG_LIST] = "SELECT id, name, category FROM organisations ORDER BY id",
    [SQ_USER_GET] = USER_COLS
                    "FROM users WHERE name = ?1",
    /* A user's own token, or one of their named tokens not expired (?2:
     * now in ms). */
    [SQ_USER_BY_TOKEN] = USER_COLS "FROM users WHERE token_hash = ?1 UNION ALL "
                         USER_COLS_T "FROM tokens JOIN users ON users.name = tokens.user "
                         "WHERE tokens.hash = ?1 AND (tokens.expires_ms IS NULL OR "
                         "tokens.expires_ms > ?2) LIMIT 1",
    [SQ_USER_BY_CERT] = USER_COLS "FROM users WHERE cert_fingerprint = ?1",
    [SQ_USER_BY_CERT_SUBJECT] = USER_COLS "FROM users WHERE cert_subject = ?1 "
                                "AND cert_issuer = ?2",
    [SQ_TOKEN_LIST] = "SELECT user, name, created_ms, expires_ms, hash FROM tokens "
                      "WHERE user = ?1 ORDER BY name",
    [SQ_USER_LIST] = USER_COLS
                     "FROM users ORDER BY id",
    [SQ_CHANNEL_GET] = "SELECT id, name, purpose, local FROM channels WHERE name = ?1",
    [SQ_CHANNEL_LIST] = "SELECT id, name, purpose, local FROM channels ORDER BY id",
    [SQ_ITEM_GET] = "SELECT " ITEM_COLS SEAL_COLS ITEM_FROM SEAL_JOIN "WHERE items.id = ?1",
    /* The rows of a merged chunk: ?1 is a JSON array of ids. */
    [SQ_ITEM_LISTED] = "SELECT " ITEM_LIST_COLS SEAL_COLS ITEM_FROM SEAL_JOIN
                       "WHERE items.id IN (SELECT value FROM json_each(?1)) ORDER BY items.id",
    /* The row without body and attachment: enough to check its seal at a
     * cost that does not depend on the body's size. */
    [SQ_ITEM_LABEL] = "SELECT items.id, items.channel, items.author, items.organisation, "
                      "label_classes.label, label_classes.marking_en, "
                      "label_classes.marking_fr, label_classes.classification, NULL, "
                      "items.media_type, NULL, " ITEM_COLS_TAIL "length(items.attachment), "
                      ITEM_COLS_ID SEAL_COLS ITEM_FROM SEAL_JOIN "WHERE items.id = ?1",
    /* The item's current row: its first, or the version linked to it, not
     * hidden (a later version's own uuid is never given out); and whether
     * it has later versions (then its history is checked: sq_item_find). */
    [SQ_ITEM_FIND] = "SELECT id, class, EXISTS (SELECT 1 FROM item_versions w WHERE "
                     "w.item_uuid = ?1) FROM items WHERE uuid = ?1 AND " NOT_HIDDEN " AND "
                     "NOT EXISTS (SELECT 1 FROM item_versions v WHERE v.row_id = items.id) "
                     "UNION ALL SELECT items.id, items.class, 1 FROM item_versions v JOIN items "
                     "ON items.id = v.row_id WHERE v.item_uuid = ?1 AND " NOT_HIDDEN
                     " LIMIT 1",
    [SQ_ITEM_LIST] = "SELECT " ITEM_LIST_COLS SEAL_COLS ITEM_FROM SEAL_JOIN
                     "WHERE items.channel = ?1 AND items.id > ?2 AND items.class <= ?3 AND " NOT_HIDDEN " "
                     "ORDER BY items.id",
    [SQ_ITEM_LIST_ALL] = "SELECT " ITEM_LIST_COLS SEAL_COLS ITEM_FROM SEAL_JOIN
                         "WHERE items.id > ?2 AND items.class <= ?3 AND " NOT_HIDDEN
                         " ORDER BY items.id",
    /* One class's next ids, by the (channel, class, id) or (class, id)
     * index: ?3 < id < ?4, at most ?5 of them. */
    [SQ_ITEM_IDS_CC] = "SELECT id FROM items WHERE channel = ?1 AND class = ?2 "
                       "AND id > ?3 AND id < ?4 AND " NOT_HIDDEN " ORDER BY id LIMIT ?5",
    [SQ_ITEM_IDS_C] = "SELECT id FROM items WHERE class = ?2 "
                      "AND id > ?3 AND id < ?4 AND " NOT_HIDDEN " ORDER BY id LIMIT ?5",
    [SQ_ITEM_SEARCH] =
        "SELECT " ITEM_LIST_COLS SEAL_COLS " FROM items_fts JOIN items ON items.id = "
        "items_fts.rowid JOIN label_classes ON label_classes.id = items.class " SEAL_JOIN
        "WHERE items_fts MATCH ?1 AND items_fts.rowid > ?2 AND items.class <= ?3 AND "
        NOT_HIDDEN " "
        "ORDER BY items_fts.rowid",
    /* The same through the per-class index: ?1 names the classes. */
    [SQ_ITEM_SEARCH_CLS] =
        "SELECT " ITEM_LIST_COLS SEAL_COLS " FROM items_cfts JOIN items ON items.id = "
        "items_cfts.rowid JOIN label_classes ON label_classes.id = items.class " SEAL_JOIN
        "WHERE items_cfts MATCH ?1 AND items_cfts.rowid > ?2 AND items.class <= ?3 AND "
        NOT_HIDDEN " "
        "ORDER BY items_cfts.rowid",
    /* Whether any of the pairs (?1: a JSON array of [class, channel]) has
     * ?2 items or more: then items_cfts does not hold all of its items. */
    [SQ_CFTS_FULL] = "SELECT EXISTS(SELECT 1 FROM json_each(?1) AS p JOIN class_counts ON "
                     "class_counts.class = json_extract(p.value, '$[0]') AND "
                     "class_counts.channel = json_extract(p.value, '$[1]') "
                     "WHERE class_counts.n >= ?2)",
    [SQ_ITEM_LAST] = "SELECT coalesce(max(id), 0) FROM items",
    /* The next item's id, as AUTOINCREMENT would give it: the writer
     * seals a row before inserting it, and the seal covers the id. */
    [SQ_ITEM_NEXT_ID] = "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE "
                        "name = 'items'), 0), coalesce((SELECT max(id) FROM items), 0)) + 1",
    [SQ_CLASS_LIST] = "SELECT id, label, marking_en, marking_fr, classification "
                      "FROM label_classes WHERE id > ?1 ORDER BY id",
    [SQ_CLASS_LAST] = "SELECT coalesce(max(id), 0) FROM label_classes",
    [SQ_AUDIT_LIST] = "SELECT seq, time_ms, actor, action, object, outcome, detail, hash "
                      "FROM audit WHERE seq > ?1 ORDER BY seq",
    [SQ_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    SQ_FED_SQL,
    SQ_REL_SQL,
    SQ_FEDREL_SQL,
};

/* Schema version 1. Items and audit entries are append-only: triggers refuse
 * UPDATE and DELETE, so that a bug cannot rewrite history (a person with the
 * file can; the content hash and the audit chain are there to show it). The
 * full-text index is an external-content FTS5 table. Version 1 filled it by
 * a trigger per item; version 2 drops the trigger (see schema_v1_to_v2). */
static const char schema_v1[] =
    "CREATE TABLE organisations(\n"
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, category TEXT NOT NULL);\n"
    "CREATE TABLE users(\n"
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,\n"
    "  organisation TEXT NOT NULL REFERENCES organisations(name),\n"
    "  clearance TEXT NOT NULL, roles INTEGER NOT NULL,\n"
    "  token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32));\n"
    "CREATE TABLE channels(\n"
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, purpose TEXT NOT NULL);\n"
    "CREATE TABLE items(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  channel TEXT NOT NULL REFERENCES channels(name),\n"
    "  author TEXT NOT NULL, organisation TEXT NOT NULL,\n"
    "  label TEXT NOT NULL, marking_en TEXT NOT NULL, marking_fr TEXT NOT NULL,\n"
    "  classification INTEGER, body TEXT NOT NULL,\n"
    "  media_type TEXT, attachment BLOB, created_ms INTEGER NOT NULL,\n"
    "  content_hash BLOB NOT NULL CHECK (length(content_hash) = 32));\n"
    "CREATE INDEX items_by_channel ON items(channel, id);\n"
    "CREATE VIRTUAL TABLE items_fts USING fts5(body, content='items',\n"
    "  content_rowid='id', tokenize='unicode61 remove_diacritics 2');\n"
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN\n"
    "  INSERT INTO items_fts(rowid, body) VALUES (new.id, new.body); END;\n"
    "CREATE TRIGGER items_no_update BEFORE UPDATE ON items BEGIN\n"
    "  SELECT RAISE(ABORT, 'items are append-only'); END;\n"
    "CREATE TRIGGER items_no_delete BEFORE DELETE ON items BEGIN\n"
    "  SELECT RAISE(ABORT, 'items are append-only'); END;\n"
    "CREATE TABLE audit(\n"
    "  seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, actor TEXT NOT NULL,\n"
    "  action TEXT NOT NULL, object TEXT NOT NULL, outcome TEXT NOT NULL,\n"
    "  detail TEXT NOT NULL, hash BLOB NOT NULL CHECK (length(hash) = 32));\n"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN\n"
    "  SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN\n"
    "  SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
    "PRAGMA user_version = 1;\n";

/* Version 2: the writer indexes a whole group's bodies with one statement
 * before its COMMIT (sq_fts_index), still in the transaction that inserts
 * the items. The per-item trigger made FTS5 flush its pending terms at the
 * end of every item's INSERT (a statement savepoint), so that each item
 * became a segment of its own: half of the writer's time per item. Rows
 * already indexed by the trigger stay indexed. */
static const char schema_v1_to_v2[] =
    "DROP TRIGGER items_fts_insert;\n"
    "PRAGMA user_version = 2;\n";

/* Version 3: visibility as an index (docs/STORE.md).
 *  - label_classes: each distinct canonical label once, with its markings;
 *    an item refers to its class. A reader's visible classes are decided
 *    once per class by the node, and reads fetch only those classes.
 *  - items.uuid: a random public id (16 bytes); the rowid stays inside.
 *  - indexes by (channel, class, id) and (class, id) for the per-class
 *    reads; the FTS5 index becomes contentless with the class and the
 *    channel as tokens of their own columns.
 * Every item, its id, label, markings and content hash are kept; each old
 * item gets a random UUID (lsn_uuid(), registered on the writer). */
static const char schema_v2_to_v3[] =
    "CREATE TABLE label_classes(\n"
    "  id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE,\n"
    "  marking_en TEXT NOT NULL, marking_fr TEXT NOT NULL, classification INTEGER);\n"
    "INSERT INTO label_classes(label, marking_en, marking_fr, classification)\n"
    "  SELECT label, marking_en, marking_fr, classification FROM\n"
    "  (SELECT label, marking_en, marking_fr, classification, min(id) AS first\n"
    "   FROM items GROUP BY label) ORDER BY first;\n"
    "CREATE TABLE items_v3(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  uuid BLOB NOT NULL UNIQUE CHECK (length(uuid) = 16),\n"
    "  channel TEXT NOT NULL REFERENCES channels(name),\n"
    "  class INTEGER NOT NULL REFERENCES label_classes(id),\n"
    "  author TEXT NOT NULL, organisation TEXT NOT NULL, body TEXT NOT NULL,\n"
    "  media_type TEXT, attachment BLOB, created_ms INTEGER NOT NULL,\n"
    "  content_hash BLOB NOT NULL CHECK (length(content_hash) = 32));\n"
    "INSERT INTO items_v3(id, uuid, channel, class, author, organisation, body,\n"
    "  media_type, attachment, created_ms, content_hash)\n"
    "  SELECT items.id, lsn_uuid(), items.channel, label_classes.id, items.author,\n"
    "  items.organisation, items.body, items.media_type, items.attachment,\n"
    "  items.created_ms, items.content_hash\n"
    "  FROM items JOIN label_classes ON label_classes.label = items.label ORDER BY items.id;\n"
    "UPDATE sqlite_sequence SET seq = max(seq,\n"
    "  (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'items'))\n"
    "  WHERE name = 'items_v3';\n"
    "DROP TABLE items_fts;\n"
    "DROP TABLE items;\n"
    "ALTER TABLE items_v3 RENAME TO items;\n"
    "CREATE INDEX items_by_channel ON items(channel, id);\n"
    "CREATE INDEX items_by_channel_class ON items(channel, class, id);\n"
    "CREATE INDEX items_by_class ON items(class, id);\n"
    "CREATE TRIGGER items_no_update BEFORE UPDATE ON items BEGIN\n"
    "  SELECT RAISE(ABORT, 'items are append-only'); END;\n"
    "CREATE TRIGGER items_no_delete BEFORE DELETE ON items BEGIN\n"
    "  SELECT RAISE(ABORT, 'items are append-only'); END;\n"
    "CREATE TRIGGER label_classes_no_update BEFORE UPDATE ON label_classes BEGIN\n"
    "  SELECT RAISE(ABORT, 'label classes are append-only'); END;\n"
    "CREATE TRIGGER label_classes_no_delete BEFORE DELETE ON label_classes BEGIN\n"
    "  SELECT RAISE(ABORT, 'label classes are append-only'); END;\n"
    "CREATE VIRTUAL TABLE items_fts USING fts5(body, cls, chan, content='',\n"
    "  tokenize='unicode61 remove_diacritics 2');\n"
    "INSERT INTO items_fts(rowid, body, cls, chan)\n"
    "  SELECT items.id, items.body,\n"
    "  'k' || items.class || ' k' || items.class || 'h' || channels.id, 'h' || channels.id\n"
    "  FROM items JOIN channels ON channels.name = items.channel ORDER BY items.id;\n"
    "PRAGMA user_version = 3;\n";

/* Version 4: item_seals (sqlite_seal.c, sq_seal_schema_v4). */

/* Version 5 (people, issue 11): accounts that
 * can be managed. A user may have a password (Argon2id, libsodium's
 * crypto_pwhash_str string; NULL: no password sign-in) and a status
 * (0 active, 1 disabled, 2 removed: store.h STORE_USER_*). A removed user
 * keeps its row: items and audit records name it, and the name must not
 * be given to somebody else. Named access tokens (for programs): each
 * stored as its SHA-256 with its owner, name, time made and expiry (NULL:
 * none); the user's first token stays in users.token_hash. A user may be
 * bound to a client certificate by its SHA-256 fingerprint (one user per
 * certificate). */
static const char schema_people[] =
    "ALTER TABLE users ADD COLUMN password_hash TEXT;\n"
    "ALTER TABLE users ADD COLUMN status INTEGER NOT NULL DEFAULT 0\n"
    "  CHECK (status IN (0, 1, 2));\n"
    "ALTER TABLE users ADD COLUMN cert_fingerprint BLOB\n"
    "  CHECK (cert_fingerprint IS NULL OR length(cert_fingerprint) = 32);\n"
    "CREATE UNIQUE INDEX users_by_cert ON users(cert_fingerprint)\n"
    "  WHERE cert_fingerprint IS NOT NULL;\n"
    "CREATE TABLE tokens(\n"
    "  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),\n"
    "  user TEXT NOT NULL REFERENCES users(name), name TEXT NOT NULL,\n"
    "  created_ms INTEGER NOT NULL, expires_ms INTEGER, UNIQUE (user, name));\n"
    "PRAGMA user_version = 5;\n";

/* Version 7 (people, issue 11, second part; the lead renumbers at merge):
 *  - items.attachment_name: an attachment's file name, as its poster gave
 *    it (checked: no path separator, no control character; store.h); NULL
 *    for items posted before, and for items without an attachment.
 *  - users.cert_subject, users.cert_issuer: a user bound to every client
 *    certificate with that subject DN issued by that CA (the SHA-256 of
 *    the CA's certificate): smart cards are reissued, their subject stays.
 *    One user per (subject, issuer). */
static const char schema_people2[] =
    "ALTER TABLE items ADD COLUMN attachment_name TEXT;\n"
    "ALTER TABLE users ADD COLUMN cert_subject TEXT;\n"
    "ALTER TABLE users ADD COLUMN cert_issuer BLOB\n"
    "  CHECK (cert_issuer IS NULL OR length(cert_issuer) = 32);\n"
    "CREATE UNIQUE INDEX users_by_cert_subject ON users(cert_subject, cert_issuer)\n"
    "  WHERE cert_subject IS NOT NULL;\n"
    "PRAGMA user_version = 7;\n";

/* Federation's step (sqlite_fed.c): bindings, peers, outboxes. Its number
 * is given here, so that a step landing before it renumbers it in one place. */
#define SCHEMA_FED 6
#define SCHEMA_PEOPLE2 7
/* Release requests and item versions (sqlite_rel.c). */
#define SCHEMA_REL 8

/* Search by class (sqlite_class_fts.c): a second contentless full-text
 * index whose tokens are "kCLASShCHANNEL word", so that a reader who sees
 * a few classes reads their postings only; it holds the items of each
 * (class, channel) pair until the pair has SQ_CFTS_PAIR_MAX items
 * (class_counts: the items per pair). Filled here with what there is. */
#define SCHEMA_CLASS_FTS 9
#define XSTR(x) STR(x)
#define STR(x) #x
static const char schema_class_fts[] =
    "CREATE TABLE class_counts(\n"
    "  class INTEGER NOT NULL, channel INTEGER NOT NULL, n INTEGER NOT NULL,\n"
    "  PRIMARY KEY (class, channel)) WITHOUT ROWID;\n"
    "CREATE VIRTUAL TABLE items_cfts USING fts5(cbody, content='',\n"
    "  tokenize='lsn_class remove_diacritics 2');\n"
    "INSERT INTO items_cfts(rowid, cbody)\n"
    "  SELECT id, 'k' || class || 'h' || chan || ' ' || body FROM\n"
    "  (SELECT items.id, items.class, channels.id AS chan, items.body, row_number() OVER\n"
    "   (PARTITION BY items.class, channels.id ORDER BY items.id) AS nth\n"
    "   FROM items JOIN channels ON channels.name = items.channel)\n"
    "  WHERE nth <= " XSTR(SQ_CFTS_PAIR_MAX) " ORDER BY id;\n"
    "INSERT INTO class_counts(class, channel, n)\n"
    "  SELECT items.class, channels.id, count(*) FROM items JOIN channels\n"
    "  ON channels.name = items.channel GROUP BY items.class, channels.id;\n";
#define SCHEMA_FED_TRANSPORT 10 /* the federation transport (issue 10): peers.received_seq */
#define SCHEMA_FED_POLICY 11 /* equivalent policies (issue 10): peers.policy */
/* A channel kept local (issue 10): its items never go to a peer, and a
 * peer's item for it is refused. */
#define SCHEMA_CHANNEL_LOCAL 12
static const char schema_channel_local[] =
    "ALTER TABLE channels ADD COLUMN local INTEGER NOT NULL DEFAULT 0\n"
    "  CHECK (local IN (0, 1));\n"
    "PRAGMA user_version = " XSTR(SCHEMA_CHANNEL_LOCAL) ";\n";
/* A withdrawal's signed tombstone (issues 10 and 13), kept verbatim with
 * the withdrawn row so that every peer — and a relay's peers — gets the
 * origin's bytes. */
#define SCHEMA_TOMBSTONES 13
static const char schema_tombstones[] =
    "CREATE TABLE item_tombstones(\n"
    "  row_id INTEGER PRIMARY KEY REFERENCES items(id), xml BLOB NOT NULL);\n"
    "CREATE TRIGGER item_tombstones_no_update BEFORE UPDATE ON item_tombstones BEGIN\n"
    "  SELECT RAISE(ABORT, 'tombstones are append-only'); END;\n"
    "CREATE TRIGGER item_tombstones_no_delete BEFORE DELETE ON item_tombstones BEGIN\n"
    "  SELECT RAISE(ABORT, 'tombstones are append-only'); END;\n"
    "PRAGMA user_version = " XSTR(SCHEMA_TOMBSTONES) ";\n";
/* The seal in the item's row, version links and hidden marks sealed
 * (sqlite_seal.c, sq_seal_schema_row). */
#define SCHEMA_SEAL_ROW 14
/* The signed release messages exchanged with peers (issue 13,
 * sqlite_fedrel.c). */
#define SCHEMA_FEDREL 15
#define SCHEMA_VERSION 15

lsn_err sq_step_done(sq_conn *c, sqlite3_stmt *st, const char *doing, lsn_error *err)
{
    lsn_err e = sqlite3_step(st) == SQLITE_DONE ? LSN_OK : sq_fail(c->db, err, doing);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

lsn_err sq_fail(sqlite3 *db, lsn_error *err, const char *doing)
{
    int x = sqlite3_extended_errcode(db);
    const char *msg = sqlite3_errmsg(db);
    switch (x) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return core_fail(err, LSN_ERR_DUPLICATE, "%s: already present (%s)", doing, msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return core_fail(err, LSN_ERR_ARG, "%s: it names an unknown channel or organisation",
                        doing);
    case SQLITE_NOMEM:
        return core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", doing);
    default:
        if ((x & 0xff) == SQLITE_CONSTRAINT)
            return core_fail(err, LSN_ERR_ARG, "%s: %s", doing, msg);
        return core_fail(err, LSN_ERR_IO, "%s: %s", doing, msg);
    }
}

/* A version 7 UUID (RFC 9562): the time in milliseconds, then 74 random
 * bits. The time is what the item's `created` already shows to whoever may
 * see it, and nothing about any other item; in return, new ids go in at
 * the end of the store's uuid index instead of at random places, so that
 * a group commit writes a few index pages, not one per item. */
void store_uuid_new(uint8_t out[STORE_UUID_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    randombytes_buf(out, STORE_UUID_LEN);
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (40 - 8 * i));
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x70); /* version 7 */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* RFC 9562 variant */
}

/* lsn_uuid(): a new random UUID as a 16-byte blob (the migration to
 * version 3 gives one to each item). */
static void sql_uuid(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    uint8_t u[STORE_UUID_LEN];
    store_uuid_new(u);
    sqlite3_result_blob(ctx, u, STORE_UUID_LEN, SQLITE_TRANSIENT);
}

static lsn_err exec(sq_conn *c, const char *q, lsn_error *err)
{
    if (sqlite3_exec(c->db, q, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(c->db, err, "database setup");
    return LSN_OK;
}

lsn_err sq_conn_open(sq_conn *c, const char *path, int create, lsn_error *err)
{
    memset(c, 0, sizeof *c);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (create) {
        /* The file holds labelled items and token hashes: only its owner
         * may read it. Made here with mode 0600 (an existing file keeps its
         * mode); SQLite gives the -wal and -shm files the same mode. */
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return core_fail(err, LSN_ERR_IO, "cannot create the store %s: %s", path,
                            strerror(errno));
        close(fd);
        flags |= SQLITE_OPEN_CREATE;
    }
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        lsn_err e = c->db ? core_fail(err, rc == SQLITE_NOMEM ? LSN_ERR_NOMEM : LSN_ERR_IO,
                                     "cannot open the store %s: %s", path,
                                     sqlite3_errmsg(c->db))
                          : core_fail(err, LSN_ERR_NOMEM, "cannot open the store %s", path);
        sqlite3_close(c->db);
        c->db = NULL;
        return e;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, 10000);
    sqlite3_create_function(c->db, "lsn_uuid", 0, SQLITE_UTF8, NULL, sql_uuid, NULL, NULL);
    lsn_err e;
    if (sq_class_fts_register(c->db) != LSN_OK) {
        e = sq_fail(c->db, err, "registering the per-class search's tokenizer");
        sq_conn_close(c);
        return e;
    }
    if ((e = exec(c, "PRAGMA journal_mode=WAL", err)) ||
        (e = exec(c, "PRAGMA synchronous=FULL", err)) ||
        (e = exec(c, "PRAGMA foreign_keys=ON", err))) {
        sq_conn_close(c);
        return e;
    }
    return LSN_OK;
}

void sq_conn_close(sq_conn *c)
{
    for (int i = 0; i < SQ_NSTMT; i++) {
        sqlite3_finalize(c->st[i]);
        c->st[i] = NULL;
    }
    sqlite3_close(c->db);
    c->db = NULL;
}

sqlite3_stmt *sq_prepare(sq_conn *c, sq_stmt which)
{
    sqlite3_stmt *st = c->st[which];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(c->db, sql[which], -1, SQLITE_PREPARE_PERSISTENT, &st,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    c->st[which] = st;
    return st;
}

/* The multi-row inserts of the writer (sq_batch_stmt): the head, then one
 * row of parameters per item or audit record. */
static const struct {
    const char *head, *row;
} batch_sql[SQ_NBATCH] = {
    [SQ_BATCH_ITEMS] = { "INSERT INTO items(id, uuid, channel, class, author, organisation, "
                         "body, media_type, attachment, created_ms, content_hash, "
                         "attachment_name, body_digest, attachment_digest, mac) VALUES ",
                         "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" },
    [SQ_BATCH_AUDIT] = { "INSERT INTO audit(seq, time_ms, actor, action, object, outcome, "
                         "detail, hash) VALUES ",
                         "(?,?,?,?,?,?,?,?)" },
};

sqlite3_stmt *sq_batch_stmt(sq_store *s, sq_batch kind, int rows)
{
    if (rows < 1 || rows > SQ_BATCH_MAX)
        core_misuse("store: a batch of no rows, or of too many");
    sqlite3_stmt **slot = &s->batch[kind][rows];
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return *slot;
    }
    /* On the stack: the writer allocates nothing of its own for a write. */
    char q[256 + SQ_BATCH_MAX * 32];
    size_t head = strlen(batch_sql[kind].head), row = strlen(batch_sql[kind].row);
    if (head + (size_t)rows * (row + 1) + 1 > sizeof q)
        core_misuse("store: a batch statement longer than its buffer");
    char *cur = q;
    memcpy(cur, batch_sql[kind].head, head);
    cur += head;
    for (int i = 0; i < rows; i++) {
        if (i)
            *cur++ = ',';
        memcpy(cur, batch_sql[kind].row, row);
        cur += row;
    }
    *cur = '\0';
    if (sqlite3_prepare_v3(s->w.db, q, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(*slot);
        *slot = NULL;
    }
    return *slot;
}

void sq_batch_finalize(sq_store *s)
{
    for (int k = 0; k < SQ_NBATCH; k++) {
        for (int n = 0; n <= SQ_BATCH_MAX; n++) {
            sqlite3_finalize(s->batch[k][n]);
            s->batch[k][n] = NULL;
        }
    }
}

static int user_version(sq_conn *c)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A new file's name must reach the disk too, or a power cut could lose the
 * whole database: sync the directory holding it. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? core_strndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : core_strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    lsn_free(dir);
}

lsn_err sq_schema_migrate(sq_conn *c, const seal_keys *k, lsn_error *err)
{
    lsn_err e = exec(c, "BEGIN IMMEDIATE", err);
    if (e)
        return e;
    int v = user_version(c);
    if (v < 0) {
        e = sq_fail(c->db, err, "reading the schema version");
    } else if (v > SCHEMA_VERSION) {
        e = core_fail(err, LSN_ERR_IO,
                     "the store has schema version %d, newer than this program's %d", v,
                     SCHEMA_VERSION);
    } else {
        if (v < 1)
            e = exec(c, schema_v1, err);
        if (!e && v < 2)
            e = exec(c, schema_v1_to_v2, err);
        if (!e && v < 3)
            e = exec(c, schema_v2_to_v3, err);
        if (!e && v < 4)
            e = sq_seal_schema_v4(c, k, err);
        if (!e && v < 5)
            e = exec(c, schema_people, err);
        if (!e && v < SCHEMA_FED)
            e = sq_schema_fed(c, SCHEMA_FED, err);
        if (!e && v < SCHEMA_PEOPLE2)
            e = exec(c, schema_people2, err);
        if (!e && v < SCHEMA_REL)
            e = sq_schema_rel(c, SCHEMA_REL, err);
        if (!e && v < SCHEMA_CLASS_FTS) {
            char q[32];
            snprintf(q, sizeof q, "PRAGMA user_version = %d;", SCHEMA_CLASS_FTS);
            if (!(e = exec(c, schema_class_fts, err)))
                e = exec(c, q, err);
        }
        if (!e && v < SCHEMA_FED_TRANSPORT)
            e = sq_schema_fed_transport(c, SCHEMA_FED_TRANSPORT, err);
        if (!e && v < SCHEMA_FED_POLICY)
            e = sq_schema_fed_policy(c, SCHEMA_FED_POLICY, err);
        if (!e && v < SCHEMA_CHANNEL_LOCAL)
            e = exec(c, schema_channel_local, err);
        if (!e && v < SCHEMA_TOMBSTONES)
            e = exec(c, schema_tombstones, err);
        if (!e && v < SCHEMA_SEAL_ROW)
            e = sq_seal_schema_row(c, k, SCHEMA_SEAL_ROW, err);
        if (!e && v < SCHEMA_FEDREL)
            e = sq_schema_fedrel(c, SCHEMA_FEDREL, err);
        /* Later versions: `if (!e && v < 16) e = exec(c, schema_v15_to_v16, err);` */
    }
    if (e) {
        (void)sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }
    if ((e = exec(c, "COMMIT", err)))
        return e;
    if (v == 0)
        sync_parent_dir(sqlite3_db_filename(c->db, "main"));
    return LSN_OK;
}
