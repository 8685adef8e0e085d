/* federation/binding_verify.c — verify a received binding against the
 * origin's pinned certificate, and return only what the signature covers.
 *
 * In order (docs/FEDERATION.md; the steps are in binding_check.c):
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

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "federation/binding_check.h"
#include "federation/binding_internal.h"

void fed_binding_free(fed_binding *b)
{
    if (!b)
        return;
    lsn_free(b->label_xml);
    lsn_free(b);
}

/* Step 5: read the result from what the two references digested. */
static lsn_err read_signed(xmlDocPtr bdoc, xmlDocPtr pdoc, const fed_identity *pinned,
                           const bc_parts *p, fed_binding **out, char *reason, size_t size)
{
    bt_binding b;
    char pid[BT_ID_MAX];
    time_t when = 0;
    if (!bt_read_binding(xmlDocGetRootElement(bdoc), &b, reason, size) ||
        !bt_read_properties(xmlDocGetRootElement(pdoc), p->sig_id, pid, &when, reason, size))
        return LSN_OK;
    if (strcmp(b.id, p->binding_id) != 0 || strcmp(pid, p->props_id) != 0) {
        bc_refuse(reason, size, "the signed elements are not the ones named");
        return LSN_OK;
    }
    if (strcmp(b.origin, fed_identity_name(pinned)) != 0) {
        /* A node signs for itself only: the origin it names must be the
         * node the pinned certificate belongs to. */
        bc_refuse(reason, size, "the binding names the origin '%s', not the pinned "
                                "certificate's node '%s'", b.origin, fed_identity_name(pinned));
        return LSN_OK;
    }
    fed_binding *res = core_calloc(1, sizeof *res);
    if (!res || !bc_c14n_of(b.label, &res->label_xml, &res->label_len)) {
        fed_binding_free(res);
        return LSN_ERR_NOMEM;
    }
    snprintf(res->origin, sizeof res->origin, "%s", b.origin);
    snprintf(res->uuid, sizeof res->uuid, "%s", b.uuid);
    snprintf(res->channel, sizeof res->channel, "%s", b.channel);
    memcpy(res->digest, b.digest, FED_DIGEST_SIZE);
    res->signing_time = when;
    *out = res;
    return LSN_OK;
}

lsn_err fed_binding_verify_container(const fed_identity *pinned, xmlDocPtr doc,
                                     xmlNode *container, fed_binding **out,
                                     char binding_id[BT_ID_MAX], char *reason, size_t size)
{
    bc_parts p;
    if (!bc_check_container(&bt_origin_kind, container, NULL, 0, &p, reason, size))
        return LSN_OK;
    if (strcmp(p.binding_id, p.props_id) == 0 || !bc_register_id(doc, p.binding, p.binding_id) ||
        !bc_register_id(doc, p.props, p.props_id)) {
        bc_refuse(reason, size, "the binding's Ids cannot be registered");
        return LSN_OK;
    }
    xmlDocPtr docs[BC_MAX_REFS];
    bool verified = false;
    lsn_err rc = bc_verify_signature(pinned, &p, docs, NULL, NULL, &verified, reason, size);
    if (rc == LSN_OK && verified)
        rc = read_signed(docs[0], docs[1], pinned, &p, out, reason, size);
    if (rc == LSN_OK && *out && binding_id)
        snprintf(binding_id, BT_ID_MAX, "%s", p.binding_id);
    for (int i = 0; i < BC_MAX_REFS; i++)
        xmlFreeDoc(docs[i]);
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
        bc_refuse(reason, reason_size, "no pinned certificate or no data");
        return LSN_ERR_ARG;
    }
    lsn_err rc = LSN_OK;
    xmlNode *container = NULL;
    xmlDocPtr doc = bc_parse(data, len, &container, 1, NULL, &rc, reason, reason_size);
    if (!doc)
        return rc;
    rc = fed_binding_verify_container(pinned, doc, container, out, NULL, reason, reason_size);
    xmlFreeDoc(doc);
    if (rc != LSN_OK && *out) {
        fed_binding_free(*out);
        *out = NULL;
    }
    return rc;
}
