/* policy/name_index.c — finding a tag set's categories by name in constant
 * time.
 *
 * Labels and clearances in 4774 XML and JSON name their categories, and
 * names compare case-insensitively. A linear compare over a tag set such as
 * NATO's Releasable To (about 100 countries and organisations) cost ~1,200
 * instructions per name, a sixth of reading a 4774 label; a binary search
 * still ~500. So each tag set keeps, built once when the policy is
 * compiled, its named categories sorted by case-folded name (equal names by
 * index) and a hash table of the runs of equal names, keyed by the folded
 * name: a lookup hashes the name once and compares it with one run's name.
 * Equal names (a SPIF may repeat a name under two tags of one tag set, e.g.
 * a restrictive and a permissive one) stay in index order, which is the
 * tags' order, so callers choosing among them see them as a scan of the tag
 * set would. */
#include "policy/model.h"

#include <stdlib.h>

#include "policy/arena.h"

static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Case-folded order of two names: <0, 0, >0, consistent with name_eq. */
static int name_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = fold((unsigned char)*a), y = fold((unsigned char)*b);
        if (x != y || x == '\0')
            return (int)x - (int)y;
    }
}

/* FNV-1a of the case-folded name. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ fold((unsigned char)*s)) * 16777619u;
    return h;
}

static int cmp_named(const void *a, const void *b)
{
    const policy_named *x = a, *y = b;
    int c = name_cmp(x->name, y->name);
    if (c)
        return c;
    return x->cat < y->cat ? -1 : x->cat > y->cat;
}

/* Sort ts's named categories and hash their runs of equal names. */
static lsn_err index_tagset(lsn_policy *p, policy_tagset *ts)
{
    size_t n = 0;
    for (size_t t = ts->first_tag; t < ts->first_tag + ts->ntags; t++)
        n += p->tags[t].ncats;
    ts->nnamed = 0;
    ts->nslots = 0;
    if (n == 0)
        return LSN_OK;
    ts->by_name = policy_array(p, n, sizeof *ts->by_name);
    if (!ts->by_name)
        return LSN_ERR_NOMEM;
    for (size_t t = ts->first_tag; t < ts->first_tag + ts->ntags; t++) {
        const policy_tag *tag = &p->tags[t];
        for (size_t c = tag->first_cat; c < tag->first_cat + tag->ncats; c++)
            if (p->cats[c].name)
                ts->by_name[ts->nnamed++] = (policy_named){ p->cats[c].name, (uint32_t)c };
    }
    qsort(ts->by_name, ts->nnamed, sizeof *ts->by_name, cmp_named);
    /* at most half full, so that a probe for an absent name ends soon */
    size_t nslots = 4;
    while (nslots < 2 * ts->nnamed)
        nslots *= 2;
    ts->slots = policy_array(p, nslots, sizeof *ts->slots);
    if (!ts->slots)
        return LSN_ERR_NOMEM;
    ts->nslots = nslots;
    for (size_t i = 0; i < ts->nnamed;) {
        size_t end = i + 1;
        while (end < ts->nnamed && name_cmp(ts->by_name[end].name, ts->by_name[i].name) == 0)
            end++;
        uint32_t h = name_hash(ts->by_name[i].name);
        size_t k = h & (nslots - 1);
        while (ts->slots[k].count)
            k = (k + 1) & (nslots - 1);
        ts->slots[k] = (policy_name_slot){ (uint32_t)i, (uint32_t)(end - i), h };
        i = end;
    }
    return LSN_OK;
}

lsn_err policy_index_names(lsn_policy *p)
{
    for (size_t s = 0; s < p->ntagsets; s++) {
        lsn_err rc = index_tagset(p, &p->tagsets[s]);
        if (rc != LSN_OK)
            return rc;
    }
    return LSN_OK;
}

size_t policy_named_cats(const policy_tagset *ts, const char *name,
                         const policy_named **first)
{
    *first = NULL;
    if (!ts || !name || !ts->nslots)
        return 0;
    size_t mask = ts->nslots - 1;
    uint32_t h = name_hash(name);
    for (size_t k = h & mask;; k = (k + 1) & mask) {
        const policy_name_slot *slot = &ts->slots[k];
        if (!slot->count)
            return 0;
        if (slot->hash == h && name_eq(ts->by_name[slot->first].name, name)) {
            *first = &ts->by_name[slot->first];
            return slot->count;
        }
    }
}
