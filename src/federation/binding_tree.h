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

/* Id values: a prefix and the item's UUID. The originator's elements, and
 * those of a translating node's container (an alternative label,
 * binding_translate.c). */
#define BT_BINDING_ID_PREFIX "binding-"
#define BT_PROPS_ID_PREFIX "properties-"
#define BT_SIGNATURE_ID_PREFIX "signature-"
#define BT_TRANSLATION_ID_PREFIX "translation-"
#define BT_TRANSLATION_PROPS_ID_PREFIX "translation-properties-"
#define BT_TRANSLATION_SIGNATURE_ID_PREFIX "translation-signature-"
#define BT_ID_MAX 64

/* The two kinds of MetadataBinding of the profile: the originator's (its
 * originatorConfidentialityLabel, lsn:Origin and lsn:Channel) and a
 * translating node's (an alternativeConfidentialityLabel and
 * lsn:Translator; the channel is the originator's statement, covered by the
 * translator's reference to the originator's binding). */
typedef struct bt_kind {
    const char *binding_prefix;   /* Id of the MetadataBinding */
    const char *props_prefix;     /* Id of its SignatureProperties */
    const char *signature_prefix; /* Id of its ds:Signature */
    const char *label_element;    /* the 4774 element in the first Metadata */
    const char *node_element;     /* the lsn: element naming the signer */
    bool channel;                 /* a third Metadata holds lsn:Channel */
} bt_kind;
extern const bt_kind bt_origin_kind, bt_translation_kind;

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
    xmlNode *label;          /* the 4774 label element of the kind */
    char origin[FED_NAME_MAX + 1]; /* the signer named: origin, or translator */
    char uuid[FED_UUID_SIZE];
    char channel[FED_CHANNEL_MAX + 1]; /* the originator's kind only; else "" */
    uint8_t digest[FED_DIGEST_SIZE];
} bt_binding;

/* Read a MetadataBinding strictly: Id="binding-UUID"; mb:Metadata with the
 * 4774 label; mb:Metadata with lsn:Origin; mb:Metadata with lsn:Channel
 * (1 to FED_CHANNEL_MAX bytes; a binding without it is refused); mb:DataReference
 * URI="urn:uuid:UUID" with ds:DigestMethod (SHA-384) and ds:DigestValue
 * (48 bytes); nothing else. False with `reason` when it is not so. */
bool bt_read_binding(const xmlNode *mb, bt_binding *out, char *reason, size_t size);
/* The same for either kind (bt_read_binding is the originator's). */
bool bt_read_binding_as(const bt_kind *k, const xmlNode *mb, bt_binding *out, char *reason,
                        size_t size);

/* Read a ds:SignatureProperties strictly: Id="properties-UUID", one
 * ds:SignatureProperty Target="#SIGNATURE_ID" holding one lsn:SigningTime
 * (UTC, "YYYY-MM-DDThh:mm:ssZ"). */
bool bt_read_properties(const xmlNode *sp, const char *signature_id, char id[BT_ID_MAX],
                        time_t *signing_time, char *reason, size_t size);
/* The same with the Id prefix of a kind. */
bool bt_read_properties_as(const bt_kind *k, const xmlNode *sp, const char *signature_id,
                           char id[BT_ID_MAX], time_t *signing_time, char *reason,
                           size_t size);

/* Building a binding (binding_sign.c), shared by the originator's signer and
 * the translating node's. */

/* Append white space before a child at `depth` (the example in
 * docs/FEDERATION.md reads; it is signed like any text), then an element
 * `name` with `text` (NULL: none). NULL when out of memory. */
bool bt_indent(xmlNodePtr parent, int depth);
xmlNodePtr bt_add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text,
                  int depth);

/* Register an element's Id attribute as an XML ID (so "#Id" resolves). */
bool bt_register_id(xmlDocPtr doc, xmlNodePtr n);

/* A MetadataBinding of kind `k` for item `uuid` appended to `container` at
 * depth 2: the label element (copied, renamed to the kind's element), the
 * signer's name, the channel (when the kind has one), the content digest.
 * NULL when out of memory. */
xmlNodePtr bt_build_binding(const bt_kind *k, xmlDocPtr doc, xmlNodePtr container,
                            xmlNsPtr mb, xmlNsPtr ds, xmlNsPtr lsn, const xmlNode *label,
                            const char *signer, const char *channel, const char *uuid,
                            const uint8_t digest[FED_DIGEST_SIZE]);

/* A ds:Signature template of kind `k` appended to `container`: exclusive
 * C14N, ECDSA-SHA256, one SHA-384 reference per entry of `refs` ("#Id",
 * each with one exclusive-C14N transform) and a last one to its own
 * SignatureProperties holding the signing time `when`. *props is set to
 * the SignatureProperties element. NULL when out of memory. */
xmlNodePtr bt_build_signature(const bt_kind *k, xmlDocPtr doc, xmlNodePtr container,
                              xmlNsPtr lsn, const char *uuid, const char *const *refs,
                              int nrefs, time_t when, xmlNodePtr *props);

/* Sign the template `sig` (its document's Ids registered) with `signer`'s
 * private key. False when xmlsec refuses (fed_xmlsec_message says why). */
bool bt_sign(xmlNodePtr sig, const fed_identity *signer);

/* Format / parse a signing time. */
bool bt_format_time(time_t t, char out[BT_TIME_SIZE]);
bool bt_parse_time(const char *s, time_t *out);

/* Base64 (standard alphabet, padded) of n bytes into out (NUL-terminated);
 * false when out is too small. And back: false unless s decodes to exactly
 * `want` bytes. */
bool bt_base64(const uint8_t *in, size_t n, char *out, size_t size);
bool bt_unbase64(const char *s, uint8_t *out, size_t want);

#endif
