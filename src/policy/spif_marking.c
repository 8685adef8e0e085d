/* policy/spif_marking.c — reading <markingData> (a phrase per language with
 * marking codes) and <markingQualifier> (prefix/suffix/separator texts) at
 * classification, tag, category and policy level. */
#include "policy/spif.h"

#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} code_names[] = {
    { "pageTop", MC_PAGE_TOP },
    { "pageBottom", MC_PAGE_BOTTOM },
    { "pageTopBottom", MC_PAGE_TOP_BOTTOM },
    { "documentStart", MC_DOCUMENT_START },
    { "documentEnd", MC_DOCUMENT_END },
    { "noNameDisplay", MC_NO_NAME_DISPLAY },
    { "noMarkingDisplay", MC_NO_MARKING_DISPLAY },
    { "suppressClassName", MC_SUPPRESS_CLASS_NAME },
    { "replacePolicy", MC_REPLACE_POLICY },
    { "portionMarking", MC_PORTION },
};

/* The bit of a marking code name given as (s, len); 0 when unknown. */
static unsigned code_bit(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
        if (strlen(code_names[i].name) == len && memcmp(code_names[i].name, s, len) == 0)
            return code_names[i].bit;
    return 0;
}

lsn_err spif_markings(spif_ctx *c, const snode *holder, size_t *n, marking_data **out)
{
    size_t count = 0;
    for (snode *m = sn_child(holder, "markingData"); m; m = sn_next(m, "markingData"))
        count++;
    *n = 0;
    *out = NULL;
    if (count == 0)
        return LSN_OK;
    marking_data *v = policy_array(c->p, count, sizeof *v);
    if (!v)
        return spif_nomem(c);
    size_t i = 0;
    lsn_err rc;
    for (snode *m = sn_child(holder, "markingData"); m; m = sn_next(m, "markingData"), i++) {
        if ((rc = spif_attr(c, m, "lang", false, &v[i].lang)) ||
            (rc = spif_attr(c, m, "phrase", false, &v[i].phrase)))
            return rc;
        /* Codes are a set: a repeated <code> (NATO v79 has some) is harmless. */
        for (snode *k = sn_child(m, "code"); k; k = sn_next(k, "code")) {
            const char *s;
            size_t len;
            if ((rc = spif_text(c, k, &s, &len)))
                return rc;
            unsigned bit = code_bit(s, len);
            if (!bit && (rc = spif_warn(c, k, "unknown marking code '%.*s' ignored",
                                        (int)(len > 64 ? 64 : len), s)))
                return rc;
            v[i].codes |= bit ? bit : MC_UNKNOWN;
        }
    }
    *n = count;
    *out = v;
    return LSN_OK;
}

/* Is q the banner's (no markingCode, or one that is neither the portion
 * form's nor unknown)? marking.c reads the banner's without asking. */
static bool banner_qualifier(const qualifier *q)
{
    return !q->codes || !(q->codes & (MC_PORTION | MC_UNKNOWN));
}

lsn_err spif_qualifiers(spif_ctx *c, const snode *holder, size_t *n, qualifier **out,
                        size_t *nbanner, qualifier **banner)
{
    size_t count = 0;
    *nbanner = 0;
    *banner = NULL;
    for (snode *mq = sn_child(holder, "markingQualifier"); mq;
         mq = sn_next(mq, "markingQualifier"))
        for (snode *q = sn_child(mq, "qualifier"); q; q = sn_next(q, "qualifier"))
            count++;
    *n = 0;
    *out = NULL;
    if (count == 0)
        return LSN_OK;
    qualifier *v = policy_array(c->p, count, sizeof *v);
    if (!v)
        return spif_nomem(c);
    size_t i = 0;
    lsn_err rc;
    for (snode *mq = sn_child(holder, "markingQualifier"); mq;
         mq = sn_next(mq, "markingQualifier")) {
        /* SPIF 2.1 writes markingCode=, older files code=. */
        unsigned codes = 0;
        const char *code = sn_attr(mq, "markingCode");
        if (!code)
            code = sn_attr(mq, "code");
        if (code) {
            codes = code_bit(code, strlen(code));
            if (!codes && (rc = spif_warn(c, mq, "unknown marking code '%.64s' ignored", code)))
                return rc;
            if (!codes)
                codes = MC_UNKNOWN;
        }
        char *parent_lang;
        if ((rc = spif_attr(c, mq, "lang", false, &parent_lang)))
            return rc;
        for (snode *q = sn_child(mq, "qualifier"); q; q = sn_next(q, "qualifier")) {
            const char *kind = sn_attr(q, "qualifierCode");
            if (!kind)
                return spif_fail(c, q, "missing attribute qualifierCode=");
            if (strcmp(kind, "prefix") == 0)
                v[i].kind = QUAL_PREFIX;
            else if (strcmp(kind, "suffix") == 0)
                v[i].kind = QUAL_SUFFIX;
            else if (strcmp(kind, "separator") == 0)
                v[i].kind = QUAL_SEPARATOR;
            else
                return spif_fail(c, q, "unknown qualifierCode=\"%.64s\"", kind);
            if ((rc = spif_attr(c, q, "markingQualifier", false, &v[i].text)) ||
                (rc = spif_attr(c, q, "lang", false, &v[i].lang)))
                return rc;
            if (!v[i].text) /* a qualifier with no text adds nothing */
                v[i].text = policy_strdup(c->p, "");
            if (!v[i].text)
                return spif_nomem(c);
            if (!v[i].lang)
                v[i].lang = parent_lang;
            v[i].codes = codes;
            i++;
        }
    }
    /* The banner's alone, in document order: the banner marking, made far
     * more often than the portion form, reads them without a test per
     * qualifier (marking.c). */
    qualifier *b = policy_array(c->p, count, sizeof *b);
    if (!b)
        return spif_nomem(c);
    size_t nb = 0;
    for (size_t k = 0; k < count; k++)
        if (banner_qualifier(&v[k]))
            b[nb++] = v[k];
    *banner = b;
    *nbanner = nb;
    *n = count;
    *out = v;
    return LSN_OK;
}
