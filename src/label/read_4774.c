/* label/read_4774.c — reading STANAG 4774 XML confidentiality labels.
 *
 *   <originatorConfidentialityLabel xmlns="urn:nato:stanag:4774:...:1:0">
 *     <ConfidentialityInformation>
 *       <PolicyIdentifier URL="urn:oid:1.3.26.1.3.1">NATO</PolicyIdentifier>
 *       <Classification>UNCLASSIFIED</Classification>
 *       <PrivacyMark>...</PrivacyMark>                       (optional)
 *       <Category TagName="Releasable To" Type="PERMISSIVE">
 *         <GenericValue>JPN</GenericValue> ...               (names)
 *         <NumericValue>1201</NumericValue> ...              (LACVs)
 *       </Category>
 *     </ConfidentialityInformation>
 *     <CreationDateTime>...</CreationDateTime>               (ignored)
 *   </originatorConfidentialityLabel>
 *
 * Lenient where meaning is clear: element names in any case, the root
 * spelt OriginatorConfidentialityLabel, no namespace at all, a missing
 * CreationDateTime, a missing Classification (the label is then invalid,
 * not unreadable), a missing Type (the category name decides). Strict where
 * security depends on it: an unknown element inside ConfidentialityInformation
 * or Category is refused rather than skipped — a misspelt <Category> must not
 * silently drop a restriction — and so are unknown values. */
#include "label/label_internal.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/xml.h"

/* An attribute by any case of its name (URL= or URI=, TagName= ...). */
static const char *attr_ci(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (name_eq((const char *)a->name, name))
            return xml_attr(n, (const char *)a->name);
    return NULL;
}

static lsn_err find_policy(const lsn_policy_set *set, const xmlNode *pid,
                           lsn_error *err, lsn_policy **out)
{
    *out = NULL;
    const char *url = attr_ci(pid, "URL");
    if (!url)
        url = attr_ci(pid, "URI");
    char *oid = url ? lsn_strdup(url) : NULL;
    if (url && !oid)
        return lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
    char *name = xml_text_dup(pid);
    if (!name) {
        lsn_free(oid);
        return lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    lsn_err rc = LSN_OK;
    const lsn_policy *by_name = NULL;
    if (strncmp(name, "urn:oid:", 8) == 0 && !oid) {
        oid = name;             /* the text is the OID */
        name = NULL;
    } else if (name[0]) {
        by_name = set ? lsn_policy_set_find_name(set, name) : NULL;
    }
    if (oid && oid[0]) {
        rc = label_policy_by_id(set, oid, err, out);
        /* A URL and a name that point at two different loaded policies is a
         * contradiction, not a choice for us to make. */
        if (rc == LSN_OK && by_name && by_name != *out)
            rc = lsn_fail(err, LSN_ERR_LABEL,
                          "policy mismatch: URL '%s' and name '%s' name different policies",
                          oid, name);
    } else if (by_name) {
        *out = (lsn_policy *)by_name;
    } else if (name && name[0]) {
        rc = lsn_fail(err, LSN_ERR_UNKNOWN_POLICY, "Unknown policy id: %s", name);
    } else {
        rc = lsn_fail(err, LSN_ERR_LABEL, "empty PolicyIdentifier in label");
    }
    if (rc != LSN_OK)
        *out = NULL;
    lsn_free(oid);
    lsn_free(name);
    return rc;
}

static lsn_err read_type(const xmlNode *cat, tag_kind *kind, lsn_error *err)
{
    const char *t = attr_ci(cat, "Type");
    if (!t) {
        *kind = TAG_ANY;
    } else if (name_eq(t, "PERMISSIVE")) {
        *kind = TAG_PERMISSIVE;
    } else if (name_eq(t, "RESTRICTIVE")) {
        *kind = TAG_RESTRICTIVE;
    } else if (name_eq(t, "INFORMATIVE")) {
        *kind = TAG_INFORMATIVE;
    } else {
        return lsn_fail(err, LSN_ERR_LABEL, "line %ld: unknown Category Type '%s'",
                        xml_line(cat), t);
    }
    return LSN_OK;
}

static lsn_err read_category(lsn_label *l, const xmlNode *cat, size_t *entries,
                             lsn_error *err)
{
    const lsn_policy *p = l->policy;
    tag_kind kind;
    lsn_err rc = read_type(cat, &kind, err);
    if (rc != LSN_OK)
        return rc;
    /* xml_attr's string lives until the next xml_attr call: use it now. */
    const char *tagname = attr_ci(cat, "TagName");
    if (!tagname || !tagname[0])
        return lsn_fail(err, LSN_ERR_LABEL, "line %ld: Category without TagName",
                        xml_line(cat));
    const policy_tagset *ts;
    rc = label_tagset(p, tagname, LSN_ERR_LABEL, err, &ts);
    if (rc != LSN_OK)
        return rc;
    for (const xmlNode *v = xml_child(cat, NULL); v; v = xml_next(v, NULL)) {
        bool numeric = label_xml_is_ci(v, "NumericValue");
        if (!numeric && !label_xml_is_ci(v, "GenericValue"))
            return lsn_fail(err, LSN_ERR_LABEL, "line %ld: unexpected <%s> in Category",
                            xml_line(v), (const char *)v->name);
        if (++*entries > LABEL_MAX_ENTRIES)
            return lsn_fail(err, LSN_ERR_LIMIT, "label has more than %u category values",
                            LABEL_MAX_ENTRIES);
        char *text = xml_text_dup(v);
        if (!text)
            return lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
        const policy_category *c = NULL;
        if (numeric) {
            uint32_t lacv;
            if (!lacv_parse(text, &lacv))
                rc = lsn_fail(err, LSN_ERR_LABEL, "line %ld: NumericValue '%s' is not a LACV",
                              xml_line(v), text);
            else
                rc = label_cat_by_lacv(p, ts, kind, lacv, LSN_ERR_LABEL, err, &c);
        } else {
            rc = label_cat_by_name(p, ts, kind, text, LSN_ERR_LABEL, err, &c);
        }
        lsn_free(text);
        if (rc == LSN_OK)
            rc = label_add(l, c, err);
        if (rc != LSN_OK)
            return rc;
    }
    return LSN_OK;
}

static lsn_err read_info(lsn_label *l, const xmlNode *info, lsn_error *err)
{
    size_t entries = 0;
    bool have_class = false, have_mark = false;
    lsn_err rc = LSN_OK;
    for (const xmlNode *n = xml_child(info, NULL); n && rc == LSN_OK; n = xml_next(n, NULL)) {
        if (label_xml_is_ci(n, "PolicyIdentifier"))
            continue; /* read first, by the caller */
        if (label_xml_is_ci(n, "Classification")) {
            if (have_class)
                return lsn_fail(err, LSN_ERR_LABEL, "line %ld: more than one Classification",
                                xml_line(n));
            have_class = true;
            char *name = xml_text_dup(n);
            if (!name)
                return lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
            rc = label_class_by_name(l->policy, name, LSN_ERR_LABEL, err, &l->cls);
            lsn_free(name);
        } else if (label_xml_is_ci(n, "PrivacyMark")) {
            if (have_mark)
                return lsn_fail(err, LSN_ERR_LABEL, "line %ld: more than one PrivacyMark",
                                xml_line(n));
            have_mark = true;
            char *mark = xml_text_dup(n);
            if (!mark)
                return lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
            if (label_set_privacy_mark(l, mark, strlen(mark)) != LSN_OK)
                rc = lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
            lsn_free(mark);
        } else if (label_xml_is_ci(n, "Category")) {
            rc = read_category(l, n, &entries, err);
        } else {
            return lsn_fail(err, LSN_ERR_LABEL,
                            "line %ld: unexpected <%s> in ConfidentialityInformation",
                            xml_line(n), (const char *)n->name);
        }
    }
    return rc;
}

lsn_err label_read_4774(const lsn_policy_set *set, const xmlNode *root,
                        lsn_label **out, lsn_error *err)
{
    *out = NULL;
    if (!label_is_4774_root(root))
        return lsn_fail(err, LSN_ERR_SYNTAX,
                        "not a STANAG 4774 label: root element <%s>",
                        (const char *)root->name);
    if (!xml_in_ns(root, LABEL_NS_4774) && !xml_in_ns(root, NULL))
        return lsn_fail(err, LSN_ERR_SYNTAX,
                        "not a STANAG 4774 label: namespace '%s'",
                        (const char *)root->ns->href);
    const xmlNode *info = NULL;
    for (const xmlNode *n = xml_child(root, NULL); n; n = xml_next(n, NULL))
        if (label_xml_is_ci(n, "ConfidentialityInformation")) {
            if (info)
                return lsn_fail(err, LSN_ERR_LABEL,
                                "line %ld: more than one ConfidentialityInformation",
                                xml_line(n));
            info = n;
        }
    if (!info)
        return lsn_fail(err, LSN_ERR_LABEL, "label has no ConfidentialityInformation");
    const xmlNode *pid = NULL;
    for (const xmlNode *n = xml_child(info, NULL); n; n = xml_next(n, NULL))
        if (label_xml_is_ci(n, "PolicyIdentifier")) {
            if (pid)
                return lsn_fail(err, LSN_ERR_LABEL, "line %ld: more than one PolicyIdentifier",
                                xml_line(n));
            pid = n;
        }
    if (!pid)
        return lsn_fail(err, LSN_ERR_LABEL, "label has no PolicyIdentifier");
    lsn_policy *p;
    lsn_err rc = find_policy(set, pid, err, &p);
    if (rc != LSN_OK)
        return rc;
    lsn_label *l = label_new(p);
    if (!l)
        return lsn_fail(err, LSN_ERR_NOMEM, "out of memory");
    rc = read_info(l, info, err);
    if (rc != LSN_OK) {
        lsn_label_free(l);
        return rc;
    }
    return label_done(l, err, out);
}
