/* dom.c — parsing a document and the node facts the rest of the core uses
 * (see dom.h). The parse is: size cap, encoding sniff and decode to UTF-8,
 * a nesting-depth guard, Gumbo into an arena, then one pass that gives every
 * element whose name Gumbo does not normalise (unknown and SVG elements) its
 * DOM name, so later code never looks at the input bytes again. */
#include "dom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "buf.h"
#include "encoding.h"

struct dom_doc {
  arena *mem;
  GumboOutput *out;
  const char *charset;
};

static void *dom_gumbo_alloc(void *ud, size_t size) {
  void *p = arena_alloc(ud, size);
  /* Gumbo 0.10.1 never checks its allocations; failing loudly here beats a
   * NULL dereference somewhere inside it. */
  if (!p) {
    fputs("glean: out of memory while parsing HTML\n", stderr);
    abort();
  }
  return p;
}

static void dom_gumbo_free(void *ud, void *p) { (void)ud; (void)p; }

/* ---- depth guard ----------------------------------------------------------
 * Gumbo has no nesting limit and goes quadratic on deep trees (each start
 * tag scans the stack of open elements). This estimates the deepest nesting
 * from the token stream before Gumbo runs: start tags of elements that can
 * contain themselves push, their end tags pop. Elements whose end tags are
 * implied (p, li, td, ...) or that cannot nest (void elements, a, headings)
 * are not counted, so sloppy pages are not overestimated; raw-text element
 * bodies and comments are skipped so their contents do not count. */

/* How the depth guard treats a tag, by Gumbo's tag enum (a perfect hash,
 * so classifying costs no string compares). */
typedef enum { DEPTH_COUNT, DEPTH_SKIP, DEPTH_RAWTEXT } dom_depth_kind;

static dom_depth_kind dom_depth_kind_of(const char *name, size_t len) {
  switch (gumbo_tagn_enum(name, (unsigned)len)) {
    /* void elements */
    case GUMBO_TAG_AREA: case GUMBO_TAG_BASE: case GUMBO_TAG_BASEFONT: case GUMBO_TAG_BGSOUND:
    case GUMBO_TAG_BR: case GUMBO_TAG_COL: case GUMBO_TAG_EMBED: case GUMBO_TAG_FRAME: case GUMBO_TAG_HR:
    case GUMBO_TAG_IMG: case GUMBO_TAG_IMAGE: case GUMBO_TAG_INPUT: case GUMBO_TAG_KEYGEN:
    case GUMBO_TAG_LINK: case GUMBO_TAG_META: case GUMBO_TAG_PARAM: case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_TRACK: case GUMBO_TAG_WBR:
    /* implied end tags, or never nested in themselves */
    case GUMBO_TAG_P: case GUMBO_TAG_LI: case GUMBO_TAG_DT: case GUMBO_TAG_DD: case GUMBO_TAG_OPTION:
    case GUMBO_TAG_OPTGROUP: case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH:
    case GUMBO_TAG_THEAD: case GUMBO_TAG_TBODY: case GUMBO_TAG_TFOOT: case GUMBO_TAG_COLGROUP:
    case GUMBO_TAG_CAPTION: case GUMBO_TAG_RB: case GUMBO_TAG_RT: case GUMBO_TAG_RTC: case GUMBO_TAG_RP:
    case GUMBO_TAG_HTML: case GUMBO_TAG_HEAD: case GUMBO_TAG_BODY: case GUMBO_TAG_A:
    case GUMBO_TAG_BUTTON: case GUMBO_TAG_NOBR: case GUMBO_TAG_FORM: case GUMBO_TAG_H1: case GUMBO_TAG_H2:
    case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_FRAMESET:
      return DEPTH_SKIP;
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_TITLE:
    case GUMBO_TAG_XMP: case GUMBO_TAG_IFRAME: case GUMBO_TAG_NOEMBED: case GUMBO_TAG_NOFRAMES:
      return DEPTH_RAWTEXT;
    default:
      return DEPTH_COUNT;
  }
}

static int dom_is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int dom_is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

/* Skips a tag's attributes from p; returns the position after '>' (or end). */
static const char *dom_skip_tag(const char *p, const char *end) {
  while (p < end && *p != '>') {
    if (*p == '"' || *p == '\'') {
      const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
      p = q ? q + 1 : end;
    } else {
      p++;
    }
  }
  return p < end ? p + 1 : end;
}

/* Finds "</name" followed by a delimiter, case-insensitively; returns its '<' or end. */
static const char *dom_find_end_tag(const char *p, const char *end, const char *name, size_t len) {
  while (p < end) {
    const char *lt = memchr(p, '<', (size_t)(end - p));
    if (!lt) return end;
    if ((size_t)(end - lt) >= len + 2 && lt[1] == '/' && strncasecmp(lt + 2, name, len) == 0 &&
        ((size_t)(end - lt) == len + 2 || dom_is_space(lt[2 + len]) || lt[2 + len] == '/' || lt[2 + len] == '>'))
      return lt;
    p = lt + 1;
  }
  return end;
}

/* p is just after "<!--"; returns the position after the comment's end,
 * including the abrupt "<!-->" and "<!--->" forms and "--!>". */
static const char *dom_skip_comment(const char *p, const char *end) {
  if (p < end && *p == '>') return p + 1;
  if (end - p >= 2 && p[0] == '-' && p[1] == '>') return p + 2;
  for (const char *q = p; q < end && (q = memchr(q, '-', (size_t)(end - q))) != NULL; q++) {
    if (end - q >= 3 && q[1] == '-' && q[2] == '>') return q + 3;
    if (end - q >= 4 && q[1] == '-' && q[2] == '!' && q[3] == '>') return q + 4;
  }
  return end;
}

static long dom_max_depth(const char *p, size_t n, long limit) {
  const char *end = p + n;
  long depth = 0;
  while (p < end) {
    const char *lt = memchr(p, '<', (size_t)(end - p));
    if (!lt || lt + 1 >= end) break;
    p = lt + 1;
    if (*p == '!') {
      p = (end - p >= 3 && p[1] == '-' && p[2] == '-') ? dom_skip_comment(p + 3, end) : dom_skip_tag(p, end);
    } else if (*p == '?') {
      p = dom_skip_tag(p, end);
    } else if (*p == '/') {
      const char *name = p + 1;
      const char *q = name;
      while (q < end && !dom_is_space(*q) && *q != '/' && *q != '>') q++;
      if (q > name && dom_is_alpha(*name) && depth > 0 && dom_depth_kind_of(name, (size_t)(q - name)) == DEPTH_COUNT)
        depth--;
      p = dom_skip_tag(q, end);
    } else if (dom_is_alpha(*p)) {
      const char *name = p;
      while (p < end && !dom_is_space(*p) && *p != '/' && *p != '>') p++;
      size_t len = (size_t)(p - name);
      p = dom_skip_tag(p, end);
      if (len == 9 && strncasecmp(name, "plaintext", 9) == 0) break;
      dom_depth_kind kind = dom_depth_kind_of(name, len);
      if (kind == DEPTH_RAWTEXT) {
        p = dom_find_end_tag(p, end, name, len);
      } else if (kind == DEPTH_COUNT && !(p - 2 >= name && p[-2] == '/')) {
        if (++depth > limit) return depth;
      }
    }
  }
  return depth;
}

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

/* One pass after parsing: DOM names for unknown and SVG elements. */
static int dom_fix_tree(arena *mem, GumboNode *root) {
  for (GumboNode *n = root; n; n = dom_next_node(n, root, 1))
    if (dom_is_element(n) && dom_needs_name(&n->v.element) && dom_fix_name(mem, &n->v.element) != 0) return -1;
  return 0;
}

dom_doc *dom_parse(const char *bytes, size_t len, const dom_options *opts, char *err, size_t errlen) {
  size_t max_bytes = opts && opts->max_bytes ? opts->max_bytes : DOM_DEFAULT_MAX_BYTES;
  long max_depth = opts && opts->max_depth > 0 ? opts->max_depth : DOM_DEFAULT_MAX_DEPTH;
  if (len > max_bytes) {
    snprintf(err, errlen, "document is %zu bytes, over the limit of %zu (max_bytes)", len, max_bytes);
    return NULL;
  }

  size_t bom = 0;
  const char *charset = enc_sniff(bytes, len, opts ? opts->charset : NULL, &bom);
  const char *text = bytes + bom;
  size_t text_len = len - bom;
  buf decoded = BUF_INIT;
  if (strcmp(charset, "UTF-8") != 0 || !enc_valid_utf8(text, text_len)) {
    if (enc_decode(text, text_len, charset, &decoded) != 0) {
      snprintf(err, errlen, "encoding %s is not supported on this system", charset);
      return NULL;
    }
    if (decoded.failed) {
      buf_free(&decoded);
      snprintf(err, errlen, "out of memory decoding %zu bytes of %s", text_len, charset);
      return NULL;
    }
    text = buf_str(&decoded);
    text_len = decoded.len;
  }

  long depth = dom_max_depth(text, text_len, max_depth);
  if (depth > max_depth) {
    buf_free(&decoded);
    snprintf(err, errlen, "document nests elements more than %ld deep (max_depth)", max_depth);
    return NULL;
  }

  dom_doc *doc = calloc(1, sizeof *doc);
  arena *mem = arena_new();
  if (!doc || !mem) {
    free(doc);
    arena_free(mem);
    buf_free(&decoded);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  GumboOptions gopts = kGumboDefaultOptions;
  gopts.allocator = dom_gumbo_alloc;
  gopts.deallocator = dom_gumbo_free;
  gopts.userdata = mem;
  gopts.max_errors = 0; /* glean never reports parse errors; recording them costs allocations */
  doc->mem = mem;
  doc->charset = charset;
  doc->out = gumbo_parse_with_options(&gopts, text, text_len);
  int named = dom_fix_tree(mem, doc->out->document);
  /* From here on nothing refers to the input bytes: text and attribute
   * values are Gumbo's own copies, names were copied by dom_fix_tree. */
  buf_free(&decoded);
  if (named != 0) {
    dom_free(doc);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  return doc;
}

void dom_free(dom_doc *doc) {
  if (!doc) return;
  arena_free(doc->mem);
  free(doc);
}

GumboNode *dom_root(const dom_doc *doc) { return doc->out->document; }

const char *dom_charset(const dom_doc *doc) { return doc->charset; }
