/* core/error.c — error codes as sentences, and error detail. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const sentences[] = {
    [LSN_OK] = "success",
    [LSN_ERR_NOMEM] = "out of memory",
    [LSN_ERR_IO] = "input/output error",
    [LSN_ERR_NO_DATA] = "no data to parse",
    [LSN_ERR_SYNTAX] = "malformed input",
    [LSN_ERR_POLICY] = "malformed security policy",
    [LSN_ERR_UNKNOWN_POLICY] = "unknown security policy",
    [LSN_ERR_LABEL] = "label does not fit its policy",
    [LSN_ERR_CLEARANCE] = "clearance does not fit its policy",
    [LSN_ERR_NO_EQUIVALENT] = "no equivalent in the target policy",
    [LSN_ERR_LIMIT] = "size limit exceeded",
    [LSN_ERR_ARG] = "invalid argument",
    [LSN_ERR_DUPLICATE] = "already present",
};

const char *lsn_strerror(lsn_err code)
{
    if ((unsigned)code < sizeof sentences / sizeof sentences[0] && sentences[code])
        return sentences[code];
    return "unknown error";
}

lsn_err core_fail(lsn_error *err, lsn_err code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void core_error_clear(lsn_error *err)
{
    if (err) {
        err->code = LSN_OK;
        err->message[0] = '\0';
    }
}
