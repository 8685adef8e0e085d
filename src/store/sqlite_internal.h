/* store/sqlite_internal.h — what the files of the SQLite back-end share:
 * the store handle, connections with their prepared statements, and its
 * side of the group-commit writer (writer.h). Not for use outside
 * src/store. */
#ifndef STORE_SQLITE_INTERNAL_H
#define STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>

#include "store/anchor.h"
#include "store/seal.h"
#include "store/store.h"
#include "store/writer.h"

/* Every statement, by number; the SQL is in sqlite_conn.c. A connection
 * prepares a statement the first time it uses it. */
typedef enum sq_stmt {
    /* writer */
    SQ_BEGIN, SQ_READ_BEGIN, SQ_COMMIT, SQ_ROLLBACK, SQ_SAVEPOINT, SQ_RELEASE, SQ_ROLLBACK_TO,
    SQ_ORG_INSERT, SQ_USER_INSERT, SQ_USER_UPDATE, SQ_CHANNEL_INSERT, SQ_TOKEN_INSERT,
    SQ_TOKEN_DELETE, SQ_FTS_INDEX, SQ_CFTS_INDEX, SQ_CFTS_COUNT, SQ_CFTS_CLOSED,
    SQ_CLASS_INSERT, SQ_CLASS_ID, SQ_ITEM_TO_SEAL, SQ_ITEM_VERSIONED,
    /* readers */
    SQ_ORG_GET, SQ_ORG_LIST, SQ_USER_GET, SQ_USER_BY_TOKEN, SQ_USER_LIST, SQ_TOKEN_LIST, SQ_USER_BY_CERT, SQ_USER_BY_CERT_SUBJECT,
    SQ_CHANNEL_GET, SQ_CHANNEL_LIST, SQ_ITEM_GET, SQ_ITEM_LISTED, SQ_ITEM_LABEL,
    SQ_ITEM_FIND, SQ_ITEM_LIST, SQ_ITEM_LIST_ALL, SQ_ITEM_IDS_CC, SQ_ITEM_IDS_C,
    SQ_ITEM_SEARCH, SQ_ITEM_SEARCH_CLS, SQ_CFTS_FULL, SQ_ITEM_LAST, SQ_ITEM_NEXT_ID, SQ_CLASS_LIST, SQ_CLASS_LAST,
    SQ_AUDIT_LIST, SQ_AUDIT_HEAD,
    /* federation (sqlite_fed.h): writer, then readers */
    SQ_FED_BINDING_INSERT, SQ_FED_BINDING_KEEP, SQ_FED_OUTBOX_INSERT, SQ_FED_PEER_INSERT,
    SQ_FED_PEER_NOTE, SQ_FED_PEER_RECEIVED,
    SQ_FED_BINDING_GET, SQ_FED_PEER_LIST, SQ_FED_OUTBOX_LIST,
    /* release requests and versions (sqlite_rel.h): writer, then readers */
    SQ_REL_VERSION_INSERT, SQ_REL_HIDE, SQ_REL_ADOPT, SQ_REL_HISTORY_INSERT, SQ_REL_INSERT,
    SQ_REL_AUTH_INSERT, SQ_REL_STATE, SQ_REL_ANSWER_GET, SQ_REL_ANSWER_SET, SQ_REL_SET_STATE,
    SQ_REL_EXTEND,
    SQ_REL_GET, SQ_REL_AUTHS, SQ_REL_HISTORY, SQ_REL_LIST, SQ_REL_DUE, SQ_REL_VERSIONS,
    SQ_REL_TOMBSTONE_INSERT, SQ_REL_TOMBSTONE_GET,
    /* release messages with peers (sqlite_fedrel.h): writer, then reader */
    SQ_FEDREL_INSERT, SQ_FEDREL_DONE, SQ_FEDREL_LIST,
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
    /* The writer's: the id the open transaction's next item gets (0: not
     * read yet in this transaction; sq_insert_items reads it under the
     * write lock, since the seal covers the id). */
    int64_t next_id;
    /* The writer's: label text -> label class id, for classes committed
     * or inserted by the open transaction (cleared when one rolls back:
     * sq_class_cache_clear). Direct-mapped by hash. */
    struct sq_class_slot {
        char *label;
        int64_t id;
        uint8_t digest[SEAL_LEN]; /* of the class row's text (seal.h) */
    } classes[SQ_CLASS_SLOTS];
    /* The highest label class id committed (readers read it without SQL),
     * and whether the open transaction added a class (the writer's: then
     * its commit reads the highest id again: sqlite_writer.c). */
    _Atomic int64_t class_max;
    int class_added;
    /* The writer's: (class, channel) pairs past SQ_CFTS_PAIR_MAX, learnt
     * after a group's counts (forgotten with the class cache on any
     * rollback), and whether the open transaction inserted an item of a
     * pair not known to be past it: if not, sq_fts_index skips the
     * per-class index's statements. Direct-mapped by hash. */
    struct sq_pair_slot {
        int64_t class_id;
        char *channel; /* NULL: empty */
    } closed[SQ_CLASS_SLOTS];
    int cfts_open;
    /* The writer's: batch[kind][n] inserts n rows, prepared on first use. */
    sqlite3_stmt *batch[SQ_NBATCH][SQ_BATCH_MAX + 1];

    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    sq_conn *pool_free;
    int readers; /* connections opened for reading */

    /* Seals and the audit anchor (sqlite_seal.c). */
    seal_keys keys;
    anchor_writer *anchor; /* NULL while frozen: see sq_seal_anchor_start */
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
/* Create or upgrade the schema; refuse a database from a newer version.
 * `k` seals the items already stored when the seals' table is added. */
lsn_err sq_schema_migrate(sq_conn *c, const seal_keys *k, lsn_error *err);
/* Turn the error state of `db` into an lsn_error: a constraint becomes
 * LSN_ERR_DUPLICATE or LSN_ERR_ARG, anything else LSN_ERR_IO. */
lsn_err sq_fail(sqlite3 *db, lsn_error *err, const char *doing);
/* Step a prepared write to its end, then reset it and clear its bindings;
 * a failure says what was being done (`doing`). */
lsn_err sq_step_done(sq_conn *c, sqlite3_stmt *st, const char *doing, lsn_error *err);

/* The per-class index (items_cfts) holds the items of a (class, channel)
 * pair until the pair has this many: past it, the pair is common enough
 * that a reader who sees it finds its matches densely in items_fts (a
 * seek per match costs only when the reader's matches are far apart in
 * the word's postings: under 1 in ~800), and its writes cost nothing more.
 * A reader of pairs all under it searches items_cfts. */
#define SQ_CFTS_PAIR_MAX 10000

/* sqlite_class_fts.c: register the per-class index's tokenizer
 * ("lsn_class") on `db`; LSN_ERR_IO if SQLite has no FTS5. */
lsn_err sq_class_fts_register(sqlite3 *db);

/* sqlite_write.c: the writing entries of the ops table. */
lsn_err sq_org_add(store *b, const char *name, const char *category, int64_t *id_out,
                   lsn_error *err);
lsn_err sq_channel_add(store *b, const char *name, const char *purpose, bool local,
                       int64_t *id_out, lsn_error *err);
lsn_err sq_user_add(store *b, const store_user *u, int64_t *id_out, lsn_error *err);
lsn_err sq_token_add(store *b, const store_token *t, const uint8_t hash[STORE_HASH_LEN],
                     lsn_error *err);
lsn_err sq_token_revoke(store *b, const char *user, const char *name, lsn_error *err);
lsn_err sq_user_update(store *b, const char *name, const store_user_change *ch,
                       lsn_error *err);
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

/* The item of a row of an item statement as it is, unchecked: for the
 * upgrade that seals the stored items (row_item checks every other read). */
void sq_row_item_raw(sqlite3_stmt *st, store_item *it);

/* sqlite_seal.c: seals of items and the audit anchor (seal.h, anchor.h). */
/* Every item statement reads the item's seal as columns SQ_SEAL_COL..+2:
 * body digest, attachment digest, MAC (sqlite_conn.c, SEAL_COLS). */
#define SQ_SEAL_COL 16
#define SQ_VER_COL 19  /* then a later version's link: the item's public id, its number */
#define SQ_NAME_COL 21 /* after the version columns (19-20): the attachment's file name */
#define SQ_LATER_COL 22 /* then 1 for a superseded row not hidden (a mark removed) */
/* Load (or, for a store without seals, make) the key of s->path. */
lsn_err sq_seal_open(sq_store *s, lsn_error *err);
/* Schema step to version 4: the item_seals table, and a seal for every
 * item already stored. In the migration's transaction. */
lsn_err sq_seal_schema_v4(sq_conn *c, const seal_keys *k, lsn_error *err);
/* Schema step to `version` (13): the seals move into the items' rows, the
 * later versions' seals cover their links (re-made only for a row whose
 * old seal holds), hidden marks get their MAC. In the migration's
 * transaction. */
lsn_err sq_seal_schema_row(sq_conn *c, const seal_keys *k, int version, lsn_error *err);
/* Check the anchor against the log (whose head it reads through
 * sq_writer_ops.audit_head, after the anchor) and start the anchor's
 * writer into s->anchor, which the group-commit writer is then given: its
 * after_commit notes each new head (writer.c). A mismatch leaves s->anchor
 * NULL (frozen) and raises an alarm. Before writer_start. */
lsn_err sq_seal_anchor_start(sq_store *s, lsn_error *err);
/* Stop the anchor's writer, wipe the keys. After the writer stopped. */
void sq_seal_close(sq_store *s);
/* Check the item `it` just read from row `st` (seal columns at
 * SQ_SEAL_COL) at `level`: 1 to hand it on, 0 to withhold it (it failed
 * its seal: audited, alarm raised). */
int sq_seal_row(sq_store *s, sqlite3_stmt *st, const store_item *it, seal_level level);
/* The seal columns of row `st` (SQ_SEAL_COL..) into *row. */
void sq_seal_cols(sqlite3_stmt *st, seal_row *row);
/* Whether the item `it`, read by a restricted read through an index, is
 * of `channel` (NULL: any) and of a class of `vis` (NULL: any): 1, or 0
 * after raising the alarm (the index was altered; withhold it). */
int sq_seal_asked(sq_store *s, const store_item *it, const char *channel,
                  const store_classes *vis);
/* The `anchor` entry of the ops table. */
lsn_err sq_anchor_read(store *b, store_anchor *out, lsn_error *err);

/* sqlite_writer.c: the SQLite writer_ops (transactions, savepoints, the
 * audit head, the commit with its full-text indexing). */
extern const writer_ops sq_writer_ops;

/* sqlite_read.c */
lsn_err sq_reader_take(sq_store *s, sq_conn **out, lsn_error *err);
void sq_reader_give(sq_store *s, sq_conn *c);

/* A statement's parameter (store_sqlite.c sq_query): text, integer, blob
 * (len 0: STORE_HASH_LEN bytes) or none. */
typedef struct sq_arg {
    enum { SQ_A_NONE, SQ_A_TEXT, SQ_A_INT, SQ_A_BLOB } kind;
    const char *text;
    int64_t num;
    const void *blob;
    int len;
} sq_arg;
#define SQ_TEXT(t) ((sq_arg){ .kind = SQ_A_TEXT, .text = (t) })
#define SQ_INT(n) ((sq_arg){ .kind = SQ_A_INT, .num = (n) })
#define SQ_HASH(b) ((sq_arg){ .kind = SQ_A_BLOB, .blob = (b) })
#define SQ_NONE ((sq_arg){ .kind = SQ_A_NONE })
/* Called with each row: STORE_NEXT, STORE_STOP, or < 0 when out of
 * memory (the query then fails with LSN_ERR_NOMEM). */
typedef int (*sq_row_fn)(void *ctx, sqlite3_stmt *st);
/* Run statement `which` on a reader connection with up to three
 * parameters, handing each row to fn until it answers other than
 * STORE_NEXT. The one read loop of the SQLite back-end. */
lsn_err sq_query(sq_store *s, sq_stmt which, sq_arg a1, sq_arg a2, sq_arg a3, sq_row_fn fn,
                 void *ctx, const char *doing, lsn_error *err);
void sq_readers_close(sq_store *s);

#endif
