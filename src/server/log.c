/* server/log.c — leveled stderr lines (log.h). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "server/log.h"

static _Atomic int current = SRV_LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

bool srv_log_level_parse(const char *text, srv_log_level *out)
{
    for (int i = 0; i <= SRV_LOG_DEBUG; i++)
        if (text && strcmp(text, names[i]) == 0) {
            *out = (srv_log_level)i;
            return true;
        }
    return false;
}

void srv_log_set_level(srv_log_level level)
{
    atomic_store(&current, (int)level);
}

bool srv_log_enabled(srv_log_level level)
{
    return (int)level <= atomic_load(&current);
}

void srv_log(srv_log_level level, const char *fmt, ...)
{
    if (!srv_log_enabled(level))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "liaison: %s\n", line);
}
