/* node/demo.c — `liaison serve --demo`: seed an empty store from a demo
 * data file (data/demo.json: organisations, users with clearances in the
 * engine's JSON form, channels, labelled items), and write each user's
 * name, organisation, clearance marking and bearer token to
 * DATA/demo-credentials.json (mode 0600). Tokens come from the store's
 * generator and only their hashes are stored. Every seeded label is
 * validated and must be within its author's clearance: bad demo data stops
 * the node rather than planting an item no rule would have let in. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "node_internal.h"

static unsigned roles_from(json_t *a)
{
    unsigned roles = 0;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        if (!strcmp(s, "member")) roles |= STORE_ROLE_MEMBER;
        else if (!strcmp(s, "release_authority") || !strcmp(s, "release-authority")) roles |= STORE_ROLE_RELEASE_AUTHORITY;
        else if (!strcmp(s, "auditor")) roles |= STORE_ROLE_AUDITOR;
        else if (!strcmp(s, "administrator")) roles |= STORE_ROLE_ADMINISTRATOR;
    }
    return roles ? roles : STORE_ROLE_MEMBER;
}

static lsn_err seed_orgs(node *n, json_t *orgs, lsn_error *err)
{
    size_t i;
    json_t *o;
    json_array_foreach(orgs, i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *cat = json_string_value(json_object_get(o, "category"));
        if (!name || !cat)
            return lsn_fail(err, LSN_ERR_ARG, "organisation %zu needs name and category", i);
        lsn_err rc = store_org_add(n->st, name, cat, NULL, err);
        if (rc != LSN_OK)
            return rc;
        (void)node_audit(n, "system", "org.add", name, "ok", "demo");
    }
    return LSN_OK;
}

static lsn_err seed_channels(node *n, json_t *chans, lsn_error *err)
{
    size_t i;
    json_t *c;
    json_array_foreach(chans, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *purpose = json_string_value(json_object_get(c, "purpose"));
        if (!name)
            return lsn_fail(err, LSN_ERR_ARG, "channel %zu needs a name", i);
        lsn_err rc = store_channel_add(n->st, name, purpose ? purpose : "", NULL, err);
        if (rc != LSN_OK)
            return rc;
        (void)node_audit(n, "system", "channel.add", name, "ok", "demo");
    }
    return LSN_OK;
}

/* Seed the users; append their credentials to creds. */
static lsn_err seed_users(node *n, json_t *users, json_t *creds, lsn_error *err)
{
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u) {
        const char *name = json_string_value(json_object_get(u, "name"));
        const char *org = json_string_value(json_object_get(u, "organisation"));
        json_t *jc = json_object_get(u, "clearance");
        if (!name || !org || !json_is_object(jc))
            return lsn_fail(err, LSN_ERR_ARG, "user %zu needs name, organisation, clearance", i);
        char *ctext = json_dumps(jc, JSON_COMPACT);
        lsn_clearance *c = NULL;
        lsn_err rc = ctext ? lsn_clearance_parse(n->set, ctext, strlen(ctext), LSN_FORM_JSON,
                                                 &c, err)
                           : lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
        free(ctext);
        if (rc != LSN_OK)
            return lsn_fail(err, rc, "user %s: %s", name, err->message);
        char *canon = NULL, mark[2048];
        if ((rc = lsn_clearance_write(c, LSN_FORM_JSON, &canon, NULL, err)) != LSN_OK ||
            lsn_clearance_marking(c, "en", mark, sizeof mark, NULL) != LSN_OK) {
            lsn_clearance_free(c);
            lsn_free(canon);
            return rc != LSN_OK ? rc : lsn_fail(err, LSN_ERR_LIMIT, "user %s: marking", name);
        }
        lsn_clearance_free(c);
        char token[STORE_TOKEN_CHARS + 1];
        store_user su = {.name = name, .organisation = org, .clearance = canon,
                         .roles = roles_from(json_object_get(u, "roles"))};
        if ((rc = store_token_new(token, err)) == LSN_OK) {
            store_token_hash(token, su.token_hash);
            rc = store_user_add(n->st, &su, NULL, err);
        }
        lsn_free(canon);
        if (rc != LSN_OK)
            return rc;
        json_array_append_new(creds, json_pack("{s:s, s:s, s:s, s:s}", "user", name,
                                               "organisation", org, "clearance", mark,
                                               "token", token));
        memset(token, 0, sizeof token);
        (void)node_audit(n, "system", "user.add", name, "ok", "demo");
    }
    return LSN_OK;
}

static char *label_marking(const lsn_label *l, const char *lang)
{
    char buf[4096];
    if (lsn_label_marking(l, lang, buf, sizeof buf, NULL) != LSN_OK)
        return NULL;
    return lsn_strdup(buf);
}

static lsn_err seed_item(node *n, json_t *it, size_t i, int64_t t0, lsn_error *err)
{
    const char *channel = json_string_value(json_object_get(it, "channel"));
    const char *author = json_string_value(json_object_get(it, "author"));
    const char *body = json_string_value(json_object_get(it, "body"));
    json_t *jl = json_object_get(it, "label");
    if (!channel || !author || !body || !json_is_object(jl))
        return lsn_fail(err, LSN_ERR_ARG, "item %zu needs channel, author, label, body", i);
    store_user *u = NULL;
    lsn_err rc = store_user_get(n->st, author, &u, err);
    if (rc != LSN_OK)
        return rc;
    if (!u)
        return lsn_fail(err, LSN_ERR_ARG, "item %zu: no user %s", i, author);
    char *ltext = json_dumps(jl, JSON_COMPACT), *canon = NULL, *en = NULL, *fr = NULL;
    lsn_label *l = NULL;
    lsn_clearance *c = NULL;
    bool valid = false;
    char reason[256] = "";
    lsn_decision d = LSN_DENY;
    if (!ltext) {
        rc = lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = lsn_label_parse(n->set, ltext, strlen(ltext), LSN_FORM_JSON, &l, err)) != LSN_OK ||
        (rc = lsn_clearance_parse(n->set, u->clearance, strlen(u->clearance), LSN_FORM_JSON, &c,
                                  err)) != LSN_OK) {
        rc = lsn_fail(err, rc, "item %zu: %s", i, err->message);
        goto out;
    }
    if (lsn_label_validate(l, &valid, reason, sizeof reason) != LSN_OK || !valid) {
        rc = lsn_fail(err, LSN_ERR_LABEL, "item %zu: invalid label: %s", i, reason);
        goto out;
    }
    if (lsn_access_check(n->set, l, c, &d) != LSN_OK || d != LSN_GRANT) {
        rc = lsn_fail(err, LSN_ERR_ARG, "item %zu: label beyond %s's clearance", i, author);
        goto out;
    }
    if ((rc = lsn_label_write(l, LSN_FORM_JSON, &canon, NULL, err)) != LSN_OK)
        goto out;
    if (!(en = label_marking(l, "en")) || !(fr = label_marking(l, "fr"))) {
        rc = lsn_fail(err, LSN_ERR_LIMIT, "item %zu: marking too long", i);
        goto out;
    }
    store_item si = {.channel = channel, .author = author, .organisation = u->organisation,
                     .label = canon, .marking_en = en, .marking_fr = fr,
                     .classification = lsn_label_class_index(l), .body = body,
                     .created_ms = t0 + (int64_t)i * 60000};
    store_audit_event post = {.time_ms = si.created_ms, .actor = author, .action = "post",
                              .outcome = "ok", .detail = "demo"};
    int64_t id;
    rc = store_item_append(n->st, &si, &post, &id, NULL, err);
out:
    free(ltext);
    lsn_free(canon);
    lsn_free(en);
    lsn_free(fr);
    lsn_label_free(l);
    lsn_clearance_free(c);
    lsn_free(u);
    return rc;
}

static lsn_err write_creds(const char *data_dir, json_t *creds, lsn_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/demo-credentials.json", data_dir) >= sizeof path)
        return lsn_fail(err, LSN_ERR_ARG, "data directory path too long");
    char *text = json_dumps(creds, JSON_INDENT(2));
    if (!text)
        return lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    lsn_err rc = LSN_OK;
    size_t len = strlen(text), off = 0;
    if (fd < 0) {
        rc = lsn_fail(err, LSN_ERR_IO, "%s: %s", path, strerror(errno));
    } else {
        (void)fchmod(fd, 0600); /* an older file may have had other bits */
        while (off < len) {
            ssize_t w = write(fd, text + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = lsn_fail(err, LSN_ERR_IO, "%s: %s", path, strerror(errno));
                break;
            }
            off += (size_t)w;
        }
        if (rc == LSN_OK && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
            rc = lsn_fail(err, LSN_ERR_IO, "%s: %s", path, strerror(errno));
        close(fd);
    }
    memset(text, 0, len);
    free(text);
    return rc;
}

/* data/demo.json, compiled in by scripts/embed.py (src/node/meson.build). */
extern const char node_demo_data[];
extern const size_t node_demo_data_len;

lsn_err node_demo_seed(node *n, const char *demo_file, const char *data_dir, lsn_error *err)
{
    json_error_t je;
    json_t *d = demo_file ? json_load_file(demo_file, JSON_REJECT_DUPLICATES, &je)
                          : json_loadb(node_demo_data, node_demo_data_len,
                                       JSON_REJECT_DUPLICATES, &je);
    if (!d)
        return lsn_fail(err, LSN_ERR_IO, "%s:%d: %s", demo_file ? demo_file : "built-in demo data",
                        je.line, je.text);
    json_t *creds = json_array();
    lsn_err rc = creds ? LSN_OK : lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
    if (rc == LSN_OK)
        rc = seed_orgs(n, json_object_get(d, "organisations"), err);
    if (rc == LSN_OK)
        rc = seed_channels(n, json_object_get(d, "channels"), err);
    if (rc == LSN_OK)
        rc = seed_users(n, json_object_get(d, "users"), creds, err);
    if (rc == LSN_OK) {
        /* Items dated over the last hours, a minute apart, oldest first. */
        json_t *items = json_object_get(d, "items");
        int64_t t0 = (int64_t)time(NULL) * 1000 - (int64_t)json_array_size(items) * 60000;
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            if ((rc = seed_item(n, it, i, t0, err)) != LSN_OK)
                break;
        }
    }
    if (rc == LSN_OK)
        rc = write_creds(data_dir, creds, err);
    json_decref(creds);
    json_decref(d);
    return rc;
}
