/* tests/node/test_fed_transport.c — the federation transport between real
 * nodes on 127.0.0.1 (issue 10): HQ (NATO) and TOKYO (JPN), each with its
 * federation listener on a random port, each the other's peer; SEOUL
 * (KOR), TOKYO's peer, which HQ reaches through TOKYO (--via); SHAPE
 * (NATO), a peer registered at TOKYO only, whose batches the test makes
 * itself (signed with `liaison binding sign`) to tamper with them; ROGUE,
 * a node no one registered directly (TOKYO knows it through SHAPE).
 *
 * Usage: test_fed_transport LIAISON_EXE SOURCE_ROOT
 * (LIAISON_TEST_STORE="postgresql://liaison@/{node}?host=...": each node
 * on a PostgreSQL database of its own, named for its directory — hq,
 * tokyo, seoul; meson's federation_transport_pg.) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "../tap.h"
#include "fed_util.h"

#define REL_JPN                                                                            \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}"
#define REL_JPN_KOR                                                                        \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"                       \
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\",\"KOR\"]}]}"
#define NATO_ONLY                                                                          \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}"

static const char *exe, *root;
static char dir[256], A[300], B[300], C[300], D[300], E[300], F[300];
static int pa, pb, pe;

/* Wait (at most 90 s) until a search for word at t finds `want` items. */
static int wait_count(const test_node *t, const char *token, const char *word, int want)
{
    int n = -1;
    for (int i = 0; i < 900; i++) {
        n = fu_count(t, token, word);
        if (n >= want)
            break;
        usleep(100000);
    }
    return n;
}

/* How many audit records of `action` with `outcome` name `needle` (in
 * their detail or object), read with `liaison audit show` from data
 * directory d. */
static int audit_count(const char *d, const char *action, const char *needle)
{
    char cmd[2400], store[1100], flag[1200] = "";
    if (tn_store_of(d, store, sizeof store))
        snprintf(flag, sizeof flag, " --store '%s'", store);
    snprintf(cmd, sizeof cmd,
             "'%s' audit show --data-dir '%s'%s --action '%s' | grep -c -- '%s'", exe, d, flag,
             action, needle);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

/* A live stream of `channel` at t for token (a socket), from now on. */
static int stream_open(const test_node *t, const char *token, const char *channel)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/stream?channel=%s HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
                     channel, token);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read from fd into acc for timeout_ms, or until `want` appears (NULL:
 * read the whole time). */
static bool stream_until(int fd, char *acc, size_t cap, const char *want, int timeout_ms)
{
    size_t len = strlen(acc);
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if (want && strstr(acc, want))
            return true;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(fd, acc + len, cap - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        acc[len] = '\0';
    }
    return want && strstr(acc, want) != NULL;
}

static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* A binding signed by the node of data directory `signer` for body, with
 * the label of the vector file `vector` (NULL: NR REL JPN). */
static char *signed_by(const char *signer, const char *vector, const char *body,
                       char uuid[37])
{
    uint8_t u[16];
    randombytes_buf(u, sizeof u);
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    snprintf(uuid, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
    char bodyf[400], out[400], label[600], cmd[2000];
    snprintf(bodyf, sizeof bodyf, "%s/body.txt", dir);
    snprintf(out, sizeof out, "%s/binding.xml", dir);
    snprintf(label, sizeof label, "%s/tests/vectors/liaison/%s", root,
             vector ? vector : "nr-rel-jpn.nato");
    FILE *f = fopen(bodyf, "w");
    if (!f)
        return NULL;
    fputs(body, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "'%s' binding sign --data-dir '%s' --label '%s' --content '%s' --uuid %s "
             "--channel cyber-defence > '%s'",
             exe, signer, label, bodyf, uuid, out);
    if (system(cmd) != 0)
        return NULL;
    f = fopen(out, "rb");
    static char xml[65536];
    size_t n = f ? fread(xml, 1, sizeof xml, f) : 0;
    if (f)
        fclose(f);
    if (!n)
        return NULL;
    return strndup(xml, n);
}

static char *signed_binding(const char *body, char uuid[37])
{
    return signed_by(C, NULL, body, uuid);
}

static char *b64(const char *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *t = malloc(cap);
    sodium_bin2base64(t, cap, (const unsigned char *)p, n, sodium_base64_VARIANT_ORIGINAL);
    return t;
}

/* A batch item from SHAPE: seq, the binding (tampered at byte `flip`
 * when flip >= 0; signed in cyber-defence), the body, stated in `channel`. */
static json_t *item_by_in(const char *signer, const char *vector, unsigned seq,
                          const char *body, long flip, const char *channel)
{
    char uuid[37];
    char *xml = signed_by(signer, vector, body, uuid);
    if (!xml)
        return NULL;
    size_t n = strlen(xml);
    if (flip >= 0 && (size_t)flip < n)
        xml[flip] ^= 0x01;
    char *t = b64(xml, n);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)seq, "channel", channel,
                          "binding", t, "body", body);
    free(t);
    free(xml);
    return j;
}

/* The same, stated in the channel it was signed in. */
static json_t *item_by(const char *signer, const char *vector, unsigned seq, const char *body,
                       long flip)
{
    return item_by_in(signer, vector, seq, body, flip, "cyber-defence");
}

static json_t *shape_item(unsigned seq, const char *body, long flip)
{
    return item_by(C, NULL, seq, body, flip);
}

/* The byte offset of the label's classification in a binding (where a
 * flipped byte alters the signed label). */
static long label_offset(void)
{
    char uuid[37];
    char *xml = signed_binding("probe", uuid);
    const char *p = xml ? strstr(xml, "RESTRICTED") : NULL;
    long off = p ? (long)(p - xml) + 2 : -1;
    free(xml);
    return off;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIAISON_EXE SOURCE_ROOT\n", argv[0]);
        return 2;
    }
    exe = argv[1];
    root = argv[2];
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    snprintf(dir, sizeof dir, "/tmp/lsn-fedx-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/tokyo", dir);
    snprintf(C, sizeof C, "%s/shape", dir);
    snprintf(D, sizeof D, "%s/rogue", dir);
    snprintf(E, sizeof E, "%s/seoul", dir);
    snprintf(F, sizeof F, "%s/stranger", dir);
    pa = fu_free_port();
    pb = fu_free_port();
    while (pb == pa)
        pb = fu_free_port();
    pe = fu_free_port();
    while (pe == pa || pe == pb)
        pe = fu_free_port();

    ok(fu_node_init(exe, A, "HQ", "NATO") && fu_node_init(exe, B, "TOKYO", "JPN") &&
           fu_node_init(exe, C, "SHAPE", "NATO") && fu_node_init(exe, D, "ROGUE", "NATO") &&
           fu_node_init(exe, E, "SEOUL", "KOR") && fu_node_init(exe, F, "STRANGER", "NATO"),
       "six node identities made");
    ok(fu_peer_add(exe, A, "TOKYO", "JPN", B, pb) && fu_peer_add(exe, B, "HQ", "NATO", A, pa) &&
           fu_peer_add(exe, B, "SHAPE", "NATO", C, fu_free_port()),
       "HQ and TOKYO each the other's peer; SHAPE a peer of TOKYO");
    ok(fu_peer_add(exe, B, "SEOUL", "KOR", E, pe) && fu_peer_add(exe, E, "TOKYO", "JPN", B, pb) &&
           fu_peer_add_via(exe, A, "SEOUL", "KOR", E, pe, "TOKYO") &&
           fu_peer_add_via(exe, E, "HQ", "NATO", A, pa, "TOKYO") &&
           fu_peer_add_full(exe, B, "ROGUE", "NATO", D, fu_free_port(), "SHAPE", "UNCLASSIFIED"),
       "SEOUL a peer of TOKYO, and of HQ through TOKYO; ROGUE known to TOKYO through SHAPE, "
       "agreed up to UNCLASSIFIED");

    test_node a, b, e;
    if (!ok(fu_start(&a, exe, A, pa) && fu_start(&b, exe, B, pb) && fu_start(&e, exe, E, pe),
            "the three nodes start")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    char *poster = tn_token(&a, "ingrid.halvorsen"), *reader = tn_token(&b, "kenji.watanabe"),
         *admin = tn_token(&a, "marco.bellini");

    /* An item releasable to JPN arrives at TOKYO, once, with its origin. */
    char id[37] = "";
    ok(fu_post(&a, poster, "cyber-defence", REL_JPN, "fedxalpha briefing", id),
       "HQ accepts an item released to JPN");
    ok(wait_count(&b, reader, "fedxalpha", 1) == 1,
       "an_item_released_to_jpn_arrives_at_tokyo_once");
    char path[128];
    snprintf(path, sizeof path, "/api/v1/items/%s", id);
    long st = 0;
    json_t *it = tn_get_json(&b, path, reader, &st);
    json_t *origin = json_object_get(it, "origin");
    ok(st == 200 && json_is_string(json_object_get(origin, "node")) &&
           strcmp(json_string_value(json_object_get(origin, "node")), "HQ") == 0 &&
           json_is_string(json_object_get(origin, "nation")) &&
           strcmp(json_string_value(json_object_get(origin, "nation")), "NATO") == 0,
       "its_reader_at_tokyo_sees_it_under_the_same_id_with_origin_hq_nato");
    json_decref(it);

    /* One not releasable to JPN never leaves HQ, and the withholding is in
     * HQ's audit. */
    ok(fu_post(&a, poster, "cyber-defence", NATO_ONLY, "fedxbravo internal", id),
       "HQ accepts a NATO-only item");
    ok(fu_post(&a, poster, "cyber-defence", REL_JPN, "fedxcharlie after", id),
       "and a releasable one after it");
    ok(wait_count(&b, reader, "fedxcharlie", 1) == 1, "the releasable one behind arrives");
    json_t *peers = tn_get_json(&a, "/api/v1/peers", admin, &st);
    json_t *p0 = json_array_get(json_object_get(peers, "peers"), 0);
    ok(st == 200 && json_integer_value(json_object_get(p0, "waiting")) == 0 &&
           strcmp(json_string_value(json_object_get(p0, "state")), "up") == 0 &&
           json_is_string(json_object_get(p0, "lastContact")),
       "hq_shows_tokyo_up_with_nothing_waiting");
    json_decref(peers);
    ok(fu_count(&b, reader, "fedxbravo") == 0, "a_nato_only_item_never_reaches_tokyo");
    ok(audit_count(A, "post", "withheld from TOKYO") >= 1,
       "hq_audits_the_withholding_in_the_post_record");
    ok(audit_count(A, "fed.send", "acknowledged") >= 1, "hq_audits_what_tokyo_acknowledged");

    /* TOKYO down, items posted meanwhile, TOKYO up: nothing lost. */
    tn_stop(&b, SIGTERM);
    for (int i = 0; i < 3; i++)
        ok(fu_post(&a, poster, "maritime-security", REL_JPN, "fedxdown while away", id),
           "HQ accepts item %d while TOKYO is down", i + 1);
    bool down = false;
    for (int i = 0; i < 300 && !down; i++) {
        peers = tn_get_json(&a, "/api/v1/peers", admin, &st);
        json_t *pl = json_object_get(peers, "peers");
        for (size_t k = 0; k < json_array_size(pl); k++) {
            json_t *pk = json_array_get(pl, k);
            if (strcmp(json_string_value(json_object_get(pk, "name")), "TOKYO") == 0)
                down = strcmp(json_string_value(json_object_get(pk, "state")), "down") == 0 &&
                       json_is_string(json_object_get(pk, "lastError")) &&
                       json_integer_value(json_object_get(pk, "waiting")) >= 3;
        }
        json_decref(peers);
        if (!down)
            usleep(100000);
    }
    ok(down, "hq_shows_tokyo_down_with_its_error_and_three_items_waiting");
    if (!ok(fu_start(&b, exe, B, pb), "TOKYO starts again")) {
        tn_stop(&a, SIGKILL);
        tn_stop(&e, SIGKILL);
        printf("1..%d\n", tap_n);
        return 1;
    }
    ok(wait_count(&b, reader, "fedxdown", 3) == 3, "items_posted_while_tokyo_was_down_arrive_once");

    /* TOKYO's stream delivers a received item once, after its commit. */
    static char acc[1 << 16];
    acc[0] = '\0';
    int sfd = stream_open(&b, reader, "space");
    bool opened = sfd >= 0 && stream_until(sfd, acc, sizeof acc, "\r\n\r\n", 20000);
    ok(fu_post(&a, poster, "space", REL_JPN, "fedxstreamone", id) &&
           fu_post(&a, poster, "space", REL_JPN, "fedxstreamtwo", id),
       "HQ accepts two items for TOKYO's stream");
    bool both = opened && stream_until(sfd, acc, sizeof acc, "fedxstreamtwo", 60000) &&
                strstr(acc, "fedxstreamone");
    (void)stream_until(sfd, acc, sizeof acc, NULL, 2000); /* anything more? */
    ok(both && occurrences(acc, "fedxstreamone") == 1 && occurrences(acc, "fedxstreamtwo") == 1,
       "tokyos_stream_delivers_each_received_item_once");
    if (sfd >= 0)
        close(sfd);

    /* An unknown certificate, or none, is refused; a known peer's batch
     * for another destination too. */
    http_result r;
    fu_put(pb, B, F, "1-1", "{\"destination\":\"TOKYO\",\"items\":[]}", &r);
    ok(r.status != 200 && (r.status == 0 || r.status == 403), "an_unknown_certificate_is_refused (%ld)",
       r.status);
    free(r.body);
    fu_put(pb, B, NULL, "1-1", "{\"destination\":\"TOKYO\",\"items\":[]}", &r);
    ok(r.status == 403 || r.status == 0, "no_certificate_is_refused (%ld)", r.status);
    free(r.body);
    fu_put(pa, A, C, "1-1", "{\"destination\":\"HQ\",\"items\":[]}", &r);
    ok(r.status == 403 || r.status == 0,
       "a_node_registered_elsewhere_but_not_here_is_refused (%ld)", r.status);
    free(r.body);
    fu_put(pb, B, C, "0-0", "{\"destination\":\"HQ\",\"items\":[]}", &r);
    ok(r.status == 421, "a_batch_for_another_destination_is_refused (%ld)", r.status);
    free(r.body);

    /* SHAPE's batch: a flipped byte in the signed label, then a good item:
     * the first is refused and audited, the second stored. */
    long off = label_offset();
    json_t *items = json_array();
    json_array_append_new(items, shape_item(1, "fedxtampered label", off));
    json_array_append_new(items, shape_item(2, "fedxgood behind", -1));
    json_t *batch = json_pack("{s:s, s:o}", "destination", "TOKYO", "items", items);
    char *text = json_dumps(batch, JSON_COMPACT);
    fu_put(pb, B, C, "1-2", text, &r);
    json_t *ans = json_loads(r.body ? r.body : "", 0, NULL);
    ok(r.status == 200 && json_integer_value(json_object_get(ans, "acked")) == 2 &&
           json_integer_value(json_object_get(ans, "refused")) == 1 &&
           json_integer_value(json_object_get(ans, "stored")) == 1,
       "a_tampered_binding_is_refused_and_the_next_item_stored (%ld)", r.status);
    json_decref(ans);
    free(r.body);
    ok(fu_count(&b, reader, "fedxgood") == 1 && fu_count(&b, reader, "fedxtampered") == 0,
       "the_good_item_is_visible_and_the_tampered_one_is_not");
    ok(audit_count(B, "fed.receive", "refused") >= 1, "tokyo_audits_the_refusal");
    /* The same batch again: both sequences are durable, nothing twice. */
    fu_put(pb, B, C, "1-2", text, &r);
    ans = json_loads(r.body ? r.body : "", 0, NULL);
    ok(r.status == 200 && json_integer_value(json_object_get(ans, "acked")) == 2 &&
           json_integer_value(json_object_get(ans, "stored")) == 0,
       "a_replayed_batch_stores_nothing_twice");
    json_decref(ans);
    free(r.body);
    free(text);
    json_decref(batch);
    ok(fu_count(&b, reader, "fedxgood") == 1, "the_good_item_is_still_there_once");
    /* A gap: sequence 5 when 3 is expected. */
    items = json_array();
    json_array_append_new(items, shape_item(5, "fedxgap ahead", -1));
    batch = json_pack("{s:s, s:o}", "destination", "TOKYO", "items", items);
    text = json_dumps(batch, JSON_COMPACT);
    fu_put(pb, B, C, "5-5", text, &r);
    ans = json_loads(r.body ? r.body : "", 0, NULL);
    ok(r.status == 409 && json_integer_value(json_object_get(ans, "expected")) == 3 &&
           json_integer_value(json_object_get(ans, "acked")) == 2,
       "a_gap_is_answered_with_the_sequence_expected");
    json_decref(ans);
    free(r.body);
    free(text);
    json_decref(batch);
    ok(fu_count(&b, reader, "fedxgap") == 0, "nothing_after_a_gap_is_stored");

    /* Relay: an item released to JPN and KOR, posted at HQ, reaches SEOUL
     * through TOKYO — the same signed bytes, verified at SEOUL against
     * HQ's certificate. */
    char *kreader = tn_token(&e, "min-jun.park");
    ok(fu_post(&a, poster, "cyber-defence", REL_JPN_KOR, "fedxrelayed to seoul", id),
       "HQ accepts an item released to JPN and KOR");
    ok(wait_count(&e, kreader, "fedxrelayed", 1) == 1,
       "an_item_relayed_by_tokyo_arrives_at_seoul_once");
    snprintf(path, sizeof path, "/api/v1/items/%s", id);
    it = tn_get_json(&e, path, kreader, &st);
    origin = json_object_get(it, "origin");
    ok(st == 200 && json_is_string(json_object_get(origin, "node")) &&
           strcmp(json_string_value(json_object_get(origin, "node")), "HQ") == 0 &&
           strcmp(json_string_value(json_object_get(it, "author")), "peer:TOKYO") == 0,
       "at_seoul_its_origin_is_hq_and_it_came_from_tokyo");
    json_decref(it);
    ok(wait_count(&e, kreader, "fedxalpha", 1) == 0, "an_item_not_releasable_to_kor_is_not_relayed");
    char *bxml = NULL, *exml = NULL;
    {
        http_result h1, h2;
        snprintf(path, sizeof path, "/api/v1/items/%s/binding", id);
        if (tn_http(&b, "GET", path, reader, NULL, 0, &h1))
            bxml = h1.body;
        if (tn_http(&e, "GET", path, kreader, NULL, 0, &h2))
            exml = h2.body;
    }
    ok(bxml && exml && strcmp(bxml, exml) == 0, "the_relay_forwards_the_same_signed_bytes");
    free(bxml);
    free(exml);
    bool drained = false;
    for (int i = 0; i < 300 && !drained; i++) {
        peers = tn_get_json(&a, "/api/v1/peers", admin, &st);
        json_t *pl = json_object_get(peers, "peers");
        for (size_t k = 0; k < json_array_size(pl); k++) {
            json_t *pk = json_array_get(pl, k);
            if (strcmp(json_string_value(json_object_get(pk, "name")), "SEOUL") == 0)
                drained = json_integer_value(json_object_get(pk, "waiting")) == 0;
        }
        json_decref(peers);
        if (!drained)
            usleep(100000);
    }
    ok(drained, "hq_counts_what_it_handed_to_the_relay_for_seoul");
    /* A relay that alters a byte is caught at the destination: SHAPE
     * forwards ROGUE's items to TOKYO, one altered; and one validly signed
     * but above what TOKYO agreed with ROGUE (RESTRICTED, agreed up to
     * UNCLASSIFIED), though within what it agreed with SHAPE. */
    items = json_array();
    json_array_append_new(items, item_by(D, NULL, 3, "fedxrelaytampered one", off));
    json_array_append_new(items, item_by(D, "nu-rel-che-jpn-ukr.nato", 4, "fedxrelaygood two", -1));
    json_array_append_new(items, item_by(D, NULL, 5, "fedxrelayabove three", -1));
    batch = json_pack("{s:s, s:o}", "destination", "TOKYO", "items", items);
    text = json_dumps(batch, JSON_COMPACT);
    fu_put(pb, B, C, "3-5", text, &r);
    ans = json_loads(r.body ? r.body : "", 0, NULL);
    ok(r.status == 200 && json_integer_value(json_object_get(ans, "refused")) == 2 &&
           json_integer_value(json_object_get(ans, "stored")) == 1,
       "a_byte_altered_by_a_relay_is_refused_at_the_destination (%ld)", r.status);
    ok(fu_count(&b, reader, "fedxrelayabove") == 0,
       "a_relayed_item_above_its_origins_agreed_classification_is_refused");
    json_decref(ans);
    free(r.body);
    free(text);
    json_decref(batch);
    ok(fu_count(&b, reader, "fedxrelaygood") == 1 && fu_count(&b, reader, "fedxrelaytampered") == 0,
       "the_relayed_good_item_is_stored_and_the_altered_one_is_not");
    /* A relay that re-files an item is caught at the destination: SHAPE
     * forwards ROGUE's bytes (signed in cyber-defence) stating another
     * channel; the honest item behind it arrives. */
    items = json_array();
    json_array_append_new(items, item_by_in(D, "nu-rel-che-jpn-ukr.nato", 6,
                                            "fedxrelayrefiled six", -1, "maritime-security"));
    json_array_append_new(items, item_by(D, "nu-rel-che-jpn-ukr.nato", 7, "fedxrelayhonest seven",
                                         -1));
    batch = json_pack("{s:s, s:o}", "destination", "TOKYO", "items", items);
    text = json_dumps(batch, JSON_COMPACT);
    fu_put(pb, B, C, "6-7", text, &r);
    ans = json_loads(r.body ? r.body : "", 0, NULL);
    ok(r.status == 200 && json_integer_value(json_object_get(ans, "refused")) == 1 &&
           json_integer_value(json_object_get(ans, "stored")) == 1,
       "an_item_refiled_by_a_relay_is_refused_at_the_destination (%ld)", r.status);
    json_decref(ans);
    free(r.body);
    free(text);
    json_decref(batch);
    ok(fu_count(&b, reader, "fedxrelayrefiled") == 0 &&
           fu_count(&b, reader, "fedxrelayhonest") == 1,
       "the_refiled_item_is_not_stored_and_the_honest_one_behind_it_is");
    free(kreader);

    tn_stop(&a, SIGTERM);
    tn_stop(&b, SIGTERM);
    tn_stop(&e, SIGTERM);
    ok(fu_verify(exe, E) == 0, "seouls_audit_chain_verifies");
    ok(fu_verify(exe, A) == 0 && fu_verify(exe, B) == 0, "both_audit_chains_verify");
    ok(tn_openapi_conforms(&a) && tn_openapi_conforms(&b), "the API exchanges match the spec");

    free(poster);
    free(reader);
    free(admin);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (tap_failed == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    curl_global_cleanup();
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
