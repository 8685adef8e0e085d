/* store/pg_internal.h — what the files of the PostgreSQL back-end share:
 * the store handle, connections with their prepared statements, the one
 * query loop, reading columns of binary results, and its side of the
 * group-commit writer (writer.h). Not for use outside src/store. */
#ifndef STORE_PG_INTERNAL_H
#define STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>

#include "store/anchor.h"
#include "store/seal.h"
#include "store/store.h"
#include "store/writer.h"

/* Every statement, by number; the SQL is in pg_conn.c. A connection
 * prepares a statement the first time it uses it. */
typedef enum pg_stmt {
    /* writer */
    PG_AUDIT_HEAD, PG_ITEM_NEXT_ID, PG_ITEM_INSERT, PG_AUDIT_INSERT,
    PG_CLASS_INSERT, PG_CLASS_ID, PG_ORG_INSERT, PG_USER_INSERT, PG_USER_UPDATE,
    PG_CHANNEL_INSERT, PG_TOKEN_INSERT, PG_TOKEN_DELETE,
    PG_FED_BINDING_INSERT, PG_FED_BINDING_KEEP, PG_FED_OUTBOX_INSERT, PG_FED_PEER_INSERT,
    PG_FED_PEER_NOTE, PG_FED_PEER_RECEIVED,
    PG_REL_VERSION_INSERT, PG_REL_HIDE, PG_REL_ADOPT, PG_REL_HISTORY_INSERT, PG_REL_INSERT,
    PG_REL_AUTH_INSERT, PG_REL_STATE, PG_REL_ANSWER_GET, PG_REL_ANSWER_SET, PG_REL_SET_STATE,
    PG_REL_EXTEND, PG_REL_TOMBSTONE_INSERT, PG_FEDREL_INSERT, PG_FEDREL_DONE,
    /* readers */
    PG_ORG_GET, PG_ORG_LIST, PG_USER_GET, PG_USER_BY_TOKEN, PG_USER_LIST, PG_TOKEN_LIST,
    PG_USER_BY_CERT, PG_USER_BY_CERT_SUBJECT, PG_CHANNEL_GET, PG_CHANNEL_LIST, PG_ITEM_GET, PG_ITEM_LABEL,
    PG_ITEM_FIND, PG_ITEM_LIST, PG_ITEM_LIST_ALL, PG_ITEM_LIST_CC, PG_ITEM_LIST_C,
    PG_ITEM_SEARCH, PG_ITEM_SEARCH_IN, PG_ITEM_SEARCH_CC, PG_ITEM_SEARCH_C, PG_ITEM_LAST,
    PG_CLASS_LIST, PG_CLASS_LAST,
    PG_AUDIT_LIST, PG_AUDIT_HASH_AT, PG_SEALS_WHERE, PG_HAS_SEALS_TABLE,
    PG_HAS_SEALS_ROW, PG_ITEM_VERSIONED, PG_ITEM_RESEAL, PG_HIDDEN_ALL, PG_HIDDEN_SEAL,
    PG_FED_BINDING_GET, PG_FED_PEER_LIST, PG_FED_OUTBOX_LIST,
    PG_REL_GET, PG_REL_AUTHS, PG_REL_HISTORY, PG_REL_LIST, PG_REL_DUE, PG_REL_VERSIONS,
    PG_REL_TOMBSTONE_GET,
    PG_FEDREL_LIST,
    PG_NSTMT
} pg_stmt;

typedef struct pg_conn {
    PGconn *db;
    unsigned char prepared[PG_NSTMT]; /* 1: prepared on this connection */
    struct pg_conn *next_free;        /* in the reader pool */
} pg_conn;

#define PG_READERS_MAX 32
#define PG_CLASS_SLOTS 256
/* Rows read per statement by a paged read (listings, search, audit). */
#define PG_PAGE 256

typedef struct pg_store {
    store base;
    char *conninfo;
    char *key_path; /* KEY_DIR/postgresql: .key and .anchor beside it */
    pg_conn w;      /* the writer's connection (the writer thread's once open returns) */
    writer writer;  /* the group-commit writer, with pg_writer_ops */
    /* The writer's: label text -> class id and class digest, for classes
     * committed or added by the open transaction (cleared on rollback). */
    struct pg_class_slot {
        char *label;
        int64_t id;
        uint8_t digest[SEAL_LEN];
    } classes[PG_CLASS_SLOTS];

    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    pg_conn *pool_free;
    int readers;

    seal_keys keys;
    anchor_writer *anchor; /* NULL while frozen */

    /* The writer's: the open transaction appended items (its commit
     * notifies PG_NOTIFY_CHANNEL). */
    int items_added;
    /* changes_wait's connection, LISTENing (opened on first use). */
    pg_conn listen;
} pg_store;

/* The channel every writer notifies once per transaction that appended
 * items: a wake-up for the other node processes (store_changes_wait). */
#define PG_NOTIFY_CHANNEL "liaison_items"

/* A statement's parameter: text, integer (sent as text), bytes (binary;
 * len 0 with bytes set: STORE_HASH_LEN) or NULL. */
typedef struct pg_arg {
    enum { PG_A_NULL, PG_A_TEXT, PG_A_INT, PG_A_BYTES } kind;
    const char *text;
    int64_t num;
    const void *bytes;
    size_t len;
} pg_arg;
static inline pg_arg pg_text_arg(const char *t)
{ return (pg_arg){ .kind = t ? PG_A_TEXT : PG_A_NULL, .text = t }; }
static inline pg_arg pg_hash_arg(const void *b)
{ return (pg_arg){ .kind = b ? PG_A_BYTES : PG_A_NULL, .bytes = b, .len = STORE_HASH_LEN }; }
#define PG_TEXT(t) pg_text_arg(t)       /* NULL: SQL NULL */
#define PG_INT(n) ((pg_arg){ .kind = PG_A_INT, .num = (n) })
#define PG_HASH(b) pg_hash_arg(b)       /* NULL: SQL NULL */
#define PG_BYTES(b, n) ((pg_arg){ .kind = PG_A_BYTES, .bytes = (b), .len = (n) })
#define PG_NULL ((pg_arg){ .kind = PG_A_NULL })
#define PG_ARGS_MAX 15

/* pg_conn.c */
/* Connect with the store's session settings (synchronous_commit on, UTF-8). */
lsn_err pg_conn_open(pg_conn *c, const char *conninfo, lsn_error *err);
void pg_conn_close(pg_conn *c);
/* Run statement `which` with n parameters; *res (PQclear it) holds its
 * rows (binary format) or its command status. */
lsn_err pg_run(pg_conn *c, pg_stmt which, const pg_arg *args, int n, PGresult **res,
               const char *doing, lsn_error *err);
/* Statements sent back to back and their results read after (libpq's
 * pipeline mode: one round trip for all): each one's parameters, and the
 * rows it must change (-1: any; otherwise `none` is the error). */
typedef struct pg_pipe_stmt {
    pg_stmt which;
    const pg_arg *args;
    int n;
    int rows;
    const char *doing, *none;
} pg_pipe_stmt;
/* Run q[0..n) in one pipeline; the first failure's error. */
lsn_err pg_pipeline(pg_conn *c, const pg_pipe_stmt *q, int n, lsn_error *err);
/* Run plain SQL (no parameters, no rows wanted). */
lsn_err pg_exec(pg_conn *c, const char *sql, const char *doing, lsn_error *err);
/* The error of a failed result (or of the connection when res is NULL):
 * a unique violation is LSN_ERR_DUPLICATE, another constraint or bad input
 * LSN_ERR_ARG, a value too large LSN_ERR_LIMIT, anything else LSN_ERR_IO. */
lsn_err pg_fail(pg_conn *c, const PGresult *res, lsn_error *err, const char *doing);
/* Check the database (UTF-8, C collation), create or upgrade the schema;
 * refuse a database from a newer version. */
lsn_err pg_schema_migrate(pg_conn *c, const seal_keys *k, lsn_error *err);

/* Columns of a binary result row. */
const char *pg_col_text(const PGresult *r, int row, int col);      /* NULL: "" */
const char *pg_col_text_or_null(const PGresult *r, int row, int col);
int64_t pg_col_int(const PGresult *r, int row, int col);           /* NULL: 0 */
void pg_col_hash(const PGresult *r, int row, int col, uint8_t out[STORE_HASH_LEN]);
int pg_col_null(const PGresult *r, int row, int col);

/* The reader pool. */
lsn_err pg_reader_take(pg_store *s, pg_conn **out, lsn_error *err);
void pg_reader_give(pg_store *s, pg_conn *c);
void pg_readers_close(pg_store *s);

/* Called with each row: STORE_NEXT, STORE_STOP, or < 0 when out of memory. */
typedef int (*pg_row_fn)(void *ctx, const PGresult *r, int row);
/* Run `which` on a reader connection and hand each row to fn. When
 * `page_at` >= 0 the read is paged: args[page_at] is the key to read after
 * (column 0 of each row, increasing) and the statement's last parameter
 * its LIMIT (PG_PAGE, or less when the caller set it lower): the statement runs again after the last
 * row until fewer than PG_PAGE come back or fn stops. */
lsn_err pg_query(pg_store *s, pg_stmt which, pg_arg *args, int n, int page_at, pg_row_fn fn,
                 void *ctx, const char *doing, lsn_error *err);

/* store_pg.c: an item row (the columns of pg_conn.c's ITEM_COLS), unchecked. */
void pg_row_item_raw(const PGresult *r, int row, store_item *it);
/* Item rows carry the item's seal as columns PG_SEAL_COL..+2. */
#define PG_SEAL_COL 16
#define PG_NAME_COL 19 /* then the attachment's file name */
#define PG_VER_COL 20  /* then the item's public id and version of a later version */
#define PG_LATER_COL 22 /* then 1 for a superseded row not hidden (a mark removed) */

/* pg_write.c */
extern const writer_ops pg_writer_ops;
void pg_class_cache_clear(pg_store *s);
lsn_err pg_org_add(store *b, const char *name, const char *category, int64_t *id_out,
                   lsn_error *err);
lsn_err pg_channel_add(store *b, const char *name, const char *purpose, bool local, int64_t *id_out,
                       lsn_error *err);
lsn_err pg_user_add(store *b, const store_user *u, int64_t *id_out, lsn_error *err);
lsn_err pg_user_update(store *b, const char *name, const store_user_change *ch,
                       lsn_error *err);
lsn_err pg_token_add(store *b, const store_token *t, const uint8_t hash[STORE_HASH_LEN],
                     lsn_error *err);
lsn_err pg_token_revoke(store *b, const char *user, const char *name, lsn_error *err);
lsn_err pg_item_append(store *b, const store_item *it, store_audit_event *post,
                       int64_t *id_out, uint8_t hash_out[STORE_HASH_LEN], lsn_error *err);
lsn_err pg_item_append_async(store *b, const store_item *it, const store_audit_event *post,
                             store_append_cb done, void *ctx, lsn_error *err);
lsn_err pg_audit_append(store *b, store_audit_event *ev, lsn_error *err);

/* pg_seal.c */
lsn_err pg_seal_open(pg_store *s, lsn_error *err);
int pg_seal_row(pg_store *s, const PGresult *r, int row, const store_item *it,
                seal_level level);
int pg_seal_asked(pg_store *s, const store_item *it, const char *channel,
                  const store_classes *vis);
lsn_err pg_seal_anchor_start(pg_store *s, lsn_error *err);
void pg_seal_close(pg_store *s);
/* The upgrade to version 13, between its SQL's head and tail: each later
 * version's seal made again over its link (only where its old seal holds),
 * each hidden mark sealed as it is. */
lsn_err pg_seal_schema_row(pg_conn *c, const seal_keys *k, lsn_error *err);
lsn_err pg_anchor_read(store *b, store_anchor *out, lsn_error *err);

/* pg_fed.c */
lsn_err pg_fed_item_written(pg_store *s, int64_t id, const store_item *it, lsn_error *err);
extern const struct store_fed_ops pg_fed_ops;

#endif
