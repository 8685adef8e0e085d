/* tests/test_binding_translate.c — equivalent policies at the boundary
 * (issue 10): a node adds the equivalent of an item's label under a peer's
 * policy as a signed STANAG 4774 alternativeConfidentialityLabel beside the
 * originator's (fed_binding_translate), and the receiver verifies both
 * signatures and decides on the label under its own policy
 * (fed_binding_receive). NATO -> the illustrative Japanese policy and back
 * gives the same label, both ways; the originator's bytes are unchanged;
 * a tampered, moved, foreign-signed or dishonest alternative is refused.
 *
 * usage: test_binding_translate DATA_DIR (holding jpn-illustrative-policy.xml) */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>

#include "federation/binding.h"
#include "federation/identity.h"
#include "federation/translate.h"
#include "federation/xmlsec_glue.h"
#include "liaison/liaison.h"
#include "tap.h"

#define NATO_OID "1.3.26.1.3.1"
#define JPN_OID "2.25.251642713772810140366533035959921199786"

static char tmp[] = "/tmp/liaison-translate-XXXXXX";
static lsn_policy_set *both, *jpn_only, *nato_only;

static const char nato_json[] =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\",\"NATO\"]}]}";
static const char jpn_json[] =
    "{\"policy\":\"JPN-ILLUSTRATIVE\",\"classification\":\"GOKUHI\","
    "\"categories\":[{\"tagSet\":\"Release\",\"values\":[\"JPN\",\"NATO\"]}]}";
static const char nato_only_json[] =
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\","
    "\"categories\":[{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}";

static lsn_label *parse(const lsn_policy_set *set, const char *data, lsn_form form)
{
    lsn_label *l = NULL;
    lsn_error err = {0};
    if (lsn_label_parse(set, data, strlen(data), form, &l, &err) != LSN_OK)
        printf("# parse: %s\n", err.message);
    return l;
}

static char *as_4774(const char *json)
{
    lsn_label *l = parse(both, json, LSN_FORM_JSON);
    char *xml = NULL;
    if (l && lsn_label_write(l, LSN_FORM_4774, &xml, NULL, NULL) != LSN_OK)
        xml = NULL;
    lsn_label_free(l);
    return xml;
}

static bool same_label(const lsn_label *a, const lsn_label *b)
{
    char *x = NULL, *y = NULL;
    bool same = a && b && lsn_label_write(a, LSN_FORM_JSON, &x, NULL, NULL) == LSN_OK &&
                lsn_label_write(b, LSN_FORM_JSON, &y, NULL, NULL) == LSN_OK && strcmp(x, y) == 0;
    if (!same)
        printf("# %s\n# %s\n", x ? x : "(none)", y ? y : "(none)");
    lsn_free(x);
    lsn_free(y);
    return same;
}

static fed_identity *node(const char *sub, const char *name, const char *nation)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", tmp, sub);
    fed_identity *id = NULL;
    lsn_error err = {0};
    if (fed_identity_create(dir, name, nation, &id, &err) != LSN_OK)
        printf("# %s\n", err.message);
    return id;
}

static char *sign(const fed_identity *id, const char *uuid, const char *json, const char *body)
{
    char *label = as_4774(json);
    fed_content c = {.body = body, .body_len = strlen(body)};
    char *out = NULL;
    lsn_error err = {0};
    if (!label || fed_binding_sign(id, uuid, "cyber-defence", label, strlen(label), &c,
                                   1796300000, &out, NULL,
                                   &err) != LSN_OK)
        printf("# sign: %s\n", err.message);
    lsn_free(label);
    return out;
}

static char *translate(const fed_identity *translator, const fed_identity *origin,
                       const char *xml, const char *oid, lsn_err *rc)
{
    char *out = NULL;
    lsn_error err = {0};
    lsn_err r = xml ? fed_binding_translate(translator, origin, xml, strlen(xml), both, oid,
                                            1796300100, &out, NULL, &err)
                    : LSN_ERR_ARG;
    if (rc)
        *rc = r;
    if (r != LSN_OK)
        printf("# translate: %s\n", err.message);
    return out;
}

/* Receive; NULL when refused (the reason printed). */
static fed_received *receive(const fed_identity *origin, const fed_identity *translator,
                             const char *xml, const lsn_policy_set *set, const char *own,
                             char *reason, size_t size)
{
    fed_received *r = NULL;
    if (!xml)
        return NULL;
    if (fed_binding_receive(origin, translator, xml, strlen(xml), set, own, &r, reason, size) !=
        LSN_OK)
        snprintf(reason, size, "(error)");
    if (!r)
        printf("# refused: %s\n", reason);
    return r;
}

static char *replace(const char *s, const char *after, const char *from, const char *to)
{
    const char *start = s && after ? strstr(s, after) : s;
    const char *at = start ? strstr(start, from) : NULL;
    if (!at)
        return NULL;
    size_t n = strlen(s), fl = strlen(from), tl = strlen(to);
    char *out = malloc(n - fl + tl + 1);
    memcpy(out, s, (size_t)(at - s));
    memcpy(out + (at - s), to, tl);
    memcpy(out + (at - s) + tl, at + fl, n - (size_t)(at - s) - fl + 1);
    return out;
}

static void register_ids(xmlDocPtr doc, xmlNodePtr n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlAttrPtr a = xmlHasProp(n, (const xmlChar *)"Id");
        if (a) {
            xmlChar *v = xmlNodeListGetString(doc, a->children, 1);
            xmlAddID(NULL, doc, v, a);
            xmlFree(v);
        }
        register_ids(doc, n->children);
    }
}

/* Sign the translation's ds:Signature again with `id`'s key, as a
 * dishonest translator holding its own key would. */
static char *resign_translation(char *xml, const fed_identity *id)
{
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET)
                        : NULL;
    free(xml);
    if (!doc)
        return NULL;
    register_ids(doc, xmlDocGetRootElement(doc));
    xmlNodePtr c2 = xmlDocGetRootElement(doc)->last;
    while (c2 && c2->type != XML_ELEMENT_NODE)
        c2 = c2->prev;
    xmlNodePtr sig = c2 ? xmlSecFindNode(c2, xmlSecNodeSignature, xmlSecDSigNs) : NULL;
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    ctx->signKey = fed_xmlsec_key(fed_identity_pkey(id));
    char *out = NULL;
    if (sig && xmlSecDSigCtxSign(ctx, sig) >= 0) {
        xmlChar *mem = NULL;
        int n = 0;
        xmlDocDumpMemory(doc, &mem, &n);
        out = strndup((const char *)mem, (size_t)n);
        xmlFree(mem);
    }
    xmlSecDSigCtxDestroy(ctx);
    xmlFreeDoc(doc);
    return out;
}

static bool refused(const char *what, fed_received *r, const char *reason, const char *want)
{
    bool ok = r == NULL && strstr(reason, want) != NULL;
    if (!ok)
        printf("# %s: wanted a refusal with \"%s\", got \"%s\"\n", what, want,
               r ? "accepted" : reason);
    fed_received_free(r);
    return ok;
}

static lsn_policy_set *set_of(bool nato, const char *jpn_path)
{
    lsn_policy_set *s = lsn_policy_set_new();
    lsn_policy *p = NULL;
    lsn_error err = {0};
    if (nato && (lsn_policy_load_default(&p, &err) != LSN_OK ||
                 lsn_policy_set_add(s, p, &err) != LSN_OK))
        printf("# %s\n", err.message);
    lsn_policy_unref(p);
    if (jpn_path && lsn_policy_set_load_file(s, jpn_path, &err) != LSN_OK)
        printf("# %s\n", err.message);
    return s;
}

int main(int argc, char **argv)
{
    char path[4096], reason[512];
    snprintf(path, sizeof path, "%s/jpn-illustrative-policy.xml", argc > 1 ? argv[1] : "data");
    if (!mkdtemp(tmp))
        return 2;
    both = set_of(true, path);
    jpn_only = set_of(false, path);
    nato_only = set_of(true, NULL);
    fed_identity *hq = node("hq", "NATO HQ", "NATO");
    fed_identity *tokyo = node("jpn", "JPN MOD", "JPN");
    fed_identity *rogue = node("rogue", "JPN MOD", "JPN"); /* same name, another key */

    /* --- NATO -> JPN: HQ adds the Japanese equivalent for a JPN node. --- */
    const char *uuid = "0f8e2a52-6c1b-4d0e-9a7c-3b5d1e2f4a6b";
    char *orig = sign(hq, uuid, nato_json, "Exercise briefing, Tokyo, 14:00.\n");
    lsn_err rc = LSN_OK;
    char *tr = translate(hq, hq, orig, JPN_OID, &rc);
    ok(tr != NULL, "a_nato_label_is_translated_for_a_peer_under_the_japanese_policy");

    /* The originator's bytes are unchanged: the translated document is the
     * original with one container inserted before the root's end tag. */
    const char *end = "</mb:BindingInformation>";
    const char *cut = orig ? strstr(orig, end) : NULL;
    size_t head = cut ? (size_t)(cut - orig) : 0;
    ok(tr && cut && strncmp(tr, orig, head) == 0 &&
           strcmp(tr + strlen(tr) - strlen(cut), cut) == 0 &&
           strstr(tr + head, "alternativeConfidentialityLabel") &&
           !strstr(orig, "alternativeConfidentialityLabel"),
       "the_originators_bytes_are_unchanged_and_the_alternative_is_added_beside_them");
    fed_binding *plain = NULL;
    ok(orig && fed_binding_verify(hq, orig, strlen(orig), &plain, reason, sizeof reason) ==
                   LSN_OK && plain,
       "the_original_binding_still_verifies_on_its_own");

    fed_received *r = receive(hq, hq, tr, both, JPN_OID, reason, sizeof reason);
    ok(r && r->translated && r->label_is_alternative && !strcmp(r->translator, "NATO HQ") &&
           r->label && !strcmp(lsn_policy_id(lsn_label_policy(r->label)), JPN_OID),
       "a_jpn_node_decides_on_the_japanese_alternative");
    ok(r && plain && r->binding->label_len == plain->label_len &&
           !memcmp(r->binding->label_xml, plain->label_xml, plain->label_len),
       "the_originators_label_is_given_back_as_the_origin_signed_it");
    char mark[256] = "";
    ok(r && lsn_label_marking(r->label, "en", mark, sizeof mark, NULL) == LSN_OK &&
           !strcmp(mark, "JAPAN HANDLE WITH CARE Releasable to JPN, NATO"),
       "the_alternative_marks_under_the_japanese_policy");
    printf("# %s\n", mark);
    lsn_label *back = NULL, *first = parse(both, nato_json, LSN_FORM_JSON);
    ok(r && lsn_label_translate(r->label, both, NATO_OID, &back, NULL) == LSN_OK &&
           same_label(back, first),
       "nato_to_japanese_and_back_gives_the_same_label");
    lsn_label_free(back);
    back = NULL;
    fed_received_free(r);

    r = receive(hq, hq, tr, jpn_only, JPN_OID, reason, sizeof reason);
    ok(r && r->label_is_alternative, "a_node_that_knows_only_the_japanese_policy_takes_the_"
                                     "translators_word");
    fed_received_free(r);
    r = receive(hq, hq, tr, both, NATO_OID, reason, sizeof reason);
    ok(r && !r->label_is_alternative && same_label(r->label, first),
       "a_nato_node_decides_on_the_originators_label_beside_an_alternative");
    fed_received_free(r);
    r = receive(hq, NULL, orig, jpn_only, JPN_OID, reason, sizeof reason);
    ok(refused("untranslated", r, reason, "no alternative label"),
       "an_untranslated_label_of_an_unknown_policy_is_refused");
    r = receive(hq, NULL, orig, both, JPN_OID, reason, sizeof reason);
    ok(r && !r->translated && r->label &&
           !strcmp(lsn_policy_id(lsn_label_policy(r->label)), JPN_OID),
       "a_node_that_knows_both_policies_translates_an_untranslated_label_itself");
    fed_received_free(r);

    /* --- JPN -> NATO: Tokyo adds the NATO equivalent for HQ. --- */
    const char *uuid2 = "5a1e9b7c-2d3f-4e5a-8b6c-7d8e9f0a1b2c";
    char *jorig = sign(tokyo, uuid2, jpn_json, "Maritime security update.\n");
    char *jtr = translate(tokyo, tokyo, jorig, NATO_OID, NULL);
    r = receive(tokyo, tokyo, jtr, both, NATO_OID, reason, sizeof reason);
    lsn_label *jfirst = parse(both, jpn_json, LSN_FORM_JSON);
    ok(r && r->label_is_alternative && lsn_label_marking(r->label, "en", mark, sizeof mark,
                                                         NULL) == LSN_OK &&
           !strcmp(mark, "NATO SECRET Releasable to JPN"),
       "a_japanese_label_is_translated_for_nato_hq");
    printf("# %s\n", mark);
    ok(r && lsn_label_translate(r->label, both, JPN_OID, &back, NULL) == LSN_OK &&
           same_label(back, jfirst),
       "japanese_to_nato_and_back_gives_the_same_label");
    lsn_label_free(back);
    fed_received_free(r);

    /* --- refusals --- */
    char *t1 = replace(tr, "alternativeConfidentialityLabel", "<Classification>TORIATSUKAI CHUI<",
                       "<Classification>OPEN<");
    r = receive(hq, hq, t1, both, JPN_OID, reason, sizeof reason);
    ok(t1 && refused("tampered alternative", r, reason, "does not verify"),
       "a_tampered_alternative_label_is_refused");
    char *t2 = replace(tr, "alternativeConfidentialityLabel", "<GenericValue>JPN<",
                       "<GenericValue>KOR<");
    r = receive(hq, hq, t2, jpn_only, JPN_OID, reason, sizeof reason);
    ok(t2 && refused("widened alternative", r, reason, "does not verify"),
       "an_alternative_widened_on_the_way_is_refused");
    char *t3 = replace(tr, NULL, "<Classification>RESTRICTED<", "<Classification>SECRET<");
    r = receive(hq, hq, t3, both, JPN_OID, reason, sizeof reason);
    ok(t3 && refused("tampered originator", r, reason, "does not verify"),
       "a_tampered_originator_label_beside_an_alternative_is_refused");
    r = receive(hq, rogue, tr, both, JPN_OID, reason, sizeof reason);
    ok(refused("another translator's key", r, reason, "does not verify"),
       "an_alternative_not_signed_by_the_pinned_translator_is_refused");
    r = receive(hq, NULL, tr, both, JPN_OID, reason, sizeof reason);
    ok(refused("no translator", r, reason, "no translator"),
       "an_alternative_without_a_known_translator_is_refused");
    r = receive(hq, tokyo, tr, both, JPN_OID, reason, sizeof reason);
    ok(refused("translator named otherwise", r, reason, "does not verify"),
       "an_alternative_checked_against_another_peer_is_refused");

    /* The translation of item A moved beside item B's binding. */
    const char *uuid3 = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
    char *other = sign(hq, uuid3, nato_json, "Another item.\n");
    const char *c2 = tr ? strstr(strstr(tr, "</mb:MetadataBindingContainer>") + 1,
                                 "<mb:MetadataBindingContainer") : NULL;
    char *moved = NULL;
    if (c2 && other) {
        const char *c2end = strstr(c2, "</mb:BindingInformation>");
        char *piece = NULL;
        if (asprintf(&piece, "%.*s</mb:BindingInformation>", (int)(c2end - c2), c2) > 0)
            moved = replace(other, NULL, "</mb:BindingInformation>", piece);
        free(piece);
    }
    r = receive(hq, hq, moved, both, JPN_OID, reason, sizeof reason);
    ok(moved && refused("moved translation", r, reason, "not to the binding's own elements"),
       "a_translation_moved_to_another_item_is_refused");

    /* A dishonest translator signs a wider alternative with its own key:
     * the signature verifies, but a receiver that knows both policies
     * checks the equivalence itself. */
    char *wide = resign_translation(replace(tr, "alternativeConfidentialityLabel",
                                            "<GenericValue>JPN<", "<GenericValue>KOR<"),
                                    hq);
    r = receive(hq, hq, wide, both, JPN_OID, reason, sizeof reason);
    ok(wide && refused("dishonest translator", r, reason, "not the equivalent"),
       "a_translator_cannot_widen_a_release_the_receiver_can_check");

    ok(translate(hq, hq, tr, JPN_OID, &rc) == NULL && rc == LSN_ERR_ARG,
       "a_translated_binding_is_not_translated_again");
    char *ncn = sign(hq, NULL, nato_only_json, "NATO only.\n");
    ok(translate(hq, hq, ncn, JPN_OID, &rc) == NULL && rc == LSN_ERR_NO_EQUIVALENT,
       "a_label_without_an_equivalent_is_not_translated");
    ok(translate(hq, hq, orig, NATO_OID, &rc) == NULL && rc == LSN_ERR_ARG,
       "a_label_already_under_the_peers_policy_is_not_translated");
    ok(translate(hq, tokyo, orig, JPN_OID, &rc) == NULL && rc == LSN_ERR_ARG,
       "a_binding_that_does_not_verify_is_not_translated");

    /* Forwarding an item received translated: the translation cut out
     * again gives ob the originator's bytes exactly, verified; a plain
     * binding is given ob as it is; anything else is refused. */
    char *ob = NULL;
    size_t ob_len = 0;
    fed_binding *bv = NULL;
    lsn_error e = {0};
    ok(tr && fed_binding_original(hq, tr, strlen(tr), &ob, &ob_len, &bv, &e) == LSN_OK &&
           ob && ob_len == strlen(orig) && memcmp(ob, orig, ob_len) == 0 && bv &&
           !strcmp(bv->uuid, uuid) && !strcmp(bv->channel, "cyber-defence"),
       "the_originators_bytes_are_recovered_from_a_translated_binding (%s)", e.message);
    lsn_free(ob);
    fed_binding_free(bv);
    ob = NULL;
    ok(fed_binding_original(hq, orig, strlen(orig), &ob, &ob_len, NULL, &e) == LSN_OK &&
           !ob,
       "a_binding_without_translation_is_given_back_as_it_is");
    ok(tr && fed_binding_original(tokyo, tr, strlen(tr), &ob, &ob_len, NULL, &e) ==
                   LSN_ERR_ARG && !ob,
       "the_recovered_originators_binding_must_verify_against_the_origin");
    char *shifted = tr ? replace(tr, "</mb:MetadataBindingContainer>",
                                 "\n  <mb:MetadataBindingContainer",
                                 "\n <mb:MetadataBindingContainer") : NULL;
    ok(shifted && fed_binding_original(hq, shifted, strlen(shifted), &ob, &ob_len, NULL,
                                       &e) == LSN_ERR_ARG && !ob,
       "a_translation_not_where_a_translator_puts_it_is_refused");
    free(shifted);
    char *again = translate(hq, hq, orig, JPN_OID, &rc);
    char *a1 = NULL, *a2 = NULL;
    size_t l1 = 0, l2 = 0;
    ok(again && tr && strcmp(again, tr) != 0 &&
           fed_binding_original(hq, tr, strlen(tr), &a1, &l1, NULL, NULL) == LSN_OK &&
           fed_binding_original(hq, again, strlen(again), &a2, &l2, NULL, NULL) == LSN_OK &&
           a1 && a2 && l1 == l2 && !memcmp(a1, a2, l1),
       "two_translations_of_one_item_hold_the_same_originators_bytes");
    lsn_free(a1);
    lsn_free(a2);
    lsn_free(again);

    free(t1);
    free(t2);
    free(t3);
    free(moved);
    free(wide);
    lsn_free(ncn);
    lsn_free(other);
    lsn_free(jorig);
    lsn_free(jtr);
    lsn_free(orig);
    lsn_free(tr);
    lsn_label_free(first);
    lsn_label_free(jfirst);
    fed_binding_free(plain);
    fed_identity_free(hq);
    fed_identity_free(tokyo);
    fed_identity_free(rogue);
    lsn_policy_set_free(both);
    lsn_policy_set_free(jpn_only);
    lsn_policy_set_free(nato_only);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmp);
    return tap_done();
}
