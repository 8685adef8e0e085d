/* server/request_check.h — what a request's header fields must satisfy
 * before it is routed, so that no proxy in front of the node can read the
 * same bytes as a different request (request smuggling).
 *
 * Refused (400, and the connection is closed):
 *  - a field name that is not an RFC 9110 token: empty, or holding white
 *    space (`Transfer-Encoding : chunked`, RFC 9112 §5.1), a control
 *    character, a NUL or a separator;
 *  - a field value holding NUL, CR or LF (RFC 9110 §5.5);
 *  - Authorization or Host given more than once (which one a proxy checked
 *    and which one the node used would be anyone's guess; RFC 9112 §3.2);
 *  - an ambiguous length: Content-Length with Transfer-Encoding, either one
 *    repeated, or a transfer coding other than plain `chunked` (RFC 9112
 *    §6.1, §6.3).
 *
 * The check is incremental (one call per field, in the order received) and
 * pure — no libmicrohttpd — so that the fuzz target fuzz_http_request can
 * drive it directly. */
#ifndef SERVER_REQUEST_CHECK_H
#define SERVER_REQUEST_CHECK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct srv_field_check {
    unsigned content_length, transfer_encoding, authorization, host;
    bool te_chunked_only;  /* the (last) Transfer-Encoding is exactly "chunked" */
    const char *refusal;   /* the first problem found (static), or NULL */
} srv_field_check;

/* Start a check (all counts zero, nothing refused). */
void srv_field_check_init(srv_field_check *c);

/* Look at one field: name and value as received, with their lengths (they
 * may hold NUL bytes; neither needs a terminator). */
void srv_field_check_add(srv_field_check *c, const char *name, size_t name_len,
                         const char *value, size_t value_len);

/* After the last field: NULL when the request may be served, else a static
 * sentence for the 400 answer (it never echoes the request's bytes). */
const char *srv_field_check_verdict(const srv_field_check *c);

/* Is s[0..len) an RFC 9110 token (non-empty; letters, digits and
 * !#$%&'*+-.^_`|~)? */
bool srv_is_token(const char *s, size_t len);

#endif
