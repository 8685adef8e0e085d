/* tests/test_store_history.c — an item's history altered in the database
 * behind the store's back (issue 13): the link of a later version to its
 * item (item_versions) altered, removed or added, and a hidden mark
 * (item_hidden: a row superseded or withdrawn) altered, added or removed.
 * Each is caught: the item is withheld from a fetch by its public id (and
 * a later version's row from a fetch by row) with the alarm and its audit
 * record, the listing does not serve an earlier version again, and
 * store_verify names the item. Before, links and marks were not sealed:
 * a removed mark served the earlier version (its wider label) again, and
 * verify read none of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "liaison/alloc.h"
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
    if (store_item_withdraw(s, p->row, 1000, &err) != LSN_OK ||
        store_audit_append(s, &ev, &err) != LSN_OK)
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

    static const char *const ext[] = { "", "-wal", "-shm", ".key", ".anchor" };
    char p[256];
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, ext[i]);
        unlink(p);
    }
    rmdir(dir);
    return tap_done();
}
