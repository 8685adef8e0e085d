/* node/service_fed.c — the receiving side of the federation transport: a
 * batch from a peer, item by item through the one acceptance of a peer's
 * item (svc_peer_item_prepare), then stored in one transaction with the
 * peer's received sequence.
 *
 * Nothing lost, nothing twice: every item carries the sender's gapless
 * sequence for this node. What is at or below the received sequence is
 * already durable here (a retry after a lost answer, a restart): skipped.
 * An item that does not follow is a gap: the batch stops there and the
 * answer names the sequence expected. A refused item (bad signature,
 * unknown policy, invalid label, not releasable here) is audited by the
 * acceptance and passed over — its sequence is consumed, so it never
 * blocks the items behind it. The stored items and the new received
 * sequence commit together; the stream and the items' post records follow
 * from that one commit. */
#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "service.h"
#include "server/log.h"

/* One batch at a time: the received sequence read, the batch decided and
 * the sequence moved must not interleave with another batch of the same
 * peer (a sender's retry while its first attempt is still here). */
static pthread_mutex_t receiving = PTHREAD_MUTEX_INITIALIZER;

/* Whether uuid was accepted earlier in this batch (two copies of one item
 * in a batch are stored once). */
static bool seen_in_batch(svc_pending *const *pds, size_t n, const char uuid[37])
{
    for (size_t i = 0; i < n; i++) {
        char u[37];
        svc_pending_uuid(pds[i], u);
        if (strcmp(u, uuid) == 0)
            return true;
    }
    return false;
}

lsn_err svc_fed_receive(svc *s, const char *peer, const svc_fed_in *items, size_t n,
                        svc_fed_answer *ans, svc_result *res)
{
    memset(ans, 0, sizeof *ans);
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    if (n > SVC_FED_BATCH_MAX)
        return svc_refuse(res, SVC_TOO_LARGE, LSN_ERR_LIMIT,
                          "A batch holds at most %d items.", SVC_FED_BATCH_MAX);
    pthread_mutex_lock(&receiving);
    int64_t peer_id = 0;
    uint64_t last = 0;
    if (!svc_peer_lookup(s, peer, &peer_id, &last)) {
        pthread_mutex_unlock(&receiving);
        return svc_refuse(res, SVC_FORBIDDEN, LSN_ERR_ARG, "Unknown peer.");
    }
    svc_pending **pds = n ? core_calloc(n, sizeof *pds) : NULL;
    int64_t *ids = n ? core_calloc(n, sizeof *ids) : NULL;
    if (n && (!pds || !ids)) {
        pthread_mutex_unlock(&receiving);
        lsn_free(pds);
        lsn_free(ids);
        return svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
    }
    size_t npd = 0;
    uint64_t next = last; /* the last sequence this batch takes */
    lsn_err rc = LSN_OK;
    for (size_t i = 0; i < n && rc == LSN_OK; i++) {
        if (items[i].seq <= next) {
            ans->duplicates++; /* durable already, or twice in the batch */
            continue;
        }
        if (items[i].seq != next + 1) {
            ans->expected = next + 1;
            break;
        }
        svc_pending *pd = NULL;
        int64_t id = 0;
        bool dup = false;
        svc_result r;
        rc = svc_peer_item_prepare(s, peer, &items[i].item, &pd, &id, &dup, &r);
        if (rc != LSN_OK && r.refusal == SVC_FAILED) {
            /* The store or memory failed: not this item's fault. Stop
             * before it, so that it is sent again. */
            *res = r;
            break;
        }
        rc = LSN_OK;
        next = items[i].seq;
        if (pd) {
            char u[37];
            svc_pending_uuid(pd, u);
            if (seen_in_batch(pds, npd, u)) {
                svc_pending_free(pd);
                ans->duplicates++;
            } else {
                pds[npd++] = pd;
            }
        } else if (dup) {
            ans->duplicates++;
        } else {
            ans->refused++; /* audited by the acceptance */
        }
    }
    if (next == last && !npd) {
        ans->acked = last; /* nothing new (or the store failed on the first) */
    } else {
        /* What was taken, up to `next`, in one transaction; a failure
         * after it (rc) leaves the rest to the sender's next attempt. */
        size_t stored = npd;
        svc_result r;
        lsn_err c = svc_post_commit_batch(s, pds, npd, peer_id, next, ids, &r);
        npd = 0;
        if (c == LSN_OK) {
            svc_peer_received_set(s, peer_id, next);
            ans->acked = next;
            ans->stored = stored;
            rc = LSN_OK;
        } else {
            ans->acked = last;
            ans->expected = 0;
            *res = r;
            rc = c;
        }
    }
    for (size_t i = 0; i < npd; i++)
        svc_pending_free(pds[i]);
    pthread_mutex_unlock(&receiving);
    lsn_free(pds);
    lsn_free(ids);
    if (ans->refused)
        srv_log(SRV_LOG_WARN, "fed: %zu item(s) from %s refused (audited)", ans->refused, peer);
    return rc;
}
