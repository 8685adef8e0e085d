/* label/read_json.c — reading liaison's JSON label and clearance forms
 * (docs/LABEL-JSON.md) with jansson.
 *
 *   label:     {"policy": OID|name, "classification": name|lacv,
 *               "categories": [{"tagSet": name|OID, "type": kind,
 *                               "values": [name|lacv, ...]}, ...],
 *               "privacyMark": "..."}
 *   clearance: {"policy": ..., "classifications": [name|lacv, ...],
 *               "maxClassification": name|lacv, "categories": [...]}
 *
 * Strict: duplicate keys, unknown keys and wrong types are refused with a
 * message naming the key, since a key we do not understand may carry a
 * restriction we would otherwise drop. Input size is capped by the caller;
 * jansson caps nesting depth, and the schema is three levels deep, so any
 * deeper value is refused as the wrong type. */
#include "label/label_internal.h"

#include <string.h>
#include <jansson.h>

#include "core/error.h"

typedef struct target {
    lsn_label *label;
    lsn_clearance *clr;
    lsn_err code;
    const char *what;
} target;

static const lsn_policy *tpolicy(const target *t)
{
    return t->label ? t->label->policy : t->clr->policy;
}

/* Refuse keys outside `allowed` (NULL-terminated). */
static lsn_err check_keys(json_t *obj, const char *const *allowed, const char *where,
                          lsn_err code, lsn_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                ok = true;
        if (!ok)
            return core_fail(err, code, "unknown key \"%s\" in %s", key, where);
    }
    return LSN_OK;
}

static lsn_err lacv_of(json_t *v, const char *where, lsn_err code, lsn_error *err,
                       uint32_t *out)
{
    json_int_t i = json_integer_value(v);
    if (i < 0 || i > (json_int_t)UINT32_MAX)
        return core_fail(err, code, "%s: lacv %lld is out of range", where, (long long)i);
    *out = (uint32_t)i;
    return LSN_OK;
}

static lsn_err find_class(const target *t, json_t *v, const char *where,
                          lsn_error *err, const policy_class **out)
{
    if (json_is_string(v))
        return label_class_by_name(tpolicy(t), json_string_value(v), t->code, err, out);
    if (json_is_integer(v)) {
        uint32_t lacv = 0;
        lsn_err rc = lacv_of(v, where, t->code, err, &lacv);
        return rc != LSN_OK ? rc : label_class_by_lacv(tpolicy(t), lacv, t->code, err, out);
    }
    return core_fail(err, t->code, "%s must be a classification name or lacv number", where);
}

static lsn_err read_category(target *t, json_t *cat, size_t *entries, lsn_error *err)
{
    static const char *const keys[] = { "tagSet", "type", "values", NULL };
    const lsn_policy *p = tpolicy(t);
    if (!json_is_object(cat))
        return core_fail(err, t->code, "each of \"categories\" must be an object");
    lsn_err rc = check_keys(cat, keys, "a category", t->code, err);
    if (rc != LSN_OK)
        return rc;
    json_t *jts = json_object_get(cat, "tagSet");
    json_t *jtype = json_object_get(cat, "type");
    json_t *jvalues = json_object_get(cat, "values");
    if (!json_is_string(jts))
        return core_fail(err, t->code, "a category needs \"tagSet\" (a tag set name or OID)");
    if (!json_is_array(jvalues))
        return core_fail(err, t->code, "a category needs \"values\" (an array)");
    tag_kind kind = TAG_ANY;
    if (jtype) {
        if (!json_is_string(jtype) || !tag_kind_from_name(json_string_value(jtype), &kind))
            return core_fail(err, t->code,
                            "\"type\" must be \"permissive\", \"restrictive\", "
                            "\"enumeratedPermissive\", \"enumeratedRestrictive\" or "
                            "\"informative\"");
    }
    const policy_tagset *ts = NULL;
    if ((rc = label_tagset(p, json_string_value(jts), t->code, err, &ts)) != LSN_OK)
        return rc;
    size_t i;
    json_t *v;
    json_array_foreach(jvalues, i, v) {
        if (++*entries > LABEL_MAX_ENTRIES)
            return core_fail(err, LSN_ERR_LIMIT, "%s has more than %u category values",
                            t->what, LABEL_MAX_ENTRIES);
        const policy_category *c = NULL;
        if (json_is_string(v)) {
            rc = label_cat_by_name(p, ts, kind, json_string_value(v), t->code, err, &c);
        } else if (json_is_integer(v)) {
            uint32_t lacv = 0;
            rc = lacv_of(v, "a category value", t->code, err, &lacv);
            if (rc == LSN_OK)
                rc = label_cat_by_lacv(p, ts, kind, lacv, t->code, err, &c);
        } else {
            rc = core_fail(err, t->code,
                          "category values must be names (strings) or lacvs (numbers)");
        }
        if (rc == LSN_OK)
            rc = t->label ? label_add(t->label, c, err) : label_clearance_add(t->clr, c, err);
        if (rc != LSN_OK)
            return rc;
    }
    return LSN_OK;
}

static lsn_err read_categories(target *t, json_t *root, lsn_error *err)
{
    json_t *cats = json_object_get(root, "categories");
    if (!cats)
        return LSN_OK;
    if (!json_is_array(cats))
        return core_fail(err, t->code, "\"categories\" must be an array");
    size_t entries = 0, i;
    json_t *cat;
    json_array_foreach(cats, i, cat) {
        lsn_err rc = read_category(t, cat, &entries, err);
        if (rc != LSN_OK)
            return rc;
    }
    return LSN_OK;
}

/* Parse the text and find the policy; on success the caller owns *doc. */
static lsn_err load(const lsn_policy_set *set, const char *data, size_t len,
                    const char *what, lsn_err code, const char *const *keys,
                    json_t **doc, lsn_policy **p, lsn_error *err)
{
    json_error_t je;
    *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!*doc)
        return core_fail(err, LSN_ERR_SYNTAX, "%s: JSON line %d column %d: %s", what,
                        je.line, je.column, je.text);
    lsn_err rc;
    if (!json_is_object(*doc))
        rc = core_fail(err, LSN_ERR_SYNTAX, "a JSON %s must be an object", what);
    else if ((rc = check_keys(*doc, keys, what, code, err)) != LSN_OK)
        ;
    else {
        json_t *pol = json_object_get(*doc, "policy");
        if (!json_is_string(pol))
            rc = core_fail(err, code, "a JSON %s needs \"policy\" (an OID or policy name)",
                          what);
        else {
            const char *ref = json_string_value(pol);
            const lsn_policy *byname = set ? lsn_policy_set_find_name(set, ref) : NULL;
            if (byname) {
                *p = (lsn_policy *)byname;
                rc = LSN_OK;
            } else {
                rc = label_policy_by_id(set, ref, err, p);
            }
        }
    }
    if (rc != LSN_OK) {
        json_decref(*doc);
        *doc = NULL;
    }
    return rc;
}

lsn_err label_read_json(const lsn_policy_set *set, const char *data, size_t len,
                        lsn_label **out, lsn_error *err)
{
    static const char *const keys[] = { "policy", "classification", "categories",
                                        "privacyMark", NULL };
    *out = NULL;
    json_t *doc;
    lsn_policy *p = NULL;
    lsn_err rc = load(set, data, len, "label", LSN_ERR_LABEL, keys, &doc, &p, err);
    if (rc != LSN_OK)
        return rc;
    target t = { .label = label_new(p), .code = LSN_ERR_LABEL, .what = "label" };
    if (!t.label) {
        json_decref(doc);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    json_t *cls = json_object_get(doc, "classification");
    json_t *mark = json_object_get(doc, "privacyMark");
    if (cls && !json_is_null(cls))
        rc = find_class(&t, cls, "\"classification\"", err, &t.label->cls);
    if (rc == LSN_OK && mark && !json_is_null(mark)) {
        if (!json_is_string(mark))
            rc = core_fail(err, LSN_ERR_LABEL, "\"privacyMark\" must be a string");
        else if (!label_text_ok(json_string_value(mark), json_string_length(mark)))
            rc = core_fail(err, LSN_ERR_LABEL,
                          "\"privacyMark\" holds control characters");
        else if (label_set_privacy_mark(t.label, json_string_value(mark),
                                        json_string_length(mark)) != LSN_OK)
            rc = core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    if (rc == LSN_OK)
        rc = read_categories(&t, doc, err);
    json_decref(doc);
    if (rc != LSN_OK) {
        lsn_label_free(t.label);
        return rc;
    }
    return label_done(t.label, err, out);
}

/* "maxClassification": every class whose hierarchy is at most its own. */
static lsn_err read_max_class(target *t, json_t *v, lsn_error *err)
{
    const policy_class *max = NULL;
    lsn_err rc = find_class(t, v, "\"maxClassification\"", err, &max);
    if (rc != LSN_OK)
        return rc;
    const lsn_policy *p = tpolicy(t);
    for (size_t i = 0; i < p->nclasses; i++)
        if (p->classes[i].hierarchy <= max->hierarchy)
            clearance_add_class(t->clr, &p->classes[i]);
    return LSN_OK;
}

lsn_err clearance_read_json(const lsn_policy_set *set, const char *data, size_t len,
                            lsn_clearance **out, lsn_error *err)
{
    static const char *const keys[] = { "policy", "classifications", "maxClassification",
                                        "categories", NULL };
    *out = NULL;
    json_t *doc;
    lsn_policy *p = NULL;
    lsn_err rc = load(set, data, len, "clearance", LSN_ERR_CLEARANCE, keys, &doc, &p, err);
    if (rc != LSN_OK)
        return rc;
    target t = { .clr = clearance_new(p), .code = LSN_ERR_CLEARANCE, .what = "clearance" };
    if (!t.clr) {
        json_decref(doc);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    json_t *classes = json_object_get(doc, "classifications");
    json_t *max = json_object_get(doc, "maxClassification");
    if (classes) {
        if (!json_is_array(classes)) {
            rc = core_fail(err, LSN_ERR_CLEARANCE, "\"classifications\" must be an array");
        } else {
            size_t i;
            json_t *v;
            json_array_foreach(classes, i, v) {
                const policy_class *cls = NULL;
                rc = find_class(&t, v, "each of \"classifications\"", err, &cls);
                if (rc != LSN_OK)
                    break;
                clearance_add_class(t.clr, cls);
            }
        }
    }
    if (rc == LSN_OK && max)
        rc = read_max_class(&t, max, err);
    if (rc == LSN_OK)
        rc = read_categories(&t, doc, err);
    json_decref(doc);
    if (rc != LSN_OK) {
        lsn_clearance_free(t.clr);
        return rc;
    }
    return label_clearance_done(t.clr, err, out);
}
