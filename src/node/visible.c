/* node/visible.c — a reader's visible label classes: the index that reads
 * go through (docs/ARCHITECTURE.md, "Reading").
 *
 * Every distinct label is a class in the store. For a clearance, each
 * class is decided once by the engine (lsn_access_check, through
 * node_label_grants) and the answers are kept: listings, search, the
 * stream's replay and fetches by id then ask the store for the items of the
 * visible classes only, so that what a reader may not see costs nothing
 * and shows in nothing. The set is a cache of the engine's decisions, never
 * a rule of its own:
 *  - keyed by the clearance's exact text (a changed clearance is another
 *    key) and the policy set it was decided with;
 *  - classes only ever get added (never changed), so a set decided up to
 *    class K is extended by deciding the classes after K when the store
 *    has more; the store's highest class id is read on every use.
 * Sets are immutable and reference-counted: an extension makes a new set
 * that replaces the old in the table. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "node_internal.h"

#define VIS_SLOTS 256u /* direct-mapped by the clearance text's hash */

struct node_visible {
    _Atomic unsigned refs;
    uint64_t hash;
    const lsn_policy_set *set; /* the policy it was decided with */
    char *clearance;           /* the clearance text (the key) */
    int64_t upto;              /* classes 1..upto decided */
    size_t n;                  /* visible ones */
    int64_t *ids;              /* sorted */
    uint8_t *bits;             /* bits[id] = visible, for id <= upto */
};

struct node_visible_cache {
    pthread_mutex_t lock;
    node_visible *slots[VIS_SLOTS];
};

static void vis_unref(node_visible *v)
{
    if (!v || atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1)
        return;
    lsn_free(v->clearance);
    lsn_free(v->ids);
    lsn_free(v->bits);
    lsn_free(v);
}

void node_visible_release(node_visible *v) { vis_unref(v); }

static uint64_t text_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return h;
}

lsn_err node_visible_init(node *n)
{
    n->visible = core_calloc(1, sizeof *n->visible);
    if (!n->visible)
        return LSN_ERR_NOMEM;
    pthread_mutex_init(&n->visible->lock, NULL);
    return LSN_OK;
}

void node_visible_free(node *n)
{
    if (!n->visible)
        return;
    for (size_t i = 0; i < VIS_SLOTS; i++)
        vis_unref(n->visible->slots[i]);
    pthread_mutex_destroy(&n->visible->lock);
    lsn_free(n->visible);
    n->visible = NULL;
}

/* Extending a set: the classes after `from` decided into a new set. */
typedef struct extend {
    node *n;
    const lsn_clearance *c;
    node_visible *v; /* the new set being made */
    size_t cap;      /* of v->ids */
    size_t bits_cap; /* of v->bits */
    bool failed;
} extend;

static int extend_cb(void *ctx, const store_label_class *cls)
{
    extend *x = ctx;
    node_visible *v = x->v;
    if (cls->id <= v->upto)
        return STORE_NEXT;
    if ((size_t)cls->id >= x->bits_cap) {
        size_t nc = x->bits_cap ? x->bits_cap : 64;
        while (nc <= (size_t)cls->id)
            nc *= 2;
        uint8_t *b = core_realloc(v->bits, nc);
        if (!b) {
            x->failed = true;
            return STORE_STOP;
        }
        memset(b + x->bits_cap, 0, nc - x->bits_cap);
        v->bits = b;
        x->bits_cap = nc;
    }
    if (node_label_grants(x->n, x->c, cls->label)) {
        if (v->n == x->cap) {
            size_t nc = x->cap ? 2 * x->cap : 16;
            int64_t *ids = core_realloc(v->ids, nc * sizeof *ids);
            if (!ids) {
                x->failed = true;
                return STORE_STOP;
            }
            v->ids = ids;
            x->cap = nc;
        }
        v->ids[v->n++] = cls->id;
        v->bits[cls->id] = 1;
    }
    v->upto = cls->id;
    return STORE_NEXT;
}

/* A new set: old's decisions (if any) and those of the classes after it. */
static node_visible *vis_make(node *n, const node_reader *r, const node_visible *old,
                              uint64_t hash, lsn_error *err)
{
    node_visible *v = core_calloc(1, sizeof *v);
    extend x = {.n = n, .c = r->clearance, .v = v};
    if (!v || !(v->clearance = core_strdup(r->user->clearance))) {
        lsn_free(v);
        core_fail(err, LSN_ERR_NOMEM, "out of memory deciding visible classes");
        return NULL;
    }
    atomic_init(&v->refs, 1);
    v->hash = hash;
    v->set = n->set;
    if (old) {
        x.cap = old->n;
        x.bits_cap = (size_t)old->upto + 1;
        v->ids = core_malloc((x.cap ? x.cap : 1) * sizeof *v->ids);
        v->bits = core_malloc(x.bits_cap);
        if (!v->ids || !v->bits) {
            vis_unref(v);
            core_fail(err, LSN_ERR_NOMEM, "out of memory deciding visible classes");
            return NULL;
        }
        if (old->n)
            memcpy(v->ids, old->ids, old->n * sizeof *v->ids);
        if (old->bits)
            memcpy(v->bits, old->bits, x.bits_cap);
        else /* decided when there was no class yet */
            memset(v->bits, 0, x.bits_cap);
        v->n = old->n;
        v->upto = old->upto;
    }
    if (store_class_list(n->st, v->upto, extend_cb, &x, err) != LSN_OK) {
        vis_unref(v);
        return NULL;
    }
    if (x.failed) {
        vis_unref(v);
        core_fail(err, LSN_ERR_NOMEM, "out of memory deciding visible classes");
        return NULL;
    }
    return v;
}

node_visible *node_visible_get(node *n, const node_reader *r, lsn_error *err)
{
    int64_t last = 0;
    if (store_class_last_id(n->st, &last, err) != LSN_OK)
        return NULL;
    if (!r->clearance) {
        /* No clearance that parses: no class is visible (nothing to cache). */
        node_visible *v = core_calloc(1, sizeof *v);
        if (!v)
            core_fail(err, LSN_ERR_NOMEM, "out of memory deciding visible classes");
        else
            atomic_init(&v->refs, 1), v->upto = last;
        return v;
    }
    uint64_t h = text_hash(r->user->clearance);
    struct node_visible_cache *c = n->visible;
    size_t slot = (size_t)(h % VIS_SLOTS);
    node_visible *old = NULL;
    pthread_mutex_lock(&c->lock);
    node_visible *t = c->slots[slot];
    if (t && t->hash == h && t->set == n->set && strcmp(t->clearance, r->user->clearance) == 0) {
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
        old = t;
    }
    pthread_mutex_unlock(&c->lock);
    if (old && old->upto >= last)
        return old; /* the usual case: nothing new since it was decided */
    /* Decide outside the lock (the engine's checks are the slow part); two
     * threads may both extend the same set: one wins the slot, harmless. */
    node_visible *v = vis_make(n, r, old, h, err);
    vis_unref(old);
    if (!v)
        return NULL;
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    pthread_mutex_lock(&c->lock);
    node_visible *prev = c->slots[slot];
    c->slots[slot] = v;
    pthread_mutex_unlock(&c->lock);
    vis_unref(prev);
    return v;
}

bool node_visible_has(const node_visible *v, int64_t class_id)
{
    return v && class_id > 0 && class_id <= v->upto && v->bits && v->bits[class_id];
}

const store_classes *node_visible_classes(const node_visible *v, store_classes *buf)
{
    buf->ids = v->ids;
    buf->n = v->n;
    /* Every class decided: the store reads by channel alone, leaving out
     * classes added since (not decided yet). */
    buf->all_upto = v->n > 0 && (int64_t)v->n == v->upto ? v->upto : 0;
    return buf;
}
