/* node/decide.c — the one place the node decides whether a reader may see
 * an item. Every route (listing, fetch by id, search, stream, replay) asks
 * node_may_see, so they cannot disagree. Labels are parsed once per item id
 * and kept in a direct-mapped cache; a decision is then the engine's fast
 * check (a classification bit and a few word operations). Anything that
 * fails — a label that does not parse, a reader without a clearance — is a
 * denial, never an error the caller could turn into a leak. */
#include <string.h>

#include "core/alloc.h"
#include "node_internal.h"

lsn_err node_cache_init(node *n)
{
    n->slots = lsn_calloc(NODE_LABEL_CACHE_SLOTS, sizeof *n->slots);
    if (!n->slots)
        return LSN_ERR_NOMEM;
    for (size_t i = 0; i < NODE_LABEL_CACHE_LOCKS; i++)
        pthread_mutex_init(&n->locks[i], NULL);
    return node_item_cache_init(n);
}

void node_cache_free(node *n)
{
    node_item_cache_free(n);
    if (!n->slots)
        return;
    for (size_t i = 0; i < NODE_LABEL_CACHE_SLOTS; i++)
        lsn_label_free(n->slots[i].label);
    for (size_t i = 0; i < NODE_LABEL_CACHE_LOCKS; i++)
        pthread_mutex_destroy(&n->locks[i]);
    lsn_free(n->slots);
    n->slots = NULL;
}

bool node_may_see(node *n, const node_reader *r, int64_t id, const char *label)
{
    lsn_decision d = LSN_DENY;
    if (!r || !r->clearance || !label || id <= 0) {
        if (n->metrics)
            srv_metrics_decision(n->metrics, false);
        return false;
    }
    size_t slot = (size_t)((uint64_t)id % NODE_LABEL_CACHE_SLOTS);
    pthread_mutex_t *lock = &n->locks[slot % NODE_LABEL_CACHE_LOCKS];
    pthread_mutex_lock(lock);
    struct node_label_slot *s = &n->slots[slot];
    if (s->id != id) {
        /* Items never change (the store refuses updates), so an id's label
         * is the same forever: the cache needs no invalidation. */
        lsn_label_free(s->label);
        s->label = NULL;
        s->id = id;
        lsn_error err;
        if (lsn_label_parse(n->set, label, strlen(label), LSN_FORM_JSON, &s->label,
                            &err) != LSN_OK)
            s->label = NULL;
    }
    /* Decide under the slot's lock: the label may not be freed by another
     * thread reusing the slot meanwhile, and the check is short. */
    if (s->label && lsn_access_check(n->set, s->label, r->clearance, &d) != LSN_OK)
        d = LSN_DENY;
    pthread_mutex_unlock(lock);
    if (n->metrics)
        srv_metrics_decision(n->metrics, d == LSN_GRANT);
    return d == LSN_GRANT;
}
