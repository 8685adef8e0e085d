/* federation/binding_receive.c — equivalent policies at the boundary, the
 * receiver's side: verify the originator's binding and, when a translating
 * node added one, its signed alternative label; then choose the label to
 * decide on under this node's own policy (translate.h says which). The
 * originator's container is verified exactly as fed_binding_verify does
 * (binding_verify.c); the translation's with the same steps
 * (binding_check.c) against the translator's pinned certificate. */
#include "federation/translate.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/alloc.h"
#include "federation/binding_check.h"
#include "federation/binding_internal.h"

void fed_received_free(fed_received *r)
{
    if (!r)
        return;
    fed_binding_free(r->binding);
    lsn_free(r->alternative_xml);
    lsn_label_free(r->label);
    lsn_free(r);
}

/* Read what the translator's three references digested: its binding, the
 * originator's binding as it covered it, its signing time. */
static bool read_translation(xmlDocPtr docs[BC_MAX_REFS], const bc_parts *p,
                             const fed_identity *translator, const fed_binding *origin,
                             const char *origin_id, fed_received *r, char *reason, size_t size)
{
    bt_binding t, o;
    char pid[BT_ID_MAX];
    char *ol = NULL;
    size_t ol_len = 0;
    if (!bt_read_binding_as(&bt_translation_kind, xmlDocGetRootElement(docs[0]), &t, reason,
                            size) ||
        !bt_read_binding(xmlDocGetRootElement(docs[1]), &o, reason, size) ||
        !bt_read_properties_as(&bt_translation_kind, xmlDocGetRootElement(docs[2]), p->sig_id,
                               pid, &r->translation_time, reason, size))
        return false;
    if (strcmp(t.id, p->binding_id) != 0 || strcmp(pid, p->props_id) != 0 ||
        strcmp(o.id, origin_id) != 0)
        return bc_refuse(reason, size, "the translation's signed elements are not the ones "
                                       "named");
    if (strcmp(t.origin, fed_identity_name(translator)) != 0)
        return bc_refuse(reason, size, "the translation names the translator '%s', not the "
                                       "pinned certificate's node '%s'", t.origin,
                         fed_identity_name(translator));
    /* The same item, and the originator's label as the origin signed it. */
    bool same = strcmp(t.uuid, origin->uuid) == 0 &&
                CRYPTO_memcmp(t.digest, origin->digest, FED_DIGEST_SIZE) == 0 &&
                strcmp(o.uuid, origin->uuid) == 0 && strcmp(o.channel, origin->channel) == 0 &&
                CRYPTO_memcmp(o.digest, origin->digest, FED_DIGEST_SIZE) == 0 &&
                bc_c14n_of(o.label, &ol, &ol_len) && ol_len == origin->label_len &&
                memcmp(ol, origin->label_xml, ol_len) == 0;
    lsn_free(ol);
    if (!same)
        return bc_refuse(reason, size, "the translation is not of this item and its "
                                       "originator's label");
    snprintf(r->translator, sizeof r->translator, "%s", t.origin);
    if (!bc_c14n_of(t.label, &r->alternative_xml, &r->alternative_len))
        return bc_refuse(reason, size, "out of memory");
    r->translated = true;
    return true;
}

/* The translator's container: shape, signature, what it covers. */
static lsn_err verify_translation(const fed_identity *translator, xmlDocPtr doc,
                                  xmlNode *container, const char *origin_id, fed_received *r,
                                  bool *ok, char *reason, size_t size)
{
    *ok = false;
    bc_parts p;
    const char *extra[] = {origin_id};
    if (!translator) {
        bc_refuse(reason, size, "the binding carries a translation, and no translator is "
                                "known to check it");
        return LSN_OK;
    }
    if (!bc_check_container(&bt_translation_kind, container, extra, 1, &p, reason, size))
        return LSN_OK;
    if (strcmp(p.uuid, r->binding->uuid) != 0) {
        bc_refuse(reason, size, "the translation is of another item");
        return LSN_OK;
    }
    if (!bc_register_id(doc, p.binding, p.binding_id) ||
        !bc_register_id(doc, p.props, p.props_id)) {
        bc_refuse(reason, size, "the translation's Ids cannot be registered");
        return LSN_OK;
    }
    xmlDocPtr docs[BC_MAX_REFS];
    bool verified = false;
    lsn_err rc = bc_verify_signature(translator, &p, docs, NULL, NULL, &verified, reason, size);
    if (rc == LSN_OK && verified)
        *ok = read_translation(docs, &p, translator, r->binding, origin_id, r, reason, size);
    for (int i = 0; i < BC_MAX_REFS; i++)
        xmlFreeDoc(docs[i]);
    return rc;
}

/* A label of `set` written in JSON, to compare two labels. */
static bool same_label(const lsn_label *a, const lsn_label *b)
{
    char *x = NULL, *y = NULL;
    bool same = lsn_label_write(a, LSN_FORM_JSON, &x, NULL, NULL) == LSN_OK &&
                lsn_label_write(b, LSN_FORM_JSON, &y, NULL, NULL) == LSN_OK && strcmp(x, y) == 0;
    lsn_free(x);
    lsn_free(y);
    return same;
}

/* Parse a label and require it under `own`, valid. */
static lsn_err own_label(const lsn_policy_set *set, const lsn_policy *own, const char *xml,
                         size_t len, const char *what, lsn_label **out, char *reason,
                         size_t size)
{
    lsn_error e = {0};
    bool valid = false;
    char why[256] = "";
    bool refused = true;
    lsn_err rc = lsn_label_parse(set, xml, len, LSN_FORM_4774, out, &e);
    if (rc == LSN_ERR_NOMEM)
        return rc;
    if (rc != LSN_OK)
        bc_refuse(reason, size, "the %s cannot be read here: %s", what, e.message);
    else if (lsn_label_policy(*out) != own)
        bc_refuse(reason, size, "the %s is under policy %s, not this node's %s", what,
                  lsn_policy_name(lsn_label_policy(*out)), lsn_policy_name(own));
    else if (lsn_label_validate(*out, &valid, why, sizeof why) != LSN_OK || !valid)
        bc_refuse(reason, size, "the %s is not valid under this node's policy: %s", what, why);
    else
        refused = false;
    if (refused) {
        lsn_label_free(*out);
        *out = NULL;
    }
    return LSN_OK;
}

/* Choose the label to decide on (translate.h). */
static lsn_err choose(fed_received *r, const lsn_policy_set *set, const lsn_policy *own,
                      char *reason, size_t size)
{
    lsn_label *orig = NULL, *mine = NULL;
    lsn_error e = {0};
    lsn_err rc = lsn_label_parse(set, r->binding->label_xml, r->binding->label_len,
                                 LSN_FORM_4774, &orig, &e);
    if (rc == LSN_ERR_NOMEM)
        return rc;
    if (rc != LSN_OK && rc != LSN_ERR_UNKNOWN_POLICY) {
        bc_refuse(reason, size, "the originator's label cannot be read here: %s", e.message);
        return LSN_OK;
    }
    rc = LSN_OK;
    if (orig && lsn_label_policy(orig) == own) {
        lsn_label_free(orig);
        return own_label(set, own, r->binding->label_xml, r->binding->label_len,
                         "originator's label", &r->label, reason, size);
    }
    /* The receiver's own translation, when it knows the originator's policy. */
    if (orig && lsn_label_translate(orig, set, lsn_policy_id(own), &mine, &e) != LSN_OK)
        mine = NULL;
    if (r->translated) {
        if ((rc = own_label(set, own, r->alternative_xml, r->alternative_len,
                            "alternative label", &r->label, reason, size)) != LSN_OK ||
            !r->label)
            goto done;
        if (orig && (!mine || !same_label(mine, r->label))) {
            bc_refuse(reason, size, "the alternative label is not the equivalent of the "
                                    "originator's under this node's policies");
            lsn_label_free(r->label);
            r->label = NULL;
            goto done;
        }
        r->label_is_alternative = true;
    } else if (mine) {
        bool valid = false;
        if (lsn_label_validate(mine, &valid, NULL, 0) == LSN_OK && valid) {
            r->label = mine;
            mine = NULL;
        } else {
            bc_refuse(reason, size, "the originator's label has no valid equivalent under "
                                    "this node's policy");
        }
    } else {
        bc_refuse(reason, size, orig ? "the originator's label has no equivalent under this "
                                       "node's policy, and no alternative label was added"
                                     : "the originator's policy is not known here, and no "
                                       "alternative label was added");
    }
done:
    lsn_label_free(mine);
    lsn_label_free(orig);
    return rc;
}

lsn_err fed_binding_receive(const fed_identity *origin, const fed_identity *translator,
                            const void *data, size_t len, const lsn_policy_set *set,
                            const char *own_policy_oid, fed_received **out, char *reason,
                            size_t reason_size)
{
    if (reason && reason_size)
        reason[0] = '\0';
    if (!out)
        return LSN_ERR_ARG;
    *out = NULL;
    const lsn_policy *own = set && own_policy_oid ? lsn_policy_set_find_id(set, own_policy_oid)
                                                  : NULL;
    if (!origin || (!data && len) || !own) {
        bc_refuse(reason, reason_size, "no pinned certificate, no data or no own policy");
        return LSN_ERR_ARG;
    }
    lsn_err rc = LSN_OK;
    xmlNode *containers[2] = {NULL, NULL};
    int found = 0;
    xmlDocPtr doc = bc_parse(data, len, containers, 2, &found, &rc, reason, reason_size);
    if (!doc)
        return rc;
    char origin_id[BT_ID_MAX] = "";
    bool ok = false;
    fed_received *r = core_calloc(1, sizeof *r);
    if (!r) {
        rc = LSN_ERR_NOMEM;
        goto done;
    }
    rc = fed_binding_verify_container(origin, doc, containers[0], &r->binding, origin_id,
                                      reason, reason_size);
    if (rc != LSN_OK || !r->binding)
        goto done;
    if (found == 2) {
        rc = verify_translation(translator, doc, containers[1], origin_id, r, &ok, reason,
                                reason_size);
        if (rc != LSN_OK || !ok)
            goto done;
    }
    rc = choose(r, set, own, reason, reason_size);
    if (rc == LSN_OK && r->label) {
        *out = r;
        r = NULL;
    }
done:
    fed_received_free(r);
    xmlFreeDoc(doc);
    return rc;
}
