/* store/checks.c — the checks every back-end makes before it writes
 * (checks.h). */
#include "store/checks.h"

#include <string.h>

#include "core/error.h"
#include "store/writer.h"

lsn_err store_check_peer(const store_peer *p, lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("peer's name", p->name, STORE_FIELD_MAX, err)) ||
        (e = writer_need("peer's URL", p->url, STORE_FIELD_MAX, err)) ||
        (e = writer_need("peer's nation", p->nation, STORE_FIELD_MAX, err)) ||
        (e = writer_need("peer's certificate", p->certificate, STORE_FIELD_MAX, err)))
        return e;
    if (p->via && (e = writer_need("peer's relay", p->via, STORE_FIELD_MAX, err)))
        return e;
    return LSN_OK;
}

lsn_err store_check_peer_note(const store_peer_state_note *n, lsn_error *err)
{
    lsn_err e = writer_need("peer's state", n->state, 32, err);
    if (e)
        return e;
    if (n->last_error && strnlen(n->last_error, STORE_FIELD_MAX + 1) > STORE_FIELD_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "a peer's last error is too long");
    return LSN_OK;
}

lsn_err store_check_binding(const char *xml, size_t len, lsn_error *err)
{
    if (!xml || !len)
        return core_fail(err, LSN_ERR_ARG, "no binding to keep");
    if (len > STORE_FIELD_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the binding is longer than %u bytes",
                         STORE_FIELD_MAX);
    return LSN_OK;
}

lsn_err store_check_release(const store_release *r, const store_release_authority *a,
                            size_t n, lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("proposer", r->proposer, STORE_FIELD_MAX, err)) ||
        (e = writer_need("kind", r->kind, 16, err)) ||
        (e = writer_need("label", r->label, STORE_FIELD_MAX, err)) ||
        (e = writer_need("marking", r->marking_en, STORE_FIELD_MAX, err)) ||
        (e = writer_need("marking", r->marking_fr, STORE_FIELD_MAX, err)) ||
        (e = writer_need("reason", r->reason, STORE_FIELD_MAX, err)))
        return e;
    if (n == 0 || n > STORE_REL_AUTH_MAX)
        return core_fail(err, LSN_ERR_ARG, "a request has 1 to %d authorities",
                         STORE_REL_AUTH_MAX);
    for (size_t i = 0; i < n; i++)
        if ((e = writer_need("authority", a[i].user, STORE_FIELD_MAX, err)) ||
            (e = writer_need("organisation", a[i].organisation, STORE_FIELD_MAX, err)))
            return e;
    return LSN_OK;
}

lsn_err store_check_rel_act(const store_rel_act *a, lsn_error *err)
{
    lsn_err e = writer_need("actor", a->actor, STORE_FIELD_MAX, err);
    if (!e && a->reason && strlen(a->reason) > STORE_FIELD_MAX)
        e = core_fail(err, LSN_ERR_LIMIT, "the reason is too long");
    return e;
}
