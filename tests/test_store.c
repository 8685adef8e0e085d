/* tests/test_store.c — the SQLite store: every operation, id order, paging
 * with a callback that stops, full-text search, concurrency through group
 * commit, persistence across reopen, allocation failures, and a crash test
 * (a child killed with SIGKILL while posting loses nothing it acknowledged). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

/* ---- organisations, users, channels ----------------------------------- */

static int count_org(void *ctx, const store_org *o) { (void)o; ++*(int *)ctx; return STORE_NEXT; }
static int count_user(void *ctx, const store_user *u) { (void)u; ++*(int *)ctx; return STORE_NEXT; }
static int count_channel(void *ctx, const store_channel *c) { (void)c; ++*(int *)ctx; return STORE_NEXT; }

static void test_directory(store *s)
{
    lsn_error err;
    int64_t id1 = 0, id2 = 0;
    ok(store_org_add(s, "NATO International Staff", "NATO", &id1, &err) == LSN_OK,
       "org_add_succeeds");
    ok(store_org_add(s, "Mission of Japan", "JPN", &id2, &err) == LSN_OK && id2 > id1,
       "org_add_returns_increasing_ids");
    ok(store_org_add(s, "Mission of Japan", "JPN", NULL, &err) == LSN_ERR_DUPLICATE,
       "org_add_refuses_a_duplicate_name");
    ok(store_org_add(s, "", "JPN", NULL, &err) == LSN_ERR_ARG, "org_add_refuses_empty_name");
    store_org *o = NULL;
    ok(store_org_get(s, "Mission of Japan", &o, &err) == LSN_OK && o, "org_get_finds_org");
    if (o) {
        is_str(o->category, "JPN", "org_get_returns_category");
        ok(o->id == id2, "org_get_returns_id");
    }
    lsn_free(o);
    ok(store_org_get(s, "Nobody", &o, &err) == LSN_OK && o == NULL,
       "org_get_of_unknown_name_is_null_not_error");
    int n = 0;
    ok(store_org_list(s, count_org, &n, &err) == LSN_OK &&
           n == 2,
       "org_list_yields_every_org");

    store_user u = { .name = "aiko", .organisation = "Mission of Japan",
                     .clearance = "{\"policy\":\"NATO\",\"classifications\":[1,2]}",
                     .roles = STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY };
    char token[STORE_TOKEN_CHARS + 1];
    ok(store_token_new(token, &err) == LSN_OK && strlen(token) == STORE_TOKEN_CHARS,
       "token_new_makes_43_chars");
    store_token_hash(token, u.token_hash);
    int64_t uid = 0;
    ok(store_user_add(s, &u, &uid, &err) == LSN_OK && uid > 0, "user_add_succeeds");
    ok(store_user_add(s, &u, NULL, &err) == LSN_ERR_DUPLICATE,
       "user_add_refuses_duplicate_name");
    store_user v = u;
    v.name = "ghost";
    v.organisation = "No Such Org";
    v.token_hash[0] ^= 1;
    ok(store_user_add(s, &v, NULL, &err) == LSN_ERR_ARG, "user_add_refuses_unknown_org");
    v.organisation = "Mission of Japan";
    v.token_hash[0] ^= 1; /* same hash as aiko's */
    ok(store_user_add(s, &v, NULL, &err) == LSN_ERR_DUPLICATE,
       "user_add_refuses_a_token_hash_already_taken");

    store_user *f = NULL;
    uint8_t h[STORE_HASH_LEN];
    store_token_hash(token, h);
    ok(store_user_find_by_token(s, h, &f, &err) == LSN_OK && f, "user_found_by_token_hash");
    if (f) {
        is_str(f->name, "aiko", "user_by_token_has_name");
        is_str(f->organisation, "Mission of Japan", "user_by_token_has_org");
        is_str(f->clearance, u.clearance, "user_by_token_has_clearance");
        ok(f->roles == (STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY),
           "user_by_token_has_roles");
        ok(f->id == uid, "user_by_token_has_id");
    }
    lsn_free(f);
    h[5] ^= 0x40;
    ok(store_user_find_by_token(s, h, &f, &err) == LSN_OK && f == NULL,
       "wrong_token_hash_finds_no_user");
    ok(store_user_get(s, "aiko", &f, &err) == LSN_OK && f && f->id == uid,
       "user_get_by_name");
    lsn_free(f);
    n = 0;
    ok(store_user_list(s, count_user, &n, &err) == LSN_OK &&
           n == 1,
       "user_list_yields_every_user");

    int64_t c1 = 0, c2 = 0;
    ok(store_channel_add(s, "cyber-defence", "Cyber defence cooperation", &c1, &err) ==
               LSN_OK &&
           store_channel_add(s, "maritime-security", "Maritime security", &c2, &err) ==
               LSN_OK &&
           c2 > c1,
       "channel_add_succeeds");
    ok(store_channel_add(s, "cyber-defence", "again", NULL, &err) == LSN_ERR_DUPLICATE,
       "channel_add_refuses_duplicate");
    store_channel *ch = NULL;
    ok(store_channel_get(s, "maritime-security", &ch, &err) == LSN_OK && ch, "channel_get");
    if (ch)
        is_str(ch->purpose, "Maritime security", "channel_get_returns_purpose");
    lsn_free(ch);
    ok(store_channel_get(s, "space", &ch, &err) == LSN_OK && ch == NULL,
       "channel_get_of_unknown_is_null");
    n = 0;
    ok(store_channel_list(s, count_channel, &n, &err) ==
               LSN_OK &&
           n == 2,
       "channel_list_yields_every_channel");
}

/* ---- items -------------------------------------------------------------- */

typedef struct collect {
    int64_t ids[256];
    int n;
    int stop_at; /* stop after this many; 0: never */
} collect;

static int collect_cb(void *ctx, const store_item *it)
{
    collect *c = ctx;
    if (c->n < 256)
        c->ids[c->n++] = it->id;
    return c->stop_at && c->n >= c->stop_at ? STORE_STOP : STORE_NEXT;
}

/* What a listing gives of one item's attachment. */
typedef struct listed_att {
    int64_t id;
    bool seen, has_media, has_bytes;
    size_t len;
} listed_att;

static int listed_att_cb(void *ctx, const store_item *it)
{
    listed_att *a = ctx;
    if (it->id == a->id) {
        a->seen = true;
        a->has_media = it->media_type && strcmp(it->media_type, "application/pdf") == 0;
        a->has_bytes = it->attachment != NULL;
        a->len = it->attachment_len;
    }
    return STORE_NEXT;
}

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

static void test_items(store *s)
{
    lsn_error err;
    int64_t ids[10];
    int increasing = 1, all_ok = 1;
    for (int i = 0; i < 10; i++) {
        char body[64];
        snprintf(body, sizeof body, "report %d on submarine cables %s", i,
                 i % 2 ? "odd" : "even");
        store_item it = sample_item(i < 7 ? "cyber-defence" : "maritime-security", body);
        if (store_item_append(s, &it, NULL, &ids[i], NULL, &err) != LSN_OK)
            all_ok = 0;
        if (i && ids[i] <= ids[i - 1])
            increasing = 0;
    }
    ok(all_ok, "item_append_succeeds");
    ok(increasing, "item_ids_increase");

    store_item bad = sample_item("no-such-channel", "x");
    int64_t bid = 7;
    ok(store_item_append(s, &bad, NULL, &bid, NULL, &err) == LSN_ERR_ARG && bid == 0,
       "item_append_to_unknown_channel_is_refused");
    bad = sample_item("cyber-defence", "x");
    bad.label = "";
    ok(store_item_append(s, &bad, NULL, &bid, NULL, &err) == LSN_ERR_ARG,
       "item_append_without_label_is_refused");

    /* An attachment round-trips with its media type; the hash binds it. */
    static const uint8_t pdf[] = { '%', 'P', 'D', 'F', 0, 1, 2, 0xff };
    store_item att = sample_item("maritime-security", "see attached chart");
    att.media_type = "application/pdf";
    att.attachment = pdf;
    att.attachment_len = sizeof pdf;
    att.classification = -1;
    /* Its own label: a label's classification is a property of the label. */
    att.label = "{\"policy\":\"NATO\",\"classification\":\"NONE\"}";
    int64_t aid = 0;
    uint8_t h[STORE_HASH_LEN];
    ok(store_item_append(s, &att, NULL, &aid, h, &err) == LSN_OK && aid > ids[9],
       "item_with_attachment_appends");
    store_item *got = NULL;
    ok(store_item_get(s, aid, &got, &err) == LSN_OK && got, "item_get_finds_item");
    if (got) {
        ok(got->id == aid, "item_get_has_id");
        is_str(got->channel, "maritime-security", "item_get_has_channel");
        is_str(got->author, "aiko", "item_get_has_author");
        is_str(got->organisation, "Mission of Japan", "item_get_has_organisation");
        is_str(got->label, att.label, "item_get_has_label");
        is_str(got->marking_en, att.marking_en, "item_get_has_english_marking");
        is_str(got->marking_fr, att.marking_fr, "item_get_has_french_marking");
        ok(got->classification == -1, "item_get_keeps_absent_classification");
        is_str(got->body, "see attached chart", "item_get_has_body");
        is_str(got->media_type, "application/pdf", "item_get_has_media_type");
        ok(got->attachment_len == sizeof pdf &&
               memcmp(got->attachment, pdf, sizeof pdf) == 0,
           "item_get_has_attachment_bytes");
        ok(got->created_ms == 1700000000123, "item_get_has_creation_time");
        ok(memcmp(got->content_hash, h, STORE_HASH_LEN) == 0,
           "item_get_has_the_content_hash_append_returned");
        ok(store_item_intact(got), "stored_item_is_intact");
        got->label = "{\"policy\":\"NATO\",\"classification\":\"NATO UNCLASSIFIED\"}";
        ok(!store_item_intact(got), "item_with_another_label_is_not_intact");
    }
    lsn_free(got);
    ok(store_item_get(s, ids[0], &got, &err) == LSN_OK && got && got->media_type == NULL &&
           got->attachment == NULL && got->classification == 2,
       "item_without_attachment_reads_back_without_one");
    lsn_free(got);
    ok(store_item_get(s, 999999, &got, &err) == LSN_OK && got == NULL,
       "item_get_of_unknown_id_is_null");
    char *label = NULL;
    ok(store_item_label(s, aid, &label, &err) == LSN_OK && label &&
           strcmp(label, att.label) == 0,
       "item_label_reads_only_the_label");
    lsn_free(label);
    label = (char *)"not reset";
    ok(store_item_label(s, 999999, &label, &err) == LSN_OK && label == NULL,
       "item_label_of_unknown_id_is_null");

    collect c = { 0 };
    ok(store_item_list(s, "cyber-defence", NULL, 0, 0, collect_cb, &c, &err) == LSN_OK && c.n == 7 &&
           c.ids[0] == ids[0] && c.ids[6] == ids[6],
       "item_list_yields_channel_items_in_id_order");
    c = (collect){ .stop_at = 3 };
    ok(store_item_list(s, "cyber-defence", NULL, ids[1], 0, collect_cb, &c, &err) == LSN_OK &&
           c.n == 3 && c.ids[0] == ids[2] && c.ids[2] == ids[4],
       "item_list_after_id_stops_when_callback_says_stop");
    c = (collect){ 0 };
    ok(store_item_list(s, NULL, NULL, ids[5], 0, collect_cb, &c, &err) == LSN_OK && c.n == 5 &&
           c.ids[0] == ids[6] && c.ids[4] == aid,
       "item_list_of_every_channel_after_id");
    listed_att la = { .id = aid };
    ok(store_item_list(s, NULL, NULL, 0, 0, listed_att_cb, &la, &err) == LSN_OK && la.seen &&
           la.has_media && !la.has_bytes && la.len == sizeof pdf,
       "item_list_gives_the_attachment_size_not_its_bytes");
    la = (listed_att){ .id = aid };
    ok(store_item_search(s, "chart", NULL, NULL, 0, listed_att_cb, &la, &err) == LSN_OK && la.seen &&
           la.has_media && !la.has_bytes && la.len == sizeof pdf,
       "item_search_gives_the_attachment_size_not_its_bytes");
    c = (collect){ 0 };
    ok(store_item_list(s, "space", NULL, 0, 0, collect_cb, &c, &err) == LSN_OK && c.n == 0,
       "item_list_of_empty_channel_yields_nothing");
    int64_t last = 0;
    ok(store_item_last_id(s, &last, &err) == LSN_OK && last == aid, "item_last_id");

    /* Search. */
    c = (collect){ 0 };
    lsn_err se = store_item_search(s, "submarine ODD", NULL, NULL, 0, collect_cb, &c, &err);
    if (!ok(se == LSN_OK && c.n == 5 && c.ids[0] == ids[1] && c.ids[4] == ids[9],
            "search_finds_items_with_every_word_in_id_order"))
        printf("# %s (%d results)\n", se ? err.message : "", c.n);
    c = (collect){ 0 };
    ok(store_item_search(s, "cables", "maritime-security", NULL, 0, collect_cb, &c, &err) ==
               LSN_OK &&
           c.n == 3,
       "search_restricted_to_a_channel");
    c = (collect){ .stop_at = 2 };
    ok(store_item_search(s, "report", NULL, NULL, ids[3], collect_cb, &c, &err) == LSN_OK &&
           c.n == 2 && c.ids[0] == ids[4] && c.ids[1] == ids[5],
       "search_after_id_with_stop_pages");
    c = (collect){ 0 };
    ok(store_item_search(s, "chart", NULL, NULL, 0, collect_cb, &c, &err) == LSN_OK && c.n == 1 &&
           c.ids[0] == aid,
       "search_finds_the_attachment_item_by_body");
    c = (collect){ 0 };
    ok(store_item_search(s, "\"cables OR NEAR( * :", NULL, NULL, 0, collect_cb, &c, &err) ==
               LSN_OK &&
           c.n == 0,
       "search_text_with_fts_syntax_is_taken_as_words_not_an_error");
    ok(store_item_search(s, "  \t ", NULL, NULL, 0, collect_cb, &c, &err) == LSN_ERR_ARG,
       "search_without_words_is_refused");
    c = (collect){ 0 };
    ok(store_item_search(s, "\xff\xfe -- \x01", NULL, NULL, 0, collect_cb, &c, &err) == LSN_OK &&
           c.n == 0,
       "search_of_bytes_that_are_not_words_finds_nothing_without_error");
}

/* ---- asynchronous appends ------------------------------------------------ */

#define ASYNC_N 200

typedef struct async_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, refused, bad;
    int64_t ids[ASYNC_N];
    uint64_t seqs[ASYNC_N];
} async_state;

typedef struct async_slot {
    async_state *st;
    int i;
    int expect_refusal;
} async_slot;

static void async_done(void *ctx, lsn_err rc, int64_t id, const uint8_t hash[STORE_HASH_LEN],
                       uint64_t seq, const lsn_error *err)
{
    async_slot *sl = ctx;
    async_state *st = sl->st;
    (void)hash;
    pthread_mutex_lock(&st->mu);
    if (sl->expect_refusal) {
        if (rc == LSN_ERR_ARG && id == 0 && err && err->message[0])
            st->refused++;
        else
            st->bad++;
    } else if (rc == LSN_OK && id > 0 && seq > 0) {
        st->ids[sl->i] = id;
        st->seqs[sl->i] = seq;
    } else {
        st->bad++;
    }
    st->done++;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/* The objects of the audit entries from seq `first` on. */
typedef struct audit_objects {
    uint64_t first;
    uint64_t n;
    char objects[ASYNC_N][48];
} audit_objects;

static int collect_object(void *ctx, const store_audit_event *ev)
{
    audit_objects *ao = ctx;
    uint64_t k = ev->seq - ao->first;
    if (ev->seq >= ao->first && k < ao->n)
        snprintf(ao->objects[k], sizeof ao->objects[k], "%s", ev->object);
    return STORE_NEXT;
}

static void test_async(store *s)
{
    static async_state st;
    static async_slot slots[ASYNC_N + 1];
    pthread_mutex_init(&st.mu, NULL);
    pthread_cond_init(&st.cv, NULL);
    lsn_error err;
    int queued = 0;
    for (int i = 0; i < ASYNC_N; i++) {
        char body[64];
        snprintf(body, sizeof body, "async post %d about space debris", i);
        /* The item is copied: the caller's buffers may die at once. */
        store_item it = sample_item("maritime-security", body);
        store_audit_event ev = { .actor = "aiko", .action = "post", .outcome = "ok",
                                 .detail = "async" };
        slots[i] = (async_slot){ .st = &st, .i = i };
        if (store_item_append_async(s, &it, &ev, async_done, &slots[i], &err) == LSN_OK)
            queued++;
        memset(body, 'X', sizeof body - 1);
    }
    store_item bad = sample_item("no-such-channel", "lost");
    slots[ASYNC_N] = (async_slot){ .st = &st, .expect_refusal = 1 };
    if (store_item_append_async(s, &bad, NULL, async_done, &slots[ASYNC_N], &err) == LSN_OK)
        queued++;
    ok(queued == ASYNC_N + 1, "async_appends_are_queued");
    bad.label = NULL;
    ok(store_item_append_async(s, &bad, NULL, async_done, &slots[ASYNC_N], &err) ==
           LSN_ERR_ARG,
       "async_append_without_label_is_refused_at_once");

    pthread_mutex_lock(&st.mu);
    while (st.done < queued)
        pthread_cond_wait(&st.cv, &st.mu);
    pthread_mutex_unlock(&st.mu);
    ok(st.bad == 0 && st.refused == 1, "every_async_append_completes_once_with_its_result");
    int increasing = 1, intact = 1;
    for (int i = 1; i < ASYNC_N; i++)
        if (st.ids[i] <= st.ids[i - 1] || st.seqs[i] <= st.seqs[i - 1])
            increasing = 0;
    ok(increasing, "async_appends_from_one_thread_keep_their_order");
    for (int i = 0; i < ASYNC_N && intact; i++) {
        store_item *got = NULL;
        char body[64];
        snprintf(body, sizeof body, "async post %d about space debris", i);
        intact = store_item_get(s, st.ids[i], &got, &err) == LSN_OK && got &&
                 strcmp(got->body, body) == 0 && store_item_intact(got);
        lsn_free(got);
    }
    ok(intact, "async_appends_are_stored_intact");
    /* Items of a group are inserted by one statement and their ids
     * computed: each post record must name its own item. */
    audit_objects ao = { .first = st.seqs[0], .n = ASYNC_N };
    int named = store_audit_list(s, st.seqs[0] - 1, collect_object, &ao, &err) == LSN_OK;
    for (int i = 0; i < ASYNC_N && named; i++) {
        char want[48], u[37];
        store_item *it = NULL;
        named = store_item_get(s, st.ids[i], &it, &err) == LSN_OK && it;
        if (!named)
            break;
        store_uuid_text(it->uuid, u);
        lsn_free(it);
        snprintf(want, sizeof want, "item:%s", u);
        uint64_t k = st.seqs[i] - ao.first;
        named = k < ASYNC_N && strcmp(ao.objects[k], want) == 0;
    }
    ok(named, "each_async_post_record_names_its_own_item");
    ok(search_count(s, "space debris") == ASYNC_N,
       "search_finds_every_item_of_the_async_groups");
    ok(search_count(s, "lost") == 0, "search_does_not_find_the_refused_async_item");
    pthread_mutex_destroy(&st.mu);
    pthread_cond_destroy(&st.cv);
}

static void test_content_hash(void)
{
    uint8_t a[32], b[32], x[32];
    store_content_hash("ab", "c", NULL, NULL, 0, a);
    store_content_hash("a", "bc", NULL, NULL, 0, b);
    ok(memcmp(a, b, 32) != 0, "content_hash_keeps_label_and_body_apart");
    store_content_hash("ab", "c", "text/plain", NULL, 0, x);
    ok(memcmp(a, x, 32) != 0, "content_hash_tells_empty_attachment_from_none");
    store_content_hash("ab", "c", NULL, NULL, 0, b);
    ok(memcmp(a, b, 32) == 0, "content_hash_is_deterministic");
}

/* ---- concurrency -------------------------------------------------------- */

#define THREADS 16
#define PER_THREAD 60
#define REFUSED_POST(t, i) ((t) % 4 == 3 && (i) % 5 == 0)
#define REFUSED_TOTAL ((THREADS / 4) * (PER_THREAD / 5))

typedef struct poster {
    store *s;
    int t;
    int64_t ids[PER_THREAD];
    int failures;
} poster;

static void *post_many(void *arg)
{
    poster *p = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char body[64];
        snprintf(body, sizeof body, "thread %d post %d", p->t, i);
        /* Some posts are refused, so that groups mix good and bad writes. */
        int bad = REFUSED_POST(p->t, i);
        store_item it = sample_item(bad ? "no-such-channel" : "cyber-defence", body);
        store_audit_event ev = { .actor = "aiko", .action = "post", .outcome = "ok" };
        lsn_error err;
        lsn_err e = store_item_append(p->s, &it, &ev, &p->ids[i], NULL, &err);
        if (bad ? e != LSN_ERR_ARG || p->ids[i] != 0 : e != LSN_OK)
            p->failures++;
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_concurrent(store **sp, const char *path)
{
    static poster ps[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        ps[t] = (poster){ .s = *sp, .t = t };
        pthread_create(&th[t], NULL, post_many, &ps[t]);
    }
    int failures = 0;
    static int64_t all[THREADS * PER_THREAD];
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        failures += ps[t].failures;
        memcpy(all + t * PER_THREAD, ps[t].ids, sizeof ps[t].ids);
    }
    ok(failures == 0, "concurrent_posts_succeed_and_refused_ones_are_refused_alone");
    qsort(all, THREADS * PER_THREAD, sizeof all[0], cmp_i64);
    int distinct = 1;
    for (int i = REFUSED_TOTAL + 1; i < THREADS * PER_THREAD; i++)
        if (all[i] == all[i - 1] || all[i - 1] <= 0)
            distinct = 0;
    for (int i = 0; i < REFUSED_TOTAL; i++)
        if (all[i] != 0)
            distinct = 0;
    ok(distinct, "concurrent_posts_get_distinct_ids");

    store_close(*sp);
    lsn_error err;
    *sp = NULL;
    ok(store_open(path, sp, &err) == LSN_OK, "store_reopens");
    if (!*sp)
        return;
    int present = 1;
    for (int t = 0; t < THREADS && present; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            if (REFUSED_POST(t, i))
                continue;
            store_item *it = NULL;
            char body[64];
            snprintf(body, sizeof body, "thread %d post %d", t, i);
            if (store_item_get(*sp, ps[t].ids[i], &it, &err) != LSN_OK || !it ||
                strcmp(it->body, body) != 0 || !store_item_intact(it)) {
                printf("# missing or wrong: thread %d post %d id %lld\n", t, i,
                       (long long)ps[t].ids[i]);
                present = 0;
            }
            lsn_free(it);
            if (!present)
                break;
        }
    }
    ok(present, "every_concurrent_post_is_present_and_intact_after_reopen");
    ok(search_count(*sp, "thread post") == THREADS * PER_THREAD - REFUSED_TOTAL,
       "search_finds_every_concurrent_post_and_no_refused_one");
    ok(fts_index_matches_items(path),
       "index_holds_every_item_once_after_groups_with_refused_posts");
    audit_report r;
    ok(audit_verify(*sp, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT &&
           r.entries == ASYNC_N + THREADS * PER_THREAD - REFUSED_TOTAL,
       "concurrent_post_records_form_an_intact_chain");
    store_org *o = NULL;
    ok(store_org_get(*sp, "NATO International Staff", &o, &err) == LSN_OK && o,
       "directory_survives_reopen");
    lsn_free(o);
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
    ok(raw_int(path, "PRAGMA user_version") == 6, "version_2_file_is_upgraded_to_the_newest (6)");
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
    store_item it = sample_item("cyber-defence", "written after the upgrade old");
    int64_t id = 0;
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_OK && id == 4,
       "append_after_the_upgrade_continues_the_ids");
    ok(search_count(s, "old") == 4, "search_finds_items_from_before_and_after_the_upgrade");
    store_close(s);
    ok(fts_index_matches_items(path), "index_holds_every_item_once_after_the_upgrade");
    remove_db(path);
}

/* ---- visibility as an index ------------------------------------------------ */

static store_item class_item(const char *channel, const char *label, const char *body)
{
    store_item it = sample_item(channel, body);
    it.label = label;
    return it;
}

typedef struct uuids_seen {
    int64_t ids[4096];
    size_t n;
} uuids_seen;

static int ids_cb(void *ctx, const store_item *it)
{
    uuids_seen *u = ctx;
    if (u->n < 4096)
        u->ids[u->n++] = it->id;
    return STORE_NEXT;
}

/* Seeding through the store API, many items per transaction (the async
 * append, then one blocking append to wait for the queue). */
static void append_done(void *ctx, lsn_err rc, int64_t id, const uint8_t h[STORE_HASH_LEN],
                        uint64_t seq, const lsn_error *err)
{
    (void)id, (void)h, (void)seq, (void)err;
    if (rc != LSN_OK)
        atomic_fetch_add((atomic_int *)ctx, 1);
}

static void test_visible_classes(void)
{
    char path[128];
    store *s = open_fresh("visible", path, sizeof path);
    lsn_error err;
    if (!s || store_channel_add(s, "c", "C", NULL, &err) != LSN_OK ||
        store_channel_add(s, "d", "D", NULL, &err) != LSN_OK) {
        ok(0, "visible_setup");
        store_close(s);
        return;
    }
    /* Class 1: secret (invisible); class 2: the reader's. One visible item
     * in 1,000, and the last visible one behind 150,000 invisible matches. */
    const char *secret = "{\"l\":\"secret\"}", *open_ = "{\"l\":\"open\"}";
    atomic_int failed = 0;
    int64_t visible_ids[200];
    size_t nv = 0;
    store_item first = class_item("c", secret, "needle hay");
    int64_t id = 0;
    ok(store_item_append(s, &first, NULL, &id, NULL, &err) == LSN_OK, "secret_class_first");
    for (int i = 1; i <= 150000; i++) {
        bool vis = i % 1000 == 0;
        store_item it = class_item((i / 1000 + i) % 2 ? "c" : "d", vis ? open_ : secret,
                                   vis ? "needle visible" : "needle hay");
        if (vis) {
            if (store_item_append(s, &it, NULL, &id, NULL, &err) != LSN_OK)
                failed++;
            visible_ids[nv++] = id;
        } else if (store_item_append_async(s, &it, NULL, append_done, &failed, &err) !=
                   LSN_OK) {
            failed++;
        }
    }
    store_item last = class_item("c", open_, "needle at the end");
    if (store_item_append(s, &last, NULL, &id, NULL, &err) != LSN_OK)
        failed++;
    visible_ids[nv++] = id;
    ok(failed == 0, "seeded_150000_items");
    int64_t two = 2;
    store_classes vis = { .ids = &two, .n = 1 };
    uuids_seen u = { .n = 0 };
    ok(store_item_search(s, "needle", NULL, &vis, 0, ids_cb, &u, &err) == LSN_OK &&
           u.n == nv && u.ids[0] == visible_ids[0] && u.ids[nv - 1] == visible_ids[nv - 1],
       "search_of_visible_classes_finds_every_visible_match_behind_150000_invisible");
    u.n = 0;
    ok(store_item_search(s, "needle end", "c", &vis, 0, ids_cb, &u, &err) == LSN_OK &&
           u.n == 1 && u.ids[0] == visible_ids[nv - 1],
       "a_visible_item_behind_150000_invisible_matches_is_the_first_result");
    /* Paging, 7 at a time, through both channels: each visible item once,
     * in arrival order. */
    size_t seen = 0;
    int64_t after = 0;
    int in_order = 1;
    for (int guard = 0; guard < 1000; guard++) {
        u.n = 0;
        if (store_item_list(s, NULL, &vis, after, 7, ids_cb, &u, &err) != LSN_OK || !u.n)
            break;
        for (size_t i = 0; i < u.n; i++)
            in_order = in_order && seen + i < nv && u.ids[i] == visible_ids[seen + i];
        seen += u.n;
        after = u.ids[u.n - 1];
    }
    ok(in_order && seen == nv, "paging_a_reader_who_sees_1_in_1000_yields_each_once (%zu/%zu)",
       seen, nv);
    u.n = 0;
    size_t in_c = 0;
    for (size_t i = 0; i < nv; i++) {
        store_item *it = NULL;
        if (store_item_get(s, visible_ids[i], &it, &err) == LSN_OK && it)
            in_c += strcmp(it->channel, "c") == 0;
        lsn_free(it);
    }
    ok(in_c > 50 && store_item_list(s, "c", &vis, 0, 0, ids_cb, &u, &err) == LSN_OK &&
           u.n == in_c,
       "a_channel_listing_of_visible_classes_has_all_of_that_channel_and_only_it (%zu/%zu)",
       u.n, in_c);
    store_classes none = { .n = 0 };
    u.n = 0;
    ok(store_item_list(s, "c", &none, 0, 0, ids_cb, &u, &err) == LSN_OK && u.n == 0 &&
           store_item_search(s, "needle", NULL, &none, 0, ids_cb, &u, &err) == LSN_OK &&
           u.n == 0,
       "a_reader_of_no_class_gets_nothing");
    /* Every class decided so far: the listing by channel, bounded. */
    store_classes upto1 = { .all_upto = 1 };
    u.n = 0;
    ok(store_item_search(s, "visible", NULL, &upto1, 0, ids_cb, &u, &err) == LSN_OK &&
           u.n == 0,
       "classes_after_all_upto_are_left_out");
    int64_t last_class = 0;
    ok(store_class_last_id(s, &last_class, &err) == LSN_OK && last_class == 2,
       "one_class_per_distinct_label");
    store_close(s);
    remove_db(path);
}

/* ---- allocation failures ---------------------------------------------------- */

static atomic_int alloc_count, alloc_fail_at;

static void *failing_malloc(size_t n, void *ctx)
{
    (void)ctx;
    if (atomic_fetch_add(&alloc_count, 1) + 1 == atomic_load(&alloc_fail_at))
        return NULL;
    return malloc(n);
}

static void *failing_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    if (atomic_fetch_add(&alloc_count, 1) + 1 == atomic_load(&alloc_fail_at))
        return NULL;
    return realloc(p, n);
}

static void plain_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

static void test_alloc_failures(const char *path)
{
    lsn_allocator a = { failing_malloc, failing_realloc, plain_free, NULL };
    lsn_set_allocator(&a);
    int nomem_seen = 0, completed = 0;
    for (int n = 1; n <= 40 && !completed; n++) {
        atomic_store(&alloc_count, 0);
        atomic_store(&alloc_fail_at, n);
        store *s = NULL;
        lsn_error err;
        lsn_err e = store_open(path, &s, &err);
        if (e == LSN_ERR_NOMEM)
            nomem_seen++;
        if (e != LSN_OK)
            continue;
        store_org *o = NULL;
        store_item *it = NULL;
        collect c = { 0 };
        lsn_err e1 = store_org_get(s, "Mission of Japan", &o, &err);
        lsn_err e2 = store_item_get(s, 1, &it, &err);
        lsn_err e3 = store_item_search(s, "report", NULL, NULL, 0, collect_cb, &c, &err);
        store_item post = sample_item("maritime-security", "allocation failure test");
        store_audit_event ev = { .actor = "aiko", .action = "post", .outcome = "ok" };
        async_state st = { .done = 0 };
        async_slot slot = { .st = &st, .i = 0 };
        pthread_mutex_init(&st.mu, NULL);
        pthread_cond_init(&st.cv, NULL);
        lsn_err e4 = store_item_append_async(s, &post, &ev, async_done, &slot, &err);
        nomem_seen += (e1 == LSN_ERR_NOMEM) + (e2 == LSN_ERR_NOMEM) + (e3 == LSN_ERR_NOMEM) +
                      (e4 == LSN_ERR_NOMEM);
        if (e1 == LSN_OK && e2 == LSN_OK && e3 == LSN_OK && e4 == LSN_OK && o && it)
            completed = 1;
        lsn_free(o);
        lsn_free(it);
        store_close(s); /* finishes the queued append first */
        if (e4 == LSN_OK && (st.done != 1 || st.bad))
            completed = -1000;
        pthread_mutex_destroy(&st.mu);
        pthread_cond_destroy(&st.cv);
    }
    lsn_set_allocator(NULL);
    ok(nomem_seen > 0, "allocation_failures_are_reported_as_nomem_without_crashing");
    ok(completed == 1, "operations_complete_once_allocations_stop_failing");
}

/* ---- crash -------------------------------------------------------------------- */

typedef struct ack {
    int64_t id;
    int32_t thread, n;
} ack;

typedef struct crash_arg {
    store *s;
    int fd;
    int t;
} crash_arg;

static void crash_body(char *out, size_t n, int t, int i)
{
    snprintf(out, n, "crash test thread %d post %d: maritime security report", t, i);
}

static void *crash_poster(void *arg)
{
    crash_arg *a = arg;
    for (int i = 0;; i++) {
        char body[128];
        crash_body(body, sizeof body, a->t, i);
        store_item it = sample_item("cyber-defence", body);
        store_audit_event ev = { .actor = "aiko", .action = "post", .outcome = "ok" };
        ack k = { .thread = a->t, .n = i };
        lsn_error err;
        if (store_item_append(a->s, &it, &ev, &k.id, NULL, &err) != LSN_OK) {
            fprintf(stderr, "crash child: %s\n", err.message);
            _exit(3);
        }
        /* Acknowledged: tell the parent. Records are under PIPE_BUF, so
         * writes from several threads do not interleave. */
        if (write(a->fd, &k, sizeof k) != (ssize_t)sizeof k)
            _exit(4);
    }
    return NULL;
}

/* The child: post from 8 threads until killed. */
static int crash_child(const char *path, int fd)
{
    store *s;
    lsn_error err;
    if (store_open(path, &s, &err) != LSN_OK) {
        fprintf(stderr, "crash child: %s\n", err.message);
        return 2;
    }
    static crash_arg args[8];
    pthread_t th[8];
    for (int t = 0; t < 8; t++) {
        args[t] = (crash_arg){ .s = s, .fd = fd, .t = t };
        pthread_create(&th[t], NULL, crash_poster, &args[t]);
    }
    for (;;)
        pause();
}

static void test_crash(void)
{
    char path[128];
    store *s = open_fresh("crash", path, sizeof path);
    lsn_error err;
    if (!s || store_org_add(s, "Mission of Japan", "JPN", NULL, &err) != LSN_OK ||
        store_channel_add(s, "cyber-defence", "Cyber", NULL, &err) != LSN_OK) {
        ok(0, "crash_test_setup");
        return;
    }
    store_close(s);

    int p[2];
    if (pipe(p) != 0) {
        ok(0, "crash_test_pipe");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        char fd[16];
        snprintf(fd, sizeof fd, "%d", p[1]);
        execl("/proc/self/exe", "test_store", "--crash-child", path, fd, (char *)NULL);
        _exit(5);
    }
    close(p[1]);

    static ack acks[200000];
    size_t nacks = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Read acknowledgements for a while, then kill the child mid-stream. */
    for (;;) {
        ack k;
        ssize_t r = read(p[0], &k, sizeof k);
        if (r != (ssize_t)sizeof k)
            break;
        if (nacks < sizeof acks / sizeof acks[0])
            acks[nacks++] = k;
        clock_gettime(CLOCK_MONOTONIC, &t);
        double dt = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        if (nacks >= 3000 || dt > 8.0)
            break;
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    /* What was acknowledged before the kill is still in the pipe. */
    for (;;) {
        ack k;
        if (read(p[0], &k, sizeof k) != (ssize_t)sizeof k)
            break;
        if (nacks < sizeof acks / sizeof acks[0])
            acks[nacks++] = k;
    }
    close(p[0]);
    ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "crash_child_was_killed");
    ok(nacks > 100, "crash_child_acknowledged_posts_before_the_kill (%zu)", nacks);

    s = NULL;
    ok(store_open(path, &s, &err) == LSN_OK, "store_reopens_after_sigkill");
    if (!s)
        return;
    size_t lost = 0, damaged = 0;
    for (size_t i = 0; i < nacks; i++) {
        store_item *it = NULL;
        char body[128];
        crash_body(body, sizeof body, acks[i].thread, acks[i].n);
        if (store_item_get(s, acks[i].id, &it, &err) != LSN_OK || !it)
            lost++;
        else if (strcmp(it->body, body) != 0 || !store_item_intact(it))
            damaged++;
        lsn_free(it);
    }
    ok(lost == 0, "no_acknowledged_post_is_lost_after_sigkill (%zu lost)", lost);
    ok(damaged == 0, "every_acknowledged_post_is_intact_after_sigkill (%zu damaged)",
       damaged);
    audit_report r;
    ok(audit_verify(s, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT &&
           r.entries >= nacks,
       "audit_chain_verifies_after_sigkill");
    /* The store goes on where it stopped. */
    store_item it = sample_item("cyber-defence", "after the crash");
    int64_t id = 0, last = 0;
    ok(store_item_last_id(s, &last, &err) == LSN_OK &&
           store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_OK && id > last,
       "ids_keep_increasing_after_the_crash");
    store_close(s);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--crash-child") == 0)
        return crash_child(argv[2], (int)strtol(argv[3], NULL, 10));

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
    if (s) {
        test_directory(s);
        test_items(s);
        test_async(s);
        test_content_hash();
        test_concurrent(&s, path);
        store_close(s);
        test_alloc_failures(path);
    }
    lsn_error err;
    store *none = NULL;
    ok(store_open("postgresql://localhost/liaison", &none, &err) == LSN_ERR_ARG && !none,
       "unknown_backend_is_refused");
    ok(store_open("/nonexistent-dir/x/y.db", &none, &err) == LSN_ERR_IO && !none,
       "unwritable_path_is_an_io_error");
    test_lost_transaction();
    test_index_failure();
    test_schema_upgrade();
    test_visible_classes();
    test_crash();

    remove_db(path);
    char crash[128];
    db_path(crash, sizeof crash, "crash");
    remove_db(crash);
    rmdir(dir);
    return tap_done();
}
