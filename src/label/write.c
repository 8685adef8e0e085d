/* label/write.c — writing labels (STANAG 4774 XML, spiffing XML, JSON) and
 * clearances (spiffing XML, JSON).
 *
 * Categories are written in SPIF order. The 4774 form has one <Category>
 * per run of categories of one tag set and one 4774 type, named by
 * GenericValue; the JSON form one entry per run of one tag set and one exact
 * tag kind, so that reading the output back gives exactly the same label
 * (parse(write(x)) == x, for every form). XML is escaped with
 * strbuf_add_xml; JSON is built with jansson. */
#include "label/label_internal.h"

#include <string.h>
#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/strbuf.h"

static const char *type_4774(tag_kind k)
{
    if (tag_kind_restrictive(k))
        return "RESTRICTIVE";
    if (tag_kind_permissive(k))
        return "PERMISSIVE";
    return "INFORMATIVE";
}

static lsn_err take(strbuf *b, char **out, size_t *out_len, lsn_error *err)
{
    if (b->failed) {
        lsn_err why = b->why;
        strbuf_release(b);
        return core_fail(err, why, "cannot write: %s", lsn_strerror(why));
    }
    *out = strbuf_take(b, out_len);
    if (!*out)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    return LSN_OK;
}

static void write_4774(const lsn_label *l, strbuf *b)
{
    const lsn_policy *p = l->policy;
    strbuf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<originatorConfidentialityLabel xmlns=\"" LABEL_NS_4774 "\">\n"
                   "  <ConfidentialityInformation>\n"
                   "    <PolicyIdentifier URL=\"urn:oid:");
    strbuf_add_xml(b, p->id);
    strbuf_adds(b, "\">");
    strbuf_add_xml(b, p->name ? p->name : "");
    strbuf_adds(b, "</PolicyIdentifier>\n");
    if (l->cls) {
        strbuf_adds(b, "    <Classification>");
        strbuf_add_xml(b, l->cls->name);
        strbuf_adds(b, "</Classification>\n");
    }
    if (l->privacy_mark) {
        strbuf_adds(b, "    <PrivacyMark>");
        strbuf_add_xml(b, l->privacy_mark);
        strbuf_adds(b, "</PrivacyMark>\n");
    }
    const policy_category *prev = NULL;
    for (size_t i = 0; i < l->ncats; i++) {
        const policy_category *c = &p->cats[l->cats[i]];
        if (!prev || prev->tagset != c->tagset ||
            strcmp(type_4774(prev->kind), type_4774(c->kind)) != 0) {
            if (prev)
                strbuf_adds(b, "    </Category>\n");
            const policy_tagset *ts = &p->tagsets[c->tagset];
            strbuf_adds(b, "    <Category TagName=\"");
            strbuf_add_xml(b, ts->name ? ts->name : ts->id);
            strbuf_addf(b, "\" Type=\"%s\">\n", type_4774(c->kind));
        }
        strbuf_adds(b, "      <GenericValue>");
        strbuf_add_xml(b, c->name);
        strbuf_adds(b, "</GenericValue>\n");
        prev = c;
    }
    if (prev)
        strbuf_adds(b, "    </Category>\n");
    strbuf_adds(b, "  </ConfidentialityInformation>\n"
                   "</originatorConfidentialityLabel>\n");
}

/* <tag .../> lines of the spiffing form, for labels and clearances. */
static void write_spiffing_tags(const lsn_policy *p, const uint32_t *cats, size_t n,
                                strbuf *b)
{
    for (size_t i = 0; i < n; i++) {
        const policy_category *c = &p->cats[cats[i]];
        strbuf_addf(b, "  <tag type=\"%s\" id=\"", tag_kind_name(c->kind));
        strbuf_add_xml(b, p->tagsets[c->tagset].id);
        strbuf_addf(b, "\" lacv=\"%u\"/>\n", (unsigned)c->lacv);
    }
}

static void write_spiffing_head(const char *root, const lsn_policy *p, strbuf *b)
{
    strbuf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<%s xmlns=\"" LABEL_NS_SPIFFY "\">\n  <policy id=\"", root);
    strbuf_add_xml(b, p->id);
    strbuf_adds(b, "\"/>\n");
}

static void write_spiffing(const lsn_label *l, strbuf *b)
{
    write_spiffing_head("label", l->policy, b);
    if (l->cls)
        strbuf_addf(b, "  <classification lacv=\"%u\"/>\n", (unsigned)l->cls->lacv);
    write_spiffing_tags(l->policy, l->cats, l->ncats, b);
    if (l->privacy_mark) {
        strbuf_adds(b, "  <privacyMark>");
        strbuf_add_xml(b, l->privacy_mark);
        strbuf_adds(b, "</privacyMark>\n");
    }
    strbuf_adds(b, "</label>\n");
}

/* JSON "categories": one entry per run of one tag set and one exact kind.
 * NULL when out of memory. */
static json_t *json_categories(const lsn_policy *p, const uint32_t *cats, size_t n)
{
    json_t *arr = json_array();
    json_t *values = NULL;
    const policy_category *prev = NULL;
    if (!arr)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const policy_category *c = &p->cats[cats[i]];
        if (!prev || prev->tagset != c->tagset || prev->kind != c->kind) {
            const policy_tagset *ts = &p->tagsets[c->tagset];
            json_t *entry = json_object();
            values = json_array();
            if (!entry || !values ||
                json_object_set_new(entry, "tagSet",
                                    json_string(ts->name ? ts->name : ts->id)) != 0 ||
                json_object_set_new(entry, "type", json_string(tag_kind_name(c->kind))) != 0 ||
                json_object_set(entry, "values", values) != 0 ||
                json_array_append_new(arr, entry) != 0) {
                json_decref(entry);
                json_decref(values);
                json_decref(arr);
                return NULL;
            }
            json_decref(values); /* the entry holds it */
        }
        if (json_array_append_new(values, json_string(c->name)) != 0) {
            json_decref(arr);
            return NULL;
        }
        prev = c;
    }
    return arr;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    strbuf *b = data;
    strbuf_add(b, buf, size);
    return b->failed ? -1 : 0;
}

static lsn_err dump_json(json_t *obj, char **out, size_t *out_len, lsn_error *err)
{
    const size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
    /* One pass into our own buffer (json_dumpb twice, to size and then to
     * write, cost twice the rendering on the node's post path), so that the
     * caller frees it with lsn_free as promised. */
    strbuf b;
    strbuf_init(&b, LABEL_MAX_OUTPUT);
    if (!obj || json_dump_callback(obj, dump_cb, &b, flags) != 0 || b.len == 0)
        b.failed = true;
    strbuf_addc(&b, '\n');
    json_decref(obj);
    if (b.failed) {
        strbuf_release(&b);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    return take(&b, out, out_len, err);
}

static lsn_err write_json(const lsn_label *l, char **out, size_t *out_len, lsn_error *err)
{
    const lsn_policy *p = l->policy;
    json_t *o = json_object();
    json_t *cats = json_categories(p, l->cats, l->ncats);
    bool bad = !o || !cats || json_object_set_new(o, "policy", json_string(p->id)) != 0;
    if (!bad && l->cls)
        bad = json_object_set_new(o, "classification", json_string(l->cls->name)) != 0;
    if (!bad && l->ncats)
        bad = json_object_set(o, "categories", cats) != 0;
    if (!bad && l->privacy_mark)
        bad = json_object_set_new(o, "privacyMark", json_string(l->privacy_mark)) != 0;
    json_decref(cats);
    if (bad) {
        json_decref(o);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    return dump_json(o, out, out_len, err);
}

lsn_err lsn_label_write(const lsn_label *l, lsn_form form, char **out, size_t *out_len,
                        lsn_error *err)
{
    if (!l || !out)
        core_misuse("lsn_label_write: NULL argument");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (form == LSN_FORM_JSON)
        return write_json(l, out, out_len, err);
    strbuf b;
    strbuf_init(&b, LABEL_MAX_OUTPUT);
    if (form == LSN_FORM_4774)
        write_4774(l, &b);
    else if (form == LSN_FORM_SPIFFING)
        write_spiffing(l, &b);
    else
        return core_fail(err, LSN_ERR_ARG,
                        "labels are written as 4774, spiffing or JSON (not BER)");
    return take(&b, out, out_len, err);
}

lsn_err lsn_clearance_write(const lsn_clearance *c, lsn_form form, char **out,
                            size_t *out_len, lsn_error *err)
{
    if (!c || !out)
        core_misuse("lsn_clearance_write: NULL argument");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    const lsn_policy *p = c->policy;
    if (form == LSN_FORM_SPIFFING) {
        strbuf b;
        strbuf_init(&b, LABEL_MAX_OUTPUT);
        write_spiffing_head("clearance", p, &b);
        for (size_t i = 0; i < p->nclasses; i++)
            if (c->classes >> p->classes[i].index & 1u)
                strbuf_addf(&b, "  <classification lacv=\"%u\"/>\n",
                            (unsigned)p->classes[i].lacv);
        write_spiffing_tags(p, c->cats, c->ncats, &b);
        strbuf_adds(&b, "</clearance>\n");
        return take(&b, out, out_len, err);
    }
    if (form != LSN_FORM_JSON)
        return core_fail(err, LSN_ERR_ARG, "clearances are written as spiffing XML or JSON");
    json_t *o = json_object();
    json_t *classes = json_array();
    json_t *cats = json_categories(p, c->cats, c->ncats);
    bool bad = !o || !classes || !cats ||
               json_object_set_new(o, "policy", json_string(p->id)) != 0;
    for (size_t i = 0; !bad && i < p->nclasses; i++)
        if (c->classes >> p->classes[i].index & 1u)
            bad = json_array_append_new(classes, json_string(p->classes[i].name)) != 0;
    if (!bad)
        bad = json_object_set(o, "classifications", classes) != 0;
    if (!bad && c->ncats)
        bad = json_object_set(o, "categories", cats) != 0;
    json_decref(classes);
    json_decref(cats);
    if (bad) {
        json_decref(o);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    return dump_json(o, out, out_len, err);
}
