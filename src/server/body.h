/* server/body.h — reading a request body as JSON, with limits: the server
 * has already capped its size (413); this caps nesting depth before jansson
 * sees it, refuses duplicate keys (two "label" members must not be read two
 * ways), and turns every failure into a 400 with a clear sentence. */
#ifndef SERVER_BODY_H
#define SERVER_BODY_H

#include <stdbool.h>
#include <jansson.h>
#include "server/router.h"

#define SRV_JSON_MAX_DEPTH 32

/* Parse req's body as a JSON object. On success returns true and *out holds
 * a new reference (the caller json_decref's it). On failure returns false,
 * *out is NULL and resp holds the error (400 or 415). */
bool srv_json_body(const srv_request *req, srv_response *resp, json_t **out);

/* Largest nesting depth of arrays/objects in text (strings skipped), stopping
 * early once it exceeds limit. Exposed for tests. */
size_t srv_json_depth(const char *text, size_t len, size_t limit);

#endif
