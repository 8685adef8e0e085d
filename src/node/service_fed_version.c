/* node/service_fed_version.c — a new version of an item, and its
 * withdrawal, carried to the peers that hold it (issues 10 and 13).
 *
 * At the origin, a version is a new row (store_rel.h) queued, in its
 * transaction, for every peer its new label releases it to and every peer
 * the old label released it to; a withdrawal queues the withdrawn row for
 * every peer its label released it to. The sender decides at sending
 * (svc_fed_tombstone_due) what an entry is: the row itself — a version
 * carries its own binding, signed by the origin with the version's number
 * — or, when the item is withdrawn or the guard no longer releases this
 * row to the peer (narrowed), a tombstone signed by the origin. So a
 * withdrawn item is never sent afterwards, and a peer no longer admitted
 * hears only that its copy is gone.
 *
 * At the receiver, only the item's origin may change it: a version or a
 * tombstone must be signed by the origin of the copy held here (verified
 * against that origin's pinned certificate; a relay forwards the origin's
 * bytes). A version older than or the same as what is held is a
 * duplicate; a newer one replaces the copy as a local version does
 * (item_versions, item_hidden), decided again by this node's guard. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "federation/binding.h"
#include "service.h"

#define PEER_ACTOR_PREFIX "peer:" /* a peer's item's author (service_peer.c) */

/* Whether this node is the origin of the item of row `it`: a peer's item
 * is authored by "peer:NAME", its organisation the origin's name. */
static bool from_peer(const store_item *it)
{
    return strncmp(it->author, PEER_ACTOR_PREFIX, strlen(PEER_ACTOR_PREFIX)) == 0;
}

/* The label stored as text (canonical JSON), through the memo. */
static svc_label *label_of(svc *s, const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    svc_label *l = NULL;
    svc_result res;
    if (j && svc_label_get(s, j, &l, &res) != LSN_OK)
        l = NULL;
    json_decref(j);
    return l;
}

static bool channel_local(svc *s, const char *channel)
{
    bool local = false;
    (void)svc_channel_lookup(s, channel, NULL, 0, &local);
    return local;
}

/* ids ∪= the peers `text` releases to (never not_a nor not_b, nor
 * through them). */
static lsn_err add_released_but(svc *s, const char *text, const char *not_a, const char *not_b,
                                int64_t **ids, size_t *n)
{
    svc_label *l = label_of(s, text);
    if (!l)
        return LSN_OK; /* a label that cannot be read releases to no one */
    int64_t *more = NULL;
    size_t m = 0;
    lsn_err rc = svc_peers_outbox(s, l->label, not_a, not_b, &more, &m);
    svc_label_release(l);
    if (rc != LSN_OK)
        return rc;
    if (m && !*ids) {
        *ids = more;
        *n = m;
        return LSN_OK;
    }
    if (m) {
        int64_t *u = core_realloc(*ids, (*n + m) * sizeof *u);
        if (!u) {
            lsn_free(more);
            return LSN_ERR_NOMEM;
        }
        *ids = u;
        for (size_t i = 0; i < m; i++) {
            bool have = false;
            for (size_t k = 0; k < *n && !have; k++)
                have = u[k] == more[i];
            if (!have)
                u[(*n)++] = more[i];
        }
    }
    lsn_free(more);
    return LSN_OK;
}

static lsn_err add_released(svc *s, const char *text, int64_t **ids, size_t *n)
{
    return add_released_but(s, text, NULL, NULL, ids, n);
}

/* The tombstone of row `it` (its item's public id and version), signed by
 * this node, its origin. */
static lsn_err sign_tombstone(svc *s, const store_item *it, const char *why, char **out,
                              size_t *len, lsn_error *err)
{
    svc_label *l = label_of(s, it->label);
    if (!l)
        return core_fail(err, LSN_ERR_LABEL, "a stored label cannot be read");
    char uuid[37];
    store_uuid_text(it->uuid, uuid);
    fed_content c = {.body = it->body, .body_len = strlen(it->body),
                     .has_attachment = it->media_type != NULL, .media_type = it->media_type,
                     .attachment = it->attachment, .attachment_len = it->attachment_len};
    lsn_err rc = fed_binding_sign_version(s->me, uuid, it->channel, it->ver.version > 1 ? it->ver.version : 1,
                                          why, l->xml4774, l->xml4774_len, &c, 0, out, len,
                                          err);
    svc_label_release(l);
    return rc;
}

lsn_err svc_fed_version_outbox(svc *s, const store_item *old, const char *to_canon,
                               int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (!s->me || !s->peers || from_peer(old) || channel_local(s, old->channel))
        return LSN_OK;
    lsn_err rc = add_released(s, to_canon, ids, n);
    if (rc == LSN_OK)
        rc = add_released(s, old->label, ids, n);
    if (rc != LSN_OK) {
        lsn_free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

lsn_err svc_fed_withdraw_outbox(svc *s, const store_item *it, int64_t **ids, size_t *n,
                                char **tombstone, size_t *len)
{
    *ids = NULL;
    *n = 0;
    *tombstone = NULL;
    *len = 0;
    if (!s->me || !s->peers || from_peer(it) || channel_local(s, it->channel))
        return LSN_OK;
    lsn_err rc = add_released(s, it->label, ids, n);
    lsn_error err;
    if (rc == LSN_OK && *n)
        rc = sign_tombstone(s, it, FED_TOMBSTONE_WITHDRAWN, tombstone, len, &err);
    if (rc != LSN_OK) {
        lsn_free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- the sender -------------------------------------------------------- */

typedef struct state {
    bool withdrawn;
    int64_t withdrawn_row;
    int64_t current; /* the row served (0: none) */
    int top;         /* the highest version held, hidden or not */
    int current_version;
} state;

static int state_cb(void *ctx, int64_t row, int version, const char *hidden)
{
    state *st = ctx;
    if (hidden && strcmp(hidden, "withdrawn") == 0) {
        st->withdrawn = true;
        st->withdrawn_row = row;
    }
    if (!hidden && version >= st->current_version) {
        st->current = row;
        st->current_version = version;
    }
    if (version > st->top)
        st->top = version;
    return STORE_NEXT;
}

static bool releases_to(svc *s, const char *peer, const char *label)
{
    int64_t id = 0;
    uint64_t received;
    if (!svc_peer_lookup(s, peer, &id, &received))
        return false;
    svc_label *l = label_of(s, label);
    int64_t *ids = NULL;
    size_t n = 0;
    bool yes = false;
    if (l && svc_peers_outbox(s, l->label, NULL, NULL, &ids, &n) == LSN_OK)
        for (size_t i = 0; i < n && !yes; i++)
            yes = ids[i] == id;
    lsn_free(ids);
    svc_label_release(l);
    return yes;
}

lsn_err svc_fed_tombstone_due(svc *s, const char *peer, const store_item *it,
                              const char **why, char **out, size_t *len, lsn_error *err)
{
    *why = NULL;
    *out = NULL;
    *len = 0;
    state st = {0};
    lsn_err rc = store_item_versions(s->st, it->uuid, state_cb, &st, err);
    if (rc != LSN_OK)
        return rc;
    if (st.withdrawn)
        *why = FED_TOMBSTONE_WITHDRAWN;
    else if (!releases_to(s, peer, it->label))
        *why = FED_TOMBSTONE_NOT_RELEASED; /* narrowed: the peer is no longer admitted */
    else
        return LSN_OK;
    /* The origin's tombstone kept with the withdrawal: the same bytes to
     * every peer, and the only one a relay can forward. */
    if (st.withdrawn && (rc = store_item_tombstone(s->st, st.withdrawn_row, out, len, err)) !=
                            LSN_OK)
        return rc;
    if (*out || !s->me || from_peer(it))
        return LSN_OK; /* only the origin signs for its item */
    return sign_tombstone(s, it, *why, out, len, err);
}

/* ---- the receiver -------------------------------------------------------- */

static lsn_err refused(svc *s, const char *peer, const char *object, const char *why,
                       svc_result *res, svc_refusal kind, const char *sentence)
{
    char actor[300];
    snprintf(actor, sizeof actor, PEER_ACTOR_PREFIX "%s", peer);
    (void)svc_audit(s, actor, "fed.receive", object, "refused", why);
    return svc_refuse(res, kind, LSN_ERR_ARG, "%s", sentence);
}

/* The origin of the copy held at row `row`: a peer's item names it as its
 * organisation; an item of this node's is this node's. */
static lsn_err held_origin(svc *s, int64_t row, char *out, size_t cap)
{
    store_item *it = NULL;
    lsn_error err;
    lsn_err rc = store_item_get(s->st, row, &it, &err);
    if (rc != LSN_OK)
        return rc;
    if (!it)
        return LSN_ERR_NO_DATA; /* withheld (it fails its seal): no change is taken for it */
    snprintf(out, cap, "%s", from_peer(it) ? it->organisation : fed_identity_name(s->me));
    lsn_free(it);
    return LSN_OK;
}

typedef struct any_row {
    int64_t row;
} any_row;

static int any_cb(void *ctx, int64_t row, int version, const char *hidden)
{
    (void)version, (void)hidden;
    ((any_row *)ctx)->row = row;
    return STORE_STOP;
}

lsn_err svc_fed_later_check(svc *s, const char *peer, const svc_peer_item *in,
                            const struct fed_binding *b, struct store_item_ver *ver,
                            bool *done, bool *duplicate, svc_result *res)
{
    *done = false;
    *duplicate = false;
    memset(ver, 0, sizeof *ver);
    char object[64];
    snprintf(object, sizeof object, "item:%s", b->uuid);
    int signed_kind = b->tombstone[0] ? SVC_FED_TOMBSTONE
                      : b->version > 1 ? SVC_FED_VERSION
                                       : SVC_FED_ITEM;
    if (in->kind != signed_kind)
        return refused(s, peer, object, "the entry's kind is not its signed binding's", res,
                       SVC_INVALID, "The entry's kind does not match its binding.");
    uint8_t uuid[STORE_UUID_LEN];
    if (!store_uuid_parse(b->uuid, uuid))
        return refused(s, peer, object, "not a UUID", res, SVC_INVALID, "Not an item id.");
    state st = {0};
    any_row any = {0};
    lsn_error err;
    if (store_item_versions(s->st, uuid, state_cb, &st, &err) != LSN_OK ||
        store_item_versions(s->st, uuid, any_cb, &any, &err) != LSN_OK)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    /* Only the origin of the copy held here may change it: a peer (or a
     * relay) that signs a version or a tombstone of another origin's item
     * with its own key is refused. */
    if (any.row) {
        char origin[FED_NAME_MAX + 1];
        lsn_err rc = held_origin(s, any.row, origin, sizeof origin);
        if (rc == LSN_ERR_NO_DATA)
            return refused(s, peer, object, "the copy held fails its seal", res, SVC_FORBIDDEN,
                           "The item held here cannot be changed.");
        if (rc != LSN_OK)
            return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
        if (strcmp(origin, b->origin) != 0) {
            char why[2 * FED_NAME_MAX + 96];
            snprintf(why, sizeof why, "%s of an item of %s signed by %s, not its origin",
                     b->tombstone[0] ? "a tombstone" : "a version", origin, b->origin);
            return refused(s, peer, object, why, res, SVC_FORBIDDEN,
                           "Only an item's origin may change it.");
        }
    }
    if (signed_kind == SVC_FED_TOMBSTONE) {
        /* Nothing held, hidden already, or a tombstone of a version older
         * than the one held (it was sent again, or overtaken): nothing to
         * do, answered as a duplicate. */
        if (!st.current || st.current_version > b->version) {
            *duplicate = true;
            return LSN_OK;
        }
        /* A relay: the peers this node released its copy to (never back
         * to the sender or the origin) get the origin's tombstone, its
         * bytes kept and queued with the withdrawal. */
        int64_t *fwd = NULL;
        size_t nf = 0;
        char *held = NULL;
        lsn_err rc = store_item_label(s->st, st.current, &held, &err);
        if (rc == LSN_OK && held)
            rc = add_released_but(s, held, peer, b->origin, &fwd, &nf);
        lsn_free(held);
        /* Its audit record in the same transaction: a crash never leaves
         * the copy hidden and the withdrawal unaudited. */
        char actor[300], detail[FED_NAME_MAX + 96];
        snprintf(actor, sizeof actor, PEER_ACTOR_PREFIX "%s", peer);
        snprintf(detail, sizeof detail, "%s by its origin %s (version %d)",
                 strcmp(b->tombstone, FED_TOMBSTONE_WITHDRAWN) == 0
                     ? "withdrawn"
                     : "no longer released to this node",
                 b->origin, b->version);
        store_audit_event ev = { .actor = actor, .action = "item.withdraw", .object = object,
                                 .outcome = "ok", .detail = detail };
        store_withdrawal w = { .row = st.current, .now_ms = svc_now_ms(s), .peers = fwd,
                               .npeers = nf, .tombstone = in->binding,
                               .tombstone_len = in->binding_len, .audit = &ev };
        if (rc == LSN_OK)
            rc = store_item_withdraw(s->st, &w, &err);
        lsn_free(fwd);
        if (rc == LSN_OK && nf && s->appended)
            s->appended(s->hook_ctx); /* wakes the senders */
        if (rc == LSN_ERR_DUPLICATE) {
            *duplicate = true;
            return LSN_OK;
        }
        if (rc != LSN_OK)
            return svc_refuse(res, SVC_FAILED, rc, "The store failed; try again.");
        *done = true;
        return LSN_OK;
    }
    if (signed_kind == SVC_FED_VERSION) {
        if (st.top >= b->version) {
            *duplicate = true; /* older, or the same: the latest held stays */
            return LSN_OK;
        }
        *ver = (struct store_item_ver){.version = b->version, .supersedes = st.current};
        memcpy(ver->of, uuid, STORE_UUID_LEN);
    }
    return LSN_OK;
}

void svc_fed_version_refused(svc *s, const char *peer, const struct store_item_ver *ver,
                             const char *origin)
{
    if (!ver->supersedes)
        return;
    char actor[300], object[64], uuid[37], detail[FED_NAME_MAX + 96];
    store_uuid_text(ver->of, uuid);
    snprintf(actor, sizeof actor, PEER_ACTOR_PREFIX "%s", peer);
    snprintf(object, sizeof object, "item:%s", uuid);
    snprintf(detail, sizeof detail, "its origin %s made version %d, not releasable here",
             origin, ver->version);
    store_audit_event ev = { .actor = actor, .action = "item.withdraw", .object = object,
                             .outcome = "ok", .detail = detail };
    store_withdrawal w = { .row = ver->supersedes, .now_ms = svc_now_ms(s), .audit = &ev };
    lsn_error err;
    (void)store_item_withdraw(s->st, &w, &err);
}
