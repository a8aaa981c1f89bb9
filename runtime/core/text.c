/* text.c — textContent and whitespace normalisation (see text.h). */
#include "text.h"

#include <stdbool.h>

#include "dom.h"

size_t text_content(const GumboNode *n, buf *out) {
  if (dom_is_text(n) || n->type == GUMBO_NODE_COMMENT) {
    buf_puts(out, n->v.text.text);
    return 1;
  }
  if (n->type == GUMBO_NODE_TEMPLATE) return 1; /* its contents live in another fragment */
  const GumboNode *node = n;
  size_t visited = 1;
  /* Pre-order walk by parent links and sibling indexes: no recursion, no stack. */
  for (;;) {
    const GumboVector *kids = node->type == GUMBO_NODE_TEMPLATE ? NULL : dom_children(node);
    if (kids && kids->length) {
      node = kids->data[0];
    } else {
      for (;;) {
        if (node == n) return visited;
        const GumboNode *parent = node->parent;
        const GumboVector *siblings = dom_children(parent);
        if (node->index_within_parent + 1 < siblings->length) {
          node = siblings->data[node->index_within_parent + 1];
          break;
        }
        node = parent;
      }
    }
    visited++;
    if (dom_is_text(node)) buf_puts(out, node->v.text.text);
  }
}

/* Length of the white-space character at s (0 if none). */
static size_t text_space_len(const unsigned char *s, size_t left) {
  switch (s[0]) {
    case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
      return 1;
    case 0xC2: /* U+0085 NEL, U+00A0 NBSP */
      return left >= 2 && (s[1] == 0x85 || s[1] == 0xA0) ? 2 : 0;
    case 0xE1: /* U+1680 OGHAM SPACE MARK */
      return left >= 3 && s[1] == 0x9A && s[2] == 0x80 ? 3 : 0;
    case 0xE2: /* U+2000..U+200A, U+2028, U+2029, U+202F, U+205F */
      if (left < 3) return 0;
      if (s[1] == 0x80 && (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF)) return 3;
      if (s[1] == 0x81 && s[2] == 0x9F) return 3;
      return 0;
    case 0xE3: /* U+3000 IDEOGRAPHIC SPACE */
      return left >= 3 && s[1] == 0x80 && s[2] == 0x80 ? 3 : 0;
    default:
      return 0;
  }
}

size_t text_squash(char *s, size_t len) {
  unsigned char *in = (unsigned char *)s;
  size_t r = 0, w = 0;
  bool pending_space = false;
  while (r < len) {
    size_t sp = text_space_len(in + r, len - r);
    if (sp) {
      pending_space = w > 0;
      r += sp;
      continue;
    }
    if (pending_space) {
      s[w++] = ' ';
      pending_space = false;
    }
    s[w++] = s[r++];
  }
  if (w < len) s[w] = '\0';
  return w;
}
