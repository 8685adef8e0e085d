/* node/service_users.c — accounts after they are made: passwords and
 * sign-in, disabling, enabling and removing a user, changing a clearance
 * or roles, a new bearer token, and listing users.
 *
 * The one copy of these acts, for the node's routes and the CLI's offline
 * verbs alike (service_admin.c adds users). Passwords are hashed with
 * Argon2id (libsodium's crypto_pwhash_str, its "interactive" cost) and
 * checked with crypto_pwhash_str_verify; a sign-in for a name that does
 * not exist, has no password or is not active verifies against a dummy
 * hash, so that the answer costs the same time whatever the name. Every
 * change calls the service's user_changed hook (the node drops its cached
 * readers and the user's sessions there, so that a disabled user is out
 * at once) and is audited. */
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sodium.h>

#include "core/alloc.h"
#include "service.h"

/* The start of every act here: clear res, say what is acted on. */
static void begin(svc_result *res, const char *name, char object[300])
{
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    snprintf(object, 300, "user:%s", name ? name : "");
}

static lsn_err finish(svc *s, const svc_actor *a, const char *action, const char *object,
                      const char *detail, lsn_err rc, svc_result *res)
{
    bool done = rc == LSN_OK;
    if (!svc_audit(s, a->name, action, object, done ? "ok" : "refused",
                   done ? detail : res->reason) && done)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "The act could not be recorded.");
    return rc;
}

/* The actor is an administrator, or (self_ok) the user acted on. */
static bool may(const svc_actor *a, const char *name, bool self_ok)
{
    if (svc_allowed(a->roles, SVC_ACT_ADMINISTER))
        return true;
    return self_ok && a->organisation && name && a->name && strcmp(a->name, name) == 0;
}

static lsn_err refuse_right(svc *s, const svc_actor *a, const char *action,
                            const char *object, svc_result *res)
{
    lsn_err rc = svc_refuse(res, SVC_FORBIDDEN, LSN_ERR_ARG, "%s",
                            svc_acts[SVC_ACT_ADMINISTER].why);
    return finish(s, a, action, object, NULL, rc, res);
}

/* Apply ch to user name: LSN_OK, or res says why (404 for no such user). */
static lsn_err change(svc *s, const char *name, const store_user_change *ch, svc_result *res)
{
    lsn_error err;
    store_user *u = NULL;
    lsn_err rc = name ? store_user_get(s->st, name, &u, &err) : LSN_ERR_ARG;
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The user could not be read.");
    if (!u || u->status == STORE_USER_REMOVED) {
        lsn_free(u);
        return svc_refuse(res, SVC_NOT_FOUND, LSN_ERR_ARG, "There is no user '%s'.", name);
    }
    lsn_free(u);
    if ((rc = store_user_update(s->st, name, ch, &err)) != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The user could not be changed: %s",
                          err.message);
    if (s->user_changed)
        s->user_changed(s->hook_ctx, name);
    return LSN_OK;
}

lsn_err svc_password_hash(const char *password, char out[SVC_PASSWORD_HASH_MAX],
                          svc_result *res)
{
    size_t n = password ? strlen(password) : 0;
    if (n < SVC_PASSWORD_MIN || n > SVC_PASSWORD_MAX)
        return svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG,
                          "A password has %d to %d characters.", SVC_PASSWORD_MIN,
                          SVC_PASSWORD_MAX);
    if (sodium_init() < 0 ||
        crypto_pwhash_str(out, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM,
                          "The password could not be hashed (out of memory).");
    return LSN_OK;
}

lsn_err svc_user_passwd(svc *s, const svc_actor *a, const char *name, const char *password,
                        svc_result *res)
{
    char object[300], hash[SVC_PASSWORD_HASH_MAX];
    begin(res, name, object);
    if (!may(a, name, true))
        return refuse_right(s, a, "user.passwd", object, res);
    lsn_err rc = svc_password_hash(password, hash, res);
    if (rc == LSN_OK) {
        store_user_change ch = {.password_hash = hash, .status = -1, .roles = -1};
        rc = change(s, name, &ch, res);
    }
    sodium_memzero(hash, sizeof hash);
    return finish(s, a, "user.passwd", object, "password set", rc, res);
}

lsn_err svc_user_set_status(svc *s, const svc_actor *a, const char *name, unsigned status,
                            svc_result *res)
{
    static const char *const actions[] = {"user.enable", "user.disable", "user.remove"};
    char object[300];
    begin(res, name, object);
    if (status > STORE_USER_REMOVED)
        return svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG, "No such status.");
    const char *action = actions[status];
    if (!may(a, name, false))
        return refuse_right(s, a, action, object, res);
    if (a->name && name && strcmp(a->name, name) == 0 && status != STORE_USER_ACTIVE) {
        lsn_err rc = svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG,
                                "An administrator cannot disable or remove themselves.");
        return finish(s, a, action, object, NULL, rc, res);
    }
    store_user_change ch = {.status = (int)status, .roles = -1};
    uint8_t dead[STORE_HASH_LEN];
    if (status == STORE_USER_REMOVED) {
        /* A removed user's token and password are gone for good: the token
         * hash becomes one of a token nobody holds. */
        randombytes_buf(dead, sizeof dead);
        ch.token_hash = dead;
        ch.password_hash = "";
    }
    lsn_err rc = change(s, name, &ch, res);
    return finish(s, a, action, object, NULL, rc, res);
}

lsn_err svc_user_set_clearance(svc *s, const svc_actor *a, const char *name,
                               const char *clearance, size_t len, lsn_form form,
                               svc_result *res)
{
    char object[300], detail[600];
    begin(res, name, object);
    if (!may(a, name, false))
        return refuse_right(s, a, "user.set-clearance", object, res);
    lsn_error err;
    lsn_clearance *c = NULL;
    char *canon = NULL;
    /* Validated against the policy: a clearance the policy cannot read is
     * refused here, never stored. */
    if (!clearance || !s->set ||
        lsn_clearance_parse(s->set, clearance, len, form, &c, &err) != LSN_OK) {
        lsn_err rc = svc_refuse(res, SVC_INVALID, LSN_ERR_CLEARANCE, "Invalid clearance: %s",
                                clearance && s->set ? err.message : "none given");
        return finish(s, a, "user.set-clearance", object, NULL, rc, res);
    }
    char mark[512] = "";
    lsn_err rc = lsn_clearance_write(c, LSN_FORM_JSON, &canon, NULL, &err);
    if (rc == LSN_OK)
        if (lsn_clearance_marking(c, "en", mark, sizeof mark, NULL) != LSN_OK)
            mark[0] = '\0'; /* only the audit detail lacks it */
    lsn_clearance_free(c);
    if (rc != LSN_OK) {
        lsn_free(canon);
        return svc_refuse(res, SVC_FAILED, rc, "The clearance could not be written.");
    }
    store_user_change ch = {.status = -1, .clearance = canon, .roles = -1};
    rc = change(s, name, &ch, res);
    lsn_free(canon);
    snprintf(detail, sizeof detail, "clearance %s", mark);
    return finish(s, a, "user.set-clearance", object, detail, rc, res);
}

lsn_err svc_user_set_roles(svc *s, const svc_actor *a, const char *name, unsigned roles,
                           svc_result *res)
{
    char object[300], detail[64];
    begin(res, name, object);
    if (!may(a, name, false))
        return refuse_right(s, a, "user.set-roles", object, res);
    if (roles & ~(unsigned)(STORE_ROLE_MEMBER | STORE_ROLE_RELEASE_AUTHORITY |
                            STORE_ROLE_AUDITOR | STORE_ROLE_ADMINISTRATOR)) {
        lsn_err rc = svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG, "Unknown role.");
        return finish(s, a, "user.set-roles", object, NULL, rc, res);
    }
    store_user_change ch = {.status = -1, .roles = roles ? roles : STORE_ROLE_MEMBER};
    lsn_err rc = change(s, name, &ch, res);
    snprintf(detail, sizeof detail, "roles %u", (unsigned)ch.roles);
    return finish(s, a, "user.set-roles", object, detail, rc, res);
}

lsn_err svc_user_token_new(svc *s, const svc_actor *a, const char *name,
                           char token_out[STORE_TOKEN_CHARS + 1], svc_result *res)
{
    char object[300];
    begin(res, name, object);
    token_out[0] = '\0';
    if (!may(a, name, true))
        return refuse_right(s, a, "user.token", object, res);
    lsn_error err;
    uint8_t hash[STORE_HASH_LEN];
    lsn_err rc = store_token_new(token_out, &err);
    if (rc != LSN_OK) {
        rc = svc_refuse(res, SVC_FAILED, rc, "No token could be made.");
    } else {
        store_token_hash(token_out, hash);
        store_user_change ch = {.status = -1, .roles = -1, .token_hash = hash};
        rc = change(s, name, &ch, res);
    }
    rc = finish(s, a, "user.token", object, "new token; the old one no longer works", rc,
                res);
    if (rc != LSN_OK)
        sodium_memzero(token_out, STORE_TOKEN_CHARS + 1);
    return rc;
}

lsn_err svc_user_get(svc *s, const svc_actor *a, const char *name, store_user **out,
                     svc_result *res)
{
    char object[300];
    begin(res, name, object);
    *out = NULL;
    if (!may(a, name, true))
        return refuse_right(s, a, "user.show", object, res);
    lsn_error err;
    lsn_err rc = name ? store_user_get(s->st, name, out, &err) : LSN_ERR_ARG;
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The user could not be read.");
    if (!*out)
        return svc_refuse(res, SVC_NOT_FOUND, LSN_ERR_ARG, "There is no user '%s'.", name);
    return LSN_OK;
}

lsn_err svc_user_list(svc *s, const svc_actor *a, store_user_cb cb, void *ctx,
                      svc_result *res)
{
    char object[300];
    begin(res, "*", object);
    if (!may(a, NULL, false))
        return refuse_right(s, a, "user.list", object, res);
    lsn_error err;
    lsn_err rc = store_user_list(s->st, cb, ctx, &err);
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The users could not be listed: %s",
                          err.message);
    return LSN_OK;
}

/* A hash nobody's password matches, verified when there is no real one,
 * so that every refusal costs one Argon2id verification. Made once. */
static char dummy_hash[SVC_PASSWORD_HASH_MAX];
static void dummy_make(void)
{
    unsigned char junk[32];
    randombytes_buf(junk, sizeof junk);
    if (crypto_pwhash_str(dummy_hash, (const char *)junk, sizeof junk,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = '\0';
    sodium_memzero(junk, sizeof junk);
}

lsn_err svc_sign_in(svc *s, const char *name, const char *password, const char *client,
                    svc_result *res)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    char object[300], detail[128];
    begin(res, name, object);
    snprintf(detail, sizeof detail, "from %s", client ? client : "?");
    if (sodium_init() < 0)
        return svc_refuse(res, SVC_FAILED, LSN_ERR_IO, "libsodium could not start.");
    pthread_once(&once, dummy_make);
    size_t plen = password ? strlen(password) : 0;
    store_user *u = NULL;
    lsn_error err;
    lsn_err rc = name && *name && strlen(name) <= 255 ? store_user_get(s->st, name, &u, &err)
                                                      : LSN_OK;
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The user could not be read.");
    bool usable = u && u->status == STORE_USER_ACTIVE && u->password_hash &&
                  plen <= SVC_PASSWORD_MAX;
    const char *hash = usable ? u->password_hash : dummy_hash;
    /* Always one verification, whether or not the user can sign in. */
    bool match = hash[0] && plen <= SVC_PASSWORD_MAX &&
                 crypto_pwhash_str_verify(hash, password ? password : "", plen) == 0;
    lsn_free(u);
    svc_actor who = {.name = name && *name ? name : "?"};
    if (!(usable && match)) {
        /* One sentence for every reason: the answer must not tell whether
         * the name exists. The audit record says the same. */
        rc = svc_refuse(res, SVC_FORBIDDEN, LSN_ERR_ARG,
                        "The user name or the password is wrong.");
        svc_audit(s, who.name, "session.signin", object, "refused", detail);
        return rc;
    }
    return finish(s, &who, "session.signin", object, detail, LSN_OK, res);
}

/* ---- named access tokens ------------------------------------------------ */

lsn_err svc_token_add(svc *s, const svc_actor *a, const char *user, const char *name,
                      int64_t expires_ms, char token_out[STORE_TOKEN_CHARS + 1],
                      svc_result *res)
{
    char object[300], detail[320];
    begin(res, user, object);
    token_out[0] = '\0';
    if (!may(a, user, true))
        return refuse_right(s, a, "token.add", object, res);
    lsn_error err;
    lsn_err rc = LSN_OK;
    size_t n = name ? strlen(name) : 0;
    bool plain = n > 0 && n <= 64;
    for (size_t i = 0; plain && i < n; i++)
        plain = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
    store_user *u = NULL;
    if (!plain) {
        rc = svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG,
                        "A token's name has 1 to 64 characters, none of them control ones.");
    } else if ((rc = store_user_get(s->st, user, &u, &err)) != LSN_OK) {
        rc = svc_refuse(res, SVC_FAILED, rc, "The user could not be read.");
    } else if (!u || u->status == STORE_USER_REMOVED) {
        rc = svc_refuse(res, SVC_NOT_FOUND, LSN_ERR_ARG, "There is no user '%s'.", user);
    } else {
        uint8_t hash[STORE_HASH_LEN];
        store_token t = {.user = user, .name = name, .expires_ms = expires_ms};
        if ((rc = store_token_new(token_out, &err)) == LSN_OK) {
            store_token_hash(token_out, hash);
            rc = store_token_add(s->st, &t, hash, &err);
        }
        if (rc == LSN_ERR_DUPLICATE)
            svc_refuse(res, SVC_DUPLICATE, rc, "%s already has a token named '%s'.", user, name);
        else if (rc != LSN_OK)
            svc_refuse(res, SVC_FAILED, rc, "The token could not be stored: %s", err.message);
    }
    lsn_free(u);
    snprintf(detail, sizeof detail, "token '%s'%s", name ? name : "",
             expires_ms ? ", with an expiry" : ", no expiry");
    rc = finish(s, a, "token.add", object, detail, rc, res);
    if (rc != LSN_OK)
        sodium_memzero(token_out, STORE_TOKEN_CHARS + 1);
    return rc;
}

lsn_err svc_token_list(svc *s, const svc_actor *a, const char *user, store_token_cb cb,
                       void *ctx, svc_result *res)
{
    char object[300];
    begin(res, user, object);
    if (!may(a, user, true))
        return refuse_right(s, a, "token.list", object, res);
    lsn_error err;
    lsn_err rc = store_token_list(s->st, user, cb, ctx, &err);
    if (rc != LSN_OK)
        return svc_refuse(res, SVC_FAILED, rc, "The tokens could not be listed.");
    return LSN_OK;
}

lsn_err svc_token_revoke(svc *s, const svc_actor *a, const char *user, const char *name,
                         svc_result *res)
{
    char object[300], detail[320];
    begin(res, user, object);
    if (!may(a, user, true))
        return refuse_right(s, a, "token.revoke", object, res);
    lsn_error err;
    lsn_err rc = user && name ? store_token_revoke(s->st, user, name, &err) : LSN_ERR_ARG;
    if (rc == LSN_ERR_ARG)
        svc_refuse(res, SVC_NOT_FOUND, rc, "%s has no token named '%s'.", user ? user : "",
                   name ? name : "");
    else if (rc != LSN_OK)
        svc_refuse(res, SVC_FAILED, rc, "The token could not be revoked: %s", err.message);
    else if (s->token_revoked)
        s->token_revoked(s->hook_ctx); /* the cached reader of that token goes */
    snprintf(detail, sizeof detail, "token '%s'", name ? name : "");
    return finish(s, a, "token.revoke", object, detail, rc, res);
}

lsn_err svc_user_set_certificate(svc *s, const svc_actor *a, const char *name,
                                 const uint8_t fp[STORE_HASH_LEN], svc_result *res)
{
    char object[300], detail[100] = "certificate unbound";
    begin(res, name, object);
    if (!may(a, name, false))
        return refuse_right(s, a, "user.set-certificate", object, res);
    store_user_change ch = {.status = -1, .roles = -1, .cert_fingerprint = fp,
                            .clear_cert = fp == NULL};
    if (fp) {
        char hex[2 * STORE_HASH_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, fp, STORE_HASH_LEN);
        snprintf(detail, sizeof detail, "certificate SHA-256 %.64s", hex);
    }
    lsn_err rc = change(s, name, &ch, res);
    if (rc == LSN_ERR_DUPLICATE || (rc != LSN_OK && res->refusal == SVC_FAILED &&
                                    strstr(res->reason, "already")))
        rc = svc_refuse(res, SVC_DUPLICATE, LSN_ERR_DUPLICATE,
                        "That certificate is bound to another user already.");
    return finish(s, a, "user.set-certificate", object, detail, rc, res);
}

lsn_err svc_user_set_certificate_subject(svc *s, const svc_actor *a, const char *name,
                                         const char *subject,
                                         const uint8_t issuer[STORE_HASH_LEN],
                                         svc_result *res)
{
    char object[300], detail[1200];
    begin(res, name, object);
    if (!may(a, name, false))
        return refuse_right(s, a, "user.set-certificate", object, res);
    char hex[2 * STORE_HASH_LEN + 1] = "";
    if (issuer)
        sodium_bin2hex(hex, sizeof hex, issuer, STORE_HASH_LEN);
    snprintf(detail, sizeof detail, "certificate subject '%.1000s' issuer SHA-256 %.64s",
             subject ? subject : "", hex);
    if (!subject || !*subject || !issuer) {
        lsn_err rc = svc_refuse(res, SVC_MALFORMED, LSN_ERR_ARG,
                                "A certificate subject needs the CA that issues it.");
        return finish(s, a, "user.set-certificate", object, detail, rc, res);
    }
    store_user_change ch = {.status = -1, .roles = -1, .cert_subject = subject,
                            .cert_issuer = issuer};
    lsn_err rc = change(s, name, &ch, res);
    if (rc == LSN_ERR_DUPLICATE || (rc != LSN_OK && res->refusal == SVC_FAILED &&
                                    strstr(res->reason, "already")))
        rc = svc_refuse(res, SVC_DUPLICATE, LSN_ERR_DUPLICATE,
                        "That subject under that CA is bound to another user already.");
    return finish(s, a, "user.set-certificate", object, detail, rc, res);
}
