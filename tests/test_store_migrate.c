/* tests/test_store_migrate.c — store_migrate (migrate.c) and item versions
 * (store_rel.h), on SQLite stores in a temporary directory: an item read
 * as version 1 is copied as a new item, and a store holding a later
 * version of an item is refused (its superseded row and its link are not
 * in the interface's reads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    store_item v1 = item("first words");
    store_uuid_new(v1.uuid);
    int64_t row1 = 0;
    ok(store_item_append(src, &v1, NULL, &row1, NULL, &err) == LSN_OK, "an_item_appended");
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

    store_item v2 = item("second words");
    store_uuid_new(v2.uuid);
    v2.ver = (struct store_item_ver){ .version = 2, .supersedes = row1 };
    memcpy(v2.ver.of, v1.uuid, STORE_UUID_LEN);
    int64_t row2 = 0;
    ok(store_item_append(src, &v2, NULL, &row2, NULL, &err) == LSN_OK, "version_2_appended");
    e = store_migrate(src, dst2, &r, &err);
    ok(e != LSN_OK && strstr(err.message, "versions cannot be migrated"),
       "a_store_with_a_later_version_is_refused");
    store_close(src);
    store_close(dst);
    store_close(dst2);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
