/* store/migrate.c — one store copied into another (migrate.h). */
#include "store/migrate_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/audit.h"
#include "store/store_fed.h"

int mig_fail(mig *m, lsn_err e)
{
    m->e = e;
    return STORE_STOP;
}

bool mig_grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? 2 * *cap : 64;
    void *q = core_realloc(*p, c * sz);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

int64_t mig_row(const mig *m, int64_t from)
{
    size_t lo = 0, hi = m->nrows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->rows[mid].from < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nrows && m->rows[lo].from == from ? m->rows[lo].to : 0;
}

/* ---- the directory ------------------------------------------------------- */

static int org_cb(void *ctx, const store_org *o)
{
    mig *m = ctx;
    lsn_err e = store_org_add(m->to, o->name, o->category, NULL, m->err);
    if (e == LSN_OK)
        m->r->orgs++;
    else if (e != LSN_ERR_DUPLICATE)
        return mig_fail(m, e);
    return STORE_NEXT;
}

static int channel_cb(void *ctx, const store_channel *c)
{
    mig *m = ctx;
    lsn_err e = store_channel_add_local(m->to, c->name, c->purpose, c->local, NULL, m->err);
    if (e == LSN_OK)
        m->r->channels++;
    else if (e != LSN_ERR_DUPLICATE)
        return mig_fail(m, e);
    return STORE_NEXT;
}

/* A named token is copied by its hash (the clear token is never stored):
 * it goes on working against the target. */
static int token_cb(void *ctx, const store_token *t)
{
    mig *m = ctx;
    if (!t->hash) {
        m->r->tokens_not_copied++;
        return STORE_NEXT;
    }
    lsn_err e = store_token_add(m->to, t, t->hash, m->err);
    if (e == LSN_OK)
        m->r->tokens++;
    else if (e != LSN_ERR_DUPLICATE) /* a resumed migration: copied before */
        return mig_fail(m, e);
    return STORE_NEXT;
}

static int user_cb(void *ctx, const store_user *u)
{
    mig *m = ctx;
    lsn_err e = store_user_add(m->to, u, NULL, m->err);
    if (e == LSN_ERR_DUPLICATE)
        return STORE_NEXT; /* a resumed migration: copied before */
    if (e)
        return mig_fail(m, e);
    m->r->users++;
    store_user_change ch = { .status = (int)u->status, .roles = -1,
                             .cert_fingerprint = u->has_cert ? u->cert_fingerprint : NULL,
                             .cert_subject = u->cert_subject,
                             .cert_issuer = u->cert_subject ? u->cert_issuer : NULL };
    if ((u->status || u->has_cert || u->cert_subject) &&
        (e = store_user_update(m->to, u->name, &ch, m->err)))
        return mig_fail(m, e);
    if ((e = store_token_list(m->from, u->name, token_cb, m, m->err)))
        return mig_fail(m, e);
    return STORE_NEXT;
}

static int peer_cb(void *ctx, const store_peer *p)
{
    mig *m = ctx;
    if (m->npeers == MIG_PEERS_MAX)
        return mig_fail(m, core_fail(m->err, LSN_ERR_LIMIT, "more than %d peers",
                                     MIG_PEERS_MAX));
    int64_t id = 0;
    lsn_err e = store_peer_add(m->to, p, &id, m->err);
    if (e == LSN_OK)
        m->r->peers++;
    else if (e != LSN_ERR_DUPLICATE)
        return mig_fail(m, e);
    m->peer_map[0][m->npeers] = p->id;
    m->peer_map[1][m->npeers++] = id; /* 0: already there, found below */
    return STORE_NEXT;
}

static int target_peer_cb(void *ctx, const store_peer *p)
{
    mig *m = ctx;
    m->peer_map[1][m->seen++] = p->id; /* peers are added in the source's order */
    return STORE_NEXT;
}

static int outbox_cb(void *ctx, uint64_t seq, int64_t item)
{
    mig *m = ctx;
    if (!mig_grow((void **)&m->obs, &m->capobs, m->nobs, sizeof *m->obs))
        return -1;
    m->obs[m->nobs++] = (struct ob){ item, seq, m->cur_peer };
    return STORE_NEXT;
}

/* ---- the audit log ----------------------------------------------------------- */

/* The target's records must be the source's, one for one. */
static int prefix_cb(void *ctx, const store_audit_event *ev)
{
    mig *m = ctx;
    m->seen++;
    if (ev->seq != m->seen)
        return mig_fail(m, core_fail(m->err, LSN_ERR_ARG, "the target's audit log has a gap"));
    m->head_seq = ev->seq;
    memcpy(m->head, ev->hash, STORE_HASH_LEN);
    return STORE_NEXT;
}

static int source_at_cb(void *ctx, const store_audit_event *ev)
{
    mig *m = ctx;
    if (ev->seq == m->head_seq && sodium_memcmp(ev->hash, m->head, STORE_HASH_LEN) == 0)
        m->seen = 1;
    return STORE_STOP;
}

static int audit_cb(void *ctx, const store_audit_event *ev)
{
    mig *m = ctx;
    store_audit_event copy = *ev;
    lsn_err e = store_audit_append(m->to, &copy, m->err);
    if (e)
        return mig_fail(m, e);
    if (copy.seq != ev->seq || sodium_memcmp(copy.hash, ev->hash, STORE_HASH_LEN) != 0)
        return mig_fail(m, core_fail(m->err, LSN_ERR_IO,
                                 "audit record %llu does not chain to the same hash in the "
                                 "target", (unsigned long long)ev->seq));
    m->r->audit++;
    return STORE_NEXT;
}

/* The first row of s (the lowest id holding one): *out (lsn_free), NULL
 * when s holds none. */
static lsn_err first_row(store *s, store_item **out, lsn_error *err)
{
    *out = NULL;
    int64_t last = 0;
    lsn_err e = store_item_last_id(s, &last, err);
    for (int64_t id = 1; !e && !*out && id <= last; id++)
        e = store_item_get(s, id, out, err);
    return e;
}

/* A target holding rows but no audit record yet: an interrupted run of
 * this source stopped among the rows (the log is copied last) when its
 * first row is the source's first row. */
static lsn_err same_first_row(store *from, store *to, bool *same, lsn_error *err)
{
    store_item *a = NULL, *b = NULL;
    lsn_err e = first_row(from, &a, err);
    if (!e)
        e = first_row(to, &b, err);
    *same = !e && a && b && !memcmp(a->uuid, b->uuid, STORE_UUID_LEN) &&
            a->ver.version == b->ver.version && a->created_ms == b->created_ms &&
            !memcmp(a->content_hash, b->content_hash, STORE_HASH_LEN);
    lsn_free(a);
    lsn_free(b);
    return e;
}

static int count_cb(void *ctx, const store_item *it)
{
    (void)it;
    ++*(uint64_t *)ctx;
    return STORE_NEXT;
}

lsn_err store_migrate(store *from, store *to, store_migrate_report *r, lsn_error *err)
{
    memset(r, 0, sizeof *r);
    mig m = { .from = from, .to = to, .r = r, .err = err };
    lsn_err e;
    /* The source's chain first: a broken one is not copied. */
    audit_report src;
    if ((e = audit_verify(from, &src, err)))
        return e;
    if (src.fault != AUDIT_INTACT)
        return core_fail(err, LSN_ERR_ARG,
                         "the source's audit log is broken (record %llu %s): not copied",
                         (unsigned long long)src.first_bad, audit_fault_name(src.fault));
    /* The target: empty, or an interrupted migration of this source. */
    if ((e = store_audit_list(to, 0, prefix_cb, &m, err)) || (e = m.e))
        return e;
    int64_t target_items = 0;
    if ((e = store_item_last_id(to, &target_items, err)))
        return e;
    if (m.head_seq || target_items) {
        m.seen = 0;
        bool same = false;
        if (m.head_seq && m.head_seq <= src.entries &&
            (e = store_audit_list(from, m.head_seq - 1, source_at_cb, &m, err)))
            return e;
        if (!m.head_seq && (e = same_first_row(from, to, &same, err)))
            return e;
        if (!m.seen && !same)
            return core_fail(err, LSN_ERR_ARG,
                             "the target is not empty, and not an interrupted migration of "
                             "this source: refused");
    }
    r->audit_skipped = m.head_seq;
    /* The directory, then the items (classes come with them), then the log. */
    m.seen = 0;
    if ((e = store_org_list(from, org_cb, &m, err)) || (e = m.e) ||
        (e = store_channel_list(from, channel_cb, &m, err)) || (e = m.e) ||
        (e = store_user_list(from, user_cb, &m, err)) || (e = m.e) ||
        (e = store_peer_list(from, peer_cb, &m, err)) || (e = m.e) ||
        (e = store_peer_list(to, target_peer_cb, &m, err)))
        goto out;
    for (size_t i = 0; i < m.npeers; i++) {
        m.cur_peer = m.peer_map[1][i];
        if ((e = store_outbox_list(from, m.peer_map[0][i], 0, 0, outbox_cb, &m, err)))
            goto out;
    }
    /* The rows (each version, each hidden row, requests adopted as their
     * versions are appended), the other requests, the peers' state. */
    if ((e = mig_requests_read(&m)) || (e = mig_rows(&m)) || (e = mig_requests_finish(&m)) ||
        (e = mig_peers_state(&m)) ||
        (e = store_audit_list(from, m.head_seq, audit_cb, &m, err)) || (e = m.e))
        goto out;
    /* After: the same chain, the same head, as many items. */
    audit_report dst;
    uint64_t n_from = 0, n_to = 0;
    if ((e = audit_verify(to, &dst, err)) ||
        (e = store_item_list(from, NULL, NULL, 0, 0, count_cb, &n_from, err)) ||
        (e = store_item_list(to, NULL, NULL, 0, 0, count_cb, &n_to, err)))
        goto out;
    if (dst.fault != AUDIT_INTACT || dst.entries != src.entries ||
        sodium_memcmp(dst.head, src.head, STORE_HASH_LEN) != 0) {
        e = core_fail(err, LSN_ERR_IO, "the target's audit log does not verify to the source's "
                                       "head after the copy");
        goto out;
    }
    if (n_from != n_to) {
        e = core_fail(err, LSN_ERR_IO, "the target holds %llu items, the source %llu",
                      (unsigned long long)n_to, (unsigned long long)n_from);
        goto out;
    }
    r->head_seq = dst.entries;
    memcpy(r->head, dst.head, STORE_HASH_LEN);
out:
    lsn_free(m.obs);
    lsn_free(m.rows);
    mig_requests_free(&m);
    return e;
}
