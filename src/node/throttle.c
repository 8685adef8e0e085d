/* node/throttle.c — slowing down password guessing.
 *
 * Failed sign-ins are counted per user name and per client address. After
 * a few free failures (NODE_THROTTLE_FREE_USER for a name, the larger
 * NODE_THROTTLE_FREE_ADDR for an address, which many people may share) each
 * further failure closes that key for a time that doubles, from
 * NODE_THROTTLE_FIRST_S up to NODE_THROTTLE_MAX_S. An attempt on a closed
 * key is answered at once with 429 and Retry-After, without checking the
 * password: no server thread ever sleeps, and a guesser gets no answer
 * about the password while the key is closed. A success forgets the name's
 * failures (not the address's). Counts are forgotten after an hour
 * without failures.
 *
 * Kept in a fixed table in memory, direct-mapped by a keyed hash of the key
 * (the key is never stored), so that it cannot grow: a flood of distinct
 * names can evict a name's record, which is why the address is counted too. */
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "core/alloc.h"
#include "node_internal.h"

#define THROTTLE_SLOTS 8192u
#define THROTTLE_FORGET_MS (3600 * 1000)

struct throttle_slot {
    uint8_t key[16]; /* keyed BLAKE2b of "u:NAME" or "a:ADDRESS"; zeros: empty */
    unsigned failures;
    int64_t closed_until_ms, last_ms;
};

struct node_throttle {
    pthread_mutex_t mu;
    uint8_t salt[crypto_generichash_KEYBYTES];
    struct throttle_slot slots[THROTTLE_SLOTS];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

lsn_err node_throttle_init(node *n)
{
    struct node_throttle *t = core_calloc(1, sizeof *t);
    if (!t)
        return LSN_ERR_NOMEM;
    pthread_mutex_init(&t->mu, NULL);
    randombytes_buf(t->salt, sizeof t->salt);
    n->throttle = t;
    return LSN_OK;
}

void node_throttle_free(node *n)
{
    if (!n->throttle)
        return;
    pthread_mutex_destroy(&n->throttle->mu);
    lsn_free(n->throttle);
    n->throttle = NULL;
}

/* The slot of (kind, value) and its key; under t->mu. */
static struct throttle_slot *slot_of(struct node_throttle *t, char kind, const char *value,
                                     uint8_t key[16])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, t->salt, sizeof t->salt, 16);
    crypto_generichash_update(&st, (const unsigned char *)&kind, 1);
    crypto_generichash_update(&st, (const unsigned char *)value, strlen(value));
    crypto_generichash_final(&st, key, 16);
    uint32_t h;
    memcpy(&h, key, sizeof h);
    return &t->slots[h % THROTTLE_SLOTS];
}

/* Seconds until (kind, value) is open again; 0 when open. Under t->mu. */
static unsigned wait_of(struct node_throttle *t, char kind, const char *value, int64_t now)
{
    uint8_t key[16];
    struct throttle_slot *s = slot_of(t, kind, value, key);
    if (memcmp(s->key, key, sizeof key) != 0 || s->closed_until_ms <= now)
        return 0;
    return (unsigned)((s->closed_until_ms - now + 999) / 1000);
}

unsigned node_throttle_wait(node *n, const char *user, const char *client)
{
    struct node_throttle *t = n->throttle;
    if (!t)
        return 0;
    int64_t now = now_ms();
    pthread_mutex_lock(&t->mu);
    unsigned a = wait_of(t, 'u', user ? user : "", now);
    unsigned b = wait_of(t, 'a', client ? client : "", now);
    pthread_mutex_unlock(&t->mu);
    return a > b ? a : b;
}

static void fail_one(struct node_throttle *t, char kind, const char *value, unsigned free_n,
                     int64_t now)
{
    uint8_t key[16];
    struct throttle_slot *s = slot_of(t, kind, value, key);
    if (memcmp(s->key, key, sizeof key) != 0 || now - s->last_ms > THROTTLE_FORGET_MS) {
        memcpy(s->key, key, sizeof key); /* a new key, or an old one forgotten */
        s->failures = 0;
        s->closed_until_ms = 0;
    }
    s->failures++;
    s->last_ms = now;
    if (s->failures > free_n) {
        unsigned k = s->failures - free_n - 1;
        int64_t delay = NODE_THROTTLE_FIRST_S;
        while (k-- && delay < NODE_THROTTLE_MAX_S)
            delay *= 2;
        if (delay > NODE_THROTTLE_MAX_S)
            delay = NODE_THROTTLE_MAX_S;
        s->closed_until_ms = now + delay * 1000;
    }
}

void node_throttle_failed(node *n, const char *user, const char *client)
{
    struct node_throttle *t = n->throttle;
    if (!t)
        return;
    int64_t now = now_ms();
    pthread_mutex_lock(&t->mu);
    fail_one(t, 'u', user ? user : "", NODE_THROTTLE_FREE_USER, now);
    fail_one(t, 'a', client ? client : "", NODE_THROTTLE_FREE_ADDR, now);
    pthread_mutex_unlock(&t->mu);
}

void node_throttle_succeeded(node *n, const char *user)
{
    struct node_throttle *t = n->throttle;
    if (!t)
        return;
    uint8_t key[16];
    pthread_mutex_lock(&t->mu);
    struct throttle_slot *s = slot_of(t, 'u', user ? user : "", key);
    if (memcmp(s->key, key, sizeof key) == 0)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&t->mu);
}
