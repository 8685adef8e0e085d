/* core/xml.h — parsing untrusted XML safely with libxml2, and small helpers
 * for walking a tree without caring about namespace prefixes.
 *
 * Every document is parsed with no network access, no DTD loading and no
 * entity substitution, and a document that carries a DTD at all is refused
 * (labels and SPIFs never need one; this shuts out "billion laughs" and
 * external entities). */
#ifndef CORE_XML_H
#define CORE_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>
#include "liaison/error.h"

#define XML_MAX_BYTES (8u * 1024u * 1024u)

/* Parse `data`, which must be well-formed UTF-8 XML (xml_require_utf8; no
 * recovery from slips). `source` names the input in messages. On failure returns NULL and fills err
 * with LSN_ERR_NO_DATA, LSN_ERR_SYNTAX or LSN_ERR_LIMIT. The caller frees the
 * document with xmlFreeDoc. */
xmlDocPtr xml_parse(const char *data, size_t len, const char *source, lsn_error *err);

/* Stop libxml2 from writing anything to stderr from the calling thread
 * (its generic and structured error handlers are per thread). Every parse
 * calls it: messages are read from the parser context into an lsn_error,
 * never printed (a printed line per bad input would pass any rate limit of
 * our own logging). */
void xml_quiet_thread(void);

/* Refuse input that is not UTF-8: a UTF-16/32 byte-order mark or NUL bytes
 * at the start, or an XML declaration naming any encoding but UTF-8 (a
 * label read one way by us and another by its next reader is two labels).
 * LSN_OK or LSN_ERR_SYNTAX naming `source` and the encoding. */
lsn_err xml_require_utf8(const char *data, size_t len, const char *source, lsn_error *err);

/* True when node is an element whose local name is `name` (any namespace). */
bool xml_is(const xmlNode *node, const char *name);
/* True when node is an element in namespace `ns_uri` (NULL: no namespace). */
bool xml_in_ns(const xmlNode *node, const char *ns_uri);
/* First child element (of any name when name is NULL), and the next sibling
 * element after `node` (of any name when name is NULL). */
xmlNode *xml_child(const xmlNode *node, const char *name);
xmlNode *xml_next(const xmlNode *node, const char *name);
/* Iterate: for (xmlNode *c = xml_child(n, "tag"); c; c = xml_next(c, "tag")) */

/* Attribute by local name, whatever its namespace; NULL when absent. The
 * string points into a per-thread scratch buffer that the next call to
 * xml_attr overwrites: copy it if you keep it. */
const char *xml_attr(const xmlNode *node, const char *name);
/* Same, but a fresh copy the caller frees with lsn_free (NULL if absent). */
char *xml_attr_dup(const xmlNode *node, const char *name);
/* Text content, trimmed of surrounding white space, copied (lsn_free).
 * Empty string when the element has no text; NULL only when out of memory. */
char *xml_text_dup(const xmlNode *node);
/* The line of a node, for messages. */
long xml_line(const xmlNode *node);

#endif
