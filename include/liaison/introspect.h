/* liaison/introspect.h — enumerate a policy's classifications, categories
 * and what each category requires (its requiredCategory rules), e.g. to
 * build a label picker (the node's GET /api/v1/policy).
 *
 * Everything returned points into the policy: valid while the caller holds
 * a reference to it. Indices are dense, in SPIF document order. */
#ifndef LIAISON_INTROSPECT_H
#define LIAISON_INTROSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsn_class_info {
    const char *name;      /* "SECRET" */
    uint32_t lacv;
    long hierarchy;        /* higher is more sensitive */
    const char *color;     /* as the SPIF writes it ("#C8102E", "red"), or NULL */
    bool obsolete;
} lsn_class_info;

typedef struct lsn_category_info {
    const char *tag_set;    /* tag set name: "Releasable To" */
    const char *tag_set_id; /* its OID */
    const char *type;       /* "restrictive", "permissive", "enumeratedRestrictive",
                               "enumeratedPermissive" or "informative" */
    const char *name;       /* "JPN" */
    uint32_t lacv;
    bool obsolete;
    uint64_t excluded_classes; /* bit i set: classification i excludes it */
} lsn_category_info;

/* Number of classifications / categories of a policy. */
size_t lsn_policy_class_count(const lsn_policy *p);
size_t lsn_policy_category_count(const lsn_policy *p);

/* Fill *out for index i; false when i is out of range. */
bool lsn_policy_class_at(const lsn_policy *p, size_t i, lsn_class_info *out);
bool lsn_policy_category_at(const lsn_policy *p, size_t i, lsn_category_info *out);

/* One category group of a category's <requiredCategory> rule: the rule's
 * operation and the categories it refers to (a whole tag set, or one
 * category by LACV). A rule naming several groups gives one entry per group,
 * all with the same `rule` number. */
typedef struct lsn_requirement_info {
    size_t rule;            /* which <requiredCategory> of the category, from 0 */
    const char *operation;  /* "all", "oneOrMore" or "onlyOne" (the SPIF's words) */
    const char *tag_set;    /* the tag set named (tagSetRef=) */
    bool any_value;         /* true: the group names the whole tag set (no lacv=) */
    uint32_t lacv;          /* the category named, when !any_value */
} lsn_requirement_info;

/* Number of requirement entries (category groups of <requiredCategory>
 * rules) of category i; 0 when it has none or i is out of range. */
size_t lsn_policy_category_requirement_count(const lsn_policy *p, size_t i);

/* Fill *out with requirement entry j of category i, in SPIF order; false when
 * i or j is out of range. */
bool lsn_policy_category_requirement_at(const lsn_policy *p, size_t i, size_t j,
                                        lsn_requirement_info *out);

/* A classification's marking phrase in language lang (fallback fr-CA -> fr
 * -> untagged), or its name when the policy has no phrase; NULL when i is
 * out of range. */
const char *lsn_policy_class_marking(const lsn_policy *p, size_t i, const char *lang);

/* Category i's own marking phrase in language lang (fr-CA -> fr), or NULL
 * when the policy gives none in that language (untagged phrases are not
 * taken: they are the default language's) or i is out of range. NATO's SPIF
 * gives French names of nations this way ("Japon"). */
const char *lsn_policy_category_phrase(const lsn_policy *p, size_t i, const char *lang);

#ifdef __cplusplus
}
#endif
#endif
