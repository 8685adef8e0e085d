/* node/service_fed_release.c — release requests whose authorities are on
 * other nodes (issue 13): the signed release messages between a request's
 * originating node and its allied peers (service_fedrel.h).
 *
 * A message is a JSON object, signed by the sending node's key
 * (federation/message.h) and carried as an envelope
 * {"message": base64(the object's bytes), "signature": base64(DER)}; the
 * receiver verifies the signature with the sender's pinned certificate
 * before it parses the object. Four kinds: the origin's `notice` of a
 * request to each allied peer it names, the peer's `concur` or `break`,
 * and the origin's `outcome` once the request closed. Every message is
 * kept verbatim, once per peer, direction, request and kind
 * (store_fedrel.h): a retry is the same row, a retried answer changes
 * nothing at the origin (svc_release_act: "retried: unchanged"), so each
 * takes effect exactly once. Outgoing messages wait in the store until
 * the peer answers; the per-peer sender (fed_send.c) sends them before
 * its items (svc_fedrel_flush). The origin stays the only clock and the
 * only decider. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "core/alloc.h"
#include "federation/message.h"
#include "liaison/introspect.h"
#include "server/log.h"
#include "service_fedrel.h"
#include "store/store_fedrel.h"

#define MSG_MAX (256u << 10) /* a message: a label, a reason, perhaps a body */
#define FLUSH_MAX 16         /* messages sent per try */
#define REASON_MAX 4000

static const char *my_name(const svc *s)
{
    return s->me ? fed_identity_name(s->me) : "";
}

static void object_of(const uint8_t rid[STORE_UUID_LEN], char *out, size_t cap)
{
    char t[37];
    store_uuid_text(rid, t);
    snprintf(out, cap, "release:%s", t);
}

/* ---- the envelope --------------------------------------------------------- */

static char *b64(const void *p, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *t = core_malloc(cap);
    if (t)
        sodium_bin2base64(t, cap, p, len, sodium_base64_VARIANT_ORIGINAL);
    return t;
}

static uint8_t *unb64(const char *t, size_t *len)
{
    size_t n = t ? strlen(t) : 0, cap = n / 4 * 3 + 3;
    uint8_t *out = t ? core_malloc(cap + 1) : NULL;
    if (out && sodium_base642bin(out, cap, t, n, NULL, len, NULL,
                                 sodium_base64_VARIANT_ORIGINAL) == 0) {
        out[*len] = 0;
        return out;
    }
    lsn_free(out);
    return NULL;
}

/* The signed envelope of payload (malloc'd text, free()); NULL on failure. */
static char *seal(svc *s, json_t *payload)
{
    char *bytes = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    lsn_error err;
    char *text = NULL;
    if (bytes && fed_message_sign(s->me, bytes, strlen(bytes), &sig, &sig_len, &err) == LSN_OK) {
        char *m = b64(bytes, strlen(bytes)), *g = b64(sig, sig_len);
        json_t *env = m && g ? json_pack("{s:s, s:s}", "message", m, "signature", g) : NULL;
        text = env ? json_dumps(env, JSON_COMPACT) : NULL;
        json_decref(env);
        lsn_free(m);
        lsn_free(g);
    } else if (bytes) {
        srv_log(SRV_LOG_ERROR, "release message: %s", err.message);
    }
    lsn_free(sig);
    free(bytes);
    return text;
}

/* The payload of an envelope: verified with peer's pinned certificate when
 * `peer` is given (what was received), else as kept (already verified, or
 * made here). NULL, with why, when it is not one. */
static json_t *unseal(svc *s, const char *peer, const char *text, size_t len, char *why,
                      size_t cap)
{
    json_t *env = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    size_t mlen = 0, slen = 0;
    uint8_t *m = unb64(json_string_value(json_object_get(env, "message")), &mlen);
    uint8_t *g = unb64(json_string_value(json_object_get(env, "signature")), &slen);
    json_decref(env);
    json_t *payload = NULL;
    if (!m || !g)
        snprintf(why, cap, "not a signed release message");
    else if (peer && !svc_peer_message_verify(s, peer, m, mlen, g, slen))
        snprintf(why, cap, "the signature does not verify with %s's pinned certificate", peer);
    else if (!(payload = json_loadb((const char *)m, mlen, JSON_REJECT_DUPLICATES, NULL)) ||
             !json_is_object(payload)) {
        json_decref(payload);
        payload = NULL;
        snprintf(why, cap, "the signed message is not a JSON object");
    }
    lsn_free(m);
    lsn_free(g);
    return payload;
}

static const char *jstr(const json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

static int64_t jint(const json_t *j, const char *key)
{
    return json_integer_value(json_object_get(j, key));
}

/* Keep a message (queued when outgoing); *added when it is new. */
static lsn_err keep(svc *s, const char *peer, bool outgoing, const uint8_t rid[STORE_UUID_LEN],
                    const char *kind, const char *text, bool *added)
{
    store_fed_msg m = { .peer = peer, .outgoing = outgoing, .kind = kind, .message = text,
                        .time_ms = svc_now_ms(s) };
    memcpy(m.rid, rid, STORE_UUID_LEN);
    lsn_error err;
    lsn_err rc = store_fedrel_put(s->st, &m, added, &err);
    if (rc != LSN_OK)
        srv_log(SRV_LOG_ERROR, "release message to/from %s: %s", peer, err.message);
    return rc;
}

/* Sign payload and queue it for peer; wakes the senders. */
static lsn_err send_later(svc *s, const char *peer, const uint8_t rid[STORE_UUID_LEN],
                          const char *kind, json_t *payload, bool *added)
{
    char *text = seal(s, payload);
    if (!text)
        return LSN_ERR_NOMEM;
    lsn_err rc = keep(s, peer, true, rid, kind, text, added);
    free(text);
    if (rc == LSN_OK && *added && s->appended)
        s->appended(s->hook_ctx); /* wakes the senders */
    return rc;
}

/* ---- allied peers -------------------------------------------------------- */

static bool permissive(const char *type)
{
    return type && strstr(type, "ermissive") != NULL;
}

bool svc_fedrel_allied_nation(const lsn_policy *p, const char *nation)
{
    const char *home = p ? lsn_policy_name(p) : NULL;
    if (!home || !nation || strcasecmp(nation, home) == 0)
        return false;
    size_t top = 0;
    long best = -1;
    lsn_class_info ci;
    for (size_t i = 0; lsn_policy_class_at(p, i, &ci); i++)
        if (ci.hierarchy > best) {
            best = ci.hierarchy;
            top = i;
        }
    size_t n = lsn_policy_category_count(p);
    for (size_t i = 0; i < n; i++) {
        lsn_category_info c;
        if (!lsn_policy_category_at(p, i, &c) || !permissive(c.type) ||
            strcasecmp(c.name, nation) != 0)
            continue;
        bool holds_home = false;
        for (size_t k = 0; k < n && !holds_home; k++) {
            lsn_category_info h;
            holds_home = lsn_policy_category_at(p, k, &h) &&
                         strcmp(h.tag_set_id, c.tag_set_id) == 0 &&
                         strcasecmp(h.name, home) == 0;
        }
        if (holds_home && top < 64 && !(c.excluded_classes & (1ull << top)))
            return true;
    }
    return false;
}

typedef struct allied_ctx {
    svc *s;
    const lsn_policy *own;
    svc_fedrel_peer *out;
    size_t n, cap;
} allied_ctx;

static int allied_cb(void *ctx, const store_peer *p)
{
    allied_ctx *x = ctx;
    if (x->n >= x->cap)
        return STORE_STOP;
    if (p->via || (p->policy && strcmp(p->policy, lsn_policy_id(x->own)) != 0) ||
        !svc_fedrel_allied_nation(x->own, p->nation))
        return STORE_NEXT;
    for (size_t i = 0; i < x->n; i++)
        if (strcasecmp(x->out[i].nation, p->nation) == 0)
            return STORE_NEXT; /* one per nation: the first registered */
    snprintf(x->out[x->n].name, sizeof x->out[0].name, "%s", p->name);
    snprintf(x->out[x->n].nation, sizeof x->out[0].nation, "%s", p->nation);
    x->n++;
    return STORE_NEXT;
}

size_t svc_fedrel_allied_peers(svc *s, svc_fedrel_peer *out, size_t cap)
{
    allied_ctx x = { .s = s, .own = s->set ? lsn_policy_set_at(s->set, 0) : NULL, .out = out,
                     .cap = cap };
    lsn_error err;
    if (!x.own || !s->me || store_peer_list(s->st, allied_cb, &x, &err) != LSN_OK)
        return 0;
    return x.n;
}

/* ---- the origin: notices and outcomes ---------------------------------------- */

typedef struct remote_auths {
    char node[16][FED_NAME_MAX + 1];
    size_t n;
} remote_auths;

static int remote_auth_cb(void *ctx, const store_release_authority *a)
{
    remote_auths *r = ctx;
    if (a->node && r->n < 16)
        snprintf(r->node[r->n++], sizeof r->node[0], "%s", a->node);
    return STORE_NEXT;
}

void svc_fedrel_request_opened(svc *s, const store_release *r, const store_item *it,
                               const lsn_label *item_label)
{
    remote_auths ra = { .n = 0 };
    lsn_error err;
    if (store_release_authorities(s->st, r->id, remote_auth_cb, &ra, &err) != LSN_OK) {
        srv_log(SRV_LOG_ERROR, "release notices: %s", err.message);
        return;
    }
    char rid[37], item[37], object[64];
    store_uuid_text(r->rid, rid);
    store_uuid_text(r->item, item);
    object_of(r->rid, object, sizeof object);
    json_t *label = json_loads(r->label, 0, NULL);
    for (size_t i = 0; i < ra.n && label; i++) {
        const char *peer = ra.node[i];
        char user[FED_NAME_MAX + 8];
        snprintf(user, sizeof user, SVC_FEDREL_ACTOR_PREFIX "%s", peer);
        json_t *p = json_pack(
            "{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:O, s:s, s:s, s:s, s:I, s:I, s:s}",
            "kind", STORE_FEDREL_NOTICE, "from", my_name(s), "to", peer, "rid", rid, "item",
            "origin", my_name(s), "uuid", item, "proposer", r->proposer, "requestKind",
            r->kind, "label", label, "marking", r->marking_en, "markingFr", r->marking_fr,
            "reason", r->reason, "created", (json_int_t)r->created_ms, "deadline",
            (json_int_t)r->deadline_ms, "authority", user);
        /* The item itself only where it already goes: a peer the guard
         * releases it to would receive its body anyway. */
        if (p && it && svc_peer_releases(s, peer, item_label))
            json_object_set_new(p, "body", json_string(it->body));
        bool added = false;
        lsn_err rc = p ? send_later(s, peer, r->rid, STORE_FEDREL_NOTICE, p, &added)
                       : LSN_ERR_NOMEM;
        json_decref(p);
        char detail[FED_NAME_MAX + 64];
        snprintf(detail, sizeof detail, "notice to %s%s", peer,
                 rc != LSN_OK ? " not queued" : "");
        (void)svc_audit(s, "system", "fed.release", object, rc == LSN_OK ? "ok" : "failed",
                        detail);
    }
    json_decref(label);
}

/* ---- the transport: sending ------------------------------------------------ */

typedef struct out_msg {
    int64_t id;
    uint8_t rid[STORE_UUID_LEN];
    char kind[16];
    char *text;
} out_msg;

typedef struct out_list {
    out_msg v[FLUSH_MAX];
    size_t n;
    bool failed;
} out_list;

static int waiting_cb(void *ctx, const store_fed_msg *m)
{
    out_list *l = ctx;
    if (l->n == FLUSH_MAX)
        return STORE_STOP;
    out_msg *o = &l->v[l->n];
    o->id = m->id;
    memcpy(o->rid, m->rid, STORE_UUID_LEN);
    snprintf(o->kind, sizeof o->kind, "%s", m->kind);
    if (!(o->text = core_strdup(m->message))) {
        l->failed = true;
        return STORE_STOP;
    }
    l->n++;
    return STORE_NEXT;
}

/* The requests a peer was told of and has no outcome for yet. */
typedef struct told {
    uint8_t (*rid)[STORE_UUID_LEN];
    bool *closed;
    size_t n, cap;
    bool failed;
} told;

static int told_cb(void *ctx, const store_fed_msg *m)
{
    told *t = ctx;
    bool notice = strcmp(m->kind, STORE_FEDREL_NOTICE) == 0;
    bool outcome = strcmp(m->kind, STORE_FEDREL_OUTCOME) == 0;
    if (outcome) {
        for (size_t i = 0; i < t->n; i++)
            if (memcmp(t->rid[i], m->rid, STORE_UUID_LEN) == 0)
                t->closed[i] = true;
        return STORE_NEXT;
    }
    if (!notice)
        return STORE_NEXT;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        void *r = core_realloc(t->rid, cap * sizeof *t->rid);
        if (r)
            t->rid = r;
        void *c = r ? core_realloc(t->closed, cap * sizeof *t->closed) : NULL;
        if (c)
            t->closed = c;
        if (!r || !c) {
            t->failed = true;
            return STORE_STOP;
        }
        t->cap = cap;
    }
    memcpy(t->rid[t->n], m->rid, STORE_UUID_LEN);
    t->closed[t->n++] = false;
    return STORE_NEXT;
}

/* Queue the outcome of each request peer was told of that closed since. */
static void queue_outcomes(svc *s, const char *peer)
{
    told t = { 0 };
    lsn_error err;
    if (store_fedrel_list(s->st, peer, STORE_FEDREL_OUT, NULL, told_cb, &t, &err) == LSN_OK &&
        !t.failed) {
        for (size_t i = 0; i < t.n; i++) {
            store_release *r = NULL;
            if (t.closed[i] || store_release_get(s->st, t.rid[i], &r, &err) != LSN_OK || !r ||
                strcmp(r->state, STORE_REL_OPEN) == 0) {
                lsn_free(r);
                continue;
            }
            char rid[37];
            store_uuid_text(r->rid, rid);
            json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "kind",
                                  STORE_FEDREL_OUTCOME, "from", my_name(s), "to", peer, "rid",
                                  rid, "state", r->state, "closed", (json_int_t)r->closed_ms);
            bool added = false;
            if (p)
                (void)send_later(s, peer, r->rid, STORE_FEDREL_OUTCOME, p, &added);
            json_decref(p);
            lsn_free(r);
        }
    }
    lsn_free(t.rid);
    lsn_free(t.closed);
}

bool svc_fedrel_flush(svc *s, const char *peer, svc_fedrel_send_fn send, void *ctx, char *why,
                      size_t why_cap)
{
    if (!s->me)
        return true;
    queue_outcomes(s, peer);
    out_list l = { .n = 0 };
    lsn_error err;
    if (store_fedrel_list(s->st, peer, STORE_FEDREL_WAITING, NULL, waiting_cb, &l, &err) !=
            LSN_OK ||
        l.failed) {
        for (size_t i = 0; i < l.n; i++)
            lsn_free(l.v[i].text);
        snprintf(why, why_cap, "reading the release messages: %s",
                 l.failed ? "out of memory" : err.message);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < l.n; i++) {
        out_msg *o = &l.v[i];
        char mid[64], answer[2048] = "", rid[37], object[64];
        store_uuid_text(o->rid, rid);
        object_of(o->rid, object, sizeof object);
        snprintf(mid, sizeof mid, "%s-%s", o->kind, rid); /* a retry is the same */
        long status = 0;
        if (ok && !send(ctx, mid, o->text, &status, answer, sizeof answer, why, why_cap))
            ok = false;
        if (ok && (status == 0 || status >= 500 || status == 429)) {
            snprintf(why, why_cap, "HTTP %ld for the release message %s", status, mid);
            ok = false;
        }
        if (ok) {
            /* Answered: taken, or refused for good (a 4xx says why). */
            json_t *a = json_loads(answer, 0, NULL);
            const char *m = jstr(a, "message"); /* {"error": CODE, "message": ...} */
            char result[600];
            if (status == 200)
                snprintf(result, sizeof result, "accepted");
            else
                snprintf(result, sizeof result, "refused: %s", m ? m : "no reason given");
            json_decref(a);
            if (store_fedrel_done(s->st, o->id, svc_now_ms(s), result, &err) != LSN_OK) {
                snprintf(why, why_cap, "noting a release message: %s", err.message);
                ok = false;
            } else if (status != 200) {
                char detail[800];
                snprintf(detail, sizeof detail, "%s to %s %s", o->kind, peer, result);
                (void)svc_audit(s, "system", "fed.release", object, "refused", detail);
            } else {
                char detail[200];
                snprintf(detail, sizeof detail, "%s delivered to %s", o->kind, peer);
                (void)svc_audit(s, "system", "fed.release", object, "ok", detail);
            }
        }
        lsn_free(o->text);
    }
    return ok;
}

/* ---- the transport: receiving ---------------------------------------------- */

static lsn_err refuse_msg(svc *s, const char *peer, const char *object, const char *why,
                          svc_refusal kind, svc_result *res)
{
    char actor[FED_NAME_MAX + 8];
    snprintf(actor, sizeof actor, SVC_FEDREL_ACTOR_PREFIX "%s", peer);
    (void)svc_audit(s, actor, "fed.release", object, "refused", why);
    return svc_refuse(res, kind, LSN_ERR_ARG, "%s", why);
}

/* A notice's fields, checked before it is kept. */
static bool notice_whole(const json_t *p)
{
    json_t *item = json_object_get(p, "item");
    uint8_t u[STORE_UUID_LEN];
    return jstr(item, "origin") && jstr(item, "uuid") && store_uuid_parse(jstr(item, "uuid"), u) &&
           json_is_object(json_object_get(p, "label")) && jstr(p, "marking") &&
           jstr(p, "markingFr") && jstr(p, "reason") && jstr(p, "proposer") &&
           jstr(p, "requestKind") && jstr(p, "authority") &&
           json_is_integer(json_object_get(p, "deadline")) &&
           json_is_integer(json_object_get(p, "created"));
}

static bool noticed_by(svc *s, const uint8_t rid[STORE_UUID_LEN], const char *peer);

lsn_err svc_fedrel_receive(svc *s, const char *peer, const char *text, size_t len,
                           bool *unchanged, svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    *unchanged = false;
    char why[300] = "", object[64] = "release:?";
    if (len > MSG_MAX)
        return refuse_msg(s, peer, object, "a release message over 256 KiB", SVC_TOO_LARGE, res);
    json_t *p = unseal(s, peer, text, len, why, sizeof why);
    if (!p)
        return refuse_msg(s, peer, object, why, SVC_FORBIDDEN, res);
    const char *kind = jstr(p, "kind"), *from = jstr(p, "from"), *to = jstr(p, "to");
    uint8_t rid[STORE_UUID_LEN];
    lsn_err rc = LSN_OK;
    if (!kind || !from || !to || !jstr(p, "rid") || !store_uuid_parse(jstr(p, "rid"), rid)) {
        rc = refuse_msg(s, peer, object, "a release message needs kind, from, to and rid",
                        SVC_MALFORMED, res);
        goto done;
    }
    object_of(rid, object, sizeof object);
    /* Signed by the peer, it must also say so: a message one peer signed
     * for another, or for another node, is not taken here. */
    if (strcmp(from, peer) != 0 || strcmp(to, my_name(s)) != 0) {
        snprintf(why, sizeof why, "a message from %s to %s, sent by %s", from, to, peer);
        rc = refuse_msg(s, peer, object, why, SVC_FORBIDDEN, res);
        goto done;
    }
    bool added = false;
    if (strcmp(kind, STORE_FEDREL_CONCUR) == 0 || strcmp(kind, STORE_FEDREL_BREAK) == 0) {
        /* The origin decides, on its own clock: the answer is the remote
         * authority's act, as any authority's. */
        char name[FED_NAME_MAX + 8];
        snprintf(name, sizeof name, SVC_FEDREL_ACTOR_PREFIX "%s", peer);
        svc_actor a = { .name = name,
                        .roles = STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY };
        bool brk = strcmp(kind, STORE_FEDREL_BREAK) == 0;
        rc = svc_release_act(s, &a, rid, brk ? STORE_REL_BREAK : STORE_REL_CONCUR,
                             brk ? jstr(p, "reason") : NULL, 0, res);
        if (rc == LSN_OK) {
            (void)keep(s, peer, false, rid, kind, text, &added);
            *unchanged = !added;
            if (s->appended)
                s->appended(s->hook_ctx); /* the outcome may be due: wake the senders */
        }
        goto done;
    }
    if (strcmp(kind, STORE_FEDREL_NOTICE) == 0) {
        if (!notice_whole(p) || strcmp(jstr(json_object_get(p, "item"), "origin"), peer) != 0) {
            rc = refuse_msg(s, peer, object, "a notice needs its item (of its sender), label, "
                            "markings, reason, proposer and times", SVC_MALFORMED, res);
            goto done;
        }
    } else if (strcmp(kind, STORE_FEDREL_OUTCOME) != 0 || !jstr(p, "state")) {
        rc = refuse_msg(s, peer, object, "not a release message's kind", SVC_MALFORMED, res);
        goto done;
    } else if (!noticed_by(s, rid, peer)) {
        rc = refuse_msg(s, peer, object, "an outcome of a request it never noticed here",
                        SVC_NOT_FOUND, res);
        goto done;
    }
    if (keep(s, peer, false, rid, kind, text, &added) != LSN_OK) {
        rc = svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
        goto done;
    }
    *unchanged = !added;
    if (added) {
        char actor[FED_NAME_MAX + 8], detail[600];
        snprintf(actor, sizeof actor, SVC_FEDREL_ACTOR_PREFIX "%s", peer);
        if (strcmp(kind, STORE_FEDREL_NOTICE) == 0)
            snprintf(detail, sizeof detail, "item %s/%s to %s; deadline %" PRId64, peer,
                     jstr(json_object_get(p, "item"), "uuid"), jstr(p, "marking"),
                     (int64_t)jint(p, "deadline"));
        else
            snprintf(detail, sizeof detail, "%s", jstr(p, "state"));
        (void)svc_audit(s, actor, strcmp(kind, STORE_FEDREL_NOTICE) == 0 ? "release.notice"
                                                                          : "release.outcome",
                        object, "ok", detail);
    }
done:
    json_decref(p);
    return rc;
}

/* ---- at the peer --------------------------------------------------------- */

void svc_fedrel_remote_clear(svc_fedrel_remote *r)
{
    json_decref(r->notice);
    json_decref(r->outcome);
    json_decref(r->answer);
    memset(r, 0, sizeof *r);
}

/* Which messages a pass over a request's rows takes: its notice (from
 * whichever peer sent it first), then only its origin's outcome and this
 * node's answers to that origin — never another peer's word on it. */
typedef enum gather_pass { TAKE_NOTICE, TAKE_OUTCOME, TAKE_ANSWER } gather_pass;

typedef struct gather {
    svc *s;
    svc_fedrel_remote *r;
    gather_pass pass;
} gather;

static int gather_cb(void *ctx, const store_fed_msg *m)
{
    gather *g = ctx;
    svc_fedrel_remote *r = g->r;
    bool answer = strcmp(m->kind, STORE_FEDREL_CONCUR) == 0 ||
                  strcmp(m->kind, STORE_FEDREL_BREAK) == 0;
    bool wanted = g->pass == TAKE_NOTICE    ? !r->notice && !m->outgoing &&
                                                  strcmp(m->kind, STORE_FEDREL_NOTICE) == 0
                  : g->pass == TAKE_OUTCOME ? !r->outcome && !m->outgoing &&
                                                  strcmp(m->kind, STORE_FEDREL_OUTCOME) == 0
                                            : m->outgoing && answer;
    if (!wanted)
        return STORE_NEXT;
    char why[100];
    json_t *p = unseal(g->s, NULL, m->message, strlen(m->message), why, sizeof why);
    if (!p)
        return STORE_NEXT;
    if (g->pass == TAKE_NOTICE) {
        r->notice = p;
        snprintf(r->origin, sizeof r->origin, "%s", m->peer);
    } else if (g->pass == TAKE_OUTCOME) {
        r->outcome = p;
    } else {
        /* The latest answer is this node's (a break after a concurrence). */
        json_decref(r->answer);
        r->answer = p;
        r->answer_done_ms = m->done_ms;
        snprintf(r->delivery, sizeof r->delivery, "%s",
                 m->done_ms ? (m->result ? m->result : "") : "waiting");
    }
    return STORE_NEXT;
}

bool svc_fedrel_is_remote(svc *s, const uint8_t rid[STORE_UUID_LEN])
{
    svc_fedrel_remote r = { 0 };
    gather g = { s, &r, TAKE_NOTICE };
    lsn_error err;
    bool yes = store_fedrel_list(s->st, NULL, STORE_FEDREL_IN, rid, gather_cb, &g, &err) ==
                   LSN_OK &&
               r.notice;
    svc_fedrel_remote_clear(&r);
    return yes;
}

/* Whether rid's notice came from peer (its origin, the only one whose
 * outcome counts). */
static bool noticed_by(svc *s, const uint8_t rid[STORE_UUID_LEN], const char *peer)
{
    svc_fedrel_remote r = { 0 };
    gather g = { s, &r, TAKE_NOTICE };
    lsn_error err;
    bool yes = store_fedrel_list(s->st, NULL, STORE_FEDREL_IN, rid, gather_cb, &g, &err) ==
                   LSN_OK &&
               r.notice && strcmp(r.origin, peer) == 0;
    svc_fedrel_remote_clear(&r);
    return yes;
}

/* A release authority of this node's nation decides for it. */
static bool decides_here(const svc *s, const svc_actor *a)
{
    return s->me && (a->roles & STORE_ROLE_RELEASE_AUTHORITY) && a->org_category &&
           strcasecmp(a->org_category, fed_identity_nation(s->me)) == 0;
}

static lsn_err load_remote(svc *s, const uint8_t rid[STORE_UUID_LEN], svc_fedrel_remote *out)
{
    memset(out, 0, sizeof *out);
    gather g = { s, out, TAKE_NOTICE };
    lsn_error err;
    lsn_err rc = store_fedrel_list(s->st, NULL, STORE_FEDREL_IN, rid, gather_cb, &g, &err);
    if (rc == LSN_OK && out->notice) {
        g.pass = TAKE_OUTCOME;
        rc = store_fedrel_list(s->st, out->origin, STORE_FEDREL_IN, rid, gather_cb, &g, &err);
    }
    if (rc == LSN_OK && out->notice) {
        g.pass = TAKE_ANSWER;
        rc = store_fedrel_list(s->st, out->origin, STORE_FEDREL_OUT, rid, gather_cb, &g, &err);
    }
    if (rc != LSN_OK)
        svc_fedrel_remote_clear(out);
    return rc;
}

lsn_err svc_fedrel_remote_get(svc *s, const svc_actor *a, const uint8_t rid[STORE_UUID_LEN],
                              svc_fedrel_remote *out, svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    char object[64];
    object_of(rid, object, sizeof object);
    if (load_remote(s, rid, out) != LSN_OK)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    if (!out->notice || !(decides_here(s, a) || svc_allowed(a->roles, SVC_ACT_AUDIT))) {
        (void)svc_audit(s, a->name, "release.read", object, "refused",
                        out->notice ? "not a party" : "absent");
        svc_fedrel_remote_clear(out);
        return svc_refuse(res, SVC_NOT_FOUND, LSN_ERR_ARG, "No such release request.");
    }
    if (!svc_audit(s, a->name, "release.read", object, "ok", "a request of another node")) {
        svc_fedrel_remote_clear(out);
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The audit log failed; try again.");
    }
    return LSN_OK;
}

typedef struct rids {
    uint8_t (*v)[STORE_UUID_LEN];
    size_t n, cap;
    bool failed;
} rids;

static int notice_rid_cb(void *ctx, const store_fed_msg *m)
{
    rids *r = ctx;
    if (strcmp(m->kind, STORE_FEDREL_NOTICE) != 0)
        return STORE_NEXT;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        void *v = core_realloc(r->v, cap * sizeof *r->v);
        if (!v) {
            r->failed = true;
            return STORE_STOP;
        }
        r->v = v;
        r->cap = cap;
    }
    memcpy(r->v[r->n++], m->rid, STORE_UUID_LEN);
    return STORE_NEXT;
}

lsn_err svc_fedrel_remote_list(svc *s, const svc_actor *a, const char *state,
                               svc_fedrel_remote_cb cb, void *ctx, svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    if (!decides_here(s, a))
        return LSN_OK; /* nothing to decide on here */
    rids r = { 0 };
    lsn_error err;
    lsn_err rc = store_fedrel_list(s->st, NULL, STORE_FEDREL_IN, NULL, notice_rid_cb, &r, &err);
    if (rc != LSN_OK || r.failed) {
        lsn_free(r.v);
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    }
    /* Newest first, as the node's own requests are listed. */
    for (size_t i = r.n; i-- > 0 && rc == LSN_OK;) {
        svc_fedrel_remote v;
        if ((rc = load_remote(s, r.v[i], &v)) != LSN_OK)
            break;
        const char *st = v.outcome ? jstr(v.outcome, "state") : STORE_REL_OPEN;
        int k = STORE_NEXT;
        if (v.notice && (!state || (st && strcmp(st, state) == 0)))
            k = cb(ctx, &v);
        svc_fedrel_remote_clear(&v);
        if (k != STORE_NEXT)
            rc = k == STORE_STOP ? LSN_OK : LSN_ERR_NOMEM;
        if (k == STORE_STOP)
            break;
    }
    lsn_free(r.v);
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The requests could not be listed.");
    return LSN_OK;
}

lsn_err svc_fedrel_remote_answer(svc *s, const svc_actor *a, const uint8_t rid[STORE_UUID_LEN],
                                 store_rel_act_kind kind, const char *reason, svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    bool brk = kind == STORE_REL_BREAK;
    const char *action = brk ? "release.break" : "release.concur";
    char object[64];
    object_of(rid, object, sizeof object);
    if (kind != STORE_REL_CONCUR && !brk) {
        (void)svc_audit(s, a->name,
                        kind == STORE_REL_EXTEND ? "release.extend" : "release.withdraw",
                        object, "refused", "a request of another node");
        return svc_refuse(res, SVC_FORBIDDEN, LSN_ERR_ARG,
                          "Only the proposer, at the originating node, may do that.");
    }
    if (!svc_allowed(a->roles, SVC_ACT_DECIDE_RELEASE)) {
        (void)svc_audit(s, a->name, action, object, "refused", "role");
        return svc_refuse(res, SVC_FORBIDDEN, LSN_ERR_ARG, "%s",
                          svc_acts[SVC_ACT_DECIDE_RELEASE].why);
    }
    if (brk && (!reason || !reason[0] || strlen(reason) > REASON_MAX)) {
        (void)svc_audit(s, a->name, action, object, "refused", "no reason");
        return svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG,
                          "Breaking silence needs a reason (at most 4000 bytes).");
    }
    svc_fedrel_remote v;
    if (load_remote(s, rid, &v) != LSN_OK)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The store failed; try again.");
    lsn_err rc = LSN_OK;
    if (!v.notice || !decides_here(s, a)) {
        (void)svc_audit(s, a->name, action, object, "refused",
                        v.notice ? "not an authority" : "no such request");
        rc = svc_refuse(res, SVC_NOT_FOUND, LSN_ERR_ARG, "No such release request.");
    } else if (v.outcome) {
        (void)svc_audit(s, a->name, action, object, "refused", "closed");
        rc = svc_refuse(res, SVC_DUPLICATE, LSN_ERR_ARG, "The request is closed.");
    } else {
        char rtext[37];
        store_uuid_text(rid, rtext);
        json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "kind",
                              brk ? STORE_FEDREL_BREAK : STORE_FEDREL_CONCUR, "from",
                              my_name(s), "to", v.origin, "rid", rtext, "by", a->name, "time",
                              (json_int_t)svc_now_ms(s));
        if (p && brk)
            json_object_set_new(p, "reason", json_string(reason));
        bool added = false;
        rc = p ? send_later(s, v.origin, rid, brk ? STORE_FEDREL_BREAK : STORE_FEDREL_CONCUR, p,
                            &added)
               : LSN_ERR_NOMEM;
        json_decref(p);
        char detail[FED_NAME_MAX + 64];
        snprintf(detail, sizeof detail, "sent to %s%s", v.origin,
                 added ? "" : "; retried: unchanged");
        if (rc != LSN_OK)
            rc = svc_refuse(res, SVC_FAILED, rc, "The answer could not be stored.");
        else
            (void)svc_audit(s, a->name, action, object, "ok", detail);
    }
    svc_fedrel_remote_clear(&v);
    return rc;
}
