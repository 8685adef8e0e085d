/* engine/access.c — access decisions, label against clearance (X.841, as
 * spiffing's ACDF decides them).
 *
 * Same policy (the hot path): the label's classification is one the
 * clearance lists (no dominance by hierarchy), every restrictive category is
 * held, each permissive tag present has at least one held category,
 * informative categories are ignored — a classification bit test and a few
 * word operations on the label's precomputed decision form (label_finish).
 *
 * Another policy: the label is translated into the clearance's policy
 * through the policy set's equivalences (lsn_label_translate) and the
 * translation decided; no set or no equivalence denies.
 *
 * An invalid label is denied. Validation costs far more than a decision, so
 * its verdict is computed once per label and cached in it (a one-byte test
 * on the hot path). On any error the decision is LSN_DENY. */
#include "engine/engine.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "liaison/access.h"

/* Translate a label into the clearance's policy. LSN_OK with *out NULL
 * means "no translation": deny. */
static lsn_err translate_for(const lsn_policy_set *set, const lsn_label *label,
                             const lsn_clearance *clearance, lsn_label **out,
                             lsn_error *why)
{
    *out = NULL;
    if (!set) {
        core_fail(why, LSN_ERR_NO_EQUIVALENT,
                 "the label is under policy '%s' and the clearance under '%s', and no policy set was given to translate it",
                 label->policy->name ? label->policy->name : "?",
                 clearance->policy->name ? clearance->policy->name : "?");
        return LSN_OK;
    }
    lsn_label *t = NULL;
    lsn_err rc = lsn_label_translate(label, set, clearance->policy->id, &t, why);
    if (rc == LSN_ERR_NOMEM)
        return rc;
    if (rc != LSN_OK)
        return LSN_OK;
    if (t->policy != clearance->policy) {
        /* The set holds another copy of the clearance's policy: indices
         * would not line up. */
        core_fail(why, LSN_ERR_NO_EQUIVALENT,
                 "the policy set's copy of policy '%s' is not the clearance's", clearance->policy->id);
        lsn_label_free(t);
        return LSN_OK;
    }
    *out = t;
    return LSN_OK;
}

/* Everything but the same-policy decision, kept out of line so that the
 * hot path needs no stack frame. */
__attribute__((noinline)) static lsn_err check_slow(const lsn_policy_set *set,
                                                   const lsn_label *label,
                                                   const lsn_clearance *clearance,
                                                   lsn_decision *decision)
{
    if (!decision)
        return LSN_ERR_ARG;
    *decision = LSN_DENY;
    if (!label || !clearance || !label->policy || !clearance->policy)
        return LSN_ERR_ARG;
    if (!engine_label_valid(label))
        return LSN_OK;
    if (label->policy == clearance->policy) {
        if (engine_decide_same(label, clearance))
            *decision = LSN_GRANT;
        return LSN_OK;
    }
    lsn_label *t;
    lsn_err rc = translate_for(set, label, clearance, &t, NULL);
    if (rc != LSN_OK || !t)
        return rc;
    if (engine_label_valid(t) && engine_decide_same(t, clearance))
        *decision = LSN_GRANT;
    lsn_label_free(t);
    return LSN_OK;
}

lsn_err lsn_access_check(const lsn_policy_set *set, const lsn_label *label,
                         const lsn_clearance *clearance, lsn_decision *decision)
{
    /* Labels and clearances always carry a policy (label_new and
     * clearance_new insist), so one pointer compare picks the fast path. */
    if (decision && label && clearance && label->policy == clearance->policy) {
        *decision = engine_label_valid(label) && engine_decide_same(label, clearance)
                        ? LSN_GRANT : LSN_DENY;
        return LSN_OK;
    }
    return check_slow(set, label, clearance, decision);
}

/* Append `s` to a bounded reason. */
static void add(char *buf, size_t size, size_t *len, const char *s)
{
    if (!buf || *len + 1 >= size)
        return;
    size_t n = strlen(s), room = size - *len - 1;
    if (n > room)
        n = room;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

/* The sentence for a same-policy denial; the decision itself is
 * engine_decide_same's, so the two can never disagree. */
static void explain_same(const lsn_label *l, const lsn_clearance *c, char *reason, size_t size)
{
    const lsn_policy *p = l->policy;
    if (l->class_index >= POLICY_MAX_CLASSES || !l->cls) {
        engine_say(reason, size, "the label has no classification");
        return;
    }
    if (!((c->classes >> l->class_index) & 1u)) {
        engine_say(reason, size, "clearance does not hold '%s'", l->cls->name);
        return;
    }
    for (size_t i = 0; i < l->nres; i++) {
        bitword missing = l->res[i].mask & ~c->catset[l->res[i].word];
        if (missing) {
            size_t idx = l->res[i].word * 64u + (size_t)__builtin_ctzll(missing);
            const policy_category *cat = &p->cats[idx];
            engine_say(reason, size, "clearance does not hold '%s' (%s)", cat->name,
                       p->tagsets[cat->tagset].name ? p->tagsets[cat->tagset].name : "?");
            return;
        }
    }
    for (size_t g = 0; g < l->nperm; g++) {
        const sparse_word *w = &l->perm_words[l->perm[g].first];
        size_t nw = l->perm[g].n, k;
        for (k = 0; k < nw; k++)
            if (w[k].mask & c->catset[w[k].word])
                break;
        if (k < nw)
            continue;
        if (nw == 0) {
            /* engine_decide_same denies an empty group; label_finish never
             * makes one. */
            engine_say(reason, size, "the label has an empty permissive group");
            return;
        }
        size_t first = w[0].word * 64u + (size_t)__builtin_ctzll(w[0].mask);
        const policy_tag *tag = &p->tags[p->cats[first].tag];
        const char *tname = tag->name ? tag->name : p->tagsets[tag->tagset].name;
        size_t len = 0;
        if (reason && size)
            reason[0] = '\0';
        add(reason, size, &len, "clearance holds none of ");
        add(reason, size, &len, tname ? tname : "?");
        add(reason, size, &len, ":");
        bool firstname = true;
        for (k = 0; k < nw; k++) {
            bitword x = w[k].mask;
            while (x) {
                size_t idx = w[k].word * 64u + (size_t)__builtin_ctzll(x);
                x &= x - 1;
                add(reason, size, &len, firstname ? " " : ", ");
                add(reason, size, &len, p->cats[idx].name);
                firstname = false;
            }
        }
        return;
    }
    engine_say(reason, size, "access would be granted");
}

lsn_err lsn_access_explain(const lsn_policy_set *set, const lsn_label *label,
                           const lsn_clearance *clearance, lsn_decision *decision,
                           char *reason, size_t reason_size)
{
    engine_say(reason, reason_size, "%s", "");
    if (!decision) {
        engine_say(reason, reason_size, "no place for the decision");
        return LSN_ERR_ARG;
    }
    *decision = LSN_DENY;
    if (!label || !clearance || !label->policy || !clearance->policy) {
        engine_say(reason, reason_size, "no label or no clearance");
        return LSN_ERR_ARG;
    }
    if (!engine_label_valid(label)) {
        char why[LSN_ERROR_MESSAGE_MAX] = "";
        bool valid = false;
        if (lsn_label_validate(label, &valid, why, sizeof why) != LSN_OK || !why[0])
            snprintf(why, sizeof why, "it does not fit its policy");
        engine_say(reason, reason_size, "the label is invalid: %s", why);
        return LSN_OK;
    }
    if (label->policy == clearance->policy) {
        if (engine_decide_same(label, clearance))
            *decision = LSN_GRANT;
        else
            explain_same(label, clearance, reason, reason_size);
        return LSN_OK;
    }
    lsn_error why = { LSN_OK, "" };
    lsn_label *t;
    lsn_err rc = translate_for(set, label, clearance, &t, &why);
    if (rc != LSN_OK || !t) {
        engine_say(reason, reason_size, "%s",
                   rc != LSN_OK ? lsn_strerror(rc)
                                : (why.message[0] ? why.message : "no translation into the clearance's policy"));
        return rc;
    }
    if (!engine_label_valid(t)) {
        engine_say(reason, reason_size, "the label's translation into policy '%s' is invalid",
                   clearance->policy->name ? clearance->policy->name : clearance->policy->id);
    } else if (engine_decide_same(t, clearance)) {
        *decision = LSN_GRANT;
    } else {
        char inner[LSN_ERROR_MESSAGE_MAX];
        explain_same(t, clearance, inner, sizeof inner);
        engine_say(reason, reason_size, "after translation into policy '%s': %s",
                   clearance->policy->name ? clearance->policy->name : clearance->policy->id,
                   inner);
    }
    lsn_label_free(t);
    return LSN_OK;
}
