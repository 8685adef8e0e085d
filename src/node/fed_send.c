/* node/fed_send.c — the sending side of the federation transport: one
 * thread per peer reading the peer's outbox from its durable cursor and
 * sending it in batches (PUT /fed/v1/send/{txn}, docs/FEDERATION.md).
 *
 * One batch in flight per peer. The cursor is the last sequence the peer
 * acknowledged as durable (peers.last_acked): a batch is the entries after
 * it, at most FED_BATCH of them; its txn names its sequences, so a retry
 * of the same entries is the same txn. The answer moves the cursor (200:
 * acked; 409: the peer expects another sequence — it has lost nothing it
 * acknowledged, so the cursor goes to expected - 1). A restart reads the
 * cursor again from the store: what was sent but not acknowledged is sent
 * again and the peer skips what it has (its received sequence).
 *
 * A failure backs off exponentially with full jitter (a random delay below
 * retry_min * 2^failures, capped at retry_max); any request from the peer
 * (it is back) or a new item wakes the thread at once. An idle peer is
 * probed with an empty batch every `probe` ms. The peer's state, last
 * contact, last error and cursor are noted in the store when they change
 * (`liaison peer list`, GET /api/v1/peers).
 *
 * TLS: libcurl with the node's certificate and key as the client's, and
 * the peer's pinned certificate as the only trust anchor plus its public
 * key pinned (CURLOPT_PINNEDPUBLICKEY). The host name is not checked: the
 * certificate names a node, not a host, and it is pinned whole. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "federation/identity.h"
#include "node_internal.h"
#include "server/log.h"
#include "service_fedrel.h"

#define FED_BATCH 32           /* items per batch */
#define FED_BATCH_BYTES (8u << 20) /* ... and about this many bytes at most */
#define FED_ANSWER_MAX 4096

typedef struct fed_link {
    struct node_fed *f;
    int64_t id;
    char *name, *url, *pem;
    char *via;            /* its relay's name; NULL: direct */
    char pin[80];         /* "sha256//BASE64" of the pinned certificate's key */
    uint64_t acked;       /* the cursor: last sequence the peer made durable */
    unsigned failures;    /* in a row */
    bool heard;           /* the peer called us while we backed off */
    bool backing_off;     /* waiting after a failure (under f->mu) */
    char state[16];       /* as last noted in the store */
    char last_error[256]; /* as last noted; "" none */
    pthread_t thread;
    bool started;
    struct fed_link *_Atomic next; /* the links form a list that only grows */
} fed_link;

struct node_fed {
    node *n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    _Atomic bool stopping; /* stop, read by an exchange in flight */
    uint64_t gen;         /* moved by every wake: new items */
    /* One link per peer, from the start or added since (node_fed_add):
     * appended under mu, never removed before node_fed_stop, so a thread
     * may walk the list without the lock. */
    fed_link *_Atomic links;
    fed_link *last;       /* the list's tail (under mu) */
    char crt[4096], key[4096];
    unsigned retry_min, retry_max, probe;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The SHA-256 pin of a PEM certificate's public key, as libcurl takes it. */
static bool key_pin(const char *pem, char *out, size_t cap)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int len = x ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : -1;
    bool ok = len > 0;
    if (ok) {
        unsigned char h[SHA256_DIGEST_LENGTH];
        SHA256(der, (size_t)len, h);
        char b64[64];
        sodium_bin2base64(b64, sizeof b64, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
        snprintf(out, cap, "sha256//%s", b64);
    }
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
    return ok;
}

/* ---- the batch ------------------------------------------------------------ */

typedef struct entry {
    uint64_t seq;
    int64_t item;
} entry;

typedef struct entries {
    entry v[FED_BATCH];
    size_t n;
} entries;

static int entry_cb(void *ctx, uint64_t seq, int64_t item)
{
    entries *e = ctx;
    e->v[e->n++] = (entry){seq, item};
    return e->n == FED_BATCH ? STORE_STOP : STORE_NEXT;
}

static json_t *b64_json(const void *p, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *t = core_malloc(cap);
    if (!t)
        return NULL;
    sodium_bin2base64(t, cap, p, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(t);
    lsn_free(t);
    return j;
}

/* One outbox entry as the batch carries it: the signed bytes as stored
 * (translated, with the originator's bytes unchanged inside, for a peer of
 * another policy: svc_peer_binding_for), the content they bind. An item
 * the store withholds (it fails its seal), or that cannot be translated,
 * is sent without binding: the peer refuses and audits it, and the
 * sequence is not left as a gap. */
static json_t *item_json(node *n, const char *peer, const entry *e, size_t *bytes)
{
    store_item *it = NULL;
    char *binding = NULL;
    size_t blen = 0;
    lsn_error err;
    if (store_item_get(n->st, e->item, &it, &err) != LSN_OK) {
        lsn_free(it);
        return NULL; /* the store failed: the batch waits */
    }
    /* Withdrawn, or no longer released to this peer (narrowed): a
     * tombstone signed by the origin instead (service_fed_version.c). */
    const char *tomb = NULL;
    char *tbytes = NULL;
    size_t tomb_len = 0;
    if (it && svc_fed_tombstone_due(&n->svc, peer, it, &tomb, &tbytes, &tomb_len, &err) != LSN_OK) {
        lsn_free(it);
        return NULL;
    }
    if (tomb && tbytes) {
        /* A peer of another policy gets it with the equivalent label
         * beside the origin's, as items (translate.h). */
        char *translated = NULL;
        size_t trlen = 0;
        if (svc_peer_binding_for(&n->svc, peer, it->label, tbytes, tomb_len, &translated,
                                 &trlen, &err) != LSN_OK) {
            srv_log(SRV_LOG_WARN, "fed: tombstone of item %lld not translated for %s: %s",
                    (long long)e->item, peer, err.message);
            lsn_free(tbytes);
            tbytes = NULL;
        } else if (translated) {
            lsn_free(tbytes);
            tbytes = translated;
            tomb_len = trlen;
        }
    }
    if (tomb) {
        json_t *j = json_pack("{s:I, s:s}", "seq", (json_int_t)e->seq, "kind", "tombstone");
        if (j && tbytes) {
            json_object_set_new(j, "binding", b64_json(tbytes, tomb_len));
            *bytes += tomb_len;
        } else if (j) {
            srv_log(SRV_LOG_WARN, "fed: outbox item %lld: no tombstone to send (not its "
                    "origin); sent as refused", (long long)e->item);
        }
        lsn_free(tbytes);
        lsn_free(it);
        return j;
    }
    if (it && svc_item_binding(&n->svc, e->item, &binding, &blen, &err) != LSN_OK) {
        lsn_free(it);
        return NULL;
    }
    if (it && binding) {
        char *translated = NULL;
        size_t tlen = 0;
        if (svc_peer_binding_for(&n->svc, peer, it->label, binding, blen, &translated, &tlen,
                                 &err) != LSN_OK) {
            srv_log(SRV_LOG_WARN, "fed: outbox item %lld not translated for %s: %s",
                    (long long)e->item, peer, err.message);
            lsn_free(binding);
            binding = NULL;
        } else if (translated) {
            lsn_free(binding);
            binding = translated;
            blen = tlen;
        }
    }
    json_t *j = json_pack("{s:I}", "seq", (json_int_t)e->seq);
    if (j && it && binding) {
        if (it->ver.version > 1) /* a later version: its binding says which */
            json_object_set_new(j, "kind", json_string("version"));
        json_object_set_new(j, "channel", json_string(it->channel));
        json_object_set_new(j, "binding", b64_json(binding, blen));
        json_object_set_new(j, "body", json_string(it->body));
        if (it->media_type) {
            json_object_set_new(j, "mediaType", json_string(it->media_type));
            json_object_set_new(j, "attachment",
                                b64_json(it->attachment, it->attachment_len));
        }
        *bytes += blen + strlen(it->body) + it->attachment_len;
    } else if (j) {
        srv_log(SRV_LOG_WARN, "fed: outbox item %lld withheld; sent as refused",
                (long long)e->item);
    }
    lsn_free(it);
    lsn_free(binding);
    return j;
}

/* ---- the exchange ---------------------------------------------------------- */

typedef struct answer {
    char buf[FED_ANSWER_MAX + 1];
    size_t len;
} answer;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
    answer *a = ctx;
    size_t n = size * nmemb, room = FED_ANSWER_MAX - a->len;
    memcpy(a->buf + a->len, p, n < room ? n : room);
    a->len += n < room ? n : room;
    a->buf[a->len] = '\0';
    return n;
}

/* libcurl's progress callback: abandon an exchange when the node stops,
 * so that a stop never waits for a slow peer's answer. */
static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&((struct node_fed *)ctx)->stopping) ? 1 : 0;
}

/* PUT body to the peer's ROUTE/NAME (/fed/v1/send/{txn}, /fed/v1/release/{mid});
 * *status (0: no answer) and the answer. */
static bool put(fed_link *l, CURL *c, const char *route, const char *txn, const char *body,
                long *status, answer *a, char *why, size_t why_cap)
{
    char url[2300];
    const char *u = l->url;
    size_t ul = strlen(u);
    snprintf(url, sizeof url, "%.*s%s/%s", (int)(ul && u[ul - 1] == '/' ? ul - 1 : ul), u,
             route, txn);
    struct curl_blob ca = {.data = l->pem, .len = strlen(l->pem), .flags = CURL_BLOB_COPY};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    a->len = 0;
    a->buf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_SSLCERT, l->f->crt);
    curl_easy_setopt(c, CURLOPT_SSLKEY, l->f->key);
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, l->pin);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, l->f);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    *status = 0;
    if (rc != CURLE_OK) {
        snprintf(why, why_cap, "%s", curl_easy_strerror(rc));
        return false;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return true;
}

/* Note the link's state in the store when it changed (or the cursor
 * moved). */
static void note(fed_link *l, const char *state, const char *error, bool contact,
                 bool acked_moved)
{
    const char *e = error ? error : "";
    if (!contact && !acked_moved && strcmp(state, l->state) == 0 &&
        strcmp(e, l->last_error) == 0)
        return;
    store_peer_state_note sn = {.state = state, .last_contact_ms = contact ? now_ms() : 0,
                                .last_error = error,
                                .last_acked = (int64_t)l->acked};
    lsn_error err;
    if (store_peer_note(l->f->n->st, l->id, &sn, &err) != LSN_OK)
        srv_log(SRV_LOG_WARN, "fed: noting %s's state: %s", l->name, err.message);
    /* A change of state is audited (not every failed retry). */
    if (strcmp(state, l->state) != 0) {
        char object[300];
        snprintf(object, sizeof object, "peer:%s", l->name);
        (void)svc_audit(&l->f->n->svc, "system", "fed.peer", object, state,
                        error ? error : "");
    }
    snprintf(l->state, sizeof l->state, "%s", state);
    snprintf(l->last_error, sizeof l->last_error, "%s", e);
}

/* Send what waits after the cursor (or an empty probe). Returns true when
 * the peer answered with a sequence; false on failure (why). *sent: how
 * many items the batch held. */
static bool exchange(fed_link *l, CURL *c, bool probe, bool *idle, size_t *sent, char *why,
                     size_t why_cap)
{
    node *n = l->f->n;
    entries es = {.n = 0};
    lsn_error err;
    *sent = 0;
    *idle = false;
    if (store_outbox_list(n->st, l->id, l->acked, FED_BATCH, entry_cb, &es, &err) != LSN_OK) {
        snprintf(why, why_cap, "reading the outbox: %s", err.message);
        return false;
    }
    if (!es.n && !probe) {
        *idle = true; /* nothing to send, no probe due */
        return true;
    }
    json_t *items = json_array();
    size_t bytes = 0, k = 0;
    for (; k < es.n && items && (k == 0 || bytes < FED_BATCH_BYTES); k++) {
        json_t *j = item_json(n, l->name, &es.v[k], &bytes);
        if (!j)
            break;
        json_array_append_new(items, j);
    }
    json_t *doc = items ? json_pack("{s:s, s:o}", "destination", l->name, "items", items) : NULL;
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body) {
        snprintf(why, why_cap, "out of memory, or the store failed, making a batch");
        return false;
    }
    /* The same entries are the same txn on every retry. */
    char txn[64];
    if (k)
        snprintf(txn, sizeof txn, "%llu-%llu", (unsigned long long)es.v[0].seq,
                 (unsigned long long)es.v[k - 1].seq);
    else
        snprintf(txn, sizeof txn, "probe-%llu", (unsigned long long)l->acked);
    long status = 0;
    answer a;
    bool ok = put(l, c, "/fed/v1/send", txn, body, &status, &a, why, why_cap);
    free(body);
    if (!ok)
        return false;
    json_t *ans = json_loads(a.buf, 0, NULL);
    json_t *acked = json_object_get(ans, "acked"), *exp = json_object_get(ans, "expected");
    bool good = false;
    if (status == 200 && json_is_integer(acked) && json_integer_value(acked) >= 0) {
        l->acked = (uint64_t)json_integer_value(acked);
        good = true;
    } else if (status == 409 && json_is_integer(exp) && json_integer_value(exp) >= 1) {
        /* A gap: the peer expects another sequence (it restarted from an
         * older copy, or we did): resume from there. */
        l->acked = (uint64_t)json_integer_value(exp) - 1;
        good = true;
    } else {
        const char *m = json_string_value(json_object_get(json_object_get(ans, "error"),
                                                          "message"));
        snprintf(why, why_cap, "HTTP %ld%s%s", status, m ? ": " : "", m ? m : "");
    }
    json_decref(ans);
    *sent = k;
    return good;
}

/* Release messages (service_fed_release.c) go on the same link, before
 * its items: each PUT /fed/v1/release/{mid}, a retry the same mid. */
typedef struct rel_send {
    fed_link *l;
    CURL *c;
} rel_send;

static bool rel_put(void *ctx, const char *mid, const char *body, long *status, char *out,
                    size_t out_cap, char *why, size_t why_cap)
{
    rel_send *r = ctx;
    answer a;
    bool ok = put(r->l, r->c, "/fed/v1/release", mid, body, status, &a, why, why_cap);
    snprintf(out, out_cap, "%s", ok ? a.buf : "");
    return ok;
}

/* Wait until woken (new items, the peer heard from, stop) or ms passed.
 * Returns false when stopping. Under f->mu. */
static bool wait_ms(fed_link *l, uint64_t gen, int64_t ms, bool wake_on_items)
{
    struct node_fed *f = l->f;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!f->stop && !l->heard && !(wake_on_items && f->gen != gen))
        if (pthread_cond_timedwait(&f->cv, &f->mu, &until) != 0)
            break;
    return !f->stop;
}

/* A peer reached through `relay` has no link of its own: its items go to
 * the relay (every one of them is in the relay's outbox too: the guard
 * releases an item to a relayed peer only when it releases it to the
 * relay), which forwards them under its own guard. Its cursor moves as the
 * relay acknowledges them: both outboxes are in item order, so every entry
 * whose item is at or before the relay's last acknowledged item has been
 * handed over. Runs on the relay's thread, the only one that touches the
 * relayed peers' links. */
static void hand_over(fed_link *relay)
{
    struct node_fed *f = relay->f;
    node *n = f->n;
    entries one = {.n = 0};
    lsn_error err;
    if (!relay->acked ||
        store_outbox_list(n->st, relay->id, relay->acked - 1, 1, entry_cb, &one, &err) !=
            LSN_OK ||
        !one.n)
        return;
    int64_t upto = one.v[0].item;
    for (fed_link *v = atomic_load(&f->links); v; v = atomic_load(&v->next)) {
        if (!v->via || strcmp(v->via, relay->name) != 0)
            continue;
        uint64_t before = v->acked;
        for (;;) {
            entries es = {.n = 0};
            if (store_outbox_list(n->st, v->id, v->acked, FED_BATCH, entry_cb, &es, &err) !=
                LSN_OK)
                break;
            size_t k = 0;
            while (k < es.n && es.v[k].item <= upto)
                k++;
            if (k)
                v->acked = es.v[k - 1].seq;
            if (k < FED_BATCH)
                break;
        }
        if (v->acked != before) {
            note(v, "up", NULL, true, true);
            char object[300], detail[400];
            snprintf(object, sizeof object, "peer:%s", v->name);
            snprintf(detail, sizeof detail, "sequences %llu-%llu handed to the relay %s",
                     (unsigned long long)before + 1, (unsigned long long)v->acked,
                     relay->name);
            (void)svc_audit(&n->svc, "system", "fed.send", object, "ok", detail);
        }
    }
}

static node *n_of(const fed_link *l)
{
    return l->f->n;
}

static void *link_main(void *arg)
{
    fed_link *l = arg;
    struct node_fed *f = l->f;
    char tname[16];
    snprintf(tname, sizeof tname, "fed-%lld", (long long)l->id);
    pthread_setname_np(pthread_self(), tname);
    CURL *c = curl_easy_init();
    int64_t last_probe = 0; /* probe at once: learn the peer's state */
    hand_over(l); /* what it acknowledged before a restart, for peers it relays to */
    for (;;) {
        pthread_mutex_lock(&f->mu);
        bool stop = f->stop;
        uint64_t gen = f->gen;
        l->heard = false;
        pthread_mutex_unlock(&f->mu);
        if (stop || !c)
            break;
        char why[1024] = "";
        size_t sent = 0;
        uint64_t before = l->acked;
        bool idle = false;
        rel_send rs = {.l = l, .c = c};
        bool ok = svc_fedrel_flush(&n_of(l)->svc, l->name, rel_put, &rs, why, sizeof why) &&
                  exchange(l, c, now_ms() - last_probe >= (int64_t)f->probe || l->failures,
                           &idle, &sent, why, sizeof why);
        if (ok && idle) {
            /* nothing to do: wait below */
        } else if (ok) {
            l->failures = 0;
            last_probe = now_ms();
            note(l, "up", NULL, true, l->acked != before);
            if (l->acked > before) {
                /* The release, in this node's audit: what the peer made
                 * durable. */
                char object[300], detail[120];
                snprintf(object, sizeof object, "peer:%s", l->name);
                snprintf(detail, sizeof detail, "sequences %llu-%llu acknowledged",
                         (unsigned long long)before + 1, (unsigned long long)l->acked);
                (void)svc_audit(&n_of(l)->svc, "system", "fed.send", object, "ok", detail);
                hand_over(l);
            }
            if (sent && l->acked != before)
                continue; /* more may wait: send at once */
            if (sent) {
                /* Answered without moving: the peer took nothing (a
                 * refusal of the batch as a whole): wait as a failure. */
                snprintf(why, sizeof why, "the peer took none of the batch");
                ok = false;
            }
        }
        if (!ok) {
            bool refused = strncmp(why, "HTTP 403", 8) == 0 || strncmp(why, "HTTP 421", 8) == 0;
            note(l, refused ? "refused" : "down", why, false, false);
            if (l->failures < 30)
                l->failures++;
            /* Full jitter: uniform in [0, min(max, min * 2^failures)). */
            uint64_t ceil = (uint64_t)f->retry_min << (l->failures < 20 ? l->failures : 20);
            if (ceil > f->retry_max)
                ceil = f->retry_max;
            int64_t delay = (int64_t)randombytes_uniform((uint32_t)(ceil ? ceil : 1));
            srv_log(SRV_LOG_DEBUG, "fed: %s: %s; again in %lld ms", l->name, why,
                    (long long)delay);
            pthread_mutex_lock(&f->mu);
            l->backing_off = true;
            bool go = wait_ms(l, gen, delay, false);
            l->backing_off = false;
            if (l->heard)
                l->failures = 0; /* the peer is back: reset the backoff */
            pthread_mutex_unlock(&f->mu);
            if (!go)
                break;
            continue;
        }
        /* Idle: wait for new items, the peer, or the next probe. */
        int64_t due = last_probe + f->probe - now_ms();
        pthread_mutex_lock(&f->mu);
        bool go = due <= 0 || wait_ms(l, gen, due, true);
        pthread_mutex_unlock(&f->mu);
        if (!go)
            break;
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* ---- start, wake, stop ------------------------------------------------------ */

static void link_free(fed_link *l)
{
    lsn_free(l->name);
    lsn_free(l->url);
    lsn_free(l->pem);
    lsn_free(l->via);
    lsn_free(l);
}

/* A link for peer p (not started), or NULL when out of memory. */
static fed_link *link_new(struct node_fed *f, const store_peer *p)
{
    fed_link *l = core_calloc(1, sizeof *l);
    if (!l)
        return NULL;
    /* A peer reached through a relay gets no direct link: its items go to
     * the relay (hand_over). */
    bool relayed = p->via != NULL;
    *l = (fed_link){.f = f, .id = p->id, .name = core_strdup(p->name),
                    .url = core_strdup(p->url), .pem = core_strdup(p->certificate),
                    .via = relayed ? core_strdup(p->via) : NULL,
                    .acked = p->last_acked};
    snprintf(l->state, sizeof l->state, "%s", p->state);
    snprintf(l->last_error, sizeof l->last_error, "%s", p->last_error ? p->last_error : "");
    if (!l->name || !l->url || !l->pem || (relayed && !l->via)) {
        link_free(l);
        return NULL;
    }
    if (relayed || !key_pin(l->pem, l->pin, sizeof l->pin))
        l->pin[0] = '\0'; /* relayed, or not a certificate: never started */
    return l;
}

/* Start l's thread, if it has a peer of its own to send to. */
static void link_start(fed_link *l)
{
    if (!l->pin[0])
        return;
    if (pthread_create(&l->thread, NULL, link_main, l) != 0) {
        srv_log(SRV_LOG_ERROR, "fed: cannot start the sender for %s", l->name);
        return;
    }
    l->started = true;
}

typedef struct load_ctx {
    struct node_fed *f;
    const char *only; /* that peer alone, started at once (node_fed_add);
                         NULL: all, started by the caller once all are in */
    bool failed;
} load_ctx;

static int load_cb(void *ctx, const store_peer *p)
{
    load_ctx *lc = ctx;
    struct node_fed *f = lc->f;
    if (lc->only && strcmp(p->name, lc->only) != 0)
        return STORE_NEXT;
    fed_link *l = link_new(f, p);
    if (!l) {
        lc->failed = true;
        return STORE_STOP;
    }
    pthread_mutex_lock(&f->mu);
    bool known = false;
    for (fed_link *k = atomic_load(&f->links); k && !known; k = atomic_load(&k->next))
        known = strcmp(k->name, l->name) == 0;
    if (known || f->stop) {
        link_free(l); /* already served, or stopping */
    } else {
        if (f->last)
            atomic_store(&f->last->next, l);
        else
            atomic_store(&f->links, l);
        f->last = l;
        if (lc->only)
            link_start(l);
    }
    pthread_mutex_unlock(&f->mu);
    return lc->only ? STORE_STOP : STORE_NEXT;
}

static void fed_free(struct node_fed *f)
{
    for (fed_link *l = atomic_load(&f->links), *next; l; l = next) {
        next = atomic_load(&l->next);
        link_free(l);
    }
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    lsn_free(f);
}

lsn_err node_fed_start(node *n, const char *data_dir, unsigned retry_min, unsigned retry_max,
                       unsigned probe, lsn_error *err)
{
    struct node_fed *f = core_calloc(1, sizeof *f);
    if (!f)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    f->n = n;
    f->retry_min = retry_min ? retry_min : 2000;
    f->retry_max = retry_max > f->retry_min ? retry_max : f->retry_min;
    f->probe = probe ? probe : 30000;
    snprintf(f->crt, sizeof f->crt, "%s/node.crt", data_dir);
    snprintf(f->key, sizeof f->key, "%s/node.key", data_dir);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fed_free(f);
        return core_fail(err, LSN_ERR_IO, "libcurl failed to start");
    }
    load_ctx lc = {.f = f};
    lsn_err rc = store_peer_list(n->st, load_cb, &lc, err);
    if (rc == LSN_OK && lc.failed)
        rc = core_fail(err, LSN_ERR_NOMEM, "out of memory loading the peers");
    if (rc != LSN_OK) {
        fed_free(f);
        return rc;
    }
    /* Every link in before any thread starts: a relay's first hand_over
     * finds the peers it relays to. */
    pthread_mutex_lock(&f->mu);
    for (fed_link *l = atomic_load(&f->links); l; l = atomic_load(&l->next))
        link_start(l);
    pthread_mutex_unlock(&f->mu);
    n->fed = f;
    return LSN_OK;
}

void node_fed_add(node *n, const char *peer)
{
    struct node_fed *f = n->fed;
    if (!f || !peer)
        return;
    load_ctx lc = {.f = f, .only = peer};
    lsn_error err;
    if (store_peer_list(n->st, load_cb, &lc, &err) != LSN_OK || lc.failed)
        srv_log(SRV_LOG_WARN, "fed: no sender for %s until the node restarts", peer);
}

void node_fed_wake(node *n)
{
    struct node_fed *f = n->fed;
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->gen++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void node_fed_heard(node *n, const char *peer)
{
    struct node_fed *f = n->fed;
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    for (fed_link *l = atomic_load(&f->links); l; l = atomic_load(&l->next))
        if (l->backing_off && strcmp(l->name, peer) == 0) {
            l->heard = true;
            pthread_cond_broadcast(&f->cv);
        }
    pthread_mutex_unlock(&f->mu);
}

void node_fed_stop(node *n)
{
    struct node_fed *f = n->fed;
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    atomic_store(&f->stopping, true);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    /* No link is added once stop is set (load_cb checks it). */
    for (fed_link *l = atomic_load(&f->links); l; l = atomic_load(&l->next))
        if (l->started)
            pthread_join(l->thread, NULL);
    fed_free(f);
    curl_global_cleanup();
    n->fed = NULL;
}
