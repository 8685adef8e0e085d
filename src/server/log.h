/* server/log.h — the node's stderr lines, with a level (--log-level).
 * Every "liaison: ..." line of the server and the node goes through
 * srv_log, so that one setting governs them all. */
#ifndef SERVER_LOG_H
#define SERVER_LOG_H

#include <stdbool.h>

typedef enum srv_log_level {
    SRV_LOG_ERROR = 0,
    SRV_LOG_WARN,
    SRV_LOG_INFO,   /* the default */
    SRV_LOG_DEBUG
} srv_log_level;

/* "error", "warn", "info" or "debug"; false for anything else. */
bool srv_log_level_parse(const char *text, srv_log_level *out);

/* Set the level (process-wide; lines above it are dropped). */
void srv_log_set_level(srv_log_level level);
bool srv_log_enabled(srv_log_level level);

/* Write "liaison: " + the formatted text + "\n" to stderr if level is
 * enabled. One fprintf per line, so lines of threads do not interleave. */
__attribute__((format(printf, 2, 3)))
void srv_log(srv_log_level level, const char *fmt, ...);

#endif
