/* node/sessions.c — the web page's sessions, held by the node.
 *
 * A password sign-in makes a session: a random token (32 bytes, as a bearer
 * token is made) that goes to the browser in an HttpOnly cookie and is kept
 * here only as its SHA-256 hash, with the user's name, when it began and
 * when it was last used. A session ends when it is unused for the idle
 * time (--session-idle), when it is older than the absolute time
 * (--session-max), at sign-out, or when its user's account changes
 * (disabled, removed, new password, clearance or roles: the service's
 * user_changed hook). Sessions live in the node's memory: a restart signs
 * everybody out, which is the safe way round. Bounded: at most
 * NODE_SESSIONS_MAX at once (expired ones are swept to make room). */
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "core/alloc.h"
#include "node_internal.h"

#define NODE_SESSION_BUCKETS 4096u

struct session {
    uint8_t hash[SRV_TOKEN_HASH_LEN];
    char user[256];
    int64_t begun_ms, seen_ms;
    struct session *next;
};

struct node_sessions {
    pthread_mutex_t mu;
    struct session *buckets[NODE_SESSION_BUCKETS];
    size_t count;
    int64_t idle_ms, max_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t bucket_of(const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    uint32_t h;
    memcpy(&h, hash, sizeof h); /* a hash of a random token: uniform */
    return h % NODE_SESSION_BUCKETS;
}

static bool alive(const struct node_sessions *ss, const struct session *x, int64_t now)
{
    return now - x->seen_ms < ss->idle_ms && now - x->begun_ms < ss->max_ms;
}

static void free_session(struct session *x)
{
    sodium_memzero(x, sizeof *x);
    lsn_free(x);
}

lsn_err node_sessions_init(node *n, unsigned idle_s, unsigned max_s)
{
    struct node_sessions *ss = core_calloc(1, sizeof *ss);
    if (!ss)
        return LSN_ERR_NOMEM;
    pthread_mutex_init(&ss->mu, NULL);
    ss->idle_ms = (int64_t)(idle_s ? idle_s : 1800) * 1000;
    ss->max_ms = (int64_t)(max_s ? max_s : 43200) * 1000;
    n->sessions = ss;
    return LSN_OK;
}

/* Drop every session for which `drop` says so; under the lock. */
static void sweep(struct node_sessions *ss, bool (*drop)(const struct node_sessions *,
                                                          const struct session *, const void *),
                  const void *arg)
{
    for (size_t b = 0; b < NODE_SESSION_BUCKETS; b++) {
        struct session **pp = &ss->buckets[b];
        while (*pp) {
            struct session *x = *pp;
            if (drop(ss, x, arg)) {
                *pp = x->next;
                free_session(x);
                ss->count--;
            } else {
                pp = &x->next;
            }
        }
    }
}

static bool drop_all(const struct node_sessions *ss, const struct session *x, const void *arg)
{
    (void)ss, (void)x, (void)arg;
    return true;
}

static bool drop_expired(const struct node_sessions *ss, const struct session *x,
                         const void *arg)
{
    return !alive(ss, x, *(const int64_t *)arg);
}

static bool drop_user(const struct node_sessions *ss, const struct session *x, const void *arg)
{
    (void)ss;
    return strcmp(x->user, arg) == 0;
}

void node_sessions_free(node *n)
{
    struct node_sessions *ss = n->sessions;
    if (!ss)
        return;
    sweep(ss, drop_all, NULL);
    pthread_mutex_destroy(&ss->mu);
    lsn_free(ss);
    n->sessions = NULL;
}

lsn_err node_session_new(node *n, const char *user, char token[SRV_TOKEN_LEN + 1],
                         uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    struct node_sessions *ss = n->sessions;
    if (!ss || !user || strlen(user) >= sizeof ((struct session *)0)->user)
        return LSN_ERR_ARG;
    struct session *x = core_calloc(1, sizeof *x);
    if (!x)
        return LSN_ERR_NOMEM;
    lsn_error err;
    if (srv_token_generate(token, hash, &err) != LSN_OK) {
        lsn_free(x);
        return LSN_ERR_IO;
    }
    memcpy(x->hash, hash, SRV_TOKEN_HASH_LEN);
    snprintf(x->user, sizeof x->user, "%s", user);
    x->begun_ms = x->seen_ms = now_ms();
    pthread_mutex_lock(&ss->mu);
    if (ss->count >= NODE_SESSIONS_MAX)
        sweep(ss, drop_expired, &x->begun_ms);
    if (ss->count >= NODE_SESSIONS_MAX) {
        pthread_mutex_unlock(&ss->mu);
        free_session(x);
        sodium_memzero(token, SRV_TOKEN_LEN + 1);
        return LSN_ERR_LIMIT;
    }
    size_t b = bucket_of(hash);
    x->next = ss->buckets[b];
    ss->buckets[b] = x;
    ss->count++;
    pthread_mutex_unlock(&ss->mu);
    return LSN_OK;
}

bool node_session_user(node *n, const uint8_t hash[SRV_TOKEN_HASH_LEN], char *user,
                       size_t cap)
{
    struct node_sessions *ss = n->sessions;
    if (!ss)
        return false;
    int64_t now = now_ms();
    bool found = false;
    pthread_mutex_lock(&ss->mu);
    struct session **pp = &ss->buckets[bucket_of(hash)];
    while (*pp) {
        struct session *x = *pp;
        if (!srv_token_hash_equal(x->hash, hash)) {
            pp = &x->next;
            continue;
        }
        if (alive(ss, x, now)) {
            x->seen_ms = now; /* used: the idle time starts again */
            snprintf(user, cap, "%s", x->user);
            found = true;
        } else { /* expired: gone for good */
            *pp = x->next;
            free_session(x);
            ss->count--;
        }
        break;
    }
    pthread_mutex_unlock(&ss->mu);
    return found;
}

bool node_session_end(node *n, const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    struct node_sessions *ss = n->sessions;
    bool ended = false;
    if (!ss)
        return false;
    pthread_mutex_lock(&ss->mu);
    for (struct session **pp = &ss->buckets[bucket_of(hash)]; *pp; pp = &(*pp)->next)
        if (srv_token_hash_equal((*pp)->hash, hash)) {
            struct session *x = *pp;
            *pp = x->next;
            free_session(x);
            ss->count--;
            ended = true;
            break;
        }
    pthread_mutex_unlock(&ss->mu);
    return ended;
}

void node_sessions_end_user(node *n, const char *user)
{
    struct node_sessions *ss = n->sessions;
    if (!ss || !user)
        return;
    pthread_mutex_lock(&ss->mu);
    sweep(ss, drop_user, user);
    pthread_mutex_unlock(&ss->mu);
}

unsigned node_sessions_idle_s(const node *n)
{
    return n->sessions ? (unsigned)(n->sessions->idle_ms / 1000) : 0;
}

unsigned node_sessions_max_s(const node *n)
{
    return n->sessions ? (unsigned)(n->sessions->max_ms / 1000) : 0;
}
