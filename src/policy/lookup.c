/* policy/lookup.c — finding classifications, tag sets and categories of a
 * compiled policy by value or by name, and the small helpers every reader of
 * the model shares (LACVs, tag kind names, marking language fallback).
 *
 * None of these is on an access decision's hot path (decisions use indices
 * and bit sets); they serve label and clearance readers, so a linear scan
 * is enough, except for category names, which go through the tag set's name
 * index (policy/name_index.c). Category lookups are always *within one tag
 * set*, because real SPIFs reuse category names across tag sets. */
#include "policy/model.h"

#include <string.h>

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

bool name_eq(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    /* folding only bytes that differ: names are mostly given in their case */
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x == y) {
            if (x == '\0')
                return true;
        } else if (lower(x) != lower(y)) {
            return false;
        }
    }
}

/* The same for a and the first n bytes of b (b need not be terminated). */
static bool name_eq_n(const char *a, const char *b, size_t n)
{
    size_t i = 0;
    for (; i < n && a[i]; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return i == n && a[i] == '\0';
}

bool lacv_parse(const char *text, uint32_t *out)
{
    if (!text)
        return false;
    const char *s = text;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    uint64_t v = 0;
    size_t digits = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        v = v * 10u + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return false;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (digits == 0 || *s != '\0')
        return false;
    *out = (uint32_t)v;
    return true;
}

const char *tag_kind_name(tag_kind k)
{
    switch (k) {
    case TAG_RESTRICTIVE: return "restrictive";
    case TAG_PERMISSIVE: return "permissive";
    case TAG_ENUM_RESTRICTIVE: return "enumeratedRestrictive";
    case TAG_ENUM_PERMISSIVE: return "enumeratedPermissive";
    case TAG_INFORMATIVE: return "informative";
    case TAG_ANY: return "any";
    }
    return "any";
}

bool tag_kind_from_name(const char *s, tag_kind *out)
{
    static const struct { const char *name; tag_kind kind; } names[] = {
        { "restrictive", TAG_RESTRICTIVE },
        { "permissive", TAG_PERMISSIVE },
        { "enumeratedRestrictive", TAG_ENUM_RESTRICTIVE },
        { "enumeratedPermissive", TAG_ENUM_PERMISSIVE },
        { "informative", TAG_INFORMATIVE },
        { "tagType7", TAG_INFORMATIVE },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name_eq(s, names[i].name)) {
            *out = names[i].kind;
            return true;
        }
    return false;
}

/* Does a category of a tag of kind `have` answer a request for `want`? 4774
 * and BER do not tell enumerated from plain tags, so those match. */
static bool kind_matches(tag_kind want, tag_kind have)
{
    if (want == TAG_ANY || want == have)
        return true;
    if (tag_kind_permissive(want))
        return tag_kind_permissive(have);
    if (tag_kind_restrictive(want))
        return tag_kind_restrictive(have);
    return false;
}

const policy_class *policy_class_by_lacv(const lsn_policy *p, uint32_t lacv)
{
    for (size_t i = 0; p && i < p->nclasses; i++)
        if (p->classes[i].lacv == lacv)
            return &p->classes[i];
    return NULL;
}

const policy_class *policy_class_by_name(const lsn_policy *p, const char *name)
{
    for (size_t i = 0; p && name && i < p->nclasses; i++)
        if (name_eq(p->classes[i].name, name))
            return &p->classes[i];
    return NULL;
}

const policy_tagset *policy_tagset_by_id(const lsn_policy *p, const char *oid)
{
    if (!p || !oid)
        return NULL;
    if (name_eq_n("urn:oid:", oid, 8))
        oid += 8;
    for (size_t i = 0; i < p->ntagsets; i++)
        if (p->tagsets[i].id && strcmp(p->tagsets[i].id, oid) == 0)
            return &p->tagsets[i];
    return NULL;
}

const policy_tagset *policy_tagset_by_name(const lsn_policy *p, const char *name)
{
    if (!p || !name)
        return NULL;
    unsigned char first = lower((unsigned char)name[0]);
    for (size_t i = 0; i < p->ntagsets; i++) {
        const char *n = p->tagsets[i].name;
        /* the first letter rules out nearly every other tag set */
        if (n && lower((unsigned char)n[0]) == first && name_eq(n, name))
            return &p->tagsets[i];
    }
    return NULL;
}

const policy_category *policy_cat_by_lacv(const lsn_policy *p, const policy_tagset *ts,
                                          tag_kind kind, uint32_t lacv)
{
    if (!p || !ts)
        return NULL;
    for (size_t t = ts->first_tag; t < ts->first_tag + ts->ntags; t++) {
        const policy_tag *tag = &p->tags[t];
        if (!kind_matches(kind, tag->kind))
            continue;
        for (size_t c = tag->first_cat; c < tag->first_cat + tag->ncats; c++)
            if (p->cats[c].lacv == lacv)
                return &p->cats[c];
    }
    return NULL;
}

const policy_category *policy_cat_by_name(const lsn_policy *p, const policy_tagset *ts,
                                          tag_kind kind, const char *name)
{
    if (!p || !ts || !name)
        return NULL;
    const policy_named *named;
    size_t n = policy_named_cats(ts, name, &named);
    for (size_t i = 0; i < n; i++)
        if (kind_matches(kind, p->cats[named[i].cat].kind))
            return &p->cats[named[i].cat];
    return NULL;
}

/* A marking with exactly the language (lang_len bytes of lang), or, when
 * lang is NULL, an untagged one. */
static const marking_data *find_lang(const marking_data *m, size_t n, const char *lang,
                                     size_t lang_len)
{
    for (size_t i = 0; i < n; i++) {
        bool untagged = !m[i].lang || !m[i].lang[0];
        /* the portion form's entries (and codes we do not know) are not
         * the display marking's */
        if ((m[i].codes & (MC_PORTION | MC_UNKNOWN)) && !(m[i].codes & ~(MC_PORTION | MC_UNKNOWN)))
            continue;
        if (!lang ? untagged : (!untagged && name_eq_n(m[i].lang, lang, lang_len)))
            return &m[i];
    }
    return NULL;
}

const marking_data *marking_for_lang(const marking_data *m, size_t n, const char *lang)
{
    if (!m || n == 0)
        return NULL;
    if (lang && lang[0]) {
        size_t len = strlen(lang);
        const marking_data *d = find_lang(m, n, lang, len);
        if (d)
            return d;
        const char *dash = strchr(lang, '-');
        if (dash && dash != lang) {
            d = find_lang(m, n, lang, (size_t)(dash - lang));
            if (d)
                return d;
        }
    }
    return find_lang(m, n, NULL, 0);
}
