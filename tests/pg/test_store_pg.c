/* tests/pg/test_store_pg.c — what only the PostgreSQL back-end has (the
 * contract suite runs the rest, store_contract_pg): the database it refuses
 * and why, a server without fsync, the schema's version, the key kept outside the database.
 *
 *   test_store_pg SOCKET_DIR   (a cluster of tests/pg/pg_cluster.sh, whose
 *                               superuser is "liaison") */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liaison/alloc.h"
#include "store/store.h"
#include "../tap.h"

static char host[512], keydir[64];

static void uri_of(const char *db, char *out, size_t n)
{
    snprintf(out, n, "postgresql://liaison@/%s?host=%s", db, host);
}

static int sql(const char *db, const char *q)
{
    char uri[1024];
    uri_of(db, uri, sizeof uri);
    PGconn *c = PQconnectdb(uri);
    int good = PQstatus(c) == CONNECTION_OK;
    if (good) {
        PGresult *r = PQexec(c, q);
        good = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!good)
            printf("# %s: %s", q, PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(c);
    return good;
}

static lsn_err open_db(const char *db, store **s, lsn_error *err)
{
    char uri[1024];
    uri_of(db, uri, sizeof uri);
    return store_open_keyed(uri, keydir, s, err);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_store_pg SOCKET_DIR\n");
        return 2;
    }
    snprintf(host, sizeof host, "%s", argv[1]);
    snprintf(keydir, sizeof keydir, "/tmp/liaison-store-pg-XXXXXX");
    if (!mkdtemp(keydir))
        return 2;
    lsn_error err;
    store *s = NULL;

    /* Another encoding, another collation: refused, saying why. */
    ok(sql("liaison", "CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' "
                      "LC_COLLATE 'C' LC_CTYPE 'C'") &&
           open_db("latin", &s, &err) == LSN_ERR_ARG && !s && strstr(err.message, "LATIN1") &&
           strstr(err.message, "UTF8"),
       "a_database_not_in_utf8_is_refused_saying_why");
    ok(sql("liaison", "CREATE DATABASE collated TEMPLATE template0 ENCODING 'UTF8' "
                      "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'") &&
           open_db("collated", &s, &err) == LSN_ERR_ARG && !s &&
           strstr(err.message, "collation") && strstr(err.message, "C.UTF-8"),
       "a_database_of_another_collation_is_refused_saying_why");

    /* A server that does not sync its commits cannot keep a promise of
     * durability: refused. */
    ok(sql("liaison", "ALTER SYSTEM SET fsync = off") &&
           sql("liaison", "SELECT pg_reload_conf(), pg_sleep(0.5)") &&
           open_db("liaison", &s, &err) == LSN_ERR_ARG && !s && strstr(err.message, "fsync"),
       "a_server_running_without_fsync_is_refused");
    ok(sql("liaison", "ALTER SYSTEM RESET fsync") &&
           sql("liaison", "SELECT pg_reload_conf(), pg_sleep(0.5)"),
       "fsync_back_on");

    /* The node makes the schema, at its version; a newer one is refused. */
    ok(sql("liaison", "CREATE DATABASE fresh TEMPLATE template0 ENCODING 'UTF8' "
                      "LC_COLLATE 'C' LC_CTYPE 'C'") &&
           open_db("fresh", &s, &err) == LSN_OK && s,
       "an_empty_database_gets_the_schema");
    int64_t id = 0;
    store_item it = { .channel = "c", .author = "a", .organisation = "o", .label = "{}",
                      .marking_en = "X", .marking_fr = "X", .classification = -1,
                      .body = "sealed" };
    ok(s && store_channel_add(s, "c", "purpose", NULL, &err) == LSN_OK &&
           store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_OK && id == 1,
       "an_item_is_appended");
    store_close(s);
    s = NULL;
    char key[128];
    snprintf(key, sizeof key, "%s/postgresql.key", keydir);
    ok(access(key, F_OK) == 0, "the_key_is_kept_in_the_key_directory_not_the_database");
    ok(open_db("fresh", &s, &err) == LSN_OK && s, "the_store_reopens_at_its_version");
    store_close(s);
    s = NULL;
    /* A store with seals and no key: refused (a new key would fail every item). */
    char moved[160];
    snprintf(moved, sizeof moved, "%s.away", key);
    ok(rename(key, moved) == 0 && open_db("fresh", &s, &err) != LSN_OK && !s,
       "a_sealed_store_without_its_key_is_refused");
    ok(rename(moved, key) == 0, "key_put_back");
    ok(sql("fresh", "UPDATE liaison_schema SET version = 99") &&
           open_db("fresh", &s, &err) == LSN_ERR_IO && !s && strstr(err.message, "newer"),
       "a_database_of_a_newer_schema_is_refused");
    /* Append-only: the database refuses to change an item. */
    ok(!sql("fresh", "UPDATE items SET body = 'forged'") &&
           !sql("fresh", "DELETE FROM item_seals"),
       "items_and_their_seals_are_append_only");

    /* A password in a store's URI is never shown. */
    static const struct { const char *in, *out; } shown[] = {
        { "postgresql://liaison:s3cret@db.example/liaison?host=/x",
          "postgresql://liaison:***@db.example/liaison?host=/x" },
        { "postgresql://liaison@db.example/liaison?password=s3cret&host=/x",
          "postgresql://liaison@db.example/liaison?password=***&host=/x" },
        { "postgresql:host=/x password='s3 cret' dbname=liaison",
          "postgresql:host=/x password=*** dbname=liaison" },
        { "postgresql://liaison@/liaison?host=/x", "postgresql://liaison@/liaison?host=/x" },
        { "sqlite:/srv/a:b@c/liaison.db", "sqlite:/srv/a:b@c/liaison.db" },
    };
    int redacted = 0;
    for (size_t i = 0; i < sizeof shown / sizeof *shown; i++) {
        char out[256];
        store_uri_redact(shown[i].in, out, sizeof out);
        if (strcmp(out, shown[i].out) == 0)
            redacted++;
        else
            printf("# %s -> %s\n", shown[i].in, out);
    }
    ok(redacted == (int)(sizeof shown / sizeof *shown), "a_password_in_a_store_uri_is_never_shown");

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", keydir);
    if (system(cmd) != 0)
        ok(0, "cleanup");
    return tap_done();
}
