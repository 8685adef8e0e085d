/* cli/http_client.h — the libcurl plumbing of the client verbs (internal to
 * src/cli): where the node is, the bearer token, TLS trust, capped replies,
 * the node's JSON errors, and a streaming GET for Server-Sent Events. */
#ifndef CLI_HTTP_CLIENT_H
#define CLI_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

#define CLI_HTTP_DEFAULT_URL "http://127.0.0.1:8470"
/* The most a reply may hold: a page of up to 1000 items with their bodies. */
#define CLI_HTTP_REPLY_MAX (64u * 1024u * 1024u)

typedef struct cli_http cli_http;

/* A whole reply: the HTTP status and the body (NUL-terminated; free with
 * cli_http_reply_release). */
typedef struct cli_http_reply {
    long status;
    char *body;
    size_t len;
} cli_http_reply;

/* Connect-side settings from the command line and the environment (--url or
 * LIAISON_URL, --token or LIAISON_TOKEN, --cacert). Returns NULL after
 * reporting (no token, a URL that is not http(s)://, out of memory).
 * Free with cli_http_free, which wipes the token from memory. */
cli_http *cli_http_new(const cli_args *a, const char *verb);
void cli_http_free(cli_http *h);

/* `text` escaped for a URL path segment or query value; free with
 * cli_http_free_string. NULL when out of memory. */
char *cli_http_escape(cli_http *h, const char *text);
void cli_http_free_string(char *s);

/* Send METHOD PATH (path and query, starting with '/') with an optional JSON
 * body, and read the whole reply (at most CLI_HTTP_REPLY_MAX bytes).
 * Returns 0 when the node answered (whatever the status), or CLI_EXIT_ERROR
 * after reporting why there is no answer. */
int cli_http_call(cli_http *h, const char *method, const char *path,
                  const char *json_body, cli_http_reply *r);
void cli_http_reply_release(cli_http_reply *r);

/* Report an error reply as "liaison: MESSAGE" (the node's sentence, with
 * control characters replaced) and return the exit code for it:
 * CLI_EXIT_NO for a refusal under the policy (403, 422), CLI_EXIT_ERROR
 * for anything else. */
int cli_http_report(const cli_http_reply *r);

/* A stream's bytes, as they come; return false to stop the stream. */
typedef bool (*cli_http_sink)(void *ctx, const char *data, size_t len);

/* GET PATH as a stream (no overall timeout; a connection silent for 90 s is
 * dropped), with Last-Event-ID when last_id is not NULL. Bytes of a 200
 * reply go to `sink`; the body of any other reply is collected in *r.
 * Returns 0 when the stream ended (closed by the node, or stopped by the
 * sink: *stopped is set) or the node answered another status (r->status),
 * CLI_EXIT_ERROR when the connection failed or dropped (reported on
 * stderr; r->status is then what was seen, 0 if nothing). */
int cli_http_stream(cli_http *h, const char *path, const char *last_id,
                    cli_http_sink sink, void *ctx, bool *stopped,
                    cli_http_reply *r);

/* Write `s` to stdout with control characters (C0, DEL, C1) replaced by
 * '?', keeping newlines and tabs when `multiline`: text from a node must
 * not drive the terminal. */
void cli_put_clean(const char *s, bool multiline);

#endif
