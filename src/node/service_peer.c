/* node/service_peer.c — the registry of peers and the guard's view of it.
 *
 * Adding a peer (an administrator's act, audited): its name is the node
 * name its certificate holds (CN), its nation the certificate's (OU) and a
 * category value of the policy, its URL https, its certificate a node
 * certificate (ECDSA P-256) pinned as given, its classification one of the
 * policy's, its relay a peer already known. The service keeps every peer's
 * clearance (guard.c) in memory, so that acceptance decides an item's
 * outbox entries with no query (svc_peers_outbox). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"
#include "federation/binding.h"
#include "federation/identity.h"
#include "guard.h"
#include "service.h"
#include "store/store_fed.h"
#include "server/log.h"

typedef struct svc_peer_entry {
    int64_t id;
    char *name;
    char *nation;
    char *via;              /* NULL: direct */
    lsn_clearance *clearance;
    fed_identity *cert;     /* pinned: its bindings verify with it alone */
    uint64_t received;      /* the last of its sequences made durable here */
} svc_peer_entry;

struct svc_peers {
    pthread_mutex_t mu;
    svc_peer_entry *v;
    size_t n, cap;
};

#define PEERS_MAX 1024 /* a node talks to a handful; the cap bounds the outbox array */

static void entry_clear(svc_peer_entry *e)
{
    lsn_free(e->name);
    lsn_free(e->nation);
    lsn_free(e->via);
    lsn_clearance_free(e->clearance);
    fed_identity_free(e->cert);
}

/* Remember a peer (under mu, or before the service is shared). A peer
 * whose clearance cannot be made (the policy changed since it was added)
 * is remembered without one: it receives nothing (fail closed). */
static lsn_err remember(svc *s, const store_peer *p)
{
    struct svc_peers *ps = s->peers;
    if (ps->n == PEERS_MAX)
        return LSN_ERR_LIMIT;
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        svc_peer_entry *v = core_realloc(ps->v, cap * sizeof *v);
        if (!v)
            return LSN_ERR_NOMEM;
        ps->v = v;
        ps->cap = cap;
    }
    svc_peer_entry e = {.id = p->id, .name = core_strdup(p->name),
                        .nation = core_strdup(p->nation),
                        .via = p->via ? core_strdup(p->via) : NULL,
                        .received = p->received_seq};
    if (!e.name || !e.nation || (p->via && !e.via)) {
        entry_clear(&e);
        return LSN_ERR_NOMEM;
    }
    lsn_error err;
    if (fed_identity_from_pem(p->certificate, strlen(p->certificate), "a peer's certificate",
                              &e.cert, &err) != LSN_OK)
        e.cert = NULL; /* nothing of it will verify */
    if (guard_peer_clearance(s->set, p->nation, p->max_classification, &e.clearance, &err) !=
        LSN_OK) {
        srv_log(SRV_LOG_ERROR, "peer %s: %s; it will receive nothing", p->name,
                err.message);
        e.clearance = NULL;
    }
    ps->v[ps->n++] = e;
    return LSN_OK;
}

typedef struct load_ctx {
    svc *s;
    lsn_err rc;
} load_ctx;

static int load_cb(void *ctx, const store_peer *p)
{
    load_ctx *l = ctx;
    l->rc = remember(l->s, p);
    return l->rc == LSN_OK ? STORE_NEXT : STORE_STOP;
}

lsn_err svc_peers_init(svc *s, lsn_error *err)
{
    if (!s->set)
        return LSN_OK; /* no policy, no guard (an administrative verb): nothing goes out */
    s->peers = core_calloc(1, sizeof *s->peers);
    if (!s->peers)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&s->peers->mu, NULL);
    load_ctx l = {.s = s, .rc = LSN_OK};
    lsn_err rc = store_peer_list(s->st, load_cb, &l, err);
    if (rc == LSN_OK && l.rc != LSN_OK)
        rc = core_fail(err, l.rc, "too many peers, or out of memory");
    return rc;
}

void svc_peers_free(svc *s)
{
    if (!s->peers)
        return;
    for (size_t i = 0; i < s->peers->n; i++)
        entry_clear(&s->peers->v[i]);
    lsn_free(s->peers->v);
    pthread_mutex_destroy(&s->peers->mu);
    lsn_free(s->peers);
    s->peers = NULL;
}

static const svc_peer_entry *find(const struct svc_peers *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i].name, name) == 0)
            return &ps->v[i];
    return NULL;
}

lsn_err svc_peers_outbox(svc *s, const lsn_label *label, const char *not_a, const char *not_b,
                         int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    struct svc_peers *ps = s->peers;
    if (!ps)
        return LSN_OK;
    pthread_mutex_lock(&ps->mu);
    lsn_err rc = LSN_OK;
    for (size_t i = 0; i < ps->n && rc == LSN_OK; i++) {
        const svc_peer_entry *e = &ps->v[i];
        const svc_peer_entry *relay = e->via ? find(ps, e->via) : NULL;
        if (!e->clearance || (e->via && (!relay || !relay->clearance)))
            continue; /* fail closed */
        if ((not_a && (strcmp(e->name, not_a) == 0 || (e->via && strcmp(e->via, not_a) == 0))) ||
            (not_b && (strcmp(e->name, not_b) == 0 || (e->via && strcmp(e->via, not_b) == 0))))
            continue; /* never back to where a relayed item came from, nor through it */
        if (!guard_releases(s->set, label, e->clearance, relay ? relay->clearance : NULL))
            continue;
        if (!*ids && !(*ids = core_malloc(ps->n * sizeof **ids)))
            rc = LSN_ERR_NOMEM;
        else
            (*ids)[(*n)++] = e->id;
    }
    pthread_mutex_unlock(&ps->mu);
    if (rc != LSN_OK) {
        lsn_free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

size_t svc_peers_release_note(svc *s, const int64_t *ids, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    if (!s->peers || !cap)
        return 0;
    char to[1024] = "", held[1024] = "";
    size_t peers;
    pthread_mutex_lock(&s->peers->mu);
    peers = s->peers->n;
    for (size_t i = 0; i < peers; i++) {
        const svc_peer_entry *e = &s->peers->v[i];
        bool sent = false;
        for (size_t k = 0; k < n && !sent; k++)
            sent = ids[k] == e->id;
        char *b = sent ? to : held;
        size_t l = strlen(b);
        snprintf(b + l, sizeof to - l, "%s%s", l ? ", " : "", e->name);
    }
    pthread_mutex_unlock(&s->peers->mu);
    if (peers)
        snprintf(out, cap, "released to %s; withheld from %s", to[0] ? to : "none",
                 held[0] ? held : "none");
    return peers;
}

/* ---- the administrator's acts -------------------------------------------- */

typedef struct via_find {
    const char *name;
    bool found;
} via_find;

static int via_cb(void *ctx, const store_peer *p)
{
    via_find *f = ctx;
    if (strcmp(p->name, f->name) == 0) {
        f->found = true;
        return STORE_STOP;
    }
    return STORE_NEXT;
}

/* The checks of a new peer; its certificate's fingerprint into fp. */
static lsn_err check_peer(svc *s, const svc_new_peer *p, char *fp, size_t fp_cap,
                          const char **nation_out, svc_result *res)
{
    if (!svc_admin_text_ok("peer's name", p->name, FED_NAME_MAX, res) ||
        !svc_admin_text_ok("peer's URL", p->url, 2048, res) ||
        !svc_admin_text_ok("peer's nation", p->nation, 64, res))
        return LSN_ERR_ARG;
    if (strncmp(p->url, "https://", 8) != 0 || !p->url[8])
        return svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG,
                          "A peer's URL is https://HOST:PORT (its federation listener).");
    const char *nation = svc_nation_value(s->set, p->nation);
    if (!nation)
        return svc_refuse(res, SVC_INVALID, LSN_ERR_ARG,
                          "The nation %s is not a category value of the policy.", p->nation);
    *nation_out = nation;
    if (p->max_classification &&
        !svc_admin_text_ok("peer's classification", p->max_classification, 255, res))
        return LSN_ERR_ARG;
    lsn_clearance *c = NULL;
    lsn_error err;
    if (guard_peer_clearance(s->set, nation, p->max_classification, &c, &err) != LSN_OK)
        return svc_refuse(res, SVC_INVALID, LSN_ERR_ARG, "No peer clearance: %s.",
                          err.message);
    lsn_clearance_free(c);
    if (!p->certificate || !p->certificate_len)
        return svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG, "A peer needs its certificate.");
    fed_identity *id = NULL;
    if (fed_identity_from_pem(p->certificate, p->certificate_len, "the peer's certificate",
                              &id, &err) != LSN_OK)
        return svc_refuse(res, SVC_INVALID, LSN_ERR_ARG, "%s", err.message);
    /* The certificate says who the node is and whom it speaks for: a peer
     * is registered under both, so that a pinned certificate and the
     * registry cannot disagree. */
    bool same = strcmp(fed_identity_name(id), p->name) == 0 &&
                strcasecmp(fed_identity_nation(id), nation) == 0;
    if (!same) {
        svc_refuse(res, SVC_INVALID, LSN_ERR_ARG,
                   "The certificate is node \"%s\" of %s, not \"%s\" of %s.",
                   fed_identity_name(id), fed_identity_nation(id), p->name, nation);
        fed_identity_free(id);
        return LSN_ERR_ARG;
    }
    snprintf(fp, fp_cap, "%s", fed_identity_fingerprint(id));
    fed_identity_free(id);
    if (p->via) {
        via_find f = {.name = p->via};
        if (store_peer_list(s->st, via_cb, &f, &err) != LSN_OK)
            return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
        if (!f.found)
            return svc_refuse(res, SVC_NOT_FOUND, LSN_ERR_ARG,
                              "No peer named \"%s\" to relay.", p->via);
    }
    return LSN_OK;
}

lsn_err svc_peer_add(svc *s, const svc_actor *a, const svc_new_peer *p, svc_result *res)
{
    char object[300], what[300], detail[400], fp[FED_FINGERPRINT_SIZE + 1] = "";
    snprintf(object, sizeof object, "peer:%s", p->name ? p->name : "");
    snprintf(what, sizeof what, "The peer '%s'", p->name ? p->name : "");
    lsn_err rc = LSN_OK;
    if (!svc_admin_may(s, a, "peer.add", object, res, &rc))
        return rc;
    const char *nation = NULL;
    if ((rc = check_peer(s, p, fp, sizeof fp, &nation, res)) != LSN_OK)
        return svc_admin_finish(s, a, "peer.add", object, NULL, rc, res);
    char *pem = core_strndup(p->certificate, p->certificate_len);
    if (!pem)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
    store_peer sp = {.name = p->name, .url = p->url, .nation = nation, .certificate = pem,
                     .max_classification = p->max_classification, .via = p->via};
    lsn_error err;
    rc = store_peer_add(s->st, &sp, &sp.id, &err);
    if (rc != LSN_OK) {
        lsn_free(pem);
        svc_admin_store_refused(what, rc, &err, res);
        return svc_admin_finish(s, a, "peer.add", object, NULL, rc, res);
    }
    if (s->peers) { /* the guard knows it from the next post on */
        pthread_mutex_lock(&s->peers->mu);
        lsn_err r = remember(s, &sp);
        pthread_mutex_unlock(&s->peers->mu);
        if (r != LSN_OK)
            srv_log(SRV_LOG_WARN, "peer %s: not remembered until restart", p->name);
    }
    lsn_free(pem);
    snprintf(detail, sizeof detail, "%s %s%s%s SHA-256 %s", nation, p->url,
             p->via ? " via " : "", p->via ? p->via : "", fp);
    return svc_admin_finish(s, a, "peer.add", object, detail, LSN_OK, res);
}

lsn_err svc_peer_list(svc *s, const svc_actor *a, store_peer_cb cb, void *ctx,
                      svc_result *res)
{
    lsn_err rc = LSN_OK;
    if (!svc_admin_may(s, a, "peer.list", "peers", res, &rc))
        return rc;
    lsn_error err;
    if ((rc = store_peer_list(s->st, cb, ctx, &err)) != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The store failed: %s", err.message);
    return LSN_OK;
}

/* ---- items from a peer ------------------------------------------------------ */

/* Audit a refused item from a peer, then fill res. */
static lsn_err refuse_item(svc *s, const char *peer, const char *why, svc_result *res,
                           svc_refusal kind, const char *sentence)
{
    char actor[300];
    snprintf(actor, sizeof actor, "peer:%s", peer ? peer : "");
    (void)svc_audit(s, actor, "fed.receive", "item", "refused", why);
    return svc_refuse(res, kind, LSN_ERR_ARG, "%s", sentence);
}

lsn_err svc_peer_item_prepare(svc *s, const char *peer, const svc_peer_item *in,
                              svc_pending **out, int64_t *id_out, bool *duplicate,
                              svc_result *res)
{
    *out = NULL;
    *id_out = 0;
    *duplicate = false;
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    if (!s->peers || !s->me || !in->binding)
        return refuse_item(s, peer, "no peers, no identity or no binding", res, SVC_FORBIDDEN,
                           "This node takes no items from peers.");
    /* The peer's pinned certificate and clearance, copied out of the lock. */
    /* Entries are never removed before svc_release, so the certificate
     * and clearance they point to stay valid out of the lock (the array
     * may move; they do not), and verification runs unlocked. */
    pthread_mutex_lock(&s->peers->mu);
    const svc_peer_entry *e = peer ? find(s->peers, peer) : NULL;
    const fed_identity *cert = e ? e->cert : NULL;
    const lsn_clearance *sender = e ? e->clearance : NULL;
    char nation[65] = "";
    if (e)
        snprintf(nation, sizeof nation, "%s", e->nation);
    pthread_mutex_unlock(&s->peers->mu);
    if (!cert || !sender)
        return refuse_item(s, peer, "unknown peer", res, SVC_FORBIDDEN, "Unknown peer.");
    fed_binding *b = NULL;
    char why[512] = "";
    lsn_err rc = fed_binding_verify(cert, in->binding, in->binding_len, &b, why, sizeof why);
    /* Relayed: the origin is a peer registered as reached through this
     * sender (--via), and its own pinned certificate is the key — never
     * the relay's, which cannot alter what it forwards. Nothing of the
     * message chooses the key: each such peer's certificate is tried. */
    const fed_identity *relayed[16];
    const lsn_clearance *relayed_cl[16];
    const lsn_clearance *origin_cl = NULL; /* a relayed item's origin's clearance */
    size_t nrelayed = 0;
    if (rc == LSN_OK && !b) {
        pthread_mutex_lock(&s->peers->mu);
        for (size_t i = 0; i < s->peers->n && nrelayed < 16; i++)
            if (s->peers->v[i].via && s->peers->v[i].cert &&
                strcmp(s->peers->v[i].via, peer) == 0) {
                relayed_cl[nrelayed] = s->peers->v[i].clearance;
                relayed[nrelayed++] = s->peers->v[i].cert;
            }
        pthread_mutex_unlock(&s->peers->mu);
    }
    for (size_t i = 0; i < nrelayed && rc == LSN_OK && !b; i++) {
        char why2[512];
        rc = fed_binding_verify(relayed[i], in->binding, in->binding_len, &b, why2,
                                sizeof why2);
        if (rc == LSN_OK && b && !(origin_cl = relayed_cl[i])) {
            fed_binding_free(b); /* an origin with no clearance here sends nothing */
            b = NULL;
            snprintf(why, sizeof why, "the origin has no peer clearance here");
            break;
        }
    }
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The binding could not be verified.");
    if (!b) /* verify before anything else of it is read */
        return refuse_item(s, peer, why, res, SVC_INVALID, "The binding does not verify.");
    fed_content c = {.body = in->body, .body_len = in->body_len,
                     .has_attachment = in->media_type != NULL, .media_type = in->media_type,
                     .attachment = in->attachment, .attachment_len = in->attachment_len};
    uint8_t uuid[STORE_UUID_LEN];
    if (!fed_binding_content_matches(b, &c) || !store_uuid_parse(b->uuid, uuid)) {
        fed_binding_free(b);
        return refuse_item(s, peer, "content does not match the signed digest", res,
                           SVC_INVALID, "The content does not match its binding.");
    }
    /* Already here (by its origin's UUID): a duplicate, answered as done. */
    store_item_ref ref;
    lsn_error err;
    if (store_item_find(s->st, uuid, &ref, &err) != LSN_OK) {
        fed_binding_free(b);
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    }
    if (ref.id) {
        /* The same (origin, UUID) is the same signed bytes, forwarded
         * verbatim; other bytes under a UUID we hold are another origin's
         * claim on it (or an altered copy): refused, never a duplicate, so
         * that no peer can pre-empt another's item. */
        char *held = NULL;
        size_t held_len = 0;
        lsn_err e2 = store_item_binding(s->st, ref.id, &held, &held_len, &err);
        bool same = e2 == LSN_OK && held && held_len == in->binding_len &&
                    memcmp(held, in->binding, held_len) == 0;
        lsn_free(held);
        fed_binding_free(b);
        if (e2 != LSN_OK)
            return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
        if (!same)
            return refuse_item(s, peer, "UUID already held with another binding", res,
                               SVC_DUPLICATE, "An item with this id is already held.");
        *duplicate = true;
        *id_out = ref.id;
        return LSN_OK;
    }
    /* Decide again, here: the label taken from the signed bytes must
     * release the item to this node (its own peer clearance) and lie
     * within the sender's (the acceptance checks it as the author's). */
    json_t *label = json_stringn(b->label_xml, b->label_len);
    svc_label *l = NULL;
    lsn_clearance *mine = NULL;
    bool to_me = false;
    if (label && svc_label_get(s, label, &l, res) == LSN_OK &&
        guard_peer_clearance(s->set, fed_identity_nation(s->me), NULL, &mine, &err) == LSN_OK)
        /* A relayed item lies within its origin's agreed clearance too,
         * not only the relay's. */
        to_me = guard_releases(s->set, l->label, mine, NULL) &&
                (!origin_cl || guard_releases(s->set, l->label, origin_cl, NULL));
    svc_label_release(l);
    lsn_clearance_free(mine);
    if (!to_me) {
        json_decref(label);
        fed_binding_free(b);
        return refuse_item(s, peer, "label invalid here or not releasable to this node", res,
                           SVC_FORBIDDEN, "The item is not releasable to this node.");
    }
    char actor[300], origin[FED_NAME_MAX + 1];
    snprintf(actor, sizeof actor, "peer:%s", peer);
    snprintf(origin, sizeof origin, "%s", b->origin);
    svc_actor a = {.name = actor, .organisation = origin, .org_category = nation,
                   .clearance = sender,
                   .roles = STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY};
    svc_post p = {.channel = in->channel, .label = label, .body = in->body,
                  .body_len = in->body_len, .media_type = in->media_type,
                  .attachment = in->attachment, .attachment_len = in->attachment_len,
                  .created_ms = (int64_t)b->signing_time * 1000, .uuid = uuid,
                  .binding = in->binding, .binding_len = in->binding_len,
                  .audit_detail = origin, .from_peer = peer, .origin = origin};
    rc = svc_post_accept(s, &a, &p, out, res);
    /* The pending post borrows the label only during its acceptance (the
     * store keeps the canonical form made there); the names it holds live
     * on this stack: copied. */
    if (rc == LSN_OK && svc_pending_keep_names(*out) != LSN_OK) {
        svc_pending_free(*out);
        *out = NULL;
        rc = svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
    }
    json_decref(label);
    fed_binding_free(b);
    return rc;
}

lsn_err svc_peer_item_accept(svc *s, const char *peer, const svc_peer_item *in,
                             int64_t *id_out, bool *duplicate, svc_result *res)
{
    svc_pending *pd = NULL;
    lsn_err rc = svc_peer_item_prepare(s, peer, in, &pd, id_out, duplicate, res);
    if (rc != LSN_OK || !pd)
        return rc;
    return svc_post_commit(s, pd, id_out, NULL, res);
}

/* ---- the transport's view of the registry -------------------------------- */

bool svc_peer_lookup(svc *s, const char *name, int64_t *id, uint64_t *received)
{
    if (!s->peers || !name)
        return false;
    pthread_mutex_lock(&s->peers->mu);
    const svc_peer_entry *e = find(s->peers, name);
    if (e) {
        *id = e->id;
        *received = e->received;
    }
    pthread_mutex_unlock(&s->peers->mu);
    return e != NULL;
}

bool svc_peer_nation(svc *s, const char *name, char *nation, size_t cap)
{
    if (!s->peers || !name)
        return false;
    pthread_mutex_lock(&s->peers->mu);
    const svc_peer_entry *e = find(s->peers, name);
    if (e)
        snprintf(nation, cap, "%s", e->nation);
    pthread_mutex_unlock(&s->peers->mu);
    return e != NULL;
}

void svc_peer_received_set(svc *s, int64_t id, uint64_t seq)
{
    pthread_mutex_lock(&s->peers->mu);
    for (size_t i = 0; i < s->peers->n; i++)
        if (s->peers->v[i].id == id)
            s->peers->v[i].received = seq;
    pthread_mutex_unlock(&s->peers->mu);
}

bool svc_peer_by_fingerprint(svc *s, const char *fingerprint, char *name, size_t cap)
{
    bool found = false;
    if (!s->peers)
        return false;
    pthread_mutex_lock(&s->peers->mu);
    for (size_t i = 0; i < s->peers->n && !found; i++) {
        const svc_peer_entry *e = &s->peers->v[i];
        if (e->cert && strcmp(fed_identity_fingerprint(e->cert), fingerprint) == 0) {
            snprintf(name, cap, "%s", e->name);
            found = true;
        }
    }
    pthread_mutex_unlock(&s->peers->mu);
    return found;
}
