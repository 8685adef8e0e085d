/* label/label_internal.h — helpers shared by the label and clearance readers
 * and writers (internal to src/label/).
 *
 * Every reader turns names or LACVs written in some form into the policy's
 * dense indices through these functions, so that the messages for unknown
 * values read the same whatever the form ("unknown category 'XYZ' in tag set
 * 'Releasable To'"). `code` is LSN_ERR_LABEL for labels and
 * LSN_ERR_CLEARANCE for clearances. */
#ifndef LABEL_LABEL_INTERNAL_H
#define LABEL_LABEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <libxml/tree.h>

#include "label/label_model.h"

#define LABEL_NS_4774 "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
#define LABEL_NS_SPIFFY "http://surevine.com/xmlns/spiffy"

/* Cap on category *entries* in an input, duplicates included: a label may
 * name the same category twice, but not without bound (each entry costs a
 * lookup). */
#define LABEL_MAX_ENTRIES (4u * LSN_LABEL_MAX_CATEGORIES)

/* Largest text a writer produces. */
#define LABEL_MAX_OUTPUT (4u * 1024u * 1024u)

/* Find a loaded policy by OID (with or without "urn:oid:"). Fails with
 * LSN_ERR_UNKNOWN_POLICY "Unknown policy id: OID". *out is not a new
 * reference (label_new/clearance_new take their own). */
lsn_err label_policy_by_id(const lsn_policy_set *set, const char *oid,
                           lsn_error *err, lsn_policy **out);

/* Find a tag set by OID or, failing that, by name (case-insensitive). */
lsn_err label_tagset(const lsn_policy *p, const char *ref, lsn_err code,
                     lsn_error *err, const policy_tagset **out);

/* A category of tag set ts: first one whose tag kind is exactly `kind`, else
 * one of the same family (permissive/enumerated permissive, restrictive/
 * enumerated restrictive); TAG_ANY takes any kind. Names compare
 * case-insensitively. Fail with `code` and a message naming the value. */
lsn_err label_cat_by_name(const lsn_policy *p, const policy_tagset *ts,
                          tag_kind kind, const char *name, lsn_err code,
                          lsn_error *err, const policy_category **out);
lsn_err label_cat_by_lacv(const lsn_policy *p, const policy_tagset *ts,
                          tag_kind kind, uint32_t lacv, lsn_err code,
                          lsn_error *err, const policy_category **out);

/* Classifications by name (case-insensitive) or LACV, with messages. */
lsn_err label_class_by_name(const lsn_policy *p, const char *name, lsn_err code,
                            lsn_error *err, const policy_class **out);
lsn_err label_class_by_lacv(const lsn_policy *p, uint32_t lacv, lsn_err code,
                            lsn_error *err, const policy_class **out);

/* label_add_cat / clearance_add_cat with the error message filled in. */
lsn_err label_add(lsn_label *l, const policy_category *c, lsn_error *err);
lsn_err label_clearance_add(lsn_clearance *c, const policy_category *cat,
                            lsn_error *err);

/* Finish a label or clearance; on failure it is freed and *out is NULL. */
lsn_err label_done(lsn_label *l, lsn_error *err, lsn_label **out);
lsn_err label_clearance_done(lsn_clearance *c, lsn_error *err, lsn_clearance **out);

/* True when s[0..len) is valid UTF-8 with no control characters other than
 * tab, CR and LF, so that it can be written into XML and JSON unchanged. */
bool label_text_ok(const char *s, size_t len);

/* name_eq behind a one-byte check: most names we compare differ in their
 * first letter, and this is on the path of every 4774 element. */
static inline bool label_name_is(const char *a, const char *b)
{
    unsigned char x = (unsigned char)a[0], y = (unsigned char)b[0];
    if (x != y && (x | 0x20) != (y | 0x20))
        return false;
    return strcmp(a, b) == 0 || name_eq(a, b);
}

/* The readers, one per form; the spiffing XML readers take the parsed root
 * element, the others the bytes. On failure *out is NULL and err says why.
 *
 * STANAG 4774 XML is read straight from the bytes (SAX). With only_if_4774
 * (form AUTO), a document whose root is not a 4774 label is left alone:
 * *not_4774 is set and LSN_OK returned with *out NULL. */
lsn_err label_read_4774(const lsn_policy_set *set, const char *data, size_t len,
                        bool only_if_4774, bool *not_4774, lsn_label **out,
                        lsn_error *err);
lsn_err label_read_spiffing(const lsn_policy_set *set, const xmlNode *root,
                            lsn_label **out, lsn_error *err);
lsn_err clearance_read_spiffing(const lsn_policy_set *set, const xmlNode *root,
                                lsn_clearance **out, lsn_error *err);
lsn_err label_read_json(const lsn_policy_set *set, const char *data, size_t len,
                        lsn_label **out, lsn_error *err);
lsn_err clearance_read_json(const lsn_policy_set *set, const char *data, size_t len,
                            lsn_clearance **out, lsn_error *err);
lsn_err label_read_ber(const lsn_policy_set *set, const unsigned char *data,
                       size_t len, lsn_label **out, lsn_error *err);

#endif
