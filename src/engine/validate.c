/* engine/validate.c — is a label valid under its policy?
 *
 * The rules of a SPIF, checked in this order, the first failure giving the
 * reason: a classification is present; it is not obsolete; for each category
 * in SPIF order: not obsolete, not excluded at the classification
 * (excludedClass), not combined with a category it excludes
 * (excludedCategory), not a second category of a singleSelection tag; then
 * the classification's requiredCategory rules, then each category's.
 *
 * spiffing (the reference) ignores obsolete values and singleSelection; we
 * refuse both, as the policy's author marked them so for a reason. Unknown
 * values never get this far: the readers refuse them. */
#include "engine/engine.h"

#include <stdio.h>

#include "liaison/label.h"

/* Room for the list of a rule's references in a reason. */
#define DESCRIBE_MAX 384

static const char *tagset_name(const lsn_policy *p, const policy_category *c)
{
    const char *n = p->tagsets[c->tagset].name;
    return n ? n : "?";
}

static const char *tag_name(const lsn_policy *p, const policy_category *c)
{
    const char *n = p->tags[c->tag].name;
    return n ? n : tagset_name(p, c);
}

/* The first rule of `rules` that `set` does not satisfy, or NULL. */
static const rule *first_unmet(const lsn_policy *p, const rule *rules, size_t n,
                               const bitword *set)
{
    for (size_t i = 0; i < n; i++)
        if (!engine_rule_satisfied(p, &rules[i], set))
            return &rules[i];
    return NULL;
}

/* Per-category checks; returns false and fills reason at the first failure. */
static bool check_category(const lsn_label *l, size_t i, char *reason, size_t size)
{
    const lsn_policy *p = l->policy;
    uint32_t idx = l->cats[i];
    const policy_category *c = &p->cats[idx];

    if (c->obsolete) {
        engine_say(reason, size, "category '%s' (%s) is obsolete", c->name, tagset_name(p, c));
        return false;
    }
    if ((c->excluded_classes >> l->cls->index) & 1u) {
        engine_say(reason, size, "category '%s' (%s) is excluded at classification '%s'",
                   c->name, tagset_name(p, c), l->cls->name);
        return false;
    }
    if (c->excluded_cats) {
        /* A category that excludes its own tag set does not exclude itself. */
        for (size_t j = 0; j < l->ncats; j++) {
            uint32_t other = l->cats[j];
            if (other != idx && bitset_has(c->excluded_cats, other)) {
                const policy_category *o = &p->cats[other];
                engine_say(reason, size,
                           "category '%s' (%s) excludes category '%s' (%s), which the label also carries",
                           c->name, tagset_name(p, c), o->name, tagset_name(p, o));
                return false;
            }
        }
    }
    /* Categories of one tag have consecutive indices, so a second one of a
     * singleSelection tag is the next in the sorted list. */
    if (p->tags[c->tag].single_selection && i + 1 < l->ncats &&
        p->cats[l->cats[i + 1]].tag == c->tag) {
        engine_say(reason, size,
                   "tag '%s' allows a single selection, but the label carries both '%s' and '%s'",
                   tag_name(p, c), c->name, p->cats[l->cats[i + 1]].name);
        return false;
    }
    return true;
}

lsn_err lsn_label_validate(const lsn_label *label, bool *valid, char *reason,
                           size_t reason_size)
{
    if (valid)
        *valid = false;
    engine_say(reason, reason_size, "%s", "");
    if (!label || !valid || !label->policy)
        return LSN_ERR_ARG;
    if (label->ncats && !label->cats)
        return LSN_ERR_ARG; /* not finished by label_finish */
    const lsn_policy *p = label->policy;
    const policy_class *cls = label->cls;

    if (!cls) {
        engine_say(reason, reason_size, "the label has no classification");
        return LSN_OK;
    }
    if (cls->obsolete) {
        engine_say(reason, reason_size, "classification '%s' is obsolete", cls->name);
        return LSN_OK;
    }
    for (size_t i = 0; i < label->ncats; i++) {
        if (label->cats[i] >= p->ncats)
            return LSN_ERR_ARG;
        if (!check_category(label, i, reason, reason_size))
            return LSN_OK;
    }

    char desc[DESCRIBE_MAX];
    const rule *r = first_unmet(p, cls->required, cls->nrules, label->catset);
    if (r) {
        engine_rule_describe(p, r, desc, sizeof desc);
        engine_say(reason, reason_size, "classification '%s' requires %s %s", cls->name,
                   engine_rule_op_words(r->op), desc);
        return LSN_OK;
    }
    for (size_t i = 0; i < label->ncats; i++) {
        const policy_category *c = &p->cats[label->cats[i]];
        r = first_unmet(p, c->required, c->nrules, label->catset);
        if (r) {
            engine_rule_describe(p, r, desc, sizeof desc);
            engine_say(reason, reason_size, "category '%s' (%s) requires %s %s", c->name,
                       tagset_name(p, c), engine_rule_op_words(r->op), desc);
            return LSN_OK;
        }
    }
    *valid = true;
    return LSN_OK;
}

bool engine_label_valid_slow(const lsn_label *l)
{
    bool valid = false;
    if (lsn_label_validate(l, &valid, NULL, 0) != LSN_OK)
        valid = false;
    /* Labels are shared read-only; the cache is the one field written after
     * label_finish, atomically, always to the same value for a label. */
    atomic_store_explicit(&((lsn_label *)l)->validity,
                          valid ? LABEL_VALIDITY_VALID : LABEL_VALIDITY_INVALID,
                          memory_order_relaxed);
    return valid;
}
