/* core/strbuf.c — capped growable strings. */
#include "core/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

void strbuf_init(strbuf *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
}

static bool grow(strbuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > b->cap - b->len) {
        b->failed = true;
        b->why = LSN_ERR_LIMIT;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return true;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > (SIZE_MAX / 2) ? need : n * 2;
    char *p = core_realloc(b->data, n);
    if (!p) {
        b->failed = true;
        b->why = LSN_ERR_NOMEM;
        return false;
    }
    b->data = p;
    b->alloc = n;
    return true;
}

void strbuf_add(strbuf *b, const char *s, size_t n)
{
    if (!grow(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void strbuf_adds(strbuf *b, const char *s)
{
    if (s)
        strbuf_add(b, s, strlen(s));
}

void strbuf_addc(strbuf *b, char c)
{
    strbuf_add(b, &c, 1);
}

void strbuf_addf(strbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        b->why = LSN_ERR_ARG;
        return;
    }
    if ((size_t)n < sizeof small) {
        strbuf_add(b, small, (size_t)n);
        return;
    }
    if (!grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void strbuf_add_xml(strbuf *b, const char *s)
{
    if (!s)
        return;
    for (; *s; s++) {
        switch (*s) {
        case '&': strbuf_adds(b, "&amp;"); break;
        case '<': strbuf_adds(b, "&lt;"); break;
        case '>': strbuf_adds(b, "&gt;"); break;
        case '"': strbuf_adds(b, "&quot;"); break;
        case '\'': strbuf_adds(b, "&apos;"); break;
        default: strbuf_addc(b, *s);
        }
    }
}

char *strbuf_take(strbuf *b, size_t *len)
{
    if (b->failed) {
        strbuf_release(b);
        return NULL;
    }
    if (!b->data && !grow(b, 0))
        return NULL;
    if (b->len == 0)
        b->data[0] = '\0';
    char *d = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return d;
}

void strbuf_release(strbuf *b)
{
    lsn_free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}
