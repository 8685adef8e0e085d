/* engine/rules.c — category references and requiredCategory rules, shared by
 * validation (is a rule met?) and translation (which categories must a
 * translated label carry?), plus small helpers of the engine.
 *
 * A rule is evaluated against a category bit set, not a label, so that the
 * translator can test a label it is still building. */
#include "engine/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool engine_kind_admits(tag_kind want, tag_kind have)
{
    if (want == TAG_ANY || want == have)
        return true;
    if (tag_kind_permissive(want))
        return tag_kind_permissive(have);
    if (tag_kind_restrictive(want))
        return tag_kind_restrictive(have);
    return false;
}

bool engine_ref_matches(const lsn_policy *p, const catref *r, const policy_category *c)
{
    if (!r->all && c->lacv != r->lacv)
        return false;
    if (!engine_kind_admits(r->kind, c->kind))
        return false;
    return name_eq(p->tagsets[c->tagset].name, r->tagset);
}

static bool matches_any_ref(const lsn_policy *p, const rule *r, const policy_category *c)
{
    for (size_t k = 0; k < r->nrefs; k++)
        if (engine_ref_matches(p, &r->refs[k], c))
            return true;
    return false;
}

size_t engine_rule_count(const lsn_policy *p, const rule *r, const bitword *set)
{
    size_t n = 0;
    for (size_t w = 0; w < p->cat_words; w++) {
        bitword x = set[w];
        while (x) {
            size_t idx = w * 64u + (size_t)__builtin_ctzll(x);
            x &= x - 1;
            if (idx < p->ncats && matches_any_ref(p, r, &p->cats[idx]))
                n++;
        }
    }
    return n;
}

/* Is some category of `set` matched by reference `ref`? */
static bool ref_present(const lsn_policy *p, const catref *ref, const bitword *set)
{
    for (size_t w = 0; w < p->cat_words; w++) {
        bitword x = set[w];
        while (x) {
            size_t idx = w * 64u + (size_t)__builtin_ctzll(x);
            x &= x - 1;
            if (idx < p->ncats && engine_ref_matches(p, ref, &p->cats[idx]))
                return true;
        }
    }
    return false;
}

bool engine_rule_satisfied(const lsn_policy *p, const rule *r, const bitword *set)
{
    if (r->nrefs == 0)
        return true;
    switch (r->op) {
    case RULE_ONLY_ONE:
        /* Counting categories, not references (spiffing counts the
         * references that match): two categories under one all="true"
         * reference are two, and "only one" means one. */
        return engine_rule_count(p, r, set) == 1;
    case RULE_ONE_OR_MORE:
        for (size_t k = 0; k < r->nrefs; k++)
            if (ref_present(p, &r->refs[k], set))
                return true;
        return false;
    case RULE_ALL:
        for (size_t k = 0; k < r->nrefs; k++)
            if (!ref_present(p, &r->refs[k], set))
                return false;
        return true;
    }
    return false;
}

const char *engine_rule_op_words(rule_op op)
{
    switch (op) {
    case RULE_ONLY_ONE: return "exactly one of";
    case RULE_ONE_OR_MORE: return "one or more of";
    case RULE_ALL: return "all of";
    }
    return "?";
}

#define DESCRIBE_MAX 8   /* a rule with more references than this ... */
#define DESCRIBE_SHOWN 5 /* ... is described by its first five and a count */

/* Append to a bounded buffer; *len counts what was (or would be) written. */
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (*len >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n;
}

void engine_rule_describe(const lsn_policy *p, const rule *r, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    buf[0] = '\0';
    size_t len = 0;
    /* A rule may list dozens of categories (every nation of a tag set): a
     * refusal names the first few and counts the rest, so that it stays a
     * readable sentence. */
    size_t shown = r->nrefs > DESCRIBE_MAX ? DESCRIBE_SHOWN : r->nrefs;
    for (size_t k = 0; k < shown; k++) {
        const catref *ref = &r->refs[k];
        const char *ts = ref->tagset ? ref->tagset : "?";
        if (k)
            put(buf, size, &len, ", ");
        if (ref->all) {
            if (ref->kind == TAG_ANY)
                put(buf, size, &len, "any category of '%s'", ts);
            else
                put(buf, size, &len, "any %s category of '%s'", tag_kind_name(ref->kind), ts);
            continue;
        }
        const policy_tagset *set = policy_tagset_by_name(p, ref->tagset);
        const policy_category *c = set ? policy_cat_by_lacv(p, set, ref->kind, ref->lacv) : NULL;
        if (c)
            put(buf, size, &len, "'%s' (%s)", c->name, ts);
        else
            put(buf, size, &len, "LACV %u of '%s'", (unsigned)ref->lacv, ts);
    }
    if (shown < r->nrefs)
        put(buf, size, &len, " and %zu more", r->nrefs - shown);
}

/* "urn:oid:" is 8 bytes; compare it case-insensitively. */
static const char *strip_urn(const char *s)
{
    static const char urn[] = "urn:oid:";
    for (size_t i = 0; i < 8; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != urn[i])
            return s;
    }
    return s + 8;
}

bool engine_oid_eq(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    return strcmp(strip_urn(a), strip_urn(b)) == 0;
}

void engine_say(char *buf, size_t size, const char *fmt, ...)
{
    if (!buf || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}
