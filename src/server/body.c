/* server/body.c — JSON request bodies with depth and duplicate-key limits. */
#include <string.h>
#include <strings.h>
#include "server/body.h"
#include "server/errors.h"

size_t srv_json_depth(const char *text, size_t len, size_t limit)
{
    /* Only brackets outside strings count; this is not a parser, just a
     * guard so that a deep "[[[[..." never reaches jansson's recursion. */
    size_t depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max) {
                max = depth;
                if (max > limit)
                    return max;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

bool srv_json_body(const srv_request *req, srv_response *resp, json_t **out)
{
    *out = NULL;
    const char *ct = srv_req_header(req, "Content-Type");
    if (ct) {
        size_t n = strcspn(ct, ";");
        while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
            n--;
        if (!(n == 16 && strncasecmp(ct, "application/json", 16) == 0)) {
            srv_resp_error(resp, 415, SRV_E_MEDIA_TYPE,
                           "The request body must be application/json.");
            return false;
        }
    }
    if (!req->body || req->body_len == 0) {
        srv_resp_error(resp, 400, SRV_E_BAD_JSON,
                       "The request body is empty; a JSON object was expected.");
        return false;
    }
    if (srv_json_depth(req->body, req->body_len, SRV_JSON_MAX_DEPTH) > SRV_JSON_MAX_DEPTH) {
        srv_resp_error(resp, 400, SRV_E_BAD_JSON,
                       "The request body nests arrays or objects deeper than %d levels.",
                       SRV_JSON_MAX_DEPTH);
        return false;
    }
    json_error_t e;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        /* jansson's text may quote a token of the input; the caller's own
         * body, so it is safe to show, but keep it short. */
        srv_resp_error(resp, 400, SRV_E_BAD_JSON,
                       "The request body is not valid JSON (line %d, column %d): %.80s.",
                       e.line, e.column, e.text);
        return false;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        srv_resp_error(resp, 400, SRV_E_BAD_JSON,
                       "The request body must be a JSON object.");
        return false;
    }
    *out = j;
    return true;
}
