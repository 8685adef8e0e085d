/* federation/binding_translate.c — equivalent policies at the boundary, the
 * translating node's side: verify the originator's binding, translate its
 * label into the peer's policy (the engine's lsn_label_translate, from the
 * equivalences both SPIFs declare), and add the result as a STANAG 4774
 * alternativeConfidentialityLabel in a second MetadataBindingContainer
 * signed by this node.
 *
 * The originator's bytes are never re-serialised: the new container is
 * built and signed in a parsed copy of the document, then only its own
 * serialisation is inserted before the root's end tag. Exclusive C14N
 * makes each signature independent of the text around the element it
 * covers, so the originator's signature still verifies and the
 * translator's verifies in the spliced document. The inverse is here too
 * (fed_binding_original): a node forwarding an item it received translated
 * cuts the translation out again, giving back the originator's bytes. */
#define _GNU_SOURCE /* memmem */
#include "federation/translate.h"

#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/xml.h"
#include "federation/binding_tree.h"
#include "federation/xmlsec_glue.h"

/* Where the root's end tag starts: the document must end with it (white
 * space after it only), so that the new container goes inside the root. */
static bool root_end(const char *s, size_t len, const xmlNode *root, size_t *at)
{
    char want[FED_NAME_MAX + 32];
    if (root->ns && root->ns->prefix)
        snprintf(want, sizeof want, "</%s:%s", (const char *)root->ns->prefix,
                 (const char *)root->name);
    else
        snprintf(want, sizeof want, "</%s", (const char *)root->name);
    size_t end = len;
    while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\n' || s[end - 1] == '\r' ||
                       s[end - 1] == '\t'))
        end--;
    if (end == 0 || s[end - 1] != '>')
        return false;
    size_t i = end - 1;
    while (i > 0 && !(s[i - 1] == '<' && s[i] == '/'))
        i--;
    if (i == 0)
        return false;
    i--;
    size_t wl = strlen(want), j = i + wl;
    if (j > end || memcmp(s + i, want, wl) != 0)
        return false;
    while (j < end - 1 && (s[j] == ' ' || s[j] == '\n' || s[j] == '\r' || s[j] == '\t'))
        j++;
    if (j != end - 1)
        return false;
    *at = i;
    return true;
}

/* The alternative label as a parsed 4774 document. */
static lsn_err alternative(const fed_binding *b, const lsn_policy_set *set, const char *oid,
                           xmlDocPtr *out, lsn_error *err)
{
    lsn_label *l = NULL, *alt = NULL;
    char *xml = NULL;
    size_t xml_len = 0;
    bool valid = false;
    char why[256] = "";
    lsn_err rc = lsn_label_parse(set, b->label_xml, b->label_len, LSN_FORM_4774, &l, err);
    if (rc != LSN_OK)
        goto done;
    if (strcmp(lsn_policy_id(lsn_label_policy(l)), oid) == 0) {
        rc = core_fail(err, LSN_ERR_ARG, "the label is already under policy %s: nothing to "
                                         "translate", oid);
        goto done;
    }
    if ((rc = lsn_label_translate(l, set, oid, &alt, err)) != LSN_OK)
        goto done;
    if ((rc = lsn_label_validate(alt, &valid, why, sizeof why)) != LSN_OK)
        goto done;
    if (!valid) {
        rc = core_fail(err, LSN_ERR_NO_EQUIVALENT,
                       "the equivalent label is not valid under policy %s: %s", oid, why);
        goto done;
    }
    if ((rc = lsn_label_write(alt, LSN_FORM_4774, &xml, &xml_len, err)) != LSN_OK)
        goto done;
    if (!(*out = xml_parse(xml, xml_len, "equivalent label", err)))
        rc = err ? err->code : LSN_ERR_NOMEM;
done:
    lsn_free(xml);
    lsn_label_free(alt);
    lsn_label_free(l);
    return rc;
}

/* Build and sign the translator's container in `doc`; its serialisation in
 * *dump (xmlBufferFree). */
static lsn_err sign_container(xmlDocPtr doc, const fed_identity *translator,
                              const fed_binding *b, const xmlNode *label, time_t when,
                              xmlBufferPtr *dump, lsn_error *err)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    bool bad = false;
    xmlNode *first = bt_next_element(root, NULL, &bad);
    xmlNode *origin_mb = first ? bt_next_element(first, NULL, &bad) : NULL;
    xmlNodePtr c = xmlNewDocNode(doc, NULL, (const xmlChar *)"MetadataBindingContainer", NULL);
    if (!c || !origin_mb)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory while translating");
    if (!xmlAddChild(root, c)) {
        xmlFreeNode(c);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory while translating");
    }
    /* Declared on the container itself: its serialisation stands alone. */
    xmlNsPtr mb = xmlNewNs(c, (const xmlChar *)BT_NS_4778, (const xmlChar *)"mb");
    xmlNsPtr ds = xmlNewNs(c, (const xmlChar *)BT_NS_DSIG, (const xmlChar *)"ds");
    xmlNsPtr lsn = xmlNewNs(c, (const xmlChar *)BT_NS_LSN, (const xmlChar *)"lsn");
    if (!mb || !ds || !lsn)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory while translating");
    xmlSetNs(c, mb);
    char oref[BT_ID_MAX + 1], tref[BT_ID_MAX + 1];
    snprintf(tref, sizeof tref, "#%s%s", BT_TRANSLATION_ID_PREFIX, b->uuid);
    snprintf(oref, sizeof oref, "#%s%s", BT_BINDING_ID_PREFIX, b->uuid);
    const char *refs[] = {tref, oref};
    xmlNodePtr props = NULL;
    xmlNodePtr tb = bt_build_binding(&bt_translation_kind, doc, c, mb, ds, lsn, label,
                                     fed_identity_name(translator), NULL, b->uuid, b->digest);
    xmlNodePtr sig = tb ? bt_build_signature(&bt_translation_kind, doc, c, lsn, b->uuid, refs,
                                             2, when ? when : time(NULL), &props)
                        : NULL;
    if (!sig || !bt_indent(c, 1) || !bt_register_id(doc, origin_mb) ||
        !bt_register_id(doc, tb) || !bt_register_id(doc, props))
        return core_fail(err, LSN_ERR_NOMEM, "out of memory while translating");
    if (!bt_sign(sig, translator))
        return core_fail(err, LSN_ERR_ARG, "signing the translation failed: %s",
                         fed_xmlsec_message());
    *dump = xmlBufferCreate();
    if (!*dump || xmlNodeDump(*dump, doc, c, 1, 0) < 0)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory while translating");
    return LSN_OK;
}

lsn_err fed_binding_translate(const fed_identity *translator, const fed_identity *origin,
                              const void *binding, size_t len, const lsn_policy_set *set,
                              const char *peer_policy_oid, time_t signing_time, char **out,
                              size_t *out_len, lsn_error *err)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!translator || !fed_identity_has_key(translator) || !origin || !binding || !set ||
        !peer_policy_oid || !out)
        return core_fail(err, LSN_ERR_ARG,
                         "translating needs this node's key, the origin and the policies");
    fed_binding *b = NULL;
    char reason[512];
    lsn_err rc = fed_binding_verify(origin, binding, len, &b, reason, sizeof reason);
    if (rc != LSN_OK)
        return core_fail(err, rc, "verifying the binding before translating: %s", reason);
    if (!b)
        return core_fail(err, LSN_ERR_ARG, "the binding does not verify: %s", reason);

    xmlDocPtr ldoc = NULL, doc = NULL;
    xmlBufferPtr dump = NULL;
    size_t at = 0;
    if ((rc = alternative(b, set, peer_policy_oid, &ldoc, err)) != LSN_OK)
        goto done;
    if (!(doc = xml_parse(binding, len, "binding", err))) {
        rc = err ? err->code : LSN_ERR_NOMEM;
        goto done;
    }
    if (!root_end(binding, len, xmlDocGetRootElement(doc), &at)) {
        rc = core_fail(err, LSN_ERR_ARG, "the binding does not end with its root's end tag");
        goto done;
    }
    if ((rc = sign_container(doc, translator, b, xmlDocGetRootElement(ldoc), signing_time,
                             &dump, err)) != LSN_OK)
        goto done;
    /* The original bytes, then "  <container>\n", then the root's end tag. */
    size_t dl = (size_t)xmlBufferLength(dump), n = len + 2 + dl + 1;
    if (n > FED_BINDING_MAX_BYTES) {
        rc = core_fail(err, LSN_ERR_LIMIT, "the translated binding is larger than %u bytes",
                       FED_BINDING_MAX_BYTES);
        goto done;
    }
    char *res = core_malloc(n + 1);
    if (!res) {
        rc = core_fail(err, LSN_ERR_NOMEM, "out of memory while translating");
        goto done;
    }
    memcpy(res, binding, at);
    memcpy(res + at, "  ", 2);
    memcpy(res + at + 2, xmlBufferContent(dump), dl);
    res[at + 2 + dl] = '\n';
    memcpy(res + at + 3 + dl, (const char *)binding + at, len - at);
    res[n] = '\0';
    *out = res;
    if (out_len)
        *out_len = n;
done:
    xmlBufferFree(dump);
    xmlFreeDoc(doc);
    xmlFreeDoc(ldoc);
    fed_binding_free(b);
    return rc;
}

/* The last occurrence of `needle` in s[0, end), or NULL. */
static const char *last_of(const char *s, size_t end, const char *needle)
{
    const char *last = NULL;
    size_t nl = strlen(needle);
    for (const char *p = s; (p = memmem(p, end - (size_t)(p - s), needle, nl)) != NULL; p++)
        last = p;
    return last;
}

lsn_err fed_binding_original(const fed_identity *origin, const void *binding, size_t len,
                             char **out, size_t *out_len, fed_binding **verified,
                             lsn_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (verified)
        *verified = NULL;
    if (!origin || !binding)
        return core_fail(err, LSN_ERR_ARG, "no origin or no binding");
    const char *s = binding;
    /* A binding that no translator signed has no Id of this prefix (the
     * profile allows no other text there): given back as it is. */
    if (!memmem(s, len, BT_TRANSLATION_SIGNATURE_ID_PREFIX,
                strlen(BT_TRANSLATION_SIGNATURE_ID_PREFIX)))
        return LSN_OK;
    xmlDocPtr doc = xml_parse(s, len, "binding", err);
    if (!doc)
        return err && err->code == LSN_ERR_NOMEM ? LSN_ERR_NOMEM : LSN_ERR_ARG;
    lsn_err rc = LSN_ERR_ARG;
    bool bad = false;
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *first = root ? bt_next_element(root, NULL, &bad) : NULL;
    xmlNode *second = first ? bt_next_element(root, first, &bad) : NULL;
    size_t at = 0;
    char needle[FED_NAME_MAX + 40];
    if (!bt_is(second, BT_NS_4778, "MetadataBindingContainer") ||
        bt_next_element(root, second, &bad) || bad || !root_end(s, len, root, &at)) {
        core_fail(err, rc, "the binding does not hold the originator's container and one "
                           "translation");
        goto done;
    }
    if (second->ns->prefix)
        snprintf(needle, sizeof needle, "<%.64s:MetadataBindingContainer",
                 (const char *)second->ns->prefix);
    else
        snprintf(needle, sizeof needle, "<MetadataBindingContainer");
    /* The translation went in as "  " CONTAINER "\n" just before the
     * root's end tag: cut exactly those bytes. */
    const char *start = last_of(s, at, needle);
    if (!start || start - s < 2 || memcmp(start - 2, "  ", 2) != 0 || s[at - 1] != '\n' ||
        s + at - 1 <= start) {
        core_fail(err, rc, "the translation is not where a translating node puts it");
        goto done;
    }
    size_t head = (size_t)(start - 2 - s), n = head + (len - at);
    char *o = core_malloc(n + 1);
    if (!o) {
        rc = core_fail(err, LSN_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(o, s, head);
    memcpy(o + head, s + at, len - at);
    o[n] = '\0';
    /* What is left must be the originator's binding, as it signed it. */
    fed_binding *b = NULL;
    char reason[512] = "";
    lsn_err v = fed_binding_verify(origin, o, n, &b, reason, sizeof reason);
    if (v != LSN_OK || !b) {
        lsn_free(o);
        rc = v == LSN_ERR_NOMEM ? core_fail(err, v, "out of memory")
                                : core_fail(err, LSN_ERR_ARG,
                                            "the originator's binding inside does not verify: "
                                            "%s",
                                            reason);
        goto done;
    }
    *out = o;
    *out_len = n;
    if (verified)
        *verified = b;
    else
        fed_binding_free(b);
    rc = LSN_OK;
done:
    xmlFreeDoc(doc);
    return rc;
}
