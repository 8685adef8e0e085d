/* server/response.c — building srv_response values in handlers. */
#include <string.h>
#include "core/alloc.h"
#include "server/response.h"
#include "server/sse.h"

static void drop_body(srv_response *r)
{
    if (r->json)
        json_decref(r->json);
    r->json = NULL;
    lsn_free(r->text);
    if (r->text && r->text_released)
        r->text_released(r->text_released_ctx, r->text_len);
    r->text = NULL;
    r->text_len = 0;
    r->text_released = NULL;
    r->text_released_ctx = NULL;
    r->content_type = NULL;
}

void srv_resp_json(srv_response *r, int status, json_t *json)
{
    drop_body(r);
    if (!json) {
        /* The handler ran out of memory building its answer. */
        r->status = 500;
        return;
    }
    r->status = status;
    r->json = json;
}

void srv_resp_text(srv_response *r, int status, const char *content_type,
                   char *text, size_t len)
{
    drop_body(r);
    if (!text) {
        r->status = 500;
        return;
    }
    r->status = status;
    r->text = text;
    r->text_len = len;
    r->content_type = content_type;
}

void srv_resp_text_tracked(srv_response *r, int status, const char *content_type,
                           char *text, size_t len, void (*released)(void *, size_t),
                           void *ctx)
{
    srv_resp_text(r, status, content_type, text, len);
    if (text) {
        r->text_released = released;
        r->text_released_ctx = ctx;
    } else if (released) {
        released(ctx, len); /* never sent: released now */
    }
}

void srv_resp_bytes(srv_response *r, int status, const char *content_type,
                    char *data, size_t len)
{
    srv_resp_text(r, status, "application/octet-stream", data, len);
    size_t n = content_type ? strlen(content_type) : 0;
    if (!data || n == 0 || n >= sizeof r->ctype || strpbrk(content_type, "\r\n"))
        return;
    memcpy(r->ctype, content_type, n + 1);
    r->content_type = r->ctype;
}

void srv_resp_header(srv_response *r, const char *name, const char *value)
{
    if (!name || !value || r->nheaders >= SRV_RESP_MAX_HEADERS)
        return;
    size_t nl = strlen(name), vl = strlen(value);
    if (nl == 0 || nl >= SRV_RESP_HEADER_NAME_MAX || vl >= SRV_RESP_HEADER_VALUE_MAX)
        return;
    /* Refuse anything that could end the header line early. */
    if (strpbrk(name, "\r\n: ") || strpbrk(value, "\r\n"))
        return;
    memcpy(r->headers[r->nheaders].name, name, nl + 1);
    memcpy(r->headers[r->nheaders].value, value, vl + 1);
    r->nheaders++;
}

void srv_resp_clear(srv_response *r)
{
    if (r->deferred)
        core_misuse("srv_resp_clear: the response was deferred; answer its handle");
    drop_body(r);
    if (r->sse)
        srv_sse_sub_free(r->sse);
    memset(r, 0, sizeof *r);
}
