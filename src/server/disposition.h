/* server/disposition.h — a Content-Disposition header that offers a file
 * name (RFC 6266): filename= an ASCII stand-in for old clients, filename*=
 * the name itself in UTF-8, percent-encoded (RFC 8187). */
#ifndef SERVER_DISPOSITION_H
#define SERVER_DISPOSITION_H

#include <stdbool.h>
#include <stddef.h>

/* Write `attachment; filename="..."; filename*=UTF-8''...` for name into
 * out (cap bytes). name must already be a safe file name (no separator,
 * no control character: the store checks); anything but unreserved ASCII
 * is percent-encoded, and the ASCII stand-in has '_' for what it cannot
 * say. When name is NULL, or the header would not fit, fallback (ASCII,
 * ours) is the only name. False if even that does not fit. */
bool srv_content_disposition(const char *name, const char *fallback, char *out, size_t cap);

#endif
