/* tests/node/tamper_util.h — the alterations a tampering test makes to a
 * signed STANAG 4778 binding (the XML text a node signed): a byte of the
 * label or of the signature value, a label swapped in from another item,
 * the signed element wrapped. Shared by the tests that play the origin
 * (test_fed_tamper.c) and the proxy between two nodes (test_fed_proxy.c).
 * Each returns a new string (free) or NULL when x has not the shape
 * expected. */
#ifndef TESTS_TAMPER_UTIL_H
#define TESTS_TAMPER_UTIL_H

#include <stddef.h>

/* s with the span [from, from + from_len) replaced by to (to_len bytes). */
char *tamper_splice(const char *s, const char *from, size_t from_len, const char *to,
                    size_t to_len);
/* The span of element `open` ... `close` (inclusive) in s; NULL if absent. */
const char *tamper_span(const char *s, const char *open, const char *close, size_t *len);
/* x's binding with y's signed label element in place of its own. */
char *tamper_swap_label(const char *x, const char *y);
/* Signature wrapping: x's signed mb:MetadataBinding moved under the
 * signature's ds:Object (where its Id still resolves), and a forged copy
 * carrying y's label put in its place, under the same Id. */
char *tamper_wrap(const char *x, const char *y);
/* One byte of the signature value changed (to another base64 letter, so
 * that it still decodes). */
char *tamper_flip_signature(const char *x);
/* One byte of the signed label changed: a letter of its classification
 * (the label still parses; the signature no longer covers it). */
char *tamper_flip_label(const char *x);

#endif
