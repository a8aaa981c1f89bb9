/* text.c — textContent, a reader's text (innerText) and white-space
 * normalisation (see text.h). */
#include "text.h"

#include <string.h>
#include <strings.h>

#include "dom.h"

/* A pre-order walk by parent links and sibling indexes (no recursion, no
 * stack), with a call on entering each node (which says whether to go into
 * its children) and one on leaving each element it went into. */
typedef struct text_walker {
  bool (*enter)(struct text_walker *w, const GumboNode *n);
  void (*leave)(struct text_walker *w, const GumboNode *el);
  text_skip *skip;
} text_walker;

static bool text_skipped(text_walker *w, const GumboNode *n) {
  return w->skip && w->skip->fn && dom_is_element(n) && w->skip->fn(n, w->skip->ud);
}

static bool text_stopped(const text_walker *w) { return w->skip && w->skip->stop; }

static size_t text_walk(text_walker *w, const GumboNode *root) {
  size_t visited = 1;
  const GumboNode *node = root;
  bool inside = w->enter(w, root);
  for (;;) {
    const GumboVector *kids = inside && node->type != GUMBO_NODE_TEMPLATE ? dom_children(node) : NULL;
    if (kids && kids->length && !text_stopped(w)) {
      node = kids->data[0];
    } else {
      for (;;) {
        if (inside && w->leave && dom_is_element(node)) w->leave(w, node);
        if (node == root || text_stopped(w)) return visited;
        const GumboNode *parent = node->parent;
        const GumboVector *siblings = dom_children(parent);
        if (node->index_within_parent + 1 < siblings->length) {
          node = siblings->data[node->index_within_parent + 1];
          break;
        }
        node = parent;
        inside = true;
      }
    }
    visited++;
    inside = w->enter(w, node);
  }
}

/* ---- textContent ----------------------------------------------------------- */

typedef struct {
  text_walker w;
  const GumboNode *root;
  buf *out;
} text_content_walk;

static bool text_content_enter(text_walker *w, const GumboNode *n) {
  text_content_walk *c = (text_content_walk *)w;
  if (dom_is_text(n) || (n == c->root && n->type == GUMBO_NODE_COMMENT)) {
    buf_puts(c->out, n->v.text.text);
    return false;
  }
  if (n->type == GUMBO_NODE_TEMPLATE) return false; /* its contents live in another fragment */
  return n == c->root || !text_skipped(w, n);
}

size_t text_content(const GumboNode *n, text_skip *skip, buf *out) {
  text_content_walk c = {{text_content_enter, NULL, skip}, n, out};
  return text_walk(&c.w, n);
}

/* ---- a reader's text ------------------------------------------------------- */

/* How an element is shown by default (the HTML standard's rendering
 * section, which stands in for CSS here). */
typedef enum { SHOWN_INLINE, SHOWN_NONE, SHOWN_BLOCK, SHOWN_PARAGRAPH, SHOWN_CELL, SHOWN_ROW, SHOWN_BREAK } text_shown;

static text_shown text_shown_as(const GumboNode *el) {
  if (el->type == GUMBO_NODE_TEMPLATE) return SHOWN_NONE;
  if (dom_attr_find(el, "hidden")) return SHOWN_NONE;
  GumboTag tag = el->v.element.tag;
  if (el->v.element.tag_namespace != GUMBO_NAMESPACE_HTML) {
    /* In SVG and MathML, what is not drawn. */
    return tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_TITLE || tag == GUMBO_TAG_DESC
               ? SHOWN_NONE
               : SHOWN_INLINE;
  }
  switch (tag) {
  case GUMBO_TAG_AREA: case GUMBO_TAG_BASE: case GUMBO_TAG_BASEFONT: case GUMBO_TAG_DATALIST:
  case GUMBO_TAG_HEAD: case GUMBO_TAG_LINK: case GUMBO_TAG_META: case GUMBO_TAG_NOEMBED:
  case GUMBO_TAG_NOFRAMES: case GUMBO_TAG_PARAM: case GUMBO_TAG_RP: case GUMBO_TAG_SCRIPT:
  case GUMBO_TAG_STYLE: case GUMBO_TAG_TITLE: case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_TEMPLATE:
    return SHOWN_NONE;
  case GUMBO_TAG_INPUT: {
    const GumboAttribute *type = dom_attr_find(el, "type");
    return type && strcasecmp(type->value, "hidden") == 0 ? SHOWN_NONE : SHOWN_INLINE;
  }
  case GUMBO_TAG_P:
    return SHOWN_PARAGRAPH;
  case GUMBO_TAG_BR:
    return SHOWN_BREAK;
  case GUMBO_TAG_TD: case GUMBO_TAG_TH:
    return SHOWN_CELL;
  case GUMBO_TAG_TR:
    return SHOWN_ROW;
  case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE: case GUMBO_TAG_BLOCKQUOTE:
  case GUMBO_TAG_BODY: case GUMBO_TAG_CAPTION: case GUMBO_TAG_CENTER: case GUMBO_TAG_DD:
  case GUMBO_TAG_DETAILS: case GUMBO_TAG_DIR: case GUMBO_TAG_DIV: case GUMBO_TAG_DL: case GUMBO_TAG_DT:
  case GUMBO_TAG_FIELDSET: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FOOTER:
  case GUMBO_TAG_FORM: case GUMBO_TAG_FRAMESET: case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3:
  case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_HEADER: case GUMBO_TAG_HGROUP:
  case GUMBO_TAG_HR: case GUMBO_TAG_HTML: case GUMBO_TAG_LEGEND: case GUMBO_TAG_LI: case GUMBO_TAG_LISTING:
  case GUMBO_TAG_MAIN: case GUMBO_TAG_MENU: case GUMBO_TAG_NAV: case GUMBO_TAG_OL: case GUMBO_TAG_OPTGROUP:
  case GUMBO_TAG_OPTION: case GUMBO_TAG_PLAINTEXT: case GUMBO_TAG_PRE: case GUMBO_TAG_SECTION:
  case GUMBO_TAG_SUMMARY: case GUMBO_TAG_TABLE: case GUMBO_TAG_UL: case GUMBO_TAG_XMP:
    return SHOWN_BLOCK;
  case GUMBO_TAG_UNKNOWN: /* elements newer than Gumbo's list */
    if (strcmp(dom_tag_name(el), "dialog") == 0) return dom_attr_find(el, "open") ? SHOWN_BLOCK : SHOWN_NONE;
    return strcmp(dom_tag_name(el), "search") == 0 ? SHOWN_BLOCK : SHOWN_INLINE;
  default:
    return SHOWN_INLINE;
  }
}

/* Elements whose white space is kept (white-space: pre and pre-wrap). */
static bool text_keeps_space(const GumboNode *el) {
  GumboTag tag = el->v.element.tag;
  return el->v.element.tag_namespace == GUMBO_NAMESPACE_HTML &&
         (tag == GUMBO_TAG_PRE || tag == GUMBO_TAG_TEXTAREA || tag == GUMBO_TAG_LISTING ||
          tag == GUMBO_TAG_PLAINTEXT || tag == GUMBO_TAG_XMP);
}

typedef struct {
  text_walker w;
  const GumboNode *root;
  buf *out;
  size_t start;      /* where this text begins in out */
  int breaks;        /* required line breaks waiting (the most asked for) */
  bool space;        /* a collapsed space waiting */
  size_t keep_space; /* depth in elements that keep white space */
  bool one_line;
} text_inner_walk;

static bool text_inner_empty(const text_inner_walk *t) { return t->out->len == t->start; }

static char text_inner_last(const text_inner_walk *t) { return text_inner_empty(t) ? '\0' : t->out->data[t->out->len - 1]; }

/* Writes what waits before the next text: the line breaks (none at the
 * start), else the space (none at a line's start). */
static void text_inner_flush(text_inner_walk *t) {
  if (text_inner_empty(t)) {
    t->breaks = 0;
  } else if (t->breaks > 0) {
    if (t->one_line) {
      if (text_inner_last(t) != ' ') buf_putc(t->out, ' ');
    } else {
      for (int i = 0; i < t->breaks; i++) buf_putc(t->out, '\n');
    }
    t->breaks = 0;
  } else if (t->space && text_inner_last(t) != '\n' && text_inner_last(t) != '\t' && text_inner_last(t) != ' ') {
    buf_putc(t->out, ' ');
  }
  t->space = false;
}

static void text_inner_break(text_inner_walk *t, int n) {
  if (n > t->breaks) t->breaks = n;
  t->space = false;
}

/* A string of the algorithm's own (a <br>'s LF, a cell's tab). */
static void text_inner_put(text_inner_walk *t, char c) {
  t->space = false;
  text_inner_flush(t);
  if (text_inner_empty(t)) return; /* nothing at the start */
  if (t->one_line) c = ' ';
  if (!(c == ' ' && (text_inner_empty(t) || text_inner_last(t) == ' '))) buf_putc(t->out, c);
}

static void text_inner_text(text_inner_walk *t, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    bool nbsp = p[0] == 0xC2 && p[1] == 0xA0;
    if (t->keep_space == 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\f' || *p == '\r' || nbsp)) {
      t->space = true;
      p += nbsp ? 2 : 1;
      continue;
    }
    text_inner_flush(t);
    const unsigned char *run = p;
    if (t->keep_space) {
      for (; *p; p++) {
        if (*p == '\n' && t->one_line) break;
      }
      buf_append(t->out, run, (size_t)(p - run));
      if (*p) {
        text_inner_put(t, ' ');
        p++;
      }
    } else {
      while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\f' && *p != '\r' && !(p[0] == 0xC2 && p[1] == 0xA0)) p++;
      buf_append(t->out, run, (size_t)(p - run));
    }
  }
}

/* Whether a later sibling of el is shown as kind (a cell after a cell, a
 * row after a row, also in the next row groups of its table). */
static bool text_followed_by(const GumboNode *el, text_shown kind) {
  for (const GumboNode *s = dom_next_element_sibling(el); s; s = dom_next_element_sibling(s))
    if (text_shown_as(s) == kind) return true;
  if (kind != SHOWN_ROW) return false;
  const GumboNode *group = dom_parent_element(el);
  if (!group || group->v.element.tag == GUMBO_TAG_TABLE) return false;
  for (const GumboNode *g = dom_next_element_sibling(group); g; g = dom_next_element_sibling(g))
    for (const GumboNode *r = dom_element_from(dom_children(g), 0); r; r = dom_next_element_sibling(r))
      if (text_shown_as(r) == SHOWN_ROW) return true;
  return false;
}

static bool text_inner_enter(text_walker *w, const GumboNode *n) {
  text_inner_walk *t = (text_inner_walk *)w;
  if (dom_is_text(n)) {
    text_inner_text(t, n->v.text.text);
    return false;
  }
  if (n->type == GUMBO_NODE_DOCUMENT) return true;
  if (!dom_is_element(n)) return false;
  if (n != t->root && text_skipped(w, n)) return false;
  text_shown shown = text_shown_as(n);
  if (shown == SHOWN_NONE && n != t->root) return false;
  if (shown == SHOWN_BLOCK) text_inner_break(t, 1);
  else if (shown == SHOWN_PARAGRAPH) text_inner_break(t, 2);
  else if (shown == SHOWN_BREAK) text_inner_put(t, '\n');
  if (text_keeps_space(n)) t->keep_space++;
  return true;
}

static void text_inner_leave(text_walker *w, const GumboNode *el) {
  text_inner_walk *t = (text_inner_walk *)w;
  if (text_keeps_space(el)) t->keep_space--;
  switch (text_shown_as(el)) {
  case SHOWN_BLOCK: text_inner_break(t, 1); break;
  case SHOWN_PARAGRAPH: text_inner_break(t, 2); break;
  case SHOWN_CELL: if (el != t->root && text_followed_by(el, SHOWN_CELL)) text_inner_put(t, '\t'); break;
  case SHOWN_ROW: if (el != t->root && text_followed_by(el, SHOWN_ROW)) text_inner_put(t, '\n'); break;
  default: break;
  }
}

size_t text_inner(const GumboNode *n, text_skip *skip, bool one_line, buf *out) {
  if (dom_is_text(n) || n->type == GUMBO_NODE_COMMENT) return text_content(n, NULL, out);
  text_inner_walk t = {{text_inner_enter, text_inner_leave, skip}, n, out, out->len, 0, false, 0, one_line};
  size_t visited = text_walk(&t.w, n);
  /* Nothing at the ends: what waits is dropped, and a <br>'s or a cell's
   * last string too. */
  while (!text_inner_empty(&t) && strchr(" \n\t", text_inner_last(&t))) out->data[--out->len] = '\0';
  return visited;
}

/* ---- white space ----------------------------------------------------------- */

/* Length of the white-space character at s (0 if none). */
static size_t text_space_len(const unsigned char *s, size_t left) {
  switch (s[0]) {
    case ' ': case '\t': case '\n': case '\f': case '\r':
      return 1;
    case 0xC2: /* U+00A0 NO-BREAK SPACE */
      return left >= 2 && s[1] == 0xA0 ? 2 : 0;
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
