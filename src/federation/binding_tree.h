/* federation/binding_tree.h — the binding's profile in one place: its
 * namespaces, the algorithms it allows, and the strict readers of its two
 * signed elements (the MetadataBinding and the SignatureProperties), used
 * both on the received document (before the signature is checked) and on
 * the canonical bytes the signature covered (after). Internal to
 * src/federation. */
#ifndef FEDERATION_BINDING_TREE_H
#define FEDERATION_BINDING_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <libxml/tree.h>

#include "federation/binding.h"

#define BT_NS_4778 "urn:nato:stanag:4778:bindinginformation:1:0"
#define BT_NS_4774 "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
#define BT_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define BT_NS_LSN "urn:liaison:federation:1"

/* The only algorithms of the profile. */
#define BT_ALG_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define BT_ALG_DIGEST "http://www.w3.org/2001/04/xmldsig-more#sha384"
#define BT_ALG_SIGNATURE "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"

/* Id values: a prefix and the item's UUID. */
#define BT_BINDING_ID_PREFIX "binding-"
#define BT_PROPS_ID_PREFIX "properties-"
#define BT_SIGNATURE_ID_PREFIX "signature-"
#define BT_ID_MAX 64

#define BT_UUID_URN "urn:uuid:"
#define BT_TIME_SIZE 21 /* "2026-12-03T13:37:46Z" */

/* True when n is an element named `name` in namespace `ns`. */
bool bt_is(const xmlNode *n, const char *ns, const char *name);

/* The next element child of `parent` after `prev` (NULL: the first).
 * Text between elements must be white space, and nothing else may be
 * there (no comments, processing instructions, CDATA): *bad is set when
 * something else is met. */
xmlNode *bt_next_element(const xmlNode *parent, xmlNode *prev, bool *bad);

/* True when every attribute of n is one of the NULL-terminated names,
 * without namespace, and each name present at most once. */
bool bt_attrs_only(const xmlNode *n, const char *const *names);

/* An element's value of the attribute `name` (no namespace), or NULL. */
const char *bt_attr(const xmlNode *n, const char *name);

/* What the MetadataBinding says. Pointers point into the document. */
typedef struct bt_binding {
    char id[BT_ID_MAX];
    xmlNode *label;          /* the originatorConfidentialityLabel element */
    char origin[FED_NAME_MAX + 1];
    char uuid[FED_UUID_SIZE];
    uint8_t digest[FED_DIGEST_SIZE];
} bt_binding;

/* Read a MetadataBinding strictly: Id="binding-UUID"; mb:Metadata with the
 * 4774 label; mb:Metadata with lsn:Origin; mb:DataReference
 * URI="urn:uuid:UUID" with ds:DigestMethod (SHA-384) and ds:DigestValue
 * (48 bytes); nothing else. False with `reason` when it is not so. */
bool bt_read_binding(const xmlNode *mb, bt_binding *out, char *reason, size_t size);

/* Read a ds:SignatureProperties strictly: Id="properties-UUID", one
 * ds:SignatureProperty Target="#SIGNATURE_ID" holding one lsn:SigningTime
 * (UTC, "YYYY-MM-DDThh:mm:ssZ"). */
bool bt_read_properties(const xmlNode *sp, const char *signature_id, char id[BT_ID_MAX],
                        time_t *signing_time, char *reason, size_t size);

/* Format / parse a signing time. */
bool bt_format_time(time_t t, char out[BT_TIME_SIZE]);
bool bt_parse_time(const char *s, time_t *out);

/* Base64 (standard alphabet, padded) of n bytes into out (NUL-terminated);
 * false when out is too small. And back: false unless s decodes to exactly
 * `want` bytes. */
bool bt_base64(const uint8_t *in, size_t n, char *out, size_t size);
bool bt_unbase64(const char *s, uint8_t *out, size_t want);

#endif
