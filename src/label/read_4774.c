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
 * This is the form the node parses most, so it is read in one pass with
 * libxml2's SAX interface and a per-thread parser that is reset, not rebuilt,
 * for each label (see "How the bytes reach libxml2" below): no document tree
 * is built (that alone halves the cost). The parser runs in SAX1 mode, without namespace processing: SAX2
 * keeps a namespace table and parses every xmlns= value as a URI, ~2,300
 * instructions of a ~37,000 parse, while the only namespace we look at is
 * the root's, which it must declare itself (root_ns). Names therefore come
 * with their prefix, which local_name drops. The safety of core/xml.c is
 * kept: no network, no entity substitution, no DTD loading, and a document
 * with a DTD is refused (the internalSubset callback stops the parse).
 *
 * Lenient where meaning is clear: element and attribute names in any case,
 * the root spelt OriginatorConfidentialityLabel, no namespace at all, a
 * missing CreationDateTime, a missing Classification (the label is then
 * invalid, not unreadable), a missing Type (the category name decides).
 * Strict where security depends on it: an unknown element inside
 * ConfidentialityInformation or Category is refused rather than skipped — a
 * misspelt <Category> must not silently drop a restriction — and so are
 * unknown values. PolicyIdentifier must come first in
 * ConfidentialityInformation, as the schema says: we resolve names against
 * it as we go. */
#include "label/label_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <libxml/SAX2.h>
#include <libxml/dict.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/xml.h"

#ifndef LIBXML_SAX1_ENABLED
#error "read_4774.c needs libxml2's SAX1 interface (LIBXML_SAX1_ENABLED)"
#endif

#define MAX_TEXT 1024        /* longest name, OID or privacy mark we read */
#define MAX_DEPTH 32         /* labels are four levels deep */
#define MAX_DICT 4096        /* names the reused parser may remember */

typedef enum where {
    W_OUTSIDE,     /* root, or an ignored element (CreationDateTime...) */
    W_INFO,        /* in ConfidentialityInformation */
    W_CATEGORY     /* in a Category */
} where;

typedef enum leaf {
    L_NONE, L_POLICY, L_CLASS, L_MARK, L_GENERIC, L_NUMERIC
} leaf;

typedef struct state {
    const lsn_policy_set *set;
    lsn_error *err;
    lsn_err rc;              /* first error of ours */
    bool only_if_4774;       /* form AUTO: leave other roots to the caller */
    bool not_4774;
    bool saw_root;
    int depth;
    int info_depth;          /* depth of ConfidentialityInformation */
    int ninfo;
    where where;
    leaf leaf;
    int leaf_depth;
    int ignore_depth;        /* >0: inside an ignored subtree at this depth */
    bool have_policy, have_class, have_mark;
    char url[MAX_TEXT];      /* PolicyIdentifier URL=/URI= */
    char text[MAX_TEXT];
    size_t text_len;
    lsn_label *label;
    const policy_tagset *ts; /* current Category */
    tag_kind kind;
    size_t entries;
} state;

static state *st(void *ctx)
{
    return ((xmlParserCtxtPtr)ctx)->_private;
}

/* Record the first error and stop the parser. Returns 0, so that a handler
 * can `return fail(...)`. */
static int fail(void *ctx, lsn_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(void *ctx, lsn_err code, const char *fmt, ...)
{
    state *s = st(ctx);
    if (s->rc == LSN_OK) {
        char msg[LSN_ERROR_MESSAGE_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        s->rc = core_fail(s->err, code, "line %ld: %s", (long)xmlSAX2GetLineNumber(ctx), msg);
    }
    xmlStopParser(ctx);
    return 0;
}

/* Same, when err was filled already (by a lookup). */
static int fail_rc(void *ctx, lsn_err rc)
{
    st(ctx)->rc = rc;
    xmlStopParser(ctx);
    return 0;
}

static bool is_4774_root(const char *n)
{
    return label_name_is(n, "originatorConfidentialityLabel") ||
           label_name_is(n, "alternativeConfidentialityLabel") ||
           label_name_is(n, "ConfidentialityLabel");
}

/* A name without its namespace prefix: the parser runs in SAX1 mode (see
 * new_parser), so names come as written. */
static const char *local_name(const char *n)
{
    const char *colon = strchr(n, ':');
    return colon ? colon + 1 : n;
}

/* A namespace declaration (xmlns= or xmlns:p=), which SAX1 passes as an
 * attribute. */
static bool is_xmlns(const char *n)
{
    return n[0] == 'x' && strncmp(n, "xmlns", 5) == 0 && (n[5] == '\0' || n[5] == ':');
}

/* The values of an element's attributes named names[0..n) in any case of
 * their local name (the first of each wins); NULL for those absent. One
 * pass over the attributes whatever n is. */
static void attrs(const xmlChar **atts, const char *const *names, const char **values,
                  size_t n)
{
    for (size_t k = 0; k < n; k++)
        values[k] = NULL;
    for (; atts && atts[0]; atts += 2) {
        const char *name = (const char *)atts[0];
        if (is_xmlns(name))
            continue;
        name = local_name(name);
        for (size_t k = 0; k < n; k++)
            if (!values[k] && label_name_is(name, names[k])) {
                values[k] = (const char *)atts[1];
                break;
            }
    }
}

/* The namespace of the root element named `qname`: the value of its xmlns=
 * or xmlns:prefix= attribute; NULL when it declares none (the root has no
 * ancestors to inherit one from) or an empty one. */
static const char *root_ns(const char *qname, const xmlChar **atts)
{
    const char *colon = strchr(qname, ':');
    size_t plen = colon ? (size_t)(colon - qname) : 0;
    for (; atts && atts[0]; atts += 2) {
        const char *n = (const char *)atts[0];
        if (!is_xmlns(n))
            continue;
        bool match = colon ? n[5] == ':' && strncmp(n + 6, qname, plen) == 0 && n[6 + plen] == '\0'
                           : n[5] == '\0';
        if (match)
            return atts[1][0] ? (const char *)atts[1] : NULL;
    }
    return NULL;
}

static bool space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Trimmed text of the current leaf, NUL-terminated in s->text. */
static const char *leaf_text(state *s)
{
    size_t start = 0, end = s->text_len;
    while (start < end && space(s->text[start]))
        start++;
    while (end > start && space(s->text[end - 1]))
        end--;
    s->text[end] = '\0';
    return s->text + start;
}

static int start_category(void *ctx, state *s, const xmlChar **atts)
{
    static const char *const names[] = { "Type", "TagName" };
    const char *v[2];
    attrs(atts, names, v, 2);
    s->kind = TAG_ANY;
    if (v[0]) {
        if (label_name_is(v[0], "PERMISSIVE"))
            s->kind = TAG_PERMISSIVE;
        else if (label_name_is(v[0], "RESTRICTIVE"))
            s->kind = TAG_RESTRICTIVE;
        else if (label_name_is(v[0], "INFORMATIVE"))
            s->kind = TAG_INFORMATIVE;
        else
            return fail(ctx, LSN_ERR_LABEL, "unknown Category Type '%.64s'", v[0]);
    }
    if (!v[1] || !v[1][0] || strlen(v[1]) >= MAX_TEXT)
        return fail(ctx, LSN_ERR_LABEL, "Category without TagName");
    lsn_err rc = label_tagset(s->label->policy, v[1], LSN_ERR_LABEL, s->err, &s->ts);
    return rc != LSN_OK ? fail_rc(ctx, rc) : 0;
}

static int start_leaf(state *s, leaf l, int depth)
{
    s->leaf = l;
    s->leaf_depth = depth;
    s->text_len = 0;
    return 0;
}

/* The root element: ours, or (form AUTO) someone else's. */
static int start_root(void *ctx, state *s, const char *name, const char *uri)
{
    s->saw_root = true;
    bool ours = uri ? strcmp(uri, LABEL_NS_4774) == 0 : is_4774_root(name);
    if (!ours && s->only_if_4774) {
        s->not_4774 = true;
        xmlStopParser(ctx);
        return 0;
    }
    if (!ours && uri)
        return fail(ctx, LSN_ERR_SYNTAX, "not a STANAG 4774 label: namespace '%s'", uri);
    if (!is_4774_root(name))
        return fail(ctx, LSN_ERR_SYNTAX, "not a STANAG 4774 label: root element <%s>", name);
    return 0;
}

static int start_in_info(void *ctx, state *s, const char *name, const xmlChar **atts,
                         int depth)
{
    if (label_name_is(name, "PolicyIdentifier")) {
        if (s->have_policy)
            return fail(ctx, LSN_ERR_LABEL, "more than one PolicyIdentifier");
        static const char *const names[] = { "URL", "URI" };
        const char *v[2];
        attrs(atts, names, v, 2);
        const char *url = v[0] ? v[0] : v[1];
        size_t len = url ? strlen(url) : 0;
        if (len >= sizeof s->url)
            len = 0; /* too long to be one of our OIDs: as if absent */
        memcpy(s->url, url ? url : "", len);
        s->url[len] = '\0';
        return start_leaf(s, L_POLICY, depth);
    }
    if (!s->have_policy)
        return fail(ctx, LSN_ERR_LABEL, "<%s> before PolicyIdentifier (it must come first)",
                    name);
    if (label_name_is(name, "Classification")) {
        if (s->have_class)
            return fail(ctx, LSN_ERR_LABEL, "more than one Classification");
        return start_leaf(s, L_CLASS, depth);
    }
    if (label_name_is(name, "PrivacyMark")) {
        if (s->have_mark)
            return fail(ctx, LSN_ERR_LABEL, "more than one PrivacyMark");
        return start_leaf(s, L_MARK, depth);
    }
    if (label_name_is(name, "Category")) {
        s->where = W_CATEGORY;
        return start_category(ctx, s, atts);
    }
    return fail(ctx, LSN_ERR_LABEL, "unexpected <%s> in ConfidentialityInformation", name);
}

static int start_element(void *ctx, state *s, const char *qname, const xmlChar **atts)
{
    int depth = s->depth;
    if (depth > MAX_DEPTH)
        return fail(ctx, LSN_ERR_LIMIT, "elements nested too deep");
    const char *name = local_name(qname);
    if (!s->saw_root)
        return start_root(ctx, s, name, root_ns(qname, atts));
    if (s->ignore_depth)
        return 0;
    if (s->leaf != L_NONE)
        return fail(ctx, LSN_ERR_LABEL, "unexpected <%s> inside a value", name);
    switch (s->where) {
    case W_OUTSIDE:
        if (depth == 2 && label_name_is(name, "ConfidentialityInformation")) {
            if (++s->ninfo > 1)
                return fail(ctx, LSN_ERR_LABEL, "more than one ConfidentialityInformation");
            s->where = W_INFO;
            s->info_depth = depth;
        } else {
            s->ignore_depth = depth; /* CreationDateTime and the like */
        }
        return 0;
    case W_INFO:
        return start_in_info(ctx, s, name, atts, depth);
    case W_CATEGORY:
        if (label_name_is(name, "GenericValue"))
            return start_leaf(s, L_GENERIC, depth);
        if (label_name_is(name, "NumericValue"))
            return start_leaf(s, L_NUMERIC, depth);
        return fail(ctx, LSN_ERR_LABEL, "unexpected <%s> in Category", name);
    }
    return 0;
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    state *s = st(ctx);
    s->depth++;
    if (s->rc == LSN_OK)
        (void)start_element(ctx, s, (const char *)name, atts);
}

static int find_policy(void *ctx, state *s, const char *name)
{
    const char *oid = s->url[0] ? s->url : NULL;
    const lsn_policy *by_name = NULL;
    lsn_policy *p = NULL;
    lsn_err rc = LSN_OK;
    if (!oid && strncmp(name, "urn:oid:", 8) == 0) {
        oid = name;
        name = "";
    } else if (name[0] && s->set) {
        by_name = lsn_policy_set_find_name(s->set, name);
    }
    if (oid) {
        rc = label_policy_by_id(s->set, oid, s->err, &p);
        /* A URL and a name that point at two different loaded policies is a
         * contradiction, not a choice for us to make. */
        if (rc == LSN_OK && by_name && by_name != p)
            return fail(ctx, LSN_ERR_LABEL,
                        "policy mismatch: URL '%s' and name '%s' name different policies",
                        oid, name);
    } else if (by_name) {
        p = (lsn_policy *)by_name;
    } else if (name[0]) {
        rc = core_fail(s->err, LSN_ERR_UNKNOWN_POLICY, "Unknown policy id: %s", name);
    } else {
        return fail(ctx, LSN_ERR_LABEL, "empty PolicyIdentifier");
    }
    if (rc != LSN_OK)
        return fail_rc(ctx, rc);
    s->label = label_new(p);
    if (!s->label)
        return fail(ctx, LSN_ERR_NOMEM, "out of memory");
    s->have_policy = true;
    return 0;
}

static int add_value(void *ctx, state *s, const char *text, bool numeric)
{
    if (++s->entries > LABEL_MAX_ENTRIES)
        return fail(ctx, LSN_ERR_LIMIT, "label has more than %u category values",
                    LABEL_MAX_ENTRIES);
    const policy_category *c = NULL;
    lsn_err rc;
    if (numeric) {
        uint32_t lacv = 0;
        if (!lacv_parse(text, &lacv))
            return fail(ctx, LSN_ERR_LABEL, "NumericValue '%s' is not a LACV", text);
        rc = label_cat_by_lacv(s->label->policy, s->ts, s->kind, lacv, LSN_ERR_LABEL,
                               s->err, &c);
    } else {
        rc = label_cat_by_name(s->label->policy, s->ts, s->kind, text, LSN_ERR_LABEL,
                               s->err, &c);
    }
    if (rc == LSN_OK)
        rc = label_add(s->label, c, s->err);
    return rc != LSN_OK ? fail_rc(ctx, rc) : 0;
}

static int end_leaf(void *ctx, state *s)
{
    leaf l = s->leaf;
    s->leaf = L_NONE;
    const char *text = leaf_text(s);
    lsn_err rc;
    switch (l) {
    case L_POLICY:
        return find_policy(ctx, s, text);
    case L_CLASS:
        s->have_class = true;
        rc = label_class_by_name(s->label->policy, text, LSN_ERR_LABEL, s->err,
                                 &s->label->cls);
        return rc != LSN_OK ? fail_rc(ctx, rc) : 0;
    case L_MARK:
        s->have_mark = true;
        if (label_set_privacy_mark(s->label, text, strlen(text)) != LSN_OK)
            return fail(ctx, LSN_ERR_NOMEM, "out of memory");
        return 0;
    case L_GENERIC:
    case L_NUMERIC:
        return add_value(ctx, s, text, l == L_NUMERIC);
    case L_NONE:
        break;
    }
    return 0;
}

static void on_end(void *ctx, const xmlChar *name)
{
    (void)name;
    state *s = st(ctx);
    int depth = s->depth--;
    if (s->rc != LSN_OK)
        return;
    if (s->ignore_depth) {
        if (depth == s->ignore_depth)
            s->ignore_depth = 0;
    } else if (s->leaf != L_NONE && depth == s->leaf_depth) {
        (void)end_leaf(ctx, s);
    } else if (s->where == W_CATEGORY && depth == s->info_depth + 1) {
        s->where = W_INFO;
    } else if (s->where == W_INFO && depth == s->info_depth) {
        s->where = W_OUTSIDE;
    }
}

/* Where the label's syntax holds elements only, text is refused, not
 * skipped: a reader that keeps it would not read the label we read. */
static const char *element_only(const state *s)
{
    switch (s->where) {
    case W_CATEGORY:
        return "Category";
    case W_INFO:
        return "ConfidentialityInformation";
    case W_OUTSIDE:
        break;
    }
    return s->depth == 1 ? "the label's root element" : NULL;
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
    state *s = st(ctx);
    if (s->rc != LSN_OK || len <= 0)
        return;
    if (s->leaf == L_NONE) {
        const char *in = s->ignore_depth ? NULL : element_only(s);
        for (int i = 0; in && i < len; i++)
            if (!space((char)ch[i])) {
                (void)fail(ctx, LSN_ERR_LABEL, "text '%.*s' inside %s, which holds elements only",
                           len - i > 32 ? 32 : len - i, (const char *)ch + i, in);
                return;
            }
        return;
    }
    if ((size_t)len >= sizeof s->text - s->text_len) {
        (void)fail(ctx, LSN_ERR_LIMIT, "a value is longer than %d bytes", MAX_TEXT - 1);
        return;
    }
    memcpy(s->text + s->text_len, ch, (size_t)len);
    s->text_len += (size_t)len;
}

static void on_dtd(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    (void)name, (void)ext, (void)sys;
    (void)fail(ctx, LSN_ERR_SYNTAX, "documents with a DTD or entity declarations are refused");
}

static void on_reference(void *ctx, const xmlChar *name)
{
    (void)fail(ctx, LSN_ERR_SYNTAX, "entity reference &%s; refused", (const char *)name);
}

/* How the bytes reach libxml2.
 *
 * Nearly every label is UTF-8 and a few hundred bytes long. Those are read
 * by the calling thread's kept parser, reset for each label, from a
 * NUL-terminated copy of the bytes handed to libxml2 as a string input
 * (xmlNewStringInputStream) and parsed with xmlParseDocument. Compared with
 * the push parser (xmlCtxtResetPush + xmlParseChunk) this saves allocating
 * and filling an input buffer per label and the push parser's bookkeeping
 * per token. The context is marked progressive, as the push parser marks
 * its own: otherwise the pull parser tries to grow its input at every token
 * of the last INPUT_CHUNK (250) bytes, ~3,000 instructions per label, and
 * a string input has nothing to grow from (xmlParserInputGrow returns at
 * once without a buffer), so the flag changes nothing but that. Together
 * about 5,700 instructions of 35,000 (docs/PERFORMANCE.md).
 *
 * Labels are UTF-8 only: one declaring another encoding (UTF-7 read one way
 * by us and another by the next reader) or carrying a UTF-16/32 mark is
 * refused first (xml_require_utf8). Any other odd label - one that starts
 * with anything but '<' or white space (a UTF-8 byte-order mark), or holds a
 * NUL byte - is read by a push parser made for it: rare, not worth keeping. */
#define STACK_COPY 4096      /* labels up to this size are copied on the stack */

/* libxml2's messages are read from the context into our lsn_error; these
 * handlers keep it from printing them (XML_PARSE_NOERROR alone leaves some,
 * such as encoding errors, to the thread's generic handler: stderr). */
static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

static xmlSAXHandler sax_handler(void)
{
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    /* not XML_SAX2_MAGIC: a SAX1 handler, so no namespace processing */
    sax.initialized = 1;
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_text;
    sax.cdataBlock = on_text;
    sax.internalSubset = on_dtd;
    sax.externalSubset = on_dtd;
    sax.reference = on_reference;
    sax.warning = quiet;
    sax.error = quiet;
    sax.fatalError = quiet;
    return sax;
}

/* Not XML_PARSE_NOERROR/NOWARNING: they unset the quiet handlers above,
 * which hands messages back to libxml2's default (stderr). */
static const int parse_options = XML_PARSE_NONET;

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
    for (; (size_t)(end - p) >= n; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
    }
    return NULL;
}

/* May these bytes be read as UTF-8 from a string input? False sends them
 * to the push parser, which reads what they declare (or refuses them). */
static bool plain_utf8(const char *data, size_t len)
{
    if (len == 0 || memchr(data, '\0', len))
        return false;
    if (data[0] != '<' && !space(data[0]))
        return false;
    if (len < 5 || memcmp(data, "<?xml", 5) != 0)
        return true;
    /* the XML declaration: only encoding="UTF-8" (or none) stays here */
    const char *decl_end = find(data, data + len, "?>");
    if (!decl_end)
        return false;
    const char *enc = find(data, decl_end, "encoding");
    if (!enc)
        return true;
    const char *p = enc + 8;
    while (p < decl_end && space(*p))
        p++;
    if (p >= decl_end || *p++ != '=')
        return false;
    while (p < decl_end && space(*p))
        p++;
    if (p >= decl_end || (*p != '"' && *p != '\''))
        return false;
    const char *value = p + 1, *close = memchr(value, *p, (size_t)(decl_end - value));
    return close && (ascii_ieq(value, (size_t)(close - value), "UTF-8") ||
                     ascii_ieq(value, (size_t)(close - value), "UTF8"));
}

/* Each thread keeps its parser in a key whose destructor frees it when the
 * thread ends (a thread-local pointer alone would leak it). */
static pthread_key_t parser_key;
static bool parser_key_ok;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void free_parser(void *ctxt)
{
    xmlFreeParserCtxt(ctxt);
}

/* libxml2 wants its global state set up once before threads parse. */
static void init_once_fn(void)
{
    xmlInitParser();
    parser_key_ok = pthread_key_create(&parser_key, free_parser) == 0;
}

static xmlParserCtxtPtr new_parser(void)
{
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt)
        *ctxt->sax = sax_handler();
    return ctxt;
}

/* The calling thread's parser, reset; NULL when out of memory. The caller
 * gives it back with put_parser. */
static xmlParserCtxtPtr get_parser(void)
{
    pthread_once(&init_once, init_once_fn);
    xmlParserCtxtPtr ctxt = parser_key_ok ? pthread_getspecific(parser_key) : NULL;
    if (ctxt && ctxt->dict && xmlDictSize(ctxt->dict) > MAX_DICT) {
        /* attacker-chosen names must not pile up in a long-lived parser */
        pthread_setspecific(parser_key, NULL);
        xmlFreeParserCtxt(ctxt);
        ctxt = NULL;
    }
    if (!ctxt) {
        ctxt = new_parser();
        if (!ctxt)
            return NULL;
        if (parser_key_ok && pthread_setspecific(parser_key, ctxt) != 0) {
            xmlFreeParserCtxt(ctxt);
            return NULL;
        }
    } else {
        xmlCtxtReset(ctxt);
    }
    xmlCtxtUseOptions(ctxt, parse_options);
    return ctxt;
}

/* Without a thread key (it could not be created) the parser is not kept. */
static void put_parser(xmlParserCtxtPtr ctxt)
{
    ctxt->_private = NULL;
    if (!parser_key_ok)
        xmlFreeParserCtxt(ctxt);
}

/* A push parser for a label that is not plain_utf8, freed after use. */
static xmlParserCtxtPtr one_off_parser(void)
{
    pthread_once(&init_once, init_once_fn);
    xmlSAXHandler sax = sax_handler();
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
    if (ctxt)
        xmlCtxtUseOptions(ctxt, parse_options);
    return ctxt;
}

/* Parse data (plain_utf8) with the kept parser ctxt from a copy. False
 * when out of memory. */
static bool parse_string(xmlParserCtxtPtr ctxt, const char *data, size_t len)
{
    char stack[STACK_COPY];
    char *copy = len < sizeof stack ? stack : core_malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, data, len);
    copy[len] = '\0';
    xmlParserInputPtr in = xmlNewStringInputStream(ctxt, (const xmlChar *)copy);
    bool ok = in && inputPush(ctxt, in) >= 0;
    if (ok) {
        ctxt->progressive = 1; /* no growing: see "How the bytes reach libxml2" */
        (void)xmlParseDocument(ctxt);
        /* the input points into copy: drop it before copy goes */
        xmlFreeInputStream(inputPop(ctxt));
    } else if (in) {
        xmlFreeInputStream(in);
    }
    if (copy != stack)
        lsn_free(copy);
    return ok;
}

lsn_err label_read_4774(const lsn_policy_set *set, const char *data, size_t len,
                        bool only_if_4774, bool *not_4774, lsn_label **out,
                        lsn_error *err)
{
    *out = NULL;
    *not_4774 = false;
    if (len > (size_t)INT32_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "label too large");
    lsn_err enc = xml_require_utf8(data, len, "label", err);
    if (enc != LSN_OK)
        return enc;
    xml_quiet_thread();
    bool kept = plain_utf8(data, len);
    xmlParserCtxtPtr ctxt = kept ? get_parser() : one_off_parser();
    if (!ctxt)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    state s;
    memset(&s, 0, sizeof s);
    s.set = set;
    s.err = err;
    s.only_if_4774 = only_if_4774;
    ctxt->_private = &s;
    if (kept) {
        if (!parse_string(ctxt, data, len) && s.rc == LSN_OK)
            s.rc = core_fail(err, LSN_ERR_NOMEM, "out of memory");
    } else {
        xmlParseChunk(ctxt, data, (int)len, 1);
    }
    lsn_err rc = s.rc;
    if (rc == LSN_OK && s.not_4774) {
        *not_4774 = true;
    } else if (rc == LSN_OK && !ctxt->wellFormed) {
        const xmlError *xe = &ctxt->lastError;
        char msg[256] = "not well-formed XML";
        if (xe->message) {
            snprintf(msg, sizeof msg, "%s", xe->message);
            size_t n = strlen(msg);
            while (n && space(msg[n - 1]))
                msg[--n] = '\0';
            for (size_t i = 0; i < n; i++) /* one line, whatever libxml2 wrote */
                if (msg[i] == '\n' || msg[i] == '\r')
                    msg[i] = ' ';
        }
        rc = core_fail(err, LSN_ERR_SYNTAX, "label: line %d: %s", xe->line, msg);
    } else if (rc == LSN_OK && !s.saw_root) {
        rc = core_fail(err, LSN_ERR_NO_DATA, "No data to parse");
    } else if (rc == LSN_OK && s.ninfo == 0) {
        rc = core_fail(err, LSN_ERR_LABEL, "label has no ConfidentialityInformation");
    } else if (rc == LSN_OK && !s.have_policy) {
        rc = core_fail(err, LSN_ERR_LABEL, "label has no PolicyIdentifier");
    }
    if (kept)
        put_parser(ctxt);
    else
        xmlFreeParserCtxt(ctxt);
    if (rc != LSN_OK || *not_4774) {
        lsn_label_free(s.label);
        return rc;
    }
    return label_done(s.label, err, out);
}
