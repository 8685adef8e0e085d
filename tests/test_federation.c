/* tests/test_federation.c — the node identity and the signed STANAG 4778
 * binding (src/federation): a sign -> verify round trip, and each tampering
 * and each way around the profile refused with its reason: a flipped byte
 * in the label, the content digest or the signature value, labels swapped
 * between two bindings, signature wrapping, another key, HMAC and SHA-1,
 * references outside the document, a KeyInfo, xml:id, a DTD.
 *
 * Several attacks must be *validly signed* to prove that the profile, not
 * only the signature, refuses them; resign() re-signs an altered document
 * with libxmlsec1 directly, as an attacker holding a key would.
 *
 * usage: test_federation LIAISON_VECTORS_DIR */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>

#include "federation/binding.h"
#include "federation/identity.h"
#include "federation/xmlsec_glue.h"
#include "liaison/liaison.h"
#include "tap.h"

static const char *vectors;
static char tmp[] = "/tmp/liaison-fed-XXXXXX";
static lsn_policy_set *policies;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* A vector label written as STANAG 4774 XML. */
static char *label_4774(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", vectors, name);
    size_t len = 0;
    char *data = slurp(path, &len);
    lsn_label *l = NULL;
    char *xml = NULL;
    if (data && lsn_label_parse(policies, data, len, LSN_FORM_AUTO, &l, NULL) == LSN_OK &&
        lsn_label_write(l, LSN_FORM_4774, &xml, NULL, NULL) == LSN_OK) {
    }
    lsn_label_free(l);
    free(data);
    return xml;
}

static fed_identity *new_identity(const char *sub, const char *name)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", tmp, sub);
    fed_identity *id = NULL;
    lsn_error err = {0};
    if (fed_identity_create(dir, name, "NATO", &id, &err) != LSN_OK)
        printf("# %s\n", err.message);
    return id;
}

static char *sign(const fed_identity *id, const char *uuid, const char *label,
                  const char *body)
{
    fed_content c = {.body = body, .body_len = strlen(body)};
    char *out = NULL;
    lsn_error err = {0};
    if (fed_binding_sign(id, uuid, "cyber-defence", label, strlen(label), &c, 1796300000, &out,
                         NULL, &err) !=
        LSN_OK)
        printf("# sign: %s\n", err.message);
    return out;
}

/* Verify; *reason receives the refusal. NULL when refused. */
static fed_binding *verify(const fed_identity *pinned, const char *xml, char *reason,
                           size_t size)
{
    fed_binding *b = NULL;
    if (fed_binding_verify(pinned, xml, strlen(xml), &b, reason, size) != LSN_OK)
        snprintf(reason, size, "(error)");
    return b;
}

/* Replace the first occurrence of `from` at or after `after` (NULL: the
 * start) by `to`. NULL when `from` is not there: a test that cannot make
 * its attack must fail, not pass. */
static char *replace(const char *s, const char *after, const char *from, const char *to)
{
    const char *start = after ? strstr(s, after) : s;
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

/* The text between the first `open` and the next `close` (a copy). */
static char *between(const char *s, const char *open, const char *close)
{
    const char *a = strstr(s, open);
    const char *b = a ? strstr(a + strlen(open), close) : NULL;
    if (!b)
        return NULL;
    a += strlen(open);
    return strndup(a, (size_t)(b - a));
}

/* Register every Id attribute (as an attacker's signer would), then sign
 * the document's ds:Signature again with `key`. */
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

/* Takes ownership of xml and key. */
static char *resign(char *xml, xmlSecKeyPtr key)
{
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET)
                        : NULL;
    free(xml);
    if (!doc) {
        xmlSecKeyDestroy(key);
        return NULL;
    }
    register_ids(doc, xmlDocGetRootElement(doc));
    xmlNodePtr sig = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature, xmlSecDSigNs);
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    ctx->signKey = key;
    char *out = NULL;
    if (sig && xmlSecDSigCtxSign(ctx, sig) >= 0) {
        xmlChar *mem = NULL;
        int n = 0;
        xmlDocDumpMemory(doc, &mem, &n);
        out = strndup((const char *)mem, (size_t)n);
        xmlFree(mem);
    } else {
        printf("# resign failed: %s\n", fed_xmlsec_message());
    }
    xmlSecDSigCtxDestroy(ctx);
    xmlFreeDoc(doc);
    return out;
}

static char *resign_with(char *xml, const fed_identity *id)
{
    return xml ? resign(xml, fed_xmlsec_key(fed_identity_pkey(id))) : NULL;
}

/* What a naive verifier does: register every Id, let libxmlsec1 check the
 * signature with the right key, and read "the" label by searching the
 * document for the first Classification. True when the signature checks;
 * *classification gets what the search found. Shows that an attack test
 * attacks something: the naive way is fooled where the binding's is not. */
static bool naive_accepts(const char *xml, const fed_identity *id, char *classification,
                          size_t size)
{
    classification[0] = '\0';
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    if (!doc)
        return false;
    register_ids(doc, xmlDocGetRootElement(doc));
    xmlNodePtr sig = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature, xmlSecDSigNs);
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    ctx->signKey = fed_xmlsec_key(fed_identity_pkey(id));
    bool good = sig && xmlSecDSigCtxVerify(ctx, sig) >= 0 &&
                ctx->status == xmlSecDSigStatusSucceeded;
    xmlSecDSigCtxDestroy(ctx);
    const char *at = strstr(xml, "<Classification>");
    if (at)
        snprintf(classification, size, "%.*s", (int)strcspn(at + 16, "<"), at + 16);
    xmlFreeDoc(doc);
    return good;
}

/* Expect a refusal whose reason contains `want`. */
static void refused(const fed_identity *pinned, const char *xml, const char *want,
                    const char *name)
{
    char reason[512] = "";
    fed_binding *b = xml ? verify(pinned, xml, reason, sizeof reason) : NULL;
    if (!ok(xml && !b && strstr(reason, want), "%s", name))
        printf("#   made: %s, reason: '%s', want '%s'\n", xml ? "yes" : "NO", reason, want);
    fed_binding_free(b);
}

/* Verification on several threads at once, as a receiver will do it. */
typedef struct worker {
    const fed_identity *pinned;
    const char *xml;
    int verified;
} worker;

static void *verify_many(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 25; i++) {
        fed_binding *b = NULL;
        char reason[256];
        if (fed_binding_verify(w->pinned, w->xml, strlen(w->xml), &b, reason,
                               sizeof reason) == LSN_OK &&
            b && strcmp(b->origin, "NATO HQ") == 0)
            w->verified++;
        fed_binding_free(b);
    }
    return NULL;
}

#define UUID_A "0f8e2a52-6c1b-4d0e-9a7c-3b5d1e2f4a6b"
#define UUID_B "7d3c1b2a-0e9f-4a8b-8c7d-6e5f4a3b2c1d"
#define BAD_SIG "does not verify with the pinned certificate"

static void identity_tests(void)
{
    char dir[4096], key[4096];
    fed_identity *id = new_identity("id", "Japan MOD");
    ok(id != NULL, "identity_is_made");
    snprintf(dir, sizeof dir, "%s/id", tmp);
    snprintf(key, sizeof key, "%s/id/" FED_KEY_FILE, tmp);
    struct stat st;
    ok(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600, "private_key_is_mode_0600");
    lsn_error err = {0};
    fed_identity *again = NULL;
    ok(fed_identity_create(dir, "Other", "JPN", &again, &err) == LSN_ERR_DUPLICATE && !again,
       "an_existing_identity_is_never_overwritten");
    fed_identity *loaded = NULL;
    ok(fed_identity_load(dir, true, &loaded, &err) == LSN_OK && loaded &&
           fed_identity_has_key(loaded) &&
           strcmp(fed_identity_name(loaded), "Japan MOD") == 0 &&
           strcmp(fed_identity_nation(loaded), "NATO") == 0 &&
           strcmp(fed_identity_fingerprint(loaded), fed_identity_fingerprint(id)) == 0,
       "identity_loads_back_with_name_nation_fingerprint");
    ok(strlen(fed_identity_fingerprint(id)) == 95 && fed_identity_fingerprint(id)[2] == ':',
       "fingerprint_is_sha256_colon_hex");
    fed_identity_free(loaded);
    chmod(key, 0644);
    loaded = NULL;
    ok(fed_identity_load(dir, true, &loaded, &err) != LSN_OK && !loaded &&
           strstr(err.message, "readable by others"),
       "a_private_key_readable_by_others_is_refused");
    chmod(key, 0600);
    ok(fed_identity_create(dir, "", "NATO", NULL, &err) == LSN_ERR_ARG,
       "an_empty_node_name_is_refused");
    snprintf(dir, sizeof dir, "%s/id2", tmp);
    ok(fed_identity_create(dir, "X", "NA TO", NULL, &err) == LSN_ERR_ARG,
       "a_nation_with_a_space_is_refused");
    fed_identity_free(id);
}

static void content_tests(void)
{
    uint8_t a[FED_DIGEST_SIZE], b[FED_DIGEST_SIZE];
    fed_content c1 = {.body = "ab", .body_len = 2};
    fed_content c2 = {.body = "a", .body_len = 1, .has_attachment = true,
                      .media_type = "b", .attachment = "", .attachment_len = 0};
    fed_content c3 = {.body = "ab", .body_len = 2, .has_attachment = true,
                      .media_type = "", .attachment = "", .attachment_len = 0};
    ok(fed_content_digest(&c1, a) == LSN_OK && fed_content_digest(&c2, b) == LSN_OK &&
           memcmp(a, b, sizeof a) != 0,
       "content_encoding_separates_body_from_attachment");
    ok(fed_content_digest(&c3, b) == LSN_OK && memcmp(a, b, sizeof a) != 0,
       "an_empty_attachment_differs_from_none");
    char u[FED_UUID_SIZE];
    ok(fed_uuid_new(u) == LSN_OK && fed_uuid_valid(u) && u[14] == '4', "fresh_uuid_is_v4");
    ok(!fed_uuid_valid("0F8E2A52-6C1B-4D0E-9A7C-3B5D1E2F4A6B") && !fed_uuid_valid("x"),
       "upper_case_or_short_uuid_is_refused");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIAISON_VECTORS_DIR\n", argv[0]);
        return 2;
    }
    vectors = argv[1];
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    lsn_policy *pol = NULL;
    policies = lsn_policy_set_new();
    if (lsn_policy_load_default(&pol, NULL) != LSN_OK ||
        lsn_policy_set_add(policies, pol, NULL) != LSN_OK)
        return 2;
    lsn_policy_unref(pol);
    ok(fed_xmlsec_ready(), "xmlsec_initialises");

    identity_tests();
    content_tests();

    fed_identity *hq = new_identity("hq", "NATO HQ");
    fed_identity *impostor = new_identity("impostor", "NATO HQ");
    char *jpn = label_4774("nr-rel-jpn.nato"), *kor = label_4774("nr-rel-kor.nato");
    if (!hq || !impostor || !jpn || !kor) {
        ok(0, "set_up");
        return tap_done();
    }
    const char *body = "Exercise briefing, Tokyo, 14:00.";
    char *a = sign(hq, UUID_A, jpn, body);
    char *b = sign(hq, UUID_B, kor, "Another item.");
    ok(a && b, "bindings_are_signed");
    {
        char *x = NULL;
        fed_content c = {.body = "x", .body_len = 1};
        lsn_error err = {0};
        static const char spiffing[] =
            "<securityLabel xmlns=\"http://surevine.com/xmlns/spiffy\"/>";
        ok(fed_binding_sign(hq, NULL, "cyber-defence", spiffing, sizeof spiffing - 1, &c, 0, &x,
                            NULL, &err) ==
                   LSN_ERR_LABEL && !x,
           "signing_refuses_a_label_that_is_not_4774");
        fed_identity *public_only = NULL;
        char crt[4200];
        snprintf(crt, sizeof crt, "%s/hq/" FED_CERT_FILE, tmp);
        ok(fed_identity_load_certificate(crt, &public_only, &err) == LSN_OK &&
               fed_binding_sign(public_only, NULL, "cyber-defence", jpn, strlen(jpn), &c, 0, &x,
                                NULL, &err) ==
                   LSN_ERR_ARG && !x,
           "signing_needs_the_private_key");
        fed_identity_free(public_only);
        ok(fed_binding_sign(hq, "not-a-uuid", "cyber-defence", jpn, strlen(jpn), &c, 0, &x, NULL,
                            &err) ==
                   LSN_ERR_ARG && !x,
           "signing_refuses_a_malformed_uuid");
    }

    /* Round trip: the verified fields are the signed ones. */
    char reason[512] = "";
    fed_binding *v = verify(hq, a, reason, sizeof reason);
    ok(v != NULL, "signed_binding_verifies_with_the_pinned_certificate");
    if (!v)
        printf("#   reason: %s\n", reason);
    is_str(v ? v->origin : NULL, "NATO HQ", "verified_origin_is_the_signer");
    is_str(v ? v->uuid : NULL, UUID_A, "verified_uuid_is_the_signed_one");
    ok(v && v->signing_time == 1796300000, "verified_signing_time_is_the_signed_one");
    is_str(v ? v->channel : NULL, "cyber-defence", "verified_channel_is_the_signed_one");
    fed_content good = {.body = body, .body_len = strlen(body)};
    fed_content bad = {.body = body, .body_len = strlen(body) - 1};
    ok(v && fed_binding_content_matches(v, &good), "content_matches_the_signed_digest");
    ok(v && !fed_binding_content_matches(v, &bad), "altered_content_does_not_match");
    lsn_label *l = NULL;
    char mark[256] = "";
    ok(v && lsn_label_parse(policies, v->label_xml, v->label_len, LSN_FORM_4774, &l, NULL) ==
                    LSN_OK &&
           lsn_label_marking(l, NULL, mark, sizeof mark, NULL) == LSN_OK &&
           strcmp(mark, "NATO RESTRICTED Releasable to JPN") == 0,
       "verified_label_parses_to_the_signed_marking");
    lsn_label_free(l);
    fed_binding_free(v);

    worker w[4];
    pthread_t th[4];
    int started = 0, verified = 0;
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.pinned = hq, .xml = i % 2 ? a : b};
        if (pthread_create(&th[i], NULL, verify_many, &w[i]) == 0)
            started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        verified += w[i].verified;
    }
    ok(started == 4 && verified == 100, "bindings_verify_on_four_threads_at_once");

    /* Tampering with signed bytes. */
    char *t;
    refused(hq, t = replace(a, "<lsn:Channel>", "cyber-defence", "maritime-security"), BAD_SIG,
            "a_channel_changed_in_the_signed_binding_is_refused");
    free(t);
    /* A binding of the profile before the channel was signed (no channel
     * Metadata): refused, whatever its signature (fail closed). */
    char *cm = between(a, "<lsn:Origin>", "<mb:DataReference");
    char *om = cm ? strstr(cm, "</mb:Metadata>") : NULL;
    if (om)
        om[strlen("</mb:Metadata>")] = '\0'; /* through the origin's Metadata */
    char *old = NULL;
    if (om) {
        char *whole = between(a, "<lsn:Origin>", "<mb:DataReference");
        old = replace(a, NULL, whole, cm);
        free(whole);
    }
    refused(hq, old, "no channel Metadata", "a_binding_without_a_signed_channel_is_refused");
    free(old);
    free(cm);
    fed_content cc = {.body = body, .body_len = strlen(body)};
    char *nc = NULL;
    lsn_error ce = {0};
    ok(fed_binding_sign(hq, NULL, "", jpn, strlen(jpn), &cc, 0, &nc, NULL, &ce) == LSN_ERR_ARG &&
           !nc,
       "signing_needs_a_channel");
    refused(hq, t = replace(a, "<mb:Metadata>", "JPN", "KOR"), BAD_SIG,
            "a_flipped_byte_in_the_label_is_refused");
    free(t);
    char *dv = between(a, "<mb:DataReference", "</ds:DigestValue>");
    char *flipped = dv ? strdup(dv) : NULL;
    if (flipped)
        flipped[strlen(flipped) - 1] ^= 1;
    refused(hq, t = dv ? replace(a, NULL, dv, flipped) : NULL, BAD_SIG,
            "a_flipped_byte_in_the_content_digest_is_refused");
    free(t);
    free(dv);
    free(flipped);
    char *sv = between(a, "<ds:SignatureValue>", "</ds:SignatureValue>");
    flipped = sv ? strdup(sv) : NULL;
    if (flipped)
        flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
    refused(hq, t = sv ? replace(a, NULL, sv, flipped) : NULL, BAD_SIG,
            "a_flipped_byte_in_the_signature_value_is_refused");
    free(t);
    free(sv);
    free(flipped);
    char *la = between(a, "<mb:Metadata>", "</mb:Metadata>");
    char *lb = between(b, "<mb:Metadata>", "</mb:Metadata>");
    refused(hq, t = la && lb ? replace(a, NULL, la, lb) : NULL, BAD_SIG,
            "a_label_swapped_from_another_binding_is_refused");
    free(t);
    free(la);
    free(lb);
    refused(hq, t = replace(a, "<lsn:SigningTime>", "2026", "2025"), BAD_SIG,
            "an_altered_signing_time_is_refused");
    free(t);

    /* Another key. */
    char *by_impostor = sign(impostor, UUID_A, jpn, body);
    refused(hq, by_impostor, BAD_SIG, "a_binding_signed_with_another_key_is_refused");
    /* A node signs for itself only: another origin, validly signed by hq. */
    refused(hq, t = resign_with(replace(a, NULL, "<lsn:Origin>NATO HQ", "<lsn:Origin>Japan MOD"),
                                hq),
            "names the origin", "a_binding_naming_another_origin_is_refused");
    free(t);

    /* Signature wrapping. (1) An unsigned MetadataBinding with another label
     * first in the container, where a naive search finds it. */
    char *mb_a = between(a, "<mb:MetadataBindingContainer>", "<ds:Signature");
    char *evil = mb_a ? replace(mb_a, NULL, "Id=\"binding-", "Id=\"evil-binding-") : NULL;
    char *evil2 = evil ? replace(evil, NULL, "RESTRICTED", "UNCLASSIFIED") : NULL;
    char *cat = NULL;
    if (evil2 && asprintf(&cat, "<mb:MetadataBindingContainer>%s", evil2) < 0)
        cat = NULL;
    t = cat ? replace(a, NULL, "<mb:MetadataBindingContainer>", cat) : NULL;
    char found[64] = "";
    ok(t && naive_accepts(t, hq, found, sizeof found) && strcmp(found, "UNCLASSIFIED") == 0,
       "a_naive_verifier_accepts_the_second_binding_and_reads_its_label");
    refused(hq, t, "exactly one MetadataBinding",
            "a_second_unsigned_binding_placed_first_is_refused");
    free(t);
    free(cat);
    free(evil);
    /* (2) The signed binding moved into a wrapper (the ds:Object) with its Id,
     * and a forged one with the same Id where the profile expects it. */
    char *forged = mb_a ? replace(mb_a, NULL, "RESTRICTED", "UNCLASSIFIED") : NULL;
    char *wrapped = NULL;
    if (forged && asprintf(&wrapped, "<ds:Object>%s", mb_a) < 0)
        wrapped = NULL;
    char *step = forged ? replace(a, NULL, mb_a, forged) : NULL;
    refused(hq, t = step && wrapped ? replace(step, NULL, "<ds:Object>", wrapped) : NULL,
            "one SignatureProperties", "the_signed_binding_moved_under_a_wrapper_is_refused");
    free(t);
    free(step);
    free(wrapped);
    /* (3) The signed binding inside a wrapper element in its place. */
    char *wrapped_mb = NULL;
    if (mb_a && asprintf(&wrapped_mb, "<mb:Wrapper>%s</mb:Wrapper>", mb_a) < 0)
        wrapped_mb = NULL;
    refused(hq, t = wrapped_mb ? replace(a, NULL, mb_a, wrapped_mb) : NULL,
            "exactly one MetadataBinding", "a_binding_inside_a_wrapper_element_is_refused");
    free(t);
    free(wrapped_mb);
    free(forged);
    free(evil2);
    free(mb_a);
    /* (4) xml:id cannot add an ID the verifier did not place. */
    refused(hq, t = replace(a, NULL, "<mb:Metadata>", "<mb:Metadata xml:id=\"x\">"),
            "xml:id", "an_xml_id_attribute_is_refused");
    free(t);

    /* Algorithms outside the profile, validly signed. */
    static const uint8_t secret[32] = "a shared secret is not a key...";
    refused(hq,
            t = resign(replace(a, "<ds:SignedInfo>",
                               "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
                               "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"),
                       xmlSecKeyReadMemory(xmlSecOpenSSLKeyDataHmacId, secret, sizeof secret)),
            "not ECDSA-SHA256", "an_hmac_signature_is_refused");
    free(t);
    refused(hq,
            t = resign_with(replace(a, "<ds:SignedInfo>",
                                    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
                                    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"),
                            hq),
            "not ECDSA-SHA256", "an_ecdsa_sha1_signature_is_refused");
    free(t);
    refused(hq,
            t = resign_with(replace(a, "<ds:SignedInfo>",
                                    "http://www.w3.org/2001/04/xmldsig-more#sha384",
                                    "http://www.w3.org/2000/09/xmldsig#sha1"),
                            hq),
            "not SHA-384", "a_sha1_reference_digest_is_refused");
    free(t);
    refused(hq,
            t = resign_with(replace(a, "<ds:SignedInfo>",
                                    "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"",
                                    "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments\""),
                            hq),
            "not exclusive C14N", "an_inclusive_c14n_with_comments_is_refused");
    free(t);

    /* References outside the document. */
    refused(hq,
            t = replace(a, "<ds:SignedInfo>", "URI=\"#binding-" UUID_A "\"",
                        "URI=\"file:///etc/hostname\""),
            "not to the binding's own elements", "an_external_file_reference_is_refused");
    free(t);
    refused(hq,
            t = replace(a, "<ds:SignedInfo>", "URI=\"#binding-" UUID_A "\"",
                        "URI=\"http://127.0.0.1:9/binding\""),
            "not to the binding's own elements", "an_external_http_reference_is_refused");
    free(t);
    refused(hq,
            t = replace(a, "<ds:SignedInfo>", "URI=\"#binding-" UUID_A "\"",
                        "URI=\"#xpointer(/)\""),
            "not to the binding's own elements", "an_xpointer_reference_is_refused");
    free(t);
    refused(hq,
            t = replace(a, "<ds:SignedInfo>", "URI=\"#binding-" UUID_A "\"", "URI=\"\""),
            "not to the binding's own elements", "a_whole_document_reference_is_refused");
    free(t);

    /* A certificate in the message is never used: a KeyInfo is refused. */
    refused(hq,
            t = replace(a, NULL, "</ds:SignatureValue>",
                        "</ds:SignatureValue><ds:KeyInfo><ds:KeyName>NATO HQ</ds:KeyName>"
                        "</ds:KeyInfo>"),
            "KeyInfo", "a_key_info_in_the_message_is_refused");
    free(t);

    /* Hostile XML. */
    char *dtd = NULL;
    if (asprintf(&dtd, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"JPN\">]>%s",
                 strstr(a, "<mb:BindingInformation")) < 0)
        dtd = NULL;
    refused(hq, dtd, "DTD", "a_document_with_a_dtd_is_refused");
    free(dtd);
    refused(hq, "<mb:BindingInformation", "line", "truncated_xml_is_refused");
    refused(hq, "<x/>", "not a STANAG 4778", "another_root_element_is_refused");
    fed_binding *none = NULL;
    ok(fed_binding_verify(hq, "", 0, &none, reason, sizeof reason) == LSN_OK && !none,
       "empty_input_is_refused");

    free(a);
    free(b);
    free(by_impostor);
    lsn_free(jpn);
    lsn_free(kor);
    fed_identity_free(hq);
    fed_identity_free(impostor);
    lsn_policy_set_free(policies);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmp);
    return tap_done();
}
