/* node/policy_json.c — GET /api/v1/policy: what a client needs to build a
 * label picker that offers only valid choices: the classifications (LACV,
 * name, hierarchy, banner colours, markings in English and French) and the
 * categories by tag set (type, which classifications exclude each, and
 * what each requires: the SPIF's requiredCategory rules), and the SPIF's
 * named groups of categories (presets for the picker).
 * Everything comes from the loaded SPIF through the public introspection
 * API; nothing is hard-coded here. */
#include <stdio.h>
#include <string.h>

#include "liaison/introspect.h"
#include "node_internal.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A readable text colour on a #RRGGBB background: black on light, white on
 * dark (relative luminance, sRGB weights). NULL if the colour is not hex. */
static const char *foreground_for(const char *bg)
{
    if (!bg || strlen(bg) != 7 || bg[0] != '#')
        return NULL;
    int v[6];
    for (int i = 0; i < 6; i++)
        if ((v[i] = hexval(bg[1 + i])) < 0)
            return NULL;
    double r = v[0] * 16 + v[1], g = v[2] * 16 + v[3], b = v[4] * 16 + v[5];
    double lum = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0;
    return lum > 0.5 ? "#000000" : "#FFFFFF";
}

/* The SPIF's named groups (NATO's memberships: the nations of a mission or
 * partnership), for the picker to offer as named releases: each as its
 * name, the tag set of its first category and the values of its
 * categories in that tag set. */
static json_t *groups_json(const lsn_policy *p)
{
    json_t *out = json_array();
    size_t ng = lsn_policy_group_count(p);
    for (size_t g = 0; out && g < ng; g++) {
        size_t ncats = 0;
        const char *name = lsn_policy_group_at(p, g, &ncats);
        const char *tag_set = NULL;
        json_t *values = json_array();
        for (size_t j = 0; values && j < ncats; j++) {
            size_t ci;
            lsn_category_info info;
            if (!lsn_policy_group_category(p, g, j, &ci) || !lsn_policy_category_at(p, ci, &info))
                continue;
            if (!tag_set)
                tag_set = info.tag_set;
            if (!strcmp(info.tag_set, tag_set))
                json_array_append_new(values, json_string(info.name));
        }
        if (name && tag_set)
            json_array_append_new(out, json_pack("{s:s, s:s, s:o}", "name", name, "tagSet",
                                                 tag_set, "values", values));
        else
            json_decref(values);
    }
    return out;
}

void node_h_policy(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    const lsn_policy *p = n->policy;
    json_t *classes = json_array(), *tagsets = json_array();
    size_t nc = lsn_policy_class_count(p);
    for (size_t i = 0; i < nc; i++) {
        lsn_class_info ci;
        if (!lsn_policy_class_at(p, i, &ci))
            continue;
        json_array_append_new(
            classes,
            json_pack("{s:I, s:s, s:I, s:s?, s:s?, s:s?, s:s?, s:b}", "lacv",
                      (json_int_t)ci.lacv, "name", ci.name, "hierarchy",
                      (json_int_t)ci.hierarchy, "background", ci.color, "foreground",
                      foreground_for(ci.color), "marking",
                      lsn_policy_class_marking(p, i, "en"), "markingFr",
                      lsn_policy_class_marking(p, i, "fr"), "obsolete", ci.obsolete));
    }
    size_t nk = lsn_policy_category_count(p);
    json_t *cur = NULL; /* the current tag set's categories */
    const char *cur_id = NULL;
    for (size_t i = 0; i < nk; i++) {
        lsn_category_info k;
        if (!lsn_policy_category_at(p, i, &k))
            continue;
        if (!cur_id || strcmp(cur_id, k.tag_set_id) != 0) {
            /* Categories come in document order, tag set by tag set. */
            cur = json_array();
            json_array_append_new(tagsets, json_pack("{s:s, s:s, s:o}", "name", k.tag_set,
                                                     "id", k.tag_set_id, "categories", cur));
            cur_id = k.tag_set_id;
        }
        json_t *excl = json_array();
        for (size_t c = 0; c < nc && c < 64; c++) {
            lsn_class_info ci;
            if ((k.excluded_classes >> c & 1) && lsn_policy_class_at(p, c, &ci))
                json_array_append_new(excl, json_string(ci.name));
        }
        /* markingFr: the category's French phrase, when the policy has one
         * (the page names nations with it: "Japon"). */
        json_t *cat = json_pack("{s:s, s:I, s:s, s:o, s:b, s:s?}", "name", k.name, "lacv",
                                (json_int_t)k.lacv, "type", k.type, "excludedBy", excl,
                                "obsolete", k.obsolete, "markingFr",
                                lsn_policy_category_phrase(p, i, "fr"));
        /* The SPIF's requiredCategory rules, so a picker can add what a
         * choice requires ("all") and warn about the rest. */
        size_t nr = lsn_policy_category_requirement_count(p, i);
        if (nr > 0) {
            json_t *needs = json_array();
            for (size_t r = 0; r < nr; r++) {
                lsn_requirement_info ri;
                if (!lsn_policy_category_requirement_at(p, i, r, &ri))
                    continue;
                /* One entry per category group; `rule` ties together the
                 * groups of one rule (alternatives of a oneOrMore). */
                json_array_append_new(
                    needs, json_pack("{s:I, s:s, s:s, s:o}", "rule", (json_int_t)ri.rule,
                                     "operation", ri.operation, "tagSet", ri.tag_set,
                                     "lacv", ri.any_value ? json_null()
                                                          : json_integer((json_int_t)ri.lacv)));
            }
            json_object_set_new(cat, "requires", needs);
        }
        json_array_append_new(cur, cat);
    }
    srv_resp_json(resp, 200,
                  json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o}", "id", lsn_policy_id(p), "name",
                            lsn_policy_name(p), "version", lsn_policy_version(p),
                            "classifications", classes, "tagSets", tagsets, "groups",
                            groups_json(p)));
}
