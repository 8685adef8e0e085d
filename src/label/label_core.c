/* label/label_core.c — building compiled labels and clearances, and their
 * decision form.
 *
 * Readers call label_new / label_add_cat / label_finish (and the clearance
 * equivalents). label_finish turns the category set into what an access
 * decision needs, so that a decision is
 *
 *     class bit held && every res word is a subset of the clearance's word
 *                    && every permissive group meets the clearance
 *
 * touching only the words that hold the label's categories.
 *
 * Permissive groups follow spiffing's ACDF (Spif::acdf), so that our
 * conformance results match the reference: it walks the label's categories
 * in SPIF order and collects permissive ones into a run while the category's
 * *tag name* stays the same; a category of another tag name closes the run.
 * In practice that is one group per permissive securityCategoryTag present
 * (two adjacent tags of the same name share a group, as in spiffing). */
#include "label/label_model.h"

#include <string.h>

#include "core/alloc.h"

lsn_label *label_new(lsn_policy *p)
{
    if (!p)
        core_misuse("label_new: NULL policy");
    /* The label and its category bit set in one block: parsing is on the
     * node's hot path, and every allocation counts. */
    size_t words = p->cat_words ? p->cat_words : 1;
    lsn_label *l = core_calloc(1, sizeof *l + words * sizeof(bitword));
    if (!l)
        return NULL;
    l->catset = (bitword *)(l + 1);
    l->policy = lsn_policy_ref(p);
    l->class_index = POLICY_MAX_CLASSES;
    return l;
}

lsn_err label_add_cat(lsn_label *l, uint32_t cat_index)
{
    if (cat_index >= l->policy->ncats)
        return LSN_ERR_ARG;
    if (bitset_has(l->catset, cat_index))
        return LSN_OK;
    if (l->ncats >= LSN_LABEL_MAX_CATEGORIES)
        return LSN_ERR_LIMIT;
    bitset_set(l->catset, cat_index);
    l->ncats++;
    return LSN_OK;
}

lsn_err label_set_privacy_mark(lsn_label *l, const char *mark, size_t len)
{
    char *m = core_strndup(mark, len);
    if (!m)
        return LSN_ERR_NOMEM;
    lsn_free(l->privacy_mark);
    l->privacy_mark = m;
    return LSN_OK;
}

/* The category indices of a bit set, ascending. */
static void collect(const bitword *set, size_t words, uint32_t *out)
{
    size_t n = 0;
    for (size_t w = 0; w < words; w++) {
        bitword x = set[w];
        while (x) {
            unsigned b = (unsigned)__builtin_ctzll(x);
            out[n++] = (uint32_t)(w * 64u + b);
            x &= x - 1;
        }
    }
}

/* Append bit `idx` to a sparse list, merging into the last entry when it is
 * the same word (only from index `from`, the start of the current group). */
static void sparse_add(sparse_word *v, size_t *n, size_t from, uint32_t idx)
{
    uint32_t w = idx >> 6;
    bitword bit = (bitword)1 << (idx & 63);
    if (*n > from && v[*n - 1].word == w) {
        v[*n - 1].mask |= bit;
        return;
    }
    v[*n].word = w;
    v[*n].mask = bit;
    (*n)++;
}

static bool same_tag_name(const lsn_policy *p, size_t a, size_t b)
{
    const char *na = p->tags[a].name, *nb = p->tags[b].name;
    if (!na || !nb)
        return a == b;
    return strcmp(na, nb) == 0;
}

lsn_err label_finish(lsn_label *l)
{
    const lsn_policy *p = l->policy;
    size_t n = l->ncats ? l->ncats : 1;
    /* One block for the decision form: res[n], perm_words[n], perm[n],
     * cats[n] (in falling order of alignment). n <= LSN_LABEL_MAX_CATEGORIES,
     * so the size cannot overflow. */
    size_t bytes = n * (2 * sizeof(sparse_word) + sizeof(perm_group) + sizeof(uint32_t));
    char *block = core_calloc(1, bytes);
    if (!block)
        return LSN_ERR_NOMEM;
    l->res = (sparse_word *)block;
    l->perm_words = l->res + n;
    l->perm = (perm_group *)(l->perm_words + n);
    l->cats = (uint32_t *)(l->perm + n);
    n = l->ncats;
    collect(l->catset, p->cat_words, l->cats);
    l->class_index = l->cls ? (uint32_t)l->cls->index : POLICY_MAX_CLASSES;

    size_t nres = 0, nperm = 0, npw = 0;
    bool open = false;      /* a permissive run is open */
    size_t open_tag = 0;    /* the tag that opened it */
    for (size_t i = 0; i < n; i++) {
        const policy_category *c = &p->cats[l->cats[i]];
        if (open && !same_tag_name(p, open_tag, c->tag))
            open = false;
        if (tag_kind_restrictive(c->kind)) {
            sparse_add(l->res, &nres, 0, l->cats[i]);
        } else if (tag_kind_permissive(c->kind)) {
            if (!open) {
                l->perm[nperm].first = (uint32_t)npw;
                l->perm[nperm].n = 0;
                nperm++;
                open = true;
                open_tag = c->tag;
            }
            sparse_add(l->perm_words, &npw, l->perm[nperm - 1].first, l->cats[i]);
            l->perm[nperm - 1].n = (uint32_t)(npw - l->perm[nperm - 1].first);
        }
        /* informative categories play no part in decisions */
    }
    l->nres = nres;
    l->nperm = nperm;
    return LSN_OK;
}

void lsn_label_free(lsn_label *l)
{
    if (!l)
        return;
    lsn_policy_unref(l->policy);
    lsn_free(l->privacy_mark);
    lsn_free(l->res); /* the decision-form block (label_finish) */
    lsn_free(l);      /* with its category bit set */
}

const lsn_policy *lsn_label_policy(const lsn_label *l)
{
    return l ? l->policy : NULL;
}

int lsn_label_class_index(const lsn_label *l)
{
    return l && l->cls ? (int)l->cls->index : -1;
}

size_t lsn_label_category_count(const lsn_label *l)
{
    return l ? l->ncats : 0;
}

long lsn_label_category_at(const lsn_label *l, size_t i)
{
    return l && i < l->ncats ? (long)l->cats[i] : -1;
}

lsn_clearance *clearance_new(lsn_policy *p)
{
    if (!p)
        core_misuse("clearance_new: NULL policy");
    lsn_clearance *c = core_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->catset = core_calloc(p->cat_words ? p->cat_words : 1, sizeof(bitword));
    if (!c->catset) {
        lsn_free(c);
        return NULL;
    }
    c->policy = lsn_policy_ref(p);
    return c;
}

void clearance_add_class(lsn_clearance *c, const policy_class *cls)
{
    if (cls && cls->index < POLICY_MAX_CLASSES)
        c->classes |= (uint64_t)1 << cls->index;
}

lsn_err clearance_add_cat(lsn_clearance *c, uint32_t cat_index)
{
    /* No count limit beyond the policy's size: a clearance may well hold
     * every category of a tag set, and duplicates cost nothing. */
    if (cat_index >= c->policy->ncats)
        return LSN_ERR_ARG;
    if (!bitset_has(c->catset, cat_index)) {
        bitset_set(c->catset, cat_index);
        c->ncats++;
    }
    return LSN_OK;
}

lsn_err clearance_finish(lsn_clearance *c)
{
    c->cats = core_calloc(c->ncats ? c->ncats : 1, sizeof *c->cats);
    if (!c->cats)
        return LSN_ERR_NOMEM;
    collect(c->catset, c->policy->cat_words, c->cats);
    return LSN_OK;
}

void lsn_clearance_free(lsn_clearance *c)
{
    if (!c)
        return;
    lsn_policy_unref(c->policy);
    lsn_free(c->cats);
    lsn_free(c->catset);
    lsn_free(c);
}

const lsn_policy *lsn_clearance_policy(const lsn_clearance *c)
{
    return c ? c->policy : NULL;
}
