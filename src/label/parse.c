/* label/parse.c — the public entry points for reading labels and
 * clearances: size limits, empty input, and telling the forms apart.
 *
 * Detection (LSN_FORM_AUTO): the first byte that is not white space decides —
 * '{' (or '[', so that it is refused as JSON) is JSON; '<' is XML, and then
 * the root element decides: the STANAG 4774 namespace (or, with no
 * namespace, a 4774 root name) is 4774, spiffing's namespace (or a bare
 * <label>) is spiffing XML; anything else is taken for BER. */
#include "label/label_internal.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/xml.h"

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first significant byte, skipping white space and a UTF-8 BOM; -1 when
 * the input is all white space. */
static int first_byte(const unsigned char *d, size_t len)
{
    size_t i = 0;
    if (len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
        i = 3;
    for (; i < len; i++)
        if (!is_space(d[i]))
            return d[i];
    return -1;
}

static lsn_err check_input(const void *data, size_t len, const char *what,
                           lsn_error *err)
{
    if (len == 0 || !data)
        return core_fail(err, LSN_ERR_NO_DATA, "No data to parse");
    if (len > LSN_LABEL_MAX_BYTES)
        return core_fail(err, LSN_ERR_LIMIT, "%s is larger than %u bytes", what,
                        LSN_LABEL_MAX_BYTES);
    return LSN_OK;
}

/* XML: 4774 labels are read in one SAX pass; anything else is parsed into
 * a tree and dispatched on its root. */
static lsn_err parse_xml_label(const lsn_policy_set *set, const char *data,
                               size_t len, lsn_form form, lsn_label **out,
                               lsn_error *err)
{
    if (form == LSN_FORM_AUTO || form == LSN_FORM_4774) {
        bool not_4774 = false;
        lsn_err rc = label_read_4774(set, data, len, form == LSN_FORM_AUTO, &not_4774,
                                     out, err);
        if (!not_4774)
            return rc;
    }
    xmlDocPtr doc = xml_parse(data, len, "label", err);
    if (!doc)
        return err->code;
    const xmlNode *root = xmlDocGetRootElement(doc);
    lsn_err rc;
    if (form == LSN_FORM_SPIFFING || xml_in_ns(root, LABEL_NS_SPIFFY) ||
        (xml_in_ns(root, NULL) && xml_is(root, "label")))
        rc = label_read_spiffing(set, root, out, err);
    else
        rc = core_fail(err, LSN_ERR_SYNTAX,
                      "not a label: root element <%s> in namespace '%s'",
                      (const char *)root->name,
                      root->ns && root->ns->href ? (const char *)root->ns->href : "");
    xmlFreeDoc(doc);
    return rc;
}

lsn_err lsn_label_parse(const lsn_policy_set *set, const void *data, size_t len,
                        lsn_form form, lsn_label **out, lsn_error *err)
{
    if (!out)
        core_misuse("lsn_label_parse: NULL out");
    *out = NULL;
    lsn_error local;
    if (!err)
        err = &local; /* codes from xml_parse travel through err */
    core_error_clear(err);
    lsn_err rc = check_input(data, len, "label", err);
    if (rc != LSN_OK)
        return rc;
    int c = first_byte(data, len);
    if (form == LSN_FORM_AUTO) {
        if (c < 0)
            return core_fail(err, LSN_ERR_NO_DATA, "No data to parse");
        if (c == '{' || c == '[')
            form = LSN_FORM_JSON;
        else if (c != '<')
            form = LSN_FORM_BER;
    }
    switch (form) {
    case LSN_FORM_AUTO:
    case LSN_FORM_4774:
    case LSN_FORM_SPIFFING:
        return parse_xml_label(set, data, len, form, out, err);
    case LSN_FORM_JSON:
        if (c < 0)
            return core_fail(err, LSN_ERR_NO_DATA, "No data to parse");
        return label_read_json(set, data, len, out, err);
    case LSN_FORM_BER:
        return label_read_ber(set, data, len, out, err);
    }
    return core_fail(err, LSN_ERR_ARG, "unknown label form %d", (int)form);
}

lsn_err lsn_clearance_parse(const lsn_policy_set *set, const void *data,
                            size_t len, lsn_form form, lsn_clearance **out,
                            lsn_error *err)
{
    if (!out)
        core_misuse("lsn_clearance_parse: NULL out");
    *out = NULL;
    lsn_error local;
    if (!err)
        err = &local;
    core_error_clear(err);
    lsn_err rc = check_input(data, len, "clearance", err);
    if (rc != LSN_OK)
        return rc;
    int c = first_byte(data, len);
    if (c < 0)
        return core_fail(err, LSN_ERR_NO_DATA, "No data to parse");
    if (form == LSN_FORM_AUTO) {
        if (c == '{' || c == '[')
            form = LSN_FORM_JSON;
        else if (c == '<')
            form = LSN_FORM_SPIFFING;
        else
            return core_fail(err, LSN_ERR_SYNTAX,
                            "clearance is neither XML nor JSON (BER clearances are not read)");
    }
    if (form == LSN_FORM_JSON)
        return clearance_read_json(set, data, len, out, err);
    if (form != LSN_FORM_SPIFFING)
        return core_fail(err, LSN_ERR_ARG,
                        "clearances are read in the spiffing XML or JSON form only");
    xmlDocPtr doc = xml_parse(data, len, "clearance", err);
    if (!doc)
        return err->code;
    rc = clearance_read_spiffing(set, xmlDocGetRootElement(doc), out, err);
    xmlFreeDoc(doc);
    return rc;
}
