/* node/service_audit.c — reading and verifying the audit log: for
 * auditors only (svc_acts), and each reading is itself recorded. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "service.h"

typedef struct audit_page {
    const svc_audit_filter *f;
    store_audit_cb cb;
    void *ctx;
    size_t left;
    uint64_t last;
} audit_page;

static bool same(const char *want, const char *have)
{
    return !want || strcmp(want, have ? have : "") == 0;
}

static bool matches(const svc_audit_filter *f, const store_audit_event *ev)
{
    return !f || (same(f->actor, ev->actor) && same(f->action, ev->action) &&
                  same(f->object, ev->object) && ev->time_ms >= f->since_ms &&
                  (f->until_ms == 0 || ev->time_ms < f->until_ms));
}

static int page_cb(void *ctx, const store_audit_event *ev)
{
    audit_page *p = ctx;
    if (p->left == 0)
        return STORE_STOP;
    if (!matches(p->f, ev))
        return STORE_NEXT;
    p->left--;
    p->last = ev->seq;
    return p->cb(p->ctx, ev) == STORE_NEXT && p->left ? STORE_NEXT : STORE_STOP;
}

static bool may_audit(svc *s, const svc_actor *a, const char *action, svc_result *res)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    if (svc_allowed(a->roles, SVC_ACT_AUDIT))
        return true;
    svc_refuse(res, SVC_FORBIDDEN, LSN_ERR_ARG, "%s", svc_acts[SVC_ACT_AUDIT].why);
    (void)svc_audit(s, a->name, action, "audit", "refused", "no auditor role");
    return false;
}

lsn_err svc_audit_read(svc *s, const svc_actor *a, uint64_t after, size_t limit,
                       const svc_audit_filter *f, store_audit_cb cb, void *ctx,
                       svc_result *res)
{
    if (!may_audit(s, a, "audit.read", res))
        return LSN_ERR_ARG;
    /* Recorded first: a reading that fails half-way was still a reading. */
    char detail[64];
    if (limit == SIZE_MAX)
        snprintf(detail, sizeof detail, "after %llu, all", (unsigned long long)after);
    else
        snprintf(detail, sizeof detail, "after %llu, limit %zu", (unsigned long long)after,
                 limit);
    if (!svc_audit(s, a->name, "audit.read", "audit", "ok", detail))
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The reading could not be recorded.");
    audit_page p = {.f = f, .cb = cb, .ctx = ctx, .left = limit};
    lsn_error err;
    lsn_err rc = limit ? store_audit_list(s->st, after, page_cb, &p, &err) : LSN_OK;
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The audit log could not be read: %s",
                          err.message);
    return LSN_OK;
}

lsn_err svc_audit_verify(svc *s, const svc_actor *a, store_verify_report *report,
                         svc_result *res)
{
    if (!may_audit(s, a, "audit.verify", res))
        return LSN_ERR_ARG;
    lsn_error err;
    lsn_err rc = store_verify_audit(s->st, report, &err);
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The audit log could not be read: %s",
                          err.message);
    /* The check is an act too; its record carries the head it saw, so a
     * later verification can tell the log was not cut short before it. */
    const audit_report *r = &report->audit;
    char line[256], hex[2 * STORE_HASH_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, r->head, STORE_HASH_LEN);
    if (r->fault == AUDIT_INTACT && !report->ok)
        /* The chain holds, but not what its signed anchor says. */
        snprintf(line, sizeof line, "audit: %llu entries, chain intact but %s",
                 (unsigned long long)r->entries,
                 report->truncated   ? "TRUNCATED: records were removed from its end"
                 : report->rewritten ? "REWRITTEN: it is not the chain its anchor signed"
                                     : "its anchor is bad (run liaison verify)");
    else if (r->fault == AUDIT_INTACT)
        snprintf(line, sizeof line, "audit: %llu entries, chain intact, head %s",
                 (unsigned long long)r->entries, hex);
    else
        snprintf(line, sizeof line, "audit: entry %llu %s, chain broken (%llu entries read)",
                 (unsigned long long)r->first_bad, audit_fault_name(r->fault),
                 (unsigned long long)r->entries);
    if (!svc_audit(s, a->name, "audit.verify", "audit", report->ok ? "ok" : "broken", line))
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The verification could not be recorded.");
    snprintf(res->reason, sizeof res->reason, "%s", line);
    return LSN_OK;
}

/* Append every line to the detail of the audit record (bounded). */
static void join_line(void *ctx, const char *line)
{
    char *d = ctx;
    size_t n = strlen(d);
    if (n + 3 < 1024)
        snprintf(d + n, 1024 - n, "%s%s", n ? "; " : "", line);
}

lsn_err svc_store_verify(svc *s, const svc_actor *a, store_verify_report *report,
                         svc_result *res)
{
    if (!may_audit(s, a, "verify", res))
        return LSN_ERR_ARG;
    lsn_error err;
    lsn_err rc = store_verify(s->st, report, &err);
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The store could not be read: %s", err.message);
    /* Recorded after it looked, with what it found: it cannot hide it. */
    char detail[1024] = "";
    store_verify_lines(report, join_line, detail);
    if (!svc_audit(s, a->name, "verify", "store", report->ok ? "ok" : "broken", detail))
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The verification could not be recorded.");
    snprintf(res->reason, sizeof res->reason, "verify: %s",
             report->ok ? "the store is intact" : "the store FAILED verification");
    return LSN_OK;
}
