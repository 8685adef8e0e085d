/* node/service_fedrel.h — release requests whose authorities are on other
 * nodes (issue 13, docs/RELEASE.md "Authorities on other nodes"): the
 * signed release messages a node exchanges with its allied peers
 * (service_fed_release.c), and the peer's view of a request it decides on.
 *
 * The originating node stays the only clock and the only decider: a remote
 * authority's answer is applied there through svc_release_act, as that
 * authority ("peer:NAME"), against its own clock. */
#ifndef NODE_SERVICE_FEDREL_H
#define NODE_SERVICE_FEDREL_H

#include "federation/identity.h"
#include "service.h"

/* A remote authority's user name: "peer:" and the peer's name. */
#define SVC_FEDREL_ACTOR_PREFIX "peer:"

/* ---- at the origin ------------------------------------------------------- */

/* An allied peer: one per nation. */
typedef struct svc_fedrel_peer {
    char name[FED_NAME_MAX + 1];
    char nation[FED_NAME_MAX + 1];
} svc_fedrel_peer;

/* The allied peers (at most cap), one per nation: the first registered
 * direct peer of each nation that the node's own policy counts as allied
 * (svc_fedrel_allied_nation). Peers reached through a relay, or deciding
 * under another policy, are not named (not done yet). */
size_t svc_fedrel_allied_peers(svc *s, svc_fedrel_peer *out, size_t cap);

/* Whether `nation` is an ally under policy p, from the policy's data: a
 * value of a permissive tag set that also holds the policy's own name
 * (Releasable To: NATO), other than that name, that the policy does not
 * exclude at its highest classification (partners are: NATO never
 * releases COSMIC TOP SECRET to a partner; allies it may). */
bool svc_fedrel_allied_nation(const lsn_policy *p, const char *nation);

/* Request r was opened (its authorities stored): queue a signed notice to
 * each of its remote authorities' nodes, with the item's body only for a
 * peer the item (label item_label) is already released to. Wakes the
 * senders. Failures are logged (the request stands: its remote authority
 * then says nothing). */
void svc_fedrel_request_opened(svc *s, const store_release *r, const store_item *it,
                               const lsn_label *item_label);

/* ---- both sides: the transport ----------------------------------------- */

/* Take a signed release message from peer `peer` (the name its client
 * certificate proved): verified against the peer's pinned certificate
 * before it is read, it must say it is from that peer and to this node.
 * A notice or an outcome is kept (the peer's view); a concurrence or a
 * break is applied through svc_release_act as the remote authority
 * "peer:PEER", under this node's clock. Refusals are audited and in res
 * (late or closed: SVC_DUPLICATE; not an authority: SVC_NOT_FOUND).
 * *unchanged: the same message was taken before. */
lsn_err svc_fedrel_receive(svc *s, const char *peer, const char *text, size_t len,
                           bool *unchanged, svc_result *res);

/* Send function of the transport: PUT body as message `mid` to the peer;
 * *status its HTTP status (0: no answer, why says why), answer its body. */
typedef bool (*svc_fedrel_send_fn)(void *ctx, const char *mid, const char *body,
                                   long *status, char *answer, size_t answer_cap, char *why,
                                   size_t why_cap);

/* Send what waits for peer `peer`, oldest first (after queueing the
 * outcome of every request it was told of that has closed since). An
 * answered message is done (its result kept; a refusal audited here too);
 * false (why) when the peer could not be reached or failed: the rest
 * waits for the next try. */
bool svc_fedrel_flush(svc *s, const char *peer, svc_fedrel_send_fn send, void *ctx, char *why,
                      size_t why_cap);

/* ---- at the peer: a request it decides on ----------------------------- */

/* A request of another node, as this node holds it. */
typedef struct svc_fedrel_remote {
    char origin[FED_NAME_MAX + 1]; /* the node that decides */
    json_t *notice;                /* its notice (owned) */
    json_t *outcome;               /* its outcome, NULL while open (owned) */
    json_t *answer;                /* this node's answer, NULL: none (owned) */
    int64_t answer_done_ms;        /* when the origin answered it (0: waiting) */
    char delivery[300];            /* "", "waiting", "accepted", "refused: ..." */
} svc_fedrel_remote;

void svc_fedrel_remote_clear(svc_fedrel_remote *r);

/* Whether rid is a request of another node that this node was told of. */
bool svc_fedrel_is_remote(svc *s, const uint8_t rid[STORE_UUID_LEN]);

/* The request for a release authority of this node's nation (or an
 * auditor); SVC_NOT_FOUND for anyone else, as for an unknown one.
 * Audited (release.read). */
lsn_err svc_fedrel_remote_get(svc *s, const svc_actor *a, const uint8_t rid[STORE_UUID_LEN],
                              svc_fedrel_remote *out, svc_result *res);

/* Each request of another node (state `state`, NULL: any) to cb, for a
 * release authority of this node's nation; nothing for anyone else. */
typedef int (*svc_fedrel_remote_cb)(void *ctx, const svc_fedrel_remote *r);
lsn_err svc_fedrel_remote_list(svc *s, const svc_actor *a, const char *state,
                               svc_fedrel_remote_cb cb, void *ctx, svc_result *res);

/* This node's answer (STORE_REL_CONCUR or STORE_REL_BREAK with a reason)
 * by a release authority of its nation: signed and queued for the origin,
 * which decides (a late one is refused there, and that refusal audited
 * here when it comes back). A request closed (its outcome came) is
 * refused (SVC_DUPLICATE). Audited. */
lsn_err svc_fedrel_remote_answer(svc *s, const svc_actor *a, const uint8_t rid[STORE_UUID_LEN],
                                 store_rel_act_kind kind, const char *reason, svc_result *res);

#endif
