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
 * unknown policy, invalid label, not releasable here, a channel other than
 * the signed one) is passed over — its sequence is consumed, so it never
 * blocks the items behind it — and its audit record is held back: the
 * stored items, the refusals' audit records and the new received sequence
 * commit together (one writer request), so that a batch sent again after a
 * failed commit is audited once; the stream and the items' post records
 * follow from that one commit. */
#include <pthread.h>
#include <stdatomic.h>
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

/* Preparing a batch's items on several threads. */
#define PREP_THREADS 4

typedef struct prep_out {
    svc_pending *pd;
    bool dup;
    lsn_err rc;
    svc_result res;
    svc_audit_note refusal; /* a refused item's audit record, for the batch's commit */
} prep_out;

typedef struct prep_job {
    svc *s;
    const char *peer;
    const svc_fed_in *items;
    const size_t *idx;
    size_t n;
    _Atomic size_t next; /* the next of idx to take */
    prep_out out[SVC_FED_BATCH_MAX];
} prep_job;

static void *prep_main(void *arg)
{
    prep_job *j = arg;
    for (size_t k; (k = atomic_fetch_add(&j->next, 1)) < j->n;) {
        int64_t id = 0;
        prep_out *o = &j->out[k];
        o->rc = svc_peer_item_prepare(j->s, j->peer, &j->items[j->idx[k]].item, &o->pd, &id,
                                      &o->dup, &o->refusal, &o->res);
    }
    return NULL;
}

static void prepare_all(prep_job *j)
{
    pthread_t th[PREP_THREADS - 1];
    size_t started = 0;
    atomic_init(&j->next, 0);
    for (size_t t = 0; t + 1 < PREP_THREADS && (t + 1) * 4 < j->n; t++)
        if (pthread_create(&th[started], NULL, prep_main, j) == 0)
            started++;
    prep_main(j); /* this thread too */
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
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
    /* The run of sequences this batch takes: those after what is durable,
     * up to a gap. */
    size_t idx[SVC_FED_BATCH_MAX], k = 0;
    uint64_t expect = last;
    for (size_t i = 0; i < n; i++) {
        if (items[i].seq <= expect) {
            ans->duplicates++; /* durable already, or twice in the batch */
            continue;
        }
        if (items[i].seq != expect + 1) {
            ans->expected = expect + 1;
            break;
        }
        idx[k++] = i;
        expect = items[i].seq;
    }
    /* Verifying a binding is the dear part (docs/PERFORMANCE.md): the
     * items are prepared on several threads, then taken in order. */
    prep_job job = {.s = s, .peer = peer, .items = items, .idx = idx, .n = k};
    prepare_all(&job);
    size_t npd = 0, nrefused = 0;
    /* The refusals' audit records commit with the batch: a batch sent
     * again after a failed commit is audited once, not once per attempt. */
    const svc_audit_note *refusals[SVC_FED_BATCH_MAX];
    uint64_t next = last; /* the last sequence this batch takes */
    lsn_err rc = LSN_OK;
    size_t j = 0;
    for (; j < k; j++) {
        prep_out *o = &job.out[j];
        if (o->rc != LSN_OK && o->res.refusal == SVC_FAILED) {
            /* The store or memory failed: not this item's fault. Stop
             * before it, so that it is sent again. */
            *res = o->res;
            rc = o->rc;
            break;
        }
        next = items[idx[j]].seq;
        if (o->pd) {
            char u[37];
            svc_pending_uuid(o->pd, u);
            if (seen_in_batch(pds, npd, u)) {
                svc_pending_free(o->pd);
                ans->duplicates++;
            } else {
                pds[npd++] = o->pd;
            }
            o->pd = NULL;
        } else if (o->dup) {
            ans->duplicates++;
        } else {
            ans->refused++;
            if (o->refusal.set)
                refusals[nrefused++] = &o->refusal;
        }
    }
    if (j < k)
        ans->expected = 0; /* stopped by a failure, not a gap: `acked` says where */
    for (; j < k; j++) /* after a failure: sent again */
        svc_pending_free(job.out[j].pd);
    if (next == last && !npd) {
        ans->acked = last; /* nothing new (or the store failed on the first) */
    } else {
        /* What was taken, up to `next`, in one transaction; a failure
         * after it (rc) leaves the rest to the sender's next attempt. */
        size_t stored = npd;
        svc_result r;
        lsn_err c = svc_post_commit_batch(s, pds, npd, refusals, nrefused, peer_id, next, ids,
                                          &r);
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
