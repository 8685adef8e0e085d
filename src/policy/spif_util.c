/* policy/spif_util.c — small helpers of the SPIF loader: precise refusals,
 * attributes, LACVs, booleans, element text and tag kinds. */
#include "policy/spif.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

lsn_err spif_fail(spif_ctx *c, const xmlNode *at, const char *fmt, ...)
{
    char what[LSN_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (at && at->type == XML_ELEMENT_NODE)
        return lsn_fail(c->err, LSN_ERR_POLICY, "%s: line %ld: <%s>: %s", c->src,
                        xml_line(at), (const char *)at->name, what);
    return lsn_fail(c->err, LSN_ERR_POLICY, "%s: %s", c->src, what);
}

lsn_err spif_nomem(spif_ctx *c)
{
    return lsn_fail(c->err, LSN_ERR_NOMEM, "%s: out of memory while loading the policy",
                    c->src);
}

/* The attribute's value without copying when it is one text node (always,
 * as entities are not substituted), else NULL and *split = true. */
static const xmlAttr *find_attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, name) == 0)
            return a;
    return NULL;
}

lsn_err spif_attr(spif_ctx *c, const xmlNode *n, const char *name, bool required,
                  char **out)
{
    *out = NULL;
    const xmlAttr *a = find_attr(n, name);
    if (!a) {
        if (required)
            return spif_fail(c, n, "missing attribute %s=", name);
        return LSN_OK;
    }
    const xmlNode *t = a->children;
    if (!t) {
        *out = policy_strdup(c->p, "");
    } else if (!t->next && t->type == XML_TEXT_NODE) {
        *out = policy_strdup(c->p, t->content ? (const char *)t->content : "");
    } else {
        /* Rare: several nodes (entity references are kept, not expanded). */
        const char *v = xml_attr(n, name);
        *out = policy_strdup(c->p, v ? v : "");
    }
    return *out ? LSN_OK : spif_nomem(c);
}

/* A view of a one-text-node attribute, NULL when absent. */
static const char *attr_view(const xmlNode *n, const char *name)
{
    const xmlAttr *a = find_attr(n, name);
    if (!a)
        return NULL;
    if (!a->children)
        return "";
    if (!a->children->next && a->children->type == XML_TEXT_NODE)
        return a->children->content ? (const char *)a->children->content : "";
    return xml_attr(n, name);
}

lsn_err spif_lacv(spif_ctx *c, const xmlNode *n, const char *name, uint32_t *out)
{
    const char *v = attr_view(n, name);
    if (!v)
        return spif_fail(c, n, "missing attribute %s=", name);
    if (!lacv_parse(v, out))
        return spif_fail(c, n, "%s=\"%.64s\" is not a LACV (a decimal number below 2^32)",
                         name, v);
    return LSN_OK;
}

bool spif_bool(const xmlNode *n, const char *name)
{
    const char *v = attr_view(n, name);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

lsn_err spif_text(spif_ctx *c, const xmlNode *n, const char **s, size_t *len)
{
    const char *v;
    const xmlNode *t = n->children;
    if (!t) {
        v = "";
    } else if (!t->next && t->type == XML_TEXT_NODE) {
        v = t->content ? (const char *)t->content : "";
    } else {
        char *d = xml_text_dup(n);
        if (!d)
            return spif_nomem(c);
        v = policy_strdup(c->p, d);
        lsn_free(d);
        if (!v)
            return spif_nomem(c);
    }
    size_t a = 0, b = strlen(v);
    while (a < b && (v[a] == ' ' || v[a] == '\t' || v[a] == '\n' || v[a] == '\r'))
        a++;
    while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t' || v[b - 1] == '\n' ||
                     v[b - 1] == '\r'))
        b--;
    *s = v + a;
    *len = b - a;
    return LSN_OK;
}

lsn_err spif_kind(spif_ctx *c, const xmlNode *n, bool required, tag_kind *out)
{
    const char *t = attr_view(n, "tagType");
    if (!t) {
        if (required)
            return spif_fail(c, n, "missing attribute tagType=");
        *out = TAG_ANY;
        return LSN_OK;
    }
    if (strcmp(t, "restrictive") == 0) {
        *out = TAG_RESTRICTIVE;
    } else if (strcmp(t, "permissive") == 0) {
        *out = TAG_PERMISSIVE;
    } else if (strcmp(t, "tagType7") == 0) {
        *out = TAG_INFORMATIVE;
    } else if (strcmp(t, "enumerated") == 0) {
        const char *e = attr_view(n, "enumType");
        if (!e)
            return spif_fail(c, n, "tagType=\"enumerated\" without enumType=");
        if (strcmp(e, "permissive") == 0)
            *out = TAG_ENUM_PERMISSIVE;
        else if (strcmp(e, "restrictive") == 0)
            *out = TAG_ENUM_RESTRICTIVE;
        else
            return spif_fail(c, n, "unknown enumType=\"%.64s\"", e);
    } else {
        return spif_fail(c, n, "unknown tagType=\"%.64s\"", t);
    }
    return LSN_OK;
}
