/* server/errors.h — the node's JSON errors: {"error": CODE, "message":
 * SENTENCE}. CODE is a stable snake_case word clients switch on; the
 * sentence is for people. An error never echoes item content or labels. */
#ifndef SERVER_ERRORS_H
#define SERVER_ERRORS_H

#include "server/response.h"

/* Stable codes (clients depend on them; append only). */
#define SRV_E_BAD_REQUEST        "bad_request"
#define SRV_E_BAD_JSON           "malformed_json"
#define SRV_E_UNAUTHORIZED       "unauthorized"
#define SRV_E_FORBIDDEN          "forbidden"
#define SRV_E_NOT_FOUND          "not_found"
#define SRV_E_METHOD             "method_not_allowed"
#define SRV_E_TOO_LARGE          "payload_too_large"
#define SRV_E_MEDIA_TYPE         "unsupported_media_type"
#define SRV_E_INVALID            "invalid"
#define SRV_E_UNAVAILABLE        "unavailable"
#define SRV_E_TOO_MANY           "too_many_attempts"
#define SRV_E_INTERNAL           "internal"

/* Fill r with status and a JSON error body. The message is printf-formatted
 * and capped at 512 bytes. If the JSON cannot be built (out of memory), r
 * becomes a bare 500 that the server still answers. */
void srv_resp_error(srv_response *r, int status, const char *code,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The reason phrase of a status ("Not Found"), for messages. */
const char *srv_status_phrase(int status);

#endif
