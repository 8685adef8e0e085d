/* label/resolve.c — turning what a label or clearance says (policy OIDs,
 * tag set names, category and classification names or LACVs) into the
 * policy's compiled objects, with one wording of the error messages for
 * every form. */
#include "label/label_internal.h"

#include <ctype.h>
#include <string.h>

#include "core/error.h"

static const char *what(lsn_err code)
{
    return code == LSN_ERR_CLEARANCE ? "clearance" : "label";
}

lsn_err label_policy_by_id(const lsn_policy_set *set, const char *oid,
                           lsn_error *err, lsn_policy **out)
{
    *out = NULL;
    const char *bare = oid;
    if (strncmp(bare, "urn:oid:", 8) == 0)
        bare += 8;
    const lsn_policy *p = set ? lsn_policy_set_find_id(set, bare) : NULL;
    if (!p)
        return core_fail(err, LSN_ERR_UNKNOWN_POLICY, "Unknown policy id: %s", bare);
    /* The set holds the policy; we only need a mutable pointer to take our
     * own reference in label_new. */
    *out = (lsn_policy *)p;
    return LSN_OK;
}

static bool looks_like_oid(const char *s)
{
    if (!isdigit((unsigned char)*s))
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && *s != '.')
            return false;
    return true;
}

lsn_err label_tagset(const lsn_policy *p, const char *ref, lsn_err code,
                     lsn_error *err, const policy_tagset **out)
{
    char id[POLICY_IDENT_MAX];
    const char *bare = ref;
    if (strncmp(bare, "urn:oid:", 8) == 0)
        bare += 8;
    const policy_tagset *ts = NULL;
    if (looks_like_oid(bare))
        ts = policy_tagset_by_id(p, bare);
    if (!ts)
        ts = policy_tagset_by_name(p, ref);
    *out = ts;
    if (!ts)
        return core_fail(err, code, "unknown tag set '%s' in %s under policy %s",
                        ref, what(code), policy_ident(p, id, sizeof id));
    return LSN_OK;
}

static bool kind_family(tag_kind want, tag_kind have)
{
    if (want == TAG_ANY || want == have)
        return true;
    if (tag_kind_permissive(want))
        return tag_kind_permissive(have);
    if (tag_kind_restrictive(want))
        return tag_kind_restrictive(have);
    return false;
}

static const char *kind_word(tag_kind k)
{
    switch (k) {
    case TAG_RESTRICTIVE: return "restrictive ";
    case TAG_PERMISSIVE: return "permissive ";
    case TAG_ENUM_RESTRICTIVE: return "enumerated restrictive ";
    case TAG_ENUM_PERMISSIVE: return "enumerated permissive ";
    case TAG_INFORMATIVE: return "informative ";
    default: return "";
    }
}

/* One pass over the tag set's tags: the first match in a tag of exactly
 * `kind` wins at once; otherwise the first match in a tag of the same
 * family. */
static const policy_category *find_by_lacv(const lsn_policy *p, const policy_tagset *ts,
                                           tag_kind kind, uint32_t lacv)
{
    const policy_category *family = NULL;
    size_t tag_end = ts->first_tag + ts->ntags;
    if (tag_end > p->ntags)
        tag_end = p->ntags;
    for (size_t t = ts->first_tag; t < tag_end; t++) {
        const policy_tag *tag = &p->tags[t];
        bool exact = kind == TAG_ANY || tag->kind == kind;
        if (!exact && (family || !kind_family(kind, tag->kind)))
            continue;
        size_t cat_end = tag->first_cat + tag->ncats;
        if (cat_end > p->ncats)
            cat_end = p->ncats;
        for (size_t i = tag->first_cat; i < cat_end; i++) {
            const policy_category *c = &p->cats[i];
            if (c->lacv != lacv)
                continue;
            if (exact)
                return c;
            family = c;
            break;
        }
    }
    return family;
}

/* The same choice by name, through the tag set's name index: the
 * categories of that name come in index order, which is tag order. This is
 * the hot part of reading a 4774 or JSON label. */
static const policy_category *find_by_name(const lsn_policy *p, const policy_tagset *ts,
                                           tag_kind kind, const char *name)
{
    const policy_named *named;
    size_t n = policy_named_cats(ts, name, &named);
    const policy_category *family = NULL;
    for (size_t i = 0; i < n; i++) {
        const policy_category *c = &p->cats[named[i].cat];
        if (kind == TAG_ANY || c->kind == kind)
            return c;
        if (!family && kind_family(kind, c->kind))
            family = c;
    }
    return family;
}

lsn_err label_cat_by_name(const lsn_policy *p, const policy_tagset *ts,
                          tag_kind kind, const char *name, lsn_err code,
                          lsn_error *err, const policy_category **out)
{
    char id[POLICY_IDENT_MAX];
    const policy_category *c = find_by_name(p, ts, kind, name);
    *out = c;
    if (!c)
        return core_fail(err, code, "unknown %scategory '%s' in tag set '%s' of policy %s",
                        kind_word(kind), name, ts->name ? ts->name : ts->id,
                        policy_ident(p, id, sizeof id));
    return LSN_OK;
}

lsn_err label_cat_by_lacv(const lsn_policy *p, const policy_tagset *ts,
                          tag_kind kind, uint32_t lacv, lsn_err code,
                          lsn_error *err, const policy_category **out)
{
    char id[POLICY_IDENT_MAX];
    const policy_category *c = find_by_lacv(p, ts, kind, lacv);
    *out = c;
    if (!c)
        return core_fail(err, code, "unknown %scategory lacv %u in tag set '%s' of policy %s",
                        kind_word(kind), (unsigned)lacv, ts->name ? ts->name : ts->id,
                        policy_ident(p, id, sizeof id));
    return LSN_OK;
}

lsn_err label_class_by_name(const lsn_policy *p, const char *name, lsn_err code,
                            lsn_error *err, const policy_class **out)
{
    char id[POLICY_IDENT_MAX];
    *out = policy_class_by_name(p, name);
    if (!*out)
        return core_fail(err, code, "unknown classification '%s' in policy %s",
                        name, policy_ident(p, id, sizeof id));
    return LSN_OK;
}

lsn_err label_class_by_lacv(const lsn_policy *p, uint32_t lacv, lsn_err code,
                            lsn_error *err, const policy_class **out)
{
    char id[POLICY_IDENT_MAX];
    *out = policy_class_by_lacv(p, lacv);
    if (!*out)
        return core_fail(err, code, "unknown classification lacv %u in policy %s",
                        (unsigned)lacv, policy_ident(p, id, sizeof id));
    return LSN_OK;
}

lsn_err label_add(lsn_label *l, const policy_category *c, lsn_error *err)
{
    lsn_err rc = label_add_cat(l, (uint32_t)c->index);
    if (rc == LSN_ERR_LIMIT)
        return core_fail(err, rc, "label has more than %u categories",
                        LSN_LABEL_MAX_CATEGORIES);
    if (rc != LSN_OK)
        return core_fail(err, rc, "category '%s': %s", c->name ? c->name : "?",
                        lsn_strerror(rc));
    return LSN_OK;
}

lsn_err label_clearance_add(lsn_clearance *c, const policy_category *cat,
                            lsn_error *err)
{
    lsn_err rc = clearance_add_cat(c, (uint32_t)cat->index);
    if (rc != LSN_OK)
        return core_fail(err, rc, "category '%s': %s", cat->name ? cat->name : "?",
                        lsn_strerror(rc));
    return LSN_OK;
}

lsn_err label_done(lsn_label *l, lsn_error *err, lsn_label **out)
{
    *out = NULL;
    if (label_finish(l) != LSN_OK) {
        lsn_label_free(l);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    *out = l;
    return LSN_OK;
}

lsn_err label_clearance_done(lsn_clearance *c, lsn_error *err, lsn_clearance **out)
{
    *out = NULL;
    if (clearance_finish(c) != LSN_OK) {
        lsn_clearance_free(c);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    *out = c;
    return LSN_OK;
}

bool label_text_ok(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        /* overlong forms, surrogates, beyond U+10FFFF, and U+FFFE/U+FFFF,
         * which XML cannot carry (a BER privacy mark holding U+FFFF was
         * written as 4774 XML that did not parse back: found by
         * fuzz_label_ber) */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
            return false;
        i += n + 1;
    }
    return true;
}
