/* core/xml.c — safe libxml2 parsing and namespace-blind tree helpers. */
#include "core/xml.h"

#include <ctype.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include "core/alloc.h"
#include "core/error.h"

static void quiet_errors(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

#if LIBXML_VERSION >= 21200
static void quiet_structured(void *ctx, const xmlError *error)
#else
static void quiet_structured(void *ctx, xmlError *error)
#endif
{
    (void)ctx, (void)error;
}

void xml_quiet_thread(void)
{
    /* libxml2 keeps both handlers per thread; setting them once per thread
     * is enough, and cheap to test. */
    static _Thread_local bool done;
    if (done)
        return;
    xmlSetGenericErrorFunc(NULL, quiet_errors);
    xmlSetStructuredErrorFunc(NULL, quiet_structured);
    done = true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool ascii_ieq(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((a[i] | 0x20) != (b[i] | 0x20))
            return false;
    return true;
}

/* The first `needle` in [p, end), or NULL. */
static const char *find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; p < end && (size_t)(end - p) >= n; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
    }
    return NULL;
}

lsn_err xml_require_utf8(const char *data, size_t len, const char *source, lsn_error *err)
{
    const unsigned char *u = (const unsigned char *)data;
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        data += 3;
        len -= 3;
        u += 3;
    }
    /* A UTF-16 or UTF-32 byte-order mark, or a NUL among the first bytes
     * (UTF-16 or UTF-32 without a mark). */
    if (len >= 2 && ((u[0] == 0xFE && u[1] == 0xFF) || (u[0] == 0xFF && u[1] == 0xFE)))
        return core_fail(err, LSN_ERR_SYNTAX, "%s: encoded in UTF-16 or UTF-32: only UTF-8 is "
                        "accepted", source);
    for (size_t i = 0; i < len && i < 4; i++)
        if (u[i] == 0)
            return core_fail(err, LSN_ERR_SYNTAX, "%s: encoded in UTF-16 or UTF-32: only "
                            "UTF-8 is accepted", source);
    /* "<?xml" and the white space after it: six bytes, all in the input. */
    if (len < 6 || memcmp(data, "<?xml", 5) != 0 || !is_space(data[5]))
        return LSN_OK;
    const char *end = data + len;
    const char *decl_end = find(data, end, "?>");
    if (decl_end)
        end = decl_end;
    const char *enc = find(data, end, "encoding");
    if (!enc)
        return LSN_OK;
    const char *p = enc + 8;
    while (p < end && is_space(*p))
        p++;
    if (p < end && *p == '=')
        p++;
    while (p < end && is_space(*p))
        p++;
    /* A malformed declaration is libxml2's to refuse. */
    if (p >= end || (*p != '"' && *p != '\''))
        return LSN_OK;
    const char *value = p + 1;
    const char *close = memchr(value, *p, (size_t)(end - value));
    size_t n = close ? (size_t)(close - value) : (size_t)(end - value);
    if (ascii_ieq(value, n, "UTF-8") || ascii_ieq(value, n, "UTF8"))
        return LSN_OK;
    char shown[33];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof shown - 1; i++)
        shown[k++] = (u[value - data + i] >= 0x20 && u[value - data + i] < 0x7f)
                         ? value[i] : '?';
    shown[k] = '\0';
    return core_fail(err, LSN_ERR_SYNTAX,
                    "%s: declares encoding '%s': only UTF-8 is accepted", source, shown);
}

xmlDocPtr xml_parse(const char *data, size_t len, const char *source, lsn_error *err)
{
    if (!source)
        source = "input";
    if (!data || len == 0) {
        core_fail(err, LSN_ERR_NO_DATA, "No data to parse");
        return NULL;
    }
    if (len > XML_MAX_BYTES || len > (size_t)INT32_MAX) {
        core_fail(err, LSN_ERR_LIMIT, "%s: document is larger than %u bytes",
                 source, XML_MAX_BYTES);
        return NULL;
    }
    if (xml_require_utf8(data, len, source, err) != LSN_OK)
        return NULL;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        core_fail(err, LSN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    /* Messages are taken from the context, never printed. */
    xml_quiet_thread();
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
               XML_PARSE_NOCDATA;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, data, (int)len, NULL, NULL, opts);
    const xmlError *xe = &ctxt->lastError;
    if (!doc || !ctxt->wellFormed) {
        if (xe->code != 0 && xe->message) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", xe->message);
            size_t n = strlen(msg);
            while (n && isspace((unsigned char)msg[n - 1]))
                msg[--n] = '\0';
            for (size_t i = 0; i < n; i++) /* one line, whatever libxml2 wrote */
                if (msg[i] == '\n' || msg[i] == '\r')
                    msg[i] = ' ';
            core_fail(err, LSN_ERR_SYNTAX, "%s: line %d: %s", source, xe->line, msg);
        } else {
            core_fail(err, LSN_ERR_SYNTAX, "%s: not well-formed XML", source);
        }
        xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (doc->intSubset || doc->extSubset) {
        core_fail(err, LSN_ERR_SYNTAX,
                 "%s: documents with a DTD or entity declarations are refused",
                 source);
        xmlFreeDoc(doc);
        return NULL;
    }
    if (!xmlDocGetRootElement(doc)) {
        core_fail(err, LSN_ERR_NO_DATA, "No data to parse");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

bool xml_is(const xmlNode *node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE &&
           strcmp((const char *)node->name, name) == 0;
}

bool xml_in_ns(const xmlNode *node, const char *ns_uri)
{
    if (!node || node->type != XML_ELEMENT_NODE)
        return false;
    if (!ns_uri)
        return node->ns == NULL || node->ns->href == NULL;
    return node->ns && node->ns->href &&
           strcmp((const char *)node->ns->href, ns_uri) == 0;
}

static bool matches(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           (!name || strcmp((const char *)n->name, name) == 0);
}

xmlNode *xml_child(const xmlNode *node, const char *name)
{
    if (!node)
        return NULL;
    for (xmlNode *c = node->children; c; c = c->next)
        if (matches(c, name))
            return c;
    return NULL;
}

xmlNode *xml_next(const xmlNode *node, const char *name)
{
    if (!node)
        return NULL;
    for (xmlNode *c = node->next; c; c = c->next)
        if (matches(c, name))
            return c;
    return NULL;
}

static const xmlAttr *find_attr(const xmlNode *node, const char *name)
{
    if (!node || node->type != XML_ELEMENT_NODE)
        return NULL;
    for (const xmlAttr *a = node->properties; a; a = a->next)
        if (strcmp((const char *)a->name, name) == 0)
            return a;
    return NULL;
}

static char *attr_value_dup(const xmlAttr *a)
{
    /* Attribute values are a list of text (and, without entity substitution,
     * entity reference) nodes; we take the text nodes only. */
    size_t n = 0;
    for (const xmlNode *t = a->children; t; t = t->next)
        if (t->type == XML_TEXT_NODE && t->content)
            n += strlen((const char *)t->content);
    char *v = core_malloc(n + 1);
    if (!v)
        return NULL;
    size_t off = 0;
    for (const xmlNode *t = a->children; t; t = t->next)
        if (t->type == XML_TEXT_NODE && t->content) {
            size_t k = strlen((const char *)t->content);
            memcpy(v + off, t->content, k);
            off += k;
        }
    v[off] = '\0';
    return v;
}

const char *xml_attr(const xmlNode *node, const char *name)
{
    static _Thread_local char scratch[1024];
    const xmlAttr *a = find_attr(node, name);
    if (!a)
        return NULL;
    /* Fast path: a single text child, the usual case. */
    if (a->children && !a->children->next && a->children->type == XML_TEXT_NODE) {
        const char *c = (const char *)a->children->content;
        return c ? c : "";
    }
    char *v = attr_value_dup(a);
    if (!v)
        return NULL;
    snprintf(scratch, sizeof scratch, "%s", v);
    lsn_free(v);
    return scratch;
}

char *xml_attr_dup(const xmlNode *node, const char *name)
{
    const xmlAttr *a = find_attr(node, name);
    return a ? attr_value_dup(a) : NULL;
}

char *xml_text_dup(const xmlNode *node)
{
    size_t n = 0;
    for (const xmlNode *t = node ? node->children : NULL; t; t = t->next)
        if ((t->type == XML_TEXT_NODE || t->type == XML_CDATA_SECTION_NODE) && t->content)
            n += strlen((const char *)t->content);
    char *v = core_malloc(n + 1);
    if (!v)
        return NULL;
    size_t off = 0;
    for (const xmlNode *t = node ? node->children : NULL; t; t = t->next)
        if ((t->type == XML_TEXT_NODE || t->type == XML_CDATA_SECTION_NODE) && t->content) {
            size_t k = strlen((const char *)t->content);
            memcpy(v + off, t->content, k);
            off += k;
        }
    v[off] = '\0';
    /* trim */
    size_t start = 0;
    while (v[start] && isspace((unsigned char)v[start]))
        start++;
    size_t end = off;
    while (end > start && isspace((unsigned char)v[end - 1]))
        end--;
    memmove(v, v + start, end - start);
    v[end - start] = '\0';
    return v;
}

long xml_line(const xmlNode *node)
{
    return node ? (long)xmlGetLineNo(node) : 0;
}
