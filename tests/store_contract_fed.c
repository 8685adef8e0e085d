/* tests/store_contract_fed.c — the store contract's federation part
 * (store_fed.h), for every back-end: an item's binding stored verbatim in
 * the item's transaction, a binding kept later (the first kept stays), the
 * registry of peers, and each peer's gapless outbox, across a reopening. */
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liaison/alloc.h"
#include "store/store.h"
#include "store/store_fed.h"
#include "store_contract_fed.h"
#define TAP_SHARED_COUNTERS
#include "tap.h"

static store_item item(const char *channel, const char *body)
{
    return (store_item){
        .channel = channel, .author = "aiko", .organisation = "Mission of Japan",
        .label = "{\"policy\":\"NATO\",\"classification\":\"NATO RESTRICTED\"}",
        .marking_en = "NATO RESTRICTED", .marking_fr = "NATO DIFFUSION RESTREINTE",
        .classification = 2, .body = body, .created_ms = 1700000000123,
    };
}

static int count_peer(void *ctx, const store_peer *p)
{
    store_peer *out = ctx; /* numbers only are compared: strings die after the call */
    if (p->id >= 1 && p->id <= 2)
        out[p->id - 1] = *p;
    return STORE_NEXT;
}

/* How many audit records refuse a peer's item (fed.receive, refused). */
static int count_refusal(void *ctx, const store_audit_event *ev)
{
    if (!strcmp(ev->action, "fed.receive") && !strcmp(ev->outcome, "refused"))
        ++*(int *)ctx;
    return STORE_NEXT;
}

static int refusals(store *s)
{
    int n = 0;
    lsn_error err;
    return store_audit_list(s, 0, count_refusal, &n, &err) == LSN_OK ? n : -1;
}

/* A peer's policy as read back (by name): "" for none. */
typedef struct policy_seen {
    const char *name;
    char policy[64];
    bool found;
} policy_seen;

static int policy_of(void *ctx, const store_peer *p)
{
    policy_seen *w = ctx;
    if (strcmp(p->name, w->name) == 0) {
        w->found = true;
        snprintf(w->policy, sizeof w->policy, "%s", p->policy ? p->policy : "");
    }
    return STORE_NEXT;
}

typedef struct outbox_seen {
    uint64_t seq[64];
    int64_t item[64];
    size_t n;
} outbox_seen;

static int outbox_cb(void *ctx, uint64_t seq, int64_t it)
{
    outbox_seen *o = ctx;
    if (o->n < 64) {
        o->seq[o->n] = seq;
        o->item[o->n] = it;
        o->n++;
    }
    return STORE_NEXT;
}

static bool gapless(const outbox_seen *o)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->seq[i] != i + 1)
            return false;
    return true;
}

typedef struct waiter {
    sem_t done;
    lsn_err rc;
    int64_t id;
} waiter;

static void async_done(void *ctx, lsn_err rc, int64_t id, const uint8_t hash[32],
                       uint64_t seq, const lsn_error *err)
{
    (void)hash, (void)seq, (void)err;
    waiter *w = ctx;
    w->rc = rc;
    w->id = id;
    sem_post(&w->done);
}

/* The transport's writes: a received batch and the peer's received
 * sequence in one transaction (all or none), and a peer's noted state. */
static void test_transport(store *s, int64_t peer)
{
    lsn_error err;
    store_item x = item("fed", "received one"), y = item("fed", "received two");
    store_item bad = item("no-such-channel", "refused by the store");
    store_uuid_new(x.uuid);
    store_uuid_new(y.uuid);
    store_audit_event px = {.actor = "peer:JPN", .action = "post", .outcome = "ok"},
                      py = px;
    const store_item *two[] = {&x, &y}, *with_bad[] = {&x, &bad};
    store_audit_event *posts[] = {&px, &py}, *none[] = {NULL, NULL};
    int64_t ids[2] = {0, 0};
    ok(store_fed_receive(s, peer, 7, two, posts, 2, NULL, 0, ids, &err) == LSN_OK && ids[0] > 0 &&
           ids[1] == ids[0] + 1 && px.seq > 0 && py.seq == px.seq + 1,
       "a_received_batch_is_stored_with_its_post_records");
    store_peer seen[2] = {{0}};
    ok(store_peer_list(s, count_peer, seen, &err) == LSN_OK && seen[peer - 1].received_seq == 7,
       "the_peers_received_sequence_moves_with_its_batch");
    int64_t last = 0, after = 0;
    ok(store_item_last_id(s, &last, &err) == LSN_OK, "last_id_read");
    store_uuid_new(x.uuid);
    store_audit_event refusal = {.actor = "peer:JPN", .action = "fed.receive", .object = "item",
                                 .outcome = "refused", .detail = "content does not match"};
    store_audit_event *notes[] = {&refusal};
    int refused_before = refusals(s);
    ok(store_fed_receive(s, peer, 9, with_bad, none, 2, notes, 1, ids, &err) != LSN_OK &&
           store_item_last_id(s, &after, &err) == LSN_OK && after == last,
       "a_batch_with_one_item_the_store_refuses_stores_nothing");
    ok(refusals(s) == refused_before, "nor_the_refusal_records_sent_with_it");
    memset(seen, 0, sizeof seen);
    ok(store_peer_list(s, count_peer, seen, &err) == LSN_OK && seen[peer - 1].received_seq == 7,
       "and_leaves_the_received_sequence_where_it_was");
    refusal.time_ms = 0;
    ok(store_fed_receive(s, peer, 10, NULL, NULL, 0, notes, 1, NULL, &err) == LSN_OK &&
           store_peer_list(s, count_peer, seen, &err) == LSN_OK &&
           seen[peer - 1].received_seq == 10,
       "a_batch_of_refused_items_still_moves_the_sequence");
    ok(refusals(s) == refused_before + 1 && refusal.seq > 0 && refusal.time_ms > 0,
       "and_its_refusal_records_are_written_with_it");
    store_peer_state_note n = {.state = "down", .last_contact_ms = 0,
                               .last_error = "connection refused", .last_acked = -1};
    store_peer_state_note up = {.state = "up", .last_contact_ms = 1700000000000,
                                .last_error = NULL, .last_acked = 2};
    ok(store_peer_note(s, peer, &n, &err) == LSN_OK &&
           store_peer_list(s, count_peer, seen, &err) == LSN_OK &&
           seen[peer - 1].last_acked == 0,
       "a_noted_failure_keeps_the_cursor");
    ok(store_peer_note(s, peer, &up, &err) == LSN_OK &&
           store_peer_list(s, count_peer, seen, &err) == LSN_OK &&
           seen[peer - 1].last_acked == 2 && seen[peer - 1].last_contact_ms == 1700000000000,
       "a_noted_exchange_moves_the_cursor_and_the_last_contact");
}

void test_federation(store **sp, const char *uri)
{
    store *s = *sp;
    lsn_error err;
    ok(store_channel_add(s, "fed", "federation's channel", NULL, &err) == LSN_OK, "channel_added");

    /* Bindings: the bytes as given, white space and all. */
    static const char xml[] = "<?xml version=\"1.0\"?>\r\n<b>  signed \t bytes  </b>\n\n";
    store_item a = item("fed", "with a binding");
    a.fed.binding = xml;
    a.fed.binding_len = sizeof xml - 1;
    int64_t ida = 0, idb = 0;
    ok(store_item_append(s, &a, NULL, &ida, NULL, &err) == LSN_OK, "item_with_binding_appended");
    store_item b = item("fed", "without");
    ok(store_item_append(s, &b, NULL, &idb, NULL, &err) == LSN_OK, "item_without_binding_appended");
    char *got = NULL;
    size_t len = 0;
    ok(store_item_binding(s, ida, &got, &len, &err) == LSN_OK && got &&
           len == sizeof xml - 1 && memcmp(got, xml, len) == 0,
       "a_binding_is_read_back_byte_for_byte");
    lsn_free(got);
    got = (char *)"x";
    ok(store_item_binding(s, idb, &got, &len, &err) == LSN_OK && !got,
       "an_item_without_binding_has_none");
    store_item big = item("fed", "too big a binding");
    big.fed.binding = xml;
    big.fed.binding_len = STORE_FIELD_MAX + 1;
    int64_t idbig = 0;
    ok(store_item_append(s, &big, NULL, &idbig, NULL, &err) == LSN_ERR_LIMIT,
       "a_binding_over_the_cap_is_refused_before_queueing");
    store_item *whole = NULL;
    ok(store_item_get(s, ida, &whole, &err) == LSN_OK && whole && !whole->fed.binding &&
           !whole->fed.outbox,
       "a_read_item_carries_no_federation_fields");
    lsn_free(whole);

    /* A binding made later, when first asked for: the first one kept stays. */
    static const char later[] = "<b>made when asked</b>", other[] = "<b>another</b>";
    got = NULL;
    ok(store_item_binding_keep(s, idb, later, sizeof later - 1, &got, &len, &err) == LSN_OK &&
           got && len == sizeof later - 1 && memcmp(got, later, len) == 0,
       "a_binding_kept_later_is_given_back");
    lsn_free(got);
    got = NULL;
    ok(store_item_binding_keep(s, idb, other, sizeof other - 1, &got, &len, &err) == LSN_OK &&
           got && len == sizeof later - 1 && memcmp(got, later, len) == 0,
       "a_second_binding_kept_gives_back_the_first");
    lsn_free(got);
    got = NULL;
    ok(store_item_binding(s, idb, &got, &len, &err) == LSN_OK && got &&
           len == sizeof later - 1 && memcmp(got, later, len) == 0,
       "the_kept_binding_is_read_back");
    lsn_free(got);
    got = NULL;
    ok(store_item_binding_keep(s, ida, other, sizeof other - 1, &got, &len, &err) == LSN_OK &&
           got && len == sizeof xml - 1 && memcmp(got, xml, len) == 0,
       "keeping_a_binding_never_replaces_the_one_written_with_the_item");
    lsn_free(got);
    got = NULL;
    ok(store_item_binding_keep(s, idb + 100000000, other, sizeof other - 1, &got, &len, &err) ==
               LSN_ERR_ARG && !got,
       "keeping_a_binding_of_no_item_is_refused");

    /* Peers. */
    store_peer jpn = {.name = "JPN MOD", .url = "https://jpn.example:8472", .nation = "JPN",
                      .certificate = "-----BEGIN CERTIFICATE-----\n", .max_classification =
                      "RESTRICTED"};
    store_peer kor = {.name = "KOR MND", .url = "https://kor.example:8472", .nation = "KOR",
                      .certificate = "PEM", .via = "JPN MOD", .policy = "1.2.410.99.1"};
    store_peer ghost = {.name = "X", .url = "u", .nation = "X", .certificate = "PEM",
                        .via = "no such peer"};
    int64_t pj = 0, pk = 0;
    ok(store_peer_add(s, &jpn, &pj, &err) == LSN_OK && pj > 0, "peer_added");
    ok(store_peer_add(s, &kor, &pk, &err) == LSN_OK && pk > pj, "peer_relayed_by_another_added");
    ok(store_peer_add(s, &jpn, NULL, &err) == LSN_ERR_DUPLICATE, "a_peer_name_is_unique");
    ok(store_peer_add(s, &ghost, NULL, &err) != LSN_OK, "a_relay_must_be_a_known_peer");
    /* A peer's policy (equivalent policies at the boundary) is kept; none
     * reads back as none (the node's own). */
    policy_seen pol_k = {.name = "KOR MND"}, pol_j = {.name = "JPN MOD"};
    ok(store_peer_list(s, policy_of, &pol_k, &err) == LSN_OK && pol_k.found &&
           strcmp(pol_k.policy, "1.2.410.99.1") == 0 &&
           store_peer_list(s, policy_of, &pol_j, &err) == LSN_OK && pol_j.found &&
           pol_j.policy[0] == '\0',
       "a_peers_policy_is_kept_and_none_reads_back_as_none");
    store_peer no_url = jpn;
    no_url.name = "Y";
    no_url.url = NULL;
    ok(store_peer_add(s, &no_url, NULL, &err) == LSN_ERR_ARG, "a_peer_needs_a_url");

    /* Outboxes: written with the item; each peer its own gapless sequence. */
    int64_t both[2] = {pj, pk}, only_k[1] = {pk};
    int64_t ids[6];
    bool appended = true;
    for (int i = 0; i < 6; i++) {
        store_item it = item("fed", "queued");
        it.fed.outbox = i % 2 ? only_k : both;
        it.fed.outbox_n = i % 2 ? 1 : 2;
        if (i >= 3) { /* asynchronous appends copy the outbox */
            waiter w;
            sem_init(&w.done, 0, 0);
            appended = appended &&
                       store_item_append_async(s, &it, NULL, async_done, &w, &err) == LSN_OK;
            sem_wait(&w.done);
            sem_destroy(&w.done);
            appended = appended && w.rc == LSN_OK;
            ids[i] = w.id;
        } else {
            appended = appended && store_item_append(s, &it, NULL, &ids[i], NULL, &err) == LSN_OK;
        }
    }
    /* A refused item (unknown channel) takes no sequence number. */
    store_item lost = item("no such channel", "lost");
    lost.fed.outbox = both;
    lost.fed.outbox_n = 2;
    int64_t lid = 0;
    ok(appended && store_item_append(s, &lost, NULL, &lid, NULL, &err) != LSN_OK,
       "outbox_items_appended_and_a_bad_one_refused");
    store_item after = item("fed", "after the refusal");
    after.fed.outbox = only_k;
    after.fed.outbox_n = 1;
    int64_t last = 0;
    ok(store_item_append(s, &after, NULL, &last, NULL, &err) == LSN_OK, "appended_after");

    outbox_seen oj = {0}, ok_ = {0};
    ok(store_outbox_list(s, pj, 0, 0, outbox_cb, &oj, &err) == LSN_OK && oj.n == 3 &&
           gapless(&oj) && oj.item[0] == ids[0] && oj.item[1] == ids[2] && oj.item[2] == ids[4],
       "a_peer_gets_exactly_the_items_queued_for_it_in_order");
    ok(store_outbox_list(s, pk, 0, 0, outbox_cb, &ok_, &err) == LSN_OK && ok_.n == 7 &&
           gapless(&ok_) && ok_.item[6] == last,
       "each_peer_has_its_own_gapless_sequence_a_refused_item_takes_none");
    outbox_seen page = {0};
    ok(store_outbox_list(s, pk, 5, 1, outbox_cb, &page, &err) == LSN_OK && page.n == 1 &&
           page.seq[0] == 6,
       "an_outbox_reads_from_a_sequence_with_a_limit");

    store_peer seen[2] = {{0}};
    ok(store_peer_list(s, count_peer, seen, &err) == LSN_OK, "peers_listed");
    ok(seen[0].id == pj && seen[0].last_seq == 3 && seen[0].last_acked == 0 &&
           seen[1].id == pk && seen[1].last_seq == 7,
       "a_peer_list_gives_each_outboxs_last_sequence");
    store_close(s);

    /* Reopened: the sequences continue. */
    *sp = NULL;
    if (ok(contract_open(uri, &s, &err) == LSN_OK, "store_reopens")) {
        *sp = s;
        store_item more = item("fed", "after reopening");
        more.fed.outbox = only_k;
        more.fed.outbox_n = 1;
        int64_t m = 0;
        outbox_seen o2 = {0};
        ok(store_item_append(s, &more, NULL, &m, NULL, &err) == LSN_OK &&
               store_outbox_list(s, pk, 7, 0, outbox_cb, &o2, &err) == LSN_OK && o2.n == 1 &&
               o2.seq[0] == 8 && o2.item[0] == m,
           "a_peers_sequence_continues_after_a_restart");
        test_transport(s, pj);
    }
}
