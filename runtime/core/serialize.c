/* serialize.c — HTML fragment serialisation (see serialize.h). */
#include "serialize.h"

#include <string.h>

#include "dom.h"

static bool serialize_is_void(const GumboNode *el) {
  if (el->v.element.tag_namespace != GUMBO_NAMESPACE_HTML) return false;
  switch (el->v.element.tag) {
    case GUMBO_TAG_AREA: case GUMBO_TAG_BASE: case GUMBO_TAG_BASEFONT: case GUMBO_TAG_BGSOUND:
    case GUMBO_TAG_BR: case GUMBO_TAG_COL: case GUMBO_TAG_EMBED: case GUMBO_TAG_FRAME:
    case GUMBO_TAG_HR: case GUMBO_TAG_IMG: case GUMBO_TAG_INPUT: case GUMBO_TAG_KEYGEN:
    case GUMBO_TAG_LINK: case GUMBO_TAG_META: case GUMBO_TAG_PARAM: case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_TRACK: case GUMBO_TAG_WBR:
      return true;
    default:
      return false;
  }
}

/* Text inside these is written as is: the parser did not decode it either.
 * (noscript is parsed as markup here, scripting being off, so it is escaped.) */
static bool serialize_is_raw_parent(const GumboNode *parent) {
  if (!parent || !dom_is_element(parent) || parent->v.element.tag_namespace != GUMBO_NAMESPACE_HTML) return false;
  switch (parent->v.element.tag) {
    case GUMBO_TAG_STYLE: case GUMBO_TAG_SCRIPT: case GUMBO_TAG_XMP: case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_NOEMBED: case GUMBO_TAG_NOFRAMES: case GUMBO_TAG_PLAINTEXT:
      return true;
    default:
      return false;
  }
}

static void serialize_escaped(buf *out, const char *s, bool attribute) {
  const char *run = s;
  for (; *s; s++) {
    const char *rep = NULL;
    size_t skip = 1;
    switch (*s) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '"': if (attribute) rep = "&quot;"; break;
      case '\xC2': if (s[1] == '\xA0') { rep = "&nbsp;"; skip = 2; } break;
      default: break;
    }
    if (rep) {
      buf_append(out, run, (size_t)(s - run));
      buf_puts(out, rep);
      s += skip - 1;
      run = s + 1;
    }
  }
  buf_append(out, run, (size_t)(s - run));
}

static void serialize_start_tag(const GumboNode *el, buf *out) {
  buf_putc(out, '<');
  buf_puts(out, dom_tag_name(el));
  const GumboVector *attrs = &el->v.element.attributes;
  char scratch[256];
  for (size_t i = 0; i < attrs->length; i++) {
    const GumboAttribute *a = attrs->data[i];
    buf_putc(out, ' ');
    buf_puts(out, dom_attr_qname(a, scratch, sizeof scratch));
    buf_puts(out, "=\"");
    serialize_escaped(out, a->value, true);
    buf_putc(out, '"');
  }
  buf_putc(out, '>');
}

static void serialize_leaf(const GumboNode *n, buf *out) {
  switch (n->type) {
    case GUMBO_NODE_TEXT: case GUMBO_NODE_WHITESPACE: case GUMBO_NODE_CDATA:
      if (serialize_is_raw_parent(n->parent)) buf_puts(out, n->v.text.text);
      else serialize_escaped(out, n->v.text.text, false);
      break;
    case GUMBO_NODE_COMMENT:
      buf_puts(out, "<!--");
      buf_puts(out, n->v.text.text);
      buf_puts(out, "-->");
      break;
    default:
      break;
  }
}

static void serialize_end_tag(const GumboNode *el, buf *out) {
  if (serialize_is_void(el)) return;
  buf_puts(out, "</");
  buf_puts(out, dom_tag_name(el));
  buf_putc(out, '>');
}

void serialize_node(const GumboNode *n, bool outer, buf *out) {
  if (n->type == GUMBO_NODE_DOCUMENT && outer && n->v.document.has_doctype) {
    buf_puts(out, "<!DOCTYPE ");
    buf_puts(out, n->v.document.name);
    buf_putc(out, '>');
  }
  if (!dom_children(n)) {
    if (outer) serialize_leaf(n, out);
    return;
  }
  if (outer && dom_is_element(n)) {
    serialize_start_tag(n, out);
    if (serialize_is_void(n)) return;
  }
  /* Walk the subtree by parent links: start tags on the way down, end tags
   * on the way up, so depth costs no stack. Template contents are included,
   * as the spec's serialisation does. */
  const GumboVector *kids = dom_children(n);
  const GumboNode *node = kids->length ? kids->data[0] : NULL;
  while (node) {
    const GumboVector *node_kids = dom_is_element(node) && !serialize_is_void(node) ? dom_children(node) : NULL;
    if (dom_is_element(node)) serialize_start_tag(node, out);
    else serialize_leaf(node, out);
    if (node_kids && node_kids->length) {
      node = node_kids->data[0];
      continue;
    }
    if (dom_is_element(node)) serialize_end_tag(node, out);
    /* climb until a next sibling exists, closing elements on the way */
    for (;;) {
      const GumboNode *parent = node->parent;
      const GumboVector *siblings = dom_children(parent);
      if (node->index_within_parent + 1 < siblings->length) {
        node = siblings->data[node->index_within_parent + 1];
        break;
      }
      if (parent == n) { node = NULL; break; }
      serialize_end_tag(parent, out);
      node = parent;
    }
  }
  if (outer && dom_is_element(n)) serialize_end_tag(n, out);
}
