/* tests/store_contract.c — the store contract: what every back-end must do,
 * run against the back-end a URI names (docs/STORE.md, "The contract").
 *
 *   store_contract URI     e.g. sqlite:{tmp}/contract.db
 *
 * The store must be empty. "{tmp}" in the URI is replaced with a new
 * temporary directory, removed at the end (meson runs the SQLite back-end
 * so). Everything goes through the store API: organisations, users,
 * channels, items (blocking and asynchronous appends), public ids, label
 * classes, reads of visible classes (listing, search, fetch by UUID),
 * paging, the audit log and its chain, errors and limits, durability across
 * close and reopen and across a SIGKILL, concurrency (appends from many
 * threads, every completion called once), allocation failures, and
 * federation's bindings, peers and outboxes (store_contract_fed.c). What
 * only one back-end has (SQLite's files, schema upgrades, its full-text
 * index) is tested beside it (tests/test_store.c). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liaison/alloc.h"
#include "store/audit.h"
#include "store/store.h"
#include "store_contract_fed.h"
#include "store_contract_rel.h"
#include "store_contract_fedrel.h"
#define TAP_SHARED_COUNTERS
#include "tap.h"

int tap_n, tap_failed; /* shared with store_contract_fed.c */

/* The store under test, as given (with {tmp} replaced). */
static char uri[1024];
static char tmp[64]; /* a new temporary directory: {tmp}, and the key's */

/* Open the store under test (or `where`): a store that is not a file
 * keeps its key and anchor in the temporary directory. */
lsn_err contract_open(const char *where, store **out, lsn_error *err)
{
    return store_open_keyed(where, tmp, out, err);
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
/* Keep the hash token_list gives for "export" (row 0) and "expired" (row 1). */
static int token_hash_cb(void *ctx, const store_token *t)
{
    uint8_t (*h)[STORE_HASH_LEN] = ctx;
    if (t->hash)
        memcpy(h[strcmp(t->name, "export") == 0 ? 0 : 1], t->hash, STORE_HASH_LEN);
    return STORE_NEXT;
}
/* The names of the local channels listed, one after the other ("a,b,"). */
static int local_channels(void *ctx, const store_channel *c)
{
    if (c->local)
        strcat(strcat((char *)ctx, c->name), ",");
    return STORE_NEXT;
}

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
    ok(f && f->password_hash == NULL && f->status == STORE_USER_ACTIVE,
       "a_new_user_is_active_without_a_password");
    lsn_free(f);
    /* Account changes: one update, NULL fields untouched. */
    store_user_change uc = {.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA",
                            .status = STORE_USER_DISABLED, .roles = -1};
    ok(store_user_update(s, "aiko", &uc, &err) == LSN_OK &&
           store_user_get(s, "aiko", &f, &err) == LSN_OK && f &&
           f->status == STORE_USER_DISABLED && f->password_hash &&
           strcmp(f->password_hash, uc.password_hash) == 0 &&
           strcmp(f->clearance, u.clearance) == 0 &&
           f->roles == (STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY),
       "user_update_sets_password_and_status_and_leaves_the_rest");
    lsn_free(f);
    uc = (store_user_change){.password_hash = "", .status = STORE_USER_ACTIVE, .roles = -1};
    ok(store_user_update(s, "aiko", &uc, &err) == LSN_OK &&
           store_user_get(s, "aiko", &f, &err) == LSN_OK && f && !f->password_hash &&
           f->status == STORE_USER_ACTIVE,
       "user_update_removes_a_password_with_an_empty_one");
    lsn_free(f);
    uc = (store_user_change){.status = STORE_USER_DISABLED, .roles = -1};
    /* Named tokens: found until they expire, revoked by name. */
    uint8_t th[STORE_HASH_LEN], tx[STORE_HASH_LEN];
    memset(th, 0x5a, sizeof th);
    memset(tx, 0xa5, sizeof tx);
    store_token tk = {.user = "aiko", .name = "export"};
    store_token old_tk = {.user = "aiko", .name = "expired", .expires_ms = 1000};
    ok(store_token_add(s, &tk, th, &err) == LSN_OK && store_token_add(s, &old_tk, tx, &err) == LSN_OK,
       "named_tokens_added");
    ok(store_token_add(s, &tk, tx, &err) == LSN_ERR_DUPLICATE, "token_name_unique_per_user");
    uint8_t listed[2][STORE_HASH_LEN];
    memset(listed, 0, sizeof listed);
    ok(store_token_list(s, "aiko", token_hash_cb, listed, &err) == LSN_OK &&
           !memcmp(listed[0], th, STORE_HASH_LEN) && !memcmp(listed[1], tx, STORE_HASH_LEN),
       "token_list_gives_each_tokens_hash");
    ok(store_user_find_by_token(s, th, &f, &err) == LSN_OK && f && strcmp(f->name, "aiko") == 0,
       "a_named_token_finds_its_user");
    lsn_free(f);
    ok(store_user_find_by_token(s, tx, &f, &err) == LSN_OK && f == NULL,
       "an_expired_token_finds_nobody");
    ok(store_token_revoke(s, "aiko", "export", &err) == LSN_OK &&
           store_user_find_by_token(s, th, &f, &err) == LSN_OK && f == NULL,
       "a_revoked_token_finds_nobody");
    ok(store_token_revoke(s, "aiko", "export", &err) == LSN_ERR_ARG, "revoking_twice_is_refused");
    ok(store_user_update(s, "nobody", &uc, &err) == LSN_ERR_ARG,
       "user_update_of_an_unknown_user_is_refused");
    /* Client certificates by subject under an issuing CA. */
    uint8_t ca1[STORE_HASH_LEN], ca2[STORE_HASH_LEN];
    memset(ca1, 0x11, sizeof ca1);
    memset(ca2, 0x22, sizeof ca2);
    uc = (store_user_change){.status = -1, .roles = -1, .cert_subject = "CN=Aiko,O=MOFA,C=JP",
                             .cert_issuer = ca1};
    ok(store_user_update(s, "aiko", &uc, &err) == LSN_OK &&
           store_user_find_by_cert_subject(s, "CN=Aiko,O=MOFA,C=JP", ca1, &f, &err) == LSN_OK &&
           f && strcmp(f->name, "aiko") == 0 && f->cert_subject &&
           strcmp(f->cert_subject, "CN=Aiko,O=MOFA,C=JP") == 0 &&
           memcmp(f->cert_issuer, ca1, sizeof ca1) == 0,
       "a_certificate_subject_under_its_issuer_finds_its_user");
    lsn_free(f);
    ok(store_user_find_by_cert_subject(s, "CN=Aiko,O=MOFA,C=JP", ca2, &f, &err) == LSN_OK &&
           f == NULL,
       "the_same_subject_under_another_issuer_finds_nobody");
    uc = (store_user_change){.status = -1, .roles = -1, .cert_subject = "CN=Aiko"};
    ok(store_user_update(s, "aiko", &uc, &err) == LSN_ERR_ARG,
       "a_certificate_subject_without_its_issuer_is_refused");
    uc = (store_user_change){.status = -1, .roles = -1, .clear_cert = true};
    ok(store_user_update(s, "aiko", &uc, &err) == LSN_OK &&
           store_user_find_by_cert_subject(s, "CN=Aiko,O=MOFA,C=JP", ca1, &f, &err) == LSN_OK &&
           f == NULL,
       "clearing_the_certificate_clears_the_subject");
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

    /* A channel kept local (issue 10): the flag is kept and read back, by
     * get and by list; a channel added without it is not local. */
    ok(store_channel_add_local(s, "liaison-office", "Kept local", true, NULL, &err) == LSN_OK,
       "a_channel_kept_local_is_added");
    ok(store_channel_get(s, "liaison-office", &ch, &err) == LSN_OK && ch && ch->local,
       "a_channel_kept_local_reads_back_local");
    lsn_free(ch);
    ch = NULL;
    ok(store_channel_get(s, "maritime-security", &ch, &err) == LSN_OK && ch && !ch->local,
       "a_channel_added_plainly_is_not_local");
    lsn_free(ch);
    char locals[128] = "";
    ok(store_channel_list(s, local_channels, locals, &err) == LSN_OK &&
           strcmp(locals, "liaison-office,") == 0,
       "channel_list_gives_the_local_flag (%s)", locals);
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

/* ---- public ids ---------------------------------------------------------- */

static void test_uuids(store *s)
{
    lsn_error err;
    store_item it = sample_item("cyber-defence", "an item whose uuid is given");
    store_uuid_new(it.uuid);
    int64_t id = 0, last = 0;
    store_item *got = NULL;
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_OK &&
           store_item_get(s, id, &got, &err) == LSN_OK && got &&
           memcmp(got->uuid, it.uuid, STORE_UUID_LEN) == 0,
       "item_append_keeps_a_given_uuid");
    store_item_ref ref = { .id = -1 };
    ok(got && store_item_find(s, it.uuid, &ref, &err) == LSN_OK && ref.id == id &&
           ref.class_id == got->class_id && ref.class_id > 0,
       "item_find_gives_the_id_and_class_of_a_uuid");
    lsn_free(got);
    uint8_t other[STORE_UUID_LEN];
    store_uuid_new(other);
    ref.id = -1;
    ok(store_item_find(s, other, &ref, &err) == LSN_OK && ref.id == 0,
       "item_find_of_an_unknown_uuid_is_zero_not_an_error");
    int64_t again = 7;
    ok(store_item_last_id(s, &last, &err) == LSN_OK &&
           store_item_append(s, &it, NULL, &again, NULL, &err) == LSN_ERR_DUPLICATE &&
           again == 0,
       "item_append_of_a_uuid_already_taken_is_refused");
    int64_t last2 = 0;
    ok(store_item_last_id(s, &last2, &err) == LSN_OK && last2 == last,
       "a_refused_uuid_leaves_nothing_behind");
    store_item a = sample_item("cyber-defence", "an item without a uuid");
    int64_t ida = 0, idb = 0;
    store_item *ga = NULL, *gb = NULL;
    ok(store_item_append(s, &a, NULL, &ida, NULL, &err) == LSN_OK &&
           store_item_append(s, &a, NULL, &idb, NULL, &err) == LSN_OK &&
           store_item_get(s, ida, &ga, &err) == LSN_OK && ga &&
           store_item_get(s, idb, &gb, &err) == LSN_OK && gb &&
           (ga->uuid[6] >> 4) == 7 && (ga->uuid[8] & 0xc0) == 0x80 &&
           memcmp(ga->uuid, gb->uuid, STORE_UUID_LEN) != 0,
       "the_store_makes_a_new_version_7_uuid_when_none_is_given");
    char text[37];
    uint8_t back[STORE_UUID_LEN];
    if (ga) {
        store_uuid_text(ga->uuid, text);
        ok(strlen(text) == 36 && store_uuid_parse(text, back) &&
               memcmp(back, ga->uuid, STORE_UUID_LEN) == 0 &&
               !store_uuid_parse("not-a-uuid", back),
           "uuid_text_round_trips");
    }
    lsn_free(ga);
    lsn_free(gb);
}

/* ---- label classes --------------------------------------------------------- */

typedef struct classes_seen {
    int64_t ids[8];
    char labels[8][64], en[8][64];
    int cls[8];
    int n, stop_at;
} classes_seen;

static int collect_class(void *ctx, const store_label_class *c)
{
    classes_seen *cs = ctx;
    if (cs->n < 8) {
        cs->ids[cs->n] = c->id;
        snprintf(cs->labels[cs->n], 64, "%s", c->label);
        snprintf(cs->en[cs->n], 64, "%s", c->marking_en);
        cs->cls[cs->n] = c->classification;
        cs->n++;
    }
    return cs->stop_at && cs->n >= cs->stop_at ? STORE_STOP : STORE_NEXT;
}

static int64_t item_class(store *s, int64_t id)
{
    store_item *it = NULL;
    lsn_error err;
    int64_t c = 0;
    if (store_item_get(s, id, &it, &err) == LSN_OK && it)
        c = it->class_id;
    lsn_free(it);
    return c;
}

static void test_classes(store *s)
{
    lsn_error err;
    int64_t before = 0, after = 0, ids[3] = { 0 };
    const char *l1 = "{\"l\":\"class-one\"}", *l2 = "{\"l\":\"class-two\"}";
    ok(store_class_last_id(s, &before, &err) == LSN_OK, "class_last_id");
    store_item a = sample_item("cyber-defence", "class test one");
    a.label = l1;
    store_item b = sample_item("maritime-security", "class test two");
    b.label = l2;
    b.marking_en = "TWO";
    b.classification = -1;
    int good = store_item_append(s, &a, NULL, &ids[0], NULL, &err) == LSN_OK &&
               store_item_append(s, &b, NULL, &ids[1], NULL, &err) == LSN_OK &&
               store_item_append(s, &a, NULL, &ids[2], NULL, &err) == LSN_OK;
    ok(good && store_class_last_id(s, &after, &err) == LSN_OK && after == before + 2,
       "each_distinct_label_is_one_class");
    int64_t c0 = item_class(s, ids[0]), c1 = item_class(s, ids[1]), c2 = item_class(s, ids[2]);
    ok(c0 > before && c0 == c2 && c1 != c0 && c1 > before, "items_of_one_label_share_its_class");
    classes_seen cs = { .n = 0 };
    ok(store_class_list(s, before, collect_class, &cs, &err) == LSN_OK && cs.n == 2 &&
           cs.ids[0] == c0 && cs.ids[1] == c1 && strcmp(cs.labels[0], l1) == 0 &&
           strcmp(cs.labels[1], l2) == 0 &&
           strcmp(cs.en[0], "NATO RESTRICTED Releasable to JPN") == 0 &&
           strcmp(cs.en[1], "TWO") == 0 && cs.cls[0] == 2 && cs.cls[1] == -1,
       "class_list_gives_labels_markings_and_classification_in_id_order");
    cs = (classes_seen){ .stop_at = 1 };
    ok(store_class_list(s, before, collect_class, &cs, &err) == LSN_OK && cs.n == 1,
       "class_list_stops_when_the_callback_says_stop");
    cs = (classes_seen){ .n = 0 };
    ok(store_class_list(s, after, collect_class, &cs, &err) == LSN_OK && cs.n == 0,
       "class_list_after_the_last_class_is_empty");
}

/* ---- paging ------------------------------------------------------------------ */

#define PAGE_N 25

static void test_paging(store *s)
{
    lsn_error err;
    const char *la = "{\"l\":\"page-a\"}", *lb = "{\"l\":\"page-b\"}";
    int64_t ids[PAGE_N];
    int good = store_channel_add(s, "paging", "Paging", NULL, &err) == LSN_OK;
    for (int i = 0; i < PAGE_N && good; i++) {
        char body[64];
        snprintf(body, sizeof body, "pageword item %d", i);
        store_item it = sample_item("paging", body);
        it.label = i % 3 ? la : lb; /* b: items 0, 3, 6 ... */
        good = store_item_append(s, &it, NULL, &ids[i], NULL, &err) == LSN_OK;
    }
    ok(good, "paging_setup");
    if (!good)
        return;
    int64_t ca = item_class(s, ids[1]), cb = item_class(s, ids[0]);

    /* Every item, 7 at a time. */
    int seen = 0, in_order = 1, bounded = 1, pages = 0;
    int64_t after = 0;
    for (;;) {
        collect c = { 0 };
        if (store_item_list(s, "paging", NULL, after, 7, collect_cb, &c, &err) != LSN_OK ||
            !c.n || pages++ > PAGE_N)
            break;
        bounded &= c.n <= 7;
        for (int i = 0; i < c.n; i++)
            in_order &= seen + i < PAGE_N && c.ids[i] == ids[seen + i];
        seen += c.n;
        after = c.ids[c.n - 1];
    }
    ok(in_order && seen == PAGE_N && pages == 4,
       "paging_a_channel_7_at_a_time_yields_each_item_once_in_order");
    ok(bounded, "a_page_holds_at_most_limit_items");
    collect c = { 0 };
    ok(store_item_list(s, "paging", NULL, ids[PAGE_N - 1], 7, collect_cb, &c, &err) ==
               LSN_OK && c.n == 0,
       "a_page_after_the_last_item_is_empty");

    /* One visible class, 4 at a time: only its items, each once. */
    store_classes only_a = { .ids = &ca, .n = 1 };
    seen = 0, in_order = 1, after = 0;
    for (int guard = 0; guard < PAGE_N; guard++) {
        c = (collect){ 0 };
        if (store_item_list(s, "paging", &only_a, after, 4, collect_cb, &c, &err) != LSN_OK ||
            !c.n)
            break;
        for (int i = 0; i < c.n; i++) {
            while (seen < PAGE_N && seen % 3 == 0)
                seen++; /* b's */
            in_order &= seen < PAGE_N && c.ids[i] == ids[seen++];
        }
        after = c.ids[c.n - 1];
    }
    ok(in_order && seen >= PAGE_N - 1, "paging_one_visible_class_yields_only_its_items_once");
    int64_t both[2] = { ca < cb ? ca : cb, ca < cb ? cb : ca };
    store_classes two = { .ids = both, .n = 2 };
    c = (collect){ 0 };
    in_order = 1;
    ok(store_item_list(s, "paging", &two, 0, 0, collect_cb, &c, &err) == LSN_OK &&
           c.n == PAGE_N && memcmp(c.ids, ids, sizeof ids) == 0,
       "two_visible_classes_are_merged_in_id_order");
    store_classes upto = { .all_upto = both[0] };
    c = (collect){ 0 };
    int only_first = store_item_list(s, "paging", &upto, 0, 0, collect_cb, &c, &err) == LSN_OK;
    for (int i = 0; i < c.n && only_first; i++)
        only_first = item_class(s, c.ids[i]) <= both[0];
    ok(only_first && c.n > 0 && c.n < PAGE_N, "all_upto_reads_only_the_classes_up_to_it");

    /* Search, 3 at a time, of class b only. */
    store_classes only_b = { .ids = &cb, .n = 1 };
    seen = 0, in_order = 1, after = 0;
    for (int guard = 0; guard < PAGE_N; guard++) {
        c = (collect){ .stop_at = 3 };
        if (store_item_search(s, "pageword", "paging", &only_b, after, collect_cb, &c, &err) !=
                LSN_OK || !c.n)
            break;
        for (int i = 0; i < c.n; i++, seen += 3)
            in_order &= seen < PAGE_N && c.ids[i] == ids[seen];
        after = c.ids[c.n - 1];
    }
    ok(in_order && seen == 27, "search_pages_through_one_visible_class_with_after_and_stop");
}

/* ---- the audit log ------------------------------------------------------------ */

static uint64_t audit_entries(store *s)
{
    audit_report r;
    lsn_error err;
    if (audit_verify(s, &r, &err) != LSN_OK || r.fault != AUDIT_INTACT)
        return UINT64_MAX;
    return r.entries;
}

#define AUDIT_N 5

typedef struct events_seen {
    store_audit_event ev[AUDIT_N + 2];
    char text[AUDIT_N + 2][5][48];
    int n, stop_at;
    int chained; /* every hash follows the one before */
    uint8_t prev[STORE_HASH_LEN];
} events_seen;

static int collect_event(void *ctx, const store_audit_event *ev)
{
    events_seen *es = ctx;
    if (es->n < AUDIT_N + 2) {
        es->ev[es->n] = *ev;
        const char *f[5] = { ev->actor, ev->action, ev->object, ev->outcome, ev->detail };
        for (int k = 0; k < 5; k++)
            snprintf(es->text[es->n][k], 48, "%s", f[k]);
        es->n++;
    }
    return es->stop_at && es->n >= es->stop_at ? STORE_STOP : STORE_NEXT;
}

static int check_chain(void *ctx, const store_audit_event *ev)
{
    events_seen *es = ctx;
    uint8_t h[STORE_HASH_LEN];
    audit_entry_hash(es->prev, ev, h);
    es->chained &= memcmp(h, ev->hash, STORE_HASH_LEN) == 0;
    memcpy(es->prev, ev->hash, STORE_HASH_LEN);
    return STORE_NEXT;
}

static void test_audit(store **sp)
{
    store *s = *sp;
    lsn_error err;
    uint64_t n0 = audit_entries(s);
    ok(n0 != UINT64_MAX, "audit_chain_verifies_before");
    store_audit_event evs[AUDIT_N];
    int consecutive = 1;
    for (int i = 0; i < AUDIT_N; i++) {
        evs[i] = (store_audit_event){ .actor = "auditor", .action = "read",
                                      .object = "item:x", .outcome = "ok",
                                      .detail = i % 2 ? NULL : "some detail" };
        consecutive &= store_audit_append(s, &evs[i], &err) == LSN_OK &&
                       evs[i].seq == n0 + 1 + (uint64_t)i && evs[i].time_ms > 0;
    }
    ok(consecutive, "audit_append_gives_consecutive_sequence_numbers");
    events_seen es = { .n = 0 };
    int same = store_audit_list(s, n0, collect_event, &es, &err) == LSN_OK && es.n == AUDIT_N;
    for (int i = 0; i < es.n && same; i++)
        same = es.ev[i].seq == evs[i].seq && es.ev[i].time_ms == evs[i].time_ms &&
               memcmp(es.ev[i].hash, evs[i].hash, STORE_HASH_LEN) == 0 &&
               strcmp(es.text[i][0], "auditor") == 0 && strcmp(es.text[i][1], "read") == 0 &&
               strcmp(es.text[i][2], "item:x") == 0 && strcmp(es.text[i][3], "ok") == 0 &&
               strcmp(es.text[i][4], i % 2 ? "" : "some detail") == 0;
    ok(same, "audit_list_gives_the_events_as_appended");
    es = (events_seen){ .stop_at = 2 };
    ok(store_audit_list(s, n0, collect_event, &es, &err) == LSN_OK && es.n == 2,
       "audit_list_stops_when_the_callback_says_stop");
    audit_report r;
    ok(audit_verify(s, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT &&
           r.entries == n0 + AUDIT_N && memcmp(r.head, evs[AUDIT_N - 1].hash, STORE_HASH_LEN) == 0,
       "audit_chain_verifies_and_its_head_is_the_last_hash");
    es = (events_seen){ .chained = 1 };
    ok(store_audit_list(s, 0, check_chain, &es, &err) == LSN_OK && es.chained,
       "each_audit_hash_chains_to_the_one_before");

    store_audit_event bad = { .action = "read", .object = "x", .outcome = "ok" };
    ok(store_audit_append(s, &bad, &err) == LSN_ERR_ARG, "an_audit_event_without_actor_is_refused");
    bad = (store_audit_event){ .actor = "a", .action = "read", .outcome = "ok" };
    ok(store_audit_append(s, &bad, &err) == LSN_ERR_ARG,
       "an_audit_event_without_object_is_refused");
    store_item lost = sample_item("no-such-channel", "refused with its post record");
    store_audit_event post = { .actor = "aiko", .action = "post", .outcome = "ok" };
    int64_t id = 0;
    ok(store_item_append(s, &lost, &post, &id, NULL, &err) == LSN_ERR_ARG,
       "a_post_to_an_unknown_channel_is_refused");
    store_item it = sample_item("cyber-defence", "a post with its record");
    post = (store_audit_event){ .actor = "aiko", .action = "post", .outcome = "ok" };
    ok(store_item_append(s, &it, &post, &id, NULL, &err) == LSN_OK &&
           post.seq == n0 + AUDIT_N + 1,
       "refused_events_and_posts_leave_no_gap_in_the_chain");
    store_item *got = NULL;
    es = (events_seen){ .n = 0 };
    char want[48] = "", u[37];
    if (store_item_get(s, id, &got, &err) == LSN_OK && got) {
        store_uuid_text(got->uuid, u);
        snprintf(want, sizeof want, "item:%s", u);
    }
    lsn_free(got);
    ok(store_audit_list(s, post.seq - 1, collect_event, &es, &err) == LSN_OK && es.n == 1 &&
           strcmp(es.text[0][2], want) == 0 &&
           memcmp(es.ev[0].hash, post.hash, STORE_HASH_LEN) == 0,
       "a_post_record_without_object_names_its_item_by_uuid");

    /* Durability of the chain: it goes on after a reopen. */
    store_close(s);
    *sp = s = NULL;
    ok(contract_open(uri, sp, &err) == LSN_OK, "store_reopens_for_the_chain");
    if (!(s = *sp))
        return;
    store_audit_event next = { .actor = "auditor", .action = "verify", .object = "log",
                               .outcome = "ok" };
    ok(store_audit_append(s, &next, &err) == LSN_OK && next.seq == post.seq + 1 &&
           audit_entries(s) == next.seq,
       "the_chain_continues_after_reopen");
}

/* ---- errors and limits ------------------------------------------------------------ */

static void test_limits(store *s)
{
    lsn_error err;
    int64_t last0 = 0, last1 = -1, id = 7;
    ok(store_item_last_id(s, &last0, &err) == LSN_OK, "limits_setup");
    char *big = malloc(STORE_BODY_MAX + 2);
    if (!big) {
        ok(0, "limits_memory");
        return;
    }
    memset(big, 'a', STORE_BODY_MAX + 1);
    big[STORE_FIELD_MAX + 1] = '\0';
    ok(store_org_add(s, big, "JPN", NULL, &err) == LSN_ERR_LIMIT,
       "a_name_over_1_mib_is_refused_as_too_large");
    store_item it = sample_item("cyber-defence", "limits");
    it.label = big;
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_ERR_LIMIT && id == 0,
       "a_label_over_1_mib_is_refused_as_too_large");
    store_audit_event ev = { .actor = "a", .action = "b", .object = "c", .outcome = "ok",
                             .detail = big };
    ok(store_audit_append(s, &ev, &err) == LSN_ERR_LIMIT,
       "an_audit_detail_over_1_mib_is_refused_as_too_large");
    big[STORE_FIELD_MAX + 1] = 'a';
    big[STORE_BODY_MAX + 1] = '\0';
    it = sample_item("cyber-defence", big);
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_ERR_LIMIT,
       "a_body_over_64_mib_is_refused_as_too_large");
    free(big);
    static const uint8_t bytes[4] = { 1, 2, 3, 4 };
    it = sample_item("cyber-defence", "limits");
    it.media_type = "application/octet-stream";
    it.attachment = bytes;
    it.attachment_len = (size_t)STORE_BODY_MAX + 1; /* checked before it is read */
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_ERR_LIMIT,
       "an_attachment_over_64_mib_is_refused_as_too_large");
    it.media_type = NULL;
    it.attachment_len = sizeof bytes;
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_ERR_ARG,
       "an_attachment_without_media_type_is_refused");
    it.attachment = NULL;
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_ERR_ARG,
       "an_attachment_length_without_bytes_is_refused");
    it = sample_item("cyber-defence", NULL);
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_ERR_ARG,
       "an_item_without_body_is_refused");
    it = sample_item("cyber-defence", "x");
    it.author = "";
    ok(store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_ERR_ARG,
       "an_item_without_author_is_refused");
    ok(store_item_last_id(s, &last1, &err) == LSN_OK && last1 == last0,
       "refused_items_leave_nothing_behind");
}

/* ---- completions ------------------------------------------------------------------ */

#define COMPLETERS 4
#define PER_COMPLETER 100

typedef struct completion {
    atomic_int calls;
    atomic_int good;
    int64_t id;
} completion;

static void count_completion(void *ctx, lsn_err rc, int64_t id,
                             const uint8_t hash[STORE_HASH_LEN], uint64_t seq,
                             const lsn_error *err)
{
    completion *c = ctx;
    (void)hash, (void)err;
    c->id = id;
    atomic_fetch_add(&c->good, rc == LSN_OK && id > 0 && seq > 0);
    atomic_fetch_add(&c->calls, 1);
}

typedef struct completer {
    store *s;
    int t;
    completion *slots;
    int queued;
} completer;

static void *queue_many(void *arg)
{
    completer *q = arg;
    for (int i = 0; i < PER_COMPLETER; i++) {
        char body[64];
        snprintf(body, sizeof body, "completion %d of %d", i, q->t);
        store_item it = sample_item("cyber-defence", body);
        store_audit_event ev = { .actor = "aiko", .action = "post", .outcome = "ok" };
        lsn_error err;
        q->queued += store_item_append_async(q->s, &it, &ev, count_completion, &q->slots[i],
                                             &err) == LSN_OK;
    }
    return NULL;
}

/* Appends queued from several threads, then the store closed at once:
 * close completes every one first, each exactly once, and each is there
 * after a reopen. */
static void test_completions(store **sp)
{
    static completion slots[COMPLETERS][PER_COMPLETER];
    completer q[COMPLETERS];
    pthread_t th[COMPLETERS];
    for (int t = 0; t < COMPLETERS; t++) {
        q[t] = (completer){ .s = *sp, .t = t, .slots = slots[t] };
        pthread_create(&th[t], NULL, queue_many, &q[t]);
    }
    int queued = 0;
    for (int t = 0; t < COMPLETERS; t++) {
        pthread_join(th[t], NULL);
        queued += q[t].queued;
    }
    ok(queued == COMPLETERS * PER_COMPLETER, "async_appends_from_several_threads_are_queued");
    store_close(*sp); /* no wait: close finishes the queue */
    *sp = NULL;
    int once = 1, good = 1;
    for (int t = 0; t < COMPLETERS; t++)
        for (int i = 0; i < PER_COMPLETER; i++) {
            once &= atomic_load(&slots[t][i].calls) == 1;
            good &= atomic_load(&slots[t][i].good) == 1;
        }
    ok(once, "close_calls_every_queued_completion_exactly_once_before_it_returns");
    ok(good, "every_completion_reports_success_with_an_id_and_a_record");
    lsn_error err;
    ok(contract_open(uri, sp, &err) == LSN_OK, "store_reopens_after_the_completions");
    if (!*sp)
        return;
    int present = 1;
    for (int t = 0; t < COMPLETERS && present; t++)
        for (int i = 0; i < PER_COMPLETER && present; i++) {
            char body[64];
            snprintf(body, sizeof body, "completion %d of %d", i, t);
            store_item *it = NULL;
            present = store_item_get(*sp, slots[t][i].id, &it, &err) == LSN_OK && it &&
                      strcmp(it->body, body) == 0;
            lsn_free(it);
        }
    ok(present, "every_completed_append_is_there_after_reopen");
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

static void test_concurrent(store **sp)
{
    lsn_error err;
    uint64_t entries0 = audit_entries(*sp);
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
    *sp = NULL;
    ok(contract_open(uri, sp, &err) == LSN_OK, "store_reopens");
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
    audit_report r;
    ok(audit_verify(*sp, &r, &err) == LSN_OK && r.fault == AUDIT_INTACT &&
           r.entries == entries0 + THREADS * PER_THREAD - REFUSED_TOTAL,
       "concurrent_post_records_form_an_intact_chain");
    store_org *o = NULL;
    ok(store_org_get(*sp, "NATO International Staff", &o, &err) == LSN_OK && o,
       "directory_survives_reopen");
    lsn_free(o);
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

static void test_visible_classes(store *s)
{
    lsn_error err;
    int64_t classes0 = 0;
    if (store_channel_add(s, "c", "C", NULL, &err) != LSN_OK ||
        store_channel_add(s, "d", "D", NULL, &err) != LSN_OK ||
        store_class_last_id(s, &classes0, &err) != LSN_OK) {
        ok(0, "visible_setup");
        return;
    }
    /* Two new classes: secret (invisible), then open (the reader's). One visible item
     * in 1,000, and the last visible one behind 150,000 invisible matches. */
    const char *secret = "{\"l\":\"secret\"}", *open_ = "{\"l\":\"open\"}";
    atomic_int failed = 0;
    int64_t visible_ids[200];
    size_t nv = 0;
    store_item first = class_item("c", secret, "needle hay");
    int64_t id = 0;
    ok(store_item_append(s, &first, NULL, &id, NULL, &err) == LSN_OK, "secret_class_first");
    int64_t secret_class = item_class(s, id);
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
    int64_t open_class = item_class(s, visible_ids[0]);
    ok(open_class > secret_class && secret_class > classes0, "new_labels_get_new_classes");
    store_classes vis = { .ids = &open_class, .n = 1 };
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
    store_classes upto1 = { .all_upto = secret_class };
    u.n = 0;
    ok(store_item_search(s, "visible", NULL, &upto1, 0, ids_cb, &u, &err) == LSN_OK &&
           u.n == 0,
       "classes_after_all_upto_are_left_out");
    int64_t last_class = 0;
    ok(store_class_last_id(s, &last_class, &err) == LSN_OK && last_class == open_class &&
           last_class == classes0 + 2,
       "one_class_per_distinct_label");
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

/* The n-th allocation fails, for n = 1, 2, ... until open, reads and an
 * asynchronous append all succeed: whatever the allocation (a connection,
 * the anchor's thread at open, a record copied out, the append's copy),
 * its failure is told as LSN_ERR_NOMEM, never as another error, a crash
 * or a leak. */
/* A reader who sees a few classes searches another index than a reader
 * who sees every class (SQLite: items_cfts, per class and channel, against
 * items_fts): both must find the same items for the same words — phrases
 * of several tokens, accents folded, quotes, punctuation — in one channel
 * or in all. A reader of more classes than the per-class query takes goes
 * through the word index: the same answers again. */
static void test_search_by_class(store *s)
{
    lsn_error err;
    if (store_channel_add(s, "sx", "X", NULL, &err) != LSN_OK ||
        store_channel_add(s, "sy", "Y", NULL, &err) != LSN_OK) {
        ok(0, "search_by_class_setup");
        return;
    }
    static const char *const labels[3] = { "{\"l\":\"sbc-a\"}", "{\"l\":\"sbc-b\"}",
                                           "{\"l\":\"sbc-c\"}" };
    static const char *const bodies[] = {
        "Caf\xc3\xa9 au lait, e-mail report", "cafe e-mail", "the \"quoted\" word",
        "e mail in two words", "mail e reversed", "report on lait", "REPORT report",
        "nothing here",
    };
    const size_t nb = sizeof bodies / sizeof *bodies;
    int64_t cls[3] = { 0 };
    int seeded = 1;
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < nb; i++) {
            for (int k = 0; k < 3; k++) {
                store_item it = class_item((i + (size_t)k + (size_t)round) % 2 ? "sx" : "sy",
                                           labels[k], bodies[i]);
                int64_t id = 0;
                seeded &= store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_OK;
                if (!cls[k])
                    cls[k] = item_class(s, id);
            }
        }
    }
    ok(seeded && cls[0] && cls[1] && cls[2], "search_by_class_seeded");
    static const char *const queries[] = {
        "cafe", "caf\xc3\xa9", "CAFE", "e-mail", "mail e", "report", "lait report",
        "\"quoted\"", "quoted", "au lait,", "e-mail report", "absent", "k1h1",
    };
    int64_t many[48];
    int same = 1, some = 0;
    for (size_t qi = 0; qi < sizeof queries / sizeof *queries; qi++) {
        for (int ch = 0; ch < 3; ch++) {
            const char *channel = ch == 0 ? NULL : ch == 1 ? "sx" : "sy";
            for (int k = 0; k < 3; k++) {
                /* The word index, every class, kept to class k by hand. */
                store_classes all = { .all_upto = cls[2] };
                uuids_seen want = { .n = 0 }, by_class = { .n = 0 }, by_word = { .n = 0 };
                uuids_seen every = { .n = 0 };
                if (store_item_search(s, queries[qi], channel, &all, 0, ids_cb, &every,
                                      &err) != LSN_OK) {
                    same = 0;
                    continue;
                }
                for (size_t i = 0; i < every.n; i++)
                    if (item_class(s, every.ids[i]) == cls[k])
                        want.ids[want.n++] = every.ids[i];
                store_classes one = { .ids = &cls[k], .n = 1 };
                many[0] = cls[k];
                for (int i = 1; i < 48; i++)
                    many[i] = cls[2] + 1000 + i; /* classes with no item */
                store_classes lots = { .ids = many, .n = 48 };
                same &= store_item_search(s, queries[qi], channel, &one, 0, ids_cb, &by_class,
                                          &err) == LSN_OK &&
                        store_item_search(s, queries[qi], channel, &lots, 0, ids_cb, &by_word,
                                          &err) == LSN_OK &&
                        by_class.n == want.n && by_word.n == want.n &&
                        memcmp(by_class.ids, want.ids, want.n * sizeof *want.ids) == 0 &&
                        memcmp(by_word.ids, want.ids, want.n * sizeof *want.ids) == 0;
                some += want.n > 0;
                if (!same) {
                    printf("# query '%s' channel %s class %d: %zu / %zu / %zu\n", queries[qi],
                           channel ? channel : "-", k, want.n, by_class.n, by_word.n);
                    break;
                }
            }
        }
    }
    ok(same && some > 40, "a_reader_of_few_classes_finds_what_the_word_index_finds (%d)", some);
}

static int count_cb(void *ctx, const store_item *it)
{
    (void)it;
    ++*(size_t *)ctx;
    return STORE_NEXT;
}

/* A class with many items in a channel: a back-end may search it another
 * way once it has many (SQLite: items_cfts holds a (class, channel) pair's
 * first 10,000 items, then items_fts serves it); every item is found
 * before and after, whatever the group that crossed it. */
static void test_search_of_a_big_class(store *s)
{
    lsn_error err;
    if (store_channel_add(s, "big", "B", NULL, &err) != LSN_OK) {
        ok(0, "big_class_setup");
        return;
    }
    const char *label = "{\"l\":\"big\"}";
    atomic_int failed = 0;
    int64_t id = 0, cls = 0;
    store_item first = class_item("big", label, "bigword first");
    failed += store_item_append(s, &first, NULL, &id, NULL, &err) != LSN_OK;
    cls = item_class(s, id);
    store_classes one = { .ids = &cls, .n = 1 };
    size_t total = 1, n;
    for (int round = 0; round < 3; round++) {
        int more = round == 0 ? 9997 : round == 1 ? 1 : 60;
        for (int i = 0; i < more; i++) {
            store_item it = class_item("big", label, "bigword in the big class");
            if (store_item_append_async(s, &it, NULL, append_done, &failed, &err) != LSN_OK)
                failed++;
        }
        store_item last = class_item("big", label, "bigword last of a round");
        failed += store_item_append(s, &last, NULL, &id, NULL, &err) != LSN_OK;
        total += (size_t)more + 1;
        n = 0;
        size_t n_all = 0;
        int found = store_item_search(s, "bigword", "big", &one, 0, count_cb, &n, &err) ==
                        LSN_OK &&
                    store_item_search(s, "bigword", NULL, &one, 0, count_cb, &n_all, &err) ==
                        LSN_OK;
        ok(failed == 0 && found && n == total && n_all == total,
           "a_reader_of_one_big_class_finds_each_of_its_items (%zu, %zu of %zu)", n, n_all,
           total);
    }
    uuids_seen u = { .n = 0 };
    ok(store_item_search(s, "last", "big", &one, 0, ids_cb, &u, &err) == LSN_OK && u.n == 3 &&
           u.ids[2] == id,
       "a_big_class_is_searched_in_order_to_its_last_item");
}

static void test_alloc_failures(void)
{
    lsn_allocator a = { failing_malloc, failing_realloc, plain_free, NULL };
    lsn_set_allocator(&a);
    int nomem_seen = 0, completed = 0, other = 0;
    for (int n = 1; n <= 40 && !completed; n++) {
        atomic_store(&alloc_count, 0);
        atomic_store(&alloc_fail_at, n);
        store *s = NULL;
        lsn_error err;
        lsn_err e = contract_open(uri, &s, &err);
        if (e == LSN_ERR_NOMEM)
            nomem_seen++;
        if (e != LSN_OK) {
            if (e != LSN_ERR_NOMEM && !other++)
                printf("# open failed with %d at allocation %d: %s\n", (int)e, n, err.message);
            continue;
        }
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
        other += (e1 && e1 != LSN_ERR_NOMEM) + (e2 && e2 != LSN_ERR_NOMEM) +
                 (e3 && e3 != LSN_ERR_NOMEM) + (e4 && e4 != LSN_ERR_NOMEM);
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
    ok(nomem_seen > 0 && other == 0,
       "allocation_failures_are_reported_as_nomem_without_crashing");
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
static int crash_child(const char *where, int fd)
{
    store *s;
    lsn_error err;
    if (contract_open(where, &s, &err) != LSN_OK) {
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

/* The store is closed; its channel cyber-defence exists. */
static void test_crash(void)
{
    lsn_error err;
    store *s = NULL;
    uint64_t entries0 = 0;
    if (contract_open(uri, &s, &err) != LSN_OK) {
        ok(0, "crash_test_setup");
        return;
    }
    entries0 = audit_entries(s);
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
        execl("/proc/self/exe", "store_contract", "--crash-child", uri, fd, tmp, (char *)NULL);
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
    ok(contract_open(uri, &s, &err) == LSN_OK, "store_reopens_after_sigkill");
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
           r.entries >= entries0 + nacks,
       "audit_chain_verifies_after_sigkill");
    /* The store goes on where it stopped. */
    store_item it = sample_item("cyber-defence", "after the crash");
    int64_t id = 0, last = 0;
    ok(store_item_last_id(s, &last, &err) == LSN_OK &&
           store_item_append(s, &it, NULL, &id, NULL, &err) == LSN_OK && id > last,
       "ids_keep_increasing_after_the_crash");
    store_close(s);
}

/* ---- the store under test ------------------------------------------------------ */

/* uri = `given` with "{tmp}" replaced by a new temporary directory. */
static int expand_uri(const char *given)
{
    snprintf(tmp, sizeof tmp, "/tmp/liaison-contract-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 0;
    }
    const char *at = strstr(given, "{tmp}");
    if (!at) {
        snprintf(uri, sizeof uri, "%s", given);
        return 1;
    }
    int n = snprintf(uri, sizeof uri, "%.*s%s%s", (int)(at - given), given, tmp, at + 5);
    return n > 0 && (size_t)n < sizeof uri;
}

/* Remove the temporary directory and whatever the back-end made in it
 * (SQLite: the database, its -wal and -shm, PATH.key and PATH.anchor;
 * PostgreSQL: postgresql.key and postgresql.anchor). */
static void remove_tmp(void)
{
    if (!tmp[0])
        return;
    DIR *d = opendir(tmp);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[512];
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmp, e->d_name);
            unlink(p);
        }
    }
    if (d)
        closedir(d);
    rmdir(tmp);
}

/* The contract starts from an empty store: no organisation, item or
 * audit record. */
static int is_empty(store *s)
{
    int64_t last = -1;
    int orgs = 0;
    lsn_error err;
    return store_item_last_id(s, &last, &err) == LSN_OK && last == 0 &&
           store_org_list(s, count_org, &orgs, &err) == LSN_OK && orgs == 0 &&
           audit_entries(s) == 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--crash-child") == 0) {
        snprintf(tmp, sizeof tmp, "%s", argv[4]);
        return crash_child(argv[2], (int)strtol(argv[3], NULL, 10));
    }
    if (argc != 2) {
        fprintf(stderr, "usage: store_contract URI   (an empty store; {tmp} in the URI "
                        "is a new temporary directory)\n");
        return 2;
    }
    if (!expand_uri(argv[1]))
        return 1;
    printf("# store contract on %s\n", uri);
    store *s = NULL;
    lsn_error err;
    lsn_err e = contract_open(uri, &s, &err);
    if (!ok(e == LSN_OK && s, "store_opens")) {
        printf("# %s\n", err.message);
        remove_tmp();
        return tap_done();
    }
    if (!ok(is_empty(s), "store_is_empty_at_the_start")) {
        printf("# the contract needs an empty store\n");
        store_close(s);
        remove_tmp();
        return tap_done();
    }
    test_directory(s);
    test_items(s);
    test_uuids(s);
    test_classes(s);
    test_paging(s);
    test_async(s);
    test_content_hash();
    test_audit(&s);
    if (s)
        test_limits(s);
    if (s)
        test_completions(&s);
    if (s)
        test_concurrent(&s);
    if (s)
        test_visible_classes(s);
    if (s)
        test_search_by_class(s);
    if (s)
        test_search_of_a_big_class(s);
    if (s)
        test_federation(&s, uri);
    if (s)
        test_release_versions(s);
    if (s)
        test_release_messages(s);
    store_close(s);
    test_alloc_failures();
    test_crash();
    remove_tmp();
    return tap_done();
}
