/* liaison/error.h — error codes and error detail.
 *
 * One append-only enum, 0 = OK. Functions that can fail take an optional
 * `lsn_error *` that receives the code and a sentence naming what was wrong
 * (file, element, value). A *decision* (valid/invalid, grant/deny) is never
 * an error: it is returned through its own out-parameter. */
#ifndef LIAISON_ERROR_H
#define LIAISON_ERROR_H

#include "export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define LSN_MUST_CHECK __attribute__((warn_unused_result))
#else
#define LSN_MUST_CHECK
#endif

typedef enum lsn_err {
    LSN_OK = 0,
    LSN_ERR_NOMEM = 1,          /* an allocation failed */
    LSN_ERR_IO = 2,             /* a file could not be read or written */
    LSN_ERR_NO_DATA = 3,        /* the input was empty */
    LSN_ERR_SYNTAX = 4,         /* the input is not well-formed XML/JSON/BER */
    LSN_ERR_POLICY = 5,         /* a SPIF is malformed or inconsistent */
    LSN_ERR_UNKNOWN_POLICY = 6, /* a label names a policy that is not loaded */
    LSN_ERR_LABEL = 7,          /* a label cannot be read into the policy's terms */
    LSN_ERR_CLEARANCE = 8,      /* a clearance cannot be read into the policy's terms */
    LSN_ERR_NO_EQUIVALENT = 9,  /* no translation into the asked policy */
    LSN_ERR_LIMIT = 10,         /* a size or count limit was reached */
    LSN_ERR_ARG = 11,           /* the caller passed a bad argument */
    LSN_ERR_DUPLICATE = 12      /* already present (a policy id, a name) */
} lsn_err;

#define LSN_ERROR_MESSAGE_MAX 512

typedef struct lsn_error {
    lsn_err code;
    char message[LSN_ERROR_MESSAGE_MAX]; /* a full sentence, NUL-terminated */
} lsn_error;

/* A short sentence for a code ("out of memory"). Static storage; never NULL. */
LSN_API const char *lsn_strerror(lsn_err code);

#ifdef __cplusplus
}
#endif
#endif
