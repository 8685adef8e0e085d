/* tests/test_store_seal.c — items altered in the database behind the
 * store's back, as an attacker with the file would (sqlite3's API, the
 * append-only triggers dropped first): a label class row relabelled, a
 * class id swapped in an item row, a body forged (with and without its
 * content hash recomputed), an attachment's bytes changed, a public id
 * changed, an item deleted. Each altered item is withheld on every read
 * path (fetch, label, listing of every class and of visible classes,
 * search), audited and raised as an alarm, and store_verify names it; a
 * deleted item is named by its post record (item:UUID); an item whose
 * alarm record cannot be allocated is still withheld and alarmed. The key file:
 * made 0600, and refused when wider, of the wrong size, or missing while
 * the store holds seals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "liaison/alloc.h"
#include "store/sqlite_internal.h" /* sq_class_fts_register */
#include "store/store.h"
#include "store/verify.h"
#include "tap.h"

static char dir[64];

static void remove_db(const char *path)
{
    static const char *const ext[] = { "", "-wal", "-shm", ".key", ".anchor" };
    char p[256];
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, ext[i]);
        unlink(p);
    }
}

static const char nato_secret[] =
    "{\"policy\":\"NATO\",\"classification\":\"NATO SECRET\"}";
static const char nato_confidential[] =
    "{\"policy\":\"NATO\",\"classification\":\"NATO CONFIDENTIAL\"}";
static const char secret_rel_jpn[] =
    "{\"policy\":\"NATO\",\"classification\":\"NATO SECRET\","
    "\"categories\":{\"Releasable To\":[\"JPN\"]}}";
/* What a class row is relabelled to (the label text is unique per class). */
static const char confidential_rel_jpn[] =
    "{\"policy\":\"NATO\",\"classification\":\"NATO CONFIDENTIAL\","
    "\"categories\":{\"Releasable To\":[\"JPN\"]}}";

typedef struct posted {
    int64_t id;
    uint8_t uuid[STORE_UUID_LEN];
    char text[37];
} posted;

static posted post_as(store *s, const char *label, const char *body, const char *media,
                      const char *att)
{
    store_item it = {
        .channel = "cyber-defence", .author = "anna", .organisation = "NATO HQ",
        .label = label, .marking_en = "NATO SECRET", .marking_fr = "NATO SECRET",
        .classification = 4, .body = body, .media_type = media,
        .attachment = (const uint8_t *)att, .attachment_len = att ? strlen(att) : 0,
    };
    posted p = { 0 };
    store_uuid_new(it.uuid);
    memcpy(p.uuid, it.uuid, STORE_UUID_LEN);
    store_uuid_text(p.uuid, p.text);
    store_audit_event ev = { .actor = "anna", .action = "post", .outcome = "ok" };
    lsn_error err;
    if (store_item_append(s, &it, &ev, &p.id, NULL, &err) != LSN_OK)
        printf("# append: %s\n", err.message);
    return p;
}

static posted post(store *s, const char *body, const char *media, const char *att)
{
    return post_as(s, nato_secret, body, media, att);
}

/* Run SQL on the raw file with the append-only triggers dropped. */
static int tamper(const char *path, const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
             sq_class_fts_register(db) == LSN_OK && /* to write items_cfts */
             sqlite3_exec(db,
                          "DROP TRIGGER IF EXISTS items_no_update;"
                          "DROP TRIGGER IF EXISTS items_no_delete;"
                          "DROP TRIGGER IF EXISTS label_classes_no_update;"
                          "DROP TRIGGER IF EXISTS item_seals_no_delete;"
                          "DROP TRIGGER IF EXISTS audit_no_delete;",
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
    int64_t ids[64];
} alarms;

static void on_alarm(void *ctx, int64_t id, const uint8_t uuid[STORE_UUID_LEN],
                     const char *why)
{
    alarms *a = ctx;
    (void)uuid;
    (void)why;
    if (a->n < 64)
        a->ids[a->n] = id;
    a->n++;
}

static int alarmed(const alarms *a, int64_t id)
{
    for (int i = 0; i < a->n && i < 64; i++)
        if (a->ids[i] == id)
            return 1;
    return 0;
}

typedef struct seen {
    int64_t ids[32];
    int n;
} seen;

static int collect(void *ctx, const store_item *it)
{
    seen *s = ctx;
    if (s->n < 32)
        s->ids[s->n++] = it->id;
    return STORE_NEXT;
}

static int listed(const seen *s, int64_t id)
{
    for (int i = 0; i < s->n; i++)
        if (s->ids[i] == id)
            return 1;
    return 0;
}

/* Integrity records of the audit log, by object. */
typedef struct integrity {
    char objects[1024];
} integrity;

static int collect_integrity(void *ctx, const store_audit_event *ev)
{
    integrity *in = ctx;
    if (strcmp(ev->action, "integrity") == 0) {
        size_t n = strlen(in->objects);
        snprintf(in->objects + n, sizeof in->objects - n, "%s ", ev->object);
    }
    return STORE_NEXT;
}

static int named(const store_verify_report *r, const char *uuid, int missing)
{
    uint64_t n = missing ? r->missing : r->items_bad;
    for (uint64_t i = 0; i < n && i < STORE_VERIFY_NAMED; i++)
        if (strcmp(missing ? r->missing_ids[i] : r->bad_ids[i], uuid) == 0)
            return 1;
    return 0;
}

static int64_t class_of(store *s, int64_t id)
{
    store_item *it = NULL;
    lsn_error err;
    int64_t c = store_item_get(s, id, &it, &err) == LSN_OK && it ? it->class_id : 0;
    lsn_free(it);
    return c;
}

static void test_tampering(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/seal.db", dir);
    remove_db(path);
    store *s = NULL;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK ||
        store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) != LSN_OK) {
        ok(0, "seal_store_opens");
        return;
    }
    /* The relabelled item has a class of its own; the Japan item is the
     * class another item's row is moved to. */
    posted relabelled = post_as(s, nato_confidential, "alpha of a relabelled class", NULL, NULL);
    posted swapped = post(s, "bravo moved to another class", NULL, NULL);
    posted forged = post(s, "charlie original body", NULL, NULL);
    posted rehashed = post(s, "delta original body", NULL, NULL);
    posted attached = post(s, "echo carries an attachment", "text/plain", "original bytes");
    posted deleted = post(s, "foxtrot will be deleted", NULL, NULL);
    posted renamed = post(s, "golf gets another public id", NULL, NULL);
    posted intact = post(s, "hotel is left alone", "text/plain", "untouched");
    posted jpn = post_as(s, secret_rel_jpn, "india releasable to japan", NULL, NULL);
    posted smuggled = post(s, "juliet is nato secret", NULL, NULL);
    store_verify_report r;
    ok(store_verify(s, &r, &err) == LSN_OK && r.ok && r.items == 10 && r.posted == 10,
       "verify_passes_an_untouched_store");
    int64_t jpn_class = class_of(s, jpn.id), own_class = class_of(s, relabelled.id);
    store_close(s);

    struct stat st;
    char key[160];
    snprintf(key, sizeof key, "%s.key", path);
    ok(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32,
       "key_file_is_made_0600_with_32_bytes");

    /* The forged body's true content hash, as an attacker can compute it. */
    uint8_t h[STORE_HASH_LEN];
    char hex[2 * STORE_HASH_LEN + 1];
    store_content_hash(nato_secret, "a forged body with its hash", NULL, NULL, 0, h);
    for (int i = 0; i < STORE_HASH_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    char sql[2048];
    snprintf(sql, sizeof sql,
             "UPDATE label_classes SET label = '%s', marking_en = 'NATO SECRET Releasable "
             "to JPN' WHERE id = %lld;"
             "UPDATE items SET class = %lld WHERE id = %lld;"
             "UPDATE items SET body = 'a forged body' WHERE id = %lld;"
             "UPDATE items SET body = 'a forged body with its hash', content_hash = "
             "  X'%s' WHERE id = %lld;"
             "UPDATE items SET attachment = CAST('altered bytes!' AS BLOB) WHERE id = %lld;"
             "DELETE FROM items WHERE id = %lld;"
             "UPDATE items SET uuid = randomblob(16) WHERE id = %lld;"
             /* The full-text index says the NATO SECRET item is of the
              * Japan class (its row is untouched). */
             "INSERT INTO items_fts(rowid, body, cls, chan) SELECT %lld, 'smuggled', "
             "  'k%lld k%lldh' || id, 'h' || id FROM channels WHERE name = 'cyber-defence';"
             /* And so does the per-class index. */
             "INSERT INTO items_cfts(rowid, cbody) SELECT %lld, 'k%lldh' || id || "
             "  ' smuggled' FROM channels WHERE name = 'cyber-defence';",
             confidential_rel_jpn, (long long)own_class, (long long)jpn_class,
             (long long)swapped.id, (long long)forged.id, hex, (long long)rehashed.id,
             (long long)attached.id, (long long)deleted.id,
             (long long)renamed.id, (long long)smuggled.id, (long long)jpn_class,
             (long long)jpn_class, (long long)smuggled.id, (long long)jpn_class);
    ok(own_class > 0 && jpn_class > 0 && own_class != jpn_class && tamper(path, sql),
       "database_altered_behind_the_store");

    if (store_open(path, &s, &err) != LSN_OK) {
        ok(0, "seal_store_reopens: %s", err.message);
        return;
    }
    alarms al = { 0 };
    store_set_alarm(s, on_alarm, &al);

    store_item *it = NULL;
    char *label = NULL;
    ok(store_item_label(s, relabelled.id, &label, &err) == LSN_OK && !label,
       "relabelled_class_is_not_read_for_an_item");
    ok(store_item_get(s, relabelled.id, &it, &err) == LSN_OK && !it,
       "item_of_a_relabelled_class_is_withheld_from_a_fetch");
    lsn_free(it);
    ok(store_item_get(s, swapped.id, &it, &err) == LSN_OK && !it,
       "item_moved_to_another_class_is_withheld_from_a_fetch");
    lsn_free(it);
    ok(store_item_get(s, forged.id, &it, &err) == LSN_OK && !it,
       "item_with_a_forged_body_is_withheld_from_a_fetch");
    lsn_free(it);
    ok(store_item_get(s, rehashed.id, &it, &err) == LSN_OK && !it,
       "forged_body_with_a_recomputed_content_hash_is_withheld");
    lsn_free(it);
    ok(store_item_get(s, attached.id, &it, &err) == LSN_OK && !it,
       "item_with_altered_attachment_bytes_is_withheld_from_a_fetch");
    lsn_free(it);
    ok(store_item_get(s, renamed.id, &it, &err) == LSN_OK && !it,
       "item_with_another_public_id_is_withheld_from_a_fetch");
    lsn_free(it);
    ok(store_item_get(s, intact.id, &it, &err) == LSN_OK && it &&
           strcmp(it->body, "hotel is left alone") == 0 && it->attachment_len == 9,
       "untouched_item_is_served");
    lsn_free(it);
    ok(store_item_label(s, intact.id, &label, &err) == LSN_OK && label &&
           strcmp(label, nato_secret) == 0,
       "untouched_item_label_is_read");
    lsn_free(label);

    seen ls = { 0 };
    lsn_err lrc = store_item_list(s, "cyber-defence", NULL, 0, 0, collect, &ls, &err);
    ok(lrc == LSN_OK && ls.n == 4 && listed(&ls, attached.id) && listed(&ls, intact.id) &&
           listed(&ls, jpn.id) && listed(&ls, smuggled.id),
       "listing_withholds_every_altered_row (%d listed)", ls.n);
    /* A reader's visible classes (the node's listing): every class here. */
    int64_t all[] = { 1, 2, 3, 4 };
    store_classes vis = { .ids = all, .n = 4 };
    seen lv = { 0 };
    lrc = store_item_list(s, "cyber-defence", &vis, 0, 2, collect, &lv, &err);
    ok(lrc == LSN_OK && lv.n == 2 && listed(&lv, attached.id) && listed(&lv, intact.id),
       "listing_of_visible_classes_withholds_every_altered_row (%d listed)", lv.n);
    seen lj = { 0 };
    int64_t jpn_only[] = { jpn_class };
    store_classes vjpn = { .ids = jpn_only, .n = 1 };
    lrc = store_item_list(s, NULL, &vjpn, 0, 0, collect, &lj, &err);
    ok(lrc == LSN_OK && lj.n == 1 && listed(&lj, jpn.id),
       "a_row_moved_into_a_visible_class_is_withheld (%d listed)", lj.n);
    seen found = { 0 };
    ok(store_item_search(s, "original", NULL, NULL, 0, collect, &found, &err) == LSN_OK &&
           found.n == 0,
       "search_does_not_serve_forged_bodies");
    seen smug = { 0 };
    lrc = store_item_search(s, "smuggled", "cyber-defence", &vjpn, 0, collect, &smug, &err);
    ok(lrc == LSN_OK && smug.n == 0 && alarmed(&al, smuggled.id),
       "search_through_an_altered_index_does_not_serve_another_class (%d found)", smug.n);
    /* A reader of many classes goes through the word index (items_fts)
     * instead of the per-class one: altered too, withheld too. */
    int64_t jpn_many[40];
    jpn_many[0] = jpn_class;
    for (int i = 1; i < 40; i++)
        jpn_many[i] = jpn_class + 1000 + i; /* classes with no item */
    store_classes vmany = { .ids = jpn_many, .n = 40 };
    int alarms_before = al.n;
    smug.n = 0;
    lrc = store_item_search(s, "smuggled", "cyber-defence", &vmany, 0, collect, &smug, &err);
    ok(lrc == LSN_OK && smug.n == 0 && al.n > alarms_before && al.n <= 64 &&
           al.ids[al.n - 1] == smuggled.id,
       "search_through_the_altered_word_index_does_not_serve_another_class (%d found)",
       smug.n);
    seen widened = { 0 };
    ok(store_item_search(s, "alpha", NULL, NULL, 0, collect, &widened, &err) == LSN_OK &&
           widened.n == 0,
       "search_withholds_the_item_of_a_relabelled_class");
    ok(al.n > 0 && alarmed(&al, relabelled.id) && alarmed(&al, swapped.id) &&
           alarmed(&al, forged.id) && alarmed(&al, rehashed.id) &&
           alarmed(&al, attached.id) && alarmed(&al, renamed.id) &&
           !alarmed(&al, intact.id) && !alarmed(&al, jpn.id),
       "every_failing_item_raises_the_alarm (%d alarms)", al.n);

    ok(store_verify(s, &r, &err) == LSN_OK, "verify_reads_the_altered_store");
    ok(!r.ok && r.items_bad == 6 && r.missing == 2 && named(&r, deleted.text, 1) &&
           named(&r, renamed.text, 1) && named(&r, forged.text, 0) &&
           named(&r, relabelled.text, 0) && named(&r, swapped.text, 0),
       "verify_names_the_altered_items_and_the_deleted_one (bad %llu, missing %llu)",
       (unsigned long long)r.items_bad, (unsigned long long)r.missing);
    ok(r.audit.fault == AUDIT_INTACT && !r.truncated,
       "the_audit_chain_itself_is_intact");
    store_close(s); /* runs the queued integrity records */

    if (store_open(path, &s, &err) != LSN_OK) {
        ok(0, "seal_store_reopens_again");
        return;
    }
    integrity in = { "" };
    char want[64];
    ok(store_audit_list(s, 0, collect_integrity, &in, &err) == LSN_OK, "audit_log_reads");
    int every = 1;
    const posted *bad[] = { &relabelled, &swapped, &forged, &rehashed, &attached };
    for (int i = 0; i < 5; i++) {
        snprintf(want, sizeof want, "item:%s ", bad[i]->text);
        every &= strstr(in.objects, want) != NULL;
    }
    snprintf(want, sizeof want, "item:%s ", intact.text);
    ok(every && !strstr(in.objects, want), "every_withheld_item_is_audited");
    store_close(s);
    remove_db(path);
}

/* Every allocation of the library fails. */
static void *no_malloc(size_t n, void *ctx)
{
    (void)n;
    (void)ctx;
    return NULL;
}

static void *no_realloc(void *p, size_t n, void *ctx)
{
    (void)p;
    (void)n;
    (void)ctx;
    return NULL;
}

static void plain_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

/* The alarm's audit record is queued to the writer without waiting, in a
 * request allocated on the reading thread. When that allocation fails the
 * item is still withheld and the alarm still raised (only its record is
 * lost, said on stderr); the next alarm is audited again. */
/* An attachment's file name is sealed with the item (schema 7): a name
 * changed in the file withholds the item; a name added to an item posted
 * without one too; the writer refuses a name that is a path. */
static void test_attachment_name_sealed(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/seal-name.db", dir);
    remove_db(path);
    store *s = NULL;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK ||
        store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) != LSN_OK) {
        ok(0, "seal_name_store_opens");
        return;
    }
    store_item it = {
        .channel = "cyber-defence", .author = "anna", .organisation = "NATO HQ",
        .label = nato_secret, .marking_en = "NATO SECRET", .marking_fr = "NATO SECRET",
        .classification = 4, .body = "named", .media_type = "application/pdf",
        .attachment = (const uint8_t *)"%PDF", .attachment_len = 4,
        .attachment_name = "report.pdf",
    };
    store_audit_event ev = { .actor = "anna", .action = "post", .outcome = "ok" };
    int64_t named_id = 0, renamed_id = 0, plain_id = 0, bad_id = 0;
    store_uuid_new(it.uuid);
    lsn_err r1 = store_item_append(s, &it, &ev, &named_id, NULL, &err);
    store_uuid_new(it.uuid);
    lsn_err r2 = store_item_append(s, &it, &ev, &renamed_id, NULL, &err);
    it.attachment_name = NULL;
    store_uuid_new(it.uuid);
    lsn_err r3 = store_item_append(s, &it, &ev, &plain_id, NULL, &err);
    it.attachment_name = "../../etc/passwd";
    store_uuid_new(it.uuid);
    ok(r1 == LSN_OK && r2 == LSN_OK && r3 == LSN_OK &&
           store_item_append(s, &it, &ev, &bad_id, NULL, &err) == LSN_ERR_ARG,
       "the_writer_refuses_a_file_name_that_is_a_path");
    store_item *got = NULL;
    ok(store_item_get(s, named_id, &got, &err) == LSN_OK && got && got->attachment_name &&
           strcmp(got->attachment_name, "report.pdf") == 0,
       "a_file_name_is_stored_and_served");
    lsn_free(got);
    store_close(s);
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE items SET attachment_name = 'invoice.exe' WHERE id = %lld;"
             "UPDATE items SET attachment_name = 'added.pdf' WHERE id = %lld;",
             (long long)renamed_id, (long long)plain_id);
    ok(tamper(path, sql), "file_names_altered_behind_the_store");
    if (store_open(path, &s, &err) != LSN_OK) {
        ok(0, "seal_name_store_reopens");
        return;
    }
    ok(store_item_get(s, renamed_id, &got, &err) == LSN_OK && !got,
       "an_item_whose_file_name_was_changed_is_withheld");
    lsn_free(got);
    ok(store_item_get(s, plain_id, &got, &err) == LSN_OK && !got,
       "an_item_given_a_file_name_behind_the_store_is_withheld");
    lsn_free(got);
    ok(store_item_get(s, named_id, &got, &err) == LSN_OK && got,
       "an_untouched_named_item_is_served");
    lsn_free(got);
    store_close(s);
}

static void test_alarm_out_of_memory(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/alarm.db", dir);
    remove_db(path);
    store *s = NULL;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK ||
        store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) != LSN_OK) {
        ok(0, "alarm_store_opens");
        return;
    }
    posted unaudited = post(s, "kilo will be forged", NULL, NULL);
    posted audited = post(s, "lima will be forged", NULL, NULL);
    posted intact = post(s, "mike is left alone", NULL, NULL);
    store_close(s);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE items SET body = 'forged' WHERE id IN (%lld, %lld);",
             (long long)unaudited.id, (long long)audited.id);
    ok(tamper(path, sql), "alarm_database_altered");
    if (store_open(path, &s, &err) != LSN_OK) {
        ok(0, "alarm_store_reopens: %s", err.message);
        return;
    }
    alarms al = { 0 };
    store_set_alarm(s, on_alarm, &al);
    char *label = NULL;
    /* A reading connection exists before allocations fail. */
    ok(store_item_label(s, intact.id, &label, &err) == LSN_OK && label, "alarm_intact_read");
    lsn_free(label);

    lsn_allocator none = { no_malloc, no_realloc, plain_free, NULL };
    lsn_set_allocator(&none);
    store_item *it = NULL;
    lsn_err e = store_item_get(s, unaudited.id, &it, &err);
    lsn_set_allocator(NULL);
    ok(e == LSN_OK && !it && al.n == 1 && alarmed(&al, unaudited.id),
       "an_item_failing_its_seal_is_withheld_and_alarmed_when_its_record_cannot_be_allocated");
    lsn_free(it);
    it = NULL;
    ok(store_item_get(s, audited.id, &it, &err) == LSN_OK && !it && al.n == 2 &&
           alarmed(&al, audited.id),
       "the_next_alarm_is_raised_once_allocations_succeed");
    lsn_free(it);
    store_close(s); /* commits the queued record */

    if (store_open(path, &s, &err) != LSN_OK) {
        ok(0, "alarm_store_reopens_again");
        return;
    }
    integrity in = { "" };
    char want_lost[64], want_kept[64];
    snprintf(want_lost, sizeof want_lost, "item:%s ", unaudited.text);
    snprintf(want_kept, sizeof want_kept, "item:%s ", audited.text);
    ok(store_audit_list(s, 0, collect_integrity, &in, &err) == LSN_OK &&
           strstr(in.objects, want_kept) && !strstr(in.objects, want_lost),
       "the_alarm_record_is_committed_once_allocations_succeed");
    store_close(s);
    remove_db(path);
}

/* The class row keeps the markings of the label's first item: a later item
 * of the same label with other markings (a policy upgraded between them)
 * is shown with the class's, and sealed with them — not withheld. */
static void test_markings_of_the_class(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/markings.db", dir);
    remove_db(path);
    store *s = NULL;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK ||
        store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) != LSN_OK) {
        ok(0, "markings_store_opens");
        return;
    }
    alarms al = { 0 };
    store_set_alarm(s, on_alarm, &al);
    posted first = post(s, "marked under the first policy", NULL, NULL);
    store_item it = {
        .channel = "cyber-defence", .author = "anna", .organisation = "NATO HQ",
        .label = nato_secret, .marking_en = "NATO SECRET (new wording)",
        .marking_fr = "NATO SECRET (nouveau)", .classification = 4,
        .body = "marked under the upgraded policy",
    };
    int64_t later = 0;
    ok(store_item_append(s, &it, NULL, &later, NULL, &err) == LSN_OK, "later_item_appended");
    store_item *got = NULL;
    ok(store_item_get(s, later, &got, &err) == LSN_OK && got &&
           strcmp(got->marking_en, "NATO SECRET") == 0 && al.n == 0,
       "a_later_item_of_a_label_with_other_markings_is_served_with_the_class_markings");
    lsn_free(got);
    (void)first;
    store_close(s);
    remove_db(path);
}

static void test_key_file(void)
{
    char path[128], key[160];
    snprintf(path, sizeof path, "%s/key.db", dir);
    snprintf(key, sizeof key, "%s.key", path);
    remove_db(path);
    store *s = NULL;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK ||
        store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) != LSN_OK) {
        ok(0, "key_store_opens");
        return;
    }
    (void)post(s, "sealed with the key", NULL, NULL);
    store_close(s);

    chmod(key, 0644);
    err.message[0] = '\0';
    ok(store_open(path, &s, &err) != LSN_OK && !s && strstr(err.message, "0644") &&
           strstr(err.message, "owner only"),
       "key_file_readable_by_others_is_refused_saying_why");
    printf("# %s\n", err.message);
    chmod(key, 0600);
    ok(store_open(path, &s, &err) == LSN_OK && s, "key_file_0600_is_accepted");
    store_close(s);

    char saved[200];
    snprintf(saved, sizeof saved, "%s.saved", key);
    rename(key, saved);
    s = NULL;
    ok(store_open(path, &s, &err) != LSN_OK && !s && strstr(err.message, "missing"),
       "missing_key_of_a_sealed_store_is_refused_not_replaced");
    struct stat st;
    ok(stat(key, &st) != 0, "no_new_key_is_made_for_a_sealed_store");

    FILE *f = fopen(key, "w");
    if (f) {
        fputs("short", f);
        fclose(f);
    }
    chmod(key, 0600);
    ok(store_open(path, &s, &err) != LSN_OK && !s && strstr(err.message, "bytes"),
       "key_file_of_the_wrong_size_is_refused");
    rename(saved, key);
    ok(store_open(path, &s, &err) == LSN_OK && s, "restored_key_opens_the_store");
    store_close(s);
    remove_db(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/liaison-seal-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_tampering();
    test_attachment_name_sealed();
    test_markings_of_the_class();
    test_alarm_out_of_memory();
    test_key_file();
    rmdir(dir);
    return tap_done();
}
