/* tests/node/test_node_integrity.c — items altered in the node's database
 * while it is stopped, as an attacker with the file would (issue 9, item 4):
 * a NATO SECRET item's label replaced by a label releasable to Japan, and a
 * body forged. After a restart, neither is served to anyone by any route
 * (fetch, listing, search, stream replay), each raises an alarm on stderr
 * and in /metrics and is audited, and `liaison verify` fails naming them.
 * A key file that others may read stops the node from starting. An item
 * releasable to Japan and Korea, narrowed to Japan (a second version),
 * whose first version's hidden mark is deleted: before its history was
 * sealed, the first version was served again to a Korean reader; now it is withheld,
 * alarmed and named by `liaison verify` (issue 13).
 *
 *   test_node_integrity LIAISON_EXE
 *
 * Before the seals, the moved and relabelled items were served to a
 * Japanese reader and the forged body to everyone, with `audit verify`
 * saying "chain intact". Every exchange goes through the OpenAPI validating
 * proxy: a withheld item is 404 like a missing one. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "../tap.h"
#include "node_util.h"

static test_node N;

static const char *NATO_ONLY =
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}";
static const char *REL_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}";
static const char *NATO_CONF =
    "{\"policy\":\"NATO\",\"classification\":\"CONFIDENTIAL\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}";
static const char *REL_JPN_KOR =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\",\"KOR\"]}]}";

/* The narrowed item's labels: classes of their own (the tampering below
 * relabels REL_JPN_KOR's). */
static const char *CONF_JPN_KOR =
    "{\"policy\":\"NATO\",\"classification\":\"CONFIDENTIAL\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\",\"KOR\"]}]}";
static const char *CONF_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"CONFIDENTIAL\",\"categories\":"
    "[{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}";

/* Post as `token`; the new item's public id (UUID text) into id[37]. */
static bool post(const char *token, const char *label, const char *body, char id[37])
{
    char req[2048];
    snprintf(req, sizeof req, "{\"label\":%s,\"body\":\"%s\"}", label, body);
    http_result r;
    id[0] = '\0';
    if (!tn_http(&N, "POST", "/api/v1/channels/cyber-defence/items", token, req, strlen(req),
                 &r))
        return false;
    json_t *j = r.status == 201 ? json_loads(r.body, 0, NULL) : NULL;
    const char *u = j ? json_string_value(json_object_get(j, "id")) : NULL;
    if (u && strlen(u) == 36)
        memcpy(id, u, 37);
    json_decref(j);
    free(r.body);
    return id[0] != '\0';
}

/* The UUID text as SQL's hex of the 16-byte blob: no dashes. */
static void blob_hex(const char *uuid, char out[33])
{
    size_t k = 0;
    for (const char *c = uuid; *c && k < 32; c++)
        if (*c != '-')
            out[k++] = *c;
    out[k] = '\0';
}

static long get_status(const char *path, const char *token, char **body)
{
    http_result r;
    if (!tn_http(&N, "GET", path, token, NULL, 0, &r))
        return -1;
    if (body)
        *body = r.body;
    else
        free(r.body);
    return r.status;
}

/* Start the node with its stderr in `log` (the alarm goes there). */
static bool start_logged(const char *exe, const char *data, const char *log)
{
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (saved < 0 || fd < 0)
        return false;
    dup2(fd, 2);
    close(fd);
    bool up = tn_start(&N, exe, data, "--threads 2");
    dup2(saved, 2);
    close(saved);
    return up;
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* The attacks, with the node stopped: the NATO-only item's row is moved to
 * the Japan-releasable item's class; the Japan-releasable item's body is
 * forged; two class rows swap their labels (a NATO-only class now reads as
 * releasable to Japan). */
static int tamper(const char *db, const char *secret, const char *rel, const char *conf,
                  const char *kor, const char *narrowed)
{
    char hs[33], hr[33], hc[33], hk[33], hn[33];
    blob_hex(secret, hs);
    blob_hex(rel, hr);
    blob_hex(conf, hc);
    blob_hex(kor, hk);
    blob_hex(narrowed, hn);
    char sql[4096];
    snprintf(sql, sizeof sql,
             "DROP TRIGGER items_no_update; DROP TRIGGER label_classes_no_update;"
             "DROP TRIGGER item_hidden_no_delete;"
             "DELETE FROM item_hidden WHERE row_id = (SELECT id FROM items WHERE uuid = X'%s');"
             "UPDATE items SET class = (SELECT class FROM items WHERE uuid = X'%s') "
             "  WHERE uuid = X'%s';"
             "UPDATE items SET body = 'forged orders for the liaison office' "
             "  WHERE uuid = X'%s';"
             "CREATE TEMP TABLE t AS SELECT label_classes.* FROM label_classes JOIN items "
             "  ON items.class = label_classes.id WHERE items.uuid IN (X'%s', X'%s');"
             "UPDATE label_classes SET label = label || ' ' "
             "  WHERE id = (SELECT class FROM items WHERE uuid = X'%s');"
             "UPDATE label_classes SET (label, marking_en, marking_fr, classification) = "
             "  (SELECT label, marking_en, marking_fr, classification FROM t WHERE id = "
             "   (SELECT class FROM items WHERE uuid = X'%s')) "
             "  WHERE id = (SELECT class FROM items WHERE uuid = X'%s');"
             "UPDATE label_classes SET (label, marking_en, marking_fr, classification) = "
             "  (SELECT label, marking_en, marking_fr, classification FROM t WHERE id = "
             "   (SELECT class FROM items WHERE uuid = X'%s')) "
             "  WHERE id = (SELECT class FROM items WHERE uuid = X'%s');",
             hn, hr, hs, hr, hc, hk, hc, hc, hk, hk, hc);
    sqlite3 *h;
    char *msg = NULL;
    int good = sqlite3_open(db, &h) == SQLITE_OK &&
               sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK;
    if (!good)
        printf("# tamper: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(h);
    return good;
}

static int run(const char *cmd, char *out, size_t n)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t k = fread(out, 1, n - 1, f);
    out[k] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_node_integrity LIAISON_EXE\n");
        return 2;
    }
    const char *exe = argv[1];
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
    char dir[] = "/tmp/liaison-test-integrity-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char data[300], log[300], db[320], cmd[1024], out[8192];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(log, sizeof log, "%s/node.log", dir);
    snprintf(db, sizeof db, "%s/liaison.db", data);

    bool up = start_logged(exe, data, log);
    ok(up, "node_starts_with_demo_data");
    if (!up)
        return tap_done();
    char *ingrid = tn_token(&N, "ingrid.halvorsen");
    char *kenji = tn_token(&N, "kenji.watanabe");
    char secret[37], rel[37], conf[37], kor[37], narrowed[37];
    bool posted = post(ingrid, NATO_ONLY, "nato eyes only assessment", secret) &&
                  post(ingrid, REL_JPN, "genuine minutes of the consultation", rel) &&
                  post(ingrid, NATO_CONF, "nato confidential brief", conf) &&
                  post(ingrid, REL_JPN_KOR, "minutes shared with japan and korea", kor) &&
                  post(ingrid, CONF_JPN_KOR, "minutes narrowed to japan", narrowed);
    char *minjun = tn_token(&N, "min-jun.park");
    /* Narrowed at once by its author: version 2, not releasable to Korea. */
    char req[1024], npath[128];
    snprintf(req, sizeof req, "{\"label\":%s}", CONF_JPN);
    snprintf(npath, sizeof npath, "/api/v1/items/%s/narrow", narrowed);
    http_result nr = { 0 };
    bool narrowed_ok = tn_http(&N, "POST", npath, ingrid, req, strlen(req), &nr) &&
                       nr.status == 200;
    if (!narrowed_ok)
        printf("# narrow: %ld %s\n", nr.status, nr.body ? nr.body : "");
    if (nr.body)
        free(nr.body);
    snprintf(npath, sizeof npath, "/api/v1/items/%s", narrowed);
    long seen_before = get_status(npath, minjun, NULL);
    ok(narrowed_ok && seen_before == 404,
       "before: the narrowed item is no longer served to korea");
    char path[128];
    snprintf(path, sizeof path, "/api/v1/items/%s", secret);
    long before_secret = get_status(path, kenji, NULL);
    snprintf(path, sizeof path, "/api/v1/items/%s", rel);
    long before_rel = get_status(path, kenji, NULL);
    ok(posted && before_secret == 404 && before_rel == 200,
       "before: kenji reads the japan item and not the nato secret one (%ld, %ld)",
       before_secret, before_rel);
    int st = tn_stop(&N, SIGTERM);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node_stops");

    snprintf(cmd, sizeof cmd, "'%s' verify --data-dir '%s' 2>&1", exe, data);
    ok(run(cmd, out, sizeof out) == 0, "verify_passes_before_the_database_is_altered");

    ok(tamper(db, secret, rel, conf, kor, narrowed),
       "database_altered_while_the_node_is_stopped");

    up = start_logged(exe, data, log);
    ok(up, "node_restarts_on_the_altered_database");
    if (!up)
        return tap_done();

    char *body = NULL;
    snprintf(path, sizeof path, "/api/v1/items/%s", secret);
    long s1 = get_status(path, kenji, &body);
    ok(s1 == 404 && !strstr(body ?: "", "nato eyes only"),
       "nato_secret_item_moved_to_a_japan_class_is_not_served_to_japan (status %ld)", s1);
    free(body);
    long s2 = get_status(path, ingrid, NULL);
    ok(s2 == 404, "the_moved_item_is_withheld_from_its_own_author_too (status %ld)", s2);
    snprintf(path, sizeof path, "/api/v1/items/%s", rel);
    long s3 = get_status(path, kenji, &body);
    ok(s3 == 404 && !strstr(body ?: "", "forged"),
       "forged_body_is_not_served (status %ld)", s3);
    free(body);
    snprintf(path, sizeof path, "/api/v1/items/%s", conf);
    long s4 = get_status(path, kenji, &body);
    ok(s4 == 404 && !strstr(body ?: "", "confidential brief"),
       "item_of_a_class_relabelled_for_japan_is_not_served_to_japan (status %ld)", s4);
    free(body);

    long s5 = get_status(npath, minjun, &body);
    ok(s5 == 404 && !strstr(body ?: "", "narrowed to japan"),
       "a_narrowed_items_first_version_unhidden_is_not_served_to_korea (status %ld)", s5);
    free(body);
    get_status("/api/v1/channels/cyber-defence/items?limit=100", minjun, &body);
    ok(body && !strstr(body, "narrowed to japan"),
       "listing_serves_no_unhidden_earlier_version_to_korea");
    free(body);

    get_status("/api/v1/channels/cyber-defence/items?limit=100", kenji, &body);
    ok(body && !strstr(body, "forged") && !strstr(body, "nato eyes only") &&
           !strstr(body, "confidential brief") && !strstr(body, secret) &&
           !strstr(body, conf),
       "listing_serves_no_altered_item_to_japan");
    free(body);
    get_status("/api/v1/channels/cyber-defence/items?limit=100", ingrid, &body);
    ok(body && !strstr(body, "forged") && !strstr(body, "nato eyes only") &&
           !strstr(body, "confidential brief"),
       "listing_serves_no_altered_item_to_nato");
    free(body);
    get_status("/api/v1/search?q=genuine", ingrid, &body);
    ok(body && !strstr(body, "forged orders") && !strstr(body, rel),
       "search_does_not_serve_the_forged_body");
    free(body);

    test_node M = N;
    M.port = N.metrics_port;
    http_result mr;
    long mst = tn_http(&M, "GET", "/metrics", NULL, NULL, 0, &mr) ? mr.status : -1;
    const char *m = mst == 200 ? strstr(mr.body, "\nliaison_integrity_alarms_total ") : NULL;
    long alarms = m ? strtol(m + 32, NULL, 10) : -1L;
    ok(alarms >= 3, "the_metrics_listener_counts_the_integrity_alarms (%ld)", alarms);
    if (mst == 200)
        free(mr.body);

    st = tn_stop(&N, SIGTERM);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node_stops_again");
    ok(tn_openapi_conforms(&N), "every_exchange_conforms_to_openapi_yaml");
    snprintf(out, sizeof out, "ALARM: item %s withheld", secret);
    ok(file_has(log, out), "the_alarm_is_in_the_log");

    snprintf(cmd, sizeof cmd, "'%s' verify --data-dir '%s' 2>&1", exe, data);
    int vrc = run(cmd, out, sizeof out);
    char want1[64], want2[64], want3[64], want4[64];
    snprintf(want1, sizeof want1, "item %s ALTERED", secret);
    snprintf(want2, sizeof want2, "item %s ALTERED", rel);
    snprintf(want3, sizeof want3, "item %s ALTERED", conf);
    snprintf(want4, sizeof want4, "item %s ALTERED", narrowed);
    ok(vrc == 1 && strstr(out, want1) && strstr(out, want2) && strstr(out, want3) &&
           strstr(out, want4),
       "verify_fails_naming_the_altered_items (exit %d)", vrc);
    if (vrc != 1)
        printf("# %s", out);

    /* The alarms were audited: the log holds an integrity record per item. */
    sqlite3 *h;
    sqlite3_stmt *q = NULL;
    long long n = -1;
    if (sqlite3_open(db, &h) == SQLITE_OK &&
        sqlite3_prepare_v2(h,
                           "SELECT count(DISTINCT object) FROM audit WHERE action = "
                           "'integrity' AND object IN (?1, ?2, ?3, ?4)",
                           -1, &q, NULL) == SQLITE_OK) {
        char o1[48], o2[48], o3[48], o4[48];
        snprintf(o1, sizeof o1, "item:%s", secret);
        snprintf(o2, sizeof o2, "item:%s", rel);
        snprintf(o3, sizeof o3, "item:%s", conf);
        snprintf(o4, sizeof o4, "item:%s", narrowed);
        sqlite3_bind_text(q, 1, o1, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, o2, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 3, o3, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 4, o4, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(q) == SQLITE_ROW)
            n = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    ok(n == 4, "every_withheld_item_is_audited (%lld)", n);

    /* The key file readable by others: the node refuses to start, and
     * says why. */
    char key[340];
    snprintf(key, sizeof key, "%s.key", db);
    chmod(key, 0644);
    up = start_logged(exe, data, log);
    if (up)
        tn_stop(&N, SIGTERM);
    ok(!up && file_has(log, "has mode 0644: it must be readable by its owner only"),
       "node_refuses_to_start_with_a_key_file_others_may_read");

    free(ingrid);
    free(kenji);
    free(minjun);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        ok(0, "cleanup");
    curl_global_cleanup();
    return tap_done();
}
