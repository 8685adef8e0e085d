/* node/service_roles.c — THE table of rights, and what "releasing to
 * another nation" means.
 *
 * Four roles (store.h STORE_ROLE_*): a member posts and reads within their
 * clearance and may release only to their own nation and to the policy's
 * own community (NATO); releasing to any other nation needs the release
 * authority; the auditor reads the audit log; the administrator manages
 * organisations, users and channels. The node's route table and the CLI's
 * verbs name an act of this table; nothing else says who may do what. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "liaison/introspect.h"
#include "service.h"

const svc_right svc_acts[SVC_ACT_COUNT] = {
    [SVC_ACT_NONE] = {"none", 0, ""},
    [SVC_ACT_READ] = {"read", STORE_ROLE_MEMBER, "Reading needs the member role."},
    [SVC_ACT_POST] = {"post", STORE_ROLE_MEMBER, "Posting needs the member role."},
    [SVC_ACT_RELEASE] = {"release", STORE_ROLE_RELEASE_AUTHORITY,
                         "Releasing an item to another nation needs the release authority "
                         "role."},
    [SVC_ACT_AUDIT] = {"audit", STORE_ROLE_AUDITOR, "The audit log is for auditors."},
    [SVC_ACT_ADMINISTER] = {"administer", STORE_ROLE_ADMINISTRATOR,
                            "Adding organisations, users and channels needs the "
                            "administrator role."},
    [SVC_ACT_REQUEST_RELEASE] = {"request-release", STORE_ROLE_MEMBER,
                                 "Requesting a release needs the member role."},
    [SVC_ACT_DECIDE_RELEASE] = {"decide-release", STORE_ROLE_RELEASE_AUTHORITY,
                                "Deciding on a release request needs the release authority "
                                "role."},
    [SVC_ACT_CORRECT] = {"correct", STORE_ROLE_MEMBER,
                         "Correcting an item needs the member role."},
};

bool svc_allowed(unsigned roles, svc_act act)
{
    if ((unsigned)act >= SVC_ACT_COUNT)
        return false;
    unsigned need = svc_acts[act].role;
    return need == 0 || (roles & need) == need;
}

static const struct {
    const char *name;
    unsigned bit;
} role_names[] = {
    {"member", STORE_ROLE_MEMBER},
    {"release_authority", STORE_ROLE_RELEASE_AUTHORITY},
    {"auditor", STORE_ROLE_AUDITOR},
    {"administrator", STORE_ROLE_ADMINISTRATOR},
    {"release-authority", STORE_ROLE_RELEASE_AUTHORITY}, /* the CLI's spelling */
};

bool svc_role_parse(const char *name, unsigned *bit)
{
    for (size_t i = 0; name && i < sizeof role_names / sizeof role_names[0]; i++)
        if (strcmp(role_names[i].name, name) == 0) {
            *bit = role_names[i].bit;
            return true;
        }
    return false;
}

const char *svc_role_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (role_names[i].bit == bit)
            return role_names[i].name;
    return NULL;
}

static bool permissive(const char *type)
{
    return type && (strcmp(type, "permissive") == 0 || strcmp(type, "enumeratedPermissive") == 0);
}

/* The tag sets that say releasability for an organisation category: those
 * permissive tag sets holding a value of that name; the enumerated ones
 * (a list of nations) when there are both kinds (NATO is a Context and a
 * Releasable To value). Their ids into ids[] (at most cap); the count. */
static size_t release_tag_sets(const lsn_policy *p, const char *category, const char **ids,
                               size_t cap)
{
    size_t n = 0;
    bool enumerated = false;
    for (size_t i = 0, nc = lsn_policy_category_count(p); i < nc && category; i++) {
        lsn_category_info c;
        if (!lsn_policy_category_at(p, i, &c) || !permissive(c.type) ||
            strcasecmp(c.name, category) != 0)
            continue;
        bool en = strcmp(c.type, "enumeratedPermissive") == 0;
        if (en && !enumerated) { /* the enumerated kind wins: forget the others */
            enumerated = true;
            n = 0;
        }
        if (en == enumerated && n < cap)
            ids[n++] = c.tag_set_id;
    }
    return n;
}

size_t svc_release_foreign(const svc_actor *a, const lsn_label *l, char *out, size_t cap)
{
    const lsn_policy *p = lsn_label_policy(l);
    const char *home = p ? lsn_policy_name(p) : NULL;
    const char *ids[8];
    size_t nids = p ? release_tag_sets(p, a->org_category, ids, 8) : 0;
    size_t count = 0, used = 0;
    if (cap)
        out[0] = '\0';
    for (size_t i = 0, n = lsn_label_category_count(l); i < n && p; i++) {
        lsn_category_info c;
        if (!lsn_policy_category_at(p, (size_t)lsn_label_category_at(l, i), &c) ||
            !permissive(c.type))
            continue;
        bool release_set = nids == 0; /* no organisation category: every permissive set */
        for (size_t k = 0; k < nids && !release_set; k++)
            release_set = strcmp(ids[k], c.tag_set_id) == 0;
        if (!release_set || (a->org_category && strcasecmp(c.name, a->org_category) == 0) ||
            (home && strcasecmp(c.name, home) == 0))
            continue;
        count++;
        if (used < cap) {
            int k = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", c.name);
            used = k > 0 ? used + (size_t)k : used;
            if (used >= cap)
                used = cap;
        }
    }
    return count;
}
