/* tests/node/test_peers.c — peers through the service layer, no HTTP: the
 * registry's checks (administrator only, the certificate's node and
 * nation, https, the policy's nations and classifications, a known relay),
 * and the outbox: each demo item posted creates exactly the outbox entries
 * the guard allows, one gapless sequence per peer, in the item's
 * transaction, with the item's signed binding beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "../tap.h"
#include "federation/binding.h"
#include "federation/identity.h"
#include "federation/translate.h"
#include "node/guard.h"
#include "node/service.h"
#include "store/store_fed.h"

static lsn_policy_set *SET;
static char DIR_[64];

#define JPN_OID "2.25.251642713772810140366533035959921199786"
/* A NATO label with an equivalent under the illustrative Japanese policy. */
#define REL_JPN_EQUIVALENT                                                                 \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"Releasable\"]},"                                \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\",\"NATO\"]}]}"

/* A translation of `xml` into the Japanese policy signed by `me` (the
 * origin's own, as its boundary adds it). */
static char *translated(const fed_identity *me, const char *xml, size_t len)
{
    char *out = NULL;
    lsn_error err = {0};
    if (fed_binding_translate(me, me, xml, len, SET, JPN_OID, 0, &out, NULL, &err) != LSN_OK)
        printf("# translate: %s\n", err.message);
    return out;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    *len = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    return buf;
}

/* A node identity NAME of NATION in DIR_/sub; its certificate's PEM. */
static char *make_node(const char *sub, const char *name, const char *nation, size_t *len)
{
    char dir[200], crt[260];
    snprintf(dir, sizeof dir, "%s/%s", DIR_, sub);
    lsn_error err;
    if (fed_identity_create(dir, name, nation, NULL, &err) != LSN_OK) {
        printf("# %s: %s\n", name, err.message);
        return NULL;
    }
    snprintf(crt, sizeof crt, "%s/node.crt", dir);
    return slurp(crt, len);
}

typedef struct outbox_seen {
    int64_t items[256];
    uint64_t seqs[256];
    size_t n;
} outbox_seen;

static int outbox_cb(void *ctx, uint64_t seq, int64_t item)
{
    outbox_seen *o = ctx;
    if (o->n < 256) {
        o->seqs[o->n] = seq;
        o->items[o->n++] = item;
    }
    return STORE_NEXT;
}

typedef struct peers_seen {
    char names[8][80];
    uint64_t last_seq[8];
    size_t n;
} peers_seen;

static int peers_cb(void *ctx, const store_peer *p)
{
    peers_seen *ps = ctx;
    if (ps->n < 8) {
        snprintf(ps->names[ps->n], sizeof ps->names[0], "%s", p->name);
        ps->last_seq[ps->n++] = p->last_seq;
    }
    return STORE_NEXT;
}

/* The peer's outbox is exactly `want[0..n)` (item ids, in order), with
 * sequences 1..n. */
static bool outbox_is(store *st, int64_t peer, const int64_t *want, size_t n)
{
    outbox_seen o = {0};
    lsn_error err;
    if (store_outbox_list(st, peer, 0, 0, outbox_cb, &o, &err) != LSN_OK || o.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (o.items[i] != want[i] || o.seqs[i] != i + 1)
            return false;
    return true;
}

/* Whether item is in the peer's outbox. */
static bool in_outbox(store *st, int64_t peer, int64_t item)
{
    outbox_seen o = {0};
    lsn_error err;
    if (store_outbox_list(st, peer, 0, 0, outbox_cb, &o, &err) != LSN_OK)
        return true; /* unknown: counted as there, so a check of "not there" fails */
    for (size_t i = 0; i < o.n; i++)
        if (o.items[i] == item)
            return true;
    return false;
}

/* Post into `channel`, as `a`, the first demo item whose label the guard
 * releases to the peer clearance `to` (its id into *id). */
static bool post_releasable(svc *s, const svc_actor *a, const char *channel, json_t *items,
                            const lsn_clearance *to, int64_t *id)
{
    size_t i;
    json_t *it;
    svc_result res;
    *id = 0;
    json_array_foreach(items, i, it) {
        json_t *label = json_object_get(it, "label");
        const char *under = json_string_value(json_object_get(label, "policy"));
        if (under && strcmp(under, "NATO"))
            continue;
        const char *body = json_string_value(json_object_get(it, "body"));
        svc_post p = {.channel = channel, .label = label, .body = body, .body_len = strlen(body)};
        svc_pending *pd = NULL;
        if (svc_post_accept(s, a, &p, &pd, &res) != LSN_OK)
            return false;
        if (!guard_releases(SET, svc_pending_label(pd)->label, to, NULL)) {
            svc_pending_free(pd);
            continue;
        }
        return svc_post_commit(s, pd, id, NULL, &res) == LSN_OK;
    }
    return false;
}

typedef struct audit_find {
    const char *detail;
    bool found;
    int count;
} audit_find;

static int audit_cb(void *ctx, const store_audit_event *ev)
{
    audit_find *f = ctx;
    if (!strcmp(ev->outcome, "refused") && ev->detail && strstr(ev->detail, f->detail)) {
        f->found = true;
        f->count++;
    }
    return STORE_NEXT;
}

/* A store whose next batch from a peer fails to commit (as a full disk or
 * a lost connection would make it), then works again. */
static const store_fed_ops *real_fed;
static int receive_failures;

static lsn_err failing_receive(store *st, int64_t peer, uint64_t last_seq,
                               const store_item *const *items,
                               store_audit_event *const *posts, size_t n,
                               store_audit_event *const *notes, size_t nnotes, int64_t *ids,
                               lsn_error *err)
{
    if (receive_failures > 0) {
        receive_failures--;
        err->code = LSN_ERR_IO;
        snprintf(err->message, sizeof err->message, "injected: the commit failed");
        return LSN_ERR_IO;
    }
    return real_fed->receive(st, peer, last_seq, items, posts, n, notes, nnotes, ids, err);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_peers DEMO_JSON\n");
        return 2;
    }
    lsn_policy *pol = NULL;
    SET = lsn_policy_set_new();
    if (!SET || lsn_policy_load_default(&pol, NULL) != LSN_OK ||
        lsn_policy_set_add(SET, pol, NULL) != LSN_OK)
        return 2;
    lsn_policy_unref(pol);
    snprintf(DIR_, sizeof DIR_, "/tmp/liaison-peers-XXXXXX");
    if (!mkdtemp(DIR_))
        return 2;

    size_t jl = 0, kl = 0, hl = 0, ol = 0;
    char *jpn = make_node("jpn", "JPN MOD", "JPN", &jl);
    char *kor = make_node("kor", "KOR MND", "KOR", &kl);
    char *hq = make_node("hq", "NATO HQ", "NATO", &hl);
    char *other = make_node("other", "Somebody", "JPN", &ol);
    char data[200];
    snprintf(data, sizeof data, "%s/data", DIR_);
    store *st = NULL;
    lsn_error err;
    fed_identity *me = NULL;
    bool made = false;
    bool up = jpn && kor && hq && other &&
              svc_store_open(data, NULL, true, &st, &err) == LSN_OK &&
              svc_identity_open(data, SET, "Liaison Office Tokyo", "nato", NULL, &made, &me,
                                &err) == LSN_OK && made &&
              !strcmp(fed_identity_nation(me), "NATO");
    svc s;
    up = up && svc_init(&s, st, SET, 1 << 20, true) == LSN_OK;
    if (!ok(up, "a_node_with_an_identity_and_a_store"))
        return tap_done();
    s.me = me;

    svc_actor admin = {.name = "admin", .roles = STORE_ROLE_ADMINISTRATOR};
    svc_actor member = {.name = "m", .roles = STORE_ROLE_MEMBER | STORE_ROLE_AUDITOR};
    svc_result res;
    svc_new_peer pj = {.name = "JPN MOD", .url = "https://jpn.example:8472", .nation = "jpn",
                       .certificate = jpn, .certificate_len = jl,
                       .max_classification = "SECRET"};
    svc_new_peer pk = {.name = "KOR MND", .url = "https://kor.example:8472", .nation = "KOR",
                       .certificate = kor, .certificate_len = kl,
                       .max_classification = "CONFIDENTIAL"};
    svc_new_peer ph = {.name = "NATO HQ", .url = "https://hq.example:8472", .nation = "NATO",
                       .certificate = hq, .certificate_len = hl};

    ok(svc_peer_add(&s, &member, &pj, &res) != LSN_OK && res.refusal == SVC_FORBIDDEN,
       "a_non_administrator_may_not_add_a_peer");
    svc_new_peer bad = pj;
    bad.url = "http://jpn.example:8472";
    ok(svc_peer_add(&s, &admin, &bad, &res) != LSN_OK && res.refusal == SVC_MALFORMED,
       "a_peer_is_reached_over_https_only (%s)", res.reason);
    bad = pj;
    bad.certificate = other;
    bad.certificate_len = ol;
    ok(svc_peer_add(&s, &admin, &bad, &res) != LSN_OK && res.refusal == SVC_INVALID &&
           strstr(res.reason, "Somebody"),
       "a_certificate_of_another_node_is_refused (%s)", res.reason);
    bad = pj;
    bad.nation = "KOR";
    ok(svc_peer_add(&s, &admin, &bad, &res) != LSN_OK && res.refusal == SVC_INVALID,
       "a_certificate_of_another_nation_is_refused (%s)", res.reason);
    bad = pj;
    bad.nation = "ATLANTIS";
    ok(svc_peer_add(&s, &admin, &bad, &res) != LSN_OK && res.refusal == SVC_INVALID,
       "a_nation_the_policy_does_not_know_is_refused");
    bad = pj;
    bad.max_classification = "ULTRA";
    ok(svc_peer_add(&s, &admin, &bad, &res) != LSN_OK && res.refusal == SVC_INVALID,
       "a_classification_the_policy_does_not_know_is_refused");
    bad = pk;
    bad.via = "JPN MOD";
    ok(svc_peer_add(&s, &admin, &bad, &res) != LSN_OK && res.refusal == SVC_NOT_FOUND,
       "a_relay_must_be_a_known_peer (%s)", res.reason);
    bad = pj;
    bad.certificate = "not a certificate";
    bad.certificate_len = 17;
    ok(svc_peer_add(&s, &admin, &bad, &res) != LSN_OK && res.refusal == SVC_INVALID,
       "a_peer_without_a_certificate_is_refused");

    ok(svc_peer_add(&s, &admin, &pj, &res) == LSN_OK &&
           svc_peer_add(&s, &admin, &ph, &res) == LSN_OK,
       "an_administrator_adds_peers (%s)", res.reason);
    ok(svc_peer_add(&s, &admin, &pj, &res) != LSN_OK && res.refusal == SVC_DUPLICATE,
       "a_peer_name_is_taken_once");
    pk.via = "JPN MOD";
    ok(svc_peer_add(&s, &admin, &pk, &res) == LSN_OK,
       "a_peer_relayed_through_another_is_added (%s)", res.reason);

    /* The demo data set's items, posted by NATO staff. */
    json_t *demo = json_load_file(argv[1], 0, NULL);
    json_t *items = json_object_get(demo, "items");
    ok(svc_org_add(&s, &admin, "NATO International Staff", "NATO", &res) == LSN_OK,
       "organisation_added");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *ch = json_string_value(json_object_get(it, "channel"));
        if (svc_channel_known(&s, ch, NULL, 0) == 0)
            (void)svc_channel_add(&s, &admin, ch, NULL, false, &res);
    }
    const char *clr = "{\"policy\":\"NATO\",\"maxClassification\":\"TOP SECRET\","
                      "\"categories\":[{\"tagSet\":\"Additional Sensitivity\",\"values\":"
                      "[\"ATOMAL\"]},{\"tagSet\":\"Context\",\"values\":[\"NATO\","
                      "\"Releasable\"]},{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\"]}]}";
    char tok[STORE_TOKEN_CHARS + 1];
    svc_new_user u = {.name = "ingrid", .organisation = "NATO International Staff",
                      .clearance = clr, .clearance_len = strlen(clr),
                      .clearance_form = LSN_FORM_JSON,
                      .roles = STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY};
    svc_reader r;
    ok(svc_user_add(&s, &admin, &u, tok, NULL, 0, &res) == LSN_OK &&
           svc_reader_load(&s, "ingrid", &r, &err) == LSN_OK && r.user,
       "an_author_who_may_post_every_demo_item");
    svc_actor ingrid = svc_actor_of(&r);

    /* The guard's answer for each peer, from its own function. */
    lsn_clearance *cj = NULL, *ck = NULL, *ch = NULL;
    bool cl = guard_peer_clearance(SET, "JPN", "SECRET", &cj, &err) == LSN_OK &&
              guard_peer_clearance(SET, "KOR", "CONFIDENTIAL", &ck, &err) == LSN_OK &&
              guard_peer_clearance(SET, "NATO", NULL, &ch, &err) == LSN_OK;
    int64_t want_j[64], want_k[64], want_h[64];
    size_t nj = 0, nk = 0, nh = 0, posted = 0, national = 0;
    int64_t unsent = 0; /* an item the guard sends to no peer */
    json_array_foreach(items, i, it) {
        json_t *label = json_object_get(it, "label");
        /* The demo's item under a national policy: this test loads the
         * bundled (NATO) policy only. */
        const char *under = json_string_value(json_object_get(label, "policy"));
        if (under && strcmp(under, "NATO")) {
            national++;
            continue;
        }
        const char *body = json_string_value(json_object_get(it, "body"));
        svc_post p = {.channel = json_string_value(json_object_get(it, "channel")),
                      .label = label, .body = body, .body_len = strlen(body)};
        int64_t id = 0;
        svc_pending *pd = NULL;
        if (svc_post_accept(&s, &ingrid, &p, &pd, &res) != LSN_OK)
            break;
        const lsn_label *l = svc_pending_label(pd)->label;
        bool to_j = guard_releases(SET, l, cj, NULL), to_h = guard_releases(SET, l, ch, NULL),
             to_k = guard_releases(SET, l, ck, cj);
        bool to_none = !to_j && !to_h && !to_k;
        if (svc_post_commit(&s, pd, &id, NULL, &res) != LSN_OK)
            break;
        posted++;
        if (to_none && !unsent)
            unsent = id;
        if (to_j && nj < 64)
            want_j[nj++] = id;
        if (to_k && nk < 64)
            want_k[nk++] = id;
        if (to_h && nh < 64)
            want_h[nh++] = id;
    }
    ok(cl && national <= 1 && posted + national == json_array_size(items),
       "every_demo_item_under_the_nato_policy_is_posted (%zu)", posted);

    /* A refused post creates no entry and takes no sequence. */
    json_t *lbl = json_object_get(json_array_get(items, 0), "label");
    svc_post lost = {.channel = "nowhere", .label = lbl, .body = "x", .body_len = 1};
    int64_t lid = 0;
    ok(svc_post_now(&s, &ingrid, &lost, &lid, &res) != LSN_OK, "a_refused_post");

    peers_seen ps = {0};
    ok(svc_peer_list(&s, &member, peers_cb, &ps, &res) != LSN_OK &&
           res.refusal == SVC_FORBIDDEN,
       "a_non_administrator_may_not_list_the_peers");
    ok(svc_peer_list(&s, &admin, peers_cb, &ps, &res) == LSN_OK && ps.n == 3 &&
           !strcmp(ps.names[0], "JPN MOD") && ps.last_seq[0] == nj &&
           ps.last_seq[1] == nh && ps.last_seq[2] == nk,
       "the_peer_list_gives_each_outboxs_last_sequence");
    ok(nj == 22 && outbox_is(st, 1, want_j, nj),
       "jpn_outbox_holds_exactly_what_the_guard_releases_to_jpn_in_order (%zu)", nj);
    ok(nh == 37 && outbox_is(st, 2, want_h, nh),
       "nato_hq_outbox_holds_every_item_but_the_atomal_one (%zu)", nh);
    ok(nk == 14 && outbox_is(st, 3, want_k, nk),
       "kor_outbox_through_jpn_holds_what_both_may_hold (%zu)", nk);

    /* Each item carries its signed binding, verified with our certificate. */
    char *xml = NULL;
    size_t xl = 0;
    fed_binding *b = NULL;
    char why[512] = "";
    ok(store_item_binding(st, want_j[0], &xml, &xl, &err) == LSN_OK && xml &&
           fed_binding_verify(me, xml, xl, &b, why, sizeof why) == LSN_OK && b &&
           !strcmp(b->origin, "Liaison Office Tokyo"),
       "a_posted_item_carries_its_binding_signed_by_this_node (%s)", why);
    fed_binding_free(b);
    lsn_free(xml);

    /* An item that goes to no peer was not signed when posted: its binding
     * is made when first asked for, and is the same bytes ever after. */
    xml = (char *)"x";
    ok(unsent && store_item_binding(st, unsent, &xml, &xl, &err) == LSN_OK && !xml,
       "an_item_sent_to_no_peer_is_not_signed_when_posted");
    char *x2 = NULL;
    size_t x2l = 0;
    b = NULL;
    ok(svc_item_binding(&s, unsent, &xml, &xl, &err) == LSN_OK && xml &&
           fed_binding_verify(me, xml, xl, &b, why, sizeof why) == LSN_OK && b &&
           !strcmp(b->origin, "Liaison Office Tokyo"),
       "its_binding_is_signed_by_this_node_when_first_asked_for (%s)", why);
    fed_binding_free(b);
    ok(svc_item_binding(&s, unsent, &x2, &x2l, &err) == LSN_OK && x2 && xml && x2l == xl &&
           !memcmp(x2, xml, xl),
       "asked_again_it_is_the_same_bytes");
    lsn_free(x2);
    x2 = NULL;
    ok(store_item_binding(st, unsent, &x2, &x2l, &err) == LSN_OK && x2 && xml && x2l == xl &&
           !memcmp(x2, xml, xl),
       "the_binding_made_when_asked_is_stored");
    lsn_free(x2);
    lsn_free(xml);

    /* Japan's node receives what our outbox holds for it. */
    char bdata[200], jdir[200], acrt[260];
    snprintf(bdata, sizeof bdata, "%s/b-data", DIR_);
    snprintf(jdir, sizeof jdir, "%s/jpn", DIR_);
    snprintf(acrt, sizeof acrt, "%s/node.crt", data);
    store *bst = NULL;
    fed_identity *bme = NULL;
    svc bn;
    size_t al = 0;
    char *apem = slurp(acrt, &al);
    bool bup = apem && svc_store_open(bdata, NULL, true, &bst, &err) == LSN_OK &&
               fed_identity_load(jdir, true, &bme, &err) == LSN_OK &&
               svc_init(&bn, bst, SET, 1 << 20, true) == LSN_OK;
    if (bup) {
        bn.me = bme;
        json_array_foreach(items, i, it) {
            const char *chn = json_string_value(json_object_get(it, "channel"));
            if (svc_channel_known(&bn, chn, NULL, 0) == 0)
                (void)svc_channel_add(&bn, &admin, chn, NULL, false, &res);
        }
        svc_new_peer pa = {.name = "Liaison Office Tokyo", .url = "https://lo.example:8472",
                           .nation = "NATO", .certificate = apem, .certificate_len = al};
        bup = svc_peer_add(&bn, &admin, &pa, &res) == LSN_OK;
    }
    ok(bup, "a_second_node_registers_the_first_as_its_peer (%s)", res.reason);

    size_t taken = 0, dups = 0;
    bool verbatim = true;
    for (size_t k = 0; bup && k < nj; k++) {
        store_item *item = NULL;
        char *bx = NULL;
        size_t bxl = 0;
        if (store_item_get(st, want_j[k], &item, &err) != LSN_OK || !item ||
            store_item_binding(st, want_j[k], &bx, &bxl, &err) != LSN_OK || !bx) {
            lsn_free(item);
            break;
        }
        svc_peer_item pi = {.channel = item->channel, .binding = bx, .binding_len = bxl,
                            .body = item->body, .body_len = strlen(item->body)};
        int64_t got = 0;
        bool dup = false;
        if (svc_peer_item_accept(&bn, "Liaison Office Tokyo", &pi, &got, &dup, &res) == LSN_OK &&
            !dup)
            taken++;
        else
            printf("# item %lld: %s\n", (long long)want_j[k], res.reason);
        char *again = NULL;
        size_t al2 = 0;
        verbatim = verbatim && store_item_binding(bst, got, &again, &al2, &err) == LSN_OK &&
                   again && al2 == bxl && !memcmp(again, bx, bxl);
        lsn_free(again);
        if (k == 0 && svc_peer_item_accept(&bn, "Liaison Office Tokyo", &pi, &got, &dup, &res) ==
                          LSN_OK && dup)
            dups++;
        if (k == 1) { /* altered: a byte of the label, then of the body */
            char *jp = strstr(bx, "<GenericValue>JPN</GenericValue>");
            if (jp) {
                memcpy(jp + 14, "KOR", 3);
                ok(svc_peer_item_accept(&bn, "Liaison Office Tokyo", &pi, &got, &dup, &res) !=
                           LSN_OK && res.refusal == SVC_INVALID,
                   "a_binding_with_an_altered_label_is_refused (%s)", res.reason);
                memcpy(jp + 14, "JPN", 3);
            }
            pi.body = "altered body";
            pi.body_len = strlen(pi.body);
            ok(svc_peer_item_accept(&bn, "Liaison Office Tokyo", &pi, &got, &dup, &res) !=
                       LSN_OK && res.refusal == SVC_INVALID,
               "an_item_whose_content_is_not_the_signed_one_is_refused");
            ok(svc_peer_item_accept(&bn, "Nobody", &pi, &got, &dup, &res) != LSN_OK &&
                   res.refusal == SVC_FORBIDDEN,
               "an_item_from_an_unknown_peer_is_refused");
        }
        lsn_free(bx);
        lsn_free(item);
    }
    ok(bup && taken == nj, "the_peer_accepts_every_item_of_its_outbox (%zu of %zu)", taken, nj);
    ok(dups == 1, "an_item_received_twice_is_a_duplicate_stored_once");
    ok(verbatim, "the_received_binding_is_stored_byte_for_byte");

    /* A NATO-only item of ours, signed by us: Japan's node decides again
     * and refuses it. */
    int64_t nato_id = 0;
    for (int64_t id = 1; id <= (int64_t)posted && !nato_id; id++) {
        bool in_j = false;
        for (size_t k = 0; k < nj; k++)
            in_j = in_j || want_j[k] == id;
        if (!in_j)
            nato_id = id;
    }
    store_item *ni = NULL;
    char *nx = NULL;
    size_t nxl = 0;
    bool refused = false;
    if (bup && nato_id && store_item_get(st, nato_id, &ni, &err) == LSN_OK && ni &&
        store_item_binding(st, nato_id, &nx, &nxl, &err) == LSN_OK && nx) {
        svc_peer_item pi = {.channel = ni->channel, .binding = nx, .binding_len = nxl,
                            .body = ni->body, .body_len = strlen(ni->body)};
        int64_t got = 0;
        bool dup = false;
        refused = svc_peer_item_accept(&bn, "Liaison Office Tokyo", &pi, &got, &dup, &res) !=
                      LSN_OK && res.refusal == SVC_FORBIDDEN;
    }
    ok(refused, "the_receiver_decides_again_and_refuses_an_item_not_releasable_to_it (%s)",
       res.reason);

    /* Our own signature over a UUID Japan's node already holds, with other
     * bytes (a later signing time): not a duplicate, refused. */
    bool preempt = false;
    if (bup) {
        store_item *first = NULL;
        char *fx = NULL;
        size_t fxl = 0;
        if (store_item_get(st, want_j[0], &first, &err) == LSN_OK && first &&
            store_item_binding(st, want_j[0], &fx, &fxl, &err) == LSN_OK && fx) {
            char uu[37], *resigned = NULL;
            size_t rl = 0;
            store_uuid_text(first->uuid, uu);
            fed_binding *fb = NULL;
            char why2[256];
            fed_content fc = {.body = first->body, .body_len = strlen(first->body)};
            if (fed_binding_verify(me, fx, fxl, &fb, why2, sizeof why2) == LSN_OK && fb &&
                fed_binding_sign(me, uu, fb->channel, fb->label_xml, fb->label_len, &fc, 1700000000,
                                 &resigned, &rl, &err) == LSN_OK) {
                svc_peer_item pi = {.channel = first->channel, .binding = resigned,
                                    .binding_len = rl, .body = first->body,
                                    .body_len = strlen(first->body)};
                int64_t got = 0;
                bool dup = true;
                preempt = svc_peer_item_accept(&bn, "Liaison Office Tokyo", &pi, &got, &dup,
                                               &res) != LSN_OK &&
                          res.refusal == SVC_DUPLICATE && !dup;
            }
            fed_binding_free(fb);
            lsn_free(resigned);
        }
        lsn_free(first);
        lsn_free(fx);
    }
    ok(preempt, "a_uuid_held_with_other_bytes_is_refused_not_taken_as_a_duplicate (%s)",
       res.reason);

    /* A channel kept local (issue 10): an item posted to it, with a label
     * the guard releases to Japan, Korea and NATO HQ, is queued to none of
     * them; the same label in a shared channel is queued (the control). */
    store_channel *lc = NULL;
    ok(svc_channel_add(&s, &admin, "lo-internal", "The office's own", true, &res) == LSN_OK &&
           store_channel_get(st, "lo-internal", &lc, &err) == LSN_OK && lc && lc->local,
       "a_channel_is_added_kept_local (%s)", res.reason);
    lsn_free(lc);
    int64_t lid2 = 0, sid = 0;
    ok(post_releasable(&s, &ingrid, "lo-internal", items, cj, &lid2) && lid2 > 0 &&
           !in_outbox(st, 1, lid2) && !in_outbox(st, 2, lid2) && !in_outbox(st, 3, lid2),
       "an_item_of_a_local_channel_has_no_outbox_entry_for_any_peer");
    ok(svc_channel_add(&s, &admin, "jpn-internal", NULL, false, &res) == LSN_OK &&
           post_releasable(&s, &ingrid, "jpn-internal", items, cj, &sid) && sid > 0 &&
           in_outbox(st, 1, sid),
       "the_same_label_in_a_shared_channel_is_queued_to_the_peer");

    /* Japan's node keeps "jpn-internal" local: our item for it is refused
     * there and audited; the items behind it still arrive. */
    bool local_refused = false, behind = false;
    audit_find af = {.detail = "channel kept local"};
    if (bup && svc_channel_add(&bn, &admin, "jpn-internal", NULL, true, &res) == LSN_OK) {
        store_item *si = NULL;
        char *sx = NULL;
        size_t sxl = 0;
        if (store_item_get(st, sid, &si, &err) == LSN_OK && si &&
            store_item_binding(st, sid, &sx, &sxl, &err) == LSN_OK && sx) {
            svc_peer_item pi = {.channel = si->channel, .binding = sx, .binding_len = sxl,
                                .body = si->body, .body_len = strlen(si->body)};
            int64_t got = 0;
            bool dup = false;
            local_refused = svc_peer_item_accept(&bn, "Liaison Office Tokyo", &pi, &got, &dup,
                                                 &res) != LSN_OK &&
                            res.refusal == SVC_FORBIDDEN && strstr(res.reason, "kept local");
        }
        lsn_free(si);
        lsn_free(sx);
        (void)store_audit_list(bst, 0, audit_cb, &af, &err);
        int64_t next = 0;
        si = NULL;
        sx = NULL;
        if (post_releasable(&s, &ingrid, "maritime-security", items, cj, &next) &&
            store_item_get(st, next, &si, &err) == LSN_OK && si &&
            store_item_binding(st, next, &sx, &sxl, &err) == LSN_OK && sx) {
            svc_peer_item pi = {.channel = si->channel, .binding = sx, .binding_len = sxl,
                                .body = si->body, .body_len = strlen(si->body)};
            int64_t got = 0;
            bool dup = false;
            behind = svc_peer_item_accept(&bn, "Liaison Office Tokyo", &pi, &got, &dup, &res) ==
                         LSN_OK && got > 0 && !dup;
        }
        lsn_free(si);
        lsn_free(sx);
    }
    ok(local_refused, "a_peers_item_for_a_channel_kept_local_here_is_refused (%s)", res.reason);
    ok(af.found, "the_refusal_is_audited_on_the_receiver");
    ok(behind, "the_item_behind_it_still_arrives (%s)", res.reason);

    /* A batch whose commit fails is sent again with the same txn: its
     * refused item is audited once, not once per attempt. */
    int64_t fresh = 0;
    store_item *fi = NULL;
    char *fx2 = NULL;
    size_t fx2l = 0;
    bool made_batch = bup && post_releasable(&s, &ingrid, "space", items, cj, &fresh) &&
                      store_item_get(st, fresh, &fi, &err) == LSN_OK && fi &&
                      store_item_binding(st, fresh, &fx2, &fx2l, &err) == LSN_OK && fx2;
    int64_t bpeer = 0;
    uint64_t brecv = 0;
    made_batch = made_batch && svc_peer_lookup(&bn, "Liaison Office Tokyo", &bpeer, &brecv);
    audit_find before_retry = {.detail = "content does not match"};
    audit_find after_retry = {.detail = "content does not match"};
    svc_fed_answer a1 = {0}, a2 = {0};
    lsn_err r1 = LSN_ERR_ARG, r2 = LSN_ERR_ARG;
    if (made_batch) {
        svc_fed_in batch[2] = {
            {.seq = brecv + 1,
             .item = {.channel = fi->channel, .binding = fx2, .binding_len = fx2l,
                      .body = "an altered body", .body_len = strlen("an altered body")}},
            {.seq = brecv + 2,
             .item = {.channel = fi->channel, .binding = fx2, .binding_len = fx2l,
                      .body = fi->body, .body_len = strlen(fi->body)}},
        };
        (void)store_audit_list(bst, 0, audit_cb, &before_retry, &err);
        store_ops failing = *bst->ops;
        store_fed_ops failing_fed = *failing.fed;
        real_fed = bst->ops->fed;
        failing_fed.receive = failing_receive;
        failing.fed = &failing_fed;
        const store_ops *real = bst->ops;
        bst->ops = &failing;
        receive_failures = 1;
        r1 = svc_fed_receive(&bn, "Liaison Office Tokyo", batch, 2, &a1, &res);
        r2 = svc_fed_receive(&bn, "Liaison Office Tokyo", batch, 2, &a2, &res);
        bst->ops = real;
        (void)store_audit_list(bst, 0, audit_cb, &after_retry, &err);
    }
    ok(made_batch && r1 != LSN_OK && a1.acked == brecv && r2 == LSN_OK &&
           a2.acked == brecv + 2 && a2.stored == 1 && a2.refused == 1,
       "a_batch_that_failed_to_commit_is_taken_when_sent_again (%s)", res.reason);
    ok(made_batch && after_retry.count == before_retry.count + 1,
       "a_refused_item_is_audited_once_across_retries_of_its_batch (%d records)",
       after_retry.count - before_retry.count);
    lsn_free(fi);
    lsn_free(fx2);

    /* An item that reaches a node translated (by the boundary it came
     * through) is the same item whichever translation it carries: the
     * same originator's bytes are a duplicate, not another binding; and
     * sent on, the translation (which only its sender's peers can check)
     * is cut out: the originator's bytes go to a peer of the originator's
     * policy, translated afresh by this node for one of another. */
    char jpol[400];
    snprintf(jpol, sizeof jpol, "%.*s/jpn-illustrative-policy.xml",
             (int)(strrchr(argv[1], '/') ? strrchr(argv[1], '/') - argv[1] : 1),
             strrchr(argv[1], '/') ? argv[1] : ".");
    json_t *eq = json_loads(REL_JPN_EQUIVALENT, 0, NULL);
    int64_t tid = 0, got_t = 0;
    store_item *ti = NULL;
    char *tx = NULL, *tr1 = NULL, *tr2 = NULL;
    size_t txl = 0;
    bool dup1 = false, dup2 = false;
    lsn_err ra = LSN_ERR_ARG, rb = LSN_ERR_ARG, rc3 = LSN_ERR_ARG;
    svc_post tp = {.channel = "space", .label = eq, .body = "a translated briefing",
                   .body_len = strlen("a translated briefing")};
    bool tmade = bup && eq && lsn_policy_set_load_file(SET, jpol, &err) == LSN_OK &&
                 svc_post_now(&s, &ingrid, &tp, &tid, &res) == LSN_OK &&
                 store_item_get(st, tid, &ti, &err) == LSN_OK && ti &&
                 store_item_binding(st, tid, &tx, &txl, &err) == LSN_OK && tx &&
                 (tr1 = translated(me, tx, txl)) && (tr2 = translated(me, tx, txl)) &&
                 strcmp(tr1, tr2) != 0;
    if (tmade) {
        svc_peer_item p1 = {.channel = "space", .binding = tr1, .binding_len = strlen(tr1),
                            .body = ti->body, .body_len = strlen(ti->body)};
        svc_peer_item p2 = p1, p3 = p1;
        p2.binding = tr2;
        p2.binding_len = strlen(tr2);
        p3.binding = tx;
        p3.binding_len = txl;
        int64_t g2 = 0, g3 = 0;
        bool dup0 = true;
        ra = svc_peer_item_accept(&bn, "Liaison Office Tokyo", &p1, &got_t, &dup0, &res);
        tmade = ra == LSN_OK && !dup0 && got_t > 0;
        rb = svc_peer_item_accept(&bn, "Liaison Office Tokyo", &p2, &g2, &dup1, &res);
        rc3 = svc_peer_item_accept(&bn, "Liaison Office Tokyo", &p3, &g3, &dup2, &res);
        dup1 = dup1 && g2 == got_t;
        dup2 = dup2 && g3 == got_t;
    }
    ok(tmade, "an_item_translated_at_its_origins_boundary_is_taken (%s)", res.reason);
    ok(tmade && rb == LSN_OK && dup1,
       "the_same_item_under_another_translation_is_a_duplicate_not_another_binding (%s)",
       res.reason);
    ok(tmade && rc3 == LSN_OK && dup2,
       "the_same_item_without_its_translation_is_a_duplicate (%s)", res.reason);
    /* Sent on from here: to a peer of our (the originator's) policy, and
     * to one of the Japanese policy. */
    svc_new_peer onward = ph; /* NATO HQ, under NATO's policy */
    svc_new_peer onward_j = {.name = "Somebody", .url = "https://sb.example:8472",
                             .nation = "JPN", .certificate = other, .certificate_len = ol,
                             .policy = "JPN-ILLUSTRATIVE"};
    char *held = NULL, *to_hq = NULL, *to_j = NULL;
    size_t held_len = 0, to_hq_len = 0, to_j_len = 0;
    store_item *bi = NULL;
    lsn_error e1 = {0}, e2 = {0};
    bool onward_ok = tmade && svc_peer_add(&bn, &admin, &onward, &res) == LSN_OK &&
                     svc_peer_add(&bn, &admin, &onward_j, &res) == LSN_OK &&
                     store_item_get(bst, got_t, &bi, &err) == LSN_OK && bi &&
                     store_item_binding(bst, got_t, &held, &held_len, &err) == LSN_OK && held;
    ok(onward_ok && held_len == strlen(tr1) && !memcmp(held, tr1, held_len),
       "the_translated_binding_is_stored_as_it_came (%s)", res.reason);
    ok(onward_ok &&
           svc_peer_binding_for(&bn, "NATO HQ", bi->label, held, held_len, &to_hq, &to_hq_len,
                                &e1) == LSN_OK &&
           to_hq && to_hq_len == txl && !memcmp(to_hq, tx, txl),
       "sent_on_to_a_peer_of_the_originators_policy_it_is_the_originators_bytes (%s)",
       e1.message);
    fed_received *fr = NULL;
    char why3[512] = "";
    ok(onward_ok &&
           svc_peer_binding_for(&bn, "Somebody", bi->label, held, held_len, &to_j, &to_j_len,
                                &e2) == LSN_OK &&
           to_j && !memcmp(to_j, tx, txl - strlen("</mb:BindingInformation>\n")) &&
           fed_binding_receive(me, bme, to_j, to_j_len, SET, JPN_OID, &fr, why3,
                               sizeof why3) == LSN_OK &&
           fr && fr->translated && !strcmp(fr->translator, "JPN MOD"),
       "sent_on_to_a_peer_of_another_policy_it_is_translated_afresh_by_this_node (%s%s)",
       e2.message, why3);
    fed_received_free(fr);
    lsn_free(held);
    lsn_free(to_hq);
    lsn_free(to_j);
    lsn_free(bi);
    lsn_free(ti);
    lsn_free(tx);
    lsn_free(tr1);
    lsn_free(tr2);
    json_decref(eq);
    lsn_free(ni);
    lsn_free(nx);
    if (bup)
        svc_release(&bn);
    store_close(bst);
    fed_identity_free(bme);
    free(apem);

    /* The audit names the peer and its certificate. */
    lsn_clearance_free(cj);
    lsn_clearance_free(ck);
    lsn_clearance_free(ch);
    svc_reader_release(&r);
    json_decref(demo);
    svc_release(&s);
    store_close(st);
    fed_identity_free(me);
    free(jpn);
    free(kor);
    free(hq);
    free(other);
    lsn_policy_set_free(SET);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
    if (system(cmd) != 0)
        ok(0, "cleanup");
    return tap_done();
}
