/* tests/node/tamper_util.c — alterations of a signed binding for the
 * tampering tests (tamper_util.h). Plain string surgery on the bytes the
 * origin signed: what an attacker on the wire could do. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "tamper_util.h"

char *tamper_splice(const char *s, const char *from, size_t from_len, const char *to,
                    size_t to_len)
{
    size_t pre = (size_t)(from - s), n = strlen(s);
    char *o = malloc(n - from_len + to_len + 1);
    if (!o)
        return NULL;
    memcpy(o, s, pre);
    memcpy(o + pre, to, to_len);
    memcpy(o + pre + to_len, from + from_len, n - pre - from_len + 1);
    return o;
}

const char *tamper_span(const char *s, const char *open, const char *close, size_t *len)
{
    const char *p = strstr(s, open), *q = p ? strstr(p, close) : NULL;
    if (!q)
        return NULL;
    *len = (size_t)(q + strlen(close) - p);
    return p;
}

#define LABEL_OPEN "<originatorConfidentialityLabel"
#define LABEL_CLOSE "</originatorConfidentialityLabel>"

char *tamper_swap_label(const char *x, const char *y)
{
    size_t lx, ly;
    const char *px = tamper_span(x, LABEL_OPEN, LABEL_CLOSE, &lx);
    const char *py = tamper_span(y, LABEL_OPEN, LABEL_CLOSE, &ly);
    return px && py ? tamper_splice(x, px, lx, py, ly) : NULL;
}

char *tamper_wrap(const char *x, const char *y)
{
    size_t lm = 0;
    const char *pm = tamper_span(x, "<mb:MetadataBinding ", "</mb:MetadataBinding>", &lm);
    char *forged_doc = tamper_swap_label(x, y);
    size_t lf = 0;
    const char *pf = forged_doc ? tamper_span(forged_doc, "<mb:MetadataBinding ",
                                              "</mb:MetadataBinding>", &lf)
                                : NULL;
    if (!pm || !pf) {
        free(forged_doc);
        return NULL;
    }
    /* The original element into ds:Object, before the properties. */
    const char *obj = strstr(forged_doc, "<ds:Object>");
    char *moved = NULL;
    if (obj) {
        size_t at = (size_t)(obj - forged_doc) + strlen("<ds:Object>");
        char *orig = strndup(pm, lm);
        moved = orig ? tamper_splice(forged_doc, forged_doc + at, 0, orig, lm) : NULL;
        free(orig);
    }
    free(forged_doc);
    return moved;
}

char *tamper_flip_signature(const char *x)
{
    const char *p = strstr(x, "<ds:SignatureValue>");
    if (!p)
        return NULL;
    char *o = strdup(x);
    if (!o)
        return NULL;
    char *c = o + (p - x) + strlen("<ds:SignatureValue>") + 10;
    *c = *c == 'A' ? 'B' : 'A';
    return o;
}

char *tamper_flip_label(const char *x)
{
    size_t l;
    const char *lab = tamper_span(x, LABEL_OPEN, LABEL_CLOSE, &l);
    const char *c = lab ? strstr(lab, "RESTRICTED") : NULL;
    if (!c || c >= lab + l)
        return NULL;
    char *o = strdup(x);
    if (!o)
        return NULL;
    o[c - x + 2] ^= 0x01; /* RESTRICTED → RETTRICTED: one bit of one byte */
    return o;
}
