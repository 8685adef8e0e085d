/* liaison/clearance.h — clearances: what a person (or a peer nation) holds.
 *
 * A clearance lists the classifications and the categories its holder holds,
 * under one policy. Compiled like labels, for cheap access decisions. */
#ifndef LIAISON_CLEARANCE_H
#define LIAISON_CLEARANCE_H

#include "export.h"

#include <stddef.h>
#include "error.h"
#include "label.h"
#include "policy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsn_clearance lsn_clearance;

/* Parse a clearance: LSN_FORM_SPIFFING (spiffing XML), LSN_FORM_JSON, or
 * LSN_FORM_AUTO. The caller owns *out (lsn_clearance_free). */
LSN_API LSN_MUST_CHECK lsn_err lsn_clearance_parse(const lsn_policy_set *set,
                                           const void *data, size_t len,
                                           lsn_form form, lsn_clearance **out,
                                           lsn_error *err);
LSN_API void lsn_clearance_free(lsn_clearance *c); /* NULL is a no-op */

/* Write a clearance (LSN_FORM_SPIFFING or LSN_FORM_JSON); caller frees *out
 * with lsn_free. */
LSN_API LSN_MUST_CHECK lsn_err lsn_clearance_write(const lsn_clearance *c, lsn_form form,
                                           char **out, size_t *out_len,
                                           lsn_error *err);

LSN_API const lsn_policy *lsn_clearance_policy(const lsn_clearance *c);

/* Display marking: held classifications as {A|B} ordered by hierarchy, then
 * the categories. Same buffer contract as lsn_label_marking. */
LSN_API LSN_MUST_CHECK lsn_err lsn_clearance_marking(const lsn_clearance *c,
                                             const char *lang, char *buf,
                                             size_t size, size_t *needed);

#ifdef __cplusplus
}
#endif
#endif
