/* liaison/introspect.h — enumerate a policy's classifications, categories
 * and what each category requires (its requiredCategory rules), e.g. to
 * build a label picker (the node's GET /api/v1/policy).
 *
 * Everything returned points into the policy: valid while the caller holds
 * a reference to it. Indices are dense, in SPIF document order. */
#ifndef LIAISON_INTROSPECT_H
#define LIAISON_INTROSPECT_H

#include "export.h"

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
LSN_API size_t lsn_policy_class_count(const lsn_policy *p);
LSN_API size_t lsn_policy_category_count(const lsn_policy *p);

/* Fill *out for index i; false when i is out of range. */
LSN_API bool lsn_policy_class_at(const lsn_policy *p, size_t i, lsn_class_info *out);
LSN_API bool lsn_policy_category_at(const lsn_policy *p, size_t i, lsn_category_info *out);

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
LSN_API size_t lsn_policy_category_requirement_count(const lsn_policy *p, size_t i);

/* Fill *out with requirement entry j of category i, in SPIF order; false when
 * i or j is out of range. */
LSN_API bool lsn_policy_category_requirement_at(const lsn_policy *p, size_t i, size_t j,
                                        lsn_requirement_info *out);

/* A classification's marking phrase in language lang (fallback fr-CA -> fr
 * -> untagged), or its name when the policy has no phrase; NULL when i is
 * out of range. */
LSN_API const char *lsn_policy_class_marking(const lsn_policy *p, size_t i, const char *lang);

/* Does the policy have marking data in language `lang` (a BCP 47 tag, any
 * region: fr-CA is answered by fr)? Untagged marking data is taken to be
 * English, as in every SPIF we know, so "en" (and NULL) is always spoken.
 * A caller asked for a language the policy lacks should say so rather than
 * print English (the markings fall back to the untagged data). */
LSN_API bool lsn_policy_speaks(const lsn_policy *p, const char *lang);

/* Named groups of categories the SPIF's extensions list (NATO's
 * memberships: the nations of a mission or partnership), for label pickers
 * to offer as presets; they change no decision. lsn_policy_group_at gives
 * group i's name and its number of categories (NULL when out of range);
 * lsn_policy_group_category gives the index (for lsn_policy_category_at)
 * of its category j. */
LSN_API size_t lsn_policy_group_count(const lsn_policy *p);
LSN_API const char *lsn_policy_group_at(const lsn_policy *p, size_t i, size_t *ncats);
LSN_API bool lsn_policy_group_category(const lsn_policy *p, size_t i, size_t j, size_t *cat);

/* What the loader ignored in the SPIF because it changes no decision (a
 * marking code of a later schema), one sentence each naming file, line and
 * element; a policy keeps the first 8. Anything not understood that could
 * change a decision is refused at load instead. */
LSN_API size_t lsn_policy_warning_count(const lsn_policy *p);
LSN_API const char *lsn_policy_warning_at(const lsn_policy *p, size_t i);

/* Category i's own marking phrase in language lang (fr-CA -> fr), or NULL
 * when the policy gives none in that language (untagged phrases are not
 * taken: they are the default language's) or i is out of range. NATO's SPIF
 * gives French names of nations this way ("Japon"). */
const char *lsn_policy_category_phrase(const lsn_policy *p, size_t i, const char *lang);

#ifdef __cplusplus
}
#endif
#endif
