/* node/guard.c — the guard at the node's boundary: what a peer may
 * receive, decided with the same engine as a reader's access.
 *
 * A peer's clearance is derived from the policy alone (no nation is named
 * in code): the highest classification agreed with the peer (or the
 * policy's highest), and its nation's releasability — the value naming the
 * nation in every permissive tag set that holds it, with the categories
 * that value requires by an "all" rule of the SPIF (under the bundled
 * policy: "Releasable To JPN" requires the Context "Releasable"). So a
 * peer receives what a label releases to its nation, and nothing meant for
 * the policy's community alone — unless its nation is that community (a
 * NATO node: the value NATO is in Releasable To and in Context). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"
#include "guard.h"
#include "liaison/introspect.h"

static bool permissive(const char *type)
{
    return strcmp(type, "permissive") == 0 || strcmp(type, "enumeratedPermissive") == 0;
}

/* Add value `name` to tag set `tag_set` in cats ({tagSet: [values]}),
 * once. */
static bool add_value(json_t *cats, const char *tag_set, const char *name)
{
    json_t *vals = json_object_get(cats, tag_set);
    if (!vals) {
        vals = json_array();
        if (!vals || json_object_set_new(cats, tag_set, vals) != 0)
            return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v)
        if (strcmp(json_string_value(v), name) == 0)
            return true;
    return json_array_append_new(vals, json_string(name)) == 0;
}

/* The name of the category of tag set `tag_set` with LACV `lacv`. */
static const char *category_named(const lsn_policy *p, const char *tag_set, uint32_t lacv)
{
    lsn_category_info ci;
    for (size_t i = 0; lsn_policy_category_at(p, i, &ci); i++)
        if (!ci.obsolete && ci.lacv == lacv && strcmp(ci.tag_set, tag_set) == 0)
            return ci.name;
    return NULL;
}

lsn_err guard_peer_clearance(const lsn_policy_set *set, const char *nation,
                             const char *max_classification, lsn_clearance **out,
                             lsn_error *err)
{
    return guard_peer_clearance_under(set, NULL, nation, max_classification, out, err);
}

lsn_err guard_peer_clearance_under(const lsn_policy_set *set, const char *policy_oid,
                                   const char *nation, const char *max_classification,
                                   lsn_clearance **out, lsn_error *err)
{
    *out = NULL;
    const lsn_policy *p = policy_oid ? lsn_policy_set_find_id(set, policy_oid)
                          : lsn_policy_set_count(set) ? lsn_policy_set_at(set, 0) : NULL;
    if (!p || !nation)
        return core_fail(err, LSN_ERR_ARG, "no policy or no nation");
    /* The classification: the one agreed, or the highest. */
    const char *cls = NULL;
    long top = -1;
    lsn_class_info k;
    for (size_t i = 0; lsn_policy_class_at(p, i, &k); i++) {
        if (k.obsolete)
            continue;
        if (max_classification ? strcasecmp(k.name, max_classification) == 0
                               : k.hierarchy > top) {
            cls = k.name;
            top = k.hierarchy;
        }
    }
    if (!cls)
        return core_fail(err, LSN_ERR_ARG, "%s: not a classification of the policy %s",
                         max_classification ? max_classification : "(none)",
                         lsn_policy_name(p));
    json_t *cats = json_object();
    bool good = cats != NULL, found = false;
    lsn_category_info ci;
    for (size_t i = 0; good && lsn_policy_category_at(p, i, &ci); i++) {
        if (ci.obsolete || !permissive(ci.type) || strcasecmp(ci.name, nation) != 0)
            continue;
        found = true;
        good = add_value(cats, ci.tag_set, ci.name);
        lsn_requirement_info r;
        for (size_t j = 0; good && lsn_policy_category_requirement_at(p, i, j, &r); j++) {
            if (strcmp(r.operation, "all") != 0 || r.any_value)
                continue;
            const char *req = category_named(p, r.tag_set, r.lacv);
            if (req)
                good = add_value(cats, r.tag_set, req);
        }
    }
    if (good && !found) {
        json_decref(cats);
        return core_fail(err, LSN_ERR_ARG, "%s: no permissive category of the policy %s",
                         nation, lsn_policy_name(p));
    }
    /* {"policy", "maxClassification", "categories": [{tagSet, values}]} */
    json_t *list = json_array();
    const char *ts;
    json_t *vals;
    good = good && list;
    if (good)
        json_object_foreach(cats, ts, vals)
            if (json_array_append_new(list, json_pack("{s:s, s:O}", "tagSet", ts, "values",
                                                      vals)) != 0)
                good = false;
    json_t *doc = good ? json_pack("{s:s, s:s, s:O}", "policy", lsn_policy_name(p),
                                   "maxClassification", cls, "categories", list)
                       : NULL;
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    json_decref(list);
    json_decref(cats);
    if (!text)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory making a peer clearance");
    lsn_err rc = lsn_clearance_parse(set, text, strlen(text), LSN_FORM_JSON, out, err);
    free(text);
    return rc;
}

bool guard_releases(const lsn_policy_set *set, const lsn_label *label,
                    const lsn_clearance *peer, const lsn_clearance *relay)
{
    lsn_decision d = LSN_DENY;
    if (!label || !peer || lsn_access_check(set, label, peer, &d) != LSN_OK || d != LSN_GRANT)
        return false;
    if (!relay)
        return true;
    d = LSN_DENY; /* the relay holds what it relays: its guard applies too */
    return lsn_access_check(set, label, relay, &d) == LSN_OK && d == LSN_GRANT;
}

lsn_err guard_label_for(const lsn_policy_set *set, const lsn_label *label,
                        const char *policy_oid, lsn_label **out, lsn_error *err)
{
    *out = NULL;
    const lsn_policy *lp = label ? lsn_label_policy(label) : NULL;
    if (!lp)
        return core_fail(err, LSN_ERR_ARG, "no label");
    if (!policy_oid || strcmp(lsn_policy_id(lp), policy_oid) == 0)
        return LSN_OK; /* the label itself */
    return lsn_label_translate(label, set, policy_oid, out, err);
}
