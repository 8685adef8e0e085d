/* tests/store_contract_rel.c — the store contract's part for item versions
 * and release requests (store_rel.h), for every back-end: a later version
 * served under the item's public id in place of the row it supersedes (by
 * id, listing, search), made once (a second version of the same row is
 * refused, and so is a second adoption of one request), a withdrawn item
 * gone from every read yet still stored, and the requests' acts: answers,
 * a retried answer, a late one, a party's rights, one extension, the due
 * list (deadline, every organisation concurring). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/alloc.h"
#include "store/store.h"
#include "store/store_rel.h"
#include "store_contract_rel.h"
#define TAP_SHARED_COUNTERS
#include "tap.h"

static const char *LABEL_A = "{\"policy\":\"NATO\",\"classification\":\"NATO RESTRICTED\"}";
static const char *LABEL_B =
    "{\"policy\":\"NATO\",\"classification\":\"NATO RESTRICTED\",\"rel\":\"JPN\"}";

static store_item item(const char *label, const char *body)
{
    return (store_item){
        .channel = "rel", .author = "aiko", .organisation = "Mission of Japan",
        .label = label, .marking_en = "NATO RESTRICTED",
        .marking_fr = "NATO DIFFUSION RESTREINTE", .classification = 2, .body = body,
        .created_ms = 1700000000123,
    };
}

typedef struct seen {
    int64_t ids[16];
    uint8_t uuids[16][STORE_UUID_LEN];
    int versions[16];
    size_t n;
} seen;

static int seen_cb(void *ctx, const store_item *it)
{
    seen *s = ctx;
    if (s->n < 16) {
        s->ids[s->n] = it->id;
        memcpy(s->uuids[s->n], it->uuid, STORE_UUID_LEN);
        s->versions[s->n] = it->ver.version;
        s->n++;
    }
    return STORE_NEXT;
}

static int count_release(void *ctx, const store_release *r)
{
    (void)r;
    (*(size_t *)ctx)++;
    return STORE_NEXT;
}

static int count_event(void *ctx, const store_release_event *e)
{
    (void)e;
    (*(size_t *)ctx)++;
    return STORE_NEXT;
}

typedef struct vers {
    int n, withdrawn, superseded;
} vers;

static int vers_cb(void *ctx, int64_t row, int version, const char *hidden)
{
    (void)row, (void)version;
    vers *v = ctx;
    v->n++;
    v->withdrawn += hidden && strcmp(hidden, "withdrawn") == 0;
    v->superseded += hidden && strcmp(hidden, "superseded") == 0;
    return STORE_NEXT;
}

static store_rel_outcome act(store *s, int64_t id, store_rel_act_kind k, const char *actor,
                             int64_t now, const char *reason, int64_t deadline)
{
    store_rel_act a = { .id = id, .kind = k, .actor = actor, .now_ms = now,
                        .reason = reason, .deadline_ms = deadline };
    store_rel_outcome o = STORE_REL_NOT_OPEN;
    lsn_error err;
    if (store_release_act(s, &a, &o, &err) != LSN_OK)
        return (store_rel_outcome)-1;
    return o;
}

/* A request on row `row` of item `uuid`, deadline 1000, two organisations
 * (JPN: yui, ren; KOR: jiwoo). */
static int64_t request(store *s, const uint8_t *uuid, int64_t row)
{
    store_release r = { .item_row = row, .proposer = "kenji", .kind = "release",
                        .label = LABEL_B, .marking_en = "NR REL JPN",
                        .marking_fr = "NDR REL JPN", .reason = "partners need it",
                        .created_ms = 10, .deadline_ms = 1000 };
    store_uuid_new(r.rid);
    memcpy(r.item, uuid, STORE_UUID_LEN);
    store_release_authority a[3] = { { .user = "yui", .organisation = "JPN" },
                                     { .user = "ren", .organisation = "JPN" },
                                     { .user = "jiwoo", .organisation = "KOR" } };
    int64_t id = 0;
    lsn_error err;
    return store_release_add(s, &r, a, 3, &id, &err) == LSN_OK ? id : 0;
}

void test_release_versions(store *s)
{
    lsn_error err;
    ok(store_channel_add(s, "rel", "release's channel", NULL, &err) == LSN_OK,
       "rel_channel_added");
    store_item v1 = item(LABEL_A, "first words of the item");
    int64_t row1 = 0;
    ok(store_item_append(s, &v1, NULL, &row1, NULL, &err) == LSN_OK, "rel_first_version");
    store_item *got = NULL;
    ok(store_item_get(s, row1, &got, &err) == LSN_OK && got && got->ver.version == 1,
       "rel_a_first_version_reads_as_version_1");
    uint8_t pub[STORE_UUID_LEN];
    memcpy(pub, got ? got->uuid : (const uint8_t[16]){ 0 }, STORE_UUID_LEN);
    int64_t v1_class = got ? got->class_id : 0;
    lsn_free(got);

    int64_t rq = request(s, pub, row1);
    ok(rq > 0, "rel_request_added");
    store_release *r = NULL;
    uint8_t none[STORE_UUID_LEN] = { 0 };
    ok(store_release_get(s, none, &r, &err) == LSN_OK && !r, "rel_unknown_request_is_null");

    /* The acts. */
    ok(act(s, rq, STORE_REL_CONCUR, "kenji", 20, NULL, 0) == STORE_REL_NOT_PARTY,
       "rel_the_proposer_is_not_an_authority");
    ok(act(s, rq, STORE_REL_WITHDRAW, "yui", 20, NULL, 0) == STORE_REL_NOT_PARTY,
       "rel_an_authority_does_not_withdraw");
    ok(act(s, rq, STORE_REL_CONCUR, "yui", 20, NULL, 0) == STORE_REL_DONE, "rel_concur");
    ok(act(s, rq, STORE_REL_CONCUR, "yui", 21, NULL, 0) == STORE_REL_SAME,
       "rel_concur_again_is_the_same");
    size_t due = 0;
    ok(store_release_due(s, 999, count_release, &due, &err) == LSN_OK && due == 0,
       "rel_not_due_while_an_organisation_is_silent");
    ok(act(s, rq, STORE_REL_EXTEND, "kenji", 30, NULL, 900) == STORE_REL_EXTENDED,
       "rel_an_extension_is_later");
    ok(act(s, rq, STORE_REL_EXTEND, "kenji", 30, NULL, 2000) == STORE_REL_DONE, "rel_extend");
    ok(act(s, rq, STORE_REL_EXTEND, "kenji", 30, NULL, 3000) == STORE_REL_EXTENDED,
       "rel_extend_once");
    ok(store_release_due(s, 1999, count_release, &due, &err) == LSN_OK && due == 0,
       "rel_not_due_before_the_new_deadline");
    ok(store_release_due(s, 2000, count_release, &due, &err) == LSN_OK && due == 1,
       "rel_due_at_the_deadline");
    ok(act(s, rq, STORE_REL_BREAK, "jiwoo", 2000, "too late", 0) == STORE_REL_LATE,
       "rel_a_break_at_the_deadline_is_late");
    ok(act(s, rq, STORE_REL_CONCUR, "jiwoo", 1999, NULL, 0) == STORE_REL_DONE,
       "rel_second_organisation_concurs");
    due = 0;
    ok(store_release_due(s, 0, count_release, &due, &err) == LSN_OK && due == 1,
       "rel_due_when_every_organisation_concurred");

    /* Adoption: the version, its link, the row superseded, the request. */
    store_item v2 = item(LABEL_B, "first words of the item");
    store_uuid_new(v2.uuid);
    v2.ver = (struct store_item_ver){ .version = 2, .supersedes = row1, .adopts = rq };
    memcpy(v2.ver.of, pub, STORE_UUID_LEN);
    int64_t row2 = 0;
    ok(store_item_append(s, &v2, NULL, &row2, NULL, &err) == LSN_OK && row2 > row1,
       "rel_version_2_appended");
    store_item_ref ref;
    ok(store_item_find(s, pub, &ref, &err) == LSN_OK && ref.id == row2,
       "rel_the_item_id_finds_the_new_version");
    ok(store_item_find(s, v2.uuid, &ref, &err) == LSN_OK && ref.id == 0,
       "rel_a_versions_own_row_id_finds_nothing");
    ok(store_item_get(s, row2, &got, &err) == LSN_OK && got && got->ver.version == 2 &&
           memcmp(got->uuid, pub, STORE_UUID_LEN) == 0,
       "rel_the_version_reads_under_the_items_id");
    int64_t v2_class = got ? got->class_id : 0;
    lsn_free(got);
    seen l = { 0 };
    ok(store_item_list(s, "rel", NULL, 0, 0, seen_cb, &l, &err) == LSN_OK && l.n == 1 &&
           l.ids[0] == row2 && l.versions[0] == 2,
       "rel_the_listing_has_the_new_version_only");
    seen q = { 0 };
    ok(store_item_search(s, "words", "rel", NULL, 0, seen_cb, &q, &err) == LSN_OK &&
           q.n == 1 && q.ids[0] == row2,
       "rel_search_finds_the_new_version_only");
    /* A reader of a few classes (the old version's and the new one's) searches through the per-class index
     * (items_cfts): the superseded row is hidden there too. */
    int64_t few[] = { v1_class, v2_class };
    store_classes vis_few = { .ids = few, .n = 2 };
    seen qc = { 0 };
    ok(store_item_search(s, "words", "rel", &vis_few, 0, seen_cb, &qc, &err) == LSN_OK &&
           qc.n == 1 && qc.ids[0] == row2,
       "rel_search_by_a_reader_of_few_classes_finds_the_new_version_only");
    /* Every way of listing (a channel or all, every class, classes up to a
     * bound, or a few classes merged) serves the new version only, under
     * the item's id: from just before the first version on, nothing else. */
    store_classes vis_upto = { .all_upto = v2_class > v1_class ? v2_class : v1_class };
    const struct {
        const char *channel;
        const store_classes *vis;
        const char *name;
    } ways[] = {
        { NULL, NULL, "rel_every_channels_listing_has_the_new_version_only" },
        { "rel", &vis_upto, "rel_a_listing_up_to_a_class_has_the_new_version_only" },
        { NULL, &vis_upto, "rel_every_channel_up_to_a_class_has_the_new_version_only" },
        { "rel", &vis_few, "rel_a_reader_of_few_classes_lists_the_new_version_only" },
        { NULL, &vis_few, "rel_a_reader_of_few_classes_in_every_channel_lists_it_only" },
    };
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        seen lw = { 0 };
        ok(store_item_list(s, ways[w].channel, ways[w].vis, row1 - 1, 0, seen_cb, &lw,
                           &err) == LSN_OK && lw.n == 1 && lw.ids[0] == row2 &&
               lw.versions[0] == 2 && memcmp(lw.uuids[0], pub, STORE_UUID_LEN) == 0,
           "%s", ways[w].name);
    }
    ok(store_release_get(s, r ? r->rid : none, &r, &err) == LSN_OK, "rel_get");
    lsn_free(r);
    size_t adopted = 0;
    ok(store_release_list(s, "jiwoo", STORE_REL_ADOPTED, count_release, &adopted, &err) ==
               LSN_OK && adopted == 1,
       "rel_the_request_is_adopted");

    /* Exactly once: another version of the same row, or of the same request. */
    store_item again = v2;
    store_uuid_new(again.uuid);
    again.ver.adopts = 0;
    int64_t row3 = 0;
    ok(store_item_append(s, &again, NULL, &row3, NULL, &err) != LSN_OK,
       "rel_a_second_version_2_is_refused");
    again.ver.version = 3;
    again.ver.supersedes = row2;
    again.ver.adopts = rq;
    store_uuid_new(again.uuid);
    ok(store_item_append(s, &again, NULL, &row3, NULL, &err) != LSN_OK,
       "rel_a_second_adoption_is_refused");
    ok(store_item_find(s, pub, &ref, &err) == LSN_OK && ref.id == row2,
       "rel_after_refusals_version_2_is_current");
    ok(act(s, rq, STORE_REL_BREAK, "yui", 10, "no", 0) == STORE_REL_NOT_OPEN,
       "rel_an_adopted_request_takes_no_break");

    /* A break stops a request; a retried break is the same. */
    int64_t rq2 = request(s, pub, row2);
    ok(act(s, rq2, STORE_REL_BREAK, "ren", 999, "not now", 0) == STORE_REL_DONE &&
           act(s, rq2, STORE_REL_BREAK, "ren", 1001, "not now", 0) == STORE_REL_SAME &&
           act(s, rq2, STORE_REL_CONCUR, "yui", 500, NULL, 0) == STORE_REL_NOT_OPEN,
       "rel_a_break_stops_the_request_and_a_retry_is_the_same");
    size_t broken = 0;
    ok(store_release_list(s, "kenji", STORE_REL_BROKEN, count_release, &broken, &err) ==
               LSN_OK && broken == 1,
       "rel_the_proposer_lists_the_broken_request");
    size_t outsider = 0;
    ok(store_release_list(s, "nobody", NULL, count_release, &outsider, &err) == LSN_OK &&
           outsider == 0,
       "rel_a_stranger_lists_nothing");
    int64_t rq3 = request(s, pub, row2);
    ok(act(s, rq3, STORE_REL_WITHDRAW, "kenji", 5, NULL, 0) == STORE_REL_DONE,
       "rel_the_proposer_withdraws");
    size_t events = 0;
    ok(store_release_history(s, rq3, count_event, &events,
                             &err) == LSN_OK && events == 2,
       "rel_history_has_open_and_withdraw");

    /* Withdrawing the item: gone from reads, still stored. */
    store_withdrawal w1 = { .row = row2, .now_ms = 77 }, w2 = { .row = row2, .now_ms = 78 };
    ok(store_item_withdraw(s, &w1, &err) == LSN_OK, "rel_item_withdrawn");
    ok(store_item_withdraw(s, &w2, &err) == LSN_ERR_DUPLICATE, "rel_withdrawn_once");
    ok(store_item_find(s, pub, &ref, &err) == LSN_OK && ref.id == 0,
       "rel_a_withdrawn_item_is_not_found");
    seen l2 = { 0 };
    ok(store_item_list(s, "rel", NULL, 0, 0, seen_cb, &l2, &err) == LSN_OK && l2.n == 0,
       "rel_a_withdrawn_item_is_not_listed");
    vers v = { 0 };
    ok(store_item_versions(s, pub, vers_cb, &v, &err) == LSN_OK && v.n == 2 &&
           v.withdrawn == 1 && v.superseded == 1,
       "rel_its_versions_are_kept");
}
