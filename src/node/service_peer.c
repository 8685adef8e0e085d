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
#include "federation/message.h"
#include "federation/identity.h"
#include "federation/translate.h"
#include "guard.h"
#include "service.h"
#include "store/store_fed.h"
#include "server/log.h"

typedef struct svc_peer_entry {
    int64_t id;
    char *name;
    char *nation;
    char *via;              /* NULL: direct */
    char *policy;           /* its node's policy (OID) when not this node's; NULL: ours */
    lsn_clearance *clearance; /* under its policy: what the guard decides on */
    lsn_clearance *here;    /* under ours, when its policy is another: what it may post */
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
    lsn_free(e->policy);
    lsn_clearance_free(e->clearance);
    lsn_clearance_free(e->here);
    fed_identity_free(e->cert);
}

/* Remember a peer (under mu, or before the service is shared). A peer
 * whose clearance cannot be made (the policy changed since it was added)
 * is remembered without one: it receives nothing (fail closed). */
/* This node's own policy: the set's first. */
static const char *own_policy(const svc *s)
{
    return lsn_policy_set_count(s->set) ? lsn_policy_id(lsn_policy_set_at(s->set, 0)) : "";
}

/* Whether our policy declares `oid` equivalent, and it ours: the
 * boundary translates both ways. */
static bool equivalent_to_ours(const svc *s, const char *oid)
{
    const lsn_policy *ours = lsn_policy_set_at(s->set, 0), *theirs =
        lsn_policy_set_find_id(s->set, oid);
    return ours && theirs && lsn_policy_names_equivalent(ours, oid) &&
           lsn_policy_names_equivalent(theirs, lsn_policy_id(ours));
}

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
    bool other = p->policy && strcmp(p->policy, own_policy(s)) != 0;
    if (other)
        e.policy = core_strdup(p->policy);
    if (!e.name || !e.nation || (p->via && !e.via) || (other && !e.policy)) {
        entry_clear(&e);
        return LSN_ERR_NOMEM;
    }
    lsn_error err;
    if (fed_identity_from_pem(p->certificate, strlen(p->certificate), "a peer's certificate",
                              &e.cert, &err) != LSN_OK)
        e.cert = NULL; /* nothing of it will verify */
    if (guard_peer_clearance_under(s->set, e.policy, p->nation, p->max_classification,
                                   &e.clearance, &err) != LSN_OK) {
        srv_log(SRV_LOG_ERROR, "peer %s: %s; it will receive nothing", p->name,
                err.message);
        e.clearance = NULL;
    }
    /* What a peer of another policy may post here is decided under ours:
     * its nation there, with no classification limit but ours (the one
     * agreed is named in its policy's terms). Without it, nothing of the
     * peer is accepted (fail closed). */
    if (other && e.clearance &&
        guard_peer_clearance(s->set, p->nation, NULL, &e.here, &err) != LSN_OK) {
        srv_log(SRV_LOG_ERROR, "peer %s: %s; nothing of it will be accepted", p->name,
                err.message);
        e.here = NULL;
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

/* The guard for one peer (and its relay): each decides on the label as
 * its own policy has it — the equivalent label, for a peer of another
 * policy; none (no equivalent, not valid there) is a no. */
static bool releases_to(svc *s, const lsn_label *label, const svc_peer_entry *e,
                        const svc_peer_entry *relay)
{
    lsn_label *mine = NULL, *relays = NULL;
    lsn_error err;
    bool ok = guard_label_for(s->set, label, e->policy, &mine, &err) == LSN_OK &&
              (!relay || guard_label_for(s->set, label, relay->policy, &relays, &err) == LSN_OK) &&
              guard_releases(s->set, mine ? mine : label, e->clearance, NULL) &&
              (!relay || guard_releases(s->set, relays ? relays : label, relay->clearance, NULL));
    lsn_label_free(mine);
    lsn_label_free(relays);
    return ok;
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
        if (!releases_to(s, label, e, relay))
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
                          const char **nation_out, const char **policy_out, svc_result *res)
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
    /* Its policy: one this node holds (by OID or name); another than ours
     * only when ours declares it equivalent (the guard translates into it).
     * Kept as the OID; NULL when it is ours. */
    *policy_out = NULL;
    if (p->policy) {
        if (!svc_admin_text_ok("peer's policy", p->policy, 255, res))
            return LSN_ERR_ARG;
        const lsn_policy *pp = lsn_policy_set_find_id(s->set, p->policy);
        if (!pp)
            pp = lsn_policy_set_find_name(s->set, p->policy);
        if (!pp)
            return svc_refuse(res, SVC_INVALID, LSN_ERR_ARG,
                              "The policy %s is not one this node holds.", p->policy);
        if (strcmp(lsn_policy_id(pp), own_policy(s)) != 0) {
            if (!equivalent_to_ours(s, lsn_policy_id(pp)))
                return svc_refuse(res, SVC_INVALID, LSN_ERR_ARG,
                                  "The policy %s is not declared equivalent to %s.",
                                  lsn_policy_name(pp),
                                  lsn_policy_name(lsn_policy_set_at(s->set, 0)));
            *policy_out = lsn_policy_id(pp);
        }
    }
    lsn_clearance *c = NULL;
    lsn_error err;
    if (guard_peer_clearance_under(s->set, *policy_out, nation, p->max_classification, &c,
                                   &err) != LSN_OK)
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
    const char *nation = NULL, *policy = NULL;
    if ((rc = check_peer(s, p, fp, sizeof fp, &nation, &policy, res)) != LSN_OK)
        return svc_admin_finish(s, a, "peer.add", object, NULL, rc, res);
    char *pem = core_strndup(p->certificate, p->certificate_len);
    if (!pem)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
    store_peer sp = {.name = p->name, .url = p->url, .nation = nation, .certificate = pem,
                     .max_classification = p->max_classification, .via = p->via,
                     .policy = policy};
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
    snprintf(detail, sizeof detail, "%s %s%s%s%s%s SHA-256 %s", nation, p->url,
             p->via ? " via " : "", p->via ? p->via : "", policy ? " policy " : "",
             policy ? policy : "", fp);
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

/* Whether two bindings hold the same originator's bytes, translated or
 * not (fed_binding_original, verified against `origin`). */
static bool same_original(const fed_identity *origin, const char *a, size_t al, const char *b,
                          size_t bl)
{
    char *oa = NULL, *ob = NULL;
    size_t oal = 0, obl = 0;
    bool same = fed_binding_original(origin, a, al, &oa, &oal, NULL, NULL) == LSN_OK &&
                fed_binding_original(origin, b, bl, &ob, &obl, NULL, NULL) == LSN_OK &&
                (oa || ob);
    if (same) {
        const char *pa = oa ? oa : a, *pb = ob ? ob : b;
        size_t la = oa ? oal : al, lb = ob ? obl : bl;
        same = la == lb && memcmp(pa, pb, la) == 0;
    }
    lsn_free(oa);
    lsn_free(ob);
    return same;
}

/* Audit a refused item from a peer (now, or into *defer for its batch),
 * then fill res. */
static lsn_err refuse_item(svc *s, const char *peer, svc_audit_note *defer, const char *why,
                           svc_result *res, svc_refusal kind, const char *sentence)
{
    char actor[300];
    snprintf(actor, sizeof actor, "peer:%s", peer ? peer : "");
    (void)svc_audit_or_note(s, defer, actor, "fed.receive", "item", "refused", why);
    return svc_refuse(res, kind, LSN_ERR_ARG, "%s", sentence);
}

lsn_err svc_peer_item_prepare(svc *s, const char *peer, const svc_peer_item *in,
                              svc_pending **out, int64_t *id_out, bool *duplicate,
                              svc_audit_note *defer, svc_result *res)
{
    if (defer)
        defer->set = false;
    *out = NULL;
    *id_out = 0;
    *duplicate = false;
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    if (!s->peers || !s->me || !in->binding)
        return refuse_item(s, peer, defer, "no peers, no identity or no binding", res,
                           SVC_FORBIDDEN, "This node takes no items from peers.");
    /* The peer's pinned certificate and clearance, copied out of the lock. */
    /* Entries are never removed before svc_release, so the certificate
     * and clearance they point to stay valid out of the lock (the array
     * may move; they do not), and verification runs unlocked. */
    pthread_mutex_lock(&s->peers->mu);
    const svc_peer_entry *e = peer ? find(s->peers, peer) : NULL;
    const fed_identity *cert = e ? e->cert : NULL;
    /* What it may post, decided under our policy (guard.h). */
    const lsn_clearance *sender = e ? (e->policy ? e->here : e->clearance) : NULL;
    char nation[65] = "";
    if (e)
        snprintf(nation, sizeof nation, "%s", e->nation);
    pthread_mutex_unlock(&s->peers->mu);
    if (!cert || !sender)
        return refuse_item(s, peer, defer, "unknown peer", res, SVC_FORBIDDEN, "Unknown peer.");
    /* Verified as received: the origin's signature, and a translator's
     * beside it (the sender's own, the only one that may translate on the
     * way to us), with the label to decide on under our policy
     * (translate.h). An alternative that is not a faithful translation is
     * a refusal like a bad signature. */
    fed_received *r = NULL;
    fed_binding *b = NULL;
    char why[512] = "";
    lsn_err rc = fed_binding_receive(cert, cert, in->binding, in->binding_len, s->set,
                                     own_policy(s), &r, why, sizeof why);
    b = r ? r->binding : NULL;
    const fed_identity *signer = cert; /* the origin's pinned certificate */
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
        rc = fed_binding_receive(relayed[i], cert, in->binding, in->binding_len, s->set,
                                 own_policy(s), &r, why2, sizeof why2);
        b = r ? r->binding : NULL;
        signer = relayed[i];
        if (rc == LSN_OK && b && !(origin_cl = relayed_cl[i])) {
            fed_received_free(r); /* an origin with no clearance here sends nothing */
            r = NULL;
            b = NULL;
            snprintf(why, sizeof why, "the origin has no peer clearance here");
            break;
        }
    }
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The binding could not be verified.");
    if (!b) /* verify before anything else of it is read */
        return refuse_item(s, peer, defer, why, res, SVC_INVALID, "The binding does not verify.");
    /* A later version or a tombstone: only from the item's origin
     * (service_fed_version.c); a tombstone is applied there. */
    struct store_item_ver ver = {0};
    if (b->version > 1 || b->tombstone[0] || in->kind != SVC_FED_ITEM) {
        bool done = false;
        rc = svc_fed_later_check(s, peer, in, b, &ver, &done, duplicate, res);
        *duplicate = *duplicate || done; /* a tombstone applied is answered as done */
        if (rc != LSN_OK || *duplicate) {
            fed_received_free(r);
            return rc;
        }
    }
    fed_content c = {.body = in->body, .body_len = in->body_len,
                     .has_attachment = in->media_type != NULL, .media_type = in->media_type,
                     .attachment = in->attachment, .attachment_len = in->attachment_len};
    uint8_t uuid[STORE_UUID_LEN];
    if (!fed_binding_content_matches(b, &c) || !store_uuid_parse(b->uuid, uuid)) {
        fed_received_free(r);
        return refuse_item(s, peer, defer, "content does not match the signed digest", res,
                           SVC_INVALID, "The content does not match its binding.");
    }
    /* The channel is the origin's statement, signed with the label: the
     * item is filed in the channel the signature covers, and a batch entry
     * that states another (a peer or a relay re-filing it) is refused. */
    if (!in->channel || strcmp(in->channel, b->channel) != 0) {
        char detail[2 * FED_CHANNEL_MAX + 96];
        snprintf(detail, sizeof detail, "stated channel '%.255s' is not the signed channel '%s'",
                 in->channel ? in->channel : "", b->channel);
        fed_received_free(r);
        return refuse_item(s, peer, defer, detail, res, SVC_INVALID,
                           "The item's channel is not the one its origin signed.");
    }
    /* Already here (by its origin's UUID): a duplicate, answered as done. */
    store_item_ref ref = {0};
    lsn_error err;
    if (!ver.version && store_item_find(s->st, uuid, &ref, &err) != LSN_OK) {
        fed_received_free(r);
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
        /* The same item translated by another node on its way (another
         * path, or translated afresh): the same originator's bytes. */
        if (e2 == LSN_OK && held && !same)
            same = same_original(signer, held, held_len, in->binding, in->binding_len);
        lsn_free(held);
        fed_received_free(r);
        if (e2 != LSN_OK)
            return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
        if (!same)
            return refuse_item(s, peer, defer, "UUID already held with another binding", res,
                               SVC_DUPLICATE, "An item with this id is already held.");
        *duplicate = true;
        *id_out = ref.id;
        return LSN_OK;
    }
    /* Decide again, here: the label taken from the signed bytes must
     * release the item to this node (its own peer clearance) and lie
     * within the sender's (the acceptance checks it as the author's). */
    char *decided = NULL; /* the label decided on, in 4774 form, under our policy */
    size_t decided_len = 0;
    json_t *label = lsn_label_write(r->label, LSN_FORM_4774, &decided, &decided_len, &err) ==
                            LSN_OK
                        ? json_stringn(decided, decided_len)
                        : NULL;
    lsn_free(decided);
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
        if (ver.version)
            svc_fed_version_refused(s, peer, &ver, b->origin);
        json_decref(label);
        fed_received_free(r);
        return refuse_item(s, peer, defer, "label invalid here or not releasable to this node", res,
                           SVC_FORBIDDEN, "The item is not releasable to this node.");
    }
    char actor[300], origin[FED_NAME_MAX + 1];
    snprintf(actor, sizeof actor, "peer:%s", peer);
    snprintf(origin, sizeof origin, "%s", b->origin);
    char detail[2 * FED_NAME_MAX + 64];
    if (r->label_is_alternative)
        snprintf(detail, sizeof detail, "%s; label as translated by %s", origin, r->translator);
    else
        snprintf(detail, sizeof detail, "%s", origin);
    if (ver.version) {
        size_t dl = strlen(detail);
        snprintf(detail + dl, sizeof detail - dl, "; version %d", ver.version);
    }
    svc_actor a = {.name = actor, .organisation = origin, .org_category = nation,
                   .clearance = sender,
                   .roles = STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY};
    /* in->channel is the signed channel, byte for byte (checked above),
     * and outlives the pending post (b does not). */
    svc_post p = {.channel = in->channel, .label = label, .body = in->body,
                  .body_len = in->body_len, .media_type = in->media_type,
                  .attachment = in->attachment, .attachment_len = in->attachment_len,
                  .created_ms = (int64_t)b->signing_time * 1000,
                  .uuid = ver.version ? NULL : uuid, .ver = ver.version ? &ver : NULL,
                  .binding = in->binding, .binding_len = in->binding_len,
                  .audit_detail = detail, .from_peer = peer, .origin = origin,
                  .defer = defer};
    rc = svc_post_accept(s, &a, &p, out, res);
    /* An unknown channel is not audited for a reader's guess; a peer's item
     * for a channel this node does not have is a refusal like any other. */
    if (rc != LSN_OK && res->refusal == SVC_NOT_FOUND) {
        char why2[FED_CHANNEL_MAX + 64];
        snprintf(why2, sizeof why2, "no channel '%s' on this node", b->channel);
        (void)svc_audit_or_note(s, defer, actor, "fed.receive", "item", "refused", why2);
    }
    /* The pending post borrows the label only during its acceptance (the
     * store keeps the canonical form made there); the names it holds live
     * on this stack: copied. */
    if (rc == LSN_OK && svc_pending_keep_names(*out) != LSN_OK) {
        svc_pending_free(*out);
        *out = NULL;
        rc = svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
    }
    json_decref(label);
    fed_received_free(r);
    return rc;
}

lsn_err svc_peer_item_accept(svc *s, const char *peer, const svc_peer_item *in,
                             int64_t *id_out, bool *duplicate, svc_result *res)
{
    svc_pending *pd = NULL;
    lsn_err rc = svc_peer_item_prepare(s, peer, in, &pd, id_out, duplicate, NULL, res);
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

/* The pinned certificate the binding's originator signed with, among
 * ours and the peers' (tried in turn: nothing in the message chooses the
 * key), and the originator's bytes when the binding carries a translation
 * (fed_binding_original): *orig (lsn_free) and *verified; *orig NULL and
 * *origin NULL for a binding without one (*verified NULL). LSN_ERR_ARG: a
 * translation whose originator's binding verifies against none. */
static lsn_err originator_of(svc *s, const char *binding, size_t len, char **orig,
                             size_t *orig_len, fed_binding **verified, lsn_error *err)
{
    lsn_err rc = fed_binding_original(s->me, binding, len, orig, orig_len, verified, err);
    if (rc != LSN_ERR_ARG || !s->me)
        return rc;
    for (size_t i = 0; rc == LSN_ERR_ARG; i++) {
        /* Entries are never removed before svc_release: their
         * certificates stay valid out of the lock. */
        pthread_mutex_lock(&s->peers->mu);
        const fed_identity *origin = i < s->peers->n ? s->peers->v[i].cert : NULL;
        bool more = i < s->peers->n;
        pthread_mutex_unlock(&s->peers->mu);
        if (!more)
            break;
        if (origin)
            rc = fed_binding_original(origin, binding, len, orig, orig_len, verified, err);
    }
    return rc;
}

/* Translate `binding` (an originator's, one container) into `policy`,
 * signed by this node; the origin's pinned certificate is ours or a
 * peer's (an item received and forwarded), tried in turn. */
static lsn_err translate_for(svc *s, const char *binding, size_t len, const char *policy,
                             char **out, size_t *out_len, lsn_error *err)
{
    lsn_err rc = fed_binding_translate(s->me, s->me, binding, len, s->set, policy, 0, out,
                                       out_len, err);
    for (size_t i = 0; rc == LSN_ERR_ARG; i++) {
        pthread_mutex_lock(&s->peers->mu);
        const fed_identity *origin = i < s->peers->n ? s->peers->v[i].cert : NULL;
        bool more = i < s->peers->n;
        pthread_mutex_unlock(&s->peers->mu);
        if (!more)
            break;
        if (origin)
            rc = fed_binding_translate(s->me, origin, binding, len, s->set, policy, 0, out,
                                       out_len, err);
    }
    return rc;
}

lsn_err svc_peer_binding_for(svc *s, const char *peer, const char *label, const char *binding,
                             size_t len, char **out, size_t *out_len, lsn_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!s->peers || !peer)
        return core_fail(err, LSN_ERR_ARG, "no such peer");
    char policy[256] = "";
    bool ours = false; /* the peer decides under our policy */
    pthread_mutex_lock(&s->peers->mu);
    const svc_peer_entry *e = find(s->peers, peer);
    if (e) {
        ours = !e->policy;
        snprintf(policy, sizeof policy, "%s", e->policy ? e->policy : own_policy(s));
    }
    pthread_mutex_unlock(&s->peers->mu);
    if (!e)
        return core_fail(err, LSN_ERR_ARG, "no peer named %s", peer);
    /* An item received translated carries a translation signed by the
     * node that sent it here, which no further peer can check (each checks
     * a translation against its own sender): the translation is cut out,
     * and the originator's bytes go on as they are, or translated afresh
     * by this node for a peer of another policy than the originator's. */
    char *orig = NULL;
    size_t orig_len = 0;
    fed_binding *ob = NULL;
    lsn_err rc = originator_of(s, binding, len, &orig, &orig_len, &ob, err);
    if (rc != LSN_OK)
        return rc;
    if (!orig && ours)
        return LSN_OK; /* the bytes as they are: it decides under our policy */
    lsn_label *l = NULL;
    if (orig) /* the originator's label decides, not the one decided on here */
        rc = lsn_label_parse(s->set, ob->label_xml, ob->label_len, LSN_FORM_4774, &l, err);
    else
        rc = lsn_label_parse(s->set, label, strlen(label), LSN_FORM_AUTO, &l, err);
    fed_binding_free(ob);
    if (rc != LSN_OK) {
        lsn_free(orig);
        return rc;
    }
    bool same = strcmp(lsn_policy_id(lsn_label_policy(l)), policy) == 0;
    lsn_label_free(l);
    if (same) { /* already under its policy: the originator's bytes */
        *out = orig;
        *out_len = orig_len;
        return LSN_OK;
    }
    if (!s->me) {
        lsn_free(orig);
        return core_fail(err, LSN_ERR_ARG, "no identity to sign a translation with");
    }
    rc = translate_for(s, orig ? orig : binding, orig ? orig_len : len, policy, out, out_len,
                       err);
    lsn_free(orig);
    return rc;
}

/* ---- release messages (service_fed_release.c) --------------------------- */

bool svc_peer_message_verify(svc *s, const char *peer, const void *data, size_t len,
                             const uint8_t *sig, size_t sig_len)
{
    if (!s->peers || !peer)
        return false;
    pthread_mutex_lock(&s->peers->mu);
    const svc_peer_entry *e = find(s->peers, peer);
    bool ok = e && e->cert && fed_message_verify(e->cert, data, len, sig, sig_len);
    pthread_mutex_unlock(&s->peers->mu);
    return ok;
}

bool svc_peer_releases(svc *s, const char *peer, const lsn_label *label)
{
    if (!s->peers || !peer || !label)
        return false;
    pthread_mutex_lock(&s->peers->mu);
    const svc_peer_entry *e = find(s->peers, peer);
    const svc_peer_entry *relay = e && e->via ? find(s->peers, e->via) : NULL;
    bool ok = e && e->clearance && (!e->via || (relay && relay->clearance)) &&
              releases_to(s, label, e, relay);
    pthread_mutex_unlock(&s->peers->mu);
    return ok;
}
