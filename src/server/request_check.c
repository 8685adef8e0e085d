/* server/request_check.c — the header-field checks of request_check.h. */
#include <string.h>
#include "server/request_check.h"

bool srv_is_token(const char *s, size_t len)
{
    if (!s || len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (ch == 0 || (!alnum && !strchr("!#$%&'*+-.^_`|~", ch)))
            return false;
    }
    return true;
}

/* Case-insensitive equality of s[0..len) and the lower-case literal lit. */
static bool name_is(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != lit[i])
            return false;
    }
    return true;
}

void srv_field_check_init(srv_field_check *c)
{
    memset(c, 0, sizeof *c);
}

static void refuse(srv_field_check *c, const char *why)
{
    if (!c->refusal)
        c->refusal = why;
}

void srv_field_check_add(srv_field_check *c, const char *name, size_t name_len,
                         const char *value, size_t value_len)
{
    if (!srv_is_token(name, name_len)) {
        refuse(c, "A header field name is not a token (white space, a control "
                  "character or a separator in it, or empty).");
        return;
    }
    if (value_len && (memchr(value, '\0', value_len) || memchr(value, '\r', value_len) ||
                      memchr(value, '\n', value_len)))
        refuse(c, "A header field value holds a NUL, CR or LF byte.");
    if (name_is(name, name_len, "content-length")) {
        c->content_length++;
    } else if (name_is(name, name_len, "transfer-encoding")) {
        c->transfer_encoding++;
        c->te_chunked_only = value && name_is(value, value_len, "chunked");
    } else if (name_is(name, name_len, "authorization")) {
        c->authorization++;
    } else if (name_is(name, name_len, "host")) {
        c->host++;
    }
}

const char *srv_field_check_verdict(const srv_field_check *c)
{
    if (c->refusal)
        return c->refusal;
    if ((c->content_length && c->transfer_encoding) || c->content_length > 1 ||
        c->transfer_encoding > 1 || (c->transfer_encoding == 1 && !c->te_chunked_only))
        return "The request's length is ambiguous (Content-Length with "
               "Transfer-Encoding, either repeated, or a coding other than chunked).";
    if (c->authorization > 1)
        return "The request has more than one Authorization header.";
    if (c->host > 1)
        return "The request has more than one Host header.";
    return NULL;
}
