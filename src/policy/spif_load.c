/* policy/spif_load.c — loading an Open XML SPIF (2.0 or 2.1, with or without
 * a namespace prefix) into a compiled policy: the document, the policy's
 * identity, equivalent policies and classifications; tag sets are read by
 * spif_tags.c, markings by spif_marking.c, references by spif_rules.c.
 *
 * SPIFs are administrator input, but they are parsed as defensively as
 * labels: every refusal names the file, the line, the element and what is
 * wrong. A SPIF must be well-formed (spif_tree.c tolerates one slip only, a
 * misspelt end tag, which a shared conformance vector has) and whole: every
 * reference resolves, every tag set has tags and every tag categories. */
#include "policy/spif.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/xml.h"

/* hierarchy= : an optionally negative decimal integer. */
static lsn_err parse_hierarchy(spif_ctx *c, const snode *n, long *out)
{
    const char *v = sn_attr(n, "hierarchy");
    if (!v)
        return spif_fail(c, n, "missing attribute hierarchy=");
    const char *s = v;
    while (*s == ' ')
        s++;
    bool neg = *s == '-';
    if (neg)
        s++;
    uint32_t mag;
    if (!lacv_parse(s, &mag) || mag > 0x7fffffffu)
        return spif_fail(c, n, "hierarchy=\"%.64s\" is not an integer", v);
    *out = neg ? -(long)mag : (long)mag;
    return LSN_OK;
}

static lsn_err parse_equiv_policies(spif_ctx *c, const snode *root)
{
    lsn_policy *p = c->p;
    snode *eps = sn_child(root, "equivalentPolicies");
    size_t count = 0;
    for (snode *e = sn_child(eps, "equivalentPolicy"); e; e = sn_next(e, "equivalentPolicy"))
        count++;
    if (count == 0)
        return LSN_OK;
    p->equiv_policies = policy_array(p, count, sizeof *p->equiv_policies);
    if (!p->equiv_policies)
        return spif_nomem(c);
    lsn_err rc;
    for (snode *e = sn_child(eps, "equivalentPolicy"); e; e = sn_next(e, "equivalentPolicy")) {
        equiv_policy *ep = &p->equiv_policies[p->nequiv_policies++];
        if ((rc = spif_attr(c, e, "name", true, &ep->name)) ||
            (rc = spif_attr(c, e, "id", true, &ep->id)) ||
            (rc = spif_rules(c, e, &ep->nrules, &ep->rules)))
            return rc;
    }
    return LSN_OK;
}

static lsn_err parse_class(spif_ctx *c, snode *n, policy_class *cls)
{
    lsn_err rc;
    if ((rc = spif_attr(c, n, "name", true, &cls->name)) ||
        (rc = spif_lacv(c, n, "lacv", &cls->lacv)) ||
        (rc = parse_hierarchy(c, n, &cls->hierarchy)) ||
        (rc = spif_attr(c, n, "color", false, &cls->color)) ||
        (rc = spif_markings(c, n, &cls->nmarkings, &cls->markings)) ||
        (rc = spif_rules(c, n, &cls->nrules, &cls->required)) ||
        (rc = spif_equiv_classes(c, n, &cls->nequivs, &cls->equivs)))
        return rc;
    cls->obsolete = spif_bool(n, "obsolete");
    const lsn_policy *p = c->p;
    for (size_t i = 0; i < cls->index; i++) {
        if (p->classes[i].lacv == cls->lacv)
            return spif_fail(c, n, "duplicate classification lacv %u: '%s' and '%s'",
                             (unsigned)cls->lacv, p->classes[i].name, cls->name);
        if (name_eq(p->classes[i].name, cls->name))
            return spif_fail(c, n, "duplicate classification name '%s'", cls->name);
    }
    return LSN_OK;
}

static lsn_err parse_classes(spif_ctx *c, const snode *root, snode **classes_node)
{
    lsn_policy *p = c->p;
    snode *cs = sn_child(root, "securityClassifications");
    *classes_node = cs;
    if (!cs)
        return spif_fail(c, root, "no <securityClassifications>");
    size_t count = 0;
    for (snode *e = sn_child(cs, "securityClassification"); e;
         e = sn_next(e, "securityClassification"))
        count++;
    if (count == 0)
        return spif_fail(c, cs, "no <securityClassification>");
    /* A clearance's classifications are one 64-bit mask. */
    if (count > POLICY_MAX_CLASSES)
        return spif_fail(c, cs, "%zu classifications; at most %u are supported", count,
                         POLICY_MAX_CLASSES);
    p->classes = policy_array(p, count, sizeof *p->classes);
    if (!p->classes)
        return spif_nomem(c);
    lsn_err rc;
    for (snode *e = sn_child(cs, "securityClassification"); e;
         e = sn_next(e, "securityClassification")) {
        policy_class *cls = &p->classes[p->nclasses];
        cls->index = p->nclasses++;
        if ((rc = parse_class(c, e, cls)))
            return rc;
    }
    return LSN_OK;
}

static lsn_err parse_document(spif_ctx *c, snode *root)
{
    lsn_policy *p = c->p;
    lsn_err rc;
    if (strcmp(root->name, "SPIF") != 0)
        return spif_fail(c, root, "the root element is not <SPIF>: this is not a security "
                                  "policy information file");
    snode *id = sn_child(root, "securityPolicyId");
    if (!id)
        return spif_fail(c, root, "missing <securityPolicyId>");
    if ((rc = spif_attr(c, id, "id", true, &p->id)) ||
        (rc = spif_attr(c, id, "name", true, &p->name)) ||
        (rc = spif_attr(c, root, "version", false, &p->version)))
        return rc;
    if (!p->id[0])
        return spif_fail(c, id, "empty policy id");
    snode *def = sn_child(root, "defaultSecurityPolicyId");
    if (def && ((rc = spif_attr(c, def, "id", false, &p->default_id)) ||
                (rc = spif_attr(c, def, "name", false, &p->default_name))))
        return rc;

    snode *classes;
    if ((rc = parse_equiv_policies(c, root)) || (rc = parse_classes(c, root, &classes)) ||
        (rc = spif_tagsets(c, sn_child(root, "securityCategoryTagSets"))))
        return rc;
    if (policy_index_names(p) != LSN_OK)
        return spif_nomem(c);
    size_t i = 0;
    for (snode *e = sn_child(classes, "securityClassification"); e && i < p->nclasses;
         e = sn_next(e, "securityClassification"), i++)
        if ((rc = spif_resolve_rules(c, e, p->classes[i].nrules, p->classes[i].required)))
            return rc;
    if ((rc = spif_qualifiers(c, root, &p->nqualifiers, &p->qualifiers, &p->nbanner_qualifiers,
                              &p->banner_qualifiers)) ||
        (rc = spif_markings(c, root, &p->nmarkings, &p->markings)))
        return rc;
    return spif_groups(c, sn_child(root, "extensions"));
}

lsn_err lsn_policy_load_memory(const char *data, size_t len, const char *source,
                               lsn_policy **out, lsn_error *err)
{
    lsn_error local;
    if (!err)
        err = &local;
    if (!source)
        source = "policy";
    if (!out)
        return core_fail(err, LSN_ERR_ARG, "lsn_policy_load_memory: no out parameter");
    *out = NULL;
    if (!data || len == 0)
        return core_fail(err, LSN_ERR_NO_DATA, "%s: No data to parse", source);
    spif_tree tree;
    snode *root = spif_tree_parse(&tree, data, len, source, err);
    if (!root) {
        spif_tree_release(&tree);
        return err->code;
    }
    lsn_policy *p = core_calloc(1, sizeof *p);
    if (!p) {
        spif_tree_release(&tree);
        return core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", source);
    }
    atomic_init(&p->refs, 1);
    spif_ctx c = { .p = p, .src = source, .err = err };
    lsn_err rc;
    p->source = policy_strdup(p, source);
    if (!p->source)
        rc = spif_nomem(&c);
    else
        rc = parse_document(&c, root);
    lsn_free(c.cat_nodes);
    spif_tree_release(&tree);
    if (rc != LSN_OK) {
        policy_free(p);
        return rc;
    }
    *out = p;
    return LSN_OK;
}

lsn_err lsn_policy_load_file(const char *path, lsn_policy **out, lsn_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return core_fail(err, LSN_ERR_ARG, "lsn_policy_load_file: no path or out parameter");
    FILE *f = fopen(path, "rb");
    if (!f)
        return core_fail(err, LSN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* Read up to one byte past the limit, so that the parser can refuse
     * an oversize file with its own message. */
    size_t cap = 64 * 1024, len = 0;
    char *buf = core_malloc(cap);
    lsn_err rc = LSN_OK;
    while (buf) {
        if (len == cap) {
            if (cap > XML_MAX_BYTES)
                break;
            char *nb = core_realloc(buf, cap * 2);
            if (!nb) {
                lsn_free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0) {
            if (ferror(f))
                rc = core_fail(err, LSN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!buf)
        return core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", path);
    if (rc == LSN_OK)
        rc = lsn_policy_load_memory(buf, len, path, out, err);
    lsn_free(buf);
    return rc;
}
