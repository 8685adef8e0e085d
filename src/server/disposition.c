/* server/disposition.c — Content-Disposition with a file name (RFC 6266,
 * RFC 8187): see disposition.h. */
#include <stdio.h>
#include <string.h>

#include "server/disposition.h"

/* RFC 8187 attr-char: sent as is in filename*=; the rest is %XX. */
static bool attr_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$&+-.^_`|~", c));
}

bool srv_content_disposition(const char *name, const char *fallback, char *out, size_t cap)
{
    if (name && *name) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = 0;
        bool fits = true;
#define PUT(ch) do { if (n + 1 < cap) out[n++] = (ch); else fits = false; } while (0)
        const char *head = "attachment; filename=\"";
        for (const char *h = head; *h; h++)
            PUT(*h);
        /* The stand-in: printable ASCII but the quote, the backslash and
         * '%' (which some clients decode); one '_' per other byte. */
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
            PUT(*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '%' ? (char)*p
                                                                                   : '_');
        const char *mid = "\"; filename*=UTF-8''";
        for (const char *h = mid; *h; h++)
            PUT(*h);
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
            if (attr_char(*p)) {
                PUT((char)*p);
            } else {
                PUT('%');
                PUT(hex[*p >> 4]);
                PUT(hex[*p & 15]);
            }
        }
#undef PUT
        if (fits && n < cap) {
            out[n] = '\0';
            return true;
        }
    }
    int w = snprintf(out, cap, "attachment; filename=\"%s\"", fallback);
    return w >= 0 && (size_t)w < cap;
}
