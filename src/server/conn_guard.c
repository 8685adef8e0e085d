/* server/conn_guard.c — the waiting FIFO, its deadline thread and the
 * waiting share (conn_guard.h). */
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "core/alloc.h"
#include "server/conn_guard.h"
#include "server/metrics.h"

/* How often the deadline thread looks at the oldest waiting connection: a
 * request is cut between deadline and deadline + TICK_MS. */
#define TICK_MS 200

struct srv_conn_guard {
    srv_conn_guard_opts o;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool stop;
    srv_conn *head, *tail; /* waiting, oldest first */
    size_t nwaiting;
    srv_conn *live;        /* every connection not yet cut */
    size_t nlive;
};

/* The client address as bytes (IPv4: 4, IPv6: 16); 0 when neither. */
static unsigned char addr_bytes(const struct sockaddr *sa, unsigned char out[16])
{
    if (sa && sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa && sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return 16;
    }
    return 0;
}

static void unlink_live(srv_conn_guard *g, srv_conn *c)
{
    if (!c->lprev && g->live != c)
        return; /* not in the list */
    if (c->lprev)
        c->lprev->lnext = c->lnext;
    else
        g->live = c->lnext;
    if (c->lnext)
        c->lnext->lprev = c->lprev;
    c->lprev = c->lnext = NULL;
    g->nlive--;
}

/* Live connections from this address. A linear walk: at most max_live
 * records, and only when a connection is accepted. */
static size_t live_from(const srv_conn_guard *g, const unsigned char *a, unsigned char len)
{
    size_t n = 0;
    for (const srv_conn *c = g->live; c; c = c->lnext)
        if (c->addr_len == len && memcmp(c->addr, a, len) == 0)
            n++;
    return n;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void unlink_waiting(srv_conn_guard *g, srv_conn *c)
{
    if (!c->waiting)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        g->tail = c->prev;
    c->prev = c->next = NULL;
    c->waiting = false;
    g->nwaiting--;
}

static void append_waiting(srv_conn_guard *g, srv_conn *c)
{
    unlink_waiting(g, c);
    if (c->cut)
        return;
    c->since_ms = now_ms();
    c->prev = g->tail;
    c->next = NULL;
    if (g->tail)
        g->tail->next = c;
    else
        g->head = c;
    g->tail = c;
    c->waiting = true;
    g->nwaiting++;
}

/* Close c's connection: libmicrohttpd sees the end of the stream on its
 * own thread and closes it there. Under the lock. */
static void cut(srv_conn_guard *g, srv_conn *c, bool evicted)
{
    unlink_waiting(g, c);
    unlink_live(g, c);
    c->cut = true;
    shutdown(c->fd, SHUT_RDWR);
    srv_metrics_conn_closed(g->o.metrics, evicted);
}

static void *deadline_thread(void *arg)
{
    srv_conn_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        int64_t limit = now_ms() - (int64_t)g->o.deadline_s * 1000;
        while (g->head && g->head->since_ms <= limit)
            cut(g, g->head, false);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->wake, &g->lock, &until);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

srv_conn_guard *srv_conn_guard_new(const srv_conn_guard_opts *o)
{
    srv_conn_guard *g = core_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->o = *o;
    if (!g->o.deadline_s)
        g->o.deadline_s = 30;
    if (!g->o.max_waiting)
        g->o.max_waiting = 1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->thread, NULL, deadline_thread, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        lsn_free(g);
        return NULL;
    }
    return g;
}

void srv_conn_guard_free(srv_conn_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    lsn_free(g);
}

bool srv_conn_guard_admit(srv_conn_guard *g, const struct sockaddr *addr)
{
    unsigned char a[16];
    unsigned char len = addr_bytes(addr, a);
    bool yes = true;
    pthread_mutex_lock(&g->lock);
    if (g->o.per_address && len && live_from(g, a, len) >= g->o.per_address)
        yes = false;
    else if (g->o.max_live && g->nlive >= g->o.max_live && !g->head)
        yes = false; /* full of connections being answered: none to evict */
    else if (g->head && (g->nwaiting >= g->o.max_waiting ||
                         (g->o.max_live && g->nlive >= g->o.max_live)))
        cut(g, g->head, true);
    pthread_mutex_unlock(&g->lock);
    return yes;
}

srv_conn *srv_conn_guard_started(srv_conn_guard *g, int fd)
{
    srv_conn *c = core_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
        c->addr_len = addr_bytes((struct sockaddr *)&peer, c->addr);
    pthread_mutex_lock(&g->lock);
    c->lnext = g->live;
    if (g->live)
        g->live->lprev = c;
    g->live = c;
    g->nlive++;
    append_waiting(g, c);
    pthread_mutex_unlock(&g->lock);
    return c;
}

void srv_conn_guard_whole(srv_conn_guard *g, srv_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    unlink_waiting(g, c);
    pthread_mutex_unlock(&g->lock);
}

void srv_conn_guard_done(srv_conn_guard *g, srv_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    append_waiting(g, c);
    pthread_mutex_unlock(&g->lock);
}

void srv_conn_guard_closed(srv_conn_guard *g, srv_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    unlink_waiting(g, c);
    unlink_live(g, c);
    pthread_mutex_unlock(&g->lock);
    lsn_free(c);
}

size_t srv_conn_guard_waiting(srv_conn_guard *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = g->nwaiting;
    pthread_mutex_unlock(&g->lock);
    return n;
}
