/* node/service_admin.c — administration: organisations, users, channels.
 *
 * The one copy of these acts, for the node's administrative routes, the
 * demo loader and the CLI's offline verbs alike: the actor must be an
 * administrator (svc_acts), names are checked, a user's clearance is read
 * into the policy and kept in canonical JSON, a new user's token is made by
 * the store's generator and only its hash is kept, and every act and
 * refusal is written to the audit log. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "core/alloc.h"
#include "liaison/introspect.h"
#include "service.h"

/* A name or value: non-empty, at most max bytes, no control characters. */
static bool text_ok(const char *what, const char *s, size_t max, svc_result *res)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) {
        svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG,
                   n ? "The %s is longer than %zu bytes." : "The %s must not be empty.", what,
                   max);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG,
                       "The %s holds a control character.", what);
            return false;
        }
    return true;
}

/* Audit the act's outcome from res (done: ok with detail). */
static lsn_err finish(svc *s, const svc_actor *a, const char *action, const char *object,
                      const char *detail, lsn_err rc, svc_result *res)
{
    bool done = rc == LSN_OK;
    if (!svc_audit(s, a->name, action, object, done ? "ok" : "refused",
                   done ? detail : res->reason) && done)
        /* An unrecorded act must not pass silently. */
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The act could not be recorded.");
    return rc;
}

/* The common start: clear res, check the right. */
static bool may_administer(svc *s, const svc_actor *a, const char *action, const char *object,
                           svc_result *res, lsn_err *rc)
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    if (svc_allowed(a->roles, SVC_ACT_ADMINISTER))
        return true;
    *rc = svc_refuse(res, SVC_FORBIDDEN, LSN_ERR_ARG, "%s", svc_acts[SVC_ACT_ADMINISTER].why);
    (void)finish(s, a, action, object, NULL, *rc, res);
    return false;
}

/* A store refusal in words a person can act on. */
static lsn_err store_refused(const char *what, lsn_err rc, const lsn_error *err,
                             svc_result *res)
{
    if (rc == LSN_ERR_DUPLICATE)
        return svc_refuse(res, SVC_DUPLICATE, rc, "%s already exists.", what);
    if (rc == LSN_ERR_LIMIT)
        return svc_refuse(res, SVC_TOO_LARGE, rc, "%s: %s", what, err->message);
    if (rc == LSN_ERR_ARG)
        return svc_refuse(res, SVC_MALFORMED, rc, "%s: %s", what, err->message);
    return svc_refuse(res, SVC_FAILED, rc, "%s: %s", what, err->message);
}

/* Whether some loaded policy has `value` in a permissive (releasability)
 * tag set: an organisation stands for one of those, or for nothing. */
static bool nation_known(svc *s, const char *value)
{
    for (size_t k = 0, np = s->set ? lsn_policy_set_count(s->set) : 0; k < np; k++) {
        const lsn_policy *p = lsn_policy_set_at(s->set, k);
        for (size_t i = 0, nc = lsn_policy_category_count(p); i < nc; i++) {
            lsn_category_info c;
            if (lsn_policy_category_at(p, i, &c) && c.type && strstr(c.type, "ermissive") &&
                strcmp(c.name, value) == 0)
                return true;
        }
    }
    return false;
}

lsn_err svc_org_add(svc *s, const svc_actor *a, const char *name, const char *category,
                    svc_result *res)
{
    char object[300], what[300], detail[300];
    snprintf(object, sizeof object, "org:%s", name ? name : "");
    snprintf(what, sizeof what, "The organisation '%s'", name ? name : "");
    lsn_err rc = LSN_OK;
    if (!may_administer(s, a, "org.add", object, res, &rc))
        return rc;
    if (!text_ok("organisation's name", name, 255, res) ||
        !text_ok("organisation's category", category, 255, res))
        return finish(s, a, "org.add", object, NULL, LSN_ERR_ARG, res);
    if (!nation_known(s, category)) {
        rc = svc_refuse(res, SVC_INVALID, LSN_ERR_ARG,
                        "The policy knows no nation or body '%s' (a value of a "
                        "releasability category, such as JPN or NATO).", category);
        return finish(s, a, "org.add", object, NULL, rc, res);
    }
    lsn_error err;
    rc = store_org_add(s->st, name, category, NULL, &err);
    if (rc != LSN_OK)
        store_refused(what, rc, &err, res);
    snprintf(detail, sizeof detail, "nation %s", category);
    return finish(s, a, "org.add", object, detail, rc, res);
}

lsn_err svc_channel_add(svc *s, const svc_actor *a, const char *name, const char *purpose,
                        bool local, svc_result *res)
{
    char object[300], what[300];
    snprintf(object, sizeof object, "channel:%s", name ? name : "");
    snprintf(what, sizeof what, "The channel '%s'", name ? name : "");
    lsn_err rc = LSN_OK;
    if (!may_administer(s, a, "channel.add", object, res, &rc))
        return rc;
    if (!purpose || !*purpose)
        purpose = name; /* the store wants one; the name says something */
    if (!text_ok("channel's name", name, 255, res) ||
        !text_ok("channel's purpose", purpose, 4096, res))
        return finish(s, a, "channel.add", object, NULL, LSN_ERR_ARG, res);
    lsn_error err;
    rc = store_channel_add_local(s->st, name, purpose, local, NULL, &err);
    if (rc != LSN_OK)
        store_refused(what, rc, &err, res);
    char detail[4200];
    snprintf(detail, sizeof detail, "%s%s", purpose, local ? " (kept local)" : "");
    return finish(s, a, "channel.add", object, detail, rc, res);
}

lsn_err svc_user_add(svc *s, const svc_actor *a, const svc_new_user *u,
                     char token_out[STORE_TOKEN_CHARS + 1], char *marking_out,
                     size_t marking_cap, svc_result *res)
{
    char object[300], what[300], detail[400];
    snprintf(object, sizeof object, "user:%s", u->name ? u->name : "");
    snprintf(what, sizeof what, "The user '%s'", u->name ? u->name : "");
    token_out[0] = '\0';
    lsn_err rc = LSN_OK;
    if (!may_administer(s, a, "user.add", object, res, &rc))
        return rc;
    if (!text_ok("user's name", u->name, 255, res) ||
        !text_ok("user's organisation", u->organisation, 255, res) ||
        (u->roles & ~(unsigned)(STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY |
                                STORE_ROLE_AUDITOR | STORE_ROLE_ADMINISTRATOR))) {
        if (res->refusal == SVC_DONE)
            svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG, "Unknown role.");
        return finish(s, a, "user.add", object, NULL, LSN_ERR_ARG, res);
    }
    /* The organisation must exist: the store would refuse too, but with a
     * message about a foreign key rather than about the organisation. */
    lsn_error err;
    store_org *o = NULL;
    if ((rc = store_org_get(s->st, u->organisation, &o, &err)) != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "%s", err.message);
    if (!o) {
        rc = svc_refuse(res, SVC_NOT_FOUND, LSN_ERR_ARG, "Unknown organisation '%s'.",
                        u->organisation);
        return finish(s, a, "user.add", object, NULL, rc, res);
    }
    lsn_free(o);

    lsn_clearance *c = NULL;
    char *canon = NULL;
    if (!u->clearance ||
        lsn_clearance_parse(s->set, u->clearance, u->clearance_len, u->clearance_form, &c,
                            &err) != LSN_OK) {
        rc = svc_refuse(res, SVC_INVALID, LSN_ERR_CLEARANCE, "Invalid clearance: %s",
                        u->clearance ? err.message : "none given");
        return finish(s, a, "user.add", object, NULL, rc, res);
    }
    if ((rc = lsn_clearance_write(c, LSN_FORM_JSON, &canon, NULL, &err)) != LSN_OK ||
        (marking_out && lsn_clearance_marking(c, "en", marking_out, marking_cap, NULL) != LSN_OK)) {
        lsn_clearance_free(c);
        lsn_free(canon);
        return svc_refuse(res, SVC_FAILED, rc ? rc : LSN_ERR_LIMIT,
                          "The clearance could not be written.");
    }
    lsn_clearance_free(c);

    unsigned roles = u->roles ? u->roles : STORE_ROLE_MEMBER;
    char pwhash[SVC_PASSWORD_HASH_MAX];
    if (u->password && (rc = svc_password_hash(u->password, pwhash, res)) != LSN_OK) {
        lsn_free(canon);
        return finish(s, a, "user.add", object, NULL, rc, res);
    }
    store_user su = {.name = u->name, .organisation = u->organisation, .clearance = canon,
                     .roles = roles, .password_hash = u->password ? pwhash : NULL};
    if ((rc = store_token_new(token_out, &err)) == LSN_OK) {
        /* Only the hash is stored; the token is shown once by the caller. */
        store_token_hash(token_out, su.token_hash);
        rc = store_user_add(s->st, &su, NULL, &err);
    }
    lsn_free(canon);
    sodium_memzero(pwhash, sizeof pwhash);
    if (rc != LSN_OK) {
        sodium_memzero(token_out, STORE_TOKEN_CHARS + 1);
        store_refused(what, rc, &err, res);
    }
    snprintf(detail, sizeof detail, "organisation %s, roles %u", u->organisation, roles);
    rc = finish(s, a, "user.add", object, detail, rc, res);
    if (rc != LSN_OK)
        sodium_memzero(token_out, STORE_TOKEN_CHARS + 1);
    return rc;
}

/* The same checks for the other administrative acts (service_peer.c). */
bool svc_admin_text_ok(const char *what, const char *s, size_t max, svc_result *res)
{
    return text_ok(what, s, max, res);
}

bool svc_admin_may(svc *s, const svc_actor *a, const char *action, const char *object,
                   svc_result *res, lsn_err *rc)
{
    return may_administer(s, a, action, object, res, rc);
}

lsn_err svc_admin_finish(svc *s, const svc_actor *a, const char *action, const char *object,
                         const char *detail, lsn_err rc, svc_result *res)
{
    return finish(s, a, action, object, detail, rc, res);
}

lsn_err svc_admin_store_refused(const char *what, lsn_err rc, const lsn_error *err,
                                svc_result *res)
{
    return store_refused(what, rc, err, res);
}
