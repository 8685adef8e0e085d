/* fuzz/fuzz_check.c — reporting a broken invariant, and the coherence
 * check of a failed call's error (see fuzz_common.h). Kept apart from
 * fuzz_common.c so that fuzz_spif needs nothing beyond the policy layer. */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void fuzz_fail(const char *file, int line, const char *cond,
                         const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void fuzz_check_error(lsn_err e, const lsn_error *err, const char *what)
{
    FUZZ_CHECK(e == err->code, "%s returned %d but err->code is %d", what,
               (int)e, (int)err->code);
    FUZZ_CHECK(err->message[0] != '\0', "%s failed (%s) without a message",
               what, lsn_strerror(e));
    FUZZ_CHECK(memchr(err->message, '\0', sizeof err->message) != NULL,
               "%s: message not NUL-terminated", what);
}
