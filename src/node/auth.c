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
 * trusted for NODE_AUTH_TTL_MS at most. Users change only through the
 * offline admin verbs, which write the store while the node may run: a
 * token not in the cache is always looked up in the store (new users work
 * at once; misses are not cached), and a change to an existing user (a
 * future revocation or clearance change) reaches requests within the TTL.
 * docs/NODE.md says the same. */
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "node_internal.h"

#define NODE_AUTH_SLOTS 1024u /* direct-mapped by the token hash */
#define NODE_AUTH_LOCKS 32u   /* slot i is guarded by lock i % NODE_AUTH_LOCKS */

/* A cached reader. `r` comes first: handlers see &e->r as req->user, and
 * release turns it back into its entry. */
struct auth_entry {
    node_reader r;
    _Atomic unsigned refs; /* one for the cache slot, one per request using it */
    int64_t born_ms;       /* monotonic time it was read from the store */
    uint8_t hash[SRV_TOKEN_HASH_LEN];
};

struct node_auth_cache {
    struct auth_entry *slots[NODE_AUTH_SLOTS];
    pthread_mutex_t locks[NODE_AUTH_LOCKS];
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

/* Read the reader of a token hash from the store (the service layer's
 * loader); NULL if no such user. */
static struct auth_entry *entry_load(node *n, const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    struct auth_entry *e = core_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (svc_reader_load_token(&n->svc, hash, &e->r, NULL) != LSN_OK || !e->r.user) {
        lsn_free(e);
        return NULL;
    }
    memcpy(e->hash, hash, SRV_TOKEN_HASH_LEN);
    e->born_ms = mono_ms();
    atomic_init(&e->refs, 1);
    return e;
}

void *node_auth_lookup(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    node *n = ctx;
    struct node_auth_cache *c = n->auth;
    if (!c) { /* no cache (a test's node): one private reader per request */
        struct auth_entry *e = entry_load(n, hash);
        return e ? &e->r : NULL;
    }
    /* The hash is SHA-256 of a random token: any 4 of its bytes index
     * uniformly. */
    uint32_t h;
    memcpy(&h, hash, sizeof h);
    size_t slot = h % NODE_AUTH_SLOTS;
    pthread_mutex_t *lock = &c->locks[slot % NODE_AUTH_LOCKS];
    int64_t now = mono_ms();

    pthread_mutex_lock(lock);
    struct auth_entry *e = c->slots[slot];
    if (e && now - e->born_ms < NODE_AUTH_TTL_MS && now >= e->born_ms &&
        srv_token_hash_equal(e->hash, hash)) {
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        pthread_mutex_unlock(lock);
        return &e->r;
    }
    pthread_mutex_unlock(lock);

    /* Miss or expired: read the store without holding the lock (SQLite and
     * a parse are slow), then install the fresh entry. Two threads missing
     * together both read; the later install wins, both answers are right. */
    e = entry_load(n, hash);
    if (!e)
        return NULL; /* unknown tokens are not cached: a new user works at once */
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed); /* the caller's */
    pthread_mutex_lock(lock);
    struct auth_entry *old = c->slots[slot];
    c->slots[slot] = e;
    pthread_mutex_unlock(lock);
    entry_unref(old); /* freed once the last request using it releases it */
    return &e->r;
}

void node_auth_release(void *ctx, void *user)
{
    (void)ctx;
    if (user)
        entry_unref((struct auth_entry *)user); /* r is the entry's first member */
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
