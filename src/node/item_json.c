/* node/item_json.c — an item as the API shows it: id (its public UUID), channel, label (the
 * engine's JSON form, as an object), English and French markings, author,
 * organisation, creation time (RFC 3339, UTC, milliseconds), body, content
 * hash (hex), the portion markings ("(NR)", English and French; null where
 * the policy gives none), for a label under another policy than the node's
 * its Japanese marking (markingJa, when that policy speaks Japanese) and its
 * equivalent under the node's policy (equivalent), and the attachment's media type and size (its bytes only when
 * asked for: GET /items/{id}). Only ever called for an item the reader may
 * see: the caller decides first (node_may_see).
 *
 * Rendering costs about 65k instructions (jansson packs and dumps the
 * item's fields; the label's JSON comes ready from decide.c), and an item's
 * API JSON is the same for every reader allowed to see it (items never
 * change). So the rendered text of
 * the list form is kept in a bounded direct-mapped cache by item id:
 * listings, search, the stream and fetch by id copy it instead of rendering
 * again. The cache holds only text; who may see it is decided per reader
 * and per request before the cache is asked, exactly as without it. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/strbuf.h"
#include "liaison/introspect.h"
#include "node_internal.h"

void node_hex(const uint8_t *h, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[2 * len] = '\0';
}

void node_rfc3339(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static json_t *attachment_json(const store_item *it, bool with_data)
{
    json_t *a = json_pack("{s:s, s:I}", "mediaType", it->media_type, "size",
                          (json_int_t)it->attachment_len);
    if (a && it->attachment_name &&
        json_object_set_new(a, "fileName", json_string(it->attachment_name)) != 0) {
        json_decref(a); /* (not UTF-8: the store refuses such a name) */
        return NULL;
    }
    if (!a || !with_data)
        return a;
    size_t b64len = sodium_base64_encoded_len(it->attachment_len,
                                              sodium_base64_VARIANT_ORIGINAL);
    char *b64 = core_malloc(b64len);
    if (!b64) {
        json_decref(a);
        return NULL;
    }
    sodium_bin2base64(b64, b64len, it->attachment ? it->attachment : (const uint8_t *)"",
                      it->attachment_len, sodium_base64_VARIANT_ORIGINAL);
    if (json_object_set_new(a, "data", json_string(b64)) != 0) {
        json_decref(a);
        a = NULL;
    }
    lsn_free(b64);
    return a;
}

/* What jansson renders goes into a strbuf; skip drops the first byte (the
 * '{' of an object whose members continue one already begun). */
typedef struct dump_to {
    strbuf *b;
    bool skip;
} dump_to;

static int dump_cb(const char *buf, size_t size, void *data)
{
    dump_to *d = data;
    if (d->skip && size) {
        buf++, size--;
        d->skip = false;
    }
    strbuf_add(d->b, buf, size);
    return d->b->failed ? -1 : 0;
}

char *node_item_render(node *n, const store_item *it, bool with_data, size_t *len)
{
    char created[32], hash[2 * STORE_HASH_LEN + 1];
    node_rfc3339(it->created_ms, created);
    node_hex(it->content_hash, STORE_HASH_LEN, hash);
    /* Two objects rendered by jansson around the label's own compact JSON
     * (rendered by jansson once per distinct label, decide.c): the stored
     * label is not parsed again for every item. The bytes are those of
     * json_dumps of the whole object, keys in this order. */
    char uuid[37];
    store_uuid_text(it->uuid, uuid); /* the public id: the rowid never leaves */
    json_t *head = json_pack("{s:s, s:s}", "id", uuid, "channel", it->channel);
    json_t *tail = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "marking", it->marking_en,
                             "markingFr", it->marking_fr, "author", it->author,
                             "organisation", it->organisation, "created", created,
                             "body", it->body, "contentHash", hash);
    /* Its version (1 as first posted; a release adopted or a narrowing
     * makes the next, under the same id: docs/RELEASE.md). */
    if (tail && json_object_set_new(tail, "version",
                                    json_integer(it->ver.version > 0 ? it->ver.version : 1))) {
        json_decref(tail);
        tail = NULL;
    }
    if (tail && it->media_type) {
        json_t *a = attachment_json(it, with_data);
        if (!a || json_object_set_new(tail, "attachment", a) != 0) {
            json_decref(tail);
            tail = NULL;
        }
    }
    node_label_entry *ref = NULL;
    /* The reader was allowed to see the item, so its label parsed for the
     * decision and has a JSON form; null only if that fails (out of memory). */
    const char *label = head && tail ? node_label_json(n, it->id, it->label, &ref) : NULL;
    /* The portion form, for where an item is listed compactly. */
    if (tail && (json_object_set_new(tail, "portionMarking", node_label_portion(ref, "en")) ||
                 json_object_set_new(tail, "portionMarkingFr", node_label_portion(ref, "fr")))) {
        json_decref(tail);
        tail = NULL;
    }
    /* A label under another policy than the node's (a national policy):
     * its Japanese marking when its policy speaks Japanese, and its
     * equivalent under the node's policy, the one readers are decided on. */
    json_t *ja = tail ? node_label_marking_in(ref, "ja") : NULL;
    if (ja && json_object_set_new(tail, "markingJa", ja) != 0) {
        json_decref(tail);
        tail = NULL;
    }
    json_t *eq = tail ? node_label_equivalent(n, ref) : NULL;
    if (eq && json_object_set_new(tail, "equivalent", eq) != 0) {
        json_decref(tail);
        tail = NULL;
    }
    strbuf hb, b;
    strbuf_init(&hb, 1u << 20); /* id and channel name */
    /* A body is capped by the store (64 MiB), an attachment too (base64
     * makes 4/3 of it); escaping at most sextuples a body; the rest is small. */
    strbuf_init(&b, 8 * (size_t)STORE_BODY_MAX + (1u << 20));
    dump_to d = {.b = &hb};
    int rc = head && tail ? json_dump_callback(head, dump_cb, &d, JSON_COMPACT) : -1;
    if (rc == 0 && hb.len >= 2) {
        strbuf_add(&b, hb.data, hb.len - 1); /* "{...}" reopened */
        strbuf_adds(&b, ",\"label\":");
        strbuf_adds(&b, label ? label : "null");
        strbuf_addc(&b, ',');
        d = (dump_to){.b = &b, .skip = true};
        rc = json_dump_callback(tail, dump_cb, &d, JSON_COMPACT);
    }
    strbuf_release(&hb);
    node_label_json_release(ref);
    json_decref(head);
    json_decref(tail);
    if (rc != 0 || b.failed) {
        strbuf_release(&b);
        return NULL;
    }
    return strbuf_take(&b, len);
}

/* --- the rendered-text cache -------------------------------------------- */

lsn_err node_item_cache_init(node *n)
{
    n->jslots = core_calloc(NODE_JSON_CACHE_SLOTS, sizeof *n->jslots);
    if (!n->jslots)
        return LSN_ERR_NOMEM;
    for (size_t i = 0; i < NODE_JSON_CACHE_LOCKS; i++)
        pthread_mutex_init(&n->jlocks[i], NULL);
    atomic_init(&n->jbytes, 0);
    return LSN_OK;
}

void node_item_cache_free(node *n)
{
    if (!n->jslots)
        return;
    for (size_t i = 0; i < NODE_JSON_CACHE_SLOTS; i++)
        lsn_free(n->jslots[i].text);
    for (size_t i = 0; i < NODE_JSON_CACHE_LOCKS; i++)
        pthread_mutex_destroy(&n->jlocks[i]);
    lsn_free(n->jslots);
    n->jslots = NULL;
}

/* Keep a copy of text for id in the cache, if it fits the budget. */
static void cache_put(node *n, int64_t id, const char *text, size_t len)
{
    if (len > NODE_JSON_CACHE_ITEM_MAX)
        return;
    size_t slot = (size_t)((uint64_t)id % NODE_JSON_CACHE_SLOTS);
    pthread_mutex_t *lock = &n->jlocks[slot % NODE_JSON_CACHE_LOCKS];
    struct node_json_slot *s = &n->jslots[slot];
    pthread_mutex_lock(lock);
    if (s->id == id) {
        pthread_mutex_unlock(lock); /* another thread rendered it meanwhile */
        return;
    }
    /* The budget counts what the cache holds; a slot's old text leaves it. */
    size_t held = atomic_load_explicit(&n->jbytes, memory_order_relaxed);
    if (held - s->len + len > NODE_JSON_CACHE_BYTES) {
        pthread_mutex_unlock(lock);
        return;
    }
    char *copy = core_malloc(len + 1);
    if (copy) {
        memcpy(copy, text, len + 1);
        atomic_fetch_sub_explicit(&n->jbytes, s->len, memory_order_relaxed);
        atomic_fetch_add_explicit(&n->jbytes, len, memory_order_relaxed);
        lsn_free(s->text);
        s->id = id;
        s->text = copy;
        s->len = len;
    }
    pthread_mutex_unlock(lock);
}

/* Copy the cached text of it to out (or a fresh copy to *copy); false on a
 * miss. Under the slot's lock: another thread may replace the slot. */
static bool cache_get(node *n, const store_item *it, strbuf *out, char **copy, size_t *len)
{
    size_t slot = (size_t)((uint64_t)it->id % NODE_JSON_CACHE_SLOTS);
    pthread_mutex_t *lock = &n->jlocks[slot % NODE_JSON_CACHE_LOCKS];
    struct node_json_slot *s = &n->jslots[slot];
    bool hit = false;
    pthread_mutex_lock(lock);
    if (s->id == it->id && s->text) {
        hit = true;
        *len = s->len;
        if (out) {
            strbuf_add(out, s->text, s->len);
        } else if ((*copy = core_malloc(s->len + 1)) != NULL) {
            memcpy(*copy, s->text, s->len + 1);
        }
    }
    pthread_mutex_unlock(lock);
    return hit;
}

char *node_item_fragment(node *n, const store_item *it, size_t *len)
{
    char *out = NULL;
    if (cache_get(n, it, NULL, &out, len))
        return out; /* NULL when out of memory */
    /* Render outside any lock: it is the slow part, and two threads
     * rendering the same item at once only waste a little work. */
    out = node_item_render(n, it, false, len);
    if (out)
        cache_put(n, it->id, out, *len);
    return out;
}

bool node_item_fragment_add(node *n, const store_item *it, strbuf *out)
{
    size_t len;
    if (cache_get(n, it, out, NULL, &len))
        return !out->failed;
    char *text = node_item_render(n, it, false, &len);
    if (!text)
        return false;
    cache_put(n, it->id, text, len);
    strbuf_add(out, text, len);
    lsn_free(text);
    return !out->failed;
}
