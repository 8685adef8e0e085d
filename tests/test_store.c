/* tests/test_store.c — what only the SQLite back-end has: its files (mode
 * 0600, WAL), schema upgrades (a version 2 data directory), and its
 * full-text index held exactly once per item after groups with refused
 * posts, lost transactions (a trigger's RAISE(ROLLBACK)) and index
 * failures. What every back-end must do is the store contract
 * (tests/store_contract.c, run on SQLite by URI). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "liaison/alloc.h"
#include "store/audit.h"
#include "store/store.h"
#include "tap.h"

static char dir[64];

static void db_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s.db", dir, name);
}

static void remove_db(const char *path)
{
    char p[256];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s.key", path);
    unlink(p);
    snprintf(p, sizeof p, "%s.anchor", path);
    unlink(p);
}

static store *open_fresh(const char *name, char *path, size_t n)
{
    db_path(path, n, name);
    remove_db(path);
    store *s = NULL;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK) {
        printf("# open %s: %s\n", path, err.message);
        return NULL;
    }
    return s;
}

static store_item sample_item(const char *channel, const char *body)
{
    return (store_item){
        .channel = channel, .author = "aiko", .organisation = "Mission of Japan",
        .label = "{\"policy\":\"NATO\",\"classification\":\"NATO RESTRICTED\","
                 "\"categories\":{\"Releasable To\":[\"JPN\"]}}",
        .marking_en = "NATO RESTRICTED Releasable to JPN",
        .marking_fr = "NATO DIFFUSION RESTREINTE Communicable à JPN",
        .classification = 2, .body = body, .created_ms = 1700000000123,
    };
}

/* ---- the file, read behind the store's back ------------------------------ */

static int count_item(void *ctx, const store_item *it)
{
    (void)it;
    ++*(int *)ctx;
    return STORE_NEXT;
}

/* How many items a search finds (-1 on error). */
static int search_count(store *s, const char *q)
{
    int n = 0;
    lsn_error err;
    if (store_item_search(s, q, NULL, NULL, 0, count_item, &n, &err) != LSN_OK) {
        printf("# search '%s': %s\n", q, err.message);
        return -1;
    }
    return n;
}

/* The first integer of a query on the raw file (-1 on error). */
static long long raw_int(const char *path, const char *q)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        printf("# %s: %s\n", q, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* How many rows FTS5 counts in its index: the first varint (SQLite's
 * encoding) of its "averages" record, items_fts_data row 1. A row indexed
 * twice counts twice, although search and fts5vocab show it once. */
static long long fts_row_count(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, "SELECT block FROM items_fts_data WHERE id = 1", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *b = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        n = 0;
        for (int i = 0; i < len && i < 8; i++) {
            n = (n << 7) | (b[i] & 0x7f);
            if (!(b[i] & 0x80))
                break;
        }
    }
    sqlite3_finalize(st);
    return n;
}

/* The full-text index holds every item exactly once, and nothing else
 * (FTS5's own integrity-check does not compare an external-content index
 * with its table): FTS5 counts as many rows as items has; through
 * fts5vocab, every item whose body has a letter or digit is indexed, no
 * indexed row is missing from items, and no word instance (term, row,
 * offset) is there twice. */
static int fts_index_matches_items(const char *path)
{
    sqlite3 *db;
    int good = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE temp.fts_words USING "
                     "fts5vocab(main, items_fts, 'instance')",
                     NULL, NULL, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        const char *q =
            "SELECT (SELECT count(*) FROM items WHERE body GLOB '*[A-Za-z0-9]*' AND id NOT IN "
            "        (SELECT doc FROM temp.fts_words)),"
            "       (SELECT count(*) FROM (SELECT DISTINCT doc FROM temp.fts_words) "
            "        WHERE doc NOT IN (SELECT id FROM items)),"
            "       (SELECT count(*) FROM (SELECT count(*) AS n FROM temp.fts_words "
            "        GROUP BY term, doc, col, offset) WHERE n > 1),"
            "       (SELECT count(*) FROM temp.fts_words)";
        if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            long long missing = sqlite3_column_int64(st, 0),
                      stray = sqlite3_column_int64(st, 1),
                      twice = sqlite3_column_int64(st, 2),
                      words = sqlite3_column_int64(st, 3);
            long long rows = fts_row_count(db);
            long long items = raw_int(path, "SELECT count(*) FROM items");
            good = missing == 0 && stray == 0 && twice == 0 && words > 0 && rows == items;
            if (!good)
                printf("# index: %lld items missing, %lld stray rows, %lld words twice, "
                       "%lld words, %lld rows for %lld items\n", missing, stray, twice, words,
                       rows, items);
        }
        sqlite3_finalize(st);
    }
    if (!good)
        printf("# %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return good;
}

/* ---- groups with refused posts ------------------------------------------ */

/* 8 threads post 20 items each; every fifth post of the odd threads names
 * a channel that does not exist, so that groups mix good and refused
 * writes and are run again the careful way. The index then holds every
 * stored item exactly once. */
#define MIX_THREADS 8
#define MIX_PER 20
#define MIX_REFUSED(t, i) ((t) % 2 && (i) % 5 == 0)

typedef struct mix_poster {
    store *s;
    int t, failures;
} mix_poster;

static void *post_mixed(void *arg)
{
    mix_poster *p = arg;
    for (int i = 0; i < MIX_PER; i++) {
        char body[64];
        snprintf(body, sizeof body, "mixed thread %d post %d", p->t, i);
        int bad = MIX_REFUSED(p->t, i);
        store_item it = sample_item(bad ? "no-such-channel" : "cyber-defence", body);
        store_audit_event ev = { .actor = "aiko", .action = "post", .outcome = "ok" };
        int64_t id;
        lsn_error err;
        lsn_err e = store_item_append(p->s, &it, &ev, &id, NULL, &err);
        p->failures += bad ? e != LSN_ERR_ARG : e != LSN_OK;
    }
    return NULL;
}

static void test_refused_in_groups(void)
{
    char path[128];
    store *s = open_fresh("mixed", path, sizeof path);
    lsn_error err;
    if (!s || store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) != LSN_OK) {
        ok(0, "mixed_setup");
        store_close(s);
        return;
    }
    static mix_poster ps[MIX_THREADS];
    pthread_t th[MIX_THREADS];
    for (int t = 0; t < MIX_THREADS; t++) {
        ps[t] = (mix_poster){ .s = s, .t = t };
        pthread_create(&th[t], NULL, post_mixed, &ps[t]);
    }
    int failures = 0;
    for (int t = 0; t < MIX_THREADS; t++) {
        pthread_join(th[t], NULL);
        failures += ps[t].failures;
    }
    ok(failures == 0, "posts_next_to_refused_ones_succeed");
    int stored = MIX_THREADS * MIX_PER - (MIX_THREADS / 2) * (MIX_PER / 5);
    ok(search_count(s, "mixed") == stored, "search_finds_every_stored_post_once");
    store_close(s);
    ok(fts_index_matches_items(path),
       "index_holds_every_item_once_after_groups_with_refused_posts");
    remove_db(path);
}

/* ---- a write that fails inside the writer ---------------------------------- */

/* A trigger planted in the file behind the store's back (as a failing disk
 * would fail a write) makes one kind of post fail inside the writer's
 * group. 8 threads post 20 items each; thread 0 posts the bad body every
 * fourth time. */
#define PLANT_THREADS 8
#define PLANT_PER 20
#define PLANTED_POST(t, i) ((t) == 0 && (i) % 4 == 1)
#define PLANTED_TOTAL (PLANT_PER / 4)

typedef struct plant_poster {
    store *s;
    int t;
    const char *bad_body, *prefix;
    int64_t ids[PLANT_PER];
    lsn_err rc[PLANT_PER];
} plant_poster;

static void *post_planted(void *arg)
{
    plant_poster *p = arg;
    for (int i = 0; i < PLANT_PER; i++) {
        char body[64];
        if (PLANTED_POST(p->t, i))
            snprintf(body, sizeof body, "%s", p->bad_body);
        else
            snprintf(body, sizeof body, "%s thread %d post %d", p->prefix, p->t, i);
        store_item it = sample_item("cyber-defence", body);
        store_audit_event ev = { .actor = "aiko", .action = "post", .outcome = "ok" };
        lsn_error err;
        p->rc[i] = store_item_append(p->s, &it, &ev, &p->ids[i], NULL, &err);
    }
    return NULL;
}

typedef struct planted {
    char path[128];
    plant_poster ps[PLANT_THREADS];
    int acked;     /* good posts acknowledged */
    int bad_acked; /* bad posts acknowledged */
    int honest;    /* every acknowledged good post stored with its body, every
                      failed post without an id */
} planted;

/* Plant `trigger` in a fresh store `name`, post concurrently, reopen the
 * store and count. Returns the reopened store, or NULL after a failed
 * check. */
static store *run_planted(planted *pl, const char *name, const char *trigger,
                          const char *bad_body, const char *prefix)
{
    store *s = open_fresh(name, pl->path, sizeof pl->path);
    lsn_error err;
    if (!s || store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) != LSN_OK) {
        ok(0, "%s_setup", name);
        store_close(s);
        return NULL;
    }
    store_close(s);
    sqlite3 *db;
    int made = sqlite3_open(pl->path, &db) == SQLITE_OK &&
               sqlite3_exec(db, trigger, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    ok(made, "%s_trigger_planted", name);
    if (!made || store_open(pl->path, &s, &err) != LSN_OK)
        return NULL;
    pthread_t th[PLANT_THREADS];
    for (int t = 0; t < PLANT_THREADS; t++) {
        pl->ps[t] = (plant_poster){ .s = s, .t = t, .bad_body = bad_body, .prefix = prefix };
        pthread_create(&th[t], NULL, post_planted, &pl->ps[t]);
    }
    for (int t = 0; t < PLANT_THREADS; t++)
        pthread_join(th[t], NULL);
    store_close(s);
    if (store_open(pl->path, &s, &err) != LSN_OK) {
        ok(0, "store_reopens_after_%s", name);
        return NULL;
    }
    pl->acked = pl->bad_acked = 0;
    pl->honest = 1;
    for (int t = 0; t < PLANT_THREADS; t++) {
        for (int i = 0; i < PLANT_PER; i++) {
            const plant_poster *p = &pl->ps[t];
            if (p->rc[i] != LSN_OK) {
                pl->honest &= p->ids[i] == 0;
                continue;
            }
            if (PLANTED_POST(t, i)) {
                pl->bad_acked++;
                continue;
            }
            pl->acked++;
            store_item *it = NULL;
            char body[64];
            snprintf(body, sizeof body, "%s thread %d post %d", prefix, t, i);
            if (store_item_get(s, p->ids[i], &it, &err) != LSN_OK || !it ||
                strcmp(it->body, body) != 0)
                pl->honest = 0;
            lsn_free(it);
        }
    }
    return s;
}

static int chain_holds(store *s, int entries)
{
    audit_report r;
    lsn_error err;
    return audit_verify(s, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT &&
           r.entries == (uint64_t)entries;
}

/* A trigger that rolls back the whole transaction when a "poison" item is
 * inserted. The other posts of that group are run again without it:
 * nothing may be acknowledged that is not stored, nothing innocent fails,
 * and the audit chain stays whole. */
static void test_lost_transaction(void)
{
    static planted pl;
    store *s = run_planted(&pl, "lost",
                           "CREATE TRIGGER poison BEFORE INSERT ON items "
                           "WHEN new.body = 'poison' BEGIN "
                           "SELECT RAISE(ROLLBACK, 'poisoned'); END;",
                           "poison", "lost-test");
    if (!s)
        return;
    int poison_refused = pl.bad_acked == 0;
    for (int i = 0; i < PLANT_PER; i++)
        if (PLANTED_POST(0, i))
            poison_refused &= pl.ps[0].rc[i] == LSN_ERR_ARG;
    ok(poison_refused, "poisoned_posts_are_refused");
    ok(pl.honest, "every_post_acknowledged_next_to_a_lost_transaction_is_stored");
    ok(pl.acked == PLANT_THREADS * PLANT_PER - PLANTED_TOTAL,
       "every_other_post_succeeds_the_lost_transactions_are_run_again (%d)", pl.acked);
    ok(chain_holds(s, pl.acked), "audit_chain_has_exactly_the_acknowledged_posts");
    ok(search_count(s, "poison") == 0, "search_does_not_find_a_poisoned_post");
    ok(search_count(s, "lost-test") == pl.acked,
       "search_finds_exactly_the_acknowledged_posts");
    store_close(s);
    ok(fts_index_matches_items(pl.path),
       "index_holds_every_item_once_after_lost_transactions");
    remove_db(pl.path);
}

/* ---- the full-text index: one statement per group ------------------------- */

/* A failure while indexing a group's bodies (a trigger on FTS5's own
 * docsize table refuses one body) fails the whole group: nothing of it is
 * committed or acknowledged, and every post that was acknowledged is stored
 * and found. */
static void test_index_failure(void)
{
    static planted pl;
    store *s = run_planted(&pl, "index_failure",
                           "CREATE TRIGGER unindexable BEFORE INSERT ON items_fts_docsize "
                           "WHEN (SELECT body FROM items WHERE id = new.id) = 'unindexable' "
                           "BEGIN SELECT RAISE(ABORT, 'cannot index'); END;",
                           "unindexable", "index-test");
    if (!s)
        return;
    ok(pl.bad_acked == 0, "a_post_that_cannot_be_indexed_is_not_acknowledged");
    ok(pl.honest && pl.acked > 0,
       "every_post_acknowledged_next_to_an_index_failure_is_stored (%d)", pl.acked);
    ok(raw_int(pl.path, "SELECT count(*) FROM items") == pl.acked,
       "a_group_whose_index_failed_left_no_item_behind");
    ok(search_count(s, "index-test") == pl.acked,
       "search_finds_exactly_the_acknowledged_posts_after_index_failures");
    ok(chain_holds(s, pl.acked),
       "audit_chain_has_exactly_the_acknowledged_posts_after_index_failures");
    store_close(s);
    ok(fts_index_matches_items(pl.path), "index_holds_every_item_once_after_index_failures");
    remove_db(pl.path);
}

/* A version 1 file (its index filled by a trigger per item) is upgraded on
 * open: the trigger is dropped, what it indexed stays indexed, and new
 * items are indexed once, by the writer. */
/* A data directory of the release before label classes (schema version
 * 2), made by SQL exactly as that release wrote it: organisations, users,
 * channels, items of two labels (one with an attachment, one without a
 * classification), their full-text index (external content), and an audit
 * chain. */
static const char schema_v2_fixture[] =
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
    "PRAGMA user_version = 2;\n"
    "INSERT INTO organisations(name, category) VALUES ('NATO HQ', 'NATO'),\n"
    "  ('Mission of Japan', 'JPN');\n"
    "INSERT INTO users(name, organisation, clearance, roles, token_hash) VALUES\n"
    "  ('aiko', 'Mission of Japan', '{\"c\":1}', 1, zeroblob(32));\n"
    "INSERT INTO channels(name, purpose) VALUES ('cyber-defence', 'Cyber'),\n"
    "  ('space', 'Space');\n";

/* The fixture's items: id, channel, label, markings, classification (-1
 * none), body, attachment (NULL none). */
static const struct {
    const char *channel, *label, *en, *fr;
    int cls;
    const char *body, *attachment;
} v2_items[] = {
    { "cyber-defence", "{\"l\":\"A\"}", "NATO SECRET", "NATO SECRET", 4,
      "old alpha report", NULL },
    { "space", "{\"l\":\"B\"}", "NATO UNCLASSIFIED", "NATO SANS CLASSIFICATION", -1,
      "old bravo chart", "%PDF\x01" },
    { "cyber-defence", "{\"l\":\"A\"}", "NATO SECRET", "NATO SECRET", 4,
      "old charlie report", NULL },
};
#define V2_N (sizeof v2_items / sizeof v2_items[0])

static int make_v2_file(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return 0;
    int good = sqlite3_exec(db, schema_v2_fixture, NULL, NULL, NULL) == SQLITE_OK;
    for (size_t i = 0; good && i < V2_N; i++) {
        sqlite3_stmt *st;
        uint8_t h[STORE_HASH_LEN];
        const char *a = v2_items[i].attachment;
        store_content_hash(v2_items[i].label, v2_items[i].body, a ? "application/pdf" : NULL,
                           (const uint8_t *)a, a ? strlen(a) : 0, h);
        good = sqlite3_prepare_v2(db,
                   "INSERT INTO items(channel, author, organisation, label, marking_en,"
                   " marking_fr, classification, body, media_type, attachment, created_ms,"
                   " content_hash) VALUES (?1,'aiko','Mission of Japan',?2,?3,?4,?5,?6,?7,?8,"
                   " ?9,?10)", -1, &st, NULL) == SQLITE_OK;
        if (!good)
            break;
        sqlite3_bind_text(st, 1, v2_items[i].channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, v2_items[i].label, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, v2_items[i].en, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, v2_items[i].fr, -1, SQLITE_STATIC);
        if (v2_items[i].cls >= 0)
            sqlite3_bind_int(st, 5, v2_items[i].cls);
        sqlite3_bind_text(st, 6, v2_items[i].body, -1, SQLITE_STATIC);
        if (a) {
            sqlite3_bind_text(st, 7, "application/pdf", -1, SQLITE_STATIC);
            sqlite3_bind_blob(st, 8, a, (int)strlen(a), SQLITE_STATIC);
        }
        sqlite3_bind_int64(st, 9, 1700000000000 + (int64_t)i);
        sqlite3_bind_blob(st, 10, h, STORE_HASH_LEN, SQLITE_STATIC);
        good = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    good = good && sqlite3_exec(db, "INSERT INTO items_fts(rowid, body) SELECT id, body "
                                    "FROM items", NULL, NULL, NULL) == SQLITE_OK;
    /* An audit chain of two records, hashed as the store does. */
    uint8_t prev[STORE_HASH_LEN] = { 0 };
    for (int i = 1; good && i <= 2; i++) {
        char object[16];
        snprintf(object, sizeof object, "item:%d", i);
        store_audit_event ev = { .seq = (uint64_t)i, .time_ms = 1700000000000 + i,
                                 .actor = "aiko", .action = "post", .object = object,
                                 .outcome = "ok", .detail = "cyber-defence" };
        audit_entry_hash(prev, &ev, ev.hash);
        memcpy(prev, ev.hash, STORE_HASH_LEN);
        sqlite3_stmt *st;
        good = sqlite3_prepare_v2(db, "INSERT INTO audit VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", -1,
                                  &st, NULL) == SQLITE_OK;
        if (!good)
            break;
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_int64(st, 2, ev.time_ms);
        sqlite3_bind_text(st, 3, ev.actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, ev.action, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, ev.object, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, ev.outcome, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, ev.detail, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, ev.hash, STORE_HASH_LEN, SQLITE_STATIC);
        good = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return good;
}

static int count_class(void *ctx, const store_label_class *c)
{
    (void)c;
    ++*(int *)ctx;
    return STORE_NEXT;
}

static void test_schema_upgrade(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/upgrade.db", dir);
    lsn_error err;
    store *s = NULL;
    ok(make_v2_file(path), "version_2_fixture_made");
    if (!ok(store_open(path, &s, &err) == LSN_OK, "version_2_file_opens"))
        return;
    ok(raw_int(path, "PRAGMA user_version") == 15, "version_2_file_is_upgraded_to_the_current_version");
    ok(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'item_tombstones'") == 1,
       "the_upgrade_adds_the_tombstones_table");
    ok(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'fed_release_messages'") == 1,
       "the_upgrade_adds_the_release_messages_table");
    ok(raw_int(path, "SELECT count(*) FROM pragma_table_info('peers') WHERE name = 'policy'") == 1,
       "the_upgrade_gives_each_peer_a_policy_column");
    ok(raw_int(path, "SELECT count(*) FROM channels WHERE local = 0") ==
           raw_int(path, "SELECT count(*) FROM channels"),
       "the_upgrade_keeps_every_existing_channel_not_local");
    ok(raw_int(path, "SELECT count(*) FROM items WHERE mac IS NULL") == 0 &&
           raw_int(path, "SELECT count(*) FROM items WHERE length(mac) = 32") == V2_N,
       "upgrade_seals_every_item_stored_before");
    /* Every item is there, whole, under its old id, with a public id. */
    int whole = 1;
    uint8_t uuids[V2_N][STORE_UUID_LEN];
    for (size_t i = 0; i < V2_N; i++) {
        store_item *it = NULL;
        const char *a = v2_items[i].attachment;
        whole = whole && store_item_get(s, (int64_t)i + 1, &it, &err) == LSN_OK && it &&
                strcmp(it->channel, v2_items[i].channel) == 0 &&
                strcmp(it->label, v2_items[i].label) == 0 &&
                strcmp(it->marking_en, v2_items[i].en) == 0 &&
                strcmp(it->marking_fr, v2_items[i].fr) == 0 &&
                it->classification == v2_items[i].cls &&
                strcmp(it->body, v2_items[i].body) == 0 &&
                (a ? it->attachment_len == strlen(a) &&
                         memcmp(it->attachment, a, strlen(a)) == 0
                   : it->media_type == NULL) &&
                it->created_ms == 1700000000000 + (int64_t)i && store_item_intact(it);
        if (it)
            memcpy(uuids[i], it->uuid, STORE_UUID_LEN);
        lsn_free(it);
    }
    ok(whole, "every_item_survives_the_upgrade_whole");
    ok(memcmp(uuids[0], uuids[1], STORE_UUID_LEN) != 0 &&
           memcmp(uuids[1], uuids[2], STORE_UUID_LEN) != 0 &&
           (uuids[0][6] & 0xf0) == 0x70,
       "upgraded_items_get_distinct_random_uuids");
    store_item_ref ref = { 0 };
    ok(store_item_find(s, uuids[2], &ref, &err) == LSN_OK && ref.id == 3 &&
           ref.class_id == 1,
       "upgraded_item_is_found_by_its_uuid");
    int classes = 0;
    ok(store_class_list(s, 0, count_class, &classes, &err) == LSN_OK && classes == 2,
       "upgrade_makes_one_class_per_distinct_label");
    audit_report r;
    ok(audit_verify(s, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT && r.entries == 2,
       "audit_chain_survives_the_upgrade");
    store_user *u = NULL;
    store_channel *ch = NULL;
    store_org *o = NULL;
    ok(store_user_get(s, "aiko", &u, &err) == LSN_OK && u &&
           store_channel_get(s, "space", &ch, &err) == LSN_OK && ch &&
           store_org_get(s, "NATO HQ", &o, &err) == LSN_OK && o,
       "users_channels_organisations_survive_the_upgrade");
    lsn_free(u);
    lsn_free(ch);
    lsn_free(o);
    ok(search_count(s, "old") == 3 && search_count(s, "chart") == 1,
       "upgraded_items_are_searchable");
    /* Through the per-class index too (filled by the upgrade). */
    int64_t class_a = 1, class_b = 2;
    store_classes only_a = { .ids = &class_a, .n = 1 }, only_b = { .ids = &class_b, .n = 1 };
    int in_a = 0, in_a_chan = 0, in_b = 0;
    ok(store_item_search(s, "old", NULL, &only_a, 0, count_item, &in_a, &err) == LSN_OK &&
           store_item_search(s, "report", "cyber-defence", &only_a, 0, count_item,
                             &in_a_chan, &err) == LSN_OK &&
           store_item_search(s, "chart", "space", &only_b, 0, count_item, &in_b, &err) ==
               LSN_OK &&
           in_a == 2 && in_a_chan == 2 && in_b == 1,
       "upgraded_items_are_searchable_by_a_reader_of_one_class");
    store_item it = sample_item("cyber-defence", "written after the upgrade old");
    int64_t id = 0;
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_OK && id == 4,
       "append_after_the_upgrade_continues_the_ids");
    ok(search_count(s, "old") == 4, "search_finds_items_from_before_and_after_the_upgrade");
    store_close(s);
    ok(fts_index_matches_items(path), "index_holds_every_item_once_after_the_upgrade");
    remove_db(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/liaison-store-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[128];
    store *s = open_fresh("main", path, sizeof path);
    ok(s != NULL, "store_opens_and_creates_its_schema");
    struct stat sb;
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", path);
    ok(stat(path, &sb) == 0 && (sb.st_mode & 077) == 0, "new_store_file_is_owner_only");
    ok(stat(wal, &sb) == 0 && (sb.st_mode & 077) == 0, "store_wal_file_is_owner_only");
    store_close(s);
    remove_db(path);
    lsn_error err;
    store *none = NULL;
    ok(store_open("mysql:liaison", &none, &err) == LSN_ERR_ARG && !none,
       "unknown_backend_is_refused");
    ok(store_open("postgresql://localhost/liaison", &none, &err) == LSN_ERR_ARG && !none &&
           strstr(err.message, "key"),
       "a_postgresql_store_without_a_key_directory_is_refused");
    ok(store_open("/nonexistent-dir/x/y.db", &none, &err) == LSN_ERR_IO && !none,
       "unwritable_path_is_an_io_error");
    test_refused_in_groups();
    test_lost_transaction();
    test_index_failure();
    test_schema_upgrade();
    rmdir(dir);
    return tap_done();
}
