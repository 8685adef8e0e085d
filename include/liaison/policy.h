/* liaison/policy.h — security policies (Open XML SPIF) and sets of them.
 *
 * A policy is loaded from a SPIF 2.0/2.1 file and compiled into an immutable,
 * reference-counted object. A policy set holds the policies a node knows, so
 * that labels can name their policy by OID or name and be translated through
 * equivalent policies. */
#ifndef LIAISON_POLICY_H
#define LIAISON_POLICY_H

#include "export.h"

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsn_policy lsn_policy;
typedef struct lsn_policy_set lsn_policy_set;

/* Load one SPIF from memory. `source` names it in error messages (a file
 * name). On success *out holds a policy with one reference (lsn_policy_unref
 * frees it). On failure *out is NULL and err (if given) says what is wrong. */
LSN_API LSN_MUST_CHECK lsn_err lsn_policy_load_memory(const char *data, size_t len,
                                              const char *source,
                                              lsn_policy **out, lsn_error *err);
LSN_API LSN_MUST_CHECK lsn_err lsn_policy_load_file(const char *path, lsn_policy **out,
                                            lsn_error *err);

/* The policy bundled with liaison (the alliance's classifications and
 * releasability to allies and partners). */
LSN_API LSN_MUST_CHECK lsn_err lsn_policy_load_default(lsn_policy **out, lsn_error *err);

/* The bundled policy's SPIF text (static, NUL-terminated) and length. */
LSN_API const char *lsn_policy_default_spif(size_t *len);

LSN_API lsn_policy *lsn_policy_ref(lsn_policy *p);
LSN_API void lsn_policy_unref(lsn_policy *p); /* NULL is a no-op */

LSN_API const char *lsn_policy_id(const lsn_policy *p);   /* OID, e.g. "1.3.26.1.3.1" */
LSN_API const char *lsn_policy_name(const lsn_policy *p); /* e.g. "NATO" */
/* The SPIF's version= ("79"), NULL when it has none. A policy is known by
 * OID and version; messages name both. */
LSN_API const char *lsn_policy_version(const lsn_policy *p);

/* A set of policies. lsn_policy_set_add takes its own reference. */
LSN_API lsn_policy_set *lsn_policy_set_new(void); /* NULL when out of memory */
LSN_API void lsn_policy_set_free(lsn_policy_set *set); /* NULL is a no-op */
LSN_API LSN_MUST_CHECK lsn_err lsn_policy_set_add(lsn_policy_set *set, lsn_policy *p,
                                          lsn_error *err);
/* Convenience: load a file and add it. */
LSN_API LSN_MUST_CHECK lsn_err lsn_policy_set_load_file(lsn_policy_set *set,
                                                const char *path, lsn_error *err);
LSN_API size_t lsn_policy_set_count(const lsn_policy_set *set);
LSN_API const lsn_policy *lsn_policy_set_at(const lsn_policy_set *set, size_t i);
/* By OID ("1.3.26.1.3.1" or "urn:oid:1.3.26.1.3.1"); NULL if none. */
LSN_API const lsn_policy *lsn_policy_set_find_id(const lsn_policy_set *set, const char *oid);
/* By policy name, case-insensitively; NULL if none. */
LSN_API const lsn_policy *lsn_policy_set_find_name(const lsn_policy_set *set, const char *name);

#ifdef __cplusplus
}
#endif
#endif
