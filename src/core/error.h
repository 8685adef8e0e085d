/* core/error.h — filling in an lsn_error (internal: core_, not lsn_). */
#ifndef CORE_ERROR_H
#define CORE_ERROR_H

#include "liaison/error.h"

/* Set err (if not NULL) to code and a printf-formatted sentence; returns
 * code, so that `return core_fail(err, LSN_ERR_POLICY, "...")` reads well. */
lsn_err core_fail(lsn_error *err, lsn_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear err to LSN_OK and an empty message. */
void core_error_clear(lsn_error *err);

#endif
