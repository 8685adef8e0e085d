/* federation/binding_check.h — the steps of verifying a signed container of
 * the binding profile, shared by the originator's binding
 * (binding_verify.c) and a translating node's alternative label
 * (binding_alternative.c). Internal to src/federation; docs/FEDERATION.md
 * gives the order of the checks. */
#ifndef FEDERATION_BINDING_CHECK_H
#define FEDERATION_BINDING_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "federation/binding_tree.h"

/* At most this many references in one SignedInfo. */
#define BC_MAX_REFS 3

/* The checked parts of one MetadataBindingContainer. */
typedef struct bc_parts {
    xmlNode *binding, *signature, *props;
    char binding_id[BT_ID_MAX], props_id[BT_ID_MAX], sig_id[BT_ID_MAX];
    char uuid[FED_UUID_SIZE];
    /* The references the SignedInfo must hold, in order: the binding's own
     * Id, the extra ones given, the properties' Id. */
    const char *refs[BC_MAX_REFS];
    int nrefs;
} bc_parts;

/* Steps 1 and 2 for the document: parse safely (size cap, no DTD, no
 * entities, no network), refuse xml:id anywhere, and check that the root is
 * a BindingInformation holding 1 to `n` MetadataBindingContainers (exactly
 * `n` when `found` is NULL; else *found says how many) and nothing else;
 * containers[i] is set to each. NULL with *rc LSN_OK and `reason` when
 * refused; NULL with *rc an error when out of memory. */
xmlDocPtr bc_parse(const void *data, size_t len, xmlNode **containers, int n, int *found,
                   lsn_err *rc, char *reason, size_t size);

/* Step 2 for one container of kind `k`: one MetadataBinding and its
 * ds:Signature, strictly as the profile writes them; the SignedInfo
 * references the binding, then each of `extra` (Ids of other elements the
 * signature must cover), then the SignatureProperties, each exactly once
 * and in that order. False with `reason` when it is not so. */
bool bc_check_container(const bt_kind *k, xmlNode *container, const char *const *extra,
                        int nextra, bc_parts *p, char *reason, size_t size);

/* Register an Id attribute of `n` (its value `id`) as an XML ID. */
bool bc_register_id(xmlDocPtr doc, xmlNode *n, const char *id);

/* Step 4: libxmlsec1 verifies p->signature with `pinned`'s key alone, only
 * same-document references and the profile's algorithms enabled; then
 * docs[i] receives the bytes reference i digested, re-parsed (step 5: read
 * what was signed, not the document), and bytes[i] (if given) those bytes.
 * LSN_OK with *verified false and `reason` when refused; the caller frees
 * each docs[i] (xmlFreeDoc) and bytes[i] (lsn_free). */
lsn_err bc_verify_signature(const fed_identity *pinned, const bc_parts *p,
                            xmlDocPtr docs[BC_MAX_REFS], char *bytes[BC_MAX_REFS],
                            size_t lens[BC_MAX_REFS], bool *verified, char *reason,
                            size_t size);

/* The exclusive-C14N bytes of a node, standalone (lsn_free). */
bool bc_c14n_of(const xmlNode *n, char **out, size_t *len);

/* Write a refusal's reason; returns false. */
bool bc_refuse(char *reason, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
