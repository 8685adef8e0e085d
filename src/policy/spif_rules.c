/* policy/spif_rules.c — category references in a SPIF: <requiredCategory>
 * with its <categoryGroup>s, <excludedCategory>, and the equivalences
 * (<equivalentClassification>, <equivalentSecCategoryTag>) that map values
 * into another policy.
 *
 * Rules are first read as written; once every tag set is known, the rules of
 * this policy are resolved to category bit sets, so that validation is a few
 * word operations. Rules inside equivalences name the *other* policy's tag
 * sets and stay as written. */
#include "policy/spif.h"

#include <string.h>

/* One <categoryGroup> or <excludedCategory>. A missing lacv= or all="true"
 * means every category of that tag set and tag type. */
static lsn_err parse_catref(spif_ctx *c, const snode *n, catref *r)
{
    lsn_err rc;
    if ((rc = spif_attr(c, n, "tagSetRef", true, &r->tagset)) ||
        (rc = spif_kind(c, n, false, &r->kind)))
        return rc;
    const char *lacv = sn_attr(n, "lacv");
    r->all = spif_bool(n, "all") || !lacv || !lacv[0];
    if (!r->all)
        return spif_lacv(c, n, "lacv", &r->lacv);
    return LSN_OK;
}

static lsn_err parse_op(spif_ctx *c, const snode *n, rule_op *op)
{
    const char *v = sn_attr(n, "operation");
    /* Older SPIFs (bsi-commercial.xml) leave it out; "one or more" is the
     * reading that refuses least and still requires the category. */
    if (!v || strcmp(v, "oneOrMore") == 0)
        *op = RULE_ONE_OR_MORE;
    else if (strcmp(v, "onlyOne") == 0)
        *op = RULE_ONLY_ONE;
    else if (strcmp(v, "all") == 0)
        *op = RULE_ALL;
    else
        return spif_fail(c, n, "unknown operation=\"%.64s\"", v);
    return LSN_OK;
}

lsn_err spif_rules(spif_ctx *c, const snode *holder, size_t *n, rule **out)
{
    size_t count = 0;
    for (snode *r = sn_child(holder, "requiredCategory"); r;
         r = sn_next(r, "requiredCategory"))
        count++;
    *n = 0;
    *out = NULL;
    if (count == 0)
        return LSN_OK;
    rule *v = policy_array(c->p, count, sizeof *v);
    if (!v)
        return spif_nomem(c);
    size_t i = 0;
    lsn_err rc;
    for (snode *r = sn_child(holder, "requiredCategory"); r;
         r = sn_next(r, "requiredCategory"), i++) {
        if ((rc = parse_op(c, r, &v[i].op)))
            return rc;
        size_t ng = 0;
        for (snode *g = sn_child(r, "categoryGroup"); g; g = sn_next(g, "categoryGroup"))
            ng++;
        if (ng == 0)
            return spif_fail(c, r, "a required category names no <categoryGroup>");
        v[i].refs = policy_array(c->p, ng, sizeof(catref));
        if (!v[i].refs)
            return spif_nomem(c);
        v[i].nrefs = ng;
        size_t k = 0;
        for (snode *g = sn_child(r, "categoryGroup"); g; g = sn_next(g, "categoryGroup"))
            if ((rc = parse_catref(c, g, &v[i].refs[k++])))
                return rc;
    }
    *n = count;
    *out = v;
    return LSN_OK;
}

/* Add the categories a reference names to `set`. */
static lsn_err resolve_ref(spif_ctx *c, const snode *at, const catref *r, bitword *set)
{
    const lsn_policy *p = c->p;
    const policy_tagset *ts = policy_tagset_by_name(p, r->tagset);
    if (!ts)
        return spif_fail(c, at, "reference to an unknown tag set '%.128s'", r->tagset);
    if (!r->all) {
        const policy_category *cat = policy_cat_by_lacv(p, ts, r->kind, r->lacv);
        if (!cat)
            return spif_fail(c, at, "no %s category with lacv %u in tag set '%.128s'",
                             tag_kind_name(r->kind), (unsigned)r->lacv, ts->name);
        bitset_set(set, cat->index);
        return LSN_OK;
    }
    bool any = false;
    for (size_t t = ts->first_tag; t < ts->first_tag + ts->ntags; t++) {
        const policy_tag *tag = &p->tags[t];
        bool match = r->kind == TAG_ANY || r->kind == tag->kind ||
                     (tag_kind_permissive(r->kind) && tag_kind_permissive(tag->kind)) ||
                     (tag_kind_restrictive(r->kind) && tag_kind_restrictive(tag->kind));
        if (!match)
            continue;
        for (size_t k = tag->first_cat; k < tag->first_cat + tag->ncats; k++) {
            bitset_set(set, k);
            any = true;
        }
    }
    if (!any)
        return spif_fail(c, at, "tag set '%.128s' has no %s categories", ts->name,
                         tag_kind_name(r->kind));
    return LSN_OK;
}

lsn_err spif_resolve_rules(spif_ctx *c, const snode *holder, size_t n, rule *rules)
{
    size_t i = 0;
    lsn_err rc;
    for (snode *r = sn_child(holder, "requiredCategory"); r && i < n;
         r = sn_next(r, "requiredCategory"), i++) {
        rules[i].cats = policy_array(c->p, c->p->cat_words, sizeof(bitword));
        if (!rules[i].cats)
            return spif_nomem(c);
        size_t k = 0;
        for (snode *g = sn_child(r, "categoryGroup"); g && k < rules[i].nrefs;
             g = sn_next(g, "categoryGroup"), k++)
            if ((rc = resolve_ref(c, g, &rules[i].refs[k], rules[i].cats)))
                return rc;
    }
    return LSN_OK;
}

lsn_err spif_excluded_cats(spif_ctx *c, const snode *cat, bitword **out)
{
    *out = c->no_cats;
    snode *e = sn_child(cat, "excludedCategory");
    if (!e)
        return LSN_OK;
    bitword *set = policy_array(c->p, c->p->cat_words, sizeof(bitword));
    if (!set)
        return spif_nomem(c);
    lsn_err rc;
    for (; e; e = sn_next(e, "excludedCategory")) {
        catref r;
        memset(&r, 0, sizeof r);
        if ((rc = parse_catref(c, e, &r)) || (rc = resolve_ref(c, e, &r, set)))
            return rc;
    }
    *out = set;
    return LSN_OK;
}

/* policyRef= → index into the policy's equivalent policies, by name. */
static lsn_err policy_ref(spif_ctx *c, const snode *n, size_t *out)
{
    const char *ref = sn_attr(n, "policyRef");
    if (!ref)
        return spif_fail(c, n, "missing attribute policyRef=");
    for (size_t i = 0; i < c->p->nequiv_policies; i++)
        if (name_eq(c->p->equiv_policies[i].name, ref)) {
            *out = i;
            return LSN_OK;
        }
    return spif_fail(c, n, "policyRef=\"%.128s\" names no <equivalentPolicy>", ref);
}

static lsn_err parse_applied(spif_ctx *c, const snode *n, applied *out)
{
    const char *v = sn_attr(n, "applied");
    if (!v || strcmp(v, "both") == 0)
        *out = APPLIED_BOTH;
    else if (strcmp(v, "encrypt") == 0)
        *out = APPLIED_ENCRYPT;
    else if (strcmp(v, "decrypt") == 0)
        *out = APPLIED_DECRYPT;
    else
        return spif_fail(c, n, "unknown applied=\"%.64s\"", v);
    return LSN_OK;
}

lsn_err spif_equiv_classes(spif_ctx *c, const snode *holder, size_t *n, equiv_class **out)
{
    size_t count = 0;
    for (snode *e = sn_child(holder, "equivalentClassification"); e;
         e = sn_next(e, "equivalentClassification"))
        count++;
    *n = 0;
    *out = NULL;
    if (count == 0)
        return LSN_OK;
    equiv_class *v = policy_array(c->p, count, sizeof *v);
    if (!v)
        return spif_nomem(c);
    size_t i = 0;
    lsn_err rc;
    for (snode *e = sn_child(holder, "equivalentClassification"); e;
         e = sn_next(e, "equivalentClassification"), i++)
        if ((rc = policy_ref(c, e, &v[i].policy)) || (rc = spif_lacv(c, e, "lacv", &v[i].lacv)) ||
            (rc = parse_applied(c, e, &v[i].applied)) ||
            (rc = spif_rules(c, e, &v[i].nrules, &v[i].rules)))
            return rc;
    *n = count;
    *out = v;
    return LSN_OK;
}

lsn_err spif_equiv_cats(spif_ctx *c, const snode *holder, size_t *n, equiv_cat **out)
{
    size_t count = 0;
    for (snode *e = sn_child(holder, "equivalentSecCategoryTag"); e;
         e = sn_next(e, "equivalentSecCategoryTag"))
        count++;
    *n = 0;
    *out = NULL;
    if (count == 0)
        return LSN_OK;
    equiv_cat *v = policy_array(c->p, count, sizeof *v);
    if (!v)
        return spif_nomem(c);
    size_t i = 0;
    lsn_err rc;
    for (snode *e = sn_child(holder, "equivalentSecCategoryTag"); e;
         e = sn_next(e, "equivalentSecCategoryTag"), i++) {
        if ((rc = policy_ref(c, e, &v[i].policy)) ||
            (rc = spif_attr(c, e, "tagSetId", true, &v[i].tagset_id)) ||
            (rc = spif_kind(c, e, false, &v[i].kind)) ||
            (rc = parse_applied(c, e, &v[i].applied)))
            return rc;
        const char *action = sn_attr(e, "action");
        if (action && strcmp(action, "discard") != 0)
            return spif_fail(c, e, "unknown action=\"%.64s\"", action);
        v[i].discard = action != NULL;
        /* lacv="" goes with action="discard": nothing to map to. */
        const char *lacv = sn_attr(e, "lacv");
        v[i].has_lacv = lacv && lacv[0];
        if (v[i].has_lacv && (rc = spif_lacv(c, e, "lacv", &v[i].lacv)))
            return rc;
        if (!v[i].has_lacv && !v[i].discard)
            return spif_fail(c, e, "an equivalent category needs lacv= or action=\"discard\"");
    }
    *n = count;
    *out = v;
    return LSN_OK;
}
