/* federation/binding_sign.c — build an item's STANAG 4778 binding and sign
 * it at its origin (XML-DSig with libxmlsec1: exclusive C14N, SHA-384
 * references, ECDSA-SHA256, a signing time in SignatureProperties).
 *
 *   mb:BindingInformation
 *     mb:MetadataBindingContainer
 *       mb:MetadataBinding Id="binding-UUID"      <- reference 1
 *         mb:Metadata  (the 4774 originatorConfidentialityLabel)
 *         mb:Metadata  (lsn:Origin: the origin node's name)
 *         mb:Metadata  (lsn:Channel: the channel the origin files it in)
 *         mb:DataReference URI="urn:uuid:UUID"
 *           ds:DigestMethod (SHA-384)  ds:DigestValue (of the content)
 *       ds:Signature Id="signature-UUID"
 *         ds:SignedInfo ... ds:SignatureValue
 *         ds:Object / ds:SignatureProperties Id="properties-UUID"  <- reference 2
 *           ds:SignatureProperty Target="#signature-UUID" / lsn:SigningTime
 *
 * The document is written once; from then on its bytes travel unchanged. */
#include "federation/binding.h"

#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/xml.h"
#include "federation/binding_tree.h"
#include "federation/xmlsec_glue.h"

bool bt_indent(xmlNodePtr parent, int depth)
{
    static const char spaces[] = "\n                ";
    int n = 1 + 2 * depth;
    if (n > (int)sizeof spaces - 1)
        n = (int)sizeof spaces - 1;
    xmlNodePtr t = xmlNewTextLen((const xmlChar *)spaces, n);
    if (t && !xmlAddChild(parent, t)) {
        xmlFreeNode(t);
        return false;
    }
    return t != NULL;
}

xmlNodePtr bt_add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text,
                  int depth)
{
    if (!bt_indent(parent, depth))
        return NULL;
    return xmlNewTextChild(parent, ns, (const xmlChar *)name, (const xmlChar *)text);
}

bool bt_register_id(xmlDocPtr doc, xmlNodePtr n)
{
    xmlAttrPtr a = xmlHasProp(n, (const xmlChar *)"Id");
    xmlChar *v = a ? xmlNodeListGetString(doc, a->children, 1) : NULL;
    bool ok = v && xmlAddID(NULL, doc, v, a) != NULL;
    xmlFree(v);
    return ok;
}

xmlNodePtr bt_build_binding(const bt_kind *k, xmlDocPtr doc, xmlNodePtr container,
                            xmlNsPtr mb, xmlNsPtr ds, xmlNsPtr lsn, const xmlNode *label,
                            const char *signer, const char *channel, const char *uuid,
                            const uint8_t digest[FED_DIGEST_SIZE])
{
    char id[BT_ID_MAX], uri[64], b64[80];
    snprintf(id, sizeof id, "%s%s", k->binding_prefix, uuid);
    snprintf(uri, sizeof uri, "%s%s", BT_UUID_URN, uuid);
    if (!bt_base64(digest, FED_DIGEST_SIZE, b64, sizeof b64))
        return NULL;
    xmlNodePtr b = bt_add(container, mb, "MetadataBinding", NULL, 2);
    if (!b || !xmlNewProp(b, (const xmlChar *)"Id", (const xmlChar *)id))
        return NULL;
    xmlNodePtr m1 = bt_add(b, mb, "Metadata", NULL, 3);
    xmlNodePtr copy = xmlDocCopyNode((xmlNodePtr)label, doc, 1);
    if (copy)
        xmlNodeSetName(copy, (const xmlChar *)k->label_element);
    if (!m1 || !copy || !bt_indent(m1, 4) || !xmlAddChild(m1, copy) || !bt_indent(m1, 3)) {
        xmlFreeNode(copy);
        return NULL;
    }
    xmlNodePtr m2 = bt_add(b, mb, "Metadata", NULL, 3);
    if (!m2 || !bt_add(m2, lsn, k->node_element, signer, 4) || !bt_indent(m2, 3))
        return NULL;
    if (k->channel) {
        xmlNodePtr m3 = bt_add(b, mb, "Metadata", NULL, 3);
        if (!m3 || !bt_add(m3, lsn, "Channel", channel, 4) || !bt_indent(m3, 3))
            return NULL;
    }
    xmlNodePtr dr = bt_add(b, mb, "DataReference", NULL, 3);
    xmlNodePtr dm = dr ? bt_add(dr, ds, "DigestMethod", NULL, 4) : NULL;
    if (!dm || !xmlNewProp(dr, (const xmlChar *)"URI", (const xmlChar *)uri) ||
        !xmlNewProp(dm, (const xmlChar *)"Algorithm", (const xmlChar *)BT_ALG_DIGEST) ||
        !bt_add(dr, ds, "DigestValue", b64, 4) || !bt_indent(dr, 3) || !bt_indent(b, 2))
        return NULL;
    return b;
}

xmlNodePtr bt_build_signature(const bt_kind *k, xmlDocPtr doc, xmlNodePtr container,
                              xmlNsPtr lsn, const char *uuid, const char *const *refs,
                              int nrefs, time_t when, xmlNodePtr *props)
{
    char sig_id[BT_ID_MAX], pid[BT_ID_MAX], pref[BT_ID_MAX + 1], target[BT_ID_MAX + 1],
        stamp[BT_TIME_SIZE];
    snprintf(sig_id, sizeof sig_id, "%s%s", k->signature_prefix, uuid);
    snprintf(pid, sizeof pid, "%s%s", k->props_prefix, uuid);
    snprintf(pref, sizeof pref, "#%s", pid);
    snprintf(target, sizeof target, "#%s", sig_id);
    if (!bt_format_time(when, stamp))
        return NULL;

    xmlNodePtr sig = xmlSecTmplSignatureCreateNsPref(
        doc, xmlSecTransformExclC14NId, xmlSecOpenSSLTransformEcdsaSha256Id,
        (const xmlChar *)sig_id, (const xmlChar *)"ds");
    if (!sig)
        return NULL;
    if (!bt_indent(container, 2) || !xmlAddChild(container, sig)) {
        xmlFreeNode(sig);
        return NULL;
    }
    for (int i = 0; i <= nrefs; i++) {
        xmlNodePtr ref = xmlSecTmplSignatureAddReference(
            sig, xmlSecOpenSSLTransformSha384Id, NULL,
            (const xmlChar *)(i < nrefs ? refs[i] : pref), NULL);
        if (!ref || !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId))
            return NULL;
    }
    xmlNodePtr obj = xmlSecTmplSignatureAddObject(sig, NULL, NULL, NULL);
    if (!obj)
        return NULL;
    xmlNodePtr sp = xmlNewChild(obj, sig->ns, (const xmlChar *)"SignatureProperties", NULL);
    xmlNodePtr p = sp ? bt_add(sp, sig->ns, "SignatureProperty", NULL, 1) : NULL;
    if (!p || !xmlNewProp(sp, (const xmlChar *)"Id", (const xmlChar *)pid) ||
        !xmlNewProp(p, (const xmlChar *)"Target", (const xmlChar *)target) ||
        !bt_add(p, lsn, "SigningTime", stamp, 2) || !bt_indent(p, 1) || !bt_indent(sp, 0))
        return NULL;
    *props = sp;
    return sig;
}

bool bt_sign(xmlNodePtr sig, const fed_identity *signer)
{
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    if (!ctx)
        return false;
    ctx->signKey = fed_xmlsec_key(fed_identity_pkey(signer));
    fed_xmlsec_clear_message();
    bool ok = ctx->signKey && xmlSecDSigCtxSign(ctx, sig) >= 0;
    xmlSecDSigCtxDestroy(ctx);
    return ok;
}

lsn_err fed_binding_sign(const fed_identity *signer, const char *uuid, const char *channel,
                         const char *label_4774, size_t label_len,
                         const fed_content *content, time_t signing_time, char **out,
                         size_t *out_len, lsn_error *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!signer || !fed_identity_has_key(signer) || !content)
        return core_fail(err, LSN_ERR_ARG, "signing needs the node's private key");
    if (!channel || !channel[0] || strlen(channel) > FED_CHANNEL_MAX)
        return core_fail(err, LSN_ERR_ARG, "signing needs the item's channel (1 to %d bytes)",
                         FED_CHANNEL_MAX);
    char fresh[FED_UUID_SIZE];
    if (!uuid) {
        if (fed_uuid_new(fresh) != LSN_OK)
            return core_fail(err, LSN_ERR_NOMEM, "no random UUID");
        uuid = fresh;
    } else if (!fed_uuid_valid(uuid)) {
        return core_fail(err, LSN_ERR_ARG, "%s: not a lower-case UUID", uuid);
    }
    uint8_t digest[FED_DIGEST_SIZE];
    if (fed_content_digest(content, digest) != LSN_OK)
        return core_fail(err, LSN_ERR_ARG, "the content cannot be digested");
    if (!fed_xmlsec_ready())
        return core_fail(err, LSN_ERR_NOMEM, "libxmlsec1 could not be initialised");

    xmlDocPtr ldoc = xml_parse(label_4774, label_len, "label", err);
    if (!ldoc)
        return err ? err->code : LSN_ERR_SYNTAX;
    xmlNodePtr label = xmlDocGetRootElement(ldoc);
    if (!bt_is(label, BT_NS_4774, "originatorConfidentialityLabel")) {
        xmlFreeDoc(ldoc);
        return core_fail(err, LSN_ERR_LABEL,
                        "the label is not a STANAG 4774 originatorConfidentialityLabel");
    }

    lsn_err rc = LSN_ERR_NOMEM;
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr root = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *)"BindingInformation",
                                          NULL)
                          : NULL;
    if (!root)
        goto done;
    xmlDocSetRootElement(doc, root);
    xmlNsPtr mb = xmlNewNs(root, (const xmlChar *)BT_NS_4778, (const xmlChar *)"mb");
    xmlNsPtr ds = xmlNewNs(root, (const xmlChar *)BT_NS_DSIG, (const xmlChar *)"ds");
    xmlNsPtr lsn = xmlNewNs(root, (const xmlChar *)BT_NS_LSN, (const xmlChar *)"lsn");
    if (!mb || !ds || !lsn)
        goto done;
    xmlSetNs(root, mb);
    xmlNodePtr container = bt_add(root, mb, "MetadataBindingContainer", NULL, 1);
    xmlNodePtr props = NULL;
    xmlNodePtr binding =
        container ? bt_build_binding(&bt_origin_kind, doc, container, mb, ds, lsn, label,
                                     fed_identity_name(signer), channel, uuid, digest)
                  : NULL;
    char bref[BT_ID_MAX + 1];
    snprintf(bref, sizeof bref, "#%s%s", BT_BINDING_ID_PREFIX, uuid);
    const char *refs[] = {bref};
    xmlNodePtr sig = binding ? bt_build_signature(&bt_origin_kind, doc, container, lsn, uuid,
                                                  refs, 1,
                                                  signing_time ? signing_time : time(NULL),
                                                  &props)
                             : NULL;
    if (!sig || !bt_indent(container, 1) || !bt_indent(root, 0) ||
        !bt_register_id(doc, binding) || !bt_register_id(doc, props))
        goto done;

    if (!bt_sign(sig, signer)) {
        rc = core_fail(err, LSN_ERR_ARG, "signing failed: %s", fed_xmlsec_message());
        goto done;
    }
    xmlChar *mem = NULL;
    int n = 0;
    xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
    if (mem && n > 0 && (size_t)n <= FED_BINDING_MAX_BYTES) {
        *out = core_malloc((size_t)n + 1);
        if (*out) {
            memcpy(*out, mem, (size_t)n);
            (*out)[n] = '\0';
            if (out_len)
                *out_len = (size_t)n;
            rc = LSN_OK;
        }
    } else if (mem) {
        rc = core_fail(err, LSN_ERR_LIMIT, "the binding is larger than %u bytes",
                      FED_BINDING_MAX_BYTES);
    }
    xmlFree(mem);
done:
    if (rc == LSN_ERR_NOMEM)
        core_fail(err, rc, "out of memory while building the binding");
    xmlFreeDoc(doc);
    xmlFreeDoc(ldoc);
    return rc;
}
