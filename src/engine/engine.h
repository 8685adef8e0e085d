/* engine/engine.h — helpers the engine's files share (internal).
 *
 * The engine (validation, markings, access decisions, translation) reads the
 * compiled policy model (policy/model.h) and compiled labels and clearances
 * (label/label_model.h); it never changes them. What more than one engine
 * file needs — matching a category reference against categories, evaluating
 * a requiredCategory rule, the bare access decision, writing a bounded
 * sentence — lives here. */
#ifndef ENGINE_ENGINE_H
#define ENGINE_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "label/label_model.h"
#include "policy/model.h"

/* Does a reference's tagType= (`want`) admit a category of a tag of kind
 * `have`? TAG_ANY admits all; plain and enumerated forms of restrictive (or
 * permissive) admit each other, as the label forms do not tell them apart. */
bool engine_kind_admits(tag_kind want, tag_kind have);

/* Does category `c` of policy `p` fall under reference `r` (tag set by name,
 * tag kind, LACV unless r->all)? */
bool engine_ref_matches(const lsn_policy *p, const catref *r, const policy_category *c);

/* How many of the categories in `set` (p->cat_words words) match at least
 * one of the rule's references. */
size_t engine_rule_count(const lsn_policy *p, const rule *r, const bitword *set);

/* Is requiredCategory rule `r` satisfied by the category set `set`?
 *   RULE_ONLY_ONE    exactly one category of the set matches the rule's
 *                    references;
 *   RULE_ONE_OR_MORE at least one does;
 *   RULE_ALL         every reference is matched by some category (a
 *                    reference with all="true" — a whole tag set — is
 *                    matched by any one of its categories, as in spiffing).
 * A rule with no references is satisfied. */
bool engine_rule_satisfied(const lsn_policy *p, const rule *r, const bitword *set);

/* Write a description of the rule's references ("Sweet (Taste Sensations),
 * any permissive category of 'Dissemination'") into buf (always
 * NUL-terminated when size > 0). */
void engine_rule_describe(const lsn_policy *p, const rule *r, char *buf, size_t size);

/* The policy's display words for a rule operation ("exactly one of",
 * "one or more of", "all of"). */
const char *engine_rule_op_words(rule_op op);

/* Is the label valid under its policy? Computed once with
 * lsn_label_validate and cached in the label; an error counts as invalid. */
bool engine_label_valid_slow(const lsn_label *l);
static inline bool engine_label_valid(const lsn_label *l)
{
    unsigned char v = atomic_load_explicit(&((lsn_label *)l)->validity, memory_order_relaxed);
    if (__builtin_expect(v == LABEL_VALIDITY_VALID, 1))
        return true;
    if (v == LABEL_VALIDITY_INVALID)
        return false;
    return engine_label_valid_slow(l);
}

/* The bare access decision for a label and a clearance compiled under the
 * same policy object: classification held, every restrictive word a subset
 * of the clearance, every permissive group meeting the clearance. */
static inline bool engine_decide_same(const lsn_label *l, const lsn_clearance *c)
{
    if (l->class_index >= POLICY_MAX_CLASSES || !((c->classes >> l->class_index) & 1u))
        return false;
    const bitword *held = c->catset;
    for (size_t i = 0; i < l->nres; i++)
        if (l->res[i].mask & ~held[l->res[i].word])
            return false;
    for (size_t g = 0; g < l->nperm; g++) {
        const sparse_word *w = &l->perm_words[l->perm[g].first];
        const sparse_word *end = w + l->perm[g].n;
        for (; w < end; w++)
            if (w->mask & held[w->word])
                break;
        if (w == end)
            return false;
    }
    return true;
}

/* Compare OIDs, ignoring a "urn:oid:" prefix on either side. */
bool engine_oid_eq(const char *a, const char *b);

/* snprintf into a caller's reason buffer that may be NULL or empty. */
void engine_say(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
