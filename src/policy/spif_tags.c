/* policy/spif_tags.c — reading <securityCategoryTagSets>: tag sets, their
 * tags (<securityCategoryTag>) and the tags' categories (<tagCategory>).
 *
 * Categories get dense indices in document order across the whole policy,
 * which is what lets labels and clearances be bit sets. Counting first lets
 * every array be allocated once at its final size. */
#include "policy/spif.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Case-blind compare of a name with (s, len). */
static bool name_is(const char *name, const char *s, size_t len)
{
    size_t i = 0;
    for (; i < len && name[i]; i++) {
        unsigned char a = (unsigned char)name[i], b = (unsigned char)s[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return false;
    }
    return i == len && name[i] == '\0';
}

static lsn_err parse_category(spif_ctx *c, snode *n, policy_category *cat)
{
    lsn_policy *p = c->p;
    lsn_err rc;
    if ((rc = spif_attr(c, n, "name", true, &cat->name)) ||
        (rc = spif_lacv(c, n, "lacv", &cat->lacv)) ||
        (rc = spif_markings(c, n, &cat->nmarkings, &cat->markings)) ||
        (rc = spif_rules(c, n, &cat->nrules, &cat->required)) ||
        (rc = spif_equiv_cats(c, n, &cat->nequivs, &cat->equivs)))
        return rc;
    cat->obsolete = spif_bool(n, "obsolete");
    for (snode *e = sn_child(n, "excludedClass"); e; e = sn_next(e, "excludedClass")) {
        const char *s;
        size_t len;
        if ((rc = spif_text(c, e, &s, &len)))
            return rc;
        const policy_class *cls = NULL;
        for (size_t i = 0; i < p->nclasses && !cls; i++)
            if (name_is(p->classes[i].name, s, len))
                cls = &p->classes[i];
        if (!cls)
            return spif_fail(c, e, "category '%s' excludes '%.*s', which is no classification",
                             cat->name, (int)(len > 128 ? 128 : len), s);
        uint64_t bit = (uint64_t)1 << cls->index;
        /* Listing a class twice is a slip the reference library refuses too:
         * the author may have meant another class. */
        if (cat->excluded_classes & bit)
            return spif_fail(c, e,
                             "Duplicate excluded classification in category '%s': '%s' is "
                             "listed twice",
                             cat->name, cls->name);
        cat->excluded_classes |= bit;
    }
    return LSN_OK;
}

static lsn_err parse_tag(spif_ctx *c, snode *n, policy_tag *tag)
{
    lsn_err rc;
    if ((rc = spif_attr(c, n, "name", false, &tag->name)) ||
        (rc = spif_kind(c, n, true, &tag->kind)) ||
        (rc = spif_attr(c, n, "tag7Encoding", false, &tag->tag7_encoding)) ||
        (rc = spif_qualifiers(c, n, &tag->nqualifiers, &tag->qualifiers, &tag->nbanner_qualifiers,
                               &tag->banner_qualifiers)) ||
        (rc = spif_markings(c, n, &tag->nmarkings, &tag->markings)))
        return rc;
    tag->single_selection = spif_bool(n, "singleSelection");
    return LSN_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Refuse two categories of one tag with the same LACV: a label could not say
 * which it means. Sorting keeps this O(n log n) for big national lists. */
static lsn_err check_unique_lacvs(spif_ctx *c, const policy_tag *tag, uint32_t *scratch)
{
    const lsn_policy *p = c->p;
    for (size_t i = 0; i < tag->ncats; i++)
        scratch[i] = p->cats[tag->first_cat + i].lacv;
    qsort(scratch, tag->ncats, sizeof *scratch, cmp_u32);
    for (size_t i = 1; i < tag->ncats; i++) {
        if (scratch[i] != scratch[i - 1])
            continue;
        /* Name the second holder of the value, where the reader will look. */
        size_t first = SIZE_MAX;
        for (size_t k = tag->first_cat; k < tag->first_cat + tag->ncats; k++) {
            if (p->cats[k].lacv != scratch[i])
                continue;
            if (first == SIZE_MAX) {
                first = k;
                continue;
            }
            return spif_fail(c, c->cat_nodes[k],
                             "duplicate lacv %u in tag '%s': categories '%s' and '%s'",
                             (unsigned)scratch[i], tag->name ? tag->name : "(unnamed)",
                             p->cats[first].name, p->cats[k].name);
        }
    }
    return LSN_OK;
}

lsn_err spif_tagsets(spif_ctx *c, const snode *sets)
{
    lsn_policy *p = c->p;
    size_t nsets = 0, ntags = 0, ncats = 0;
    for (snode *s = sn_child(sets, "securityCategoryTagSet"); s;
         s = sn_next(s, "securityCategoryTagSet")) {
        nsets++;
        for (snode *t = sn_child(s, "securityCategoryTag"); t;
             t = sn_next(t, "securityCategoryTag")) {
            ntags++;
            for (snode *k = sn_child(t, "tagCategory"); k; k = sn_next(k, "tagCategory"))
                ncats++;
        }
    }
    if (ncats > POLICY_MAX_CATEGORIES)
        return spif_fail(c, sets, "more than %u categories", POLICY_MAX_CATEGORIES);
    p->cat_words = ncats ? BITSET_WORDS(ncats) : 1;
    c->no_cats = policy_array(p, p->cat_words, sizeof(bitword));
    if (!c->no_cats)
        return spif_nomem(c);
    if (nsets == 0)
        return LSN_OK;
    p->tagsets = policy_array(p, nsets, sizeof *p->tagsets);
    p->tags = ntags ? policy_array(p, ntags, sizeof *p->tags) : NULL;
    p->cats = ncats ? policy_array(p, ncats, sizeof *p->cats) : NULL;
    if (!p->tagsets || (ntags && !p->tags) || (ncats && !p->cats))
        return spif_nomem(c);
    if (ncats) {
        c->cat_nodes = core_calloc(ncats, sizeof *c->cat_nodes);
        if (!c->cat_nodes)
            return spif_nomem(c);
    }

    lsn_err rc;
    for (snode *s = sn_child(sets, "securityCategoryTagSet"); s;
         s = sn_next(s, "securityCategoryTagSet")) {
        policy_tagset *ts = &p->tagsets[p->ntagsets];
        ts->index = p->ntagsets++;
        ts->first_tag = p->ntags;
        if ((rc = spif_attr(c, s, "name", true, &ts->name)) ||
            (rc = spif_attr(c, s, "id", true, &ts->id)))
            return rc;
        for (size_t i = 0; i < ts->index; i++)
            if (name_eq(p->tagsets[i].name, ts->name) || strcmp(p->tagsets[i].id, ts->id) == 0)
                return spif_fail(c, s, "tag set '%s' (%s) has the name or id of another",
                                 ts->name, ts->id);
        /* A tag set or tag with nothing in it is a policy cut short, not a
         * policy: refuse it rather than let its labels read as unrestricted. */
        if (!sn_child(s, "securityCategoryTag"))
            return spif_fail(c, s, "tag set '%s' has no <securityCategoryTag>", ts->name);
        for (snode *t = sn_child(s, "securityCategoryTag"); t;
             t = sn_next(t, "securityCategoryTag")) {
            policy_tag *tag = &p->tags[p->ntags];
            tag->index = p->ntags++;
            tag->tagset = ts->index;
            tag->first_cat = p->ncats;
            ts->ntags++;
            if ((rc = parse_tag(c, t, tag)))
                return rc;
            if (!sn_child(t, "tagCategory"))
                return spif_fail(c, t, "tag '%.128s' of tag set '%s' has no <tagCategory>",
                                 sn_attr(t, "name") ? sn_attr(t, "name") : "", ts->name);
            for (snode *k = sn_child(t, "tagCategory"); k; k = sn_next(k, "tagCategory")) {
                policy_category *cat = &p->cats[p->ncats];
                cat->index = p->ncats;
                c->cat_nodes[p->ncats++] = k;
                cat->tagset = ts->index;
                cat->tag = tag->index;
                cat->kind = tag->kind;
                cat->excluded_cats = c->no_cats;
                tag->ncats++;
                if ((rc = parse_category(c, k, cat)))
                    return rc;
            }
        }
    }

    /* Now that every tag set is known, resolve what categories refer to. */
    if (ncats) {
        uint32_t *scratch = core_malloc(ncats * sizeof *scratch);
        if (!scratch)
            return spif_nomem(c);
        rc = LSN_OK;
        for (size_t t = 0; t < p->ntags && rc == LSN_OK; t++)
            rc = check_unique_lacvs(c, &p->tags[t], scratch);
        lsn_free(scratch);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < p->ncats; i++) {
        policy_category *cat = &p->cats[i];
        if ((rc = spif_resolve_rules(c, c->cat_nodes[i], cat->nrules, cat->required)) ||
            (rc = spif_excluded_cats(c, c->cat_nodes[i], &cat->excluded_cats)))
            return rc;
    }
    return LSN_OK;
}
