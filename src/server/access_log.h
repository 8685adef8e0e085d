/* server/access_log.h — one JSON object per line per answered request
 * (--access-log). Fields: time (RFC 3339 UTC, milliseconds), client
 * (address), user (name or null), method, route (the route table's
 * pattern, never the raw path: paths carry item ids and search words),
 * status, bytes (body bytes; null for a stream), duration_ms. A stream is
 * logged once, when it ends. Never a token, a cookie or a query. */
#ifndef SERVER_ACCESS_LOG_H
#define SERVER_ACCESS_LOG_H

#include <stdint.h>
#include "liaison/error.h"

typedef struct srv_access_log srv_access_log;

/* path: a file (appended to, made 0640), or "-" for standard output.
 * Returns NULL with err set when the file cannot be opened. */
srv_access_log *srv_access_log_open(const char *path, lsn_error *err);

typedef struct srv_access_entry {
    const char *client;      /* numeric address, or NULL */
    const char *user;        /* user name, or NULL */
    const char *method;
    const char *route;       /* pattern, or NULL when no route matched */
    int status;
    long long bytes;         /* < 0: unknown (streams) */
    int64_t duration_us;
} srv_access_entry;

/* Append one line. Thread-safe; each line is one write (lines never
 * interleave). */
void srv_access_log_write(srv_access_log *log, const srv_access_entry *e);

/* Flush and close (stdout is flushed, not closed). NULL is a no-op. */
void srv_access_log_close(srv_access_log *log);

#endif
