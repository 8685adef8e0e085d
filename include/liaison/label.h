/* liaison/label.h — confidentiality labels: read, write, validate, mark,
 * translate.
 *
 * A parsed label is compiled against its policy (it holds a reference to
 * it), so that markings and access decisions need no lookups. Labels are
 * immutable after parsing and may be shared between threads. */
#ifndef LIAISON_LABEL_H
#define LIAISON_LABEL_H

#include "export.h"

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "policy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsn_label lsn_label;

typedef enum lsn_form {
    LSN_FORM_AUTO = 0,     /* detect: 4774 or spiffing XML by namespace, JSON, else BER */
    LSN_FORM_4774 = 1,     /* STANAG 4774 XML */
    LSN_FORM_SPIFFING = 2, /* spiffing XML (http://surevine.com/xmlns/spiffy) */
    LSN_FORM_JSON = 3,     /* liaison's JSON form, docs/LABEL-JSON.md */
    LSN_FORM_BER = 4       /* ESS security label, RFC 2634 (read only) */
} lsn_form;

/* Hard limits on untrusted input. */
#define LSN_LABEL_MAX_BYTES (256u * 1024u)
#define LSN_LABEL_MAX_CATEGORIES 1024u

/* Parse a label. The policy is looked up in `set` (by OID, or by name for
 * 4774). Names of classifications and categories match case-insensitively.
 * Unknown values make the parse fail with LSN_ERR_LABEL and a message naming
 * the value. On success the caller owns *out (lsn_label_free). */
LSN_API LSN_MUST_CHECK lsn_err lsn_label_parse(const lsn_policy_set *set,
                                       const void *data, size_t len,
                                       lsn_form form, lsn_label **out,
                                       lsn_error *err);
LSN_API void lsn_label_free(lsn_label *label); /* NULL is a no-op */

/* Write a label in a form (not BER, not AUTO). *out is NUL-terminated and
 * owned by the caller (lsn_free); *out_len (if given) is its length. */
LSN_API LSN_MUST_CHECK lsn_err lsn_label_write(const lsn_label *label, lsn_form form,
                                       char **out, size_t *out_len,
                                       lsn_error *err);

LSN_API const lsn_policy *lsn_label_policy(const lsn_label *label);

/* The index of the label's classification in its policy, as
 * lsn_policy_class_at (introspect.h) numbers them (dense, SPIF document
 * order), or -1 when the label has none (or label is NULL). A constant-time
 * read: no parse, no lookup by name. */
LSN_API int lsn_label_class_index(const lsn_label *label);

/* The label's categories: how many it holds, and the i-th (0 <= i < count,
 * ascending) as its index in the label's policy, numbered as
 * lsn_policy_category_at (introspect.h) numbers them — so that a caller can
 * ask which values of which tag set a label carries (e.g. the nations of
 * "Releasable To"). lsn_label_category_at returns -1 when i is out of range
 * or label is NULL. Constant-time reads: no parse, no lookup by name. */
LSN_API size_t lsn_label_category_count(const lsn_label *label);
LSN_API long lsn_label_category_at(const lsn_label *label, size_t i);

/* Validate against the label's policy. Returns an error code; the verdict is
 * *valid, and when invalid, `reason` (if given) receives a sentence naming
 * the rule that failed. On error *valid is false. */
LSN_API LSN_MUST_CHECK lsn_err lsn_label_validate(const lsn_label *label, bool *valid,
                                          char *reason, size_t reason_size);

/* The display marking in language `lang` (BCP 47 tag, NULL for the
 * default), with fallback fr-CA -> fr -> untagged. Written into buf
 * (NUL-terminated); *needed (if given) receives the length without NUL. A
 * buffer too small gives LSN_ERR_LIMIT and a truncated string. */
LSN_API LSN_MUST_CHECK lsn_err lsn_label_marking(const lsn_label *label, const char *lang,
                                         char *buf, size_t size, size_t *needed);

/* The portion marking, for paragraphs and subject lines ("(NR)", "(NS REL
 * JPN)"), in language `lang` with the same fallback: the classification's
 * markingData with the code portionMarking, then the categories of tags that
 * give a portion form (a markingQualifier or markingData with
 * portionMarking), each by its portion phrase, else its name (hidden where
 * the banner hides it); the
 * policy's portionMarking qualifiers wrap it ("(" and ")" when it gives
 * none). LSN_ERR_POLICY when the policy gives the classification no portion
 * phrase. Buffer as lsn_label_marking. */
LSN_API LSN_MUST_CHECK lsn_err lsn_label_portion_marking(const lsn_label *label, const char *lang,
                                                         char *buf, size_t size, size_t *needed);

/* Whether policy `p` names the policy `oid` as equivalent in its SPIF
 * (so that its labels may translate into it). */
LSN_API bool lsn_policy_names_equivalent(const lsn_policy *p, const char *oid);

/* Translate a label into the equivalent policy `target_oid`, which must be in
 * `set`. On success the caller owns *out. */
LSN_API LSN_MUST_CHECK lsn_err lsn_label_translate(const lsn_label *label,
                                           const lsn_policy_set *set,
                                           const char *target_oid,
                                           lsn_label **out, lsn_error *err);

#ifdef __cplusplus
}
#endif
#endif
