/* node/release_ticker.c — the node's settler of release requests: a thread
 * that adopts, every --release-settle-interval seconds and once at start,
 * the requests whose deadline passed with no break (svc_release_settle).
 * Adoption is once whoever settles (the store refuses a second), so the
 * ticker, a request's route and a restart after a crash may all try. */
#include <errno.h>
#include <time.h>

#include "node_internal.h"
#include "server/log.h"

static void *ticker(void *arg)
{
    node *n = arg;
    pthread_mutex_lock(&n->rel_lock);
    while (!n->rel_stop) {
        pthread_mutex_unlock(&n->rel_lock);
        size_t k = svc_release_settle(&n->svc);
        if (k)
            srv_log(SRV_LOG_INFO, "release: %zu request%s adopted", k, k == 1 ? "" : "s");
        pthread_mutex_lock(&n->rel_lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += n->rel_interval ? n->rel_interval : 1;
        while (!n->rel_stop &&
               pthread_cond_timedwait(&n->rel_cond, &n->rel_lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&n->rel_lock);
    return NULL;
}

lsn_err node_release_ticker_start(node *n, unsigned interval)
{
    n->rel_interval = interval;
    n->rel_stop = false;
    if (pthread_mutex_init(&n->rel_lock, NULL) != 0)
        return LSN_ERR_NOMEM;
    if (pthread_cond_init(&n->rel_cond, NULL) != 0) {
        pthread_mutex_destroy(&n->rel_lock);
        return LSN_ERR_NOMEM;
    }
    if (pthread_create(&n->rel_thread, NULL, ticker, n) != 0) {
        pthread_cond_destroy(&n->rel_cond);
        pthread_mutex_destroy(&n->rel_lock);
        return LSN_ERR_NOMEM;
    }
    n->rel_started = true;
    return LSN_OK;
}

void node_release_ticker_stop(node *n)
{
    if (!n->rel_started)
        return;
    pthread_mutex_lock(&n->rel_lock);
    n->rel_stop = true;
    pthread_cond_signal(&n->rel_cond);
    pthread_mutex_unlock(&n->rel_lock);
    pthread_join(n->rel_thread, NULL);
    pthread_cond_destroy(&n->rel_cond);
    pthread_mutex_destroy(&n->rel_lock);
    n->rel_started = false;
}
