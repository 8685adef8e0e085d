/* policy/spif.h — internals shared by the SPIF loader's files
 * (spif_load.c: document, policy id, equivalent policies, classifications;
 * spif_tags.c: tag sets, tags, categories; spif_marking.c: markingData and
 * markingQualifier; spif_rules.c: category references, requiredCategory,
 * excludedCategory and equivalences).
 *
 * Everything built goes into the policy's arena (policy/arena.h), so a
 * failure anywhere just returns its code: the entry point frees the policy. */
#ifndef POLICY_SPIF_H
#define POLICY_SPIF_H

#include "core/error.h"
#include "policy/arena.h"
#include "policy/model.h"
#include "policy/spif_tree.h"

typedef struct spif_ctx {
    lsn_policy *p;
    const char *src;     /* file name for messages */
    lsn_error *err;      /* never NULL */
    snode **cat_nodes; /* the <tagCategory> of each category (temporary) */
    bitword *no_cats;    /* the shared empty set (cat_words words) */
} spif_ctx;

/* Refuse the policy: LSN_ERR_POLICY with "SOURCE: line N: <ELEMENT>: WHAT". */
lsn_err spif_fail(spif_ctx *c, const snode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The named groups of categories of <extensions> (spif_groups.c). */
lsn_err spif_groups(spif_ctx *c, const snode *extensions);

/* Note what the loader ignores because it changes no decision (an unknown
 * marking code): a warning of the policy, "SOURCE: line N: <ELEMENT>: WHAT".
 * LSN_OK, or LSN_ERR_NOMEM. */
lsn_err spif_warn(spif_ctx *c, const snode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
lsn_err spif_nomem(spif_ctx *c);

/* An attribute copied into the arena. *out is NULL when absent (not an
 * error unless `required`, which refuses the policy naming the attribute). */
lsn_err spif_attr(spif_ctx *c, const snode *n, const char *name, bool required,
                  char **out);
/* A LACV attribute (required): decimal, leading zeros allowed. */
lsn_err spif_lacv(spif_ctx *c, const snode *n, const char *name, uint32_t *out);
/* A boolean attribute: "true"/"1" → true; absent → false. */
bool spif_bool(const snode *n, const char *name);
/* The trimmed text of an element, as a view (*s, *len) into the tree. */
lsn_err spif_text(spif_ctx *c, const snode *n, const char **s, size_t *len);

/* tagType= (+ enumType=) of n. Absent: TAG_ANY when !required, else refused. */
lsn_err spif_kind(spif_ctx *c, const snode *n, bool required, tag_kind *out);

/* spif_marking.c: every <markingData> and every <qualifier> of every
 * <markingQualifier> directly under `holder`. */
lsn_err spif_markings(spif_ctx *c, const snode *holder, size_t *n, marking_data **out);
/* The qualifiers under holder: all *n of them in document order, and the
 * banner's alone (*nbanner: no markingCode, or one neither portionMarking
 * nor unknown). */
lsn_err spif_qualifiers(spif_ctx *c, const snode *holder, size_t *n, qualifier **out,
                        size_t *nbanner, qualifier **banner);

/* spif_rules.c. <requiredCategory> children of holder, as written (cats
 * NULL). */
lsn_err spif_rules(spif_ctx *c, const snode *holder, size_t *n, rule **out);
/* Give each rule of holder (parsed by spif_rules from the same node) its
 * `cats` set, resolved against this policy's tag sets. */
lsn_err spif_resolve_rules(spif_ctx *c, const snode *holder, size_t n, rule *rules);
/* The <excludedCategory> children of a category node, as a set (never NULL:
 * the shared empty set when there are none). */
lsn_err spif_excluded_cats(spif_ctx *c, const snode *cat, bitword **out);
/* <equivalentClassification> / <equivalentSecCategoryTag> children. */
lsn_err spif_equiv_classes(spif_ctx *c, const snode *holder, size_t *n, equiv_class **out);
lsn_err spif_equiv_cats(spif_ctx *c, const snode *holder, size_t *n, equiv_cat **out);

/* spif_tags.c: the <securityCategoryTagSets> element (may be NULL). */
lsn_err spif_tagsets(spif_ctx *c, const snode *sets);

#endif
