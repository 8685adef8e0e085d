/* server/errors.c — JSON error bodies. */
#include <stdarg.h>
#include <stdio.h>
#include "server/errors.h"

void srv_resp_error(srv_response *r, int status, const char *code,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* json_pack validates UTF-8; a message built from a bad request path
     * might not be, so fall back to a message that is. */
    json_t *j = json_pack("{s:s, s:s}", "error", code, "message", msg);
    if (!j)
        j = json_pack("{s:s, s:s}", "error", code, "message", srv_status_phrase(status));
    srv_resp_json(r, status, j);
}

const char *srv_status_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}
