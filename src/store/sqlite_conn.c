/* store/sqlite_conn.c — SQLite connections for the store: pragmas, the
 * schema and its migrations, and the statement table.
 *
 * Durability: WAL journal with synchronous=FULL, so that every COMMIT has
 * fsync()ed the WAL before it returns — the writer acknowledges a post only
 * after its COMMIT returned (see docs/STORE.md). */
#include "store/sqlite_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

#define ITEM_COLS                                                                \
    "items.id, items.channel, items.author, items.organisation, items.label, "   \
    "items.marking_en, items.marking_fr, items.classification, items.body, "     \
    "items.media_type, items.attachment, items.created_ms, items.content_hash"
/* Listings and search: the attachment's size instead of its bytes (which
 * can be megabytes, and which a listing never shows). */
#define ITEM_LIST_COLS                                                           \
    "items.id, items.channel, items.author, items.organisation, items.label, "   \
    "items.marking_en, items.marking_fr, items.classification, items.body, "     \
    "items.media_type, NULL, items.created_ms, items.content_hash, "             \
    "length(items.attachment)"

static const char *const sql[SQ_NSTMT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT w",
    [SQ_RELEASE] = "RELEASE w",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO w",
    [SQ_ORG_INSERT] = "INSERT INTO organisations(name, category) VALUES (?1,?2)",
    [SQ_USER_INSERT] =
        "INSERT INTO users(name, organisation, clearance, roles, token_hash) "
        "VALUES (?1,?2,?3,?4,?5)",
    [SQ_CHANNEL_INSERT] = "INSERT INTO channels(name, purpose) VALUES (?1,?2)",
    /* The group's items, in one statement: see sq_fts_index(). */
    [SQ_FTS_INDEX] = "INSERT INTO items_fts(rowid, body) SELECT id, body FROM items "
                     "WHERE id >= ?1 ORDER BY id",
    [SQ_ORG_GET] = "SELECT id, name, category FROM organisations WHERE name = ?1",
    [SQ_ORG_LIST] = "SELECT id, name, category FROM organisations ORDER BY id",
    [SQ_USER_GET] = "SELECT id, name, organisation, clearance, roles, token_hash "
                    "FROM users WHERE name = ?1",
    [SQ_USER_BY_TOKEN] = "SELECT id, name, organisation, clearance, roles, token_hash "
                         "FROM users WHERE token_hash = ?1",
    [SQ_USER_LIST] = "SELECT id, name, organisation, clearance, roles, token_hash "
                     "FROM users ORDER BY id",
    [SQ_CHANNEL_GET] = "SELECT id, name, purpose FROM channels WHERE name = ?1",
    [SQ_CHANNEL_LIST] = "SELECT id, name, purpose FROM channels ORDER BY id",
    [SQ_ITEM_GET] = "SELECT " ITEM_COLS " FROM items WHERE id = ?1",
    [SQ_ITEM_LABEL] = "SELECT label FROM items WHERE id = ?1",
    [SQ_ITEM_LIST] = "SELECT " ITEM_LIST_COLS " FROM items WHERE channel = ?1 AND id > ?2 "
                     "ORDER BY id",
    [SQ_ITEM_LIST_ALL] = "SELECT " ITEM_LIST_COLS " FROM items WHERE id > ?2 ORDER BY id",
    [SQ_ITEM_SEARCH] =
        "SELECT " ITEM_LIST_COLS " FROM items_fts JOIN items ON items.id = items_fts.rowid "
        "WHERE items_fts MATCH ?1 AND items_fts.rowid > ?2 AND items.channel = ?3 "
        "ORDER BY items_fts.rowid",
    [SQ_ITEM_SEARCH_ALL] =
        "SELECT " ITEM_LIST_COLS " FROM items_fts JOIN items ON items.id = items_fts.rowid "
        "WHERE items_fts MATCH ?1 AND items_fts.rowid > ?2 ORDER BY items_fts.rowid",
    [SQ_ITEM_LAST] = "SELECT coalesce(max(id), 0) FROM items",
    [SQ_AUDIT_LIST] = "SELECT seq, time_ms, actor, action, object, outcome, detail, hash "
                      "FROM audit WHERE seq > ?1 ORDER BY seq",
    [SQ_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
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

#define SCHEMA_VERSION 2

lsn_err sq_fail(sqlite3 *db, lsn_error *err, const char *doing)
{
    int x = sqlite3_extended_errcode(db);
    const char *msg = sqlite3_errmsg(db);
    switch (x) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return lsn_fail(err, LSN_ERR_DUPLICATE, "%s: already present (%s)", doing, msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return lsn_fail(err, LSN_ERR_ARG, "%s: it names an unknown channel or organisation",
                        doing);
    case SQLITE_NOMEM:
        return lsn_fail(err, LSN_ERR_NOMEM, "%s: out of memory", doing);
    default:
        if ((x & 0xff) == SQLITE_CONSTRAINT)
            return lsn_fail(err, LSN_ERR_ARG, "%s: %s", doing, msg);
        return lsn_fail(err, LSN_ERR_IO, "%s: %s", doing, msg);
    }
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
            return lsn_fail(err, LSN_ERR_IO, "cannot create the store %s: %s", path,
                            strerror(errno));
        close(fd);
        flags |= SQLITE_OPEN_CREATE;
    }
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        lsn_err e = c->db ? lsn_fail(err, rc == SQLITE_NOMEM ? LSN_ERR_NOMEM : LSN_ERR_IO,
                                     "cannot open the store %s: %s", path,
                                     sqlite3_errmsg(c->db))
                          : lsn_fail(err, LSN_ERR_NOMEM, "cannot open the store %s", path);
        sqlite3_close(c->db);
        c->db = NULL;
        return e;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, 10000);
    lsn_err e;
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
    [SQ_BATCH_ITEMS] = { "INSERT INTO items(channel, author, organisation, label, marking_en, "
                         "marking_fr, classification, body, media_type, attachment, "
                         "created_ms, content_hash) VALUES ",
                         "(?,?,?,?,?,?,?,?,?,?,?,?)" },
    [SQ_BATCH_AUDIT] = { "INSERT INTO audit(seq, time_ms, actor, action, object, outcome, "
                         "detail, hash) VALUES ",
                         "(?,?,?,?,?,?,?,?)" },
};

sqlite3_stmt *sq_batch_stmt(sq_store *s, sq_batch kind, int rows)
{
    if (rows < 1 || rows > SQ_BATCH_MAX)
        lsn_misuse("store: a batch of no rows, or of too many");
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
        lsn_misuse("store: a batch statement longer than its buffer");
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
    char *dir = slash ? lsn_strndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : lsn_strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    lsn_free(dir);
}

lsn_err sq_schema_migrate(sq_conn *c, lsn_error *err)
{
    lsn_err e = exec(c, "BEGIN IMMEDIATE", err);
    if (e)
        return e;
    int v = user_version(c);
    if (v < 0) {
        e = sq_fail(c->db, err, "reading the schema version");
    } else if (v > SCHEMA_VERSION) {
        e = lsn_fail(err, LSN_ERR_IO,
                     "the store has schema version %d, newer than this program's %d", v,
                     SCHEMA_VERSION);
    } else {
        if (v < 1)
            e = exec(c, schema_v1, err);
        if (!e && v < 2)
            e = exec(c, schema_v1_to_v2, err);
        /* Later versions: `if (!e && v < 3) e = exec(c, schema_v2_to_v3, err);` */
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
