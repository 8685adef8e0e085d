/* policy/model.h — the compiled form of a security policy (internal).
 *
 * The SPIF loader (policy/spif_*.c) fills these structures once; everything
 * else — label readers, validation, markings, access decisions, translation —
 * reads them and never changes them. Each category of the policy gets a dense
 * index (its position in SPIF document order), so that a label's or a
 * clearance's categories are a bit set of policy->cat_words words and an
 * access decision is a few word operations. Classifications likewise get a
 * dense index (at most 64 per policy), so a clearance's classifications are
 * one 64-bit mask.
 *
 * Memory: every string and array hangs off the policy and is freed by
 * policy_free(); the public lsn_policy handle is reference-counted. */
#ifndef POLICY_MODEL_H
#define POLICY_MODEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bitset.h"
#include "liaison/policy.h"

#define POLICY_MAX_CLASSES 64u
#define POLICY_MAX_CATEGORIES 65536u

/* The kind of a security category tag. SPIF spells these tagType=
 * "restrictive" | "permissive" | "enumerated" (+ enumType=) | "tagType7". */
typedef enum tag_kind {
    TAG_RESTRICTIVE = 0,
    TAG_PERMISSIVE = 1,
    TAG_ENUM_RESTRICTIVE = 2,
    TAG_ENUM_PERMISSIVE = 3,
    TAG_INFORMATIVE = 4, /* tagType7 */
    TAG_ANY = 5          /* only in a category reference with no tagType */
} tag_kind;

static inline bool tag_kind_restrictive(tag_kind k)
{
    return k == TAG_RESTRICTIVE || k == TAG_ENUM_RESTRICTIVE;
}
static inline bool tag_kind_permissive(tag_kind k)
{
    return k == TAG_PERMISSIVE || k == TAG_ENUM_PERMISSIVE;
}

/* SPIF marking codes, as bits (markingData <code>, markingQualifier
 * markingCode=/code=). */
enum mark_code {
    MC_PAGE_TOP = 1u << 0,
    MC_PAGE_BOTTOM = 1u << 1,
    MC_PAGE_TOP_BOTTOM = 1u << 2,
    MC_DOCUMENT_START = 1u << 3,
    MC_DOCUMENT_END = 1u << 4,
    MC_NO_NAME_DISPLAY = 1u << 5,
    MC_NO_MARKING_DISPLAY = 1u << 6,
    MC_SUPPRESS_CLASS_NAME = 1u << 7,
    MC_REPLACE_POLICY = 1u << 8,
    /* The portion form (paragraphs, subject lines): "(NR)". */
    MC_PORTION = 1u << 9,
    /* A code of a later schema we do not know (a warning names it): the
     * entry is kept out of the banner, where it may not belong. */
    MC_UNKNOWN = 1u << 10
};

/* One <markingData>: an optional phrase in a language with its codes. */
typedef struct marking_data {
    char *lang;    /* xml:lang, NULL when untagged */
    char *phrase;  /* NULL when there is no phrase attribute; may be "" */
    unsigned codes; /* enum mark_code bits; 0 when no <code> */
} marking_data;

typedef enum qualifier_kind { QUAL_PREFIX, QUAL_SUFFIX, QUAL_SEPARATOR } qualifier_kind;

/* One <qualifier> of a <markingQualifier>, flattened: the parent's marking
 * code (0 when none given) and language travel with it. */
typedef struct qualifier {
    char *lang;      /* xml:lang of the qualifier or its parent, NULL if none */
    unsigned codes;  /* enum mark_code bits of the parent markingQualifier */
    qualifier_kind kind;
    char *text;      /* markingQualifier= attribute, may be "" */
} qualifier;

/* A reference to categories (<categoryGroup>, <excludedCategory>, and the
 * ones inside equivalences), as written. */
typedef struct catref {
    char *tagset;      /* tagSetRef= (a tag set *name*) */
    tag_kind kind;     /* TAG_ANY when tagType= is absent */
    bool all;          /* all="true", or no lacv= given */
    uint32_t lacv;     /* when !all */
} catref;

typedef enum rule_op { RULE_ONLY_ONE, RULE_ONE_OR_MORE, RULE_ALL } rule_op;

/* A <requiredCategory>. For rules of this policy, `cats` is the union of the
 * categories its groups name (cat_words words); for rules inside
 * equivalences it is NULL, as the groups name the *other* policy's tag sets. */
typedef struct rule {
    rule_op op;
    size_t nrefs;
    catref *refs;
    bitword *cats;
} rule;

typedef enum applied { APPLIED_BOTH, APPLIED_ENCRYPT, APPLIED_DECRYPT } applied;

/* <equivalentPolicy name= id=> with optional required categories (of the
 * equivalent policy) that a translated label must carry. */
typedef struct equiv_policy {
    char *name;
    char *id;        /* OID */
    size_t nrules;
    rule *rules;
} equiv_policy;

/* <equivalentClassification policyRef= lacv= applied=>. */
typedef struct equiv_class {
    size_t policy;   /* index into policy->equiv_policies */
    uint32_t lacv;
    applied applied;
    size_t nrules;   /* required categories in the other policy */
    rule *rules;
} equiv_class;

/* <equivalentSecCategoryTag policyRef= tagSetId= tagType= lacv= applied=
 * action=>. */
typedef struct equiv_cat {
    size_t policy;   /* index into policy->equiv_policies */
    char *tagset_id; /* OID of the other policy's tag set */
    tag_kind kind;
    bool has_lacv;   /* lacv="" (with action="discard") has none */
    uint32_t lacv;
    applied applied;
    bool discard;    /* action="discard": drop, do not map */
} equiv_cat;

typedef struct policy_class {
    size_t index;       /* dense index 0..nclasses-1, document order */
    char *name;
    uint32_t lacv;
    long hierarchy;
    char *color;        /* color= as written (name or #RRGGBB), NULL if none */
    bool obsolete;
    size_t nmarkings;
    marking_data *markings;
    size_t nrules;
    rule *required;     /* <requiredCategory> */
    size_t nequivs;
    equiv_class *equivs;
} policy_class;

typedef struct policy_category {
    size_t index;       /* dense index, document order across the policy */
    size_t tagset;      /* index into policy->tagsets */
    size_t tag;         /* index into policy->tags */
    tag_kind kind;      /* the kind of its tag */
    char *name;
    uint32_t lacv;
    bool obsolete;
    size_t nmarkings;
    marking_data *markings;
    uint64_t excluded_classes; /* bit i: class index i excludes it */
    bitword *excluded_cats;    /* categories it cannot stand with; never NULL
                                  (categories without exclusions share one
                                  empty set: read only) */
    size_t nrules;
    rule *required;
    size_t nequivs;
    equiv_cat *equivs;
} policy_category;

/* A <securityCategoryTag>: one kind of category inside a tag set. */
typedef struct policy_tag {
    size_t index;
    size_t tagset;
    char *name;            /* may be NULL */
    tag_kind kind;
    bool single_selection;
    char *tag7_encoding;   /* tagType7 only; NULL when absent */
    size_t first_cat;      /* categories first_cat .. first_cat+ncats-1 */
    size_t ncats;
    size_t nqualifiers;
    qualifier *qualifiers;     /* document order */
    size_t nbanner_qualifiers; /* the banner's alone (spif_qualifiers) */
    qualifier *banner_qualifiers;
    size_t nmarkings;      /* tag-level markingData, if any */
    marking_data *markings;
} policy_tag;

/* One entry of a tag set's name index: a category's name and index. */
typedef struct policy_named {
    const char *name;
    uint32_t cat;
} policy_named;

/* A slot of a tag set's name hash: the run by_name[first .. first+count-1]
 * of one name, and the name's hash (so that a probe compares names only
 * when the hashes agree); count 0 when the slot is empty. */
typedef struct policy_name_slot {
    uint32_t first;
    uint32_t count;
    uint32_t hash;
} policy_name_slot;

typedef struct policy_tagset {
    size_t index;
    char *name;
    char *id;              /* OID */
    size_t first_tag;      /* tags first_tag .. first_tag+ntags-1 */
    size_t ntags;
    /* Its named categories sorted by case-folded name, equal names by
     * index, and a hash table (nslots, a power of two) of the runs of equal
     * names: policy/name_index.c. A label names categories, and a scan of
     * a 100-country tag set was a sixth of a 4774 parse. */
    size_t nnamed;
    policy_named *by_name;
    size_t nslots;
    policy_name_slot *slots;
} policy_tagset;

struct lsn_policy {
    atomic_int refs;
    char *source;          /* file name it was loaded from, for messages */
    char *id;              /* securityPolicyId id= (OID) */
    char *name;            /* securityPolicyId name= */
    char *default_id;      /* defaultSecurityPolicyId, NULL if none */
    char *default_name;
    char *version;         /* version= attribute, NULL if none */

    size_t nequiv_policies;
    equiv_policy *equiv_policies;

    size_t nclasses;
    policy_class *classes;     /* document order */

    size_t ntagsets;
    policy_tagset *tagsets;
    size_t ntags;
    policy_tag *tags;
    size_t ncats;
    policy_category *cats;     /* document order; cats[i].index == i */
    size_t cat_words;          /* BITSET_WORDS(ncats), at least 1 */

    /* Policy-level marking qualifiers and marking data. */
    size_t nqualifiers;
    qualifier *qualifiers;     /* document order */
    size_t nbanner_qualifiers; /* the banner's alone (spif_qualifiers) */
    qualifier *banner_qualifiers;
    size_t nmarkings;
    marking_data *markings;

    /* Named groups of categories from the SPIF's extensions (NATO's
     * memberships: the nations of a mission or partnership), offered to
     * label pickers as presets; they change no decision. */
    size_t ngroups;
    struct policy_group {
        char *name;
        size_t ncats;
        uint32_t *cats; /* category indices */
    } *groups;

    /* What the loader did not understand and that changes no decision
     * (an unknown marking code), one sentence each, at most
     * POLICY_MAX_WARNINGS. */
    size_t nwarnings;
    char *warnings[8];

    /* Every string and array above lives in these chunks (policy/arena.c),
     * so that a load that fails half-way frees all it built at once. */
    struct policy_chunk *chunks;
};

/* Free a policy's contents and the policy (used by lsn_policy_unref). */
void policy_free(lsn_policy *p);

/* Lookups (linear or binary; none is on a decision's hot path). Names
 * compare case-insensitively. Return NULL when absent. */
const policy_class *policy_class_by_lacv(const lsn_policy *p, uint32_t lacv);
const policy_class *policy_class_by_name(const lsn_policy *p, const char *name);
const policy_tagset *policy_tagset_by_id(const lsn_policy *p, const char *oid);
const policy_tagset *policy_tagset_by_name(const lsn_policy *p, const char *name);
/* A category of tag set `ts` whose tag kind matches `kind` (TAG_ANY: any;
 * TAG_PERMISSIVE also matches TAG_ENUM_PERMISSIVE and likewise for
 * restrictive, as 4774 and BER do not tell them apart). */
const policy_category *policy_cat_by_lacv(const lsn_policy *p, const policy_tagset *ts,
                                          tag_kind kind, uint32_t lacv);
const policy_category *policy_cat_by_name(const lsn_policy *p, const policy_tagset *ts,
                                          tag_kind kind, const char *name);

/* Build every tag set's name index (by_name); called once when a policy is
 * compiled, after its categories. LSN_ERR_NOMEM when out of memory. */
lsn_err policy_index_names(lsn_policy *p);
/* The categories of tag set ts named `name` (any case), in index order:
 * returns how many and sets *first to the first; 0 when none. */
size_t policy_named_cats(const policy_tagset *ts, const char *name,
                         const policy_named **first);

/* Parse a LACV as written in a SPIF or label: decimal digits, leading zeros
 * allowed, white space trimmed. False when it is not such a number or does
 * not fit 32 bits. */
bool lacv_parse(const char *text, uint32_t *out);

/* Names of tag kinds as spiffing XML writes them ("restrictive",
 * "permissive", "enumeratedRestrictive", "enumeratedPermissive",
 * "informative"), and back (also accepting SPIF's "tagType7"). */
const char *tag_kind_name(tag_kind k);
bool tag_kind_from_name(const char *s, tag_kind *out);

/* Pick the marking_data for a language with fallback: exact tag, then the
 * part before '-', then untagged; NULL when none. Case-insensitive. */
const marking_data *marking_for_lang(const marking_data *m, size_t n, const char *lang);

/* Case-insensitive ASCII string compare, for names. */
bool name_eq(const char *a, const char *b);

/* "NATO (1.3.26.1.3.1, version 79)": how messages name a policy, since one
 * OID may be written by several versions (or authors). Writes into buf
 * and returns it. */
const char *policy_ident(const lsn_policy *p, char *buf, size_t size);
#define POLICY_IDENT_MAX 256
#define POLICY_MAX_WARNINGS 8

#endif
