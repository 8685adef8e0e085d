/* tests/test_store_history.c — an item's history altered in the database
 * behind the store's back (issue 13): the link of a later version to its
 * item (item_versions) altered, removed or added, and a hidden mark
 * (item_hidden: a row superseded or withdrawn) altered, added or removed.
 * Each is caught: the item is withheld from a fetch by its public id (and
 * a later version's row from a fetch by row) with the alarm and its audit
 * record, the listing does not serve an earlier version again, and
 * store_verify names the item. Before, links and marks were not sealed:
 * a removed mark served the earlier version (its wider label) again, and
 * verify read none of them. And a store of schema 12 (seals in a table of
 * their own, links and marks unsealed) with a later version, a withdrawn
 * item and a plain one is upgraded with every seal moved into its row,
 * the version sealed over its link and the marks sealed: served as before,
 * and store_verify green. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "liaison/alloc.h"
#include "store/seal.h"
#include "store/store.h"
#include "store/store_rel.h"
#include "store/verify.h"
#include "tap.h"

static char dir[64];
static char path[128];

static const char label_wide[] =
    "{\"policy\":\"NATO\",\"classification\":\"NATO SECRET\","
    "\"categories\":{\"Releasable To\":[\"JPN\"]}}";
static const char label_narrow[] = "{\"policy\":\"NATO\",\"classification\":\"NATO SECRET\"}";

typedef struct posted {
    int64_t row;               /* its first row */
    int64_t row2;              /* its second version's row, or 0 */
    uint8_t uuid[STORE_UUID_LEN];
    char text[37];
} posted;

static store_item item(const char *label, const char *body)
{
    return (store_item){
        .channel = "cyber-defence", .author = "anna", .organisation = "NATO HQ",
        .label = label, .marking_en = "NATO SECRET", .marking_fr = "NATO SECRET",
        .classification = 4, .body = body,
    };
}

/* Post an item (audited as the node does) and, if `versions`, a second
 * version with a narrower label superseding it. */
static posted post(store *s, const char *body, int versions)
{
    posted p = { 0 };
    lsn_error err;
    store_item it = item(label_wide, body);
    store_uuid_new(it.uuid);
    memcpy(p.uuid, it.uuid, STORE_UUID_LEN);
    store_uuid_text(p.uuid, p.text);
    char object[64];
    snprintf(object, sizeof object, "item:%s", p.text);
    store_audit_event ev = { .actor = "anna", .action = "post", .object = object,
                             .outcome = "ok" };
    if (store_item_append(s, &it, &ev, &p.row, NULL, &err) != LSN_OK)
        printf("# append: %s\n", err.message);
    if (!versions)
        return p;
    store_item v2 = item(label_narrow, body);
    store_uuid_new(v2.uuid);
    v2.ver = (struct store_item_ver){ .version = 2, .supersedes = p.row };
    memcpy(v2.ver.of, p.uuid, STORE_UUID_LEN);
    if (store_item_append(s, &v2, NULL, &p.row2, NULL, &err) != LSN_OK)
        printf("# version: %s\n", err.message);
    return p;
}

/* Withdraw an item (audited as the node does: service_release.c). */
static void withdraw(store *s, const posted *p)
{
    lsn_error err;
    char object[64];
    snprintf(object, sizeof object, "item:%s", p->text);
    store_audit_event ev = { .actor = "anna", .action = "item.withdraw", .object = object,
                             .outcome = "ok" };
    store_withdrawal w = { .row = p->row, .now_ms = 1000, .audit = &ev };
    if (store_item_withdraw(s, &w, &err) != LSN_OK)
        printf("# withdraw: %s\n", err.message);
}

/* Run SQL on the raw file, the append-only triggers dropped first. */
static int tamper(const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
             sqlite3_exec(db,
                          "DROP TRIGGER IF EXISTS item_versions_no_update;"
                          "DROP TRIGGER IF EXISTS item_versions_no_delete;"
                          "DROP TRIGGER IF EXISTS item_hidden_no_update;"
                          "DROP TRIGGER IF EXISTS item_hidden_no_delete;",
                          NULL, NULL, &msg) == SQLITE_OK &&
             sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;
    if (!rc)
        printf("# tamper: %s\n", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc;
}

typedef struct alarms {
    int n;
    char uuids[32][37];
} alarms;

static void on_alarm(void *ctx, int64_t id, const uint8_t uuid[STORE_UUID_LEN],
                     const char *why)
{
    alarms *a = ctx;
    (void)id;
    (void)why;
    if (a->n < 32)
        store_uuid_text(uuid, a->uuids[a->n]);
    a->n++;
}

static int alarmed(const alarms *a, const posted *p)
{
    for (int i = 0; i < a->n && i < 32; i++)
        if (strcmp(a->uuids[i], p->text) == 0)
            return 1;
    return 0;
}

/* The row a fetch by public id finds (0: none). */
static int64_t found(store *s, const posted *p)
{
    store_item_ref ref = { 0 };
    lsn_error err;
    if (store_item_find(s, p->uuid, &ref, &err) != LSN_OK)
        return -1;
    return ref.id;
}

static int served(store *s, int64_t row)
{
    store_item *it = NULL;
    lsn_error err;
    int ok = store_item_get(s, row, &it, &err) == LSN_OK && it;
    lsn_free(it);
    return ok;
}

typedef struct seen {
    int64_t rows[64];
    int n;
} seen;

static int collect(void *ctx, const store_item *it)
{
    seen *s = ctx;
    if (s->n < 64)
        s->rows[s->n++] = it->id;
    return STORE_NEXT;
}

static int listed(const seen *s, int64_t row)
{
    for (int i = 0; i < s->n; i++)
        if (s->rows[i] == row)
            return 1;
    return 0;
}

static int named(const store_verify_report *r, const posted *p)
{
    for (uint64_t i = 0; i < r->items_bad && i < STORE_VERIFY_NAMED; i++)
        if (strcmp(r->bad_ids[i], p->text) == 0)
            return 1;
    return 0;
}

static int64_t raw_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void remove_store(void)
{
    static const char *const ext[] = { "", "-wal", "-shm", ".key", ".anchor" };
    char p[256];
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, ext[i]);
        unlink(p);
    }
}

/* Schema 12's seal of a later version's row: made over the row without
 * its link (the row's own public id, version 1). */
static int old_seal_of(store *s, int64_t row, char hex[2 * SEAL_LEN + 1])
{
    store_item *it = NULL;
    lsn_error err;
    seal_keys k;
    int created = 0;
    if (store_item_get(s, row, &it, &err) != LSN_OK || !it ||
        seal_keys_load(path, 0, &k, &created, &err) != LSN_OK) {
        lsn_free(it);
        return 0;
    }
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int good = 0;
    seal_digests d;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT uuid, body_digest, attachment_digest FROM items "
                               "WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, row);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == STORE_UUID_LEN) {
            memcpy(it->uuid, sqlite3_column_blob(st, 0), STORE_UUID_LEN);
            memcpy(d.body, sqlite3_column_blob(st, 1), SEAL_LEN);
            memcpy(d.attachment, sqlite3_column_blob(st, 2), SEAL_LEN);
            good = 1;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (good) {
        uint8_t cls[SEAL_LEN], mac[SEAL_LEN];
        it->ver = (struct store_item_ver){ .version = 1 };
        seal_class_digest(it, cls);
        seal_mac(&k, it, cls, &d, mac);
        for (int i = 0; i < SEAL_LEN; i++)
            snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    }
    seal_keys_wipe(&k);
    lsn_free(it);
    return good;
}

static void test_upgrade_from_12(void)
{
    remove_store();
    store *s = NULL;
    lsn_error err;
    if (!ok(store_open(path, &s, &err) == LSN_OK &&
                store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) == LSN_OK,
            "v12_store_made"))
        return;
    posted versioned = post(s, "versioned before the upgrade", 1);
    posted gone = post(s, "withdrawn before the upgrade", 0);
    posted plain = post(s, "plain before the upgrade", 0);
    withdraw(s, &gone);
    char mac[2 * SEAL_LEN + 1] = "";
    int made = old_seal_of(s, versioned.row2, mac);
    store_close(s);
    s = NULL;
    /* Back to schema 12 as it was: seals in item_seals (the version's made
     * without its link), no MAC on the hidden marks. */
    char sql[2048];
    snprintf(sql, sizeof sql,
             "CREATE TABLE item_seals(item_id INTEGER PRIMARY KEY, body_digest BLOB NOT NULL,"
             "  attachment_digest BLOB NOT NULL, mac BLOB NOT NULL);"
             "INSERT INTO item_seals SELECT id, body_digest, attachment_digest,"
             "  CASE WHEN id = %lld THEN X'%s' ELSE mac END FROM items;"
             "DROP TRIGGER items_no_update;"
             "ALTER TABLE items DROP COLUMN body_digest;"
             "ALTER TABLE items DROP COLUMN attachment_digest;"
             "ALTER TABLE items DROP COLUMN mac;"
             "CREATE TRIGGER items_no_update BEFORE UPDATE ON items BEGIN"
             "  SELECT RAISE(ABORT, 'items are append-only'); END;"
             "ALTER TABLE item_hidden DROP COLUMN mac;"
             "CREATE TRIGGER item_hidden_no_update BEFORE UPDATE ON item_hidden BEGIN"
             "  SELECT RAISE(ABORT, 'hidden rows stay hidden'); END;"
             "DROP TABLE item_tombstones;"
             "DROP TABLE fed_release_messages;"
             "PRAGMA user_version = 12;",
             (long long)versioned.row2, mac);
    ok(made && tamper(sql) && raw_int("PRAGMA user_version") == 12, "store_set_back_to_v12");

    if (!ok(store_open(path, &s, &err) == LSN_OK, "v12_store_opens_and_is_upgraded"))
        return;
    alarms al = { 0 };
    store_set_alarm(s, on_alarm, &al);
    ok(raw_int("PRAGMA user_version") == 15 &&
           raw_int("SELECT count(*) FROM items WHERE length(mac) = 32") == 4 &&
           raw_int("SELECT count(*) FROM item_hidden WHERE length(mac) = 32") == 2 &&
           raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'item_seals'") == 0,
       "the_seals_are_in_the_rows_and_the_marks_sealed");
    ok(found(s, &versioned) == versioned.row2 && served(s, versioned.row2) &&
           found(s, &gone) == 0 && found(s, &plain) == plain.row && served(s, plain.row),
       "every_item_is_served_as_before");
    store_verify_report r;
    ok(store_verify(s, &r, &err) == LSN_OK && r.ok && r.items_bad == 0 && al.n == 0,
       "verify_is_green_after_the_upgrade");
    store_close(s);
    remove_store();
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/liaison-hist-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/history.db", dir);
    store *s = NULL;
    lsn_error err;
    if (!ok(store_open(path, &s, &err) == LSN_OK, "store_opens"))
        return tap_done();
    ok(store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) == LSN_OK, "channel_made");
    posted kept = post(s, "kept: its history untouched", 1);
    posted unhidden = post(s, "unhidden: its superseded mark removed", 1);
    posted relinked = post(s, "relinked: its link's number altered", 1);
    posted unlinked = post(s, "unlinked: its link removed", 1);
    posted linked = post(s, "linked: a link added to it", 0);
    posted marked = post(s, "marked: a withdrawn mark added", 0);
    posted retimed = post(s, "retimed: its withdrawn mark altered", 0);
    posted restored = post(s, "restored: its withdrawn mark removed", 0);
    posted plain = post(s, "plain: never touched", 0);
    withdraw(s, &retimed);
    withdraw(s, &restored);

    store_verify_report r;
    ok(store_verify(s, &r, &err) == LSN_OK && r.ok && r.items_bad == 0,
       "verify_is_green_before");
    ok(found(s, &kept) == kept.row2 && found(s, &plain) == plain.row &&
           found(s, &retimed) == 0,
       "before_each_item_finds_its_current_row");
    store_close(s);
    s = NULL;

    char sql[2048];
    snprintf(sql, sizeof sql,
             "DELETE FROM item_hidden WHERE row_id = %lld;"
             "UPDATE item_versions SET version = 3 WHERE row_id = %lld;"
             "DELETE FROM item_versions WHERE row_id = %lld;"
             "INSERT INTO item_versions(row_id, item_uuid, version) "
             "  SELECT %lld, uuid, 3 FROM items WHERE id = %lld;"
             "INSERT INTO item_hidden(row_id, why, time_ms) VALUES (%lld, 'withdrawn', 5);"
             "UPDATE item_hidden SET time_ms = time_ms + 1 WHERE row_id = %lld;"
             "DELETE FROM item_hidden WHERE row_id = %lld;",
             (long long)unhidden.row, (long long)relinked.row2, (long long)unlinked.row2,
             (long long)linked.row, (long long)kept.row, (long long)marked.row,
             (long long)retimed.row, (long long)restored.row);
    ok(tamper(sql), "history_altered_behind_the_store");

    if (!ok(store_open(path, &s, &err) == LSN_OK, "store_reopens"))
        return tap_done();
    alarms al = { 0 };
    store_set_alarm(s, on_alarm, &al);

    /* The leak: the earlier version's wider label served again. */
    ok(found(s, &unhidden) == 0 && alarmed(&al, &unhidden),
       "an_earlier_version_unhidden_is_withheld_and_alarmed");
    ok(!served(s, relinked.row2) && found(s, &relinked) == 0 && alarmed(&al, &relinked),
       "a_version_link_altered_is_withheld_and_alarmed");
    ok(!served(s, unlinked.row2) && found(s, &unlinked) == 0 && alarmed(&al, &unlinked),
       "a_version_link_removed_is_withheld_and_alarmed");
    ok(!served(s, linked.row) && found(s, &kept) == 0 && alarmed(&al, &kept),
       "a_version_link_added_is_withheld_and_alarmed");
    ok(found(s, &marked) == 0 && alarmed(&al, &marked),
       "a_hidden_mark_added_is_alarmed");
    ok(found(s, &retimed) == 0 && alarmed(&al, &retimed),
       "a_hidden_mark_altered_is_alarmed");
    ok(found(s, &plain) == plain.row && served(s, plain.row) && !alarmed(&al, &plain),
       "an_untouched_item_is_served");

    /* The listing serves no earlier version again. */
    seen ls = { 0 };
    lsn_err lrc = store_item_list(s, "cyber-defence", NULL, 0, 0, collect, &ls, &err);
    if (lrc != LSN_OK)
        printf("# list: %s\n", err.message);
    ok(lrc == LSN_OK && !listed(&ls, unhidden.row) && listed(&ls, plain.row),
       "the_listing_withholds_an_earlier_version_unhidden (%d listed)", ls.n);

    ok(store_verify(s, &r, &err) == LSN_OK && !r.ok, "verify_fails");
    ok(named(&r, &unhidden) && named(&r, &relinked) && named(&r, &unlinked) &&
           named(&r, &kept) && named(&r, &marked) && named(&r, &retimed) &&
           named(&r, &restored) && !named(&r, &plain),
       "verify_names_every_altered_history (bad %llu)", (unsigned long long)r.items_bad);
    store_close(s); /* runs the queued integrity records */
    s = NULL;

    remove_store();
    test_upgrade_from_12();
    rmdir(dir);
    return tap_done();
}
