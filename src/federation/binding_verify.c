/* federation/binding_verify.c — verify a received binding against the
 * origin's pinned certificate, and return only what the signature covers.
 *
 * In order (docs/FEDERATION.md):
 *  1. parse safely (core/xml.c: size cap, no DTD, no entities, no network);
 *     refuse xml:id anywhere (libxml2 would register it as an ID);
 *  2. check the whole document against the profile, strictly: one
 *     container, one MetadataBinding, one ds:Signature whose SignedInfo
 *     names exactly the allowed algorithms and exactly two references,
 *     "#<the binding's Id>" and "#<the properties' Id>", no KeyInfo;
 *  3. register those two Id attributes, and only them, as XML IDs;
 *  4. libxmlsec1 verifies with the pinned key alone (no keys manager, so a
 *     key or certificate in the message is never looked at), with only
 *     same-document references and only the allowed transforms enabled;
 *  5. the fields are read from the canonical bytes each reference digested
 *     (xmlsec keeps them), re-parsed: what is returned is what was signed,
 *     whatever else the document holds (signature wrapping);
 *  6. the origin named in the signed binding must be the pinned
 *     certificate's node (CN): a node signs for itself only.
 * A refusal at any step gives its reason. */
#include "federation/binding.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/hash.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/buffer.h>
#include <xmlsec/list.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/xml.h"
#include "federation/binding_tree.h"
#include "federation/xmlsec_glue.h"

void fed_binding_free(fed_binding *b)
{
    if (!b)
        return;
    lsn_free(b->label_xml);
    lsn_free(b);
}

__attribute__((format(printf, 3, 4)))
static bool refuse(char *reason, size_t size, const char *fmt, ...)
{
    if (reason && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, size, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* An empty algorithm element <ds:NAME Algorithm="want"/>. */
static bool algorithm(const xmlNode *n, const char *name, const char *want)
{
    static const char *const attrs[] = {"Algorithm", NULL};
    const char *alg;
    return bt_is(n, BT_NS_DSIG, name) && bt_attrs_only(n, attrs) &&
           (alg = bt_attr(n, "Algorithm")) && strcmp(alg, want) == 0 && !n->children;
}

/* A ds:Reference: URI="#want_id", one exclusive-C14N transform, SHA-384. */
static bool reference_ok(const xmlNode *ref, const char *want_id, char *reason, size_t size)
{
    static const char *const uri_only[] = {"URI", NULL};
    static const char *const none[] = {NULL};
    bool bad = false;
    const char *uri;
    if (!bt_is(ref, BT_NS_DSIG, "Reference") || !bt_attrs_only(ref, uri_only) ||
        !(uri = bt_attr(ref, "URI")))
        return refuse(reason, size, "a signature reference has no URI or other attributes");
    /* Only "#Id" of the expected element: no external URI, no XPointer. */
    if (uri[0] != '#' || strcmp(uri + 1, want_id) != 0)
        return refuse(reason, size,
                      "a signature reference is not to the binding's own elements: %s", uri);
    xmlNode *tr = bt_next_element(ref, NULL, &bad);
    xmlNode *t = tr ? bt_next_element(tr, NULL, &bad) : NULL;
    if (!bt_is(tr, BT_NS_DSIG, "Transforms") || !bt_attrs_only(tr, none) ||
        !algorithm(t, "Transform", BT_ALG_C14N) || bt_next_element(tr, t, &bad))
        return refuse(reason, size,
                      "a reference's transforms are not exactly exclusive C14N");
    xmlNode *dm = bt_next_element(ref, tr, &bad);
    if (!algorithm(dm, "DigestMethod", BT_ALG_DIGEST))
        return refuse(reason, size, "a reference's digest is not SHA-384");
    xmlNode *dv = bt_next_element(ref, dm, &bad);
    if (!bt_is(dv, BT_NS_DSIG, "DigestValue") || !bt_attrs_only(dv, none) ||
        bt_next_element(ref, dv, &bad) || bad)
        return refuse(reason, size, "a reference is not as the profile writes it");
    return true;
}

/* The checked parts of a received document. */
typedef struct parts {
    xmlNode *binding, *signature, *props;
    char binding_id[BT_ID_MAX], props_id[BT_ID_MAX], sig_id[BT_ID_MAX];
} parts;

/* Step 2: the document's shape, before any cryptography. */
static bool check_shape(xmlDocPtr doc, parts *p, char *reason, size_t size)
{
    static const char *const none[] = {NULL};
    static const char *const id_only[] = {"Id", NULL};
    bool bad = false;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!bt_is(root, BT_NS_4778, "BindingInformation") || !bt_attrs_only(root, none))
        return refuse(reason, size, "not a STANAG 4778 BindingInformation");
    for (xmlNode *c = doc->children; c; c = c->next)
        if (c != root && c->type != XML_COMMENT_NODE)
            return refuse(reason, size, "content outside the root element");
    xmlNode *container = bt_next_element(root, NULL, &bad);
    if (!bt_is(container, BT_NS_4778, "MetadataBindingContainer") ||
        !bt_attrs_only(container, none) || bt_next_element(root, container, &bad))
        return refuse(reason, size, "the root does not hold one MetadataBindingContainer");
    p->binding = bt_next_element(container, NULL, &bad);
    p->signature = p->binding ? bt_next_element(container, p->binding, &bad) : NULL;
    if (!bt_is(p->binding, BT_NS_4778, "MetadataBinding") ||
        !bt_is(p->signature, BT_NS_DSIG, "Signature") ||
        bt_next_element(container, p->signature, &bad) || bad)
        return refuse(reason, size,
                      "the container does not hold exactly one MetadataBinding and its "
                      "Signature");
    bt_binding pre;
    if (!bt_read_binding(p->binding, &pre, reason, size))
        return false;
    snprintf(p->binding_id, sizeof p->binding_id, "%s", pre.id);

    /* ds:Signature Id="signature-UUID": SignedInfo, SignatureValue, Object. */
    const char *sid = bt_attr(p->signature, "Id");
    char want[BT_ID_MAX];
    snprintf(want, sizeof want, "%s%s", BT_SIGNATURE_ID_PREFIX, pre.uuid);
    if (!bt_attrs_only(p->signature, id_only) || !sid || strcmp(sid, want) != 0)
        return refuse(reason, size, "the Signature's Id is not signature-UUID of the item");
    snprintf(p->sig_id, sizeof p->sig_id, "%s", sid);
    xmlNode *si = bt_next_element(p->signature, NULL, &bad);
    xmlNode *sv = si ? bt_next_element(p->signature, si, &bad) : NULL;
    xmlNode *obj = sv ? bt_next_element(p->signature, sv, &bad) : NULL;
    if (!bt_is(si, BT_NS_DSIG, "SignedInfo") || !bt_attrs_only(si, none) ||
        !bt_is(sv, BT_NS_DSIG, "SignatureValue") || !bt_attrs_only(sv, none) ||
        !bt_is(obj, BT_NS_DSIG, "Object") || !bt_attrs_only(obj, none) ||
        bt_next_element(p->signature, obj, &bad) || bad)
        return refuse(reason, size,
                      "the Signature is not SignedInfo, SignatureValue and one Object "
                      "(a KeyInfo is never read: the key is pinned)");
    p->props = bt_next_element(obj, NULL, &bad);
    time_t t;
    if (!p->props || bt_next_element(obj, p->props, &bad) || bad)
        return refuse(reason, size, "the Object is not one SignatureProperties");
    if (!bt_read_properties(p->props, p->sig_id, p->props_id, &t, reason, size))
        return false;
    if (strcmp(p->props_id + strlen(BT_PROPS_ID_PREFIX), pre.uuid) != 0)
        return refuse(reason, size, "the SignatureProperties belong to another item");

    xmlNode *c14n = bt_next_element(si, NULL, &bad);
    xmlNode *sm = c14n ? bt_next_element(si, c14n, &bad) : NULL;
    if (!algorithm(c14n, "CanonicalizationMethod", BT_ALG_C14N))
        return refuse(reason, size, "the canonicalization is not exclusive C14N");
    if (!algorithm(sm, "SignatureMethod", BT_ALG_SIGNATURE))
        return refuse(reason, size, "the signature algorithm is not ECDSA-SHA256");
    xmlNode *r1 = bt_next_element(si, sm, &bad);
    if (!reference_ok(r1, p->binding_id, reason, size))
        return false;
    xmlNode *r2 = bt_next_element(si, r1, &bad);
    if (!reference_ok(r2, p->props_id, reason, size))
        return false;
    if (bt_next_element(si, r2, &bad) || bad)
        return refuse(reason, size, "the SignedInfo holds more than two references");
    return true;
}

static bool register_id(xmlDocPtr doc, xmlNode *n, const char *id)
{
    xmlAttrPtr a = xmlHasProp(n, (const xmlChar *)"Id");
    return a && xmlAddID(NULL, doc, (const xmlChar *)id, a) != NULL;
}

/* The exclusive-C14N bytes of a node, standalone (its own document). */
static bool c14n_of(const xmlNode *n, char **out, size_t *len)
{
    xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr copy = d ? xmlDocCopyNode((xmlNodePtr)n, d, 1) : NULL;
    xmlChar *mem = NULL;
    int size = -1;
    if (copy) {
        xmlDocSetRootElement(d, copy);
        size = xmlC14NDocDumpMemory(d, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, &mem);
    }
    bool ok = size > 0 && (*out = core_malloc((size_t)size + 1)) != NULL;
    if (ok) {
        memcpy(*out, mem, (size_t)size);
        (*out)[size] = '\0';
        *len = (size_t)size;
    }
    xmlFree(mem);
    xmlFreeDoc(d);
    return ok;
}

/* The document a reference digested, re-parsed. NULL when it is missing. */
static xmlDocPtr digested(xmlSecDSigReferenceCtxPtr ref)
{
    xmlSecBufferPtr buf = xmlSecDSigReferenceCtxGetPreDigestBuffer(ref);
    if (!buf || !xmlSecBufferGetData(buf) || xmlSecBufferGetSize(buf) == 0)
        return NULL;
    return xml_parse((const char *)xmlSecBufferGetData(buf), xmlSecBufferGetSize(buf),
                     "signed bytes", NULL);
}

/* Step 5: read the result from what the two references digested. */
static lsn_err read_signed(xmlSecDSigCtxPtr ctx, const fed_identity *pinned,
                           const parts *p, fed_binding **out, char *reason, size_t size)
{
    if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 2) {
        refuse(reason, size, "the signature did not check two references");
        return LSN_OK;
    }
    xmlSecDSigReferenceCtxPtr r[2];
    for (xmlSecSize i = 0; i < 2; i++) {
        r[i] = xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
        if (!r[i] || r[i]->status != xmlSecDSigStatusSucceeded || !r[i]->uri ||
            strcmp((const char *)r[i]->uri + 1, i == 0 ? p->binding_id : p->props_id) != 0) {
            refuse(reason, size, "a reference did not verify");
            return LSN_OK;
        }
    }
    xmlDocPtr bdoc = digested(r[0]), pdoc = digested(r[1]);
    bt_binding b;
    char pid[BT_ID_MAX];
    time_t when = 0;
    lsn_err rc = LSN_OK;
    if (!bdoc || !pdoc) {
        refuse(reason, size, "the signed bytes cannot be read back");
    } else if (bt_read_binding(xmlDocGetRootElement(bdoc), &b, reason, size) &&
               bt_read_properties(xmlDocGetRootElement(pdoc), p->sig_id, pid, &when, reason,
                                  size)) {
        if (strcmp(b.id, p->binding_id) != 0 || strcmp(pid, p->props_id) != 0) {
            refuse(reason, size, "the signed elements are not the ones named");
        } else if (strcmp(b.origin, fed_identity_name(pinned)) != 0) {
            /* A node signs for itself only: the origin it names must be the
             * node the pinned certificate belongs to. */
            refuse(reason, size, "the binding names the origin '%s', not the pinned "
                                 "certificate's node '%s'", b.origin, fed_identity_name(pinned));
        } else {
            fed_binding *res = core_calloc(1, sizeof *res);
            if (!res || !c14n_of(b.label, &res->label_xml, &res->label_len)) {
                fed_binding_free(res);
                rc = LSN_ERR_NOMEM;
            } else {
                snprintf(res->origin, sizeof res->origin, "%s", b.origin);
                snprintf(res->uuid, sizeof res->uuid, "%s", b.uuid);
                memcpy(res->digest, b.digest, FED_DIGEST_SIZE);
                res->signing_time = when;
                *out = res;
            }
        }
    }
    xmlFreeDoc(bdoc);
    xmlFreeDoc(pdoc);
    return rc;
}

/* Step 4: libxmlsec1 with the pinned key and the allow-lists. */
static lsn_err check_signature(const fed_identity *pinned, const parts *p,
                               fed_binding **out, char *reason, size_t size)
{
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    if (!ctx)
        return LSN_ERR_NOMEM;
    lsn_err rc = LSN_OK;
    ctx->flags = XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES;
    ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
    ctx->signKey = fed_xmlsec_key(fed_identity_pkey(pinned));
    if (!ctx->signKey ||
        xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecOpenSSLTransformSha384Id) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecOpenSSLTransformEcdsaSha256Id) < 0) {
        rc = LSN_ERR_NOMEM;
        goto done;
    }
    fed_xmlsec_clear_message();
    if (xmlSecDSigCtxVerify(ctx, p->signature) < 0) {
        refuse(reason, size, "the signature cannot be processed: %s", fed_xmlsec_message());
        goto done;
    }
    if (ctx->status != xmlSecDSigStatusSucceeded) {
        refuse(reason, size,
               "the signature does not verify with the pinned certificate (altered, or "
               "signed by another key)");
        goto done;
    }
    rc = read_signed(ctx, pinned, p, out, reason, size);
done:
    xmlSecDSigCtxDestroy(ctx);
    return rc;
}

lsn_err fed_binding_verify(const fed_identity *pinned, const void *data, size_t len,
                           fed_binding **out, char *reason, size_t reason_size)
{
    if (reason && reason_size)
        reason[0] = '\0';
    if (!out)
        return LSN_ERR_ARG;
    *out = NULL;
    if (!pinned || (!data && len)) {
        refuse(reason, reason_size, "no pinned certificate or no data");
        return LSN_ERR_ARG;
    }
    if (len > FED_BINDING_MAX_BYTES) {
        refuse(reason, reason_size, "the binding is larger than the profile allows");
        return LSN_OK;
    }
    if (!fed_xmlsec_ready())
        return LSN_ERR_NOMEM;

    lsn_error perr = {0};
    xmlDocPtr doc = xml_parse(data, len, "binding", &perr);
    if (!doc) {
        if (perr.code == LSN_ERR_NOMEM)
            return LSN_ERR_NOMEM;
        refuse(reason, reason_size, "%s", perr.message);
        return LSN_OK;
    }
    lsn_err rc = LSN_OK;
    parts p;
    memset(&p, 0, sizeof p);
    /* Step 1: libxml2 registers xml:id attributes while parsing; an ID we
     * did not place could make a reference resolve elsewhere. */
    if (doc->ids && xmlHashSize((xmlHashTablePtr)doc->ids) > 0)
        refuse(reason, reason_size, "xml:id attributes are refused");
    else if (!check_shape(doc, &p, reason, reason_size))
        ;
    else if (strcmp(p.binding_id, p.props_id) == 0 ||
             !register_id(doc, p.binding, p.binding_id) ||
             !register_id(doc, p.props, p.props_id))
        refuse(reason, reason_size, "the binding's Ids cannot be registered");
    else
        rc = check_signature(pinned, &p, out, reason, reason_size);
    xmlFreeDoc(doc);
    if (rc != LSN_OK && *out) {
        fed_binding_free(*out);
        *out = NULL;
    }
    return rc;
}
