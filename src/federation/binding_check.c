/* federation/binding_check.c — the steps of verifying one signed container
 * of the binding profile (binding_check.h): safe parse and root, the strict
 * shape of a container before any cryptography, and libxmlsec1's
 * verification with a pinned key, giving back the bytes each reference
 * digested. Used for the originator's binding (binding_verify.c) and for a
 * translating node's alternative label (binding_alternative.c). */
#include "federation/binding_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/hash.h>
#include <libxml/valid.h>
#include <xmlsec/buffer.h>
#include <xmlsec/list.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/xml.h"
#include "federation/xmlsec_glue.h"

bool bc_refuse(char *reason, size_t size, const char *fmt, ...)
{
    if (reason && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, size, fmt, ap);
        va_end(ap);
    }
    return false;
}

xmlDocPtr bc_parse(const void *data, size_t len, xmlNode **containers, int n, int *found,
                   lsn_err *rc, char *reason, size_t size)
{
    static const char *const none[] = {NULL};
    *rc = LSN_OK;
    if (reason && size)
        reason[0] = '\0';
    if (len > FED_BINDING_MAX_BYTES) {
        bc_refuse(reason, size, "the binding is larger than the profile allows");
        return NULL;
    }
    if (!fed_xmlsec_ready()) {
        *rc = LSN_ERR_NOMEM;
        return NULL;
    }
    lsn_error perr = {0};
    xmlDocPtr doc = xml_parse(data, len, "binding", &perr);
    if (!doc) {
        if (perr.code == LSN_ERR_NOMEM)
            *rc = LSN_ERR_NOMEM;
        else
            bc_refuse(reason, size, "%s", perr.message);
        return NULL;
    }
    /* libxml2 registers xml:id attributes while parsing; an ID we did not
     * place could make a reference resolve elsewhere. */
    bool ok = true, bad = false;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (doc->ids && xmlHashSize((xmlHashTablePtr)doc->ids) > 0)
        ok = bc_refuse(reason, size, "xml:id attributes are refused");
    else if (!bt_is(root, BT_NS_4778, "BindingInformation") || !bt_attrs_only(root, none))
        ok = bc_refuse(reason, size, "not a STANAG 4778 BindingInformation");
    for (xmlNode *c = doc->children; ok && c; c = c->next)
        if (c != root && c->type != XML_COMMENT_NODE)
            ok = bc_refuse(reason, size, "content outside the root element");
    xmlNode *prev = NULL, *next;
    int count = 0;
    while (ok && (next = bt_next_element(root, prev, &bad)) != NULL) {
        if (count == n || !bt_is(next, BT_NS_4778, "MetadataBindingContainer") ||
            !bt_attrs_only(next, none))
            ok = false;
        else
            prev = containers[count++] = next;
    }
    if (bad || count < (found ? 1 : n))
        ok = false;
    if (found)
        *found = count;
    if (!ok) {
        if (reason && size && !reason[0])
            bc_refuse(reason, size, n == 1 ? "the root does not hold one MetadataBindingContainer"
                                           : "the root does not hold the originator's "
                                             "MetadataBindingContainer and at most one "
                                             "translation");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
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
        return bc_refuse(reason, size, "a signature reference has no URI or other attributes");
    /* Only "#Id" of the expected element: no external URI, no XPointer. */
    if (uri[0] != '#' || strcmp(uri + 1, want_id) != 0)
        return bc_refuse(reason, size,
                         "a signature reference is not to the binding's own elements: %s", uri);
    xmlNode *tr = bt_next_element(ref, NULL, &bad);
    xmlNode *t = tr ? bt_next_element(tr, NULL, &bad) : NULL;
    if (!bt_is(tr, BT_NS_DSIG, "Transforms") || !bt_attrs_only(tr, none) ||
        !algorithm(t, "Transform", BT_ALG_C14N) || bt_next_element(tr, t, &bad))
        return bc_refuse(reason, size,
                         "a reference's transforms are not exactly exclusive C14N");
    xmlNode *dm = bt_next_element(ref, tr, &bad);
    if (!algorithm(dm, "DigestMethod", BT_ALG_DIGEST))
        return bc_refuse(reason, size, "a reference's digest is not SHA-384");
    xmlNode *dv = bt_next_element(ref, dm, &bad);
    if (!bt_is(dv, BT_NS_DSIG, "DigestValue") || !bt_attrs_only(dv, none) ||
        bt_next_element(ref, dv, &bad) || bad)
        return bc_refuse(reason, size, "a reference is not as the profile writes it");
    return true;
}

bool bc_check_container(const bt_kind *k, xmlNode *container, const char *const *extra,
                        int nextra, bc_parts *p, char *reason, size_t size)
{
    static const char *const none[] = {NULL};
    static const char *const id_only[] = {"Id", NULL};
    bool bad = false;
    memset(p, 0, sizeof *p);
    if (nextra < 0 || nextra > BC_MAX_REFS - 2)
        return bc_refuse(reason, size, "too many references");
    p->binding = bt_next_element(container, NULL, &bad);
    p->signature = p->binding ? bt_next_element(container, p->binding, &bad) : NULL;
    if (!bt_is(p->binding, BT_NS_4778, "MetadataBinding") ||
        !bt_is(p->signature, BT_NS_DSIG, "Signature") ||
        bt_next_element(container, p->signature, &bad) || bad)
        return bc_refuse(reason, size,
                         "the container does not hold exactly one MetadataBinding and its "
                         "Signature");
    bt_binding pre;
    if (!bt_read_binding_as(k, p->binding, &pre, reason, size))
        return false;
    snprintf(p->binding_id, sizeof p->binding_id, "%s", pre.id);
    snprintf(p->uuid, sizeof p->uuid, "%s", pre.uuid);

    /* ds:Signature Id="PREFIX-UUID": SignedInfo, SignatureValue, Object. */
    const char *sid = bt_attr(p->signature, "Id");
    char want[BT_ID_MAX];
    snprintf(want, sizeof want, "%s%s", k->signature_prefix, pre.uuid);
    if (!bt_attrs_only(p->signature, id_only) || !sid || strcmp(sid, want) != 0)
        return bc_refuse(reason, size, "the Signature's Id is not %sUUID of the item",
                         k->signature_prefix);
    snprintf(p->sig_id, sizeof p->sig_id, "%s", sid);
    xmlNode *si = bt_next_element(p->signature, NULL, &bad);
    xmlNode *sv = si ? bt_next_element(p->signature, si, &bad) : NULL;
    xmlNode *obj = sv ? bt_next_element(p->signature, sv, &bad) : NULL;
    if (!bt_is(si, BT_NS_DSIG, "SignedInfo") || !bt_attrs_only(si, none) ||
        !bt_is(sv, BT_NS_DSIG, "SignatureValue") || !bt_attrs_only(sv, none) ||
        !bt_is(obj, BT_NS_DSIG, "Object") || !bt_attrs_only(obj, none) ||
        bt_next_element(p->signature, obj, &bad) || bad)
        return bc_refuse(reason, size,
                         "the Signature is not SignedInfo, SignatureValue and one Object "
                         "(a KeyInfo is never read: the key is pinned)");
    p->props = bt_next_element(obj, NULL, &bad);
    time_t t;
    if (!p->props || bt_next_element(obj, p->props, &bad) || bad)
        return bc_refuse(reason, size, "the Object is not one SignatureProperties");
    if (!bt_read_properties_as(k, p->props, p->sig_id, p->props_id, &t, reason, size))
        return false;
    if (strcmp(p->props_id + strlen(k->props_prefix), pre.uuid) != 0)
        return bc_refuse(reason, size, "the SignatureProperties belong to another item");

    xmlNode *c14n = bt_next_element(si, NULL, &bad);
    xmlNode *sm = c14n ? bt_next_element(si, c14n, &bad) : NULL;
    if (!algorithm(c14n, "CanonicalizationMethod", BT_ALG_C14N))
        return bc_refuse(reason, size, "the canonicalization is not exclusive C14N");
    if (!algorithm(sm, "SignatureMethod", BT_ALG_SIGNATURE))
        return bc_refuse(reason, size, "the signature algorithm is not ECDSA-SHA256");
    p->refs[p->nrefs++] = p->binding_id;
    for (int i = 0; i < nextra; i++)
        p->refs[p->nrefs++] = extra[i];
    p->refs[p->nrefs++] = p->props_id;
    xmlNode *r = sm;
    for (int i = 0; i < p->nrefs; i++) {
        r = bt_next_element(si, r, &bad);
        if (!reference_ok(r, p->refs[i], reason, size))
            return false;
    }
    if (bt_next_element(si, r, &bad) || bad)
        return bc_refuse(reason, size, "the SignedInfo holds more than %d references",
                         p->nrefs);
    return true;
}

bool bc_register_id(xmlDocPtr doc, xmlNode *n, const char *id)
{
    xmlAttrPtr a = xmlHasProp(n, (const xmlChar *)"Id");
    return a && xmlAddID(NULL, doc, (const xmlChar *)id, a) != NULL;
}

bool bc_c14n_of(const xmlNode *n, char **out, size_t *len)
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

/* The bytes a reference digested, copied, and re-parsed. */
static bool digested(xmlSecDSigReferenceCtxPtr ref, xmlDocPtr *doc, char **bytes, size_t *len)
{
    xmlSecBufferPtr buf = xmlSecDSigReferenceCtxGetPreDigestBuffer(ref);
    if (!buf || !xmlSecBufferGetData(buf) || xmlSecBufferGetSize(buf) == 0)
        return false;
    const char *data = (const char *)xmlSecBufferGetData(buf);
    size_t n = xmlSecBufferGetSize(buf);
    *doc = xml_parse(data, n, "signed bytes", NULL);
    if (*doc && bytes) {
        if (!(*bytes = core_malloc(n + 1)))
            return false;
        memcpy(*bytes, data, n);
        (*bytes)[n] = '\0';
        *len = n;
    }
    return *doc != NULL;
}

lsn_err bc_verify_signature(const fed_identity *pinned, const bc_parts *p,
                            xmlDocPtr docs[BC_MAX_REFS], char *bytes[BC_MAX_REFS],
                            size_t lens[BC_MAX_REFS], bool *verified, char *reason,
                            size_t size)
{
    *verified = false;
    for (int i = 0; i < BC_MAX_REFS; i++) {
        docs[i] = NULL;
        if (bytes)
            bytes[i] = NULL;
    }
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
        bc_refuse(reason, size, "the signature cannot be processed: %s", fed_xmlsec_message());
        goto done;
    }
    if (ctx->status != xmlSecDSigStatusSucceeded) {
        bc_refuse(reason, size,
                  "the signature does not verify with the pinned certificate (altered, or "
                  "signed by another key)");
        goto done;
    }
    if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != (xmlSecSize)p->nrefs) {
        bc_refuse(reason, size, "the signature did not check %d references", p->nrefs);
        goto done;
    }
    for (int i = 0; i < p->nrefs; i++) {
        xmlSecDSigReferenceCtxPtr r = xmlSecPtrListGetItem(&ctx->signedInfoReferences,
                                                           (xmlSecSize)i);
        if (!r || r->status != xmlSecDSigStatusSucceeded || !r->uri ||
            strcmp((const char *)r->uri + 1, p->refs[i]) != 0) {
            bc_refuse(reason, size, "a reference did not verify");
            goto done;
        }
        if (!digested(r, &docs[i], bytes ? &bytes[i] : NULL, lens ? &lens[i] : NULL)) {
            bc_refuse(reason, size, "the signed bytes cannot be read back");
            goto done;
        }
    }
    *verified = true;
done:
    if (!*verified)
        for (int i = 0; i < BC_MAX_REFS; i++) {
            xmlFreeDoc(docs[i]);
            docs[i] = NULL;
            if (bytes) {
                lsn_free(bytes[i]);
                bytes[i] = NULL;
            }
        }
    xmlSecDSigCtxDestroy(ctx);
    return rc;
}
