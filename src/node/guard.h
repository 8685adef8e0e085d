/* node/guard.h — the guard at the node's boundary (guard.c): a peer's
 * clearance, derived from the policy, and the decision whether an item's
 * label releases it to the peer — the engine's access check, the same as
 * for a reader. */
#ifndef NODE_GUARD_H
#define NODE_GUARD_H

#include <stdbool.h>

#include "liaison/liaison.h"

/* The clearance of a peer standing for `nation` (a category value, matched
 * without regard to case) with the highest classification agreed
 * `max_classification` (NULL: the policy's highest), under the set's first
 * policy: that classification, and in every permissive tag set holding the
 * nation, the nation — with the categories it requires by an "all" rule.
 * LSN_ERR_ARG when the policy has no such classification or no permissive
 * value for the nation. *out to free with lsn_clearance_free. */
lsn_err guard_peer_clearance(const lsn_policy_set *set, const char *nation,
                             const char *max_classification, lsn_clearance **out,
                             lsn_error *err) LSN_MUST_CHECK;

/* The same under the policy `policy_oid` of the set (NULL: the first):
 * the clearance of a peer whose node decides under another policy, in
 * that policy's terms (its nation and classification names). */
lsn_err guard_peer_clearance_under(const lsn_policy_set *set, const char *policy_oid,
                                   const char *nation, const char *max_classification,
                                   lsn_clearance **out, lsn_error *err) LSN_MUST_CHECK;

/* The label a peer deciding under `policy_oid` (NULL: the label's own)
 * decides on: LSN_OK with *out NULL when it is `label` itself, else *out
 * (lsn_label_free) its translation into that policy — an error (no
 * equivalent, not valid there) when there is none: fail closed. */
lsn_err guard_label_for(const lsn_policy_set *set, const lsn_label *label,
                        const char *policy_oid, lsn_label **out, lsn_error *err) LSN_MUST_CHECK;

/* Whether `label` may go to the peer of clearance `peer` — and, when the
 * peer is reached through a relay, to the relay too (`relay`; NULL:
 * direct). Fail closed: any error is a no. */
bool guard_releases(const lsn_policy_set *set, const lsn_label *label,
                    const lsn_clearance *peer, const lsn_clearance *relay) LSN_MUST_CHECK;

#endif
