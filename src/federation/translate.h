/* federation/translate.h — equivalent policies at the boundary: the
 * equivalent of an item's label under a peer's policy, added beside the
 * originator's as a STANAG 4774 alternativeConfidentialityLabel that the
 * translating node signs, and, at the receiver, the label to decide on.
 *
 * A translated binding is the originator's BindingInformation, its bytes
 * unchanged, with a second MetadataBindingContainer after the first: the
 * translating node's MetadataBinding (the alternative label, the
 * translator's name, the item's data reference) and its ds:Signature, whose
 * references cover that binding, the originator's MetadataBinding (so the
 * alternative is bound to the exact label it translates) and its signing
 * time. docs/FEDERATION.md ("Equivalent policies at the boundary"). */
#ifndef FEDERATION_TRANSLATE_H
#define FEDERATION_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "federation/binding.h"
#include "liaison/label.h"
#include "liaison/policy.h"

/* Translate at the boundary. `binding` must be an originator's binding
 * (one container) that verifies against `origin` (its pinned certificate;
 * the translator's own identity when it is the origin): a node never signs
 * beside a label it has not verified. Its label is parsed under `set`,
 * translated into the policy `peer_policy_oid` (which `set` must hold, and
 * which the label's policy must name as equivalent) and validated there;
 * then `translator` (an identity with its key) signs the alternative label
 * as described above, at `signing_time` (0: now).
 *
 * On success *out (lsn_free) holds the translated document and *out_len its
 * length: the input's bytes with the translator's container inserted
 * before the root's end tag. Errors: LSN_ERR_ARG (the binding does not
 * verify, or its label is already under the peer's policy: nothing to
 * translate), LSN_ERR_NO_EQUIVALENT (no equivalent, or not a valid label
 * there), LSN_ERR_UNKNOWN_POLICY / LSN_ERR_LABEL (the label is not
 * understood here), LSN_ERR_NOMEM; `err` says which. */
LSN_MUST_CHECK lsn_err fed_binding_translate(const fed_identity *translator,
                                             const fed_identity *origin,
                                             const void *binding, size_t len,
                                             const lsn_policy_set *set,
                                             const char *peer_policy_oid,
                                             time_t signing_time, char **out,
                                             size_t *out_len, lsn_error *err);

/* The originator's binding inside `binding`, for a node that forwards an
 * item it received translated (to a peer of another policy, or of the
 * originator's, neither of which can check a translation signed by a node
 * other than its sender): the translating node's container cut out again,
 * which gives back the originator's document as it was signed (the
 * translation inserted "  CONTAINER\n" before the root's end tag;
 * fed_binding_translate), verified against `origin` (its pinned
 * certificate). A binding with no translation is given back as it is:
 * LSN_OK with *out NULL (nothing is verified then: the caller holds it
 * verified). On success with a translation, *out (lsn_free) and *out_len,
 * and *verified (if given; fed_binding_free) what the originator signed.
 * LSN_ERR_ARG (err says why) when the translation is not in the shape
 * fed_binding_translate writes, or what is left does not verify against
 * `origin`: nothing to forward (fail closed); LSN_ERR_NOMEM. */
LSN_MUST_CHECK lsn_err fed_binding_original(const fed_identity *origin, const void *binding,
                                            size_t len, char **out, size_t *out_len,
                                            fed_binding **verified, lsn_error *err);

/* What a receiver verified, and the label it decides on. */
typedef struct fed_received {
    fed_binding *binding;          /* the originator's, as fed_binding_verify gives it */
    bool translated;               /* the document carries an alternative label */
    char translator[FED_NAME_MAX + 1]; /* its signer, when translated */
    char *alternative_xml;         /* the signed alternativeConfidentialityLabel (C14N) */
    size_t alternative_len;
    time_t translation_time;
    lsn_label *label;              /* the label to decide on, under the receiver's policy */
    bool label_is_alternative;     /* label is the translator's, not the originator's */
} fed_received;

void fed_received_free(fed_received *r); /* NULL is a no-op */

/* Verify a received binding, translated or not, and choose the label to
 * decide on under the receiver's own policy `own_policy_oid` (in `set`).
 *
 * The originator's container is verified exactly as fed_binding_verify
 * does, against `origin`. A second container, when present, must be a
 * translation signed by `translator` (the pinned certificate of the peer
 * that translated, usually the sender; NULL: a translation is refused),
 * over the same item (UUID and content digest) and covering the
 * originator's MetadataBinding as it stands; its signer must be the
 * certificate's node. Then:
 *  - the originator's label, when it is under the receiver's policy, is the
 *    label (an alternative beside it changes nothing);
 *  - else the alternative, which must be under the receiver's policy and
 *    valid there; when the receiver also knows the originator's policy, the
 *    alternative must equal its own translation of the originator's label
 *    (a translator cannot widen a release the receiver can check);
 *  - else (no alternative) the receiver's own translation, if it knows the
 *    originator's policy and an equivalent exists;
 *  - anything else is refused.
 * A refusal is a decision: LSN_OK with *out NULL and `reason`. LSN_OK with
 * *out set: the caller owns it (fed_received_free) and must still check the
 * content against (*out)->binding->digest. */
LSN_MUST_CHECK lsn_err fed_binding_receive(const fed_identity *origin,
                                           const fed_identity *translator,
                                           const void *data, size_t len,
                                           const lsn_policy_set *set,
                                           const char *own_policy_oid, fed_received **out,
                                           char *reason, size_t reason_size);

#endif
