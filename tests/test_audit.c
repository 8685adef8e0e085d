/* tests/test_audit.c — the hash-chained audit log: appends take gap-free
 * sequence numbers and chain; a post record shares the item's transaction;
 * verify passes on an intact log and names the first altered, removed or
 * reordered entry when the SQLite file is tampered with directly. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liaison/alloc.h"
#include "store/audit.h"
#include "store/store.h"
#include "store/verify.h"
#include "tap.h"

static char dir[64];

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

/* A store at dir/NAME.db with 8 audit entries; closed again. */
static int make_log(const char *name, char *path, size_t n)
{
    snprintf(path, n, "%s/%s.db", dir, name);
    remove_db(path);
    store *s;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK)
        return 0;
    int good = 1;
    for (int i = 1; i <= 8; i++) {
        char object[32], detail[64];
        snprintf(object, sizeof object, "item:%d", i);
        snprintf(detail, sizeof detail, "read number %d", i);
        store_audit_event ev = { .time_ms = 1700000000000 + i, .actor = "aiko",
                                 .action = "read", .object = object, .outcome = "ok",
                                 .detail = detail };
        if (store_audit_append(s, &ev, &err) != LSN_OK || ev.seq != (uint64_t)i)
            good = 0;
    }
    store_close(s);
    return good;
}

/* Run SQL on the file behind the store's back, as an intruder would: the
 * append-only triggers go first. */
static int tamper(const char *path, const char *sql)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return 0;
    char *msg = NULL;
    int rc = sqlite3_exec(db,
                          "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;",
                          NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        printf("# tamper: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK;
}

static audit_report verify_file(const char *path)
{
    audit_report r;
    memset(&r, 0, sizeof r);
    r.fault = (audit_fault)-1;
    store *s;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK)
        return r;
    if (audit_verify(s, &r, &err) != LSN_OK)
        r.fault = (audit_fault)-1;
    store_close(s);
    return r;
}

static void test_chain(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/chain.db", dir);
    remove_db(path);
    store *s;
    lsn_error err;
    if (!ok(store_open(path, &s, &err) == LSN_OK, "store_opens"))
        return;
    audit_report r;
    ok(audit_verify(s, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT && r.entries == 0,
       "empty_log_verifies");

    store_audit_event a = { .actor = "admin", .action = "channel.add", .object = "channel:space",
                            .outcome = "ok" };
    ok(store_audit_append(s, &a, &err) == LSN_OK && a.seq == 1 && a.time_ms > 0,
       "first_entry_gets_seq_1_and_a_time");
    uint8_t zero[STORE_HASH_LEN] = { 0 }, h1[STORE_HASH_LEN];
    audit_entry_hash(zero, &a, h1);
    ok(memcmp(h1, a.hash, STORE_HASH_LEN) == 0, "first_entry_chains_from_zero_hash");

    store_audit_event bad = { .actor = "admin", .action = "", .object = "x", .outcome = "ok" };
    ok(store_audit_append(s, &bad, &err) == LSN_ERR_ARG, "entry_without_action_is_refused");

    /* An item's post record is written with the item, names it, chains. */
    int64_t id = 0;
    ok(store_org_add(s, "NATO International Staff", "NATO", NULL, &err) == LSN_OK &&
           store_channel_add(s, "space", "Space", NULL, &err) == LSN_OK,
       "directory_setup");
    store_item it = { .channel = "space", .author = "nils", .organisation = "NATO IS",
                      .label = "{}", .marking_en = "NATO UNCLASSIFIED",
                      .marking_fr = "NATO SANS CLASSIFICATION", .classification = 0,
                      .body = "orbital debris briefing" };
    store_audit_event post = { .actor = "nils", .action = "post", .outcome = "ok" };
    ok(store_item_append(s, &it, &post, &id, NULL, &err) == LSN_OK && post.seq == 2,
       "post_record_takes_the_next_seq");
    ok(post.object == NULL, "callers_post_record_object_is_left_as_given");

    /* A refused item leaves no audit record behind, and no gap. */
    store_item lost = it;
    lost.channel = "no-such-channel";
    store_audit_event post2 = { .actor = "nils", .action = "post", .outcome = "ok" };
    int64_t lost_id;
    ok(store_item_append(s, &lost, &post2, &lost_id, NULL, &err) == LSN_ERR_ARG,
       "post_to_unknown_channel_is_refused");
    store_audit_event c = { .actor = "auditor", .action = "audit.verify", .object = "audit",
                            .outcome = "ok", .detail = NULL };
    ok(store_audit_append(s, &c, &err) == LSN_OK && c.seq == 3,
       "refused_post_leaves_no_gap_in_the_sequence");

    ok(audit_verify(s, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT && r.entries == 3 &&
           memcmp(r.head, c.hash, STORE_HASH_LEN) == 0,
       "chain_of_three_verifies_and_reports_its_head");
    store_close(s);

    /* Reopened, the chain goes on from its stored head. */
    if (!ok(store_open(path, &s, &err) == LSN_OK, "store_reopens"))
        return;
    store_audit_event d = { .actor = "admin", .action = "user.add", .object = "user:mei",
                            .outcome = "ok" };
    ok(store_audit_append(s, &d, &err) == LSN_OK && d.seq == 4, "chain_continues_after_reopen");
    ok(audit_verify(s, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT && r.entries == 4,
       "chain_verifies_after_reopen_and_append");
    store_item *got = NULL;
    ok(store_item_get(s, id, &got, &err) == LSN_OK && got, "posted_item_is_there");
    lsn_free(got);
    store_close(s);

    /* The post record's object is the item. */
    sqlite3 *db;
    int object_ok = 0;
    if (sqlite3_open(path, &db) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT object FROM audit WHERE seq = 2", -1, &st, NULL) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            /* item:UUID, the item's public id (the rowid stays inside). */
            const char *obj = (const char *)sqlite3_column_text(st, 0);
            uint8_t u[STORE_UUID_LEN];
            object_ok = obj && strncmp(obj, "item:", 5) == 0 && store_uuid_parse(obj + 5, u);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    ok(object_ok, "post_record_object_names_the_item");
}

/* Two handles on one file (as the node and an administrative command in
 * another process) append in turn: the chain stays one line. */
static void test_two_writers(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/two.db", dir);
    remove_db(path);
    store *a = NULL, *b = NULL;
    lsn_error err;
    if (!ok(store_open(path, &a, &err) == LSN_OK && store_open(path, &b, &err) == LSN_OK,
            "two_handles_open_one_file")) {
        store_close(a);
        store_close(b);
        return;
    }
    int good = 1;
    for (int i = 0; i < 6; i++) {
        store_audit_event ev = { .actor = i % 2 ? "cli" : "node", .action = "user.add",
                                 .object = "user:x", .outcome = "ok" };
        if (store_audit_append(i % 2 ? b : a, &ev, &err) != LSN_OK ||
            ev.seq != (uint64_t)i + 1)
            good = 0;
    }
    ok(good, "appends_through_two_handles_take_consecutive_seqs");
    audit_report r;
    ok(audit_verify(a, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT && r.entries == 6,
       "chain_written_through_two_handles_verifies");
    store_close(a);
    store_close(b);
    remove_db(path);
}

static void test_tampering(void)
{
    char path[128];
    audit_report r;

    ok(make_log("intact", path, sizeof path), "log_of_eight_entries_written");
    r = verify_file(path);
    ok(r.fault == AUDIT_INTACT && r.entries == 8 && r.first_bad == 0,
       "untouched_log_verifies");

    char line[160];
    audit_report_line(&r, line, sizeof line);
    ok(strncmp(line, "audit log intact: 8 entries, head ", 34) == 0 && strlen(line) == 98,
       "intact_report_line_names_count_and_head");

    make_log("altered", path, sizeof path);
    ok(tamper(path, "UPDATE audit SET detail = 'nothing to see' WHERE seq = 3"),
       "tamper_alter_detail");
    r = verify_file(path);
    ok(r.fault == AUDIT_ALTERED && r.first_bad == 3, "altered_entry_is_found (%s at %llu)",
       audit_fault_name(r.fault), (unsigned long long)r.first_bad);
    audit_report_line(&r, line, sizeof line);
    is_str(line, "audit log broken: entry 3 altered (4 entries read)",
           "broken_report_line_names_the_entry");

    make_log("altered-time", path, sizeof path);
    tamper(path, "UPDATE audit SET time_ms = time_ms + 1 WHERE seq = 5");
    r = verify_file(path);
    ok(r.fault == AUDIT_ALTERED && r.first_bad == 5, "altered_time_is_found");

    make_log("altered-last", path, sizeof path);
    tamper(path, "UPDATE audit SET actor = 'mallory' WHERE seq = 8");
    r = verify_file(path);
    ok(r.fault == AUDIT_ALTERED && r.first_bad == 8, "altered_last_entry_is_found");

    make_log("removed", path, sizeof path);
    ok(tamper(path, "DELETE FROM audit WHERE seq = 4"), "tamper_remove_entry");
    r = verify_file(path);
    ok(r.fault == AUDIT_REMOVED && r.first_bad == 4, "removed_entry_is_found (%s at %llu)",
       audit_fault_name(r.fault), (unsigned long long)r.first_bad);

    make_log("removed-first", path, sizeof path);
    tamper(path, "DELETE FROM audit WHERE seq = 1");
    r = verify_file(path);
    ok(r.fault == AUDIT_REMOVED && r.first_bad == 1, "removed_first_entry_is_found");

    /* Remove entry 4 and renumber the rest to hide the gap. */
    make_log("removed-renumbered", path, sizeof path);
    tamper(path, "DELETE FROM audit WHERE seq = 4;"
                 "UPDATE audit SET seq = -seq WHERE seq > 4;"
                 "UPDATE audit SET seq = -seq - 1 WHERE seq < 0;");
    r = verify_file(path);
    ok(r.fault != AUDIT_INTACT && r.first_bad == 4,
       "removed_entry_hidden_by_renumbering_is_found (%s at %llu)",
       audit_fault_name(r.fault), (unsigned long long)r.first_bad);

    /* Swap entries 5 and 6: every column but the sequence number. */
    make_log("reordered", path, sizeof path);
    ok(tamper(path,
              "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (5, 6);"
              "UPDATE audit SET (time_ms, actor, action, object, outcome, detail, hash) ="
              " (SELECT time_ms, actor, action, object, outcome, detail, hash FROM t"
              "  WHERE t.seq = 11 - audit.seq) WHERE seq IN (5, 6);"),
       "tamper_swap_two_entries");
    r = verify_file(path);
    ok(r.fault == AUDIT_REORDERED && r.first_bad == 5,
       "reordered_pair_is_found (%s at %llu)", audit_fault_name(r.fault),
       (unsigned long long)r.first_bad);

    make_log("rehashed", path, sizeof path);
    tamper(path, "UPDATE audit SET hash = zeroblob(32) WHERE seq = 2");
    r = verify_file(path);
    ok(r.fault == AUDIT_ALTERED && r.first_bad == 2, "altered_stored_hash_is_found");
}

/* ---- the anchor: records cut off at the end -------------------------------- */

static store_verify_report verify_anchor(const char *path)
{
    store_verify_report r;
    memset(&r, 0, sizeof r);
    store *s;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK) {
        printf("# open: %s\n", err.message);
        r.audit.fault = (audit_fault)-1;
        return r;
    }
    if (store_verify_audit(s, &r, &err) != LSN_OK)
        r.audit.fault = (audit_fault)-1;
    store_close(s);
    return r;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[4096];
    size_t n;
    int good = in && out;
    while (good && (n = fread(buf, 1, sizeof buf, in)) > 0)
        good = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out)
        good = fclose(out) == 0 && good;
    return good;
}

static int append_reads(const char *path, int n)
{
    store *s;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK)
        return 0;
    int good = 1;
    for (int i = 0; i < n; i++) {
        store_audit_event ev = { .actor = "aiko", .action = "read", .object = "item:1",
                                 .outcome = "ok" };
        good &= store_audit_append(s, &ev, &err) == LSN_OK;
    }
    store_close(s);
    return good;
}

static void test_truncation(void)
{
    char path[128], anchor[160], saved[200];
    store_verify_report r;

    make_log("anchored", path, sizeof path);
    snprintf(anchor, sizeof anchor, "%s.anchor", path);
    ok(access(anchor, F_OK) == 0, "closing_a_store_leaves_its_anchor");
    r = verify_anchor(path);
    ok(r.ok && r.anchor.state == STORE_ANCHOR_OK && r.anchor.seq == 8,
       "untouched_log_matches_its_anchor (seq %llu)", (unsigned long long)r.anchor.seq);

    make_log("truncated", path, sizeof path);
    ok(tamper(path, "DELETE FROM audit WHERE seq > 6"), "tamper_remove_the_last_two_entries");
    r = verify_anchor(path);
    ok(r.audit.fault == AUDIT_INTACT && r.audit.entries == 6,
       "the_chain_alone_cannot_see_a_cut_tail");
    ok(!r.ok && r.truncated, "removed_tail_is_reported_as_truncation");
    /* Later opens and writes must not anchor the cut log over the evidence. */
    ok(append_reads(path, 1), "the_truncated_store_still_takes_writes");
    r = verify_anchor(path);
    ok(!r.ok && r.truncated && r.anchor.seq == 8, "the_anchor_is_kept_after_truncation");
    ok(append_reads(path, 2), "writes_past_the_anchor_seq");
    r = verify_anchor(path);
    ok(!r.ok && r.rewritten, "records_rewritten_at_the_anchor_seq_are_reported");

    /* A crash between a commit and its anchor's write: the anchor lags. */
    make_log("lagging", path, sizeof path);
    snprintf(anchor, sizeof anchor, "%s.anchor", path);
    snprintf(saved, sizeof saved, "%s.saved", anchor);
    ok(copy_file(anchor, saved) && append_reads(path, 3) && rename(saved, anchor) == 0,
       "an_older_anchor_put_back");
    r = verify_anchor(path);
    ok(r.ok && r.anchor.state == STORE_ANCHOR_OK && !r.truncated && !r.rewritten,
       "an_anchor_behind_the_head_is_accepted");

    /* A forged anchor. */
    make_log("forged", path, sizeof path);
    snprintf(anchor, sizeof anchor, "%s.anchor", path);
    FILE *f = fopen(anchor, "r+b");
    if (f) {
        fseek(f, 15, SEEK_SET);
        fputc(7, f); /* the seq's low byte: 8 becomes 7 */
        fclose(f);
    }
    r = verify_anchor(path);
    ok(!r.ok && r.anchor.state == STORE_ANCHOR_BAD, "an_anchor_that_does_not_verify_is_bad");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/liaison-audit-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_chain();
    test_two_writers();
    test_tampering();
    test_truncation();
    ok(strcmp(audit_fault_name(AUDIT_REORDERED), "reordered") == 0, "fault_names");

    /* Clean up the temp dir. */
    const char *names[] = { "chain", "intact", "altered", "altered-time", "altered-last",
                            "removed", "removed-first", "removed-renumbered", "reordered",
                            "rehashed", "anchored", "truncated", "lagging", "forged" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s/%s.db", dir, names[i]);
        remove_db(p);
    }
    rmdir(dir);
    return tap_done();
}
