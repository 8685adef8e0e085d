/* label/label_model.h — the compiled form of labels and clearances
 * (internal). Readers (label/read_*.c) build them with the helpers below;
 * the engine (engine/) reads them.
 *
 * A label is a classification and a sorted set of category indices of its
 * policy, plus a "decision form" precomputed by label_finish(): the
 * restrictive categories and each permissive tag's categories as sparse
 * (word, mask) pairs, so that an access decision touches only the words
 * that matter. */
#ifndef LABEL_LABEL_MODEL_H
#define LABEL_LABEL_MODEL_H

#include <stdatomic.h>
#include <stdint.h>
#include "liaison/clearance.h"
#include "liaison/label.h"
#include "policy/model.h"

typedef struct sparse_word {
    uint32_t word;   /* index of the word in a category bit set */
    bitword mask;    /* the bits of that word */
} sparse_word;

/* The categories of one permissive tag in a label: sparse words
 * perm_words[first .. first+n-1]. */
typedef struct perm_group {
    uint32_t first;
    uint32_t n;
} perm_group;

struct lsn_label {
    lsn_policy *policy;          /* a reference is held */
    const policy_class *cls;     /* NULL when the label has no classification */
    size_t ncats;
    uint32_t *cats;              /* category indices, ascending, unique */
    bitword *catset;             /* the same as a bit set (policy->cat_words) */
    char *privacy_mark;          /* NULL when none */

    /* Decision form (label_finish). */
    uint32_t class_index;        /* cls->index, or 64 when no classification */
    size_t nres;
    sparse_word *res;            /* restrictive categories */
    size_t nperm;
    perm_group *perm;            /* one per permissive tag present */
    sparse_word *perm_words;

    /* Validity against the policy, computed by the engine on first use and
     * cached (LABEL_VALIDITY_*): labels are immutable, so every thread that
     * computes it gets the same answer and a relaxed store suffices. An
     * access decision reads one byte and denies an invalid label. */
    _Atomic unsigned char validity;
};

enum { LABEL_VALIDITY_UNKNOWN = 0, LABEL_VALIDITY_VALID = 1, LABEL_VALIDITY_INVALID = 2 };

struct lsn_clearance {
    lsn_policy *policy;          /* a reference is held */
    uint64_t classes;            /* bit i: holds class index i */
    size_t ncats;
    uint32_t *cats;              /* ascending, unique */
    bitword *catset;
};

/* Building. label_new takes a reference to p. label_add_cat ignores
 * duplicates and fails with LSN_ERR_LIMIT past LSN_LABEL_MAX_CATEGORIES.
 * label_finish sorts and computes the decision form; call it once, last. */
lsn_label *label_new(lsn_policy *p);
lsn_err label_add_cat(lsn_label *l, uint32_t cat_index);
lsn_err label_set_privacy_mark(lsn_label *l, const char *mark, size_t len);
lsn_err label_finish(lsn_label *l);

lsn_clearance *clearance_new(lsn_policy *p);
void clearance_add_class(lsn_clearance *c, const policy_class *cls);
lsn_err clearance_add_cat(lsn_clearance *c, uint32_t cat_index);
lsn_err clearance_finish(lsn_clearance *c);

#endif
