/* dom.c — parsing a document and the node facts the rest of the core uses
 * (see dom.h). The parse is: size cap, encoding sniff and decode to UTF-8,
 * the prescan (prescan.c: nesting-depth guard and script/style bodies),
 * Gumbo into an arena, on the shortened document when there are bodies to
 * take out, then one pass that gives every element whose name Gumbo does
 * not normalise (unknown and SVG elements) its DOM name, so later code
 * never looks at the input bytes again, and finds the placeholders; the
 * bodies are attached where they all are found as expected, else the
 * original is parsed in full. */
#define _GNU_SOURCE /* memmem */
#include "dom.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "buf.h"
#include "encoding.h"
#include "prescan.h"

struct dom_doc {
  arena *mem;
  GumboOutput *out;
  const char *charset;
  dom_parse_stats stats;
  const mem_allocator *alloc;  /* the options' mem */
};

/* A parse in progress: where Gumbo allocates, and where to go when that
 * fails. */
typedef struct dom_gumbo_run {
  arena *mem;
  jmp_buf refused;
} dom_gumbo_run;

/* Gumbo 0.10.1 never checks its allocations, so a refused one (out of
 * memory, or past the caller's limit) leaves Gumbo at once: everything it
 * allocated is in the arena, which the caller frees, and it holds nothing
 * else (no globals, no other allocator). */
static void *dom_gumbo_alloc(void *ud, size_t size) {
  dom_gumbo_run *run = ud;
  void *p = arena_alloc(run->mem, size);
  if (!p) longjmp(run->refused, 1);
  return p;
}

static void dom_gumbo_free(void *ud, void *p) { (void)ud; (void)p; }

/* ---- names ---------------------------------------------------------------- */

static int dom_needs_name(const GumboElement *e) {
  return e->tag == GUMBO_TAG_UNKNOWN || e->tag_namespace == GUMBO_NAMESPACE_SVG;
}

/* Stores the element's DOM name in original_tag (in the arena), which
 * dom_tag_name reads for unknown and SVG elements. */
static int dom_fix_name(arena *mem, GumboElement *e) {
  GumboStringPiece piece = e->original_tag;
  const char *name;
  size_t len;
  if (e->tag != GUMBO_TAG_UNKNOWN) {
    name = gumbo_normalized_tagname(e->tag);
    len = strlen(name);
  } else if (piece.data && piece.length) {
    gumbo_tag_from_original_text(&piece);
    name = piece.data;
    len = piece.length;
  } else {
    name = "";
    len = 0;
  }
  char *lower = arena_strndup(mem, name, len);
  if (!lower) return -1;
  for (size_t i = 0; i < len; i++)
    if (lower[i] >= 'A' && lower[i] <= 'Z') lower[i] = (char)(lower[i] + 32);
  if (e->tag_namespace == GUMBO_NAMESPACE_SVG) {
    /* The SVG adjustments only change case, so the length stays. */
    GumboStringPiece lp = {lower, len};
    const char *svg = gumbo_normalize_svg_tagname(&lp);
    if (svg) memcpy(lower, svg, len);
  }
  e->original_tag.data = lower;
  e->original_tag.length = len;
  return 0;
}

const char *dom_tag_name(const GumboNode *el) {
  const GumboElement *e = &el->v.element;
  if (dom_needs_name(e)) return e->original_tag.data;
  return gumbo_normalized_tagname(e->tag);
}

/* Pre-order successor of n within scope's subtree, or NULL. `enter` says
 * whether n's own children may be visited. */
static GumboNode *dom_next_node(const GumboNode *n, const GumboNode *scope, int enter) {
  const GumboVector *kids = enter ? dom_children(n) : NULL;
  if (kids && kids->length) return kids->data[0];
  while (n && n != scope) {
    GumboNode *parent = n->parent;
    if (!parent) return NULL;
    const GumboVector *siblings = dom_children(parent);
    size_t next = n->index_within_parent + 1;
    if (next < siblings->length) return siblings->data[next];
    n = parent;
  }
  return NULL;
}

const char *dom_attr_qname(const GumboAttribute *a, char *scratch, size_t scratch_len) {
  const char *prefix = NULL;
  switch (a->attr_namespace) {
    case GUMBO_ATTR_NAMESPACE_XLINK: prefix = "xlink"; break;
    case GUMBO_ATTR_NAMESPACE_XML: prefix = "xml"; break;
    case GUMBO_ATTR_NAMESPACE_XMLNS: prefix = strcmp(a->name, "xmlns") == 0 ? NULL : "xmlns"; break;
    default: break;
  }
  if (!prefix) return a->name;
  snprintf(scratch, scratch_len, "%s:%s", prefix, a->name);
  return scratch;
}

const GumboAttribute *dom_attr_find(const GumboNode *el, const char *name) {
  const GumboVector *attrs = &el->v.element.attributes;
  int html = el->v.element.tag_namespace == GUMBO_NAMESPACE_HTML;
  char scratch[256];
  for (size_t i = 0; i < attrs->length; i++) {
    const GumboAttribute *a = attrs->data[i];
    const char *q = a->attr_namespace == GUMBO_ATTR_NAMESPACE_NONE ? a->name : dom_attr_qname(a, scratch, sizeof scratch);
    /* getAttribute lower-cases its argument on HTML elements. */
    if (html ? strcasecmp(q, name) == 0 : strcmp(q, name) == 0) return a;
  }
  return NULL;
}

/* ---- parse ---------------------------------------------------------------- */

/* Shorter bodies stay in the document: a placeholder and its check cost
 * about what Gumbo spends on a few dozen bytes. */
#define DOM_MIN_BODY 64
/* Below this many body bytes a document is parsed as it is: the copy and
 * the nonce would cost more than they save. */
#define DOM_MIN_SKIP 512

/* ---- the check -------------------------------------------------------------
 * The prescan proposes bodies; nothing here trusts it. A body is attached
 * only if both hold:
 *  - In the text: it follows a '>', holds no end tag for its element (and,
 *    for a script, no "<!--", which may enter the escaped states), and is
 *    followed by such an end tag or by the end of the input. From its first
 *    byte in script data (RAWTEXT for style) the tokenizer would then emit
 *    exactly the body as text and stop at its end.
 *  - In Gumbo's tree of the shortened document: its placeholder is the
 *    only child (a text node) of an HTML-namespace element of its kind. The
 *    nonce occurs nowhere but at the placeholders (prescan_shorten), and
 *    all the tokenizer emits in script data or RAWTEXT is that element's
 *    text, so the tokenizer entered that state exactly at the placeholder,
 *    in the same state it reaches the body in the original (the bytes
 *    before are the same, earlier bodies included by induction): the
 *    original's tree differs only in that text.
 * A placeholder anywhere else (an attribute, a comment, foreign content, a
 * <textarea>, dropped by a frameset), missing or found twice fails the
 * check, and the original is parsed in full. */

static bool dom_is_end_tag(const char *p, const char *end, const char *name, size_t n) {
  if ((size_t)(end - p) < n + 3 || p[0] != '<' || p[1] != '/') return false;
  for (size_t i = 0; i < n; i++)
    if ((p[2 + i] | 0x20) != name[i]) return false; /* name is lower-case letters */
  char c = p[2 + n];
  return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ' || c == '/' || c == '>';
}

static bool dom_body_closed(const char *text, size_t len, const prescan_body *b) {
  const char *name = b->kind == PRESCAN_SCRIPT ? "script" : "style";
  size_t n = b->kind == PRESCAN_SCRIPT ? 6 : 5;
  if (b->start == 0 || text[b->start - 1] != '>') return false;
  const char *p = text + b->start, *stop = p + b->len, *end = text + len;
  while ((p = memchr(p, '<', (size_t)(stop - p))) != NULL) {
    if (dom_is_end_tag(p, end, name, n)) return false;
    if (b->kind == PRESCAN_SCRIPT && end - p >= 4 && memcmp(p, "<!--", 4) == 0) return false;
    p++;
  }
  return stop == end || dom_is_end_tag(stop, end, name, n);
}

/* Bodies in order, apart, inside the text, each closed as above. */
static bool dom_bodies_closed(const char *text, size_t len, const prescan_result *ps) {
  size_t at = 0;
  for (size_t i = 0; i < ps->n; i++) {
    const prescan_body *b = &ps->bodies[i];
    if (b->start < at || b->start > len || b->len == 0 || b->len > len - b->start) return false;
    if ((b->kind != PRESCAN_SCRIPT && b->kind != PRESCAN_STYLE) || !dom_body_closed(text, len, b)) return false;
    at = b->start + b->len;
  }
  return true;
}

/* ---- text that ends a form -------------------------------------------------
 * Gumbo 0.10.1 flushes the text it has pending only after a </form> has
 * taken the form off the stack of open elements, so text that ends a form
 * (<form>Name <input> please</form>) lands after it, where browsers keep
 * it inside. The text node after the form then spans the end tag in the
 * source: what comes before "</form" is the form's, and goes back in. */

static GumboOutput *dom_gumbo(arena *mem, const char *text, size_t len);

static bool dom_html_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

static GumboNodeType dom_text_type(const char *s) {
  for (; *s; s++)
    if (!dom_html_space(*s)) return GUMBO_NODE_TEXT;
  return GUMBO_NODE_WHITESPACE;
}

/* Where "</form" ends a run of text in src, or NULL. */
static const char *dom_form_end_tag(const char *src, size_t len) {
  for (const char *p = src, *end = src + len; (p = memchr(p, '<', (size_t)(end - p))) != NULL; p++)
    if (end - p >= 6 && strncasecmp(p, "</form", 6) == 0 &&
        (end - p == 6 || dom_html_space(p[6]) || p[6] == '/' || p[6] == '>'))
      return p;
  return NULL;
}

/* Inserts child as the last of el's children (an arena copy of the array). */
static int dom_append(arena *mem, GumboNode *el, GumboNode *child) {
  GumboVector *kids = &el->v.element.children;
  void **data = arena_alloc(mem, (kids->length + 1) * sizeof *data);
  if (!data) return -1;
  if (kids->length) memcpy(data, kids->data, kids->length * sizeof *data);
  data[kids->length] = child;
  child->parent = el;
  child->index_within_parent = kids->length;
  kids->data = data;
  kids->length++;
  kids->capacity = kids->length;
  return 0;
}

static void dom_remove(GumboNode *n) {
  GumboVector *kids = &n->parent->v.element.children;
  for (size_t i = n->index_within_parent; i + 1 < kids->length; i++) {
    kids->data[i] = kids->data[i + 1];
    ((GumboNode *)kids->data[i])->index_within_parent = i;
  }
  kids->length--;
}

/* Puts back into form the text Gumbo left after it. Returns 0, or -1 when
 * out of memory. */
static int dom_fix_form_text(arena *mem, GumboNode *form) {
  GumboNode *parent = form->parent;
  if (!parent || (parent->type != GUMBO_NODE_ELEMENT && parent->type != GUMBO_NODE_TEMPLATE)) return 0;
  const GumboVector *siblings = &parent->v.element.children;
  size_t next = form->index_within_parent + 1;
  if (next >= siblings->length) return 0;
  GumboNode *t = siblings->data[next];
  if (t->type != GUMBO_NODE_TEXT && t->type != GUMBO_NODE_WHITESPACE) return 0;
  GumboStringPiece src = t->v.text.original_text;
  const char *tag = src.data ? dom_form_end_tag(src.data, src.length) : NULL;
  if (!tag || tag == src.data) return 0;
  /* The text before the end tag as Gumbo decodes it (character references,
   * newlines): parsed on its own, as the first thing in a body. */
  buf piece = BUF_INIT;
  buf_puts(&piece, "<body>");
  buf_append(&piece, src.data, (size_t)(tag - src.data));
  GumboOutput *out = piece.failed ? NULL : dom_gumbo(mem, piece.data, piece.len);
  buf_free(&piece);
  if (!out) return -1;
  const GumboNode *body = out->root->v.element.children.length == 2 ? out->root->v.element.children.data[1] : NULL;
  const GumboNode *decoded = body && body->v.element.children.length == 1 ? body->v.element.children.data[0] : NULL;
  if (!decoded || (decoded->type != GUMBO_NODE_TEXT && decoded->type != GUMBO_NODE_WHITESPACE)) return 0;
  const char *inside = decoded->v.text.text;
  size_t n = strlen(inside);
  if (strncmp(t->v.text.text, inside, n) != 0) return 0; /* not what this fix-up knows */
  GumboNode *moved = arena_alloc(mem, sizeof *moved);
  if (!moved) return -1;
  *moved = *t;
  moved->v.text.text = inside;
  moved->v.text.original_text.length = (size_t)(tag - src.data);
  moved->type = dom_text_type(inside);
  if (dom_append(mem, form, moved) != 0) return -1;
  const char *gt = memchr(tag, '>', (size_t)(src.data + src.length - tag));
  const char *rest = gt ? gt + 1 : src.data + src.length;
  t->v.text.text += n;
  t->v.text.original_text.data = rest;
  t->v.text.original_text.length = (size_t)(src.data + src.length - rest);
  t->v.text.start_pos.offset += (unsigned)(rest - src.data);
  if (!*t->v.text.text) dom_remove(t);
  else t->type = dom_text_type(t->v.text.text);
  return 0;
}

typedef struct dom_holes {
  const prescan_result *ps;
  const char *nonce;
  GumboNode **texts;  /* per body, the text node found */
  size_t found;
  bool bad;
} dom_holes;

static void dom_hole_check(dom_holes *h, const GumboNode *el) {
  const GumboElement *e = &el->v.element;
  if (e->tag_namespace != GUMBO_NAMESPACE_HTML || (e->tag != GUMBO_TAG_SCRIPT && e->tag != GUMBO_TAG_STYLE) ||
      e->children.length != 1)
    return;
  GumboNode *t = e->children.data[0];
  if (t->type != GUMBO_NODE_TEXT) return;
  long i = prescan_placeholder_index(t->v.text.text, h->nonce);
  if (i < 0) return;
  prescan_kind want = e->tag == GUMBO_TAG_SCRIPT ? PRESCAN_SCRIPT : PRESCAN_STYLE;
  if ((size_t)i >= h->ps->n || h->texts[i] || h->ps->bodies[i].kind != want) {
    h->bad = true;
    return;
  }
  h->texts[i] = t;
  h->found++;
}

/* One pass after parsing, while the parsed text is still there: DOM names
 * for unknown and SVG elements, text that ends a form put back in it, and,
 * when holes is given, the placeholders. Returns 0, 1 when a placeholder
 * is out of place, -1 when out of memory. */
static int dom_fix_tree(arena *mem, GumboNode *root, dom_holes *holes) {
  for (GumboNode *n = root; n; n = dom_next_node(n, root, 1)) {
    if (!dom_is_element(n)) continue;
    if (dom_needs_name(&n->v.element) && dom_fix_name(mem, &n->v.element) != 0) return -1;
    if (n->v.element.tag == GUMBO_TAG_FORM && n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML &&
        dom_fix_form_text(mem, n) != 0)
      return -1;
    if (holes) {
      dom_hole_check(holes, n);
      if (holes->bad) return 1;
    }
  }
  return 0;
}

/* NULL when out of memory (the arena then holds what Gumbo took). */
static GumboOutput *dom_gumbo(arena *mem, const char *text, size_t len) {
  dom_gumbo_run run;
  run.mem = mem;
  GumboOptions gopts = kGumboDefaultOptions;
  gopts.allocator = dom_gumbo_alloc;
  gopts.deallocator = dom_gumbo_free;
  gopts.userdata = &run;
  gopts.max_errors = 0; /* glean never reports parse errors; recording them costs allocations */
  if (setjmp(run.refused)) return NULL;
  return gumbo_parse_with_options(&gopts, text, len);
}

/* Gives each placeholder's text node its body as Gumbo would have stored
 * it (input normalization; white space only makes a whitespace node). */
static int dom_attach(arena *mem, const char *text, const prescan_result *ps, GumboNode **texts) {
  for (size_t i = 0; i < ps->n; i++) {
    const char *src = text + ps->bodies[i].start;
    size_t len = ps->bodies[i].len;
    bool same, space;
    size_t size = prescan_text_size(src, len, &same, &space);
    char *copy = arena_alloc(mem, size + 1);
    if (!copy) return -1;
    if (same) memcpy(copy, src, size);
    else prescan_text_copy(src, len, copy);
    copy[size] = '\0';
    texts[i]->v.text.text = copy;
    if (space) texts[i]->type = GUMBO_NODE_WHITESPACE;
  }
  return 0;
}

/* The fast path. Returns 0 with doc->mem and doc->out set, 1 when the
 * bodies do not check out (nothing is kept), -1 when out of memory. */
static int dom_parse_short(dom_doc *doc, const char *text, size_t len, const prescan_result *ps) {
  if (!dom_bodies_closed(text, len, ps)) return 1;
  char nonce[PRESCAN_NONCE_LEN];
  prescan_nonce(nonce);
  buf shortened = BUF_WITH(doc->alloc);
  int rc = prescan_shorten(text, len, ps, nonce, &shortened);
  dom_holes holes = {ps, nonce, NULL, 0, false};
  arena *mem = NULL;
  GumboOutput *out = NULL;
  if (rc == 0) {
    holes.texts = mem_calloc(doc->alloc, ps->n, sizeof *holes.texts);
    mem = arena_new(doc->alloc);
    rc = holes.texts && mem ? 0 : -1;
  }
  if (rc == 0) {
    out = dom_gumbo(mem, buf_str(&shortened), shortened.len);
    rc = out ? dom_fix_tree(mem, out->document, &holes) : -1;
    if (rc == 0 && holes.found != ps->n) rc = 1;
  }
  buf_free(&shortened);
  if (rc == 0) rc = dom_attach(mem, text, ps, holes.texts);
  mem_free(doc->alloc, holes.texts, ps->n * sizeof *holes.texts);
  if (rc != 0) {
    arena_free(mem);
    return rc;
  }
  doc->mem = mem;
  doc->out = out;
  return 0;
}

/* Is "<tag" (ASCII letters, any case) somewhere in text? */
static bool dom_has_tag(const char *text, size_t len, const char *tag) {
  size_t n = strlen(tag);
  for (const char *p = text, *end = text + len; (p = memchr(p, '<', (size_t)(end - p))) != NULL; p++)
    if ((size_t)(end - p - 1) >= n && strncasecmp(p + 1, tag, n) == 0) return true;
  return false;
}

/* Gumbo 0.10.1 aborts the process (a failed assertion in handle_in_table)
 * on a CDATA section in MathML or SVG inside a table. A document that has
 * all three gets its CDATA sections replaced by the text they stand for,
 * escaped, before parsing: the same tree in foreign content, where CDATA is
 * text; outside it, a browser would have made a bogus comment of it. The
 * README lists this difference. Returns false if there was nothing to do. */
static bool dom_defuse_cdata(const char *text, size_t len, buf *out) {
  static const char open[] = "<![CDATA[";
  if (!memmem(text, len, open, sizeof open - 1) || !dom_has_tag(text, len, "table") ||
      !(dom_has_tag(text, len, "math") || dom_has_tag(text, len, "svg")))
    return false;
  const char *p = text, *end = text + len, *cdata;
  while ((cdata = memmem(p, (size_t)(end - p), open, sizeof open - 1)) != NULL) {
    buf_append(out, p, (size_t)(cdata - p));
    const char *body = cdata + sizeof open - 1;
    const char *close = memmem(body, (size_t)(end - body), "]]>", 3);
    const char *stop = close ? close : end;
    for (const char *c = body; c < stop; c++) {
      if (*c == '&') buf_puts(out, "&amp;");
      else if (*c == '<') buf_puts(out, "&lt;");
      else buf_putc(out, *c);
    }
    p = close ? close + 3 : end;
  }
  buf_append(out, p, (size_t)(end - p));
  return true;
}

static int dom_digit(char c, bool hex) {
  if (c >= '0' && c <= '9') return c - '0';
  if (hex && c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (hex && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Gumbo 0.10.1 reads a numeric character reference into an int with no
 * bound: one past INT_MAX (&#2147483648;) overflows and comes out as a
 * wrong character, a NUL that cuts the text short, or a byte that is not
 * UTF-8. A browser reads every reference past U+10FFFF as U+FFFD; those
 * past INT_MAX get the digits of 0x110000 instead, which Gumbo reads so.
 * Inside scripts, styles and comments, where references stay as written,
 * that changes the text: the README lists this difference. Returns false
 * if there was nothing to do. */
static bool dom_defuse_refs(const char *text, size_t len, buf *out) {
  const char *p = text, *end = text + len, *copied = text;
  bool any = false;
  while ((p = memchr(p, '&', (size_t)(end - p))) != NULL) {
    const char *q = p + 1;
    if (q == end || *q != '#') {
      p = q;
      continue;
    }
    q++;
    bool hex = q < end && (*q == 'x' || *q == 'X');
    if (hex) q++;
    const char *digits = q;
    unsigned long long value = 0;
    for (int d; q < end && (d = dom_digit(*q, hex)) >= 0; q++)
      if (value <= INT_MAX) value = value * (hex ? 16 : 10) + (unsigned)d;
    if (value > INT_MAX) {
      buf_append(out, copied, (size_t)(digits - copied));
      buf_puts(out, hex ? "110000" : "1114112");
      copied = q;
      any = true;
    }
    p = q;
  }
  if (any) buf_append(out, copied, (size_t)(end - copied));
  return any;
}

/* proposed: bodies from the caller (tests) instead of the prescan's. */
static dom_doc *dom_parse_with(const char *bytes, size_t len, const dom_options *opts, dom_prescan_mode mode,
                               const prescan_body *proposed, size_t n_proposed, char *err, size_t errlen) {
  size_t max_bytes = opts && opts->max_bytes ? opts->max_bytes : DOM_DEFAULT_MAX_BYTES;
  long max_depth = opts && opts->max_depth > 0 ? opts->max_depth : DOM_DEFAULT_MAX_DEPTH;
  size_t max_attributes = opts && opts->max_attributes > 0 ? (size_t)opts->max_attributes : DOM_DEFAULT_MAX_ATTRIBUTES;
  if (len > max_bytes) {
    snprintf(err, errlen, "document is %zu bytes, over the limit of %zu (max_bytes)", len, max_bytes);
    return NULL;
  }

  size_t bom = 0;
  const char *charset = enc_sniff(bytes, len, opts ? opts->charset : NULL, &bom);
  const char *text = bytes + bom;
  size_t text_len = len - bom;
  const mem_allocator *alloc = opts ? opts->mem : NULL;
  buf decoded = BUF_WITH(alloc);
  if (strcmp(charset, "UTF-8") != 0 || !enc_valid_utf8(text, text_len)) {
    if (enc_decode(text, text_len, charset, &decoded) != 0) {
      snprintf(err, errlen, "encoding %s is not supported on this system", charset);
      return NULL;
    }
    if (decoded.failed) {
      buf_free(&decoded);
      snprintf(err, errlen, "not enough memory decoding %zu bytes of %s", text_len, charset);
      return NULL;
    }
    text = buf_str(&decoded);
    text_len = decoded.len;
  }

  buf defused = BUF_WITH(alloc);
  if (dom_defuse_cdata(text, text_len, &defused)) {
    if (defused.failed) {
      buf_free(&decoded);
      buf_free(&defused);
      snprintf(err, errlen, "not enough memory");
      return NULL;
    }
    text = buf_str(&defused);
    text_len = defused.len;
  }
  buf capped = BUF_WITH(alloc);
  if (dom_defuse_refs(text, text_len, &capped)) {
    buf_free(&defused);
    defused = capped; /* freed as defused from here on */
    if (defused.failed) {
      buf_free(&decoded);
      buf_free(&defused);
      snprintf(err, errlen, "not enough memory");
      return NULL;
    }
    text = buf_str(&defused);
    text_len = defused.len;
  }

  size_t min_body = mode == DOM_PRESCAN_OFF || proposed ? 0 : mode == DOM_PRESCAN_ALWAYS ? 1 : DOM_MIN_BODY;
  prescan_result ps;
  prescan_scan(text, text_len, max_depth, min_body, &ps);
  if (ps.depth > max_depth) {
    prescan_free(&ps);
    buf_free(&decoded);
    buf_free(&defused);
    snprintf(err, errlen, "document nests elements more than %ld deep (max_depth)", max_depth);
    return NULL;
  }
  if (ps.attrs > max_attributes) {
    snprintf(err, errlen, "a tag has %zu attributes, over the limit of %zu (max_attributes)", ps.attrs, max_attributes);
    prescan_free(&ps);
    buf_free(&decoded);
    buf_free(&defused);
    return NULL;
  }
  prescan_result bodies = ps;
  if (proposed) {
    bodies = (prescan_result)PRESCAN_RESULT_INIT;
    bodies.bodies = (prescan_body *)proposed;
    bodies.n = n_proposed;
    for (size_t i = 0; i < n_proposed; i++) bodies.skipped += proposed[i].len;
  }

  dom_doc *doc = mem_calloc(alloc, 1, sizeof *doc);
  int rc = doc ? 1 : -1;
  if (doc) {
    doc->alloc = alloc;
    doc->charset = charset;
    if (bodies.n && (mode == DOM_PRESCAN_ALWAYS || bodies.skipped >= DOM_MIN_SKIP)) {
      rc = dom_parse_short(doc, text, text_len, &bodies);
      if (rc == 0) {
        doc->stats.prescan_used = true;
        doc->stats.bytes_skipped = bodies.skipped;
        doc->stats.bodies = bodies.n;
      } else if (rc == 1) {
        doc->stats.fell_back = true;
      }
    }
  }
  prescan_free(&ps);
  if (rc == 1) {
    doc->mem = arena_new(alloc);
    if (doc->mem && (doc->out = dom_gumbo(doc->mem, text, text_len)) != NULL) {
      rc = dom_fix_tree(doc->mem, doc->out->document, NULL);
    } else {
      rc = -1;
    }
  }
  /* From here on nothing refers to the input bytes: text and attribute
   * values are Gumbo's own copies or the arena's, names were copied by
   * dom_fix_tree. */
  buf_free(&decoded);
  buf_free(&defused);
  if (rc != 0) {
    dom_free(doc);
    snprintf(err, errlen, "not enough memory to parse %zu bytes", len);
    return NULL;
  }
  return doc;
}

dom_doc *dom_parse(const char *bytes, size_t len, const dom_options *opts, char *err, size_t errlen) {
  return dom_parse_with(bytes, len, opts, DOM_PRESCAN_AUTO, NULL, 0, err, errlen);
}

dom_doc *dom_parse_mode(const char *bytes, size_t len, const dom_options *opts, dom_prescan_mode mode,
                        char *err, size_t errlen) {
  return dom_parse_with(bytes, len, opts, mode, NULL, 0, err, errlen);
}

dom_doc *dom_parse_proposed(const char *bytes, size_t len, const dom_options *opts, const prescan_body *bodies,
                            size_t n, char *err, size_t errlen) {
  return dom_parse_with(bytes, len, opts, DOM_PRESCAN_ALWAYS, bodies, n, err, errlen);
}

void dom_free(dom_doc *doc) {
  if (!doc) return;
  arena_free(doc->mem);
  mem_free(doc->alloc, doc, sizeof *doc);
}

GumboNode *dom_root(const dom_doc *doc) { return doc->out->document; }

const char *dom_charset(const dom_doc *doc) { return doc->charset; }

dom_parse_stats dom_stats(const dom_doc *doc) { return doc->stats; }

size_t dom_size(const dom_doc *doc) { return sizeof *doc + arena_size(doc->mem); }

const mem_allocator *dom_allocator(const dom_doc *doc) { return doc->alloc; }
