/* federation/binding_sign.c — build an item's STANAG 4778 binding and sign
 * it at its origin (XML-DSig with libxmlsec1: exclusive C14N, SHA-384
 * references, ECDSA-SHA256, a signing time in SignatureProperties).
 *
 *   mb:BindingInformation
 *     mb:MetadataBindingContainer
 *       mb:MetadataBinding Id="binding-UUID"      <- reference 1
 *         mb:Metadata  (the 4774 originatorConfidentialityLabel)
 *         mb:Metadata  (lsn:Origin: the origin node's name)
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

/* Indentation text before a child at `depth`, so that the example in
 * docs/FEDERATION.md reads; it is part of what is signed like any text. */
static bool indent(xmlNodePtr parent, int depth)
{
    static const char spaces[] = "\n                ";
    int n = 1 + 2 * depth;
    if (n > (int)sizeof spaces - 1)
        n = (int)sizeof spaces - 1;
    xmlNodePtr t = xmlNewTextLen((const xmlChar *)spaces, n);
    return t && xmlAddChild(parent, t) != NULL;
}

static xmlNodePtr add(xmlNodePtr parent, xmlNsPtr ns, const char *name,
                      const char *text, int depth)
{
    if (!indent(parent, depth))
        return NULL;
    return xmlNewTextChild(parent, ns, (const xmlChar *)name, (const xmlChar *)text);
}

/* Register an element's Id attribute as an XML ID (so "#Id" resolves). */
static bool register_id(xmlDocPtr doc, xmlNodePtr n)
{
    xmlAttrPtr a = xmlHasProp(n, (const xmlChar *)"Id");
    xmlChar *v = a ? xmlNodeListGetString(doc, a->children, 1) : NULL;
    bool ok = v && xmlAddID(NULL, doc, v, a) != NULL;
    xmlFree(v);
    return ok;
}

/* The MetadataBinding with the label copied in. NULL when out of memory. */
static xmlNodePtr build_binding(xmlDocPtr doc, xmlNodePtr container, xmlNsPtr mb,
                                xmlNsPtr ds, xmlNsPtr lsn, const xmlNode *label,
                                const char *origin, const char *uuid,
                                const uint8_t digest[FED_DIGEST_SIZE])
{
    char id[BT_ID_MAX], uri[64], b64[80];
    snprintf(id, sizeof id, "%s%s", BT_BINDING_ID_PREFIX, uuid);
    snprintf(uri, sizeof uri, "%s%s", BT_UUID_URN, uuid);
    if (!bt_base64(digest, FED_DIGEST_SIZE, b64, sizeof b64))
        return NULL;
    xmlNodePtr b = add(container, mb, "MetadataBinding", NULL, 2);
    if (!b || !xmlNewProp(b, (const xmlChar *)"Id", (const xmlChar *)id))
        return NULL;
    xmlNodePtr m1 = add(b, mb, "Metadata", NULL, 3);
    xmlNodePtr copy = xmlDocCopyNode((xmlNodePtr)label, doc, 1);
    if (!m1 || !copy || !indent(m1, 4) || !xmlAddChild(m1, copy) || !indent(m1, 3)) {
        xmlFreeNode(copy);
        return NULL;
    }
    xmlNodePtr m2 = add(b, mb, "Metadata", NULL, 3);
    if (!m2 || !add(m2, lsn, "Origin", origin, 4) || !indent(m2, 3))
        return NULL;
    xmlNodePtr dr = add(b, mb, "DataReference", NULL, 3);
    xmlNodePtr dm = dr ? add(dr, ds, "DigestMethod", NULL, 4) : NULL;
    if (!dm || !xmlNewProp(dr, (const xmlChar *)"URI", (const xmlChar *)uri) ||
        !xmlNewProp(dm, (const xmlChar *)"Algorithm", (const xmlChar *)BT_ALG_DIGEST) ||
        !add(dr, ds, "DigestValue", b64, 4) || !indent(dr, 3) || !indent(b, 2))
        return NULL;
    return b;
}

/* The ds:Signature template with its two references and the signing time. */
static xmlNodePtr build_signature(xmlDocPtr doc, xmlNodePtr container, xmlNsPtr lsn,
                                  const char *uuid, time_t when, xmlNodePtr *props)
{
    char sig_id[BT_ID_MAX], bref[BT_ID_MAX + 1], pid[BT_ID_MAX], pref[BT_ID_MAX + 1],
        target[BT_ID_MAX + 1], stamp[BT_TIME_SIZE];
    snprintf(sig_id, sizeof sig_id, "%s%s", BT_SIGNATURE_ID_PREFIX, uuid);
    snprintf(bref, sizeof bref, "#%s%s", BT_BINDING_ID_PREFIX, uuid);
    snprintf(pid, sizeof pid, "%s%s", BT_PROPS_ID_PREFIX, uuid);
    snprintf(pref, sizeof pref, "#%s", pid);
    snprintf(target, sizeof target, "#%s", sig_id);
    if (!bt_format_time(when, stamp))
        return NULL;

    xmlNodePtr sig = xmlSecTmplSignatureCreateNsPref(
        doc, xmlSecTransformExclC14NId, xmlSecOpenSSLTransformEcdsaSha256Id,
        (const xmlChar *)sig_id, (const xmlChar *)"ds");
    if (!sig)
        return NULL;
    if (!indent(container, 2) || !xmlAddChild(container, sig)) {
        xmlFreeNode(sig);
        return NULL;
    }
    const char *uris[2] = {bref, pref};
    for (int i = 0; i < 2; i++) {
        xmlNodePtr ref = xmlSecTmplSignatureAddReference(
            sig, xmlSecOpenSSLTransformSha384Id, NULL, (const xmlChar *)uris[i], NULL);
        if (!ref || !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId))
            return NULL;
    }
    xmlNodePtr obj = xmlSecTmplSignatureAddObject(sig, NULL, NULL, NULL);
    if (!obj)
        return NULL;
    xmlNodePtr sp = xmlNewChild(obj, sig->ns, (const xmlChar *)"SignatureProperties", NULL);
    xmlNodePtr p = sp ? add(sp, sig->ns, "SignatureProperty", NULL, 1) : NULL;
    if (!p || !xmlNewProp(sp, (const xmlChar *)"Id", (const xmlChar *)pid) ||
        !xmlNewProp(p, (const xmlChar *)"Target", (const xmlChar *)target) ||
        !add(p, lsn, "SigningTime", stamp, 2) || !indent(p, 1) || !indent(sp, 0))
        return NULL;
    *props = sp;
    return sig;
}

lsn_err fed_binding_sign(const fed_identity *signer, const char *uuid,
                         const char *label_4774, size_t label_len,
                         const fed_content *content, time_t signing_time, char **out,
                         size_t *out_len, lsn_error *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!signer || !fed_identity_has_key(signer) || !content)
        return core_fail(err, LSN_ERR_ARG, "signing needs the node's private key");
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
    xmlSecDSigCtxPtr ctx = NULL;
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
    xmlNodePtr container = add(root, mb, "MetadataBindingContainer", NULL, 1);
    xmlNodePtr props = NULL;
    xmlNodePtr binding = container ? build_binding(doc, container, mb, ds, lsn, label,
                                                   fed_identity_name(signer), uuid, digest)
                                   : NULL;
    xmlNodePtr sig = binding ? build_signature(doc, container, lsn, uuid,
                                               signing_time ? signing_time : time(NULL),
                                               &props)
                             : NULL;
    if (!sig || !indent(container, 1) || !indent(root, 0) || !register_id(doc, binding) ||
        !register_id(doc, props))
        goto done;

    ctx = xmlSecDSigCtxCreate(NULL);
    if (!ctx)
        goto done;
    ctx->signKey = fed_xmlsec_key(fed_identity_pkey(signer));
    fed_xmlsec_clear_message();
    if (!ctx->signKey || xmlSecDSigCtxSign(ctx, sig) < 0) {
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
    if (ctx)
        xmlSecDSigCtxDestroy(ctx);
    xmlFreeDoc(doc);
    xmlFreeDoc(ldoc);
    return rc;
}
