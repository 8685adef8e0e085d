/* tests/store_migrate_live.c — `store migrate` of a node's store in use
 * (issue 14): item versions, hidden rows, release requests and peers'
 * delivery state, through the store API alone.
 *
 *   store_migrate_live           SQLite -> SQLite -> SQLite
 *   store_migrate_live PG_URI    SQLite -> PostgreSQL -> SQLite (both ways)
 *
 * The source holds an item adopted at version 2 by a release request, an
 * item narrowed (a version 2 without request), a withdrawn item, an open
 * request (one concurrence in, deadline extended), a request whose
 * silence was broken, and two peers: one sent two items (one
 * acknowledged), one that sent seven. After each migration: the same
 * versions served (bodies, hidden rows), each request the same (state,
 * answers, history), the same peers' sequences; then the open request
 * settles on the target (the last concurrence, adopted by version 2), and
 * a new item for the peer takes the next sequence (no re-send, no gap).
 * The chain and every seal verify on each target. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liaison/alloc.h"
#include "store/migrate.h"
#include "store/store.h"
#include "store/store_fed.h"
#include "store/store_rel.h"

/* The withdrawal's signed tombstone (any bytes: the store keeps them). */
#define TOMBSTONE "<BindingInformation>tombstone of D</BindingInformation>"
#include "store/verify.h"
#include "tap.h"

static char dir[64];
static const int64_t T0 = 1700000000000;

static store *open_uri(const char *uri)
{
    store *s = NULL;
    lsn_error err;
    if (store_open_keyed(uri, dir, &s, &err) != LSN_OK) {
        printf("# %s: %s\n", uri, err.message);
        return NULL;
    }
    return s;
}

static store_item item(const char *body, int64_t t)
{
    return (store_item){ .channel = "c", .author = "ana", .organisation = "NATO",
                         .label = "{\"policy\":\"NATO\"}", .marking_en = "NATO",
                         .marking_fr = "OTAN", .classification = -1, .body = body,
                         .created_ms = t };
}

/* Append a first version (queued for `peer` when non-zero), with its post
 * record; its row in *row and public id in uuid. */
static bool post(store *s, const char *body, int64_t t, int64_t peer,
                 uint8_t uuid[STORE_UUID_LEN], int64_t *row)
{
    lsn_error err;
    store_item it = item(body, t);
    store_uuid_new(it.uuid);
    memcpy(uuid, it.uuid, STORE_UUID_LEN);
    if (peer)
        it.fed = (struct store_item_fed){ .outbox = &peer, .outbox_n = 1 };
    store_audit_event p = { .time_ms = t, .actor = "ana", .action = "post", .outcome = "ok" };
    return store_item_append(s, &it, &p, row, NULL, &err) == LSN_OK;
}

static bool version(store *s, const uint8_t of[STORE_UUID_LEN], int v, int64_t supersedes,
                    int64_t adopts, const char *body, int64_t t, int64_t *row)
{
    lsn_error err;
    store_item it = item(body, t);
    it.ver = (struct store_item_ver){ .version = v, .supersedes = supersedes, .adopts = adopts };
    memcpy(it.ver.of, of, STORE_UUID_LEN);
    if (store_item_append(s, &it, NULL, row, NULL, &err) != LSN_OK) {
        printf("# version: %s\n", err.message);
        return false;
    }
    return true;
}

static int64_t request(store *s, const uint8_t rid[STORE_UUID_LEN],
                       const uint8_t item_uuid[STORE_UUID_LEN], int64_t row, int64_t t)
{
    lsn_error err;
    store_release r = { .item_row = row, .proposer = "ana", .kind = "release",
                        .label = "{\"policy\":\"NATO\",\"rel\":\"JPN\"}",
                        .marking_en = "NATO REL JPN", .marking_fr = "OTAN REL JPN",
                        .reason = "partners need it", .created_ms = t, .deadline_ms = t + 1000 };
    memcpy(r.rid, rid, STORE_UUID_LEN);
    memcpy(r.item, item_uuid, STORE_UUID_LEN);
    store_release_authority a[2] = { { .user = "bob", .organisation = "NATO" },
                                     { .user = "carl", .organisation = "FRA" } };
    int64_t id = 0;
    return store_release_add(s, &r, a, 2, &id, &err) == LSN_OK ? id : 0;
}

static store_rel_outcome act(store *s, int64_t id, store_rel_act_kind k, const char *actor,
                             int64_t t, const char *reason, int64_t deadline)
{
    lsn_error err;
    store_rel_act a = { .id = id, .kind = k, .actor = actor, .now_ms = t, .reason = reason,
                        .deadline_ms = deadline };
    store_rel_outcome o = STORE_REL_NOT_OPEN;
    return store_release_act(s, &a, &o, &err) == LSN_OK ? o : (store_rel_outcome)-1;
}

/* What the source holds, by public ids (the same in every copy). */
static struct {
    uint8_t a[16], b[16], c[16], d[16], e[16], new_item[16];
    uint8_t ra[16], rc[16], re[16];
} ids;

static bool seed(store *s)
{
    lsn_error err;
    store_user ana = { .name = "ana", .organisation = "NATO", .clearance = "{}" };
    memset(ana.token_hash, 0x22, STORE_HASH_LEN);
    store_peer jpn = { .name = "JPN MOD", .url = "https://jpn.example:8443", .nation = "JPN",
                       .certificate = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n" },
               fra = jpn;
    fra.name = "FRA MINDEF";
    fra.url = "https://fra.example:8443";
    fra.nation = "FRA";
    int64_t pj = 0, pf = 0, ra_, rb, rc_, rd, re_, row;
    if (store_org_add(s, "NATO", "NATO", NULL, &err) || store_user_add(s, &ana, NULL, &err) ||
        store_channel_add(s, "c", "purpose", NULL, &err) ||
        store_peer_add(s, &jpn, &pj, &err) || store_peer_add(s, &fra, &pf, &err))
        return false;
    store_uuid_new(ids.ra);
    store_uuid_new(ids.rc);
    store_uuid_new(ids.re);
    int64_t qa, qc, qe;
    bool good =
        post(s, "A one", T0, pj, ids.a, &ra_) && post(s, "B one", T0 + 1, 0, ids.b, &rb) &&
        post(s, "C one", T0 + 2, 0, ids.c, &rc_) && post(s, "D one", T0 + 3, 0, ids.d, &rd) &&
        post(s, "E one", T0 + 4, 0, ids.e, &re_) &&
        (qa = request(s, ids.ra, ids.a, ra_, T0 + 5)) > 0 &&
        act(s, qa, STORE_REL_CONCUR, "bob", T0 + 6, NULL, 0) == STORE_REL_DONE &&
        act(s, qa, STORE_REL_CONCUR, "carl", T0 + 7, "fine", 0) == STORE_REL_DONE &&
        /* A adopted at version 2 */
        version(s, ids.a, 2, ra_, qa, "A two", T0 + 8, &row) &&
        /* B narrowed: a version without a request */
        version(s, ids.b, 2, rb, 0, "B two", T0 + 9, &row) &&
        /* C: an open request, one answer in, deadline extended */
        (qc = request(s, ids.rc, ids.c, rc_, T0 + 10)) > 0 &&
        act(s, qc, STORE_REL_CONCUR, "bob", T0 + 11, NULL, 0) == STORE_REL_DONE &&
        act(s, qc, STORE_REL_EXTEND, "ana", T0 + 12, NULL, T0 + 9000000) == STORE_REL_DONE &&
        /* D withdrawn; E's request broken */
        store_item_withdraw(s, &(store_withdrawal){ .row = rd, .now_ms = T0 + 13,
                                                    .tombstone = TOMBSTONE,
                                                    .tombstone_len = sizeof TOMBSTONE - 1 },
                            &err) == LSN_OK &&
        (qe = request(s, ids.re, ids.e, re_, T0 + 14)) > 0 &&
        act(s, qe, STORE_REL_BREAK, "carl", T0 + 15, "not yet", 0) == STORE_REL_DONE &&
        post(s, "F one", T0 + 16, pj, ids.new_item, &row);
    if (!good)
        return false;
    /* JPN acknowledged its first item; FRA sent seven. */
    store_peer_state_note n = { .state = "up", .last_contact_ms = T0 + 17, .last_acked = 1 };
    return store_peer_note(s, pj, &n, &err) == LSN_OK &&
           store_fed_receive(s, pf, 7, NULL, NULL, 0, NULL, 0, NULL, &err) == LSN_OK;
}

/* ---- what a copy must show --------------------------------------------------- */

static const char *current_body(store *s, const uint8_t uuid[16], int *ver)
{
    static char body[64];
    lsn_error err;
    store_item_ref ref = { 0 };
    store_item *it = NULL;
    body[0] = 0;
    *ver = 0;
    if (store_item_find(s, uuid, &ref, &err) == LSN_OK && ref.id &&
        store_item_get(s, ref.id, &it, &err) == LSN_OK && it) {
        snprintf(body, sizeof body, "%s", it->body);
        *ver = it->ver.version;
    }
    lsn_free(it);
    return body;
}

typedef struct vers { int n; char line[256]; } vers;

static int vers_cb(void *ctx, int64_t row, int v, const char *hidden)
{
    vers *x = ctx;
    (void)row;
    x->n++;
    size_t l = strlen(x->line);
    snprintf(x->line + l, sizeof x->line - l, "%d:%s ", v, hidden ? hidden : "served");
    return STORE_NEXT;
}

static int first_row_cb(void *ctx, int64_t row, int version, const char *hidden)
{
    (void)version, (void)hidden;
    *(int64_t *)ctx = row;
    return STORE_STOP;
}

/* The tombstone kept with the withdrawal of item uuid's first row. */
static bool tombstone_kept(store *s, const uint8_t uuid[16])
{
    lsn_error err;
    int64_t row = 0;
    char *t = NULL;
    size_t n = 0;
    bool same = store_item_versions(s, uuid, first_row_cb, &row, &err) == LSN_OK && row &&
                store_item_tombstone(s, row, &t, &n, &err) == LSN_OK && t &&
                n == sizeof TOMBSTONE - 1 && memcmp(t, TOMBSTONE, n) == 0;
    lsn_free(t);
    return same;
}

static const char *versions(store *s, const uint8_t uuid[16])
{
    static vers x;
    lsn_error err;
    memset(&x, 0, sizeof x);
    if (store_item_versions(s, uuid, vers_cb, &x, &err) != LSN_OK)
        return "error";
    return x.line;
}

static int peer_cb(void *ctx, const store_peer *p)
{
    store_peer *want = ctx;
    if (!strcmp(p->name, want->name)) {
        want->id = p->id;
        want->last_seq = p->last_seq;
        want->last_acked = p->last_acked;
        want->received_seq = p->received_seq;
        want->state = strcmp(p->state, "up") == 0 ? "up" : "other";
    }
    return STORE_NEXT;
}

static store_peer peer(store *s, const char *name)
{
    lsn_error err;
    store_peer p = { .name = name };
    if (store_peer_list(s, peer_cb, &p, &err) != LSN_OK)
        p.id = 0;
    return p;
}

static int outbox_cb(void *ctx, uint64_t seq, int64_t item)
{
    uint64_t *last = ctx;
    (void)item;
    *last = seq;
    return STORE_NEXT;
}

static const char *state_of(store *s, const uint8_t rid[16], int64_t *id, int64_t *new_row)
{
    static char st[32];
    lsn_error err;
    store_release *r = NULL;
    snprintf(st, sizeof st, "none");
    if (store_release_get(s, rid, &r, &err) == LSN_OK && r) {
        snprintf(st, sizeof st, "%s", r->state);
        *id = r->id;
        *new_row = r->new_row;
    }
    lsn_free(r);
    return st;
}

/* What every copy shows, as the source did (`tag` names the copy). */
static void same_as_source(store *s, const char *tag)
{
    int v = 0;
    ok(!strcmp(current_body(s, ids.a, &v), "A two") && v == 2,
       "%s_the_adopted_item_is_served_at_version_2", tag);
    ok(!strcmp(versions(s, ids.a), "1:superseded 2:served "),
       "%s_its_first_version_is_kept_hidden (%s)", tag, versions(s, ids.a));
    ok(!strcmp(current_body(s, ids.b, &v), "B two") && v == 2 &&
           !strcmp(versions(s, ids.b), "1:superseded 2:served "),
       "%s_the_narrowed_item_is_served_at_version_2", tag);
    ok(!strcmp(current_body(s, ids.d, &v), "") &&
           !strcmp(versions(s, ids.d), "1:withdrawn "),
       "%s_the_withdrawn_item_stays_withdrawn (%s)", tag, versions(s, ids.d));
    ok(tombstone_kept(s, ids.d), "%s_with_its_signed_tombstone", tag);
    int64_t id = 0, nr = 0, cur_a = 0;
    lsn_error err;
    store_item_ref ref = { 0 };
    if (store_item_find(s, ids.a, &ref, &err) == LSN_OK)
        cur_a = ref.id;
    ok(!strcmp(state_of(s, ids.ra, &id, &nr), "adopted") && nr == cur_a && nr,
       "%s_the_adopted_request_names_the_version_it_made", tag);
    ok(!strcmp(state_of(s, ids.rc, &id, &nr), "open"), "%s_the_open_request_is_open", tag);
    ok(!strcmp(state_of(s, ids.re, &id, &nr), "silence-broken"),
       "%s_the_broken_request_is_broken", tag);
    store_peer j = peer(s, "JPN MOD"), f = peer(s, "FRA MINDEF");
    ok(j.id && j.last_seq == 2 && j.last_acked == 1 && j.state && !strcmp(j.state, "up"),
       "%s_the_peer_sent_to_keeps_its_sequences (last %" PRIu64 ", acked %" PRIu64 ")", tag,
       j.last_seq, j.last_acked);
    ok(f.id && f.received_seq == 7, "%s_the_peer_received_from_keeps_its_sequence", tag);
    store_verify_report vr;
    ok(store_verify(s, &vr, &err) == LSN_OK && vr.ok && vr.items_bad == 0 && vr.missing == 0,
       "%s_every_seal_and_the_chain_verify", tag);
}

/* Then the node goes on on the copy: the open request settles, the peer's
 * next item takes the next sequence. */
static void goes_on(store *s, const char *tag)
{
    int64_t id = 0, nr = 0, row = 0;
    lsn_error err;
    state_of(s, ids.rc, &id, &nr);
    ok(act(s, id, STORE_REL_CONCUR, "carl", T0 + 100, NULL, 0) == STORE_REL_DONE,
       "%s_the_last_authority_concurs_on_the_copy", tag);
    store_item_ref ref = { 0 };
    bool found = store_item_find(s, ids.c, &ref, &err) == LSN_OK && ref.id;
    ok(found && version(s, ids.c, 2, ref.id, id, "C two", T0 + 101, &row) &&
           !strcmp(state_of(s, ids.rc, &id, &nr), "adopted") && nr == row,
       "%s_the_open_request_settles_adopted_on_the_copy", tag);
    store_peer j = peer(s, "JPN MOD");
    uint8_t u[16];
    uint64_t last = 0;
    bool sent = post(s, "G one", T0 + 102, j.id, u, &row) &&
                store_outbox_list(s, j.id, j.last_seq, 0, outbox_cb, &last, &err) == LSN_OK;
    ok(sent && last == j.last_seq + 1,
       "%s_the_peer_next_item_takes_the_next_sequence (%" PRIu64 " after %" PRIu64 ")", tag,
       last, j.last_seq);
}

static bool migrate(store *from, store *to, const char *tag)
{
    store_migrate_report r;
    lsn_error err;
    lsn_err e = store_migrate(from, to, &r, &err);
    ok(e == LSN_OK && r.versions == 2 && r.withdrawn == 1 && r.releases == 3,
       "%s_migrates (%s; %" PRIu64 " versions, %" PRIu64 " withdrawn, %" PRIu64 " requests)",
       tag, e ? err.message : "ok", r.versions, r.withdrawn, r.releases);
    store_migrate_report again;
    e = store_migrate(from, to, &again, &err);
    ok(e == LSN_OK && again.items == 0 && again.releases == 0 && again.audit == 0,
       "%s_a_second_run_copies_nothing_again (%s)", tag, e ? err.message : "ok");
    return true;
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof dir, "/tmp/liaison-migrate-live-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    char a[128], c[128];
    snprintf(a, sizeof a, "sqlite:%s/a.db", dir);
    snprintf(c, sizeof c, "sqlite:%s/c.db", dir);
    char b[1024];
    if (argc > 1)
        snprintf(b, sizeof b, "%s", argv[1]);
    else
        snprintf(b, sizeof b, "sqlite:%s/b.db", dir);
    const char *to = argc > 1 ? "postgresql" : "sqlite";
    store *sa = open_uri(a), *sb = open_uri(b), *sc = open_uri(c);
    if (ok(sa && sb && sc, "stores_open") && ok(seed(sa), "a_store_in_use_is_seeded")) {
        same_as_source(sa, "source");
        char tag[64];
        snprintf(tag, sizeof tag, "sqlite_to_%s", to);
        migrate(sa, sb, tag);
        same_as_source(sb, tag);
        /* and back, from the copy, before it goes on */
        snprintf(tag, sizeof tag, "%s_to_sqlite", to);
        migrate(sb, sc, tag);
        same_as_source(sc, tag);
        goes_on(sb, to);
        goes_on(sc, "sqlite_again");
    }
    if (sa)
        store_close(sa);
    if (sb)
        store_close(sb);
    if (sc)
        store_close(sc);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
