/* server/access_log.c — the JSON lines access log (access_log.h).
 * jansson encodes each object outside the lock; under a mutex the line
 * goes out as one write(2) to an O_APPEND file (never fsync: the page
 * cache takes it, so a request thread does not wait on the disk, and
 * lines stay whole even if two processes share the file). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "core/alloc.h"
#include "core/error.h"
#include "server/access_log.h"

struct srv_access_log {
    pthread_mutex_t lock;
    FILE *f;
    bool is_stdout;
};

srv_access_log *srv_access_log_open(const char *path, lsn_error *err)
{
    srv_access_log *log = core_calloc(1, sizeof *log);
    if (!log) {
        core_fail(err, LSN_ERR_NOMEM, "access log: out of memory");
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        log->f = stdout;
        log->is_stdout = true;
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0 || !(log->f = fdopen(fd, "a"))) {
            core_fail(err, LSN_ERR_IO, "access log %s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            lsn_free(log);
            return NULL;
        }
        setvbuf(log->f, NULL, _IOFBF, 1 << 16);
    }
    pthread_mutex_init(&log->lock, NULL);
    return log;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

void srv_access_log_write(srv_access_log *log, const srv_access_entry *e)
{
    if (!log)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", now.tv_nsec / 1000000);

    json_t *o = json_object();
    if (!o)
        return;
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "client", str_or_null(e->client));
    /* json_string refuses invalid UTF-8 (NULL): set_new then sets nothing,
     * so such a field is simply absent rather than mangled. */
    json_object_set_new(o, "user", str_or_null(e->user));
    json_object_set_new(o, "method", str_or_null(e->method));
    json_object_set_new(o, "route", str_or_null(e->route));
    json_object_set_new(o, "status", json_integer(e->status));
    json_object_set_new(o, "bytes", e->bytes >= 0 ? json_integer(e->bytes) : json_null());
    json_object_set_new(o, "duration_ms", json_real((double)e->duration_us / 1000.0));
    char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!line)
        return;
    pthread_mutex_lock(&log->lock);
    fputs(line, log->f);
    fputc('\n', log->f);
    fflush(log->f); /* whole lines, at once: `tail -f` and journald see them */
    pthread_mutex_unlock(&log->lock);
    free(line);
}

void srv_access_log_close(srv_access_log *log)
{
    if (!log)
        return;
    if (log->is_stdout)
        fflush(log->f);
    else
        fclose(log->f);
    pthread_mutex_destroy(&log->lock);
    lsn_free(log);
}
