/* node/service.c — the service context, its users (readers) and results,
 * and the audit helper every act goes through. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "service.h"
#include "server/log.h"

lsn_err svc_channels_init(svc *s);   /* channels.c */
void svc_channels_free(svc *s);
lsn_err svc_label_memo_init(svc *s); /* service_label.c */
void svc_label_memo_free(svc *s);

lsn_err svc_init(svc *s, store *st, const lsn_policy_set *set, size_t body_limit, bool caches)
{
    memset(s, 0, sizeof *s);
    s->st = st;
    s->set = set;
    s->body_limit = body_limit;
    s->rel = (struct svc_release_cfg){ .deadline_ms = SVC_RELEASE_DEADLINE_DEFAULT,
                                       .min_ms = SVC_RELEASE_DEADLINE_MIN,
                                       .max_ms = SVC_RELEASE_DEADLINE_MAX };
    if (caches && (svc_channels_init(s) != LSN_OK || svc_label_memo_init(s) != LSN_OK)) {
        svc_release(s);
        return LSN_ERR_NOMEM;
    }
    lsn_error err;
    lsn_err rc = svc_peers_init(s, &err);
    if (rc != LSN_OK) {
        srv_log(SRV_LOG_ERROR, "loading the peers: %s", err.message);
        svc_release(s);
        return rc;
    }
    return LSN_OK;
}

void svc_release(svc *s)
{
    svc_channels_free(s);
    svc_label_memo_free(s);
    svc_peers_free(s);
}

svc_actor svc_actor_of(const svc_reader *r)
{
    return (svc_actor){.name = r->user->name, .organisation = r->user->organisation,
                       .org_category = r->org_category, .clearance = r->clearance,
                       .roles = r->user->roles};
}

/* Complete a reader from its user record: parse the clearance, find the
 * organisation's category. */
static lsn_err reader_fill(svc *s, store_user *u, svc_reader *r, lsn_error *err)
{
    r->user = u;
    /* A clearance that no longer parses (a policy change) sees nothing:
     * the reader stays authenticated but every decision denies. */
    if (lsn_clearance_parse(s->set, u->clearance, strlen(u->clearance), LSN_FORM_JSON,
                            &r->clearance, NULL) != LSN_OK)
        r->clearance = NULL;
    store_org *o = NULL;
    lsn_err rc = store_org_get(s->st, u->organisation, &o, err);
    if (rc == LSN_OK && o) {
        r->org_category = core_strdup(o->category);
        rc = r->org_category ? LSN_OK : core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    lsn_free(o);
    if (rc != LSN_OK)
        svc_reader_release(r);
    return rc;
}

/* The reader of user u as the store found it (rc, u: its answer): nobody
 * when there is no such user or it is disabled or removed. */
static lsn_err reader_of(svc *s, lsn_err rc, store_user *u, svc_reader *r, lsn_error *err)
{
    if (rc != LSN_OK || !u)
        return rc;
    if (u->status != STORE_USER_ACTIVE) { /* disabled or removed: nobody */
        lsn_free(u);
        return LSN_OK;
    }
    return reader_fill(s, u, r, err);
}

lsn_err svc_reader_load(svc *s, const char *name, svc_reader *r, lsn_error *err)
{
    memset(r, 0, sizeof *r);
    store_user *u = NULL;
    lsn_err rc = store_user_get(s->st, name, &u, err);
    return reader_of(s, rc, u, r, err);
}

lsn_err svc_reader_load_token(svc *s, const uint8_t hash[STORE_HASH_LEN], svc_reader *r,
                              lsn_error *err)
{
    memset(r, 0, sizeof *r);
    store_user *u = NULL;
    lsn_err rc = store_user_find_by_token(s->st, hash, &u, err);
    return reader_of(s, rc, u, r, err);
}

lsn_err svc_reader_load_cert(svc *s, const uint8_t fp[STORE_HASH_LEN], const char *subject,
                             const uint8_t issuer[STORE_HASH_LEN], svc_reader *r,
                             lsn_error *err)
{
    memset(r, 0, sizeof *r);
    store_user *u = NULL;
    lsn_err rc = store_user_find_by_cert(s->st, fp, &u, err);
    /* A binding to this very certificate comes first; then one to its
     * subject, only under the CA that issued it. */
    if (rc == LSN_OK && !u && subject && *subject && issuer)
        rc = store_user_find_by_cert_subject(s->st, subject, issuer, &u, err);
    return reader_of(s, rc, u, r, err);
}

void svc_reader_release(svc_reader *r)
{
    if (!r)
        return;
    lsn_free(r->user);
    lsn_clearance_free(r->clearance);
    lsn_free(r->org_category);
    memset(r, 0, sizeof *r);
}

lsn_err svc_refuse(svc_result *res, svc_refusal why, lsn_err rc, const char *fmt, ...)
{
    if (res) {
        res->refusal = why;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->reason, sizeof res->reason, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool svc_audit(svc *s, const char *actor, const char *action, const char *object,
               const char *outcome, const char *detail)
{
    store_audit_event ev = {
        .time_ms = now_ms(),
        .actor = actor ? actor : "system",
        .action = action,
        .object = object ? object : "",
        .outcome = outcome,
        .detail = detail,
    };
    lsn_error err;
    if (store_audit_append(s->st, &ev, &err) != LSN_OK) {
        srv_log(SRV_LOG_ERROR, "audit: %s", err.message);
        return false;
    }
    return true;
}

bool svc_audit_or_note(svc *s, svc_audit_note *note, const char *actor, const char *action,
                       const char *object, const char *outcome, const char *detail)
{
    if (!note)
        return svc_audit(s, actor, action, object, outcome, detail);
    note->set = true;
    note->time_ms = now_ms();
    snprintf(note->actor, sizeof note->actor, "%s", actor ? actor : "system");
    snprintf(note->action, sizeof note->action, "%s", action);
    snprintf(note->object, sizeof note->object, "%s", object ? object : "");
    snprintf(note->outcome, sizeof note->outcome, "%s", outcome);
    snprintf(note->detail, sizeof note->detail, "%s", detail ? detail : "");
    return true;
}

store_audit_event svc_audit_note_event(const svc_audit_note *note)
{
    return (store_audit_event){.time_ms = note->time_ms, .actor = note->actor,
                               .action = note->action, .object = note->object,
                               .outcome = note->outcome, .detail = note->detail};
}
