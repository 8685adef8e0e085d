/* tests/test_store_migrate.c — store_migrate (migrate.c) and item versions
 * (store_rel.h), on SQLite stores in a temporary directory: an item read
 * as version 1 is copied as a new item, and a store holding a later
 * version of an item is copied with it (tests/store_migrate_live.c: the
 * whole of a store in use, versions, requests, peers). Named access tokens are copied by their hash:
 * a token issued on the source authenticates against the target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "liaison/alloc.h"
#include "store/migrate.h"
#include "store/store.h"
#include "tap.h"

static char dir[64];

static store *open_in(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "sqlite:%s/%s", dir, name);
    store *s = NULL;
    lsn_error err;
    return store_open(path, &s, &err) == LSN_OK ? s : NULL;
}

static store_item item(const char *body)
{
    return (store_item){ .channel = "c", .author = "ana", .organisation = "NATO",
                         .label = "{\"policy\":\"NATO\"}", .marking_en = "NATO",
                         .marking_fr = "OTAN", .classification = -1, .body = body };
}

static int count_cb(void *ctx, const store_item *it)
{
    (void)it;
    (*(int *)ctx)++;
    return STORE_NEXT;
}

static int token_cb(void *ctx, const store_token *t)
{
    store_token *got = ctx;
    got->created_ms = t->created_ms;
    got->expires_ms = t->expires_ms;
    return STORE_NEXT;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/liaison-migrate-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    lsn_error err;
    store *src = open_in("src.db"), *dst = open_in("dst.db"), *dst2 = open_in("dst2.db");
    if (!ok(src && dst && dst2 && store_channel_add(src, "c", "purpose", NULL, &err) == LSN_OK &&
                store_channel_add_local(src, "kept", "local", true, NULL, &err) == LSN_OK,
            "stores_open"))
        return tap_done();
    /* A user with a named token (its hash only is stored). */
    store_user ana = { .name = "ana", .organisation = "NATO", .clearance = "{}" };
    memset(ana.token_hash, 0x11, STORE_HASH_LEN);
    uint8_t named[STORE_HASH_LEN];
    memset(named, 0x5a, sizeof named);
    store_token tk = { .user = "ana", .name = "export", .created_ms = 1234,
                       .expires_ms = 4102444800000 };
    ok(store_org_add(src, "NATO", "NATO", NULL, &err) == LSN_OK &&
           store_user_add(src, &ana, NULL, &err) == LSN_OK &&
           store_token_add(src, &tk, named, &err) == LSN_OK,
       "a_user_with_a_named_token_added");
    store_item v1 = item("first words");
    store_uuid_new(v1.uuid);
    int64_t row1 = 0;
    /* with its audit record: a later run recognises the target as this
     * source's migration by its chain */
    store_audit_event post = { .actor = "ana", .action = "post", .outcome = "ok" };
    ok(store_item_append(src, &v1, &post, &row1, NULL, &err) == LSN_OK, "an_item_appended");
    store_migrate_report r = { 0 };
    lsn_err e = store_migrate(src, dst, &r, &err);
    if (!ok(e == LSN_OK && r.items == 1, "a_first_version_is_migrated"))
        printf("# %s\n", err.message);
    store_channel *kc = NULL, *cc = NULL;
    ok(store_channel_get(dst, "kept", &kc, &err) == LSN_OK && kc && kc->local &&
           store_channel_get(dst, "c", &cc, &err) == LSN_OK && cc && !cc->local,
       "a_channel_kept_local_stays_local_when_migrated");
    lsn_free(kc);
    lsn_free(cc);
    int n = 0;
    store_item_ref ref = { 0 };
    ok(store_item_list(dst, "c", NULL, 0, 0, count_cb, &n, &err) == LSN_OK && n == 1 &&
           store_item_find(dst, v1.uuid, &ref, &err) == LSN_OK && ref.id > 0,
       "the_target_serves_it_under_its_public_id");
    store_user *found = NULL;
    ok(r.tokens == 1 && r.tokens_not_copied == 0 &&
           store_user_find_by_token(dst, named, &found, &err) == LSN_OK && found &&
           !strcmp(found->name, "ana"),
       "a_named_token_is_migrated_and_finds_its_user");
    lsn_free(found);
    store_token got = { 0 };
    ok(store_token_list(dst, "ana", token_cb, &got, &err) == LSN_OK && got.created_ms == 1234 &&
           got.expires_ms == tk.expires_ms,
       "a_migrated_token_keeps_its_times");
    store_migrate_report again = { 0 };
    e = store_migrate(src, dst, &again, &err);
    if (!ok(e == LSN_OK && again.tokens == 0 && again.items == 0,
            "a_second_run_copies_no_token_again"))
        printf("# %s\n", e ? err.message : "copied again");

    store_item v2 = item("second words");
    store_uuid_new(v2.uuid);
    v2.ver = (struct store_item_ver){ .version = 2, .supersedes = row1 };
    memcpy(v2.ver.of, v1.uuid, STORE_UUID_LEN);
    int64_t row2 = 0;
    ok(store_item_append(src, &v2, NULL, &row2, NULL, &err) == LSN_OK, "version_2_appended");
    e = store_migrate(src, dst2, &r, &err);
    if (!ok(e == LSN_OK && r.items == 2 && r.versions == 1, "a_store_with_a_later_version_is_migrated"))
        printf("# %s\n", e ? err.message : "not counted");
    n = 0;
    ok(store_item_list(dst2, "c", NULL, 0, 0, count_cb, &n, &err) == LSN_OK && n == 1,
       "the_superseded_row_is_kept_hidden (store_migrate_live: the rest)");
    /* A run stopped among the rows (the log is copied last: the target
     * has rows and no record) resumes; a target whose first row is
     * another's is refused. */
    store *part = open_in("part.db"), *other = open_in("other.db");
    store_item *first = NULL;
    int64_t prow = 0;
    ok(part && other && store_channel_add(part, "c", "purpose", NULL, &err) == LSN_OK &&
           store_item_get(src, row1, &first, &err) == LSN_OK && first &&
           (first->ver = (struct store_item_ver){ 0 }, true) &&
           store_item_append(part, first, NULL, &prow, NULL, &err) == LSN_OK &&
           store_channel_add(other, "c", "purpose", NULL, &err) == LSN_OK,
       "a_target_holding_the_first_row_and_no_record");
    lsn_free(first);
    store_item stranger = item("first words");
    ok(other && store_item_append(other, &stranger, NULL, &prow, NULL, &err) == LSN_OK,
       "a_target_holding_another_first_row");
    e = part ? store_migrate(src, part, &r, &err) : LSN_ERR_IO;
    if (!ok(e == LSN_OK && r.items_skipped == 1 && r.items == 1,
            "a_run_stopped_among_the_rows_resumes"))
        printf("# %s\n", e ? err.message : "counted otherwise");
    e = other ? store_migrate(src, other, &r, &err) : LSN_OK;
    ok(e != LSN_OK && strstr(err.message, "not empty"), "another_first_row_is_refused");
    if (part)
        store_close(part);
    if (other)
        store_close(other);
    store_close(src);
    /* A row altered in the source (its seal fails as it is read) is not a
     * gap in the ids to pass over: the migration stops, naming it. */
    char path[128];
    snprintf(path, sizeof path, "%s/src.db", dir);
    sqlite3 *db = NULL;
    ok(sqlite3_open(path, &db) == SQLITE_OK &&
           sqlite3_exec(db, "DROP TRIGGER IF EXISTS items_no_update;"
                            "UPDATE items SET body = 'altered' WHERE id = 1", NULL, NULL,
                        NULL) == SQLITE_OK,
       "a_source_row_altered_behind_the_store");
    sqlite3_close(db);
    src = open_in("src.db");
    store *dst3 = open_in("dst3.db");
    e = src && dst3 ? store_migrate(src, dst3, &r, &err) : LSN_ERR_IO;
    ok(e != LSN_OK && strstr(err.message, "failed its seal"),
       "a_row_failing_its_seal_stops_the_migration (%s)", e ? err.message : "copied");
    if (dst3)
        store_close(dst3);
    if (src)
        store_close(src);
    store_close(dst);
    store_close(dst2);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
