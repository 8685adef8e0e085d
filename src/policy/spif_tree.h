/* policy/spif_tree.h — a light element tree of a SPIF, built from libxml2's
 * SAX2 events (spif_tree.c).
 *
 * libxml2's own tree costs more to build and free than the whole compile of
 * a policy (a node and a text node per element, white space included); this
 * tree keeps only what a SPIF needs — local names (namespace prefixes are
 * ignored, so SPIF 2.0 and 2.1 files with or without "spif:" read the same),
 * attributes, text and line numbers — in one scratch arena. */
#ifndef POLICY_SPIF_TREE_H
#define POLICY_SPIF_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "liaison/error.h"

struct policy_chunk;

typedef struct sattr {
    const char *name;  /* local name: xml:lang is "lang" */
    const char *value; /* decoded */
} sattr;

typedef struct snode {
    const char *name;  /* local name */
    struct snode *parent, *first, *last, *next;
    sattr *attrs;
    size_t nattrs;
    char *text;        /* character data directly inside, NULL if none */
    size_t text_len;
    size_t text_cap;
    long line;
} snode;

/* A parsed document: the tree, its arena, and the parser whose dictionary
 * holds the element and attribute names (kept, not copied). */
typedef struct spif_tree {
    snode *root;
    struct policy_chunk *arena;
    void *ctxt;
} spif_tree;

/* Parse data (libxml2, no network, no entity expansion, a DTD refused) into
 * t. The document must be well-formed, with one exception that a shared
 * conformance vector needs: a misspelt end tag that names no open element
 * closes the element open there (see on_error in spif_tree.c). Anything
 * else not well-formed, a truncated file above all, is refused with its
 * line and column. Returns t->root, or NULL
 * with err set (LSN_ERR_NO_DATA, LSN_ERR_SYNTAX, LSN_ERR_LIMIT,
 * LSN_ERR_NOMEM). Call spif_tree_release(t) whatever the outcome. */
snode *spif_tree_parse(spif_tree *t, const char *data, size_t len, const char *source,
                       lsn_error *err);
void spif_tree_release(spif_tree *t);

/* First child element named `name` (any name when NULL); next sibling
 * element so named. */
snode *sn_child(const snode *n, const char *name);
snode *sn_next(const snode *n, const char *name);
/* Attribute value by local name; NULL when absent. */
const char *sn_attr(const snode *n, const char *name);

#endif
