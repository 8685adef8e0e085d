/* store/migrate_rows.c — every item row of the source copied in id order
 * (migrate_internal.h): the rows served, and those hidden — superseded by
 * a later version, or withdrawn — with each later version linked to its
 * item, superseding the same version, and adopting the same request, so
 * that the target serves the same items at the same versions. */
#include "store/migrate_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store_fed.h"

/* An item's rows, as store_item_versions gives them. */
typedef struct vrow { int64_t row; int version; char hidden; } vrow; /* 0, 's', 'w' */
typedef struct vlist { vrow *v; size_t n, cap; } vlist;

static int version_cb(void *ctx, int64_t row, int version, const char *hidden)
{
    vlist *l = ctx;
    if (!mig_grow((void **)&l->v, &l->cap, l->n, sizeof *l->v))
        return -1;
    l->v[l->n++] = (vrow){ row, version,
                           !hidden ? 0 : !strcmp(hidden, "withdrawn") ? 'w' : 's' };
    return STORE_NEXT;
}

static lsn_err versions(store *s, const uint8_t uuid[STORE_UUID_LEN], vlist *l, lsn_error *err)
{
    l->n = 0;
    return store_item_versions(s, uuid, version_cb, l, err);
}

static const vrow *by_version(const vlist *l, int version)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].version == version)
            return &l->v[i];
    return NULL;
}

static const vrow *by_row(const vlist *l, int64_t row)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].row == row)
            return &l->v[i];
    return NULL;
}

/* A source row failing its seal: noted (its id is then not a gap), and
 * told to the alarm the caller had set, if any. */
static void alarm_cb(void *ctx, int64_t id, const uint8_t uuid[STORE_UUID_LEN], const char *why)
{
    mig *m = ctx;
    m->alarm = true;
    if (m->caller_alarm)
        m->caller_alarm(m->caller_alarm_ctx, id, uuid, why);
}

static int cmp_ob(const void *a, const void *b)
{
    const struct ob *x = a, *y = b;
    if (x->item != y->item)
        return (x->item > y->item) - (x->item < y->item);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static lsn_err note_row(mig *m, int64_t from, int64_t to)
{
    if (!mig_grow((void **)&m->rows, &m->caprows, m->nrows, sizeof *m->rows))
        return core_fail(m->err, LSN_ERR_NOMEM, "out of memory");
    m->rows[m->nrows++] = (struct rowmap){ from, to };
    return LSN_OK;
}

/* The request source row `row` adopted (its new_row), or NULL. */
static mig_req *adopted_by(mig *m, int64_t row)
{
    for (size_t i = 0; i < m->nreqs; i++)
        if (m->reqs[i].r->new_row == row)
            return &m->reqs[i];
    return NULL;
}

/* Append source row `it` (its versions in `src`) to the target. */
static lsn_err append_row(mig *m, const store_item *it, const vlist *src, int64_t *to_id)
{
    lsn_error *err = m->err;
    store_item copy = *it;
    copy.ver = (struct store_item_ver){ 0 };
    if (it->ver.version > 1) {
        /* A later version: a row of its own (a new uuid, never given out),
         * linked to the item, hiding the version before it. */
        memset(copy.uuid, 0, STORE_UUID_LEN);
        copy.ver.version = it->ver.version;
        memcpy(copy.ver.of, it->uuid, STORE_UUID_LEN);
        const vrow *prev = by_version(src, it->ver.version - 1);
        if (prev && prev->hidden == 's' && !(copy.ver.supersedes = mig_row(m, prev->row)))
            return core_fail(err, LSN_ERR_IO, "item %lld: the version it supersedes was "
                             "not copied", (long long)it->id);
        mig_req *q = adopted_by(m, it->id);
        if (q) {
            lsn_err e = mig_request_restore(m, q);
            if (e)
                return e;
            copy.ver.adopts = q->to_id;
        }
    }
    int64_t peers[STORE_OUTBOX_MAX];
    size_t np = 0;
    struct ob key = { it->id, 0, 0 };
    size_t lo = 0, hi = m->nobs;
    while (lo < hi) { /* the first entry of this item */
        size_t mid = (lo + hi) / 2;
        if (cmp_ob(&m->obs[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < m->nobs && m->obs[lo].item == it->id && np < STORE_OUTBOX_MAX; lo++)
        peers[np++] = m->obs[lo].peer;
    char *binding = NULL;
    size_t blen = 0;
    lsn_err e = store_item_binding(m->from, it->id, &binding, &blen, err);
    if (e)
        return e;
    copy.fed = (struct store_item_fed){ .binding = binding, .binding_len = blen,
                                        .outbox = np ? peers : NULL, .outbox_n = np };
    e = store_item_append(m->to, &copy, NULL, to_id, NULL, err);
    lsn_free(binding);
    return e;
}

/* One source row: copied, or found copied by an interrupted run. */
static lsn_err one_row(mig *m, int64_t id, vlist *src, vlist *dst)
{
    lsn_error *err = m->err;
    store_item *it = NULL;
    lsn_err e = store_item_get(m->from, id, &it, err);
    if (e)
        return e;
    if (!it) { /* a gap in the ids (a rolled-back insert), or a broken seal */
        if (m->alarm)
            return core_fail(err, LSN_ERR_IO, "item row %lld failed its seal: not copied",
                             (long long)id);
        return LSN_OK;
    }
    const vrow *mine = NULL, *there = NULL;
    if (!(e = versions(m->from, it->uuid, src, err)) &&
        !(e = versions(m->to, it->uuid, dst, err))) {
        mine = by_row(src, id);
        there = by_version(dst, it->ver.version);
        if (!mine)
            e = core_fail(err, LSN_ERR_IO, "item row %lld is not among its item's versions",
                          (long long)id);
    }
    int64_t to_id = 0;
    if (!e && there) {
        to_id = there->row;
        m->r->items_skipped++;
    } else if (!e && !(e = append_row(m, it, src, &to_id))) {
        m->r->items++;
        if (it->ver.version > 1)
            m->r->versions++;
    }
    /* Withdrawn: hidden with no successor (at the row's time: the time of
     * its hiding is not in the interface's reads), with the origin's signed
     * tombstone kept with it (the audit log is copied on its own). */
    if (!e && mine->hidden == 'w' && !(there && there->hidden == 'w')) {
        char *tomb = NULL;
        size_t tomb_len = 0;
        e = store_item_tombstone(m->from, id, &tomb, &tomb_len, err);
        store_withdrawal w = { .row = to_id, .now_ms = it->created_ms, .tombstone = tomb,
                               .tombstone_len = tomb_len };
        if (!e)
            e = store_item_withdraw(m->to, &w, err);
        lsn_free(tomb);
        if (!e)
            m->r->withdrawn++;
    }
    lsn_free(it);
    return e ? e : note_row(m, id, to_id);
}

lsn_err mig_rows(mig *m)
{
    if (m->nobs)
        qsort(m->obs, m->nobs, sizeof *m->obs, cmp_ob);
    int64_t last = 0;
    lsn_err e = store_item_last_id(m->from, &last, m->err);
    m->caller_alarm = m->from->alarm;
    m->caller_alarm_ctx = m->from->alarm_ctx;
    store_set_alarm(m->from, alarm_cb, m);
    vlist src = { 0 }, dst = { 0 };
    for (int64_t id = 1; !e && id <= last; id++)
        e = one_row(m, id, &src, &dst);
    store_set_alarm(m->from, m->caller_alarm, m->caller_alarm_ctx);
    lsn_free(src.v);
    lsn_free(dst.v);
    return e;
}
