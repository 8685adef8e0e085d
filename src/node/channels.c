/* node/channels.c — does a channel exist? Asked by every post (the service
 * layer's acceptance) and every listing; it was a SQLite query each time. Channels are only
 * ever added (by the offline `liaison channel add`; no verb removes or
 * renames one), so a name once found stays true: found names are
 * remembered in a small direct-mapped table, with their name rendered as a
 * JSON string for answers. A name not found is always asked of the store
 * again (a channel added while the node runs works at once). Should a verb
 * ever remove channels, the store still refuses an item for a missing
 * channel: this table only answers "known" early. A channel's local flag
 * is set when it is added and never changed: remembered with its name. */
#include <string.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/strbuf.h"
#include "node_internal.h"
#include "server/errors.h"
#include "service.h"

#define CHANNEL_SLOTS 128u /* direct-mapped by a keyed hash of the name */

struct channel_slot {
    char *name; /* NULL: empty */
    char *json; /* the name as a JSON string, as jansson renders it */
    bool local; /* kept local (docs/FEDERATION.md) */
};

struct svc_channels {
    pthread_mutex_t lock; /* one: a lookup is a hash and a compare */
    struct channel_slot slots[CHANNEL_SLOTS];
    unsigned char key[crypto_shorthash_KEYBYTES];
};

lsn_err svc_channels_init(svc *n)
{
    struct svc_channels *c = core_calloc(1, sizeof *c);
    if (!c)
        return LSN_ERR_NOMEM;
    pthread_mutex_init(&c->lock, NULL);
    crypto_shorthash_keygen(c->key);
    n->channels = c;
    return LSN_OK;
}

void svc_channels_free(svc *n)
{
    struct svc_channels *c = n->channels;
    if (!c)
        return;
    for (size_t i = 0; i < CHANNEL_SLOTS; i++) {
        lsn_free(c->slots[i].name);
        lsn_free(c->slots[i].json);
    }
    pthread_mutex_destroy(&c->lock);
    lsn_free(c);
    n->channels = NULL;
}

static int add_cb(const char *buf, size_t size, void *data)
{
    strbuf *b = data;
    strbuf_add(b, buf, size);
    return b->failed ? -1 : 0;
}

/* name as a JSON string (lsn_free), or NULL. */
static char *render(const char *name)
{
    json_t *s = json_string(name);
    strbuf b;
    strbuf_init(&b, 64 * 1024);
    if (!s || json_dump_callback(s, add_cb, &b, JSON_ENCODE_ANY) != 0)
        b.failed = true;
    json_decref(s);
    return strbuf_take(&b, NULL);
}

/* Copy src into out (cap bytes) if it fits. */
static bool copy_out(const char *src, char *out, size_t cap)
{
    size_t len = strlen(src);
    if (!out || len >= cap)
        return false;
    memcpy(out, src, len + 1);
    return true;
}

int svc_channel_known(svc *n, const char *name, char *json_out, size_t json_cap)
{
    bool local;
    return svc_channel_lookup(n, name, json_out, json_cap, &local);
}

int svc_channel_lookup(svc *n, const char *name, char *json_out, size_t json_cap, bool *local)
{
    *local = false;
    struct svc_channels *c = n->channels;
    size_t slot = 0;
    if (c) {
        uint64_t h;
        crypto_shorthash((unsigned char *)&h, (const unsigned char *)name, strlen(name),
                         c->key);
        slot = (size_t)(h % CHANNEL_SLOTS);
        pthread_mutex_lock(&c->lock);
        struct channel_slot *s = &c->slots[slot];
        if (s->name && strcmp(s->name, name) == 0 &&
            (!json_out || copy_out(s->json, json_out, json_cap))) {
            *local = s->local;
            pthread_mutex_unlock(&c->lock);
            return 1;
        }
        pthread_mutex_unlock(&c->lock);
    }
    store_channel *ch = NULL;
    lsn_error err;
    if (store_channel_get(n->st, name, &ch, &err) != LSN_OK)
        return -1;
    if (!ch)
        return 0;
    *local = ch->local;
    lsn_free(ch);
    char *copy = core_strdup(name), *json = render(name);
    if (!copy || !json || (json_out && !copy_out(json, json_out, json_cap))) {
        lsn_free(copy);
        lsn_free(json);
        return -1;
    }
    if (!c) {
        lsn_free(copy);
        lsn_free(json);
        return 1;
    }
    pthread_mutex_lock(&c->lock);
    struct channel_slot *s = &c->slots[slot];
    lsn_free(s->name);
    lsn_free(s->json);
    s->name = copy;
    s->json = json;
    s->local = *local;
    pthread_mutex_unlock(&c->lock);
    return 1;
}

bool node_channel_exists(node *n, const char *name, char *json_out, size_t json_cap,
                         srv_response *resp)
{
    int known = svc_channel_known(&n->svc, name, json_out, json_cap);
    if (known < 0)
        srv_resp_error(resp, 500, SRV_E_INTERNAL, "The store failed; try again.");
    else if (!known)
        srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "No such channel.");
    return known > 0;
}
