/* tests/tap.h — a tiny TAP producer for the unit tests. Each check is one TAP
 * test point, so meson counts checks, not programs. Name checks for the
 * behaviour they pin: ok(x, "jpn_reader_does_not_see_nato_only_item"). */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A test of several files defines TAP_SHARED_COUNTERS before including
 * this in each, and its main file defines the counters once
 * (`int tap_n, tap_failed;`), so that every file numbers the same run. */
#ifdef TAP_SHARED_COUNTERS
extern int tap_n, tap_failed;
#else
static int tap_n, tap_failed;
#endif

__attribute__((format(printf, 2, 3)))
static inline int ok(int cond, const char *fmt, ...)
{
    /* One line per test: a description carrying a multi-line message (a
     * PostgreSQL error, a command's output) would break the TAP stream. */
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *c = line; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    printf("%s %d - %s\n", cond ? "ok" : "not ok", ++tap_n, line);
    if (!cond)
        tap_failed++;
    fflush(stdout);
    return cond;
}

/* String equality with a diagnostic showing both sides on failure. */
#define is_str(got, want, ...)                                                   \
    do {                                                                         \
        const char *g_ = (got), *w_ = (want);                                    \
        if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))                   \
            printf("#   got:  \"%s\"\n#   want: \"%s\"\n", g_ ? g_ : "(null)",   \
                   w_ ? w_ : "(null)");                                          \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
