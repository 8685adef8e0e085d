/* store/file_name.c — what an attachment's file name may be. It is shown
 * to readers and offered to their browser as the name to save under, so
 * it must never carry a path (a separator, "." or "..") or a control
 * character (a line break in a header, a terminal escape), and must be
 * valid UTF-8. The node refuses a post with such a name; the writer
 * refuses it again, so that no path into the store skips the check. */
#include <string.h>
#include <sodium.h>

#include "store/store.h"

/* The length of the UTF-8 sequence at p (1..4), 0 if it is not one, and
 * its code point in *cp. */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || (n == 3 && p[0] > 0xef))
        return 0;
    uint32_t c = p[0] & (0xff >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0; /* overlong, beyond Unicode, or a surrogate */
    *cp = c;
    return n;
}

bool store_attachment_name_ok(const char *name)
{
    if (!name)
        return true; /* no name: allowed */
    size_t len = strnlen(name, STORE_FILE_NAME_MAX + 1);
    if (len == 0 || len > STORE_FILE_NAME_MAX || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return false;
    const unsigned char *p = (const unsigned char *)name;
    while (*p) {
        uint32_t c;
        size_t n = utf8_seq(p, &c);
        if (n == 0)
            return false;
        /* Separators (POSIX and Windows), C0 and C1 controls, DEL, and the
         * line and paragraph separators. */
        if (c == '/' || c == '\\' || c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
            c == 0x2029)
            return false;
        p += n;
    }
    return true;
}
