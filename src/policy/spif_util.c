/* policy/spif_util.c — small helpers of the SPIF loader: precise refusals,
 * attributes, LACVs, booleans, element text and tag kinds. */
#include "policy/spif.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

lsn_err spif_fail(spif_ctx *c, const snode *at, const char *fmt, ...)
{
    char what[LSN_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (at)
        return core_fail(c->err, LSN_ERR_POLICY, "%s: line %ld: <%s>: %s", c->src, at->line,
                        at->name, what);
    return core_fail(c->err, LSN_ERR_POLICY, "%s: %s", c->src, what);
}

lsn_err spif_warn(spif_ctx *c, const snode *at, const char *fmt, ...)
{
    lsn_policy *p = c->p;
    if (p->nwarnings >= POLICY_MAX_WARNINGS)
        return LSN_OK; /* the first few say enough */
    char what[LSN_ERROR_MESSAGE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char line[LSN_ERROR_MESSAGE_MAX];
    snprintf(line, sizeof line, "%s: line %ld: <%s>: %s", c->src, at ? at->line : 0L,
             at ? at->name : "SPIF", what);
    char *copy = policy_strdup(p, line);
    if (!copy)
        return spif_nomem(c);
    p->warnings[p->nwarnings++] = copy;
    return LSN_OK;
}

lsn_err spif_nomem(spif_ctx *c)
{
    return core_fail(c->err, LSN_ERR_NOMEM, "%s: out of memory while loading the policy",
                    c->src);
}

lsn_err spif_attr(spif_ctx *c, const snode *n, const char *name, bool required,
                  char **out)
{
    *out = NULL;
    const char *v = sn_attr(n, name);
    if (!v) {
        if (required)
            return spif_fail(c, n, "missing attribute %s=", name);
        return LSN_OK;
    }
    *out = policy_strdup(c->p, v);
    return *out ? LSN_OK : spif_nomem(c);
}

lsn_err spif_lacv(spif_ctx *c, const snode *n, const char *name, uint32_t *out)
{
    const char *v = sn_attr(n, name);
    if (!v)
        return spif_fail(c, n, "missing attribute %s=", name);
    if (!lacv_parse(v, out))
        return spif_fail(c, n, "%s=\"%.64s\" is not a LACV (a decimal number below 2^32)",
                         name, v);
    return LSN_OK;
}

bool spif_bool(const snode *n, const char *name)
{
    const char *v = sn_attr(n, name);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

lsn_err spif_text(spif_ctx *c, const snode *n, const char **s, size_t *len)
{
    (void)c;
    const char *v = n->text ? n->text : "";
    size_t a = 0, b = n->text ? n->text_len : 0;
    while (a < b && (v[a] == ' ' || v[a] == '\t' || v[a] == '\n' || v[a] == '\r'))
        a++;
    while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t' || v[b - 1] == '\n' ||
                     v[b - 1] == '\r'))
        b--;
    *s = v + a;
    *len = b - a;
    return LSN_OK;
}

lsn_err spif_kind(spif_ctx *c, const snode *n, bool required, tag_kind *out)
{
    const char *t = sn_attr(n, "tagType");
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
        const char *e = sn_attr(n, "enumType");
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
