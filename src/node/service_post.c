/* node/service_post.c — the acceptance of an item: THE one place that
 * decides whether a post goes in.
 *
 * In order: the actor may post (its role), the channel exists, the body is
 * within the limit and holds no NUL, the label is valid (service_label.c,
 * which remembers labels posted before), the label is within the actor's
 * own clearance, and the label releases the item to no nation but the
 * actor's own and the policy's community unless the actor is a release
 * authority (service_roles.c; a label under a national policy is judged
 * as its equivalent under the node's own). Every refusal is audited here.
 * Then the guard names the peers the item goes to (service_peer.c) and,
 * when there is one, this node signs the item's STANAG 4778 binding; an
 * item that goes to no peer is signed only when its binding is first asked
 * for (service_binding.c), which keeps signing off the post path of a node
 * without peers. The item is appended with its binding (if any), its
 * outbox entries and its post record in one transaction — blocking
 * (svc_post_commit: the demo loader) or not (svc_post_commit_async: the
 * node's POST, whose answer waits for the group commit without holding a
 * thread). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "service.h"
#include "server/log.h"


struct svc_pending {
    svc *s;
    svc_label *label;   /* a reference */
    char *binding;      /* the binding this node signed (owned); NULL: none, or
                           the post's own (borrowed) */
    int64_t *outbox;    /* the peers the guard releases the item to (owned) */
    char *names;        /* svc_pending_keep_names' copies (owned) */
    char *detail;       /* the post record's detail with the guard's decision (owned) */
    store_item item;    /* borrows the post's strings */
    store_audit_event post;
    svc_post_done done; /* the asynchronous caller's */
    void *ctx;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Audit a refused post, then fill res. */
static lsn_err refuse(svc *s, const svc_actor *a, const svc_post *p, const char *why,
                      svc_result *res, svc_refusal kind, lsn_err rc, const char *sentence)
{
    char object[300];
    snprintf(object, sizeof object, "channel:%s", p->channel ? p->channel : "");
    (void)svc_audit_or_note(s, p->defer, a->name, "post", object, "refused", why);
    return svc_refuse(res, kind, rc, "%s", sentence);
}

/* The item's STANAG 4778 binding: a peer's, verified by the caller and
 * kept verbatim; or, for an item the guard sends to a peer, signed here by
 * this node (its origin) so that it leaves with its binding; else none yet
 * (made when first asked for: svc_item_binding). Signing is the dearest
 * step of a post (~1.5 M instructions, docs/PERFORMANCE.md): it runs on
 * the poster's thread — the server's pool, one thread a core — not on the
 * store's single writer. */
static lsn_err bind_item(svc *s, const svc_post *p, svc_pending *pd, svc_result *res)
{
    if (p->binding) {
        pd->item.fed.binding = p->binding;
        pd->item.fed.binding_len = p->binding_len;
        return LSN_OK;
    }
    if (!s->me || !pd->item.fed.outbox_n)
        return LSN_OK;
    lsn_error err;
    size_t len = 0;
    lsn_err rc = svc_binding_sign(s, &pd->item, pd->label, &pd->binding, &len, &err);
    if (rc != LSN_OK) {
        srv_log(SRV_LOG_ERROR, "post: signing the binding: %s", err.message);
        return svc_refuse(res, SVC_FAILED, rc, "The item could not be signed.");
    }
    pd->item.fed.binding = pd->binding;
    pd->item.fed.binding_len = len;
    return LSN_OK;
}


/* The release rule is the node's community's: a label under another
 * policy of the set (a national policy) is judged as its equivalent under
 * the node's own policy, the label every reader of the node is decided on.
 * One that has no equivalent counts as releasing beyond the author's
 * nation (it could not have passed the clearance check anyway: clearances
 * are under the node's policy). */
static size_t release_foreign(svc *s, const svc_actor *a, const lsn_label *l, char *out,
                              size_t cap)
{
    const lsn_policy *own = lsn_policy_set_at(s->set, 0);
    if (!own || lsn_label_policy(l) == own)
        return svc_release_foreign(a, l, out, cap);
    lsn_label *t = NULL;
    lsn_error err;
    if (lsn_label_translate(l, s->set, lsn_policy_id(own), &t, &err) != LSN_OK) {
        snprintf(out, cap, "a policy with no equivalent under %s", lsn_policy_name(own));
        return 1;
    }
    size_t n = svc_release_foreign(a, t, out, cap);
    lsn_label_free(t);
    return n;
}

lsn_err svc_post_accept(svc *s, const svc_actor *a, const svc_post *p, svc_pending **out,
                        svc_result *res)
{
    *out = NULL;
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    if (!svc_allowed(a->roles, SVC_ACT_POST))
        return refuse(s, a, p, "no member role", res, SVC_FORBIDDEN, LSN_ERR_ARG,
                      svc_acts[SVC_ACT_POST].why);
    bool local = false;
    int known = p->channel ? svc_channel_lookup(s, p->channel, NULL, 0, &local) : 0;
    if (known < 0)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    if (!known) /* not audited: a guessed name is not an act on anything */
        return svc_refuse(res, SVC_NOT_FOUND, LSN_ERR_ARG, "No such channel.");
    /* A channel kept local here takes nothing from a peer, even though a
     * channel of that name is shared on the peer's node. */
    if (local && p->from_peer)
        return refuse(s, a, p, "channel kept local", res, SVC_FORBIDDEN, LSN_ERR_ARG,
                      "This channel is kept local on this node.");
    if (!p->label || !p->body)
        return refuse(s, a, p, "missing label or body", res, SVC_MALFORMED,
                      LSN_ERR_ARG, "A post needs a label and a body.");
    if (strlen(p->body) != p->body_len)
        return refuse(s, a, p, "NUL in body", res, SVC_MALFORMED, LSN_ERR_ARG,
                      "The body holds a NUL character.");
    if (p->body_len > s->body_limit)
        return refuse(s, a, p, "body too large", res, SVC_TOO_LARGE, LSN_ERR_LIMIT,
                      "The body is too large.");
    if ((p->attachment_name && !p->media_type) || !store_attachment_name_ok(p->attachment_name))
        return refuse(s, a, p, "bad attachment file name", res, SVC_MALFORMED,
                      LSN_ERR_ARG,
                      "An attachment's file name is 1 to 255 bytes of UTF-8 without '/', '\\' "
                      "or a control character, and not '.' or '..'.");

    svc_label *l = NULL;
    lsn_err rc = svc_label_get(s, p->label, &l, res);
    if (rc != LSN_OK) {
        svc_result why = *res; /* refuse() rewrites res */
        (void)refuse(s, a, p, "invalid label", res, why.refusal, rc, why.reason);
        return rc;
    }
    lsn_decision d = LSN_DENY;
    if (!a->clearance || lsn_access_check(s->set, l->label, a->clearance, &d) != LSN_OK)
        d = LSN_DENY;
    if (s->decided)
        s->decided(s->hook_ctx, d == LSN_GRANT);
    if (d != LSN_GRANT) {
        svc_label_release(l);
        return refuse(s, a, p, "label beyond the author's clearance", res,
                      SVC_FORBIDDEN, LSN_ERR_ARG,
                      "You may not post an item labelled beyond your own clearance.");
    }
    if (!svc_allowed(a->roles, SVC_ACT_RELEASE)) {
        char foreign[256];
        if (release_foreign(s, a, l->label, foreign, sizeof foreign) > 0) {
            char why[400], sentence[LSN_ERROR_MESSAGE_MAX];
            const lsn_policy *pol = lsn_policy_set_at(s->set, 0);
            snprintf(why, sizeof why, "release to %s without the release authority role",
                     foreign);
            snprintf(sentence, sizeof sentence,
                     "Releasing an item to %s needs the release authority role; without it "
                     "you may release to your own nation (%s) and %s only.",
                     foreign, a->org_category ? a->org_category : "none",
                     pol ? lsn_policy_name(pol) : "the policy's community");
            svc_label_release(l);
            return refuse(s, a, p, why, res, SVC_FORBIDDEN, LSN_ERR_ARG, sentence);
        }
    }

    svc_pending *pd = core_calloc(1, sizeof *pd);
    if (!pd) {
        svc_label_release(l);
        return svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
    }
    pd->s = s;
    pd->label = l;
    pd->item = (store_item){
        .channel = p->channel, .author = a->name, .organisation = a->organisation,
        .label = l->canon, .marking_en = l->en, .marking_fr = l->fr,
        .classification = l->class_index, .body = p->body, .media_type = p->media_type,
        .attachment = p->attachment, .attachment_len = p->attachment_len,
        .attachment_name = p->attachment_name,
        .created_ms = p->created_ms ? p->created_ms : now_ms(),
    };
    /* The public id is chosen here, not by the store, so that the answer
     * can name the item before it is durable. */
    if (p->uuid)
        memcpy(pd->item.uuid, p->uuid, STORE_UUID_LEN);
    else
        store_uuid_new(pd->item.uuid);
    pd->post = (store_audit_event){.time_ms = pd->item.created_ms, .actor = a->name,
                                   .action = "post", .outcome = "ok",
                                   .detail = p->audit_detail ? p->audit_detail : p->channel};
    /* The guard: one outbox entry per peer the label releases the item to,
     * written with the item in its transaction. A peer's item is relayed
     * the same way (this node holds it, so its guard decides), the same
     * signed bytes, never back to its sender or its origin. An item of a
     * channel kept local goes to no peer. */
    if (!local && svc_peers_outbox(s, l->label, p->from_peer, p->origin, &pd->outbox,
                                   &pd->item.fed.outbox_n) != LSN_OK) {
        svc_pending_free(pd);
        return svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
    }
    pd->item.fed.outbox = pd->outbox;
    /* Every release and every withholding is in the audit: the post
     * record names the peers the guard released the item to and those it
     * withheld it from. */
    char note[2100];
    if (svc_peers_release_note(s, pd->outbox, pd->item.fed.outbox_n, note, sizeof note)) {
        size_t len = strlen(pd->post.detail) + strlen(note) + 3;
        if (!(pd->detail = core_malloc(len))) {
            svc_pending_free(pd);
            return svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
        }
        snprintf(pd->detail, len, "%s; %s", pd->post.detail, note);
        pd->post.detail = pd->detail;
    }
    if ((rc = bind_item(s, p, pd, res)) != LSN_OK) {
        svc_pending_free(pd);
        return rc;
    }
    *out = pd;
    return LSN_OK;
}

lsn_err svc_pending_keep_names(svc_pending *pd)
{
    const char *author = pd->item.author, *org = pd->item.organisation,
               *detail = pd->post.detail ? pd->post.detail : "";
    size_t la = strlen(author) + 1, lo = strlen(org) + 1, ld = strlen(detail) + 1;
    char *m = core_malloc(la + lo + ld);
    if (!m)
        return LSN_ERR_NOMEM;
    memcpy(m, author, la);
    memcpy(m + la, org, lo);
    memcpy(m + la + lo, detail, ld);
    pd->names = m;
    pd->item.author = pd->post.actor = m;
    pd->item.organisation = m + la;
    pd->post.detail = m + la + lo;
    return LSN_OK;
}

const svc_label *svc_pending_label(const svc_pending *pd)
{
    return pd->label;
}

void svc_pending_uuid(const svc_pending *pd, char out[37])
{
    store_uuid_text(pd->item.uuid, out);
}

void svc_pending_free(svc_pending *pd)
{
    if (!pd)
        return;
    svc_label_release(pd->label);
    lsn_free(pd->binding);
    lsn_free(pd->outbox);
    lsn_free(pd->names);
    lsn_free(pd->detail);
    lsn_free(pd);
}

/* What a failed append means for the author. */
static void append_failed(lsn_err rc, const lsn_error *err, svc_result *res)
{
    srv_log(SRV_LOG_ERROR, "post: %s", err ? err->message : "the store failed");
    if (rc == LSN_ERR_LIMIT)
        svc_refuse(res, SVC_TOO_LARGE, rc, "The item is too large.");
    else
        svc_refuse(res, SVC_FAILED, rc, "The item could not be stored.");
}

lsn_err svc_post_commit(svc *s, svc_pending *pd, int64_t *id_out,
                        uint8_t hash_out[STORE_HASH_LEN], svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    lsn_error err;
    int64_t id = 0;
    lsn_err rc = store_item_append(s->st, &pd->item, &pd->post, &id, hash_out, &err);
    svc_pending_free(pd);
    if (rc != LSN_OK) {
        append_failed(rc, &err, res);
        return rc;
    }
    if (id_out)
        *id_out = id;
    if (s->appended)
        s->appended(s->hook_ctx);
    return LSN_OK;
}

/* The store's completion, on its writer thread. */
static void async_done(void *ctx, lsn_err rc, int64_t id, const uint8_t hash[STORE_HASH_LEN],
                       uint64_t seq, const lsn_error *err)
{
    (void)seq;
    svc_pending *pd = ctx;
    svc_result res = {.refusal = SVC_DONE};
    if (rc == LSN_OK) {
        if (pd->s->appended)
            pd->s->appended(pd->s->hook_ctx);
    } else {
        append_failed(rc, err, &res);
    }
    pd->done(pd->ctx, rc, id, hash, &res);
    svc_pending_free(pd);
}

void svc_post_commit_async(svc *s, svc_pending *pd, svc_post_done done, void *ctx)
{
    pd->done = done;
    pd->ctx = ctx;
    lsn_error err;
    lsn_err rc = store_item_append_async(s->st, &pd->item, &pd->post, async_done, pd, &err);
    if (rc != LSN_OK) /* refused before queueing: async_done was not called */
        async_done(pd, rc, 0, NULL, 0, &err);
}

lsn_err svc_post_commit_batch(svc *s, svc_pending **pds, size_t n,
                              const svc_audit_note *const *notes, size_t nnotes, int64_t peer,
                              uint64_t seq, int64_t *ids, svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    const store_item **items = n ? core_calloc(n, sizeof *items) : NULL;
    store_audit_event **posts = n ? core_calloc(n, sizeof *posts) : NULL;
    store_audit_event *evs = nnotes ? core_calloc(nnotes, sizeof *evs) : NULL;
    store_audit_event **refusals = nnotes ? core_calloc(nnotes, sizeof *refusals) : NULL;
    lsn_err rc = LSN_ERR_NOMEM;
    lsn_error err = {0};
    if ((!n || (items && posts)) && (!nnotes || (evs && refusals))) {
        for (size_t i = 0; i < n; i++) {
            items[i] = &pds[i]->item;
            posts[i] = &pds[i]->post;
        }
        for (size_t i = 0; i < nnotes; i++) {
            evs[i] = svc_audit_note_event(notes[i]);
            refusals[i] = &evs[i];
        }
        rc = store_fed_receive(s->st, peer, seq, items, posts, n, refusals, nnotes, ids, &err);
    }
    lsn_free(items);
    lsn_free(posts);
    lsn_free(evs);
    lsn_free(refusals);
    for (size_t i = 0; i < n; i++)
        svc_pending_free(pds[i]);
    if (rc != LSN_OK) {
        append_failed(rc, &err, res);
        return rc;
    }
    if (n && s->appended)
        s->appended(s->hook_ctx); /* the stream: after the commit, once */
    return LSN_OK;
}

lsn_err svc_post_now(svc *s, const svc_actor *a, const svc_post *p, int64_t *id_out,
                     svc_result *res)
{
    svc_pending *pd = NULL;
    lsn_err rc = svc_post_accept(s, a, p, &pd, res);
    return rc != LSN_OK ? rc : svc_post_commit(s, pd, id_out, NULL, res);
}
