/* engine/translate.c — translating a label into an equivalent policy
 * (spiffing's Label::encrypt; the conformance file's `encrypt`).
 *
 * Given a label under policy S and a target policy T in the set:
 *  1. S must name T among its <equivalentPolicies> (by OID).
 *  2. The classification maps through its <equivalentClassification> for T
 *     applied "encrypt" or "both"; none is an error (LSN_ERR_NO_EQUIVALENT).
 *  3. Each category maps through all of its <equivalentSecCategoryTag>
 *     entries for T applied "encrypt" or "both" (several entries give
 *     several categories; action="discard" drops it). A category with no
 *     entry for T is an error, as in spiffing: silently dropping a
 *     restrictive category would widen access.
 *  4. The required categories of the equivalentClassification, then of S's
 *     <equivalentPolicy> entry for T, are added; their references name T's
 *     tag sets. For operation "all" every category named is added (a
 *     reference to a whole tag set adds all of it, as spiffing's fixup
 *     does). For "oneOrMore" and "onlyOne" (spiffing adds everything named
 *     here too) we add only the first category named, and only when the
 *     rule is not already met — adding every permissive category named
 *     would widen releasability.
 * The privacy mark is carried over. Translating into the label's own
 * policy gives a copy. */
#include "engine/engine.h"

#include <string.h>

#include "core/error.h"
#include "liaison/label.h"

static const char *nm(const char *s)
{
    return s ? s : "?";
}

/* Add every category of `dst` that reference `ref` names; with `first_only`
 * just the first. Fails when it names none. */
static lsn_err add_ref(const lsn_policy *dst, const catref *ref, lsn_label *nl, bool first_only,
                       lsn_error *err)
{
    const policy_tagset *ts = policy_tagset_by_name(dst, ref->tagset);
    size_t added = 0;
    for (size_t t = 0; ts && t < ts->ntags; t++) {
        const policy_tag *tag = &dst->tags[ts->first_tag + t];
        for (size_t k = 0; k < tag->ncats; k++) {
            const policy_category *c = &dst->cats[tag->first_cat + k];
            if (!engine_ref_matches(dst, ref, c))
                continue;
            lsn_err rc = label_add_cat(nl, (uint32_t)c->index);
            if (rc)
                return core_fail(err, rc, "cannot add required category '%s' (%s) to the translated label",
                                c->name, nm(ts->name));
            added++;
            if (first_only)
                return LSN_OK;
        }
    }
    if (added == 0) {
        if (ref->all)
            return core_fail(err, LSN_ERR_NO_EQUIVALENT,
                            "a required category of the translation names tag set '%s', which policy '%s' lacks",
                            nm(ref->tagset), nm(dst->name));
        return core_fail(err, LSN_ERR_NO_EQUIVALENT,
                        "a required category of the translation (LACV %u of tag set '%s') is not in policy '%s'",
                        (unsigned)ref->lacv, nm(ref->tagset), nm(dst->name));
    }
    return LSN_OK;
}

static lsn_err apply_rules(const lsn_policy *dst, const rule *rules, size_t n, lsn_label *nl,
                           lsn_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const rule *r = &rules[i];
        lsn_err rc = LSN_OK;
        if (r->op == RULE_ALL) {
            for (size_t k = 0; k < r->nrefs && !rc; k++)
                rc = add_ref(dst, &r->refs[k], nl, false, err);
        } else if (r->nrefs && engine_rule_count(dst, r, nl->catset) == 0) {
            rc = add_ref(dst, &r->refs[0], nl, true, err);
        }
        if (rc)
            return rc;
    }
    return LSN_OK;
}

/* Map one category through its equivalences for equivalent policy `ep`. */
static lsn_err map_category(const lsn_policy *src, const policy_category *c, size_t ep,
                            const lsn_policy *dst, lsn_label *nl, lsn_error *err)
{
    bool any = false;
    for (size_t i = 0; i < c->nequivs; i++) {
        const equiv_cat *e = &c->equivs[i];
        if (e->policy != ep || e->applied == APPLIED_DECRYPT)
            continue;
        any = true;
        if (e->discard)
            continue;
        const policy_tagset *ts = policy_tagset_by_id(dst, e->tagset_id);
        const policy_category *tc =
            (ts && e->has_lacv) ? policy_cat_by_lacv(dst, ts, e->kind, e->lacv) : NULL;
        if (!tc)
            return core_fail(err, LSN_ERR_NO_EQUIVALENT,
                            "the equivalent of category '%s' (%s), LACV %u of tag set %s, is not in policy '%s'",
                            c->name, nm(src->tagsets[c->tagset].name), (unsigned)e->lacv,
                            nm(e->tagset_id), nm(dst->name));
        lsn_err rc = label_add_cat(nl, (uint32_t)tc->index);
        if (rc)
            return core_fail(err, rc, "cannot add category '%s' to the translated label", tc->name);
    }
    if (!any)
        return core_fail(err, LSN_ERR_NO_EQUIVALENT,
                        "category '%s' (%s) has no equivalent in policy '%s'", c->name,
                        nm(src->tagsets[c->tagset].name), nm(dst->name));
    return LSN_OK;
}

static lsn_err copy_label(const lsn_label *label, lsn_label **out, lsn_error *err)
{
    lsn_label *nl = label_new(label->policy);
    if (!nl)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    nl->cls = label->cls;
    lsn_err rc = LSN_OK;
    for (size_t i = 0; i < label->ncats && !rc; i++)
        rc = label_add_cat(nl, label->cats[i]);
    if (!rc && label->privacy_mark)
        rc = label_set_privacy_mark(nl, label->privacy_mark, strlen(label->privacy_mark));
    if (!rc)
        rc = label_finish(nl);
    if (rc) {
        lsn_label_free(nl);
        return core_fail(err, rc, "cannot copy the label: %s", lsn_strerror(rc));
    }
    *out = nl;
    return LSN_OK;
}

lsn_err lsn_label_translate(const lsn_label *label, const lsn_policy_set *set,
                            const char *target_oid, lsn_label **out, lsn_error *err)
{
    if (out)
        *out = NULL;
    if (!label || !label->policy || !set || !target_oid || !out ||
        (label->ncats && !label->cats))
        return core_fail(err, LSN_ERR_ARG, "translate: missing label, policy set or target");
    const lsn_policy *src = label->policy;
    const lsn_policy *dst = lsn_policy_set_find_id(set, target_oid);
    if (!dst)
        return core_fail(err, LSN_ERR_UNKNOWN_POLICY, "Unknown policy id: %s", target_oid);
    if (!label->cls)
        return core_fail(err, LSN_ERR_LABEL,
                        "the label has no classification, so it has no equivalent in policy '%s'",
                        nm(dst->name));
    if (dst == src)
        return copy_label(label, out, err);

    size_t ep = SIZE_MAX;
    for (size_t i = 0; i < src->nequiv_policies; i++)
        if (engine_oid_eq(src->equiv_policies[i].id, dst->id)) {
            ep = i;
            break;
        }
    if (ep == SIZE_MAX)
        return core_fail(err, LSN_ERR_NO_EQUIVALENT,
                        "policy '%s' (%s) names no equivalent policy %s ('%s')", nm(src->name),
                        nm(src->id), nm(dst->id), nm(dst->name));

    const policy_class *cls = label->cls;
    const equiv_class *ec = NULL;
    for (size_t i = 0; i < cls->nequivs; i++)
        if (cls->equivs[i].policy == ep && cls->equivs[i].applied != APPLIED_DECRYPT) {
            ec = &cls->equivs[i];
            break;
        }
    if (!ec)
        return core_fail(err, LSN_ERR_NO_EQUIVALENT,
                        "classification '%s' of policy '%s' has no equivalent in policy '%s'",
                        cls->name, nm(src->name), nm(dst->name));
    const policy_class *tcls = policy_class_by_lacv(dst, ec->lacv);
    if (!tcls)
        return core_fail(err, LSN_ERR_NO_EQUIVALENT,
                        "the equivalent of classification '%s' (LACV %u) is not a classification of policy '%s'",
                        cls->name, (unsigned)ec->lacv, nm(dst->name));

    /* label_new takes its own reference; the policy's contents stay
     * untouched. */
    lsn_label *nl = label_new((lsn_policy *)dst);
    if (!nl)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    nl->cls = tcls;
    lsn_err rc = LSN_OK;
    for (size_t i = 0; i < label->ncats && !rc; i++)
        rc = map_category(src, &src->cats[label->cats[i]], ep, dst, nl, err);
    if (!rc)
        rc = apply_rules(dst, ec->rules, ec->nrules, nl, err);
    if (!rc)
        rc = apply_rules(dst, src->equiv_policies[ep].rules, src->equiv_policies[ep].nrules, nl,
                         err);
    if (!rc && label->privacy_mark) {
        rc = label_set_privacy_mark(nl, label->privacy_mark, strlen(label->privacy_mark));
        if (rc)
            core_fail(err, rc, "out of memory");
    }
    if (!rc) {
        rc = label_finish(nl);
        if (rc)
            core_fail(err, rc, "out of memory");
    }
    if (rc) {
        lsn_label_free(nl);
        return rc;
    }
    *out = nl;
    return LSN_OK;
}

bool lsn_policy_names_equivalent(const lsn_policy *p, const char *oid)
{
    for (size_t i = 0; p && oid && i < p->nequiv_policies; i++)
        if (engine_oid_eq(p->equiv_policies[i].id, oid))
            return true;
    return false;
}
