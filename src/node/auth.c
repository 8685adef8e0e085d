/* node/auth.c — who is calling: the server hashes the bearer token and asks
 * us for the user with that hash; we answer with a node_reader (the store's
 * user, their organisation's category and their parsed clearance), so every
 * decision of the request is a fast check against a compiled clearance.
 *
 * Fetching the user and organisation from SQLite and parsing the clearance
 * cost more than the rest of a post, so readers are cached: a direct-mapped
 * table keyed by the FULL token hash (compared in constant time: a cache
 * hit is the same token, never another user's), each entry shared by the
 * requests that use it (reference counted, immutable once built) and
 * trusted for NODE_AUTH_TTL_MS at most. A token not in the cache is always
 * looked up in the store (new users work at once; misses are not cached).
 * A change made through the node (an administrator disables a user, sets
 * a clearance...) empties the cache at once (node_auth_invalidate, from
 * the service's user_changed hook) and ends the user's sessions; a change
 * made by the offline verbs, which write the store while the node may run,
 * reaches requests within the TTL. Web sessions (sessions.c) are cached
 * here too, keyed by their cookie's hash and marked as such, so that a
 * session's cookie is never taken for a bearer token. docs/NODE.md says
 * the same. */
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "server/client_cert.h"
#include "node_internal.h"

#define NODE_AUTH_SLOTS 1024u /* direct-mapped by the token hash */
#define NODE_AUTH_LOCKS 32u   /* slot i is guarded by lock i % NODE_AUTH_LOCKS */

/* A cached reader. `r` comes first: handlers see &e->r as req->user, and
 * release turns it back into its entry. */
struct auth_entry {
    node_reader r;
    _Atomic unsigned refs; /* one for the cache slot, one per request using it */
    int64_t born_ms;       /* monotonic time it was read from the store */
    unsigned gen;          /* the cache's generation when it was read */
    bool session;          /* keyed by a session's hash, not a token's */
    uint8_t hash[SRV_TOKEN_HASH_LEN];
};

struct node_auth_cache {
    struct auth_entry *slots[NODE_AUTH_SLOTS];
    pthread_mutex_t locks[NODE_AUTH_LOCKS];
    /* Bumped when an account changes (node_auth_invalidate): entries of an
     * older generation are misses, and an entry read before the bump is
     * never installed. */
    _Atomic unsigned gen;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void entry_free(struct auth_entry *e)
{
    svc_reader_release(&e->r);
    lsn_free(e);
}

static void entry_unref(struct auth_entry *e)
{
    if (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        entry_free(e);
}

lsn_err node_auth_init(node *n)
{
    struct node_auth_cache *c = core_calloc(1, sizeof *c);
    if (!c)
        return LSN_ERR_NOMEM;
    for (size_t i = 0; i < NODE_AUTH_LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    n->auth = c;
    return LSN_OK;
}

void node_auth_free(node *n)
{
    struct node_auth_cache *c = n->auth;
    if (!c)
        return;
    for (size_t i = 0; i < NODE_AUTH_SLOTS; i++)
        entry_unref(c->slots[i]);
    for (size_t i = 0; i < NODE_AUTH_LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    lsn_free(c);
    n->auth = NULL;
}

/* Read the reader of a token hash (or of a session's user) from the store
 * (the service layer's loaders); NULL if no such active user. */
static struct auth_entry *entry_load(node *n, const uint8_t hash[SRV_TOKEN_HASH_LEN],
                                     const char *session_user)
{
    struct auth_entry *e = core_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    lsn_err rc = session_user ? svc_reader_load(&n->svc, session_user, &e->r, NULL)
                              : svc_reader_load_token(&n->svc, hash, &e->r, NULL);
    if (rc != LSN_OK || !e->r.user) {
        lsn_free(e);
        return NULL;
    }
    memcpy(e->hash, hash, SRV_TOKEN_HASH_LEN);
    e->session = session_user != NULL;
    e->born_ms = mono_ms();
    atomic_init(&e->refs, 1);
    return e;
}

static void *lookup(node *n, const uint8_t hash[SRV_TOKEN_HASH_LEN], const char *session_user)
{
    struct node_auth_cache *c = n->auth;
    if (!c) { /* no cache (a test's node): one private reader per request */
        struct auth_entry *e = entry_load(n, hash, session_user);
        return e ? &e->r : NULL;
    }
    /* The hash is SHA-256 of a random token: any 4 of its bytes index
     * uniformly. */
    uint32_t h;
    memcpy(&h, hash, sizeof h);
    size_t slot = h % NODE_AUTH_SLOTS;
    pthread_mutex_t *lock = &c->locks[slot % NODE_AUTH_LOCKS];
    int64_t now = mono_ms();
    unsigned gen = atomic_load_explicit(&c->gen, memory_order_acquire);

    pthread_mutex_lock(lock);
    struct auth_entry *e = c->slots[slot];
    if (e && now - e->born_ms < NODE_AUTH_TTL_MS && now >= e->born_ms && e->gen == gen &&
        e->session == (session_user != NULL) && srv_token_hash_equal(e->hash, hash) &&
        (!session_user || strcmp(e->r.user->name, session_user) == 0)) {
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        pthread_mutex_unlock(lock);
        return &e->r;
    }
    pthread_mutex_unlock(lock);

    /* Miss or expired: read the store without holding the lock (SQLite and
     * a parse are slow), then install the fresh entry. Two threads missing
     * together both read; the later install wins, both answers are right. */
    e = entry_load(n, hash, session_user);
    if (!e)
        return NULL; /* unknown tokens are not cached: a new user works at once */
    e->gen = gen;
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed); /* the caller's */
    pthread_mutex_lock(lock);
    struct auth_entry *old = NULL;
    /* Read before an account changed: answer this request, cache nothing. */
    if (atomic_load_explicit(&c->gen, memory_order_acquire) == gen) {
        old = c->slots[slot];
        c->slots[slot] = e;
    } else {
        atomic_fetch_sub_explicit(&e->refs, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(lock);
    entry_unref(old); /* freed once the last request using it releases it */
    return &e->r;
}

void *node_auth_lookup(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    return lookup(ctx, hash, NULL);
}

void *node_auth_lookup_session(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    node *n = ctx;
    char user[256];
    if (!node_session_user(n, hash, user, sizeof user))
        return NULL;
    return lookup(n, hash, user);
}

void *node_auth_lookup_cert(void *ctx, const srv_client_cert *cert)
{
    /* Not cached: a certificate sign-in reads the store each request, so a
     * change to the user or the binding is seen at once. */
    node *n = ctx;
    struct auth_entry *e = core_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (svc_reader_load_cert(&n->svc, cert->fingerprint, cert->subject,
                             cert->has_issuer ? cert->issuer : NULL, &e->r, NULL) != LSN_OK ||
        !e->r.user) {
        lsn_free(e);
        return NULL;
    }
    e->born_ms = mono_ms();
    atomic_init(&e->refs, 1);
    return &e->r;
}

void node_auth_invalidate(node *n)
{
    if (n->auth)
        atomic_fetch_add_explicit(&n->auth->gen, 1, memory_order_acq_rel);
}

void node_token_revoked(void *ctx)
{
    node_auth_invalidate(ctx);
}

void node_user_changed(void *ctx, const char *name)
{
    node *n = ctx;
    node_sessions_end_user(n, name);
    node_auth_invalidate(n);
    node_streams_end_user(n, name);
}

void node_auth_release(void *ctx, void *user)
{
    (void)ctx;
    if (user)
        entry_unref((struct auth_entry *)user); /* r is the entry's first member */
}

const char *node_auth_user_name(void *ctx, void *user)
{
    (void)ctx;
    const node_reader *r = user;
    return r && r->user ? r->user->name : NULL;
}

const char *node_auth_allow(void *ctx, void *user, unsigned act)
{
    (void)ctx;
    const node_reader *r = user;
    if (r && r->user && svc_allowed(r->user->roles, (svc_act)act))
        return NULL;
    return act < SVC_ACT_COUNT && svc_acts[act].why[0] ? svc_acts[act].why
                                                        : "You may not do this.";
}
