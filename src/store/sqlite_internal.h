/* store/sqlite_internal.h — what the files of the SQLite back-end share:
 * the store handle, connections with their prepared statements, and its
 * side of the group-commit writer (writer.h). Not for use outside
 * src/store. */
#ifndef STORE_SQLITE_INTERNAL_H
#define STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/writer.h"

/* Every statement, by number; the SQL is in sqlite_conn.c. A connection
 * prepares a statement the first time it uses it. */
typedef enum sq_stmt {
    /* writer */
    SQ_BEGIN, SQ_READ_BEGIN, SQ_COMMIT, SQ_ROLLBACK, SQ_SAVEPOINT, SQ_RELEASE, SQ_ROLLBACK_TO,
    SQ_ORG_INSERT, SQ_USER_INSERT, SQ_CHANNEL_INSERT, SQ_FTS_INDEX,
    SQ_CLASS_INSERT, SQ_CLASS_ID,
    /* readers */
    SQ_ORG_GET, SQ_ORG_LIST, SQ_USER_GET, SQ_USER_BY_TOKEN, SQ_USER_LIST,
    SQ_CHANNEL_GET, SQ_CHANNEL_LIST, SQ_ITEM_GET, SQ_ITEM_LISTED, SQ_ITEM_LABEL,
    SQ_ITEM_FIND, SQ_ITEM_LIST, SQ_ITEM_LIST_ALL, SQ_ITEM_IDS_CC, SQ_ITEM_IDS_C,
    SQ_ITEM_SEARCH, SQ_ITEM_LAST, SQ_CLASS_LIST, SQ_CLASS_LAST,
    SQ_AUDIT_LIST, SQ_AUDIT_HEAD,
    /* federation (sqlite_fed.h): writer, then readers */
    SQ_FED_BINDING_INSERT, SQ_FED_BINDING_KEEP, SQ_FED_OUTBOX_INSERT, SQ_FED_PEER_INSERT,
    SQ_FED_BINDING_GET, SQ_FED_PEER_LIST, SQ_FED_OUTBOX_LIST,
    SQ_NSTMT
} sq_stmt;

/* The writer's multi-row inserts: items, and audit records. A run of up to
 * SQ_BATCH_MAX items of one group is one INSERT (sqlite_write.c). */
typedef enum sq_batch { SQ_BATCH_ITEMS, SQ_BATCH_AUDIT, SQ_NBATCH } sq_batch;
#define SQ_BATCH_MAX WRITER_RUN_MAX

typedef struct sq_conn {
    sqlite3 *db;
    sqlite3_stmt *st[SQ_NSTMT];
    struct sq_conn *next_free; /* in the reader pool */
} sq_conn;

typedef struct sq_store sq_store;

#define SQ_READERS_MAX 64
#define SQ_CLASS_SLOTS 256

struct sq_store {
    store base;
    char *path;
    sq_conn w; /* the writer's connection: only the writer thread uses it
                  once open returns */
    writer writer; /* the group-commit writer (writer.h), with sq_writer_ops */
    /* The writer's: the first item id inserted by the open transaction (0:
     * none yet). Every item with an id >= it was inserted by this
     * transaction (ids only grow), and sq_fts_index indexes them. */
    int64_t fts_from;
    /* The writer's: label text -> label class id, for classes committed
     * or inserted by the open transaction (cleared when one rolls back:
     * sq_class_cache_clear). Direct-mapped by hash. */
    struct sq_class_slot {
        char *label;
        int64_t id;
    } classes[SQ_CLASS_SLOTS];
    /* The highest label class id committed (readers read it without SQL),
     * and whether the open transaction added a class (the writer's: then
     * its commit reads the highest id again: sqlite_writer.c). */
    _Atomic int64_t class_max;
    int class_added;
    /* The writer's: batch[kind][n] inserts n rows, prepared on first use. */
    sqlite3_stmt *batch[SQ_NBATCH][SQ_BATCH_MAX + 1];

    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    sq_conn *pool_free;
    int readers; /* connections opened for reading */
};

/* sqlite_conn.c */
/* Open a connection to `path` with the store's pragmas. `create` makes the
 * file if absent (the writer only). */
lsn_err sq_conn_open(sq_conn *c, const char *path, int create, lsn_error *err);
void sq_conn_close(sq_conn *c);
/* The prepared statement `which` on `c`, reset and unbound; NULL if it could
 * not be prepared (then sq_fail(c->db, ...) tells why). */
sqlite3_stmt *sq_prepare(sq_conn *c, sq_stmt which);
/* The writer's statement inserting `rows` rows (1..SQ_BATCH_MAX) of `kind`,
 * reset and unbound; NULL if it could not be prepared (sq_fail tells why).
 * Writer thread only. */
sqlite3_stmt *sq_batch_stmt(sq_store *s, sq_batch kind, int rows);
/* Finalize the batch statements: before the writer's connection closes. */
void sq_batch_finalize(sq_store *s);
/* Create or upgrade the schema; refuse a database from a newer version. */
lsn_err sq_schema_migrate(sq_conn *c, lsn_error *err);
/* Turn the error state of `db` into an lsn_error: a constraint becomes
 * LSN_ERR_DUPLICATE or LSN_ERR_ARG, anything else LSN_ERR_IO. */
lsn_err sq_fail(sqlite3 *db, lsn_error *err, const char *doing);

/* sqlite_write.c: the writing entries of the ops table. */
lsn_err sq_org_add(store *b, const char *name, const char *category, int64_t *id_out,
                   lsn_error *err);
lsn_err sq_channel_add(store *b, const char *name, const char *purpose,
                       int64_t *id_out, lsn_error *err);
lsn_err sq_user_add(store *b, const store_user *u, int64_t *id_out, lsn_error *err);
lsn_err sq_item_append(store *b, const store_item *it, store_audit_event *post,
                       int64_t *id_out, uint8_t hash_out[STORE_HASH_LEN], lsn_error *err);
lsn_err sq_item_append_async(store *b, const store_item *it, const store_audit_event *post,
                             store_append_cb done, void *ctx, lsn_error *err);
lsn_err sq_audit_append(store *b, store_audit_event *ev, lsn_error *err);

/* The writer's inserts (writer_ops.insert_items, .insert_audit). */
lsn_err sq_insert_items(void *be, writer_item *const *items, int n, lsn_error *err);
lsn_err sq_insert_audit(void *be, const store_audit_event *const *evs, int n,
                        lsn_error *err);

/* Add the bodies of the items the open transaction inserted (id >=
 * s->fts_from) to the full-text index, in one statement, so that FTS5
 * writes one segment per group. Writer only; nothing to do when
 * s->fts_from is 0. */
lsn_err sq_fts_index(sq_store *s, lsn_error *err);

/* Forget the writer's label classes: after a rollback, some of them may
 * not exist. Writer only. */
void sq_class_cache_clear(sq_store *s);

/* Read the highest label class id into s->class_max (writer connection:
 * at open, and after a commit that added a class). */
lsn_err sq_class_max_load(sq_store *s, lsn_error *err);

/* sqlite_writer.c: the SQLite writer_ops (transactions, savepoints, the
 * audit head, the commit with its full-text indexing). */
extern const writer_ops sq_writer_ops;

/* sqlite_read.c */
lsn_err sq_reader_take(sq_store *s, sq_conn **out, lsn_error *err);
void sq_reader_give(sq_store *s, sq_conn *c);
void sq_readers_close(sq_store *s);

#endif
