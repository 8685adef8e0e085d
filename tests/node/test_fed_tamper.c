/* tests/node/test_fed_tamper.c — tampering between two nodes (issue 10,
 * "Proof"): genuine signed bindings taken from a real origin node, altered,
 * and sent to a real receiver over the federation link's mutual TLS.
 *
 * HQ (NATO) is a real node: items are posted there and their bindings read
 * back (GET /api/v1/items/{id}/binding), the bytes HQ signed. TOKYO (JPN)
 * has HQ registered as its peer. The test plays HQ's sender itself: it
 * holds HQ's certificate and key (made by `liaison node init`) and sends
 * PUT /fed/v1/send/{txn} batches to TOKYO with them, each a tampered item
 * followed by a genuine one: a byte of the body altered, a byte of the
 * signature value, a label swapped between two items, the signed element
 * wrapped (moved under ds:Object, a forged one in its place), an item
 * re-filed into another channel than the one HQ signed, one for a channel
 * TOKYO does not have, then old batches replayed. Each tampered item is
 * refused and audited at TOKYO (`liaison audit show`), and the genuine item
 * behind it arrives.
 *
 * Usage: test_fed_tamper LIAISON_EXE */
#include <signal.h>
#include <stdio.h>
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
#define NATO_ONLY                                                                          \
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["              \
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}"

static const char *exe;
static char A[300], B[300];
static int pb;
static test_node a, b;
static char *poster, *reader;

/* How many `fed.receive` records at TOKYO are refusals naming `needle`
 * (`liaison audit show`, read while the node runs). */
static int refusals(const char *needle)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "'%s' audit show --data-dir '%s' --action fed.receive | grep refused | "
             "grep -c -- '%s'",
             exe, B, needle);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

/* An item posted at HQ: its body and the binding HQ signed for it. */
typedef struct item {
    char body[128];
    char id[37];
    char *xml;
} item;

static bool hq_item(item *it, const char *label, const char *body)
{
    snprintf(it->body, sizeof it->body, "%s", body);
    it->xml = NULL;
    if (!fu_post(&a, poster, "cyber-defence", label, body, it->id))
        return false;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/items/%s/binding", it->id);
    http_result r;
    if (!tn_http(&a, "GET", path, poster, NULL, 0, &r))
        return false;
    if (r.status == 200 && r.body && strstr(r.body, "SignatureValue"))
        it->xml = r.body;
    else
        free(r.body);
    return it->xml != NULL;
}

/* A batch item: seq, the channel it states, the binding bytes (base64,
 * verbatim), the body. */
static json_t *entry_in(unsigned seq, const char *channel, const char *xml, const char *body)
{
    size_t n = strlen(xml);
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *t = malloc(cap);
    sodium_bin2base64(t, cap, (const unsigned char *)xml, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)seq, "channel", channel,
                          "binding", t, "body", body);
    free(t);
    return j;
}

/* The same in the channel the item was posted in at HQ. */
static json_t *entry(unsigned seq, const char *xml, const char *body)
{
    return entry_in(seq, "cyber-defence", xml, body);
}

/* Whether TOKYO lists an item whose body holds `word` in `channel`. */
static bool listed_in(const char *channel, const char *word)
{
    char path[200];
    snprintf(path, sizeof path, "/api/v1/channels/%s/items", channel);
    http_result r;
    bool found = tn_http(&b, "GET", path, reader, NULL, 0, &r) && r.status == 200 && r.body &&
                 strstr(r.body, word);
    free(r.body);
    return found;
}

/* Send [bad, good] as HQ: the answer's stored, refused, duplicates and
 * acked into out[4] (-1 each when the status is not 200). */
static long send_batch(const char *txn, json_t *items, long out[4])
{
    json_t *batch = json_pack("{s:s, s:o}", "destination", "TOKYO", "items", items);
    char *text = json_dumps(batch, JSON_COMPACT);
    json_decref(batch);
    http_result r;
    fu_put(pb, B, A, txn, text, &r);
    free(text);
    json_t *ans = r.status == 200 ? json_loads(r.body ? r.body : "", 0, NULL) : NULL;
    const char *k[4] = {"stored", "refused", "duplicates", "acked"};
    for (int i = 0; i < 4; i++)
        out[i] = ans ? (long)json_integer_value(json_object_get(ans, k[i])) : -1;
    json_decref(ans);
    free(r.body);
    return r.status;
}

/* s with the first occurrence of `from` (a span [from, from + from_len))
 * replaced by `to`: a new string. */
static char *splice(const char *s, const char *from, size_t from_len, const char *to,
                    size_t to_len)
{
    size_t pre = (size_t)(from - s), n = strlen(s);
    char *o = malloc(n - from_len + to_len + 1);
    memcpy(o, s, pre);
    memcpy(o + pre, to, to_len);
    memcpy(o + pre + to_len, from + from_len, n - pre - from_len + 1);
    return o;
}

/* The span of element `open` ... `close` (inclusive) in s. */
static const char *span(const char *s, const char *open, const char *close, size_t *len)
{
    const char *p = strstr(s, open), *q = p ? strstr(p, close) : NULL;
    if (!q)
        return NULL;
    *len = (size_t)(q + strlen(close) - p);
    return p;
}

/* x's binding with y's signed label element in place of its own. */
static char *swap_label(const char *x, const char *y)
{
    size_t lx, ly;
    const char *px = span(x, "<originatorConfidentialityLabel", "</originatorConfidentialityLabel>",
                          &lx);
    const char *py = span(y, "<originatorConfidentialityLabel", "</originatorConfidentialityLabel>",
                          &ly);
    return px && py ? splice(x, px, lx, py, ly) : NULL;
}

/* Signature wrapping: x's signed mb:MetadataBinding moved under the
 * signature's ds:Object (where its Id still resolves), and a forged copy
 * carrying y's label put in its place, under the same Id. */
static char *wrap(const char *x, const char *y)
{
    size_t lm;
    const char *pm = span(x, "<mb:MetadataBinding ", "</mb:MetadataBinding>", &lm);
    char *forged_doc = swap_label(x, y);
    size_t lf;
    const char *pf = forged_doc ? span(forged_doc, "<mb:MetadataBinding ",
                                       "</mb:MetadataBinding>", &lf)
                                : NULL;
    if (!pm || !pf) {
        free(forged_doc);
        return NULL;
    }
    /* The original element into ds:Object, before the properties. */
    const char *obj = strstr(forged_doc, "<ds:Object>");
    char *moved = NULL;
    if (obj) {
        size_t at = (size_t)(obj - forged_doc) + strlen("<ds:Object>");
        char *orig = strndup(pm, lm);
        moved = splice(forged_doc, forged_doc + at, 0, orig, lm);
        free(orig);
    }
    free(forged_doc);
    return moved;
}

/* One byte of the signature value changed (to another base64 letter, so
 * that it still decodes). */
static char *flip_signature(const char *x)
{
    const char *p = strstr(x, "<ds:SignatureValue>");
    if (!p)
        return NULL;
    char *o = strdup(x);
    char *c = o + (p - x) + strlen("<ds:SignatureValue>") + 10;
    *c = *c == 'A' ? 'B' : 'A';
    return o;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIAISON_EXE\n", argv[0]);
        return 2;
    }
    exe = argv[1];
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    char dir[] = "/tmp/lsn-fedtp-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    snprintf(A, sizeof A, "%s/hq", dir);
    snprintf(B, sizeof B, "%s/tokyo", dir);
    pb = fu_free_port();

    ok(fu_node_init(exe, A, "HQ", "NATO") && fu_node_init(exe, B, "TOKYO", "JPN"),
       "two node identities made");
    /* HQ is TOKYO's peer; HQ has no peer of its own, so nothing but this
     * test sends to TOKYO in HQ's name. */
    ok(fu_peer_add(exe, B, "HQ", "NATO", A, fu_free_port()), "HQ registered at TOKYO");
    if (!ok(tn_start(&a, exe, A, NULL) && fu_start(&b, exe, B, pb), "the two nodes start")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    poster = tn_token(&a, "ingrid.halvorsen");
    reader = tn_token(&b, "kenji.watanabe");

    item g[8], x, y, f;
    bool made = hq_item(&x, NATO_ONLY, "tampsecret natoonly") &&
                hq_item(&y, REL_JPN, "tampyankee released") &&
                hq_item(&f, REL_JPN, "tampfiled cyberitem");
    for (int i = 0; i < 8; i++) {
        char body[64];
        snprintf(body, sizeof body, "tampgood%d genuine", i);
        made = made && hq_item(&g[i], REL_JPN, body);
    }
    if (!ok(made, "HQ signed eleven items, their bindings read back from its API")) {
        printf("1..%d\n", tap_n);
        return 1;
    }
    long o[4];
    int before = refusals("");

    /* 1. One byte of the body altered: the signed digest no longer matches. */
    char altered[128];
    snprintf(altered, sizeof altered, "%s", g[0].body);
    altered[strlen(altered) - 1] ^= 0x01;
    json_t *items = json_array();
    json_array_append_new(items, entry(1, g[0].xml, altered));
    json_array_append_new(items, entry(2, g[1].xml, g[1].body));
    json_t *first = json_deep_copy(items);
    long st = send_batch("1-2", items, o);
    ok(st == 200 && o[0] == 1 && o[1] == 1 && o[3] == 2,
       "a_byte_of_the_body_altered_is_refused_and_the_next_stored (%ld)", st);
    ok(refusals("content does not match") == 1, "the_altered_body_is_audited_at_tokyo");
    ok(fu_count(&b, reader, "tampgood0") == 0 && fu_count(&b, reader, "tampgood1") == 1,
       "the_genuine_item_behind_the_altered_body_arrives");

    /* 2. One byte of the signature value altered. */
    char *t = flip_signature(g[2].xml);
    items = json_array();
    json_array_append_new(items, entry(3, t, g[2].body));
    json_array_append_new(items, entry(4, g[3].xml, g[3].body));
    free(t);
    st = send_batch("3-4", items, o);
    ok(st == 200 && o[0] == 1 && o[1] == 1 && o[3] == 4,
       "a_byte_of_the_signature_altered_is_refused_and_the_next_stored (%ld)", st);
    ok(refusals("") == before + 2 && refusals("signature does not verify") == 1,
       "the_altered_signature_is_audited_at_tokyo");
    ok(fu_count(&b, reader, "tampgood2") == 0 && fu_count(&b, reader, "tampgood3") == 1,
       "the_genuine_item_behind_the_altered_signature_arrives");

    /* 3. A label swapped: the NATO-only item's binding carrying the
     * released item's label element, with its own body. */
    t = swap_label(x.xml, y.xml);
    items = json_array();
    json_array_append_new(items, entry(5, t ? t : "", x.body));
    json_array_append_new(items, entry(6, g[4].xml, g[4].body));
    free(t);
    st = send_batch("5-6", items, o);
    ok(st == 200 && o[0] == 1 && o[1] == 1 && o[3] == 6,
       "a_label_swapped_between_two_items_is_refused_and_the_next_stored (%ld)", st);
    ok(refusals("") == before + 3, "the_swapped_label_is_audited_at_tokyo");
    ok(fu_count(&b, reader, "tampsecret") == 0 && fu_count(&b, reader, "tampgood4") == 1,
       "the_nato_only_item_stays_out_and_the_genuine_one_arrives");

    /* 4. Signature wrapping: the signed element moved under ds:Object, a
     * forged one carrying the released label in its place. */
    t = wrap(x.xml, y.xml);
    items = json_array();
    json_array_append_new(items, entry(7, t ? t : "", x.body));
    json_array_append_new(items, entry(8, g[5].xml, g[5].body));
    free(t);
    st = send_batch("7-8", items, o);
    ok(st == 200 && o[0] == 1 && o[1] == 1 && o[3] == 8,
       "a_wrapped_signed_element_is_refused_and_the_next_stored (%ld)", st);
    ok(refusals("") == before + 4 && refusals("Object is not one SignatureProperties") == 1,
       "the_wrapping_is_audited_at_tokyo_refused_by_the_shape_check");
    ok(fu_count(&b, reader, "tampsecret") == 0 && fu_count(&b, reader, "tampgood5") == 1,
       "the_wrapped_item_stays_out_and_the_genuine_one_arrives");

    /* 5. Replays. The first batch again, verbatim: its sequences are
     * durable, nothing is taken twice (an honest sender's retry looks the
     * same, so this is skipped, not audited as a refusal). */
    st = send_batch("1-2", first, o);
    ok(st == 200 && o[0] == 0 && o[1] == 0 && o[3] == 8,
       "an_old_batch_replayed_verbatim_stores_nothing (%ld)", st);
    /* Its genuine item under new sequences, before a new genuine one: a
     * duplicate by (origin, UUID), not stored twice; the new one is. */
    items = json_array();
    json_array_append_new(items, entry(9, g[1].xml, g[1].body));
    json_array_append_new(items, entry(10, g[6].xml, g[6].body));
    st = send_batch("9-10", items, o);
    ok(st == 200 && o[0] == 1 && o[2] == 1 && o[3] == 10,
       "an_old_item_replayed_under_a_new_sequence_is_a_duplicate_not_stored (%ld)", st);
    ok(fu_count(&b, reader, "tampgood1") == 1 && fu_count(&b, reader, "tampgood6") == 1,
       "the_replayed_item_is_there_once_and_the_genuine_one_arrives");
    /* The altered body's item replayed with its own bytes under a UUID
     * TOKYO now holds with other bytes: another claim on it, refused. */
    t = flip_signature(g[1].xml);
    items = json_array();
    json_array_append_new(items, entry(11, t, g[1].body));
    json_array_append_new(items, entry(12, g[7].xml, g[7].body));
    free(t);
    st = send_batch("11-12", items, o);
    ok(st == 200 && o[0] == 1 && o[1] == 1 && o[3] == 12,
       "a_held_item_replayed_with_an_altered_signature_is_refused (%ld)", st);
    ok(refusals("") == before + 5 && fu_count(&b, reader, "tampgood7") == 1,
       "that_refusal_is_audited_and_the_genuine_one_arrives");
    ok(fu_count(&b, reader, "tampyankee") == 0, "no_item_was_ever_stored_under_a_forged_label");

    /* 6. Re-filed: HQ's genuine bytes, stated in another channel than the
     * one HQ posted (and signed) it in; then the same item as HQ sent it.
     * The channel is part of what the origin signed: the re-filed entry is
     * refused and audited once, and the genuine one arrives in its own
     * channel. */
    items = json_array();
    json_array_append_new(items, entry_in(13, "maritime-security", f.xml, f.body));
    json_array_append_new(items, entry(14, f.xml, f.body));
    st = send_batch("13-14", items, o);
    ok(st == 200 && o[0] == 1 && o[1] == 1 && o[3] == 14,
       "an_item_refiled_into_another_channel_is_refused_and_the_genuine_one_stored "
       "(%ld: stored %ld refused %ld)", st, o[0], o[1]);
    ok(refusals("") == before + 6 && refusals("is not the signed channel") == 1,
       "the_refiling_is_audited_at_tokyo_exactly_once");
    ok(listed_in("cyber-defence", "tampfiled") && !listed_in("maritime-security", "tampfiled"),
       "the_item_is_filed_in_the_channel_its_origin_signed");

    /* 7. An item HQ signed in a channel TOKYO does not have: refused and
     * audited like any refusal (a reader's unknown channel is not an act
     * to audit; a peer's item is), the item behind it stored. */
    http_result cr;
    char *admin = tn_token(&a, "marco.bellini");
    const char *chan_json = "{\"name\":\"hq-only\",\"purpose\":\"HQ's own\"}";
    bool chan = admin &&
                tn_http(&a, "POST", "/api/v1/channels", admin, chan_json, strlen(chan_json),
                        &cr) &&
                cr.status == 201;
    free(cr.body);
    free(admin);
    item h;
    h.xml = NULL;
    snprintf(h.body, sizeof h.body, "tamphqonly item");
    if (chan && fu_post(&a, poster, "hq-only", REL_JPN, h.body, h.id)) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/items/%s/binding", h.id);
        http_result hr;
        if (tn_http(&a, "GET", path, poster, NULL, 0, &hr) && hr.status == 200)
            h.xml = hr.body;
        else
            free(hr.body);
    }
    items = json_array();
    json_array_append_new(items, entry_in(15, "hq-only", h.xml ? h.xml : "", h.body));
    json_array_append_new(items, entry(16, g[0].xml, g[0].body));
    st = send_batch("15-16", items, o);
    ok(h.xml && st == 200 && o[0] == 1 && o[1] == 1 && o[3] == 16,
       "an_item_for_a_channel_tokyo_lacks_is_refused_and_the_next_stored (%ld)", st);
    ok(refusals("no channel") == 1 && refusals("") == before + 7,
       "that_refusal_is_audited_at_tokyo");
    free(h.xml);

    /* The reasons TOKYO recorded, into the test's log. */
    char show[700];
    snprintf(show, sizeof show,
             "'%s' audit show --data-dir '%s' --action fed.receive | sed 's/^/# /'", exe, B);
    if (system(show) != 0)
        fprintf(stderr, "audit show failed\n");
    fflush(stdout);
    for (int i = 0; i < 8; i++)
        free(g[i].xml);
    free(x.xml);
    free(y.xml);
    free(f.xml);
    free(poster);
    free(reader);
    tn_stop(&a, SIGTERM);
    tn_stop(&b, SIGTERM);
    const char *vb[] = {"verify", "--data-dir", B, NULL};
    ok(fu_run(exe, vb) == 0, "tokyos_audit_chain_verifies");
    ok(tn_openapi_conforms(&a) && tn_openapi_conforms(&b), "the API exchanges match the spec");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (tap_failed == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    curl_global_cleanup();
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
