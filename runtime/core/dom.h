/* dom.h — parsed HTML documents. Owns the whole life of a Gumbo tree: input
 * limits (size, nesting depth), the encoding step, the parse into a
 * per-document arena (so freeing is one call and never recursive), and the
 * few facts about nodes every other subsystem needs (names, children,
 * whether a node is an element). Traversals elsewhere are iterative; nothing
 * here recurses on the tree. */
#ifndef GLEAN_DOM_H
#define GLEAN_DOM_H

#include <gumbo.h>
#include <stdbool.h>
#include <stddef.h>

#include "mem.h"

typedef struct dom_doc dom_doc;

typedef struct dom_options {
  size_t max_bytes;      /* refuse larger input; 0 = DOM_DEFAULT_MAX_BYTES */
  int max_depth;         /* refuse deeper element nesting; 0 = DOM_DEFAULT_MAX_DEPTH */
  const char *charset;   /* encoding announced by the transport (HTTP), or NULL */
  int max_attributes;    /* refuse a tag with more attributes; 0 = DOM_DEFAULT_MAX_ATTRIBUTES */
  /* Where the tree and the parse's working copies of the input come from
   * (NULL: malloc); must outlive the document. Gumbo allocates as it goes
   * and never checks: a refused allocation ends the parse at once, which
   * then fails with "not enough memory", everything it took given back. */
  const mem_allocator *mem;
} dom_options;

#define DOM_DEFAULT_MAX_BYTES ((size_t)256 << 20)
#define DOM_DEFAULT_MAX_DEPTH 4096
/* Gumbo compares each attribute's name with the tag's others: a page with
 * many attributes per tag parses in time quadratic in their number. 256
 * keeps the worst page about five times as slow as an ordinary one. */
#define DOM_DEFAULT_MAX_ATTRIBUTES 256

/* Parses a whole document from raw bytes (any encoding, sniffed as browsers
 * do). Returns NULL and writes a message into err on refusal or failure. */
dom_doc *dom_parse(const char *bytes, size_t len, const dom_options *opts, char *err, size_t errlen);
void dom_free(dom_doc *doc);

/* The fast path: the bodies of <script> and <style> elements (most of the
 * bytes of many pages) are taken out of Gumbo's path and attached to the
 * tree afterwards; the tree is the same either way (tests/c/test_prescan.c,
 * tests/fuzz/). The one difference: Gumbo's source positions and
 * original_text (which glean never reads, and which point into freed input
 * buffers once dom_parse returns in any case) are those of the shortened
 * document after the first body taken out. */
typedef enum {
  DOM_PRESCAN_AUTO,    /* dom_parse: the fast path when a document has enough body bytes to gain */
  DOM_PRESCAN_OFF,     /* Gumbo parses every byte: the reference the fast path is tested against */
  DOM_PRESCAN_ALWAYS,  /* every body found, however short (tests and fuzzing) */
} dom_prescan_mode;

dom_doc *dom_parse_mode(const char *bytes, size_t len, const dom_options *opts, dom_prescan_mode mode,
                        char *err, size_t errlen);

/* How a document was parsed. */
typedef struct dom_parse_stats {
  bool prescan_used;     /* the tree came from the shortened document */
  bool fell_back;        /* a shortened parse did not check out: the document was parsed in full */
  size_t bytes_skipped;  /* body bytes Gumbo did not see (0 unless prescan_used) */
  size_t bodies;         /* bodies attached to the tree (0 unless prescan_used) */
} dom_parse_stats;

dom_parse_stats dom_stats(const dom_doc *doc);

/* Tests only: the fast path with bodies proposed by the caller instead of
 * the prescan (offsets into the UTF-8 text Gumbo parses: for valid UTF-8
 * input without a BOM, the bytes given). Whatever is proposed, the tree
 * must be that of a full parse: a wrong proposal only falls back. */
struct prescan_body;
dom_doc *dom_parse_proposed(const char *bytes, size_t len, const dom_options *opts, const struct prescan_body *bodies,
                            size_t n, char *err, size_t errlen);

GumboNode *dom_root(const dom_doc *doc);        /* the GUMBO_NODE_DOCUMENT node */
size_t dom_size(const dom_doc *doc);            /* bytes the tree takes (what its memory is charged) */
const mem_allocator *dom_allocator(const dom_doc *doc);  /* the options' mem: where the tree came from */
const char *dom_charset(const dom_doc *doc);    /* canonical encoding name used */

/* Element or template (Gumbo keeps <template> as its own node type). */
static inline bool dom_is_element(const GumboNode *n) {
  return n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE;
}

/* Text-bearing node: text, whitespace, CDATA. */
static inline bool dom_is_text(const GumboNode *n) {
  return n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA;
}

/* Children of a document or element node; NULL for other nodes. For a
 * <template>, these are its contents (in the DOM they live in a separate
 * fragment: selectors and text must not descend into them). */
static inline const GumboVector *dom_children(const GumboNode *n) {
  if (n->type == GUMBO_NODE_DOCUMENT) return &n->v.document.children;
  if (dom_is_element(n)) return &n->v.element.children;
  return NULL;
}

/* The element's local name as the DOM reports it: lower case for HTML,
 * with the spec's case adjustments for SVG (foreignObject, clipPath, ...).
 * Always NUL-terminated; valid as long as the document. */
const char *dom_tag_name(const GumboNode *el);

/* The attribute's name as the DOM reports it (qualified, e.g. "xlink:href"
 * for foreign namespaced attributes), or the value of the named attribute. */
const char *dom_attr_qname(const GumboAttribute *a, char *scratch, size_t scratch_len);
const GumboAttribute *dom_attr_find(const GumboNode *el, const char *name);

/* The navigation below is inline: selector matching and text walk the
 * tree through it, and it is most of their time. */

/* First element among vec's items from index i on, or NULL. */
static inline GumboNode *dom_element_from(const GumboVector *vec, size_t i) {
  for (; i < vec->length; i++) {
    GumboNode *c = vec->data[i];
    if (dom_is_element(c)) return c;
  }
  return NULL;
}

/* Next element in document (pre-)order within the subtree of `scope`
 * (scope itself is never returned), not entering template contents. */
static inline GumboNode *dom_next_element(const GumboNode *n, const GumboNode *scope) {
  if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_DOCUMENT) {
    GumboNode *child = dom_element_from(dom_children(n), 0);
    if (child) return child;
  }
  for (; n != scope && n->parent; n = n->parent) {
    GumboNode *sibling = dom_element_from(dom_children(n->parent), n->index_within_parent + 1);
    if (sibling) return sibling;
    if (n->parent == scope) return NULL;
  }
  return NULL;
}

static inline GumboNode *dom_parent_element(const GumboNode *n) {
  GumboNode *p = n->parent;
  return p && dom_is_element(p) ? p : NULL;
}

static inline GumboNode *dom_next_element_sibling(const GumboNode *n) {
  return n->parent ? dom_element_from(dom_children(n->parent), n->index_within_parent + 1) : NULL;
}

static inline GumboNode *dom_prev_element_sibling(const GumboNode *n) {
  if (!n->parent) return NULL;
  const GumboVector *siblings = dom_children(n->parent);
  for (size_t i = n->index_within_parent; i-- > 0;) {
    GumboNode *s = siblings->data[i];
    if (dom_is_element(s)) return s;
  }
  return NULL;
}

#endif
