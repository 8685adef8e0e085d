/* node/service_release.c — release by consensus (issue 13) on one node:
 * release requests under NATO's silence procedure, and correcting an item
 * once posted (withdraw, narrow).
 *
 * A member who may read an item proposes a wider label; the item's
 * organisation's release authorities (for alliance staff's items, those of
 * every allied organisation, one decision per organisation) concur, break
 * silence, or say nothing. The node is the only clock (svc_now_ms) and the
 * only decider: every change of a request is one transaction of the store's
 * writer that checks the state and the deadline (store_rel.h), so a break
 * and the deadline's adoption racing have one outcome. Adoption is a new
 * version of the item — a new row under the item's id, linked, the old row
 * hidden and the request adopted in that row's transaction — so it happens
 * once, whoever settles: the node's ticker, a request's route, or the start
 * after a crash. A reader who may not read the item learns nothing of its
 * requests (404 as for an unknown item). Every act and refusal is audited.
 *
 * Authorities on other nodes: for alliance staff's items, an allied peer
 * whose nation no organisation here decides for is an authority of its
 * own ("peer:NAME", its `node` the peer's); it is told by a signed notice
 * and its signed answer comes back through svc_release_act as that
 * authority, this node still the only clock (service_fed_release.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "liaison/introspect.h"
#include "server/log.h"
#include "service.h"
#include "service_fedrel.h"

#define REASON_MAX 4000

int64_t svc_now_ms(const svc *s)
{
    if (s->rel.clock_file) {
        FILE *f = fopen(s->rel.clock_file, "re");
        char buf[32] = "";
        bool got = f && fgets(buf, sizeof buf, f);
        if (f)
            fclose(f);
        char *end = NULL;
        errno = 0;
        long long v = got ? strtoll(buf, &end, 10) : 0;
        if (got && errno == 0 && end != buf && v > 0)
            return (int64_t)v;
        srv_log(SRV_LOG_ERROR, "release clock %s unreadable: using the system's",
                s->rel.clock_file);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Audit a refusal, then fill res. */
static lsn_err refuse(svc *s, const svc_actor *a, const char *action, const char *object,
                      const char *why, svc_result *res, svc_refusal kind,
                      const char *sentence)
{
    (void)svc_audit(s, a->name, action, object, "refused", why);
    return svc_refuse(res, kind, kind == SVC_FAILED ? LSN_ERR_IO : LSN_ERR_ARG, "%s",
                      sentence);
}

static void object_of(const char *kind, const uint8_t uuid[STORE_UUID_LEN], char *out,
                      size_t cap)
{
    char t[37];
    store_uuid_text(uuid, t);
    snprintf(out, cap, "%s:%s", kind, t);
}

/* ---- the item ------------------------------------------------------------ */

typedef struct current {
    int64_t row;
    int version;
    bool any;
} current;

static int current_cb(void *ctx, int64_t row, int version, const char *hidden)
{
    current *c = ctx;
    c->any = true;
    if (!hidden && version >= c->version) {
        c->row = row;
        c->version = version;
    }
    return STORE_NEXT;
}

/* The item's current version: its row and number (row 0: none served). */
static lsn_err item_current(svc *s, const uint8_t item[STORE_UUID_LEN], current *c)
{
    lsn_error err;
    *c = (current){ 0 };
    return store_item_versions(s->st, item, current_cb, c, &err);
}

/* The label stored as text (canonical JSON), through the memo. */
static lsn_err label_of_text(svc *s, const char *text, svc_label **out, svc_result *res)
{
    json_t *j = json_loads(text, 0, NULL);
    if (!j)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "A stored label cannot be read.");
    lsn_err rc = svc_label_get(s, j, out, res);
    json_decref(j);
    return rc;
}

static bool may_read(svc *s, const svc_actor *a, const svc_label *l)
{
    lsn_decision d = LSN_DENY;
    if (!a->clearance || lsn_access_check(s->set, l->label, a->clearance, &d) != LSN_OK)
        return false;
    return d == LSN_GRANT;
}

/* The item the actor acts on: its current row, whole (*it, lsn_free) and
 * label (*l, a reference); SVC_NOT_FOUND alike when there is none or the
 * actor may not read it (audited as `action` refused, "absent or not
 * visible": the audit says which for auditors). */
static lsn_err item_for(svc *s, const svc_actor *a, const char *action,
                        const uint8_t item[STORE_UUID_LEN], current *c, store_item **it,
                        svc_label **l, svc_result *res)
{
    char object[64];
    object_of("item", item, object, sizeof object);
    *it = NULL;
    *l = NULL;
    lsn_error err;
    if (item_current(s, item, c) != LSN_OK)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    /* The label alone first: deciding on an item one may not read costs the
     * same whatever its body or attachment; the item only once granted. */
    char *text = NULL;
    if (c->row && store_item_label(s->st, c->row, &text, &err) != LSN_OK)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    bool visible = false;
    svc_result lr;
    if (text && label_of_text(s, text, l, &lr) == LSN_OK)
        visible = may_read(s, a, *l);
    lsn_free(text);
    if (visible && store_item_get(s->st, c->row, it, &err) != LSN_OK) {
        svc_label_release(*l);
        *l = NULL;
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    }
    visible = visible && *it;
    if (!visible) {
        svc_label_release(*l);
        lsn_free(*it);
        *l = NULL;
        *it = NULL;
        return refuse(s, a, action, object, c->row ? "not visible" : "absent", res,
                      SVC_NOT_FOUND, "No such item.");
    }
    return LSN_OK;
}

/* ---- who may read: the audience of a label compared ---------------------- */

static bool is_type(const char *type, const char *kind)
{
    return type && strstr(type, kind) != NULL; /* "permissive", "enumeratedPermissive" */
}

static bool label_has(const lsn_label *l, long cat)
{
    for (size_t i = 0, n = lsn_label_category_count(l); i < n; i++)
        if (lsn_label_category_at(l, i) == cat)
            return true;
    return false;
}

/* Whether label l has any category of permissive tag set `tag_set_id`. */
static bool has_tag_set(const lsn_policy *p, const lsn_label *l, const char *tag_set_id)
{
    for (size_t i = 0, n = lsn_label_category_count(l); i < n; i++) {
        lsn_category_info c;
        if (lsn_policy_category_at(p, (size_t)lsn_label_category_at(l, i), &c) &&
            strcmp(c.tag_set_id, tag_set_id) == 0)
            return true;
    }
    return false;
}

typedef enum audience { WIDER, DOWNGRADE, NOT_WIDER } audience;

/* How `to` compares with `from` for who may read: WIDER (same classification,
 * no restrictive category added, every permissive value kept, something
 * more admitted), DOWNGRADE (a lower classification, categories no
 * narrower), or NOT_WIDER with why. Informative categories change no one's
 * access and are free. */
static audience compare(const lsn_label *from, const lsn_label *to, char *why, size_t cap)
{
    const lsn_policy *p = lsn_label_policy(from);
    if (lsn_label_policy(to) != p) {
        snprintf(why, cap, "The proposed label must be under the item's policy (%s).",
                 lsn_policy_name(p));
        return NOT_WIDER;
    }
    lsn_class_info cf, ct;
    if (!lsn_policy_class_at(p, (size_t)lsn_label_class_index(from), &cf) ||
        !lsn_policy_class_at(p, (size_t)lsn_label_class_index(to), &ct)) {
        snprintf(why, cap, "A label without a classification cannot be compared.");
        return NOT_WIDER;
    }
    if (ct.hierarchy > cf.hierarchy) {
        snprintf(why, cap, "A higher classification (%s) narrows the item: that is a "
                 "narrowing, by its author, not a release.", ct.name);
        return NOT_WIDER;
    }
    bool more = ct.hierarchy < cf.hierarchy;
    /* Restrictive: none added; one removed admits more. */
    for (size_t i = 0, n = lsn_label_category_count(to); i < n; i++) {
        long k = lsn_label_category_at(to, i);
        lsn_category_info c;
        if (!lsn_policy_category_at(p, (size_t)k, &c))
            continue;
        if (is_type(c.type, "estrictive") && !label_has(from, k)) {
            snprintf(why, cap, "Adding %s (%s) narrows the item.", c.name, c.tag_set);
            return NOT_WIDER;
        }
        if (is_type(c.type, "ermissive") && !label_has(from, k)) {
            /* A value added to a permissive tag set the item has admits
             * more; a permissive tag set the item did not have restricts. */
            if (!has_tag_set(p, from, c.tag_set_id)) {
                snprintf(why, cap, "Adding the tag set %s narrows the item.", c.tag_set);
                return NOT_WIDER;
            }
            more = true;
        }
    }
    for (size_t i = 0, n = lsn_label_category_count(from); i < n; i++) {
        long k = lsn_label_category_at(from, i);
        lsn_category_info c;
        if (!lsn_policy_category_at(p, (size_t)k, &c) || label_has(to, k))
            continue;
        if (is_type(c.type, "estrictive")) {
            more = true;
        } else if (is_type(c.type, "ermissive") && has_tag_set(p, to, c.tag_set_id)) {
            snprintf(why, cap, "Removing %s (%s) narrows the item.", c.name, c.tag_set);
            return NOT_WIDER;
        } else if (is_type(c.type, "ermissive")) {
            more = true; /* the whole tag set removed: no longer a condition */
        }
    }
    if (!more) {
        snprintf(why, cap, "The proposed label admits no one the item's does not.");
        return NOT_WIDER;
    }
    return ct.hierarchy < cf.hierarchy ? DOWNGRADE : WIDER;
}

/* ---- the authorities --------------------------------------------------- */

typedef struct auth_set {
    svc *s;
    const char *origin;       /* the item's organisation */
    bool alliance;            /* every allied organisation's */
    const char *home;         /* the policy's own name (NATO) */
    struct { char org[256], category[64]; } orgs[128];
    size_t norgs;
    store_release_authority a[STORE_REL_AUTH_MAX];
    char names[STORE_REL_AUTH_MAX][256], org_names[STORE_REL_AUTH_MAX][256];
    char nodes[STORE_REL_AUTH_MAX][FED_NAME_MAX + 1];
    size_t n;
} auth_set;

static int org_cb(void *ctx, const store_org *o)
{
    auth_set *x = ctx;
    if (x->norgs < sizeof x->orgs / sizeof x->orgs[0]) {
        snprintf(x->orgs[x->norgs].org, sizeof x->orgs[0].org, "%s", o->name);
        snprintf(x->orgs[x->norgs].category, sizeof x->orgs[0].category, "%s", o->category);
        x->norgs++;
    }
    return STORE_NEXT;
}

static const char *category_of(const auth_set *x, const char *org)
{
    for (size_t i = 0; i < x->norgs; i++)
        if (strcmp(x->orgs[i].org, org) == 0)
            return x->orgs[i].category;
    return NULL;
}

/* Whether a clearance (canonical JSON) holds the policy's own name among
 * its category values: cleared for the alliance's own information. */
static bool cleared_for_home(const char *clearance, const char *home)
{
    json_t *j = json_loads(clearance, 0, NULL), *cat, *v;
    size_t i, k;
    bool yes = false;
    json_array_foreach(json_object_get(j, "categories"), i, cat)
        json_array_foreach(json_object_get(cat, "values"), k, v)
            yes = yes || (json_string_value(v) && strcasecmp(json_string_value(v), home) == 0);
    json_decref(j);
    return yes;
}

static int user_cb(void *ctx, const store_user *u)
{
    auth_set *x = ctx;
    if (u->status != STORE_USER_ACTIVE || !(u->roles & STORE_ROLE_RELEASE_AUTHORITY) ||
        x->n >= STORE_REL_AUTH_MAX)
        return STORE_NEXT;
    if (x->alliance) {
        const char *cat = category_of(x, u->organisation);
        if (strcmp(u->organisation, x->origin) == 0 || !cat ||
            strcasecmp(cat, x->home) == 0 || !cleared_for_home(u->clearance, x->home))
            return STORE_NEXT;
    } else if (strcmp(u->organisation, x->origin) != 0) {
        return STORE_NEXT;
    }
    snprintf(x->names[x->n], sizeof x->names[0], "%s", u->name);
    snprintf(x->org_names[x->n], sizeof x->org_names[0], "%s", u->organisation);
    x->a[x->n] = (store_release_authority){ .user = x->names[x->n],
                                            .organisation = x->org_names[x->n] };
    x->n++;
    return STORE_NEXT;
}

/* For alliance staff's items: each allied peer (one per nation) whose
 * nation no allied organisation here decides for is an authority of its
 * own, on its node. */
static void remote_authorities(svc *s, auth_set *x)
{
    svc_fedrel_peer peers[32];
    size_t k = svc_fedrel_allied_peers(s, peers, sizeof peers / sizeof peers[0]);
    size_t local = x->n;
    for (size_t i = 0; i < k && x->n < STORE_REL_AUTH_MAX; i++) {
        bool here = false;
        for (size_t j = 0; j < local && !here; j++) {
            const char *cat = category_of(x, x->org_names[j]);
            here = cat && strcasecmp(cat, peers[i].nation) == 0;
        }
        if (here)
            continue; /* one decision per nation: taken here */
        /* A name that does not fit is no authority (never cut). */
        if (snprintf(x->names[x->n], sizeof x->names[0], SVC_FEDREL_ACTOR_PREFIX "%s",
                     peers[i].name) >= (int)sizeof x->names[0] ||
            snprintf(x->org_names[x->n], sizeof x->org_names[0], "%s", peers[i].nation) >=
                (int)sizeof x->org_names[0] ||
            snprintf(x->nodes[x->n], sizeof x->nodes[0], "%s", peers[i].name) >=
                (int)sizeof x->nodes[0])
            continue;
        x->a[x->n] = (store_release_authority){ .user = x->names[x->n],
                                                .organisation = x->org_names[x->n],
                                                .node = x->nodes[x->n] };
        x->n++;
    }
}

/* The authorities who decide on a release of item `it` (label l). */
static lsn_err authorities(svc *s, const store_item *it, const svc_label *l, auth_set *x)
{
    lsn_error err;
    const lsn_policy *own = lsn_policy_set_at(s->set, 0);
    x->s = s;
    x->origin = it->organisation;
    x->home = own ? lsn_policy_name(own) : "";
    if (store_org_list(s->st, org_cb, x, &err) != LSN_OK)
        return LSN_ERR_IO;
    const char *cat = category_of(x, it->organisation);
    x->alliance = cat && own && lsn_label_policy(l->label) == own &&
                  strcasecmp(cat, x->home) == 0;
    if (store_user_list(s->st, user_cb, x, &err) != LSN_OK)
        return LSN_ERR_IO;
    if (x->alliance)
        remote_authorities(s, x);
    return LSN_OK;
}

/* Tell the request's parties that it changed (the node's stream). */
static void changed(svc *s, const uint8_t rid[STORE_UUID_LEN], const char *event)
{
    if (s->release_changed)
        s->release_changed(s->hook_ctx, rid, event);
}

/* ---- proposing ------------------------------------------------------------ */

lsn_err svc_release_propose(svc *s, const svc_actor *a, const svc_release_proposal *p,
                            store_release **out, svc_result *res)
{
    *out = NULL;
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    char object[64];
    object_of("item", p->item, object, sizeof object);
    if (!svc_allowed(a->roles, SVC_ACT_REQUEST_RELEASE))
        return refuse(s, a, "release.request", object, "no member role", res, SVC_FORBIDDEN,
                      svc_acts[SVC_ACT_REQUEST_RELEASE].why);
    current c;
    store_item *it = NULL;
    svc_label *from = NULL, *to = NULL;
    lsn_err rc = item_for(s, a, "release.request", p->item, &c, &it, &from, res);
    if (rc != LSN_OK)
        return rc;
    auth_set *x = NULL;
    if (!p->label || !p->reason || !p->reason[0] || strlen(p->reason) > REASON_MAX) {
        rc = refuse(s, a, "release.request", object, "no label or reason", res, SVC_MALFORMED,
                    "A release request needs a label and a reason (at most 4000 bytes).");
        goto done;
    }
    if ((rc = svc_label_get(s, p->label, &to, res)) != LSN_OK) {
        svc_result why = *res;
        (void)refuse(s, a, "release.request", object, "invalid label", res, why.refusal,
                     why.reason);
        goto done;
    }
    char why[LSN_ERROR_MESSAGE_MAX];
    audience kind = compare(from->label, to->label, why, sizeof why);
    if (kind == NOT_WIDER) {
        rc = refuse(s, a, "release.request", object, "not wider", res, SVC_INVALID, why);
        goto done;
    }
    int64_t now = svc_now_ms(s);
    int64_t deadline = p->deadline_ms ? p->deadline_ms : now + s->rel.deadline_ms;
    if (deadline < now + s->rel.min_ms || deadline > now + s->rel.max_ms) {
        char sentence[200];
        snprintf(sentence, sizeof sentence,
                 "The deadline must be between %" PRId64 " and %" PRId64
                 " seconds from now.", s->rel.min_ms / 1000, s->rel.max_ms / 1000);
        rc = refuse(s, a, "release.request", object, "deadline out of bounds", res,
                    SVC_INVALID, sentence);
        goto done;
    }
    if (!(x = core_calloc(1, sizeof *x))) {
        rc = svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
        goto done;
    }
    if (authorities(s, it, from, x) != LSN_OK) {
        rc = svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
        goto done;
    }
    if (x->n == 0) {
        rc = refuse(s, a, "release.request", object, "no authority", res, SVC_INVALID,
                    "No release authority of the item's organisation is on this node to "
                    "decide.");
        goto done;
    }
    store_release r = { .item_row = c.row, .proposer = a->name,
                        .kind = kind == WIDER ? "release" : "downgrade",
                        .label = to->canon, .marking_en = to->en, .marking_fr = to->fr,
                        .reason = p->reason, .created_ms = now, .deadline_ms = deadline };
    store_uuid_new(r.rid);
    memcpy(r.item, p->item, STORE_UUID_LEN);
    lsn_error err;
    int64_t id = 0;
    if (store_release_add(s->st, &r, x->a, x->n, &id, &err) != LSN_OK ||
        store_release_get(s->st, r.rid, out, &err) != LSN_OK || !*out) {
        srv_log(SRV_LOG_ERROR, "release request: %s", err.message);
        rc = svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The request could not be stored.");
        goto done;
    }
    char robject[64], detail[600];
    object_of("release", r.rid, robject, sizeof robject);
    snprintf(detail, sizeof detail, "%s %s to %s; %zu authorities; deadline %" PRId64,
             r.kind, object, to->en, x->n, deadline);
    (void)svc_audit(s, a->name, "release.request", robject, "ok", detail);
    svc_fedrel_request_opened(s, *out, it, from->label); /* remote authorities are told */
    changed(s, r.rid, "open");
    rc = LSN_OK;
done:
    lsn_free(x);
    lsn_free(it);
    svc_label_release(from);
    svc_label_release(to);
    return rc;
}

/* ---- parties -------------------------------------------------------------- */

typedef struct party {
    const char *name;
    bool authority;
} party;

static int party_cb(void *ctx, const store_release_authority *au)
{
    party *p = ctx;
    if (strcmp(au->user, p->name) == 0)
        p->authority = true;
    return p->authority ? STORE_STOP : STORE_NEXT;
}

/* Whether the actor may see request r: its proposer, an authority of it,
 * or an auditor. */
static lsn_err may_see_request(svc *s, const svc_actor *a, const store_release *r, bool *yes)
{
    *yes = strcmp(r->proposer, a->name) == 0 || svc_allowed(a->roles, SVC_ACT_AUDIT);
    if (*yes)
        return LSN_OK;
    party p = { .name = a->name };
    lsn_error err;
    if (store_release_authorities(s->st, r->id, party_cb, &p, &err) != LSN_OK)
        return LSN_ERR_IO;
    *yes = p.authority;
    return LSN_OK;
}

/* The request for a party (see svc_release_get); its reading audited when
 * `audit` (an act audits itself instead). */
static lsn_err get_request(svc *s, const svc_actor *a, const uint8_t rid[STORE_UUID_LEN],
                           store_release **out, svc_result *res, bool audit)
{
    *out = NULL;
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    (void)svc_release_settle(s);
    lsn_error err;
    store_release *r = NULL;
    bool yes = false;
    if (store_release_get(s->st, rid, &r, &err) != LSN_OK ||
        (r && may_see_request(s, a, r, &yes) != LSN_OK)) {
        lsn_free(r);
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    }
    char object[64];
    object_of("release", rid, object, sizeof object);
    if (!r || !yes) {
        if (audit)
            (void)svc_audit(s, a->name, "release.read", object, "refused",
                            r ? "not a party" : "absent");
        lsn_free(r);
        return svc_refuse(res, SVC_NOT_FOUND, LSN_ERR_ARG, "No such release request.");
    }
    if (audit && !svc_audit(s, a->name, "release.read", object, "ok", NULL)) {
        lsn_free(r);
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The audit log failed; try again.");
    }
    *out = r;
    return LSN_OK;
}

lsn_err svc_release_get(svc *s, const svc_actor *a, const uint8_t rid[STORE_UUID_LEN],
                        store_release **out, svc_result *res)
{
    return get_request(s, a, rid, out, res, true);
}

lsn_err svc_release_list(svc *s, const svc_actor *a, const char *state, store_release_cb cb,
                         void *ctx, svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    if (state && strcmp(state, STORE_REL_OPEN) != 0 && strcmp(state, STORE_REL_ADOPTED) != 0 &&
        strcmp(state, STORE_REL_BROKEN) != 0 && strcmp(state, STORE_REL_WITHDRAWN) != 0)
        return svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG,
                          "state is open, adopted, silence-broken or withdrawn.");
    (void)svc_release_settle(s);
    lsn_error err;
    if (store_release_list(s->st, a->name, state, cb, ctx, &err) != LSN_OK)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    if (!svc_audit(s, a->name, "release.list", state ? state : "any", "ok", NULL))
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The audit log failed; try again.");
    return LSN_OK;
}

/* ---- answers and the proposer's acts ------------------------------------ */

static const char *act_name(store_rel_act_kind k)
{
    switch (k) {
    case STORE_REL_CONCUR: return "release.concur";
    case STORE_REL_BREAK: return "release.break";
    case STORE_REL_WITHDRAW: return "release.withdraw";
    case STORE_REL_EXTEND: return "release.extend";
    case STORE_REL_CLOSE: return "release.close";
    }
    return "release";
}

lsn_err svc_release_act(svc *s, const svc_actor *a, const uint8_t rid[STORE_UUID_LEN],
                        store_rel_act_kind kind, const char *reason, int64_t deadline_ms,
                        svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    const char *action = act_name(kind);
    char object[64];
    object_of("release", rid, object, sizeof object);
    bool answer = kind == STORE_REL_CONCUR || kind == STORE_REL_BREAK;
    svc_act need = answer ? SVC_ACT_DECIDE_RELEASE : SVC_ACT_REQUEST_RELEASE;
    if (kind == STORE_REL_CLOSE || !svc_allowed(a->roles, need))
        return refuse(s, a, action, object, "role", res, SVC_FORBIDDEN,
                      kind == STORE_REL_CLOSE ? "Only the node closes a request."
                                              : svc_acts[need].why);
    if (kind == STORE_REL_BREAK && (!reason || !reason[0] || strlen(reason) > REASON_MAX))
        return refuse(s, a, action, object, "no reason", res, SVC_MALFORMED,
                      "Breaking silence needs a reason (at most 4000 bytes).");
    /* What is due is settled first: an act at or after the deadline finds
     * the request adopted, or late. */
    (void)svc_release_settle(s);
    store_release *r = NULL;
    lsn_err rc = get_request(s, a, rid, &r, res, false);
    if (rc != LSN_OK) {
        if (res->refusal == SVC_NOT_FOUND)
            (void)svc_audit(s, a->name, action, object, "refused", "no such request");
        return rc;
    }
    int64_t now = svc_now_ms(s);
    store_rel_act act = { .id = r->id, .kind = kind, .actor = a->name, .now_ms = now,
                          .reason = kind == STORE_REL_BREAK ? reason : NULL,
                          .deadline_ms = deadline_ms };
    if (kind == STORE_REL_EXTEND &&
        (deadline_ms <= r->deadline_ms || deadline_ms > now + s->rel.max_ms)) {
        lsn_free(r);
        return refuse(s, a, action, object, "deadline out of bounds", res, SVC_INVALID,
                      "An extension moves the deadline later, within the node's bounds.");
    }
    lsn_free(r);
    store_rel_outcome o;
    lsn_error err;
    if (store_release_act(s->st, &act, &o, &err) != LSN_OK) {
        srv_log(SRV_LOG_ERROR, "release act: %s", err.message);
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    }
    char detail[64];
    snprintf(detail, sizeof detail, "at %" PRId64, now);
    switch (o) {
    case STORE_REL_DONE:
    case STORE_REL_SAME:
        (void)svc_audit(s, a->name, action, object, "ok",
                        o == STORE_REL_SAME ? "retried: unchanged" : detail);
        if (o == STORE_REL_DONE)
            changed(s, rid, action + strlen("release."));
        /* A concurrence may complete every organisation's. */
        if (kind == STORE_REL_CONCUR)
            (void)svc_release_settle(s);
        return LSN_OK;
    case STORE_REL_NOT_OPEN:
        return refuse(s, a, action, object, "closed", res, SVC_DUPLICATE,
                      "The request is closed.");
    case STORE_REL_LATE:
        return refuse(s, a, action, object, "after the deadline", res, SVC_DUPLICATE,
                      "The deadline has passed: the request is being adopted.");
    case STORE_REL_NOT_PARTY:
        return refuse(s, a, action, object, "not a party", res, SVC_FORBIDDEN,
                      answer ? "You are not an authority of this request."
                             : "Only the proposer may do that.");
    case STORE_REL_EXTENDED:
        return refuse(s, a, action, object, "extended before", res, SVC_DUPLICATE,
                      "The deadline was extended once already.");
    }
    return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The request failed.");
}

/* ---- versions: adoption and narrowing ---------------------------------- */

/* Append the next version of item `item` (current row c) with label l:
 * adopting request `adopts` (0: none). Blocking; LSN_ERR_DUPLICATE when
 * another version or adoption came first. */
static lsn_err append_version(svc *s, const uint8_t item[STORE_UUID_LEN], const current *c,
                              const svc_label *l, int64_t adopts, const char *actor,
                              const char *action, const char *detail, int64_t now,
                              lsn_error *err)
{
    store_item *old = NULL;
    lsn_err rc = store_item_get(s->st, c->row, &old, err);
    if (rc != LSN_OK || !old)
        return rc != LSN_OK ? rc : LSN_ERR_ARG;
    store_item v = *old;
    v.id = 0;
    v.class_id = 0;
    memset(v.content_hash, 0, sizeof v.content_hash);
    v.fed = (struct store_item_fed){ 0 };
    v.label = l->canon;
    v.marking_en = l->en;
    v.marking_fr = l->fr;
    v.classification = l->class_index;
    v.created_ms = now;
    store_uuid_new(v.uuid); /* the row's own; readers see the item's */
    v.ver = (struct store_item_ver){ .version = c->version + 1, .supersedes = c->row,
                                     .adopts = adopts };
    memcpy(v.ver.of, item, STORE_UUID_LEN);
    /* To the peers: those the new label releases to get the version, with
     * its binding signed here under the item's id and the version's
     * number; those the old one released to and the new one does not, a
     * tombstone (service_fed_version.c) — queued in this transaction. */
    int64_t *peers = NULL;
    size_t np = 0;
    char *binding = NULL;
    size_t blen = 0;
    if ((rc = svc_fed_version_outbox(s, old, l->canon, &peers, &np)) != LSN_OK ||
        (np && (rc = svc_binding_sign(s, &v, l, &binding, &blen, err)) != LSN_OK)) {
        lsn_free(peers);
        lsn_free(old);
        return rc;
    }
    v.fed = (struct store_item_fed){ .binding = binding, .binding_len = blen,
                                     .outbox = peers, .outbox_n = np };
    char object[64];
    object_of("item", item, object, sizeof object);
    store_audit_event ev = { .time_ms = now, .actor = actor, .action = action,
                             .object = object, .outcome = "ok", .detail = detail };
    int64_t id = 0;
    rc = store_item_append(s->st, &v, &ev, &id, NULL, err);
    lsn_free(peers);
    lsn_free(binding);
    lsn_free(old);
    if (rc == LSN_OK && s->appended)
        s->appended(s->hook_ctx);
    return rc;
}

/* Adopt (or close) one due request. */
static bool settle_one(svc *s, const store_release *r, int64_t now)
{
    char robject[64], detail[200];
    object_of("release", r->rid, robject, sizeof robject);
    current c;
    svc_label *l = NULL;
    svc_result lr;
    lsn_error err;
    if (item_current(s, r->item, &c) != LSN_OK)
        return false;
    if (c.row != r->item_row) {
        /* The item was withdrawn or changed since: nothing to adopt. */
        store_rel_act act = { .id = r->id, .kind = STORE_REL_CLOSE, .actor = "system",
                              .now_ms = now, .reason = "the item changed" };
        store_rel_outcome o;
        if (store_release_act(s->st, &act, &o, &err) == LSN_OK && o == STORE_REL_DONE) {
            (void)svc_audit(s, "system", "release.close", robject, "ok", "the item changed");
            changed(s, r->rid, "close");
        }
        return false;
    }
    if (label_of_text(s, r->label, &l, &lr) != LSN_OK)
        return false;
    snprintf(detail, sizeof detail, "%s version %d: %s", robject, c.version + 1, l->en);
    lsn_err rc = append_version(s, r->item, &c, l, r->id, "system", "release.adopt", detail,
                                now, &err);
    svc_label_release(l);
    if (rc != LSN_OK && rc != LSN_ERR_DUPLICATE)
        srv_log(SRV_LOG_ERROR, "adopting %s: %s", robject, err.message);
    if (rc == LSN_OK)
        changed(s, r->rid, "adopt");
    return rc == LSN_OK; /* DUPLICATE: another settler adopted it, or it closed */
}

typedef struct due_list {
    store_release *r[32];
    size_t n;
} due_list;

static int due_cb(void *ctx, const store_release *r)
{
    due_list *d = ctx;
    if (d->n >= 32)
        return STORE_STOP;
    store_release *c = core_malloc(sizeof *c + strlen(r->label) + 1);
    if (!c)
        return -1;
    *c = *r;
    c->label = memcpy(c + 1, r->label, strlen(r->label) + 1);
    c->proposer = c->kind = c->marking_en = c->marking_fr = c->reason = c->state = NULL;
    d->r[d->n++] = c;
    return STORE_NEXT;
}

size_t svc_release_settle(svc *s)
{
    size_t adopted = 0;
    for (int round = 0; round < 64; round++) {
        int64_t now = svc_now_ms(s);
        due_list d = { .n = 0 };
        lsn_error err;
        lsn_err rc = store_release_due(s->st, now, due_cb, &d, &err);
        for (size_t i = 0; i < d.n; i++) {
            if (rc == LSN_OK && settle_one(s, d.r[i], now))
                adopted++;
            lsn_free(d.r[i]);
        }
        if (rc != LSN_OK || d.n < 32)
            break;
    }
    return adopted;
}

/* ---- corrections ----------------------------------------------------------- */

lsn_err svc_item_withdraw(svc *s, const svc_actor *a, const uint8_t item[STORE_UUID_LEN],
                          svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    char object[64];
    object_of("item", item, object, sizeof object);
    if (!svc_allowed(a->roles, SVC_ACT_CORRECT))
        return refuse(s, a, "item.withdraw", object, "role", res, SVC_FORBIDDEN,
                      svc_acts[SVC_ACT_CORRECT].why);
    current c;
    store_item *it = NULL;
    svc_label *l = NULL;
    lsn_err rc = item_for(s, a, "item.withdraw", item, &c, &it, &l, res);
    if (rc != LSN_OK)
        return rc;
    bool author = strcmp(it->author, a->name) == 0;
    bool authority = (a->roles & STORE_ROLE_RELEASE_AUTHORITY) && a->organisation &&
                     strcmp(it->organisation, a->organisation) == 0;
    svc_label_release(l);
    if (!author && !authority) {
        lsn_free(it);
        return refuse(s, a, "item.withdraw", object, "not its author or authority", res,
                      SVC_FORBIDDEN,
                      "Only the item's author or a release authority of its organisation "
                      "may withdraw it.");
    }
    /* The peers its label released it to get the origin's tombstone,
     * queued in the withdrawal's transaction (service_fed_version.c). */
    int64_t *peers = NULL;
    size_t np = 0, tlen = 0;
    char *tomb = NULL;
    rc = svc_fed_withdraw_outbox(s, it, &peers, &np, &tomb, &tlen);
    lsn_free(it);
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The item could not be withdrawn.");
    lsn_error err;
    /* Its audit record in the withdrawal's transaction. */
    store_audit_event ev = { .actor = a->name, .action = "item.withdraw", .object = object,
                             .outcome = "ok",
                             .detail = author ? "by its author" : "by a release authority" };
    store_withdrawal w = { .row = c.row, .now_ms = svc_now_ms(s), .peers = peers,
                           .npeers = np, .tombstone = tomb, .tombstone_len = tlen,
                           .audit = &ev };
    rc = store_item_withdraw(s->st, &w, &err);
    lsn_free(peers);
    lsn_free(tomb);
    if (rc == LSN_OK && np && s->appended)
        s->appended(s->hook_ctx); /* wakes the senders */
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The item could not be withdrawn.");
    return LSN_OK;
}

lsn_err svc_item_narrow(svc *s, const svc_actor *a, const uint8_t item[STORE_UUID_LEN],
                        json_t *label, int *version_out, svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    char object[64];
    object_of("item", item, object, sizeof object);
    if (!svc_allowed(a->roles, SVC_ACT_CORRECT))
        return refuse(s, a, "item.narrow", object, "role", res, SVC_FORBIDDEN,
                      svc_acts[SVC_ACT_CORRECT].why);
    current c;
    store_item *it = NULL;
    svc_label *from = NULL, *to = NULL;
    lsn_err rc = item_for(s, a, "item.narrow", item, &c, &it, &from, res);
    if (rc != LSN_OK)
        return rc;
    char why[LSN_ERROR_MESSAGE_MAX];
    if (strcmp(it->author, a->name) != 0) {
        rc = refuse(s, a, "item.narrow", object, "not its author", res, SVC_FORBIDDEN,
                    "Only the item's author may narrow it.");
    } else if (!label) {
        rc = refuse(s, a, "item.narrow", object, "no label", res, SVC_MALFORMED,
                    "Narrowing needs a label.");
    } else if ((rc = svc_label_get(s, label, &to, res)) != LSN_OK) {
        svc_result w = *res;
        (void)refuse(s, a, "item.narrow", object, "invalid label", res, w.refusal, w.reason);
    } else if (!may_read(s, a, to)) {
        rc = refuse(s, a, "item.narrow", object, "beyond the author's clearance", res,
                    SVC_FORBIDDEN, "You may not label an item beyond your own clearance.");
    } else if (strcmp(to->canon, from->canon) == 0 ||
               compare(to->label, from->label, why, sizeof why) == NOT_WIDER) {
        /* Narrower: the current label, seen from the new one, is wider. */
        rc = refuse(s, a, "item.narrow", object, "not narrower", res, SVC_INVALID,
                    "The new label must admit no one the item's does not, and fewer.");
    } else {
        lsn_error err;
        char detail[200];
        snprintf(detail, sizeof detail, "version %d: %s", c.version + 1, to->en);
        rc = append_version(s, item, &c, to, 0, a->name, "item.narrow", detail,
                            svc_now_ms(s), &err);
        if (rc == LSN_ERR_DUPLICATE)
            rc = svc_refuse(res, SVC_DUPLICATE, rc, "The item changed meanwhile; try again.");
        else if (rc != LSN_OK)
            rc = svc_refuse(res, SVC_FAILED, rc, "The new version could not be stored.");
        else if (version_out)
            *version_out = c.version + 1;
    }
    lsn_free(it);
    svc_label_release(from);
    svc_label_release(to);
    return rc;
}
