/* label/read_spiffing.c — reading the spiffing XML label and clearance
 * forms (namespace http://surevine.com/xmlns/spiffy):
 *
 *   <label xmlns='http://surevine.com/xmlns/spiffy'>
 *     <policy id='1.3.26.1.3.1'/>            policy by OID (text ignored)
 *     <classification lacv='1'/>             at most one; may be absent
 *     <tag type='permissive' id='1.3.26.1.4.4' lacv='1001'/>   tag set OID
 *     <privacyMark>...</privacyMark>         optional
 *   </label>
 *
 *   <clearance xmlns=...>  the same, with any number of <classification>.
 *
 * type= is restrictive | permissive | enumeratedRestrictive |
 * enumeratedPermissive | informative (also SPIF's tagType7). Text content
 * of the elements (a name, in the vectors) is a comment and ignored. An
 * unknown child element is refused rather than skipped, so that a misspelt
 * <tag> cannot silently drop a restriction. */
#include "label/label_internal.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/xml.h"

typedef struct target {
    lsn_label *label;     /* one of the two is set */
    lsn_clearance *clr;
    lsn_err code;         /* LSN_ERR_LABEL or LSN_ERR_CLEARANCE */
    const char *what;
} target;

static const lsn_policy *target_policy(const target *t)
{
    return t->label ? t->label->policy : t->clr->policy;
}

static lsn_err read_policy(const lsn_policy_set *set, const xmlNode *root,
                           const char *what, lsn_err code, lsn_error *err,
                           lsn_policy **out)
{
    const xmlNode *pol = xml_child(root, "policy");
    if (!pol)
        return core_fail(err, code, "No policy in %s", what);
    if (xml_next(pol, "policy"))
        return core_fail(err, code, "more than one policy in %s", what);
    const char *id = xml_attr(pol, "id");
    if (!id || !id[0])
        return core_fail(err, code, "line %ld: policy without id in %s",
                        xml_line(pol), what);
    return label_policy_by_id(set, id, err, out);
}

static lsn_err read_class(target *t, const xmlNode *n, lsn_error *err)
{
    const char *v = xml_attr(n, "lacv");
    uint32_t lacv = 0;
    if (!v)
        return core_fail(err, t->code, "line %ld: classification without lacv",
                        xml_line(n));
    if (!lacv_parse(v, &lacv))
        return core_fail(err, t->code, "line %ld: classification lacv '%s' is not a number",
                        xml_line(n), v);
    const policy_class *cls = NULL;
    lsn_err rc = label_class_by_lacv(target_policy(t), lacv, t->code, err, &cls);
    if (rc != LSN_OK)
        return rc;
    if (t->label) {
        if (t->label->cls)
            return core_fail(err, t->code, "line %ld: more than one classification in label",
                            xml_line(n));
        t->label->cls = cls;
    } else {
        clearance_add_class(t->clr, cls);
    }
    return LSN_OK;
}

static lsn_err read_tag(target *t, const xmlNode *n, lsn_error *err)
{
    const lsn_policy *p = target_policy(t);
    const char *type = xml_attr(n, "type");
    tag_kind kind = TAG_ANY;
    if (!type)
        return core_fail(err, t->code, "line %ld: tag without type", xml_line(n));
    if (!tag_kind_from_name(type, &kind) || kind == TAG_ANY)
        return core_fail(err, t->code, "line %ld: unsupported tag type '%s'",
                        xml_line(n), type);
    const char *v = xml_attr(n, "lacv");
    uint32_t lacv = 0;
    if (!v)
        return core_fail(err, t->code, "line %ld: tag without lacv", xml_line(n));
    if (!lacv_parse(v, &lacv))
        return core_fail(err, t->code, "line %ld: tag lacv '%s' is not a number",
                        xml_line(n), v);
    const char *id = xml_attr(n, "id");
    if (!id || !id[0])
        return core_fail(err, t->code, "line %ld: tag without id", xml_line(n));
    const policy_tagset *ts = policy_tagset_by_id(p, id);
    if (!ts)
        return core_fail(err, t->code, "line %ld: unknown tag set id '%s'", xml_line(n), id);
    const policy_category *c = NULL;
    lsn_err rc = label_cat_by_lacv(p, ts, kind, lacv, t->code, err, &c);
    if (rc != LSN_OK)
        return rc;
    return t->label ? label_add(t->label, c, err) : label_clearance_add(t->clr, c, err);
}

static lsn_err read_body(target *t, const xmlNode *root, lsn_error *err)
{
    size_t entries = 0;
    bool have_mark = false;
    for (const xmlNode *n = xml_child(root, NULL); n; n = xml_next(n, NULL)) {
        lsn_err rc = LSN_OK;
        if (xml_is(n, "policy")) {
            continue;
        } else if (xml_is(n, "classification")) {
            rc = read_class(t, n, err);
        } else if (xml_is(n, "tag")) {
            if (++entries > LABEL_MAX_ENTRIES)
                return core_fail(err, LSN_ERR_LIMIT, "%s has more than %u tags", t->what,
                                LABEL_MAX_ENTRIES);
            rc = read_tag(t, n, err);
        } else if (xml_is(n, "privacyMark") && t->label) {
            if (have_mark)
                return core_fail(err, t->code, "line %ld: more than one privacyMark",
                                xml_line(n));
            have_mark = true;
            char *mark = xml_text_dup(n);
            if (!mark || label_set_privacy_mark(t->label, mark, strlen(mark)) != LSN_OK)
                rc = core_fail(err, LSN_ERR_NOMEM, "out of memory");
            lsn_free(mark);
        } else {
            rc = core_fail(err, t->code, "line %ld: unexpected <%s> in %s", xml_line(n),
                          (const char *)n->name, t->what);
        }
        if (rc != LSN_OK)
            return rc;
    }
    return LSN_OK;
}

static lsn_err check_root(const xmlNode *root, const char *name, lsn_error *err)
{
    if (!xml_is(root, name))
        return core_fail(err, LSN_ERR_SYNTAX, "not a spiffing %s: root element <%s>",
                        name, (const char *)root->name);
    if (!xml_in_ns(root, LABEL_NS_SPIFFY) && !xml_in_ns(root, NULL))
        return core_fail(err, LSN_ERR_SYNTAX, "not a spiffing %s: namespace '%s'", name,
                        (const char *)root->ns->href);
    return LSN_OK;
}

lsn_err label_read_spiffing(const lsn_policy_set *set, const xmlNode *root,
                            lsn_label **out, lsn_error *err)
{
    *out = NULL;
    lsn_err rc = check_root(root, "label", err);
    if (rc != LSN_OK)
        return rc;
    lsn_policy *p = NULL;
    if ((rc = read_policy(set, root, "label", LSN_ERR_LABEL, err, &p)) != LSN_OK)
        return rc;
    target t = { .label = label_new(p), .code = LSN_ERR_LABEL, .what = "label" };
    if (!t.label)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    if ((rc = read_body(&t, root, err)) != LSN_OK) {
        lsn_label_free(t.label);
        return rc;
    }
    return label_done(t.label, err, out);
}

lsn_err clearance_read_spiffing(const lsn_policy_set *set, const xmlNode *root,
                                lsn_clearance **out, lsn_error *err)
{
    *out = NULL;
    lsn_err rc = check_root(root, "clearance", err);
    if (rc != LSN_OK)
        return rc;
    lsn_policy *p = NULL;
    if ((rc = read_policy(set, root, "clearance", LSN_ERR_CLEARANCE, err, &p)) != LSN_OK)
        return rc;
    target t = { .clr = clearance_new(p), .code = LSN_ERR_CLEARANCE, .what = "clearance" };
    if (!t.clr)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    if ((rc = read_body(&t, root, err)) != LSN_OK) {
        lsn_clearance_free(t.clr);
        return rc;
    }
    return label_clearance_done(t.clr, err, out);
}
