/* server/response.h — what a route handler produces: a status and a JSON
 * body, a text body (Prometheus metrics), or a Server-Sent Events stream.
 * The server turns it into a libmicrohttpd response and releases it; a
 * handler never touches libmicrohttpd itself. A handler may also answer
 * later, from another thread (server/deferred.h). */
#ifndef SERVER_RESPONSE_H
#define SERVER_RESPONSE_H

#include <stddef.h>
#include <jansson.h>

#define SRV_RESP_MAX_HEADERS 6
#define SRV_RESP_HEADER_NAME_MAX 48
/* 1 KiB: a Content-Disposition with a 255-byte file name, percent-encoded
 * (server/disposition.h), fits. */
#define SRV_RESP_HEADER_VALUE_MAX 1024

struct srv_sse_sub;
struct srv_deferred;

typedef struct srv_response {
    int status;                /* 0 until a handler sets one (then 500) */
    json_t *json;              /* owned: serialised and released */
    char *text;                /* owned (lsn_free): sent as is */
    size_t text_len;
    /* Called once when text is freed (sent, or dropped), with its length:
     * lets a handler bound the memory of the answers in flight. NULL: none. */
    void (*text_released)(void *ctx, size_t len);
    void *text_released_ctx;
    const char *content_type;  /* static string, or ctype, for text */
    char ctype[SRV_RESP_HEADER_VALUE_MAX]; /* a copied content type (srv_resp_bytes) */
    struct srv_sse_sub *sse;   /* owned: streamed until it ends */
    struct srv_deferred *deferred; /* set by srv_resp_defer: answered later */
    size_t nheaders;
    struct {
        char name[SRV_RESP_HEADER_NAME_MAX];
        char value[SRV_RESP_HEADER_VALUE_MAX];
    } headers[SRV_RESP_MAX_HEADERS];
} srv_response;

/* Set a JSON response. Steals the reference to json (NULL → 500). Replaces
 * any body set before. */
void srv_resp_json(srv_response *r, int status, json_t *json);

/* Set a text response. Takes ownership of text (lsn_free'd by the server);
 * content_type must be a string literal or otherwise outlive the response. */
void srv_resp_text(srv_response *r, int status, const char *content_type,
                   char *text, size_t len);

/* The same, calling released(ctx, len) once when the text is freed (after
 * it was sent, or when the answer is dropped). */
void srv_resp_text_tracked(srv_response *r, int status, const char *content_type,
                           char *text, size_t len, void (*released)(void *, size_t),
                           void *ctx);

/* Set a response of raw bytes with a content type that need not outlive
 * the call (it is copied; one with CR, LF or over the header cap becomes
 * application/octet-stream). Takes ownership of data (lsn_free'd by the
 * server; NULL → 500). */
void srv_resp_bytes(srv_response *r, int status, const char *content_type,
                    char *data, size_t len);

/* Add a response header. Names and values that are too long or contain CR
 * or LF are dropped (a handler can never split a response). */
void srv_resp_header(srv_response *r, const char *name, const char *value);

/* Release everything the response owns and reset it to empty. A deferred
 * response is answered through its handle, never cleared (that aborts). */
void srv_resp_clear(srv_response *r);

#endif
