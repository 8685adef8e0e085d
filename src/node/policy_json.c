/* node/policy_json.c — GET /api/v1/policy: what a client needs to build a
 * label picker that offers only valid choices: the classifications (LACV,
 * name, hierarchy, banner colours, markings in English, French and
 * Japanese) and the categories by tag set (type, which classifications
 * exclude each, and what each requires: the SPIF's requiredCategory rules),
 * and the SPIF's named groups of categories (presets for the picker).
 * `?policy=OID|NAME` gives another policy the node holds (a national
 * policy) the same way, with each classification's and category's
 * equivalent under the node's policy (what the author's clearance, which is
 * under the node's policy, is checked against); `policies` lists them all.
 * Everything comes from the loaded SPIFs through the public API; nothing
 * is hard-coded here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/introspect.h"
#include "node_internal.h"
#include "server/errors.h"

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

/* The policies the node holds, its own first: the page offers them to
 * post under. */
static json_t *policies_json(const node *n)
{
    json_t *out = json_array();
    for (size_t i = 0; out && i < lsn_policy_set_count(n->set); i++) {
        const lsn_policy *q = lsn_policy_set_at(n->set, i);
        json_array_append_new(out, json_pack("{s:s, s:s, s:s?, s:b}", "id", lsn_policy_id(q),
                                             "name", lsn_policy_name(q), "version",
                                             lsn_policy_version(q), "node", q == n->policy));
    }
    return out;
}

/* A label of policy p parsed from its JSON form (docs/LABEL-JSON.md) and
 * translated into the node's policy; NULL when it has no equivalent. */
static lsn_label *translated(const node *n, json_t *label_json)
{
    char *text = label_json ? json_dumps(label_json, JSON_COMPACT) : NULL;
    json_decref(label_json);
    if (!text)
        return NULL;
    lsn_label *l = NULL, *t = NULL;
    lsn_error err;
    if (lsn_label_parse(n->set, text, strlen(text), LSN_FORM_JSON, &l, &err) == LSN_OK &&
        lsn_label_translate(l, n->set, lsn_policy_id(n->policy), &t, &err) != LSN_OK)
        t = NULL;
    lsn_label_free(l);
    free(text);
    return t;
}

/* Classification `ci` of a national policy p: its equivalent under the
 * node's policy, {"classification": NAME}, or NULL when it has none. */
static json_t *class_equivalent(const node *n, const lsn_policy *p, const lsn_class_info *ci)
{
    lsn_label *t = translated(n, json_pack("{s:s, s:I}", "policy", lsn_policy_id(p),
                                           "classification", (json_int_t)ci->lacv));
    lsn_class_info to;
    int ix = lsn_label_class_index(t);
    json_t *out = ix >= 0 && lsn_policy_class_at(n->policy, (size_t)ix, &to) && to.name
                      ? json_pack("{s:s}", "classification", to.name)
                      : NULL;
    lsn_label_free(t);
    return out;
}

static bool label_has(const lsn_label *l, long cat)
{
    for (size_t i = 0; i < lsn_label_category_count(l); i++)
        if (lsn_label_category_at(l, i) == cat)
            return true;
    return false;
}

/* Category k of a national policy p: the categories of the node's policy
 * it translates into, [{"tagSet", "type", "name"}] — those a label with
 * this category alone gains over one with its classification `base` alone
 * (a classification's equivalence may add categories of its own). Empty
 * when it translates into none (discarded, or no equivalent). */
static json_t *category_equivalent(const node *n, const lsn_policy *p, uint32_t base,
                                   const lsn_category_info *k, const lsn_label *base_t)
{
    json_t *out = json_array();
    lsn_label *t = translated(
        n, json_pack("{s:s, s:I, s:[{s:s, s:s, s:[I]}]}", "policy", lsn_policy_id(p),
                     "classification", (json_int_t)base, "categories", "tagSet", k->tag_set_id,
                     "type", k->type, "values", (json_int_t)k->lacv));
    for (size_t i = 0; out && t && i < lsn_label_category_count(t); i++) {
        long c = lsn_label_category_at(t, i);
        lsn_category_info to;
        if (c < 0 || label_has(base_t, c) || !lsn_policy_category_at(n->policy, (size_t)c, &to))
            continue;
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "tagSet", to.tag_set, "type",
                                             to.type, "name", to.name));
    }
    lsn_label_free(t);
    return out;
}

void node_h_policy(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    const lsn_policy *p = n->policy;
    const char *want = srv_req_query(req, "policy");
    if (want && !(p = lsn_policy_set_find_id(n->set, want)) &&
        !(p = lsn_policy_set_find_name(n->set, want))) {
        srv_resp_error(resp, 404, SRV_E_NOT_FOUND, "The node holds no such policy.");
        return;
    }
    /* Under a national policy, what each choice is under the node's:
     * the base label (its first classification alone) translated once. */
    bool national = p != n->policy;
    lsn_class_info first = {0};
    lsn_label *base_t = NULL;
    if (national && lsn_policy_class_at(p, 0, &first))
        base_t = translated(n, json_pack("{s:s, s:I}", "policy", lsn_policy_id(p),
                                         "classification", (json_int_t)first.lacv));
    bool ja = lsn_policy_speaks(p, "ja");
    json_t *classes = json_array(), *tagsets = json_array();
    size_t nc = lsn_policy_class_count(p);
    for (size_t i = 0; i < nc; i++) {
        lsn_class_info ci;
        if (!lsn_policy_class_at(p, i, &ci))
            continue;
        json_t *c = json_pack("{s:I, s:s, s:I, s:s?, s:s?, s:b}", "lacv", (json_int_t)ci.lacv,
                              "name", ci.name, "hierarchy", (json_int_t)ci.hierarchy, "marking",
                              lsn_policy_class_marking(p, i, "en"), "markingFr",
                              lsn_policy_class_marking(p, i, "fr"), "obsolete", ci.obsolete);
        /* Colours only where the SPIF gives them (a national policy may
         * not: the page then takes its equivalent's). */
        const char *fg = foreground_for(ci.color);
        if (c && ci.color)
            json_object_set_new(c, "background", json_string(ci.color));
        if (c && fg)
            json_object_set_new(c, "foreground", json_string(fg));
        /* Japanese only where the policy writes it (else it would be the
         * English phrase under a Japanese label). */
        if (c && ja)
            json_object_set_new(c, "markingJa", json_string(lsn_policy_class_marking(p, i, "ja")));
        json_t *eq = c && national ? class_equivalent(n, p, &ci) : NULL;
        if (eq)
            json_object_set_new(c, "equivalent", eq);
        json_array_append_new(classes, c);
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
        const char *phrase_ja = lsn_policy_category_phrase(p, i, "ja");
        if (cat && phrase_ja)
            json_object_set_new(cat, "markingJa", json_string(phrase_ja));
        if (cat && national)
            json_object_set_new(cat, "equivalent",
                                category_equivalent(n, p, first.lacv, &k, base_t));
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
    lsn_label_free(base_t);
    srv_resp_json(resp, 200,
                  json_pack("{s:s, s:s, s:s?, s:b, s:o, s:o, s:o, s:o}", "id", lsn_policy_id(p),
                            "name", lsn_policy_name(p), "version", lsn_policy_version(p), "node",
                            !national, "classifications", classes, "tagSets", tagsets, "groups",
                            groups_json(p), "policies", policies_json(n)));
}
