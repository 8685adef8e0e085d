/* liaison/access.h — access-control decisions, label against clearance.
 *
 * X.841 semantics: the label's classification is one the clearance holds;
 * every restrictive category is held; for each permissive tag, at least one
 * of the label's categories in it is held; informative categories are
 * ignored. A label under another policy is translated through the policy
 * set's equivalences, or denied. An invalid label is denied. */
#ifndef LIAISON_ACCESS_H
#define LIAISON_ACCESS_H

#include "export.h"

#include <stddef.h>
#include "clearance.h"
#include "error.h"
#include "label.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lsn_decision {
    LSN_DENY = 0,
    LSN_GRANT = 1
} lsn_decision;

/* The fast decision for labels and clearances under the same policy (a
 * classification compare and a few word operations). Returns LSN_OK and the
 * decision; on any error *decision is LSN_DENY. `set` is used to translate a
 * label under another policy (may be NULL: then such a label is denied). */
LSN_API LSN_MUST_CHECK lsn_err lsn_access_check(const lsn_policy_set *set,
                                        const lsn_label *label,
                                        const lsn_clearance *clearance,
                                        lsn_decision *decision);

/* The same decision, with a sentence saying why a denial was made (which
 * classification or category was missing). For tools and audit, not for the
 * hot path. */
LSN_API LSN_MUST_CHECK lsn_err lsn_access_explain(const lsn_policy_set *set,
                                          const lsn_label *label,
                                          const lsn_clearance *clearance,
                                          lsn_decision *decision,
                                          char *reason, size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
