/* store/migrate_peers.c — the peers' delivery state copied
 * (migrate_internal.h): each peer's state, last contact and error, the
 * last sequence it acknowledged and the last of its sequences received
 * here, so that the node on the target goes on where the source stopped —
 * no item sent twice, none skipped, none taken twice. Its outbox is the
 * items' (migrate_rows.c: the same sequences, as each item's entries are
 * given to its append in order); checked here, with the rest. */
#include "store/migrate_internal.h"

#include <string.h>

#include "core/error.h"
#include "store/store_fed.h"

typedef struct peers {
    mig *m;
    size_t n; /* the target's peers seen */
} peers;

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int state_cb(void *ctx, const store_peer *p)
{
    peers *x = ctx;
    mig *m = x->m;
    int64_t to = 0;
    for (size_t i = 0; i < m->npeers; i++)
        if (m->peer_map[0][i] == p->id)
            to = m->peer_map[1][i];
    if (!to)
        return mig_fail(m, core_fail(m->err, LSN_ERR_IO, "peer %s was not copied", p->name));
    lsn_err e = LSN_OK;
    if (strcmp(p->state, "new") != 0) {
        store_peer_state_note n = { .state = p->state, .last_contact_ms = p->last_contact_ms,
                                    .last_error = p->last_error,
                                    .last_acked = (int64_t)p->last_acked };
        e = store_peer_note(m->to, to, &n, m->err);
    }
    if (!e && p->received_seq)
        e = store_fed_receive(m->to, to, p->received_seq, NULL, NULL, 0, NULL, 0, NULL, m->err);
    return e ? mig_fail(m, e) : STORE_NEXT;
}

/* The target's peers, in the source's order: each the same. */
static int check_cb(void *ctx, const store_peer *t)
{
    peers *x = ctx;
    mig *m = x->m;
    size_t i = x->n++;
    if (i >= m->npeers || m->peer_map[1][i] != t->id)
        return mig_fail(m, core_fail(m->err, LSN_ERR_IO, "the target has a peer %s the "
                                     "source has not", t->name));
    return STORE_NEXT;
}

typedef struct pair { mig *m; const store_peer *src; bool same, found; } pair;

static int compare_cb(void *ctx, const store_peer *t)
{
    pair *p = ctx;
    const store_peer *s = p->src;
    if (strcmp(t->name, s->name) != 0)
        return STORE_NEXT;
    p->found = true;
    p->same = !strcmp(t->state, s->state) && t->last_contact_ms == s->last_contact_ms &&
              same_text(t->last_error, s->last_error) && t->last_seq == s->last_seq &&
              t->last_acked == s->last_acked && t->received_seq == s->received_seq &&
              !strcmp(t->url, s->url) && !strcmp(t->nation, s->nation) &&
              same_text(t->via, s->via) && same_text(t->policy, s->policy);
    return STORE_STOP;
}

static int source_cb(void *ctx, const store_peer *s)
{
    pair p = { ctx, s, false, false };
    mig *m = p.m;
    lsn_err e = store_peer_list(m->to, compare_cb, &p, m->err);
    if (e)
        return mig_fail(m, e);
    if (!p.found || !p.same)
        return mig_fail(m, core_fail(m->err, LSN_ERR_IO, "peer %s's delivery state is not "
                                     "the same in the target after the copy", s->name));
    return STORE_NEXT;
}

lsn_err mig_peers_state(mig *m)
{
    peers x = { .m = m };
    lsn_err e;
    m->e = LSN_OK;
    if ((e = store_peer_list(m->from, state_cb, &x, m->err)) || (e = m->e) ||
        (e = store_peer_list(m->to, check_cb, &x, m->err)) || (e = m->e) ||
        (e = store_peer_list(m->from, source_cb, m, m->err)) || (e = m->e))
        return e;
    return LSN_OK;
}
