/* policy/spif_tree.c — building the light SPIF tree (spif_tree.h) from
 * libxml2 SAX2 events. The safety settings are those of core/xml.c: no
 * network, entities never substituted, any DTD refused (which shuts out
 * "billion laughs" and external entities), a size cap. */
#include "policy/spif_tree.h"

#include <string.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlversion.h>

#include "core/error.h"
#include "core/xml.h"
#include "policy/arena.h"

/* A bound on the tree, so a hostile file cannot make us allocate without end
 * (NATO's policy has about 1,500 elements). */
#define SPIF_MAX_NODES 1000000u
#define SPIF_MAX_TEXT (64u * 1024u)

typedef struct builder {
    xmlParserCtxtPtr ctxt;
    struct policy_chunk **arena;
    snode *root;
    snode *cur;        /* the open element, NULL outside the root */
    size_t skip;       /* depth inside ignored content (a second root) */
    size_t nodes;
    bool dtd;          /* a DTD or entity declaration was seen */
    lsn_err failed;    /* LSN_ERR_NOMEM or LSN_ERR_LIMIT */
    /* The first well-formedness error that is refused (see on_error). */
    bool malformed;
    int err_line, err_col;
    char err_msg[160];
} builder;

static void stop(builder *b, lsn_err why)
{
    if (!b->failed)
        b->failed = why;
    xmlStopParser(b->ctxt);
}

static char *copy(builder *b, const char *s, size_t n)
{
    char *d = arena_alloc(b->arena, n + 1);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* An attribute value as libxml2 hands it over without entity substitution:
 * '&' arrives as "&#38;" (other references are already decoded). */
static char *copy_value(builder *b, const char *s, size_t n)
{
    char *d = copy(b, s, n);
    if (!d || !memchr(d, '&', n))
        return d;
    size_t w = 0;
    for (size_t r = 0; r < n;) {
        if (n - r >= 5 && memcmp(d + r, "&#38;", 5) == 0) {
            d[w++] = '&';
            r += 5;
        } else {
            d[w++] = d[r++];
        }
    }
    d[w] = '\0';
    return d;
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    (void)prefix, (void)uri, (void)nb_namespaces, (void)namespaces, (void)nb_defaulted;
    builder *b = ctx;
    if (b->failed)
        return;
    if (b->skip || (!b->cur && b->root)) {
        b->skip++;
        return;
    }
    if (++b->nodes > SPIF_MAX_NODES) {
        stop(b, LSN_ERR_LIMIT);
        return;
    }
    snode *n = arena_alloc(b->arena, sizeof *n);
    /* Names live in the parser's dictionary, which outlives the tree. */
    if (!n) {
        stop(b, LSN_ERR_NOMEM);
        return;
    }
    n->name = (const char *)localname;
    n->line = xmlSAX2GetLineNumber(b->ctxt);
    if (nb_attributes > 0) {
        n->attrs = arena_alloc(b->arena, (size_t)nb_attributes * sizeof *n->attrs);
        if (!n->attrs) {
            stop(b, LSN_ERR_NOMEM);
            return;
        }
        for (int i = 0; i < nb_attributes; i++) {
            const xmlChar **a = attributes + 5 * i; /* local, prefix, URI, value, end */
            sattr *at = &n->attrs[n->nattrs++];
            at->name = (const char *)a[0];
            at->value = copy_value(b, (const char *)a[3], (size_t)(a[4] - a[3]));
            if (!at->name || !at->value) {
                stop(b, LSN_ERR_NOMEM);
                return;
            }
        }
    }
    n->parent = b->cur;
    if (!b->cur) {
        b->root = n;
    } else if (b->cur->last) {
        b->cur->last->next = n;
        b->cur->last = n;
    } else {
        b->cur->first = b->cur->last = n;
    }
    b->cur = n;
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                   const xmlChar *uri)
{
    (void)localname, (void)prefix, (void)uri;
    builder *b = ctx;
    if (b->skip) {
        b->skip--;
        return;
    }
    if (b->cur)
        b->cur = b->cur->parent;
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
    builder *b = ctx;
    snode *n = b->cur;
    /* Text beside child elements (indentation, mixed content) means
     * nothing in a SPIF: only leaves like <code> and <excludedClass> keep it. */
    if (b->failed || b->skip || !n || len <= 0 || n->first)
        return;
    if (!n->text) {
        /* White space between elements is the common case: keep nothing. */
        int i = 0;
        while (i < len && (ch[i] == ' ' || ch[i] == '\n' || ch[i] == '\t' || ch[i] == '\r'))
            i++;
        if (i == len)
            return;
    }
    size_t add = (size_t)len;
    /* SPIF texts are names and codes; a huge one is hostile. */
    if (n->text_len + add > SPIF_MAX_TEXT) {
        stop(b, LSN_ERR_LIMIT);
        return;
    }
    if (n->text_len + add + 1 > n->text_cap) {
        /* libxml2 hands text over in pieces: grow geometrically. */
        size_t cap = n->text_cap ? n->text_cap * 2 : 32;
        while (cap < n->text_len + add + 1)
            cap *= 2;
        char *t = arena_alloc(b->arena, cap);
        if (!t) {
            stop(b, LSN_ERR_NOMEM);
            return;
        }
        if (n->text)
            memcpy(t, n->text, n->text_len);
        n->text = t;
        n->text_cap = cap;
    }
    memcpy(n->text + n->text_len, ch, add);
    n->text_len += add;
    n->text[n->text_len] = '\0';
}

static void on_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id,
                   const xmlChar *system_id)
{
    (void)name, (void)external_id, (void)system_id;
    builder *b = ctx;
    b->dtd = true;
    xmlStopParser(b->ctxt);
}

static void on_entity(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                      const xmlChar *system_id, xmlChar *content)
{
    (void)name, (void)type, (void)public_id, (void)system_id, (void)content;
    on_dtd(ctx, NULL, NULL, NULL);
}

/* Is `name` (an end tag's, perhaps prefixed) the local name of an open
 * element? */
static bool names_open_element(const builder *b, const char *name)
{
    const char *colon = name ? strchr(name, ':') : NULL;
    if (colon)
        name = colon + 1;
    for (const snode *n = b->cur; name && n; n = n->parent)
        if (strcmp(n->name, name) == 0)
            return true;
    return false;
}

/* Every libxml2 message comes here, never to stderr. The parser runs in
 * recovery mode for one reason only: a shared conformance vector (the food
 * policy) has a misspelt end tag, </securityCategiryTagSet>, that
 * conformance must load. So exactly that is tolerated: an end tag that
 * matches no open element, which libxml2 takes as the end of the element
 * open there - the element structure is the one the author wrote. An end
 * tag naming an open ancestor (a missing end tag) and every other error -
 * a truncated file above all - is refused with its line and column.
 * Warnings change nothing and are dropped. */
#if LIBXML_VERSION >= 21200
static void on_error(void *ctx, const xmlError *e)
#else
static void on_error(void *ctx, xmlError *e)
#endif
{
    builder *b = ctx;
    if (!e || e->level == XML_ERR_WARNING || b->malformed || b->failed || b->dtd)
        return;
    if (e->code == XML_ERR_TAG_NAME_MISMATCH && e->str1 && e->str2 &&
        strcmp(e->str2, "unparsable") != 0 && !names_open_element(b, e->str2))
        return;
    b->malformed = true;
    b->err_line = e->line;
    b->err_col = e->int2;
    const char *m = e->message ? e->message : "not well-formed";
    size_t n = 0;
    for (; m[n] && n < sizeof b->err_msg - 1; n++)
        b->err_msg[n] = (m[n] == '\n' || m[n] == '\r') ? ' ' : m[n];
    while (n && b->err_msg[n - 1] == ' ')
        n--;
    b->err_msg[n] = '\0';
    xmlStopParser(b->ctxt);
}

typedef struct mem_reader {
    const char *data;
    size_t left;
} mem_reader;

static int mem_read(void *ctx, char *buf, int len)
{
    mem_reader *r = ctx;
    size_t n = len > 0 ? (size_t)len : 0;
    if (n > r->left)
        n = r->left;
    memcpy(buf, r->data, n);
    r->data += n;
    r->left -= n;
    return (int)n;
}

static int mem_close(void *ctx)
{
    (void)ctx;
    return 0;
}

static bool only_space(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (data[i] != ' ' && data[i] != '\n' && data[i] != '\t' && data[i] != '\r')
            return false;
    return true;
}

void spif_tree_release(spif_tree *t)
{
    if (t->ctxt)
        xmlFreeParserCtxt(t->ctxt);
    t->ctxt = NULL;
    arena_release(&t->arena);
    t->root = NULL;
}

snode *spif_tree_parse(spif_tree *t, const char *data, size_t len, const char *source,
                       lsn_error *err)
{
    memset(t, 0, sizeof *t);
    if (!data || len == 0) {
        core_fail(err, LSN_ERR_NO_DATA, "%s: No data to parse", source);
        return NULL;
    }
    if (len > XML_MAX_BYTES) {
        core_fail(err, LSN_ERR_LIMIT, "%s: document is larger than %u bytes", source,
                 XML_MAX_BYTES);
        return NULL;
    }
    xmlSAXHandler h;
    memset(&h, 0, sizeof h);
    h.initialized = XML_SAX2_MAGIC;
    h.startElementNs = on_start;
    h.endElementNs = on_end;
    h.characters = on_chars;
    h.cdataBlock = on_chars;
    h.internalSubset = on_dtd;
    h.externalSubset = on_dtd;
    h.entityDecl = on_entity;
    h.serror = on_error;

    builder b;
    memset(&b, 0, sizeof b);
    b.arena = &t->arena;
    /* libxml2 pulls the document through a reader in small pieces rather
     * than copying all of it first: a smaller peak keeps the C library from
     * handing the heap back to the system and faulting it in again on the
     * next load, which cost more than the parse itself. */
    mem_reader r = { data, len };
    b.ctxt = xmlCreateIOParserCtxt(&h, &b, mem_read, mem_close, &r, XML_CHAR_ENCODING_NONE);
    if (!b.ctxt) {
        core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", source);
        return NULL;
    }
    xml_quiet_thread();
    xmlCtxtUseOptions(b.ctxt, XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOCDATA);
    xmlParseDocument(b.ctxt);

    snode *root = b.root;
    if (b.dtd) {
        core_fail(err, LSN_ERR_SYNTAX,
                 "%s: documents with a DTD or entity declarations are refused", source);
        root = NULL;
    } else if (b.failed == LSN_ERR_LIMIT) {
        core_fail(err, LSN_ERR_LIMIT, "%s: more than %u elements or a text longer than %u bytes",
                 source, SPIF_MAX_NODES, SPIF_MAX_TEXT);
        root = NULL;
    } else if (b.failed) {
        core_fail(err, LSN_ERR_NOMEM, "%s: out of memory", source);
        root = NULL;
    } else if (!root && only_space(data, len)) {
        /* Only white space (or comments) is no data. */
        core_fail(err, LSN_ERR_NO_DATA, "%s: No data to parse", source);
    } else if (b.malformed) {
        core_fail(err, LSN_ERR_SYNTAX, "%s: line %d, column %d: not well-formed: %s", source,
                 b.err_line, b.err_col, b.err_msg);
        root = NULL;
    } else if (!root) {
        const xmlError *xe = &b.ctxt->lastError;
        if (xe->code && xe->message) {
            int n = (int)strlen(xe->message);
            while (n > 0 && (xe->message[n - 1] == '\n' || xe->message[n - 1] == ' '))
                n--;
            core_fail(err, LSN_ERR_SYNTAX, "%s: line %d: not XML: %.*s", source, xe->line,
                     n > 200 ? 200 : n, xe->message);
        }
        else
            core_fail(err, LSN_ERR_SYNTAX, "%s: not XML (no root element)", source);
    }
    t->ctxt = b.ctxt;
    t->root = root;
    return root;
}

snode *sn_child(const snode *n, const char *name)
{
    if (!n)
        return NULL;
    for (snode *c = n->first; c; c = c->next)
        if (!name || strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

snode *sn_next(const snode *n, const char *name)
{
    if (!n)
        return NULL;
    for (snode *c = n->next; c; c = c->next)
        if (!name || strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const char *sn_attr(const snode *n, const char *name)
{
    for (size_t i = 0; n && i < n->nattrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return n->attrs[i].value;
    return NULL;
}
