/* tests/pg/test_store_pg.c — what only the PostgreSQL back-end has (the
 * contract suite runs the rest, store_contract_pg): the database it refuses
 * and why, a server without fsync, the schema's version, the key kept outside the database.
 *
 *   test_store_pg SOCKET_DIR PG_CLUSTER_SH
 *       (a cluster of tests/pg/pg_cluster.sh, whose superuser is "liaison";
 *        the script stops and starts it under load) */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liaison/alloc.h"
#include "store/audit.h"
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
        if (!good) {
            /* TAP: the server's message may span lines; each gets its '#'. */
            printf("# %s: ", q);
            for (const char *m = PQresultErrorMessage(r); *m; m++) {
                putchar(*m);
                if (*m == '\n' && m[1])
                    fputs("# ", stdout);
            }
        }
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

/* ---- the server shut down under load ---------------------------------------- */

#define POSTERS 4
#define ACKS_MAX 100000

static int64_t acked[ACKS_MAX];
static atomic_int nacked, nfailed, posting;

static void *poster(void *arg)
{
    store *s = arg;
    while (atomic_load(&posting)) {
        store_item it = { .channel = "load", .author = "a", .organisation = "o",
                          .label = "{\"l\":1}", .marking_en = "X", .marking_fr = "X",
                          .classification = -1, .body = "posted under a server restart" };
        store_audit_event post = { .actor = "a", .action = "post", .outcome = "ok" };
        int64_t id = 0;
        lsn_error err;
        if (store_item_append(s, &it, &post, &id, NULL, &err) == LSN_OK) {
            int k = atomic_fetch_add(&nacked, 1);
            if (k < ACKS_MAX)
                acked[k] = id;
        } else {
            atomic_fetch_add(&nfailed, 1);
            usleep(20000);
        }
    }
    return NULL;
}

static int run_script(const char *script, const char *verb)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s '%s' >/dev/null 2>&1", script, verb, host);
    return system(cmd);
}

/* A fast shutdown of the server while posters post, then a start: what
 * was acknowledged is there, whole; the chain verifies; posting resumes
 * (the store connects again). */
static void test_server_restart(const char *script)
{
    store *s = NULL;
    lsn_error err;
    if (!ok(sql("liaison", "CREATE DATABASE restart TEMPLATE template0 ENCODING 'UTF8' "
                           "LC_COLLATE 'C' LC_CTYPE 'C'") &&
                open_db("restart", &s, &err) == LSN_OK &&
                store_channel_add(s, "load", "load", NULL, &err) == LSN_OK,
            "restart_setup"))
        return;
    atomic_store(&posting, 1);
    pthread_t th[POSTERS];
    for (int i = 0; i < POSTERS; i++)
        pthread_create(&th[i], NULL, poster, s);
    /* Bounded waits for what must happen, not timings. */
    for (int i = 0; i < 300 && atomic_load(&nacked) < 50; i++)
        usleep(100000);
    int before = atomic_load(&nacked);
    int down = run_script(script, "halt");
    for (int i = 0; i < 300 && atomic_load(&nfailed) == 0; i++)
        usleep(100000);
    int failed_while_down = atomic_load(&nfailed);
    int up = run_script(script, "start");
    int after_start = atomic_load(&nacked);
    for (int i = 0; i < 300 && atomic_load(&nacked) < after_start + 50; i++)
        usleep(100000);
    atomic_store(&posting, 0);
    for (int i = 0; i < POSTERS; i++)
        pthread_join(th[i], NULL);
    int n = atomic_load(&nacked);
    ok(down == 0 && up == 0 && before > 0 && failed_while_down > 0,
       "posts_fail_while_the_server_is_down (%d acknowledged before, %d refused)", before,
       failed_while_down);
    ok(n >= after_start + 50, "posting_resumes_once_the_server_is_back (%d after, %d in all)",
       n - after_start, n);
    store_close(s);
    s = NULL;
    /* Reopened: every acknowledged item, whole; the chain. */
    int missing = 0;
    if (open_db("restart", &s, &err) == LSN_OK) {
        for (int i = 0; i < n && i < ACKS_MAX; i++) {
            store_item *it = NULL;
            if (store_item_get(s, acked[i], &it, &err) != LSN_OK || !it ||
                !store_item_intact(it) || strcmp(it->body, "posted under a server restart"))
                missing++;
            lsn_free(it);
        }
    } else {
        missing = n;
    }
    ok(n > 0 && missing == 0, "every_acknowledged_post_is_there_after_the_restart (%d of %d)",
       n - missing, n);
    audit_report r;
    ok(s && audit_verify(s, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT &&
           r.entries >= (uint64_t)n,
       "the_audit_chain_verifies_after_the_restart");
    store_close(s);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_store_pg SOCKET_DIR PG_CLUSTER_SH\n");
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
    /* A store at version 7 (before release requests and the federation
     * transport, with its seals in item_seals) is upgraded to 14 on opening:
     * the tables of pg_rel.h, the peers' received sequence and policy, the
     * channels' local flag, the withdrawals' tombstones, the release
     * messages (pg_fedrel.h) are made, the seals moved into the items' rows,
     * the version recorded. */
    ok(sql("fresh", "DROP TABLE item_tombstones, release_history, release_authorities, "
                    "release_requests, item_hidden, item_versions, fed_release_messages; "
                    "ALTER TABLE peers DROP COLUMN received_seq; "
                    "ALTER TABLE peers DROP COLUMN policy; ALTER TABLE channels DROP COLUMN local; "
                    "CREATE TABLE item_seals AS SELECT id AS item_id, body_digest, "
                    "attachment_digest, mac FROM items; "
                    "ALTER TABLE item_seals ADD PRIMARY KEY (item_id); "
                    "ALTER TABLE items DROP COLUMN body_digest, DROP COLUMN attachment_digest, "
                    "DROP COLUMN mac; "
                    "UPDATE liaison_schema SET version = 7") &&
           open_db("fresh", &s, &err) == LSN_OK && s &&
           sql("fresh", "SELECT 1 FROM item_versions, item_hidden, release_requests, "
                        "release_authorities, release_history, item_tombstones") &&
           sql("fresh", "SELECT received_seq, policy FROM peers") &&
           sql("fresh", "SELECT local FROM channels") &&
           sql("fresh", "SELECT peer, outgoing, rid, kind, message, done_ms, result "
                        "FROM fed_release_messages") &&
           sql("fresh", "DO $$ BEGIN IF (SELECT version FROM liaison_schema) <> 14 THEN "
                        "RAISE EXCEPTION 'not 14'; END IF; END $$") &&
           sql("fresh", "SELECT mac FROM items") && !sql("fresh", "SELECT 1 FROM item_seals"),
       "a_store_at_version_7_is_upgraded_to_14");
    /* Its item's seal moved from item_seals into its row: served whole. */
    store_item *got = NULL;
    ok(s && store_item_get(s, 1, &got, &err) == LSN_OK && got &&
           strcmp(got->body, "sealed") == 0,
       "the_upgrade_to_13_moves_the_seals_into_the_rows");
    lsn_free(got);
    store_close(s);
    s = NULL;
    /* Append-only: the database refuses to change an item. */
    ok(!sql("fresh", "UPDATE items SET body = 'forged'") &&
           !sql("fresh", "UPDATE items SET mac = NULL"),
       "items_and_their_seals_are_append_only");

    test_server_restart(argv[2]);

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
