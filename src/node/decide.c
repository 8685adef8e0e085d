/* node/decide.c — the one place the node decides whether a reader may see
 * an item. Every route (listing, fetch by id, search, stream, replay) asks
 * node_may_see, so they cannot disagree. Anything that fails — a label that
 * does not parse, a reader without a clearance — is a denial, never an
 * error the caller could turn into a leak.
 *
 * Parsing a label costs about 65k instructions; a decision on a parsed one
 * a few hundred. Two caches keep parses rare:
 *  - by item id (direct-mapped): an item's label never changes (the store
 *    refuses updates), so the cache needs no invalidation;
 *  - by label text (direct-mapped by hash, compared byte for byte): items
 *    mostly share a few labels, and the same text always parses to the same
 *    label, so a new item with a label seen before costs no parse.
 * Both hold references to one shared, immutable entry (the engine's labels
 * may be shared between threads). The entry also keeps the label's compact
 * JSON text, rendered once, for item_json.c. */
#include <string.h>

#include "core/alloc.h"
#include "core/strbuf.h"
#include "liaison/introspect.h"
#include "node_internal.h"

struct node_label_entry {
    _Atomic unsigned refs;
    uint64_t hash;
    size_t len;
    lsn_label *label;     /* NULL: the text does not parse (every decision denies) */
    _Atomic(char *) json; /* its compact JSON (jansson), made on first use */
    char text[];          /* the stored label text, NUL-terminated */
};

static void entry_unref(node_label_entry *e)
{
    if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    lsn_label_free(e->label);
    lsn_free(atomic_load_explicit(&e->json, memory_order_relaxed));
    lsn_free(e);
}

static node_label_entry *entry_ref(node_label_entry *e)
{
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}

/* FNV-1a: a table index, not a security boundary (entries are compared in
 * full). */
static uint64_t text_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static node_label_entry *entry_new(node *n, const char *text, size_t len, uint64_t hash)
{
    node_label_entry *e = core_malloc(sizeof *e + len + 1);
    if (!e)
        return NULL;
    atomic_init(&e->refs, 1);
    atomic_init(&e->json, NULL);
    e->hash = hash;
    e->len = len;
    memcpy(e->text, text, len);
    e->text[len] = '\0';
    lsn_error err;
    if (lsn_label_parse(n->set, text, len, LSN_FORM_JSON, &e->label, &err) != LSN_OK)
        e->label = NULL;
    return e;
}

/* The shared entry for this label text (a new reference), parsed once per
 * distinct text while it stays in the table; NULL when out of memory. */
static node_label_entry *entry_for_text(node *n, const char *text)
{
    size_t len = strlen(text);
    uint64_t h = text_hash(text, len);
    size_t slot = (size_t)(h % NODE_LABEL_TEXT_SLOTS);
    node_label_entry *e = NULL;
    pthread_mutex_lock(&n->text_lock);
    node_label_entry *t = n->texts[slot];
    if (t && t->hash == h && t->len == len && memcmp(t->text, text, len) == 0)
        e = entry_ref(t);
    pthread_mutex_unlock(&n->text_lock);
    if (e)
        return e;
    /* Parse outside the lock (the slow part); a racing thread may parse
     * the same text too and one entry wins the slot: harmless. */
    e = entry_new(n, text, len, h);
    if (!e || len > NODE_LABEL_TEXT_MAX)
        return e; /* huge labels are not kept by text */
    pthread_mutex_lock(&n->text_lock);
    node_label_entry *old = n->texts[slot];
    n->texts[slot] = entry_ref(e);
    pthread_mutex_unlock(&n->text_lock);
    entry_unref(old);
    return e;
}

/* The entry of item id with this label text (a new reference): from the id
 * cache, else by text (and then remembered for the id). NULL when out of
 * memory. */
static node_label_entry *entry_for_item(node *n, int64_t id, const char *label)
{
    size_t slot = (size_t)((uint64_t)id % NODE_LABEL_CACHE_SLOTS);
    pthread_mutex_t *lock = &n->locks[slot % NODE_LABEL_CACHE_LOCKS];
    struct node_label_slot *s = &n->slots[slot];
    node_label_entry *e = NULL;
    pthread_mutex_lock(lock);
    if (s->id == id && s->e)
        e = entry_ref(s->e);
    pthread_mutex_unlock(lock);
    if (e)
        return e;
    e = entry_for_text(n, label);
    if (!e)
        return NULL;
    pthread_mutex_lock(lock);
    node_label_entry *old = s->e;
    s->id = id;
    s->e = entry_ref(e);
    pthread_mutex_unlock(lock);
    entry_unref(old);
    return e;
}

lsn_err node_cache_init(node *n)
{
    n->slots = core_calloc(NODE_LABEL_CACHE_SLOTS, sizeof *n->slots);
    n->texts = core_calloc(NODE_LABEL_TEXT_SLOTS, sizeof *n->texts);
    if (!n->slots || !n->texts) {
        lsn_free(n->slots);
        lsn_free(n->texts);
        n->slots = NULL;
        n->texts = NULL;
        return LSN_ERR_NOMEM;
    }
    for (size_t i = 0; i < NODE_LABEL_CACHE_LOCKS; i++)
        pthread_mutex_init(&n->locks[i], NULL);
    pthread_mutex_init(&n->text_lock, NULL);
    return node_item_cache_init(n);
}

void node_cache_free(node *n)
{
    node_item_cache_free(n);
    if (!n->slots)
        return;
    for (size_t i = 0; i < NODE_LABEL_CACHE_SLOTS; i++)
        entry_unref(n->slots[i].e);
    for (size_t i = 0; i < NODE_LABEL_TEXT_SLOTS; i++)
        entry_unref(n->texts[i]);
    for (size_t i = 0; i < NODE_LABEL_CACHE_LOCKS; i++)
        pthread_mutex_destroy(&n->locks[i]);
    pthread_mutex_destroy(&n->text_lock);
    lsn_free(n->slots);
    lsn_free(n->texts);
    n->slots = NULL;
    n->texts = NULL;
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
    struct node_label_slot *s = &n->slots[slot];
    /* The hot path: the id is cached; decide under the slot's lock (the
     * slot's reference keeps the entry alive, and the check is short). */
    pthread_mutex_lock(lock);
    bool hit = s->id == id && s->e;
    if (hit && s->e->label && lsn_access_check(n->set, s->e->label, r->clearance, &d) != LSN_OK)
        d = LSN_DENY;
    pthread_mutex_unlock(lock);
    if (!hit) {
        node_label_entry *e = entry_for_item(n, id, label);
        if (e && e->label && lsn_access_check(n->set, e->label, r->clearance, &d) != LSN_OK)
            d = LSN_DENY;
        entry_unref(e);
    }
    if (n->metrics)
        srv_metrics_decision(n->metrics, d == LSN_GRANT);
    return d == LSN_GRANT;
}

bool node_label_grants(node *n, const lsn_clearance *c, const char *label)
{
    lsn_decision d = LSN_DENY;
    if (!c || !label)
        return false;
    node_label_entry *e = entry_for_text(n, label);
    if (e && e->label && lsn_access_check(n->set, e->label, c, &d) != LSN_OK)
        d = LSN_DENY;
    entry_unref(e);
    return d == LSN_GRANT;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    strbuf_add(data, buf, size);
    return ((strbuf *)data)->failed ? -1 : 0;
}

/* A label's compact JSON text (lsn_free), rendered by jansson; NULL when
 * the text is not JSON or out of memory. */
static char *compact(const char *text, size_t len)
{
    json_t *o = json_loadb(text, len, 0, NULL);
    if (!o)
        return NULL;
    strbuf b;
    strbuf_init(&b, 2 * len + 64); /* compacting never grows it much */
    int rc = json_dump_callback(o, dump_cb, &b, JSON_COMPACT);
    json_decref(o);
    if (rc != 0) {
        strbuf_release(&b);
        return NULL;
    }
    return strbuf_take(&b, NULL);
}

node_label_entry *node_label_get(node *n, int64_t id, const char *label)
{
    return id > 0 && label ? entry_for_item(n, id, label) : NULL;
}

bool node_may_see_entry(node *n, const node_reader *r, const node_label_entry *e)
{
    lsn_decision d = LSN_DENY;
    if (r && r->clearance && e && e->label &&
        lsn_access_check(n->set, e->label, r->clearance, &d) != LSN_OK)
        d = LSN_DENY;
    if (n->metrics)
        srv_metrics_decision(n->metrics, d == LSN_GRANT);
    return d == LSN_GRANT;
}

const char *node_label_json(node *n, int64_t id, const char *label, node_label_entry **ref)
{
    *ref = NULL;
    node_label_entry *e = entry_for_item(n, id, label);
    if (!e)
        return NULL;
    char *j = atomic_load_explicit(&e->json, memory_order_acquire);
    if (!j && e->label) {
        /* Only a label that parsed is shown: its text is then JSON. */
        char *made = compact(e->text, e->len);
        char *expected = NULL;
        if (made && !atomic_compare_exchange_strong_explicit(&e->json, &expected, made,
                                                             memory_order_acq_rel,
                                                             memory_order_acquire)) {
            lsn_free(made); /* another thread made it first */
            made = expected;
        }
        j = made;
    }
    if (!j) {
        entry_unref(e);
        return NULL;
    }
    *ref = e;
    return j;
}

void node_label_json_release(node_label_entry *ref)
{
    entry_unref(ref);
}

json_t *node_label_portion(const node_label_entry *e, const char *lang)
{
    char buf[1024];
    if (!e || !e->label ||
        lsn_label_portion_marking(e->label, lang, buf, sizeof buf, NULL) != LSN_OK)
        return json_null();
    return json_string(buf);
}

/* The marking of l in lang as a new JSON string; NULL when it fails. */
static json_t *marking_json(const lsn_label *l, const char *lang)
{
    char buf[2048];
    if (lsn_label_marking(l, lang, buf, sizeof buf, NULL) != LSN_OK)
        return NULL;
    return json_string(buf);
}

json_t *node_marking_in(const lsn_label *l, const char *lang)
{
    const lsn_policy *p = l ? lsn_label_policy(l) : NULL;
    return p && lsn_policy_speaks(p, lang) ? marking_json(l, lang) : NULL;
}

json_t *node_label_marking_in(const node_label_entry *e, const char *lang)
{
    return node_marking_in(e ? e->label : NULL, lang);
}

json_t *node_label_equivalent(const node *n, const node_label_entry *e)
{
    return node_equivalent(n, e ? e->label : NULL);
}

json_t *node_equivalent(const node *n, const lsn_label *l)
{
    const lsn_policy *own = n->policy;
    if (!own || !l || lsn_label_policy(l) == own)
        return NULL;
    lsn_label *t = NULL;
    lsn_error err;
    if (lsn_label_translate(l, n->set, lsn_policy_id(own), &t, &err) != LSN_OK)
        return NULL;
    json_t *en = marking_json(t, "en"), *fr = marking_json(t, "fr");
    lsn_class_info ci = {0};
    int ix = lsn_label_class_index(t);
    bool has_class = ix >= 0 && lsn_policy_class_at(own, (size_t)ix, &ci) && ci.name;
    lsn_label_free(t);
    if (!en || !fr || !has_class) {
        json_decref(en);
        json_decref(fr);
        return NULL;
    }
    /* The classification's name: the page colours the banner by it (the
     * national policy's own classifications have no colour on this node). */
    return json_pack("{s:s, s:s, s:o, s:o}", "policy", lsn_policy_name(own), "classification",
                     ci.name, "marking", en, "markingFr", fr);
}
