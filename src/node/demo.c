/* node/demo.c — `liaison serve --demo`: seed an empty store from a demo
 * data file (data/demo.json: organisations, users with clearances in the
 * engine's JSON form and roles, channels, labelled items), and write each
 * user's name, organisation, clearance marking, roles, bearer token and
 * password (random, made here) to
 * DATA/demo-credentials.json (mode 0600). Everything goes through the
 * service layer, as the node's own administrator for the organisations,
 * users and channels, and as its author for each item: an item is accepted
 * exactly as a post would be (valid label, within the author's clearance,
 * released only as far as the author's role allows), so bad demo data stops
 * the node rather than planting an item no rule would have let in. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "node_internal.h"

/* The demo loader acts as the node's own administrator. */
static const svc_actor demo_admin = {.name = "system", .roles = STORE_ROLE_ADMINISTRATOR};

/* A refusal of the service as the loader's error. */
static lsn_err refused(lsn_error *err, lsn_err rc, const char *what, size_t i,
                       const svc_result *res)
{
    return core_fail(err, rc ? rc : LSN_ERR_ARG, "%s %zu: %s", what, i, res->reason);
}

static unsigned roles_from(json_t *a)
{
    unsigned roles = 0, bit;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (svc_role_parse(json_string_value(v), &bit))
            roles |= bit;
    return roles ? roles : STORE_ROLE_MEMBER;
}

static lsn_err seed_orgs(node *n, json_t *orgs, lsn_error *err)
{
    size_t i;
    json_t *o;
    json_array_foreach(orgs, i, o) {
        svc_result res;
        lsn_err rc = svc_org_add(&n->svc, &demo_admin,
                                 json_string_value(json_object_get(o, "name")),
                                 json_string_value(json_object_get(o, "category")), &res);
        if (rc != LSN_OK)
            return refused(err, rc, "organisation", i, &res);
    }
    return LSN_OK;
}

static lsn_err seed_channels(node *n, json_t *chans, lsn_error *err)
{
    size_t i;
    json_t *c;
    json_array_foreach(chans, i, c) {
        svc_result res;
        lsn_err rc = svc_channel_add(&n->svc, &demo_admin,
                                     json_string_value(json_object_get(c, "name")),
                                     json_string_value(json_object_get(c, "purpose")),
                                     json_is_true(json_object_get(c, "local")), &res);
        if (rc != LSN_OK)
            return refused(err, rc, "channel", i, &res);
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
        char *ctext = json_is_object(jc) ? json_dumps(jc, JSON_COMPACT) : NULL;
        svc_new_user nu = {.name = name, .organisation = org, .clearance = ctext,
                           .clearance_len = ctext ? strlen(ctext) : 0,
                           .clearance_form = LSN_FORM_JSON,
                           .roles = roles_from(json_object_get(u, "roles"))};
        char token[STORE_TOKEN_CHARS + 1], mark[2048], password[24];
        /* Each demo user gets a random password (16 base64url characters):
         * no well-known password ships with the product. */
        unsigned char raw[12];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(password, sizeof password, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        nu.password = password;
        svc_result res;
        lsn_err rc = svc_user_add(&n->svc, &demo_admin, &nu, token, mark, sizeof mark, &res);
        free(ctext);
        if (rc != LSN_OK)
            return refused(err, rc, "user", i, &res);
        json_t *roles = json_array();
        for (unsigned bit = 1; bit <= STORE_ROLE_ADMINISTRATOR; bit <<= 1)
            if (nu.roles & bit)
                json_array_append_new(roles, json_string(svc_role_name(bit)));
        json_array_append_new(creds, json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "user", name,
                                               "organisation", org, "clearance", mark,
                                               "roles", roles, "token", token, "password",
                                               password));
        sodium_memzero(token, sizeof token);
        sodium_memzero(password, sizeof password);
    }
    return LSN_OK;
}

/* An item, accepted as any post is: by the service, as its author. */
static lsn_err seed_item(node *n, json_t *it, size_t i, int64_t t0, lsn_error *err)
{
    const char *author = json_string_value(json_object_get(it, "author"));
    svc_reader r;
    lsn_err rc = author ? svc_reader_load(&n->svc, author, &r, err)
                        : core_fail(err, LSN_ERR_ARG, "item %zu needs an author", i);
    if (rc != LSN_OK)
        return rc;
    if (!r.user)
        return core_fail(err, LSN_ERR_ARG, "item %zu: no user %s", i, author);
    json_t *jb = json_object_get(it, "body");
    svc_post p = {.channel = json_string_value(json_object_get(it, "channel")),
                  .label = json_object_get(it, "label"), .body = json_string_value(jb),
                  .body_len = json_string_length(jb),
                  .created_ms = t0 + (int64_t)i * 60000, .audit_detail = "demo"};
    svc_actor a = svc_actor_of(&r);
    svc_result res;
    rc = svc_post_now(&n->svc, &a, &p, NULL, &res);
    svc_reader_release(&r);
    return rc != LSN_OK ? refused(err, rc, "item", i, &res) : LSN_OK;
}

static lsn_err write_creds(const char *data_dir, json_t *creds, lsn_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/demo-credentials.json", data_dir) >= sizeof path)
        return core_fail(err, LSN_ERR_ARG, "data directory path too long");
    char *text = json_dumps(creds, JSON_INDENT(2));
    if (!text)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    lsn_err rc = LSN_OK;
    size_t len = strlen(text), off = 0;
    if (fd < 0) {
        rc = core_fail(err, LSN_ERR_IO, "%s: %s", path, strerror(errno));
    } else {
        (void)fchmod(fd, 0600); /* an older file may have had other bits */
        while (off < len) {
            ssize_t w = write(fd, text + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = core_fail(err, LSN_ERR_IO, "%s: %s", path, strerror(errno));
                break;
            }
            off += (size_t)w;
        }
        if (rc == LSN_OK && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
            rc = core_fail(err, LSN_ERR_IO, "%s: %s", path, strerror(errno));
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
        return core_fail(err, LSN_ERR_IO, "%s:%d: %s", demo_file ? demo_file : "built-in demo data",
                        je.line, je.text);
    json_t *creds = json_array();
    lsn_err rc = creds ? LSN_OK : core_fail(err, LSN_ERR_NOMEM, "out of memory");
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
