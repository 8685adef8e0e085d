/* node/service_identity.c — the node's identity as the service layer uses
 * it: the policy's spelling of a nation, and the identity of a data
 * directory, made on first start when it has none (`liaison serve`), so
 * that every item the node accepts is signed (service_post.c). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "federation/identity.h"
#include "liaison/introspect.h"
#include "service.h"

const char *svc_nation_value(const lsn_policy_set *set, const char *nation)
{
    if (!nation)
        return NULL;
    for (size_t p = 0; p < lsn_policy_set_count(set); p++) {
        const lsn_policy *pol = lsn_policy_set_at(set, p);
        lsn_category_info ci;
        for (size_t i = 0; lsn_policy_category_at(pol, i, &ci); i++)
            if (!ci.obsolete && strcasecmp(ci.name, nation) == 0)
                return ci.name;
    }
    return NULL;
}

static bool exists(const char *dir, const char *file)
{
    char path[4096];
    struct stat st;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
        return true; /* too long to be ours: let the load say so */
    return lstat(path, &st) == 0;
}

lsn_err svc_identity_open(const char *data_dir, const lsn_policy_set *set, const char *name,
                          const char *nation, const char *default_name, bool *created, struct fed_identity **out,
                          lsn_error *err)
{
    *out = NULL;
    *created = false;
    if (exists(data_dir, FED_CERT_FILE) || exists(data_dir, FED_KEY_FILE)) {
        fed_identity *id = NULL;
        lsn_err rc = fed_identity_load(data_dir, true, &id, err);
        if (rc != LSN_OK)
            return rc;
        /* An identity is never overwritten: options that disagree are an
         * operator's mistake to show, not to follow. */
        if ((name && strcmp(name, fed_identity_name(id)) != 0) ||
            (nation && strcasecmp(nation, fed_identity_nation(id)) != 0)) {
            lsn_err e = core_fail(err, LSN_ERR_ARG,
                                  "the data directory's node is \"%s\" (%s), not the "
                                  "--node-name/--node-nation given",
                                  fed_identity_name(id), fed_identity_nation(id));
            fed_identity_free(id);
            return e;
        }
        *out = id;
        return LSN_OK;
    }
    char host[FED_NAME_MAX + 1] = "";
    if (!name)
        name = default_name;
    if (!name) {
        if (gethostname(host, sizeof host) != 0 || !host[0])
            snprintf(host, sizeof host, "liaison");
        host[FED_NAME_MAX] = '\0';
        name = host;
    }
    const char *value = NULL;
    if (nation) {
        if (!(value = svc_nation_value(set, nation)))
            return core_fail(err, LSN_ERR_ARG, "node-nation %s: not a category value of the "
                             "policy", nation);
    } else {
        const lsn_policy *pol = lsn_policy_set_count(set) ? lsn_policy_set_at(set, 0) : NULL;
        if (!pol || !(value = svc_nation_value(set, lsn_policy_name(pol))))
            return core_fail(err, LSN_ERR_ARG, "the node has no identity yet: give "
                             "--node-nation (a category value of the policy)");
    }
    lsn_err rc = fed_identity_create(data_dir, name, value, out, err);
    if (rc == LSN_OK)
        *created = true;
    return rc;
}
