/* server/deferred.c — a request answered later from another thread (see
 * deferred.h): the handle between a handler that defers, the thread that
 * answers, and the connection that is suspended meanwhile.
 *
 * The one ordering that matters: libmicrohttpd allows resuming only a
 * connection that is suspended. The connection's thread suspends under the
 * handle's lock and only if no answer has arrived; the answering thread
 * stores the answer under the same lock and resumes only if the connection
 * was suspended. So either the answer arrives first and the server sends it
 * without suspending, or the suspend comes first and the answer resumes it.
 *
 * Lifetime: two references, the connection's (released when its request
 * completes) and the answerer's (released by srv_deferred_answer). */
#include <microhttpd.h>
#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "server/deferred.h"
#include "server/errors.h"

struct srv_deferred {
    pthread_mutex_t lock;
    pthread_cond_t done;      /* signalled with the answer (a stopping server waits) */
    bool answered;            /* answer holds the response */
    bool suspended;           /* the connection is suspended, awaiting it */
    srv_response answer;
    struct MHD_Connection *conn;
    _Atomic unsigned refs;
    _Atomic unsigned *parked; /* the server's count of suspended handles */
};

srv_deferred *srv_resp_defer(srv_request *req, srv_response *resp)
{
    (void)req;
    srv_deferred *d = core_calloc(1, sizeof *d);
    if (!d) {
        srv_resp_error(resp, 503, SRV_E_UNAVAILABLE, "The server is out of memory.");
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->done, NULL);
    atomic_init(&d->refs, 2);
    srv_resp_clear(resp);
    resp->deferred = d;
    return d;
}

static void unref(srv_deferred *d)
{
    if (atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
        return;
    srv_resp_clear(&d->answer);
    pthread_cond_destroy(&d->done);
    pthread_mutex_destroy(&d->lock);
    lsn_free(d);
}

void srv_deferred_answer(srv_deferred *d, srv_response *answer)
{
    if (!d || !answer)
        core_misuse("srv_deferred_answer: NULL argument");
    pthread_mutex_lock(&d->lock);
    if (d->answered)
        core_misuse("srv_deferred_answer: answered twice");
    d->answer = *answer;
    *answer = (srv_response){0};
    if (d->answer.sse || d->answer.deferred) /* a stream needs the handler's thread */
        core_misuse("srv_deferred_answer: only a plain response can be deferred");
    d->answered = true;
    pthread_cond_signal(&d->done);
    bool resume = d->suspended;
    d->suspended = false;
    pthread_mutex_unlock(&d->lock);
    /* Outside the lock: the connection may only have been suspended, and
     * once answered nothing suspends it again. Only once the resume has
     * returned may the server stop the daemon (it waits for *parked == 0). */
    if (resume) {
        MHD_resume_connection(d->conn);
        atomic_fetch_sub_explicit(d->parked, 1, memory_order_release);
    }
    unref(d);
}

bool srv_deferred_park(srv_deferred *d, void *conn, _Atomic unsigned *parked,
                       const _Atomic bool *stopping)
{
    pthread_mutex_lock(&d->lock);
    d->parked = parked;
    d->conn = conn;
    bool park = !d->answered;
    if (park) {
        /* Count first, then look at the flag (both sequentially
         * consistent; the stop sets the flag, then reads the count): either
         * the stop sees this handle and waits for its resume, or this sees
         * the stop and does not suspend — libmicrohttpd must not stop with
         * a suspended connection. */
        atomic_fetch_add(parked, 1);
        if (atomic_load(stopping)) {
            atomic_fetch_sub(parked, 1);
            park = false;
            while (!d->answered) /* answers come promptly (deferred.h) */
                pthread_cond_wait(&d->done, &d->lock);
        } else {
            d->suspended = true;
            MHD_suspend_connection(d->conn);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return park;
}

bool srv_deferred_take(srv_deferred *d, srv_response *out)
{
    pthread_mutex_lock(&d->lock);
    bool have = d->answered;
    if (have) {
        *out = d->answer;
        d->answer = (srv_response){0};
    }
    pthread_mutex_unlock(&d->lock);
    return have;
}

void srv_deferred_release(srv_deferred *d)
{
    if (d)
        unref(d);
}
