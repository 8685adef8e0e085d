/* store/migrate_rel.c — release requests copied (migrate_internal.h).
 *
 * The interface writes a request only as it lives: added open, then acts,
 * then adoption with its version's row. So a request is copied by living
 * it again in the target: added with its authorities (at its creation
 * time), each event of its history acted at its own time by its own actor
 * (the store checks state and deadline against the time given, as it did
 * the first time), its adoption made by the append of the version that
 * adopted it (migrate_rows.c). Afterwards each request is compared with
 * the source's, field by field, every answer and every event: the copy
 * is refused unless it is the same request. */
#include "store/migrate_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

/* ---- reading ------------------------------------------------------------ */

static int req_cb(void *ctx, const store_release *r)
{
    mig *m = ctx;
    if (!mig_grow((void **)&m->reqs, &m->capreqs, m->nreqs, sizeof *m->reqs))
        return -1;
    /* a copy of one allocation: get returns one */
    store_release *one = NULL;
    lsn_err e = store_release_get(m->from, r->rid, &one, m->err);
    if (e || !one) {
        lsn_free(one);
        return mig_fail(m, e ? e : core_fail(m->err, LSN_ERR_IO, "a request vanished"));
    }
    m->reqs[m->nreqs++] = (mig_req){ one, 0 };
    return STORE_NEXT;
}

static int cmp_req(const void *a, const void *b)
{
    const mig_req *x = a, *y = b;
    return (x->r->id > y->r->id) - (x->r->id < y->r->id);
}

lsn_err mig_requests_read(mig *m)
{
    lsn_err e = store_release_list(m->from, NULL, NULL, req_cb, m, m->err);
    if (!e)
        e = m->e;
    if (!e && m->nreqs)
        qsort(m->reqs, m->nreqs, sizeof *m->reqs, cmp_req);
    return e;
}

void mig_requests_free(mig *m)
{
    for (size_t i = 0; i < m->nreqs; i++)
        lsn_free(m->reqs[i].r);
    lsn_free(m->reqs);
}

/* A request's authorities or history, copied into arrays of their own. */
typedef struct lists {
    store_release_authority a[STORE_REL_AUTH_MAX];
    size_t na;
    store_release_event *ev;
    size_t nev, capev;
    bool nomem;
} lists;

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *c = core_malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

static int auth_cb(void *ctx, const store_release_authority *a)
{
    lists *l = ctx;
    if (l->na == STORE_REL_AUTH_MAX)
        return STORE_STOP;
    store_release_authority *c = &l->a[l->na++];
    c->user = dup_or_null(a->user);
    c->organisation = dup_or_null(a->organisation);
    c->node = dup_or_null(a->node);
    c->answer = dup_or_null(a->answer);
    c->answered_ms = a->answered_ms;
    c->reason = dup_or_null(a->reason);
    if (!c->user || !c->organisation || !c->answer || (a->node && !c->node) ||
        (a->reason && !c->reason))
        l->nomem = true;
    return STORE_NEXT;
}

static int event_cb(void *ctx, const store_release_event *ev)
{
    lists *l = ctx;
    if (!mig_grow((void **)&l->ev, &l->capev, l->nev, sizeof *l->ev)) {
        l->nomem = true;
        return -1;
    }
    store_release_event *c = &l->ev[l->nev++];
    c->time_ms = ev->time_ms;
    c->actor = dup_or_null(ev->actor);
    c->event = dup_or_null(ev->event);
    c->detail = dup_or_null(ev->detail);
    if (!c->actor || !c->event || !c->detail)
        l->nomem = true;
    return STORE_NEXT;
}

static void lists_free(lists *l)
{
    for (size_t i = 0; i < l->na; i++) {
        lsn_free((void *)l->a[i].user);
        lsn_free((void *)l->a[i].organisation);
        lsn_free((void *)l->a[i].node);
        lsn_free((void *)l->a[i].answer);
        lsn_free((void *)l->a[i].reason);
    }
    for (size_t i = 0; i < l->nev; i++) {
        lsn_free((void *)l->ev[i].actor);
        lsn_free((void *)l->ev[i].event);
        lsn_free((void *)l->ev[i].detail);
    }
    lsn_free(l->ev);
    memset(l, 0, sizeof *l);
}

static lsn_err lists_read(store *s, int64_t id, lists *l, lsn_error *err)
{
    memset(l, 0, sizeof *l);
    lsn_err e = store_release_authorities(s, id, auth_cb, l, err);
    if (!e)
        e = store_release_history(s, id, event_cb, l, err);
    if (!e && l->nomem)
        e = core_fail(err, LSN_ERR_NOMEM, "out of memory reading a request");
    return e;
}

/* ---- living a request again ------------------------------------------------ */

static bool act_kind(const char *event, store_rel_act_kind *k)
{
    static const struct { const char *name; store_rel_act_kind kind; } t[] = {
        { "concur", STORE_REL_CONCUR }, { "break", STORE_REL_BREAK },
        { "withdraw", STORE_REL_WITHDRAW }, { "extend", STORE_REL_EXTEND },
        { "close", STORE_REL_CLOSE },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(event, t[i].name)) {
            *k = t[i].kind;
            return true;
        }
    return false;
}

/* Event ev acted again on target request `id`. */
static lsn_err act_again(mig *m, int64_t id, const store_release *r,
                         const store_release_event *ev)
{
    store_rel_act_kind kind;
    if (!act_kind(ev->event, &kind))
        return core_fail(m->err, LSN_ERR_ARG, "request %lld: an event '%s' cannot be "
                         "copied", (long long)r->id, ev->event);
    store_rel_act a = { .id = id, .kind = kind, .actor = ev->actor, .now_ms = ev->time_ms,
                        .reason = *ev->detail ? ev->detail : NULL };
    if (kind == STORE_REL_EXTEND) {
        a.reason = NULL;
        a.deadline_ms = r->deadline_ms; /* extended once: to where it is now */
    }
    store_rel_outcome out = STORE_REL_NOT_OPEN;
    lsn_err e = store_release_act(m->to, &a, &out, m->err);
    if (!e && out != STORE_REL_DONE)
        e = core_fail(m->err, LSN_ERR_IO, "request %lld: its '%s' at %lld was not taken "
                      "again by the target (%d)", (long long)r->id, ev->event,
                      (long long)ev->time_ms, (int)out);
    return e;
}

lsn_err mig_request_restore(mig *m, mig_req *q)
{
    const store_release *r = q->r;
    lsn_error *err = m->err;
    store_release *there = NULL;
    lsn_err e = store_release_get(m->to, r->rid, &there, err);
    if (e)
        return e;
    lists src, dst = { 0 };
    if ((e = lists_read(m->from, r->id, &src, err))) {
        lsn_free(there);
        return e;
    }
    size_t done = 0; /* events the target has already */
    if (there) {
        q->to_id = there->id;
        if (!(e = lists_read(m->to, there->id, &dst, err)))
            done = dst.nev;
    } else {
        store_release add = *r;
        add.item_row = mig_row(m, r->item_row);
        /* Extended: added with a deadline just before the one it was
         * extended to (the first is not kept), so that the acts before
         * the extension are in time and the extension later. */
        if (r->extended)
            add.deadline_ms = r->deadline_ms - 1;
        if (!add.item_row)
            e = core_fail(err, LSN_ERR_IO, "request %lld: its item row was not copied",
                          (long long)r->id);
        /* answers are the acts' to give */
        store_release_authority a[STORE_REL_AUTH_MAX];
        for (size_t i = 0; i < src.na; i++)
            a[i] = (store_release_authority){ .user = src.a[i].user,
                                             .organisation = src.a[i].organisation,
                                             .node = src.a[i].node };
        if (!e && !(e = store_release_add(m->to, &add, a, src.na, &q->to_id, err)))
            m->r->releases++;
        done = 1; /* the add wrote "open" */
    }
    /* Every event after those, but the adoption (the version's append). */
    for (size_t i = done; !e && i < src.nev; i++)
        if (strcmp(src.ev[i].event, "adopt") != 0)
            e = act_again(m, q->to_id, r, &src.ev[i]);
    lists_free(&src);
    lists_free(&dst);
    lsn_free(there);
    return e;
}

/* ---- after the rows: the rest, then each compared ------------------------- */

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static lsn_err compare(mig *m, const mig_req *q)
{
    const store_release *r = q->r;
    store_release *t = NULL;
    lsn_err e = store_release_get(m->to, r->rid, &t, m->err);
    if (e)
        return e;
    lists a, b;
    memset(&b, 0, sizeof b);
    if (!t)
        e = core_fail(m->err, LSN_ERR_IO, "request %lld is not in the target",
                      (long long)r->id);
    if (!e && !(e = lists_read(m->from, r->id, &a, m->err))) {
        if (!(e = lists_read(m->to, t->id, &b, m->err))) {
            bool same = t->item_row == mig_row(m, r->item_row) &&
                        t->new_row == (r->new_row ? mig_row(m, r->new_row) : 0) &&
                        !strcmp(t->state, r->state) && t->closed_ms == r->closed_ms &&
                        t->deadline_ms == r->deadline_ms && t->extended == r->extended &&
                        t->created_ms == r->created_ms && a.na == b.na && a.nev == b.nev;
            for (size_t i = 0; same && i < a.na; i++)
                same = !strcmp(a.a[i].user, b.a[i].user) &&
                       !strcmp(a.a[i].answer, b.a[i].answer) &&
                       a.a[i].answered_ms == b.a[i].answered_ms &&
                       same_text(a.a[i].node, b.a[i].node) &&
                       same_text(a.a[i].reason, b.a[i].reason);
            for (size_t i = 0; same && i < a.nev; i++)
                same = a.ev[i].time_ms == b.ev[i].time_ms &&
                       !strcmp(a.ev[i].actor, b.ev[i].actor) &&
                       !strcmp(a.ev[i].event, b.ev[i].event) &&
                       !strcmp(a.ev[i].detail, b.ev[i].detail);
            if (!same)
                e = core_fail(m->err, LSN_ERR_IO, "request %lld is not the same in the "
                              "target after the copy", (long long)r->id);
        }
        lists_free(&a);
    }
    lists_free(&b);
    lsn_free(t);
    return e;
}

lsn_err mig_requests_finish(mig *m)
{
    lsn_err e = LSN_OK;
    for (size_t i = 0; !e && i < m->nreqs; i++)
        if (!m->reqs[i].r->new_row || !m->reqs[i].to_id)
            e = mig_request_restore(m, &m->reqs[i]);
    for (size_t i = 0; !e && i < m->nreqs; i++)
        e = compare(m, &m->reqs[i]);
    return e;
}
