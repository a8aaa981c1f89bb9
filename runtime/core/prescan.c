/* prescan.c — the pass ahead of Gumbo (see prescan.h): where raw-text bodies
 * are, how deep elements nest, the placeholders, and the normalization of
 * re-attached text. State names are those of the WHATWG HTML tokenizer
 * (HTML Living Standard, "Tokenization"); the tree builder is not modelled
 * beyond a guess at foreign (SVG, MathML) content, which is what the check
 * in dom.c is for. */
#define _GNU_SOURCE /* memmem */
#include "prescan.h"

#include <gumbo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

typedef const unsigned char *ptr;

typedef struct prescan_state {
  ptr end;
  ptr base;
  long depth, max, limit;
  GumboTag *open;   /* the open counted elements, innermost last (limit + 1) */
  int foreign;      /* svg/math elements the scan believes open */
  size_t min_body;  /* 0: record no (more) bodies */
  prescan_result *out;
} prescan_state;

/* ---- characters ----------------------------------------------------------
 * CR counts as white space: the input stream turns it into LF before the
 * tokenizer sees it. */

enum { C_SPACE = 1, C_NAME_END = 2, C_ATTR_END = 4, C_UNQUOTED_END = 8 };

static inline unsigned prescan_class(unsigned c) {
  switch (c) {
    case ' ': case '\t': case '\n': case '\f': case '\r':
      return C_SPACE | C_NAME_END | C_ATTR_END | C_UNQUOTED_END;
    case '>': return C_NAME_END | C_ATTR_END | C_UNQUOTED_END;
    case '/': return C_NAME_END | C_ATTR_END;
    case '=': return C_ATTR_END;
    default: return 0;
  }
}

static inline bool prescan_is_alpha(unsigned c) { return (unsigned)((c | 0x20) - 'a') < 26; }

/* ASCII case-insensitive compare against a lower-case name. */
static inline bool prescan_name_is(ptr s, size_t n, const char *lower, size_t len) {
  if (n != len) return false;
  for (size_t i = 0; i < n; i++)
    if ((s[i] | 0x20) != (unsigned char)lower[i] || !prescan_is_alpha(s[i])) return false;
  return true;
}

/* "</" name, then a character that ends a tag name: what ends an RCDATA,
 * RAWTEXT or script body whose start tag had that name. lt is at '<'. */
static inline bool prescan_is_end_tag(ptr lt, ptr end, const char *lower, size_t len) {
  return (size_t)(end - lt) >= len + 3 && lt[1] == '/' && prescan_name_is(lt + 2, len, lower, len) &&
         (prescan_class(lt[2 + len]) & C_NAME_END);
}

/* The first end tag for `lower` from p, or end: where RCDATA and RAWTEXT
 * bodies stop (nothing inside them is markup). */
static ptr prescan_find_end_tag(ptr p, ptr end, const char *lower, size_t len) {
  while (p < end) {
    ptr lt = memchr(p, '<', (size_t)(end - p));
    if (!lt) break;
    if (prescan_is_end_tag(lt, end, lower, len)) return lt;
    p = lt + 1;
  }
  return end;
}

/* ---- depth ---------------------------------------------------------------
 * The estimate the depth guard uses (Gumbo has no nesting limit and goes
 * quadratic on deep trees): start tags of elements that can contain
 * themselves push, their end tags pop. Elements whose end tags are implied
 * (p, li, td, ...) or that cannot nest (void elements, a, headings) are not
 * counted, so sloppy pages are not overestimated; raw-text elements hold
 * no elements. "/>" closes only foreign elements (the tree builder ignores
 * it on HTML ones: <div/> opens a div), and in foreign content every
 * element counts. An end tag pops back to the nearest open element of its
 * name among the innermost PRESCAN_MATCH_WINDOW, and does nothing when there
 * is none, so stray end tags ("<div></span>" repeated) cannot hide depth;
 * looking no further keeps a page of unmatched end tags linear. Tags are
 * classified by Gumbo's perfect hash, so no string compares. */

#define PRESCAN_MATCH_WINDOW 64

typedef enum { DEPTH_COUNT, DEPTH_SKIP, DEPTH_RAWTEXT } prescan_depth_kind;

static prescan_depth_kind prescan_classify_depth(GumboTag tag) {
  switch (tag) {
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

static inline void prescan_push(prescan_state *s, GumboTag tag) {
  /* The scan stops as soon as depth passes limit, so open[] never overflows. */
  s->open[s->depth] = tag;
  if (++s->depth > s->max) s->max = s->depth;
}

static inline void prescan_pop(prescan_state *s, GumboTag tag) {
  long floor = s->depth > PRESCAN_MATCH_WINDOW ? s->depth - PRESCAN_MATCH_WINDOW : 0;
  for (long i = s->depth; i-- > floor;)
    if (s->open[i] == tag) {
      s->depth = i;
      return;
    }
}

/* ---- foreign content -----------------------------------------------------
 * Inside <svg> and <math> the tree builder does not switch the tokenizer to
 * raw text: <style> and <script> there hold markup. The scan tracks that
 * much of the tree builder; it misses integration points (foreignObject,
 * annotation-xml, ...) and start tags the tree builder ignores. A miss
 * either leaves a body to Gumbo or proposes one the check refuses. */

/* Start tags that end foreign content ("breakout" tags); <font> only does
 * with some attributes, so it is left out (the cautious side). */
static bool prescan_breaks_out(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_B: case GUMBO_TAG_BIG: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_BODY: case GUMBO_TAG_BR:
    case GUMBO_TAG_CENTER: case GUMBO_TAG_CODE: case GUMBO_TAG_DD: case GUMBO_TAG_DIV: case GUMBO_TAG_DL:
    case GUMBO_TAG_DT: case GUMBO_TAG_EM: case GUMBO_TAG_EMBED: case GUMBO_TAG_H1: case GUMBO_TAG_H2:
    case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_HEAD:
    case GUMBO_TAG_HR: case GUMBO_TAG_I: case GUMBO_TAG_IMG: case GUMBO_TAG_LI: case GUMBO_TAG_LISTING:
    case GUMBO_TAG_MENU: case GUMBO_TAG_META: case GUMBO_TAG_NOBR: case GUMBO_TAG_OL: case GUMBO_TAG_P:
    case GUMBO_TAG_PRE: case GUMBO_TAG_RUBY: case GUMBO_TAG_S: case GUMBO_TAG_SMALL: case GUMBO_TAG_SPAN:
    case GUMBO_TAG_STRONG: case GUMBO_TAG_STRIKE: case GUMBO_TAG_SUB: case GUMBO_TAG_SUP: case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TT: case GUMBO_TAG_U: case GUMBO_TAG_UL: case GUMBO_TAG_VAR:
      return true;
    default:
      return false;
  }
}

/* ---- tags ----------------------------------------------------------------- */

/* From just after a tag's name through the attribute states to the '>' that
 * emits the tag. Returns the position after it, or NULL when the input ends
 * inside the tag (the tokenizer then drops the tag and stops). Counts the
 * attribute names in *attrs (duplicates too: Gumbo compares each name with
 * all the tag's others, so many make its time quadratic). */
static ptr prescan_skip_attrs(ptr p, ptr end, bool *self_closing, size_t *attrs) {
  *self_closing = false;
  for (;;) {
    /* before attribute name */
    while (p < end && (prescan_class(*p) & C_SPACE)) p++;
    if (p == end) return NULL;
    if (*p == '>') return p + 1;
    if (*p != '/') {
      /* attribute name: its first character may be '=' */
      ++*attrs;
      p++;
      while (p < end && !(prescan_class(*p) & C_ATTR_END)) p++;
      /* after attribute name */
      while (p < end && (prescan_class(*p) & C_SPACE)) p++;
      if (p == end) return NULL;
      if (*p == '>') return p + 1;
      if (*p != '/') {
        if (*p != '=') continue; /* another attribute's name */
        /* before attribute value */
        p++;
        while (p < end && (prescan_class(*p) & C_SPACE)) p++;
        if (p == end) return NULL;
        if (*p == '"' || *p == '\'') {
          ptr q = memchr(p + 1, *p, (size_t)(end - p - 1));
          if (!q) return NULL;
          /* after attribute value (quoted): white space, anything else but '/'
           * and '>', both go back to before attribute name */
          p = q + 1;
          if (p == end) return NULL;
          if (*p == '>') return p + 1;
          if (*p != '/') continue;
        } else {
          if (*p == '>') return p + 1; /* missing value */
          while (p < end && !(prescan_class(*p) & C_UNQUOTED_END)) p++;
          if (p == end) return NULL;
          if (*p == '>') return p + 1;
          continue;
        }
      }
    }
    /* self-closing start tag: at '/' */
    p++;
    if (p == end) return NULL;
    if (*p == '>') {
      *self_closing = true;
      return p + 1;
    }
    /* anything else is reconsumed before an attribute name */
  }
}

/* Where a bogus comment or a doctype that starts at p ends (both end at the
 * first '>', even inside a doctype's quoted identifiers). */
static ptr prescan_skip_to_gt(ptr p, ptr end) {
  ptr q = memchr(p, '>', (size_t)(end - p));
  return q ? q + 1 : NULL;
}

/* p just after "<!--": the comment start state. A comment ends at "-->" or
 * "--!>" anywhere after its opening (the nested "<!--" states all end there
 * too), or abruptly at "<!-->" and "<!--->". */
static ptr prescan_skip_comment(ptr p, ptr end) {
  if (p < end && *p == '>') return p + 1;
  if (end - p >= 2 && p[0] == '-' && p[1] == '>') return p + 2;
  for (ptr q = p; q < end && (q = memchr(q, '-', (size_t)(end - q))) != NULL; q++) {
    if (end - q >= 3 && q[1] == '-' && q[2] == '>') return q + 3;
    if (end - q >= 4 && q[1] == '-' && q[2] == '!' && q[3] == '>') return q + 4;
  }
  return NULL;
}

static void prescan_add_body(prescan_state *s, ptr body, ptr stop, prescan_kind kind) {
  size_t len = (size_t)(stop - body);
  if (!s->min_body || len < s->min_body) return;
  prescan_result *r = s->out;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    prescan_body *b = realloc(r->bodies, cap * sizeof *b);
    if (!b) {
      r->failed = true;
      s->min_body = 0;
      return;
    }
    r->bodies = b;
    r->cap = cap;
  }
  r->bodies[r->n++] = (prescan_body){(size_t)(body - s->base), len, kind};
  r->skipped += len;
}

/* p just after "<!--" inside a script: the script data escaped dash dash
 * state. Follows the escaped and double-escaped states until the script
 * ends (*ended; returns the '<' of its end tag, or end) or goes back to
 * script data (returns the position after the "-->"). */
static ptr prescan_skip_escaped(ptr p, ptr end, bool *ended) {
  enum { ESC, ESC_DASH, ESC_DASH_DASH, DBL, DBL_DASH, DBL_DASH_DASH } st = ESC_DASH_DASH;
  while (p < end) {
    unsigned c = *p;
    if (c == '-') {
      st = st == ESC ? ESC_DASH : st == ESC_DASH || st == ESC_DASH_DASH ? ESC_DASH_DASH
         : st == DBL ? DBL_DASH : DBL_DASH_DASH;
      p++;
    } else if (c == '>' && (st == ESC_DASH_DASH || st == DBL_DASH_DASH)) {
      *ended = false;
      return p + 1;
    } else if (c == '<' && st <= ESC_DASH_DASH) {
      /* script data escaped less-than sign */
      st = ESC;
      if (end - p > 1 && p[1] == '/') {
        if (prescan_is_end_tag(p, end, "script", 6)) {
          *ended = true;
          return p;
        }
        p += 2; /* the rest of a non-matching end tag name stays escaped text */
      } else if (end - p > 1 && prescan_is_alpha(p[1])) {
        /* script data double escape start */
        ptr q = p + 1;
        while (q < end && prescan_is_alpha(*q)) q++;
        if (q < end && (prescan_class(*q) & C_NAME_END) && prescan_name_is(p + 1, (size_t)(q - p - 1), "script", 6)) {
          st = DBL;
          q++;
        }
        p = q;
      } else {
        p++;
      }
    } else if (c == '<') {
      /* script data double escaped less-than sign */
      st = DBL;
      if (end - p > 1 && p[1] == '/') {
        /* script data double escape end */
        ptr q = p + 2;
        while (q < end && prescan_is_alpha(*q)) q++;
        if (q < end && (prescan_class(*q) & C_NAME_END) && prescan_name_is(p + 2, (size_t)(q - p - 2), "script", 6)) {
          st = ESC;
          q++;
        }
        p = q;
      } else {
        p++;
      }
    } else {
      st = st <= ESC_DASH_DASH ? ESC : DBL;
      p++;
    }
  }
  *ended = true;
  return end;
}

/* body is just after a script start tag: script data. Returns the '<' of
 * the end tag that closes it, or end. */
static ptr prescan_skip_script(prescan_state *s, ptr body) {
  ptr p = body, end = s->end;
  bool escaped = false;
  for (;;) {
    ptr lt = memchr(p, '<', (size_t)(end - p));
    if (!lt) {
      p = end;
      break;
    }
    if (end - lt > 1 && lt[1] == '/') {
      if (prescan_is_end_tag(lt, end, "script", 6)) {
        p = lt;
        break;
      }
      p = lt + 2;
    } else if (end - lt >= 4 && lt[1] == '!' && lt[2] == '-' && lt[3] == '-') {
      /* The escaped states: followed only to know where the script ends;
       * such a body stays in the document for Gumbo. */
      escaped = true;
      bool ended;
      p = prescan_skip_escaped(lt + 4, end, &ended);
      if (ended) break;
    } else {
      p = lt + 1;
    }
  }
  if (!escaped) prescan_add_body(s, body, p, PRESCAN_SCRIPT);
  return p;
}

/* prescan_skip_attrs, keeping the count of the tag with the most. */
static ptr prescan_skip_tag_attrs(prescan_state *s, ptr p, bool *self_closing) {
  size_t attrs = 0;
  ptr after = prescan_skip_attrs(p, s->end, self_closing, &attrs);
  if (attrs > s->out->attrs) s->out->attrs = attrs;
  return after;
}

/* p is at the first letter of a start tag's name. Returns where the data
 * state resumes, or NULL to stop. */
static ptr prescan_read_start_tag(prescan_state *s, ptr name) {
  ptr p = name, end = s->end;
  while (p < end && !(prescan_class(*p) & C_NAME_END)) p++;
  size_t len = (size_t)(p - name);
  bool self_closing;
  ptr after = prescan_skip_tag_attrs(s, p, &self_closing);
  if (!after) return NULL;
  GumboTag tag = gumbo_tagn_enum((const char *)name, (unsigned)len);
  if (s->foreign) {
    if (!prescan_breaks_out(tag)) {
      /* Foreign elements honour "/>" and nest whatever their names. */
      if (!self_closing) {
        if (tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH) s->foreign++;
        prescan_push(s, tag);
      }
      return after;
    }
    s->foreign = 0; /* the tag is then processed as HTML */
  }
  switch (tag) {
    case GUMBO_TAG_SCRIPT:
      return prescan_skip_script(s, after);
    case GUMBO_TAG_STYLE: {
      ptr stop = prescan_find_end_tag(after, end, "style", 5);
      prescan_add_body(s, after, stop, PRESCAN_STYLE);
      return stop;
    }
    case GUMBO_TAG_TITLE: case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_XMP: case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_NOEMBED: case GUMBO_TAG_NOFRAMES: {
      const char *lower = gumbo_normalized_tagname(tag);
      return prescan_find_end_tag(after, end, lower, strlen(lower));
    }
    case GUMBO_TAG_PLAINTEXT:
      return NULL; /* the rest of the input is text */
    case GUMBO_TAG_SVG: case GUMBO_TAG_MATH:
      if (self_closing) return after;
      s->foreign = 1;
      break;
    case GUMBO_TAG_FRAMESET:
      /* Once a frameset is in, the tree builder drops later <script> and
       * <style> tags: proposing their bodies would only fail the check. */
      s->min_body = 0;
      break;
    default:
      break;
  }
  /* HTML elements ignore "/>" (<div/> opens a div). */
  if (prescan_classify_depth(tag) == DEPTH_COUNT) prescan_push(s, tag);
  return after;
}

/* p is just after "</". */
static ptr prescan_read_end_tag(prescan_state *s, ptr p) {
  ptr end = s->end;
  if (p == end) return NULL;
  if (!prescan_is_alpha(*p)) return *p == '>' ? p + 1 : prescan_skip_to_gt(p, end);
  ptr name = p;
  while (p < end && !(prescan_class(*p) & C_NAME_END)) p++;
  bool self_closing;
  ptr after = prescan_skip_tag_attrs(s, p, &self_closing);
  if (!after) return NULL;
  GumboTag tag = gumbo_tagn_enum((const char *)name, (unsigned)(p - name));
  if (s->foreign) {
    if (tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH) s->foreign--;
    else if (prescan_breaks_out(tag)) s->foreign = 0; /* it closes an HTML ancestor */
    prescan_pop(s, tag);
  } else if (prescan_classify_depth(tag) == DEPTH_COUNT) {
    prescan_pop(s, tag);
  }
  return after;
}

/* p is just after "<!": the markup declaration open state. */
static ptr prescan_read_declaration(prescan_state *s, ptr p) {
  ptr end = s->end;
  if (end - p >= 2 && p[0] == '-' && p[1] == '-') return prescan_skip_comment(p + 2, end);
  if (s->foreign && end - p >= 7 && memcmp(p, "[CDATA[", 7) == 0) {
    ptr q = memmem(p + 7, (size_t)(end - p - 7), "]]>", 3);
    return q ? q + 3 : NULL;
  }
  return prescan_skip_to_gt(p, end); /* a doctype, or a bogus comment */
}

void prescan_scan(const char *text, size_t len, long max_depth, size_t min_body, prescan_result *out) {
  *out = (prescan_result)PRESCAN_RESULT_INIT;
  /* Each counted element takes at least "<a>": no more can be open. */
  size_t most = len / 3 + 1;
  size_t slots = (size_t)max_depth + 1 < most ? (size_t)max_depth + 1 : most;
  GumboTag *open = malloc(slots * sizeof *open);
  if (!open) {
    out->failed = true;
    out->depth = max_depth + 1; /* cannot vouch for the depth: refuse */
    return;
  }
  prescan_state s = {(ptr)text + len, (ptr)text, 0, 0, max_depth, open, 0, min_body, out};
  ptr p = s.base, end = s.end;
  /* The data state: only '<' matters (character references do not move
   * tag boundaries). */
  while (p && p < end) {
    ptr lt = memchr(p, '<', (size_t)(end - p));
    if (!lt || lt + 1 == end) break;
    p = lt + 1;
    unsigned c = *p;
    if (prescan_is_alpha(c)) p = prescan_read_start_tag(&s, p);
    else if (c == '/') p = prescan_read_end_tag(&s, p + 1);
    else if (c == '!') p = prescan_read_declaration(&s, p + 1);
    else if (c == '?') p = prescan_skip_to_gt(p, end);
    /* anything else: the '<' was text */
    if (s.max > s.limit || (size_t)s.depth >= slots) break;
  }
  free(open);
  out->depth = s.max;
}

void prescan_free(prescan_result *r) {
  free(r->bodies);
  *r = (prescan_result)PRESCAN_RESULT_INIT;
}

/* ---- placeholders ---------------------------------------------------------- */

static uint64_t prescan_mix(uint64_t x) {
  x += UINT64_C(0x9E3779B97F4A7C15);
  x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
  return x ^ (x >> 31);
}

void prescan_nonce(char nonce[PRESCAN_NONCE_LEN]) {
  static const char alphabet[32] = "abcdefghijklmnopqrstuvwxyz234567";
  unsigned char r[PRESCAN_NONCE_LEN];
  /* 80 bits from the kernel. An attacker who could predict them could only
   * make the parse slower (a document containing the nonce is parsed in
   * full), never wrong: prescan_shorten checks where the nonce occurs. */
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
    /* No entropy yet (early boot) or no syscall (seccomp): clocks and
     * addresses, which differ per call and per thread. */
    struct timespec mono, cpu;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    uint64_t x = (uint64_t)mono.tv_sec * UINT64_C(1000000007) ^ (uint64_t)mono.tv_nsec ^
                 (uint64_t)cpu.tv_nsec << 20 ^ (uint64_t)(uintptr_t)&mono ^ (uint64_t)(uintptr_t)nonce << 7;
    for (size_t i = 0; i < sizeof r; i++) r[i] = (unsigned char)(x = prescan_mix(x));
  }
  for (size_t i = 0; i < PRESCAN_NONCE_LEN; i++) nonce[i] = alphabet[r[i] & 31];
}

static void prescan_placeholder(char *dst, const char *nonce, size_t index) {
  static const char hex[] = "0123456789abcdef";
  memcpy(dst, nonce, PRESCAN_NONCE_LEN);
  for (int i = 7; i >= 0; i--, index >>= 4) dst[PRESCAN_NONCE_LEN + i] = hex[index & 15];
}

int prescan_shorten(const char *text, size_t len, const prescan_result *r, const char *nonce, buf *out) {
  buf_reset(out);
  size_t at = 0;
  char ph[PRESCAN_PLACEHOLDER_LEN];
  for (size_t i = 0; i < r->n; i++) {
    const prescan_body *b = &r->bodies[i];
    buf_append(out, text + at, b->start - at);
    prescan_placeholder(ph, nonce, i);
    buf_append(out, ph, sizeof ph);
    at = b->start + b->len;
  }
  buf_append(out, text + at, len - at);
  if (out->failed) return -1;

  /* The nonce must occur at the placeholders and nowhere else (not in the
   * markup, not straddling a placeholder's edge): then a text node equal to
   * a placeholder can only have come from that placeholder. */
  const char *s = buf_str(out), *stop = s + out->len;
  size_t i = 0, removed = 0;
  for (const char *p = s; (p = memmem(p, (size_t)(stop - p), nonce, PRESCAN_NONCE_LEN)) != NULL; p++) {
    if (i == r->n) return 1;
    size_t expect = r->bodies[i].start - removed + i * PRESCAN_PLACEHOLDER_LEN;
    if ((size_t)(p - s) != expect) return 1;
    removed += r->bodies[i].len;
    i++;
  }
  return i == r->n ? 0 : 1;
}

long prescan_placeholder_index(const char *s, const char *nonce) {
  if (strncmp(s, nonce, PRESCAN_NONCE_LEN) != 0) return -1;
  long index = 0;
  for (size_t i = PRESCAN_NONCE_LEN; i < PRESCAN_PLACEHOLDER_LEN; i++) {
    char c = s[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return -1;
    index = index * 16 + v;
  }
  return s[PRESCAN_PLACEHOLDER_LEN] == '\0' ? index : -1;
}

/* ---- text normalization ---------------------------------------------------- */

/* A byte where normalization may apply: C0 controls but tab, LF and FF
 * (CR and NUL included), DEL, and the lead bytes of the sequences for C1
 * controls (C2) and noncharacters (EF, F0-F4). */
static inline bool prescan_text_is_special(unsigned c) {
  if (c < 0x20) return c != '\t' && c != '\n' && c != '\f';
  return c == 0x7F || c == 0xC2 || c == 0xEF || (c >= 0xF0 && c <= 0xF4);
}

/* Whether any of 8 bytes is below 0x20 or at or above 0x7F. */
static inline bool prescan_text_word_needs_look(uint64_t w) {
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
  return (((w - ones * 0x20) & ~w) | (w + ones) | w) & highs;
}

static const char prescan_text_fffd[3] = {'\xEF', '\xBF', '\xBD'};

/* The sequence at p (a special lead byte, left bytes to the end): returns
 * its length and sets *rep / *rep_len to its replacement, *rep NULL when it
 * stays as it is. */
static size_t prescan_text_replacement(const unsigned char *p, size_t left, const char **rep, size_t *rep_len) {
  unsigned c = p[0];
  *rep = prescan_text_fffd;
  *rep_len = 3;
  if (c == '\r') {
    *rep = "\n";
    *rep_len = left > 1 && p[1] == '\n' ? 0 : 1;
    return 1;
  }
  if (c < 0x80) return 1;
  size_t n = c == 0xC2 ? 2 : c == 0xEF ? 3 : 4;
  if (n > left) {
    *rep = NULL;
    return left;
  }
  bool bad;
  if (c == 0xC2) {
    bad = p[1] <= 0x9F; /* U+0080..U+009F */
  } else if (c == 0xEF) {
    unsigned cp = 0xF000u | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
    bad = (cp >= 0xFDD0 && cp <= 0xFDEF) || cp >= 0xFFFE;
  } else {
    bad = (p[1] & 0x0F) == 0x0F && p[2] == 0xBF && p[3] >= 0xBE; /* U+xFFFE, U+xFFFF */
  }
  if (!bad) *rep = NULL;
  return n;
}

size_t prescan_text_size(const char *s, size_t len, bool *same, bool *space) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < len && (prescan_class(p[i]) & C_SPACE)) i++;
  *space = i == len;
  size_t size = len;
  *same = true;
  i = 0;
  while (i < len) {
    uint64_t w;
    if (len - i >= 8 && (memcpy(&w, p + i, 8), !prescan_text_word_needs_look(w))) {
      i += 8;
      continue;
    }
    if (!prescan_text_is_special(p[i])) {
      i++;
      continue;
    }
    const char *rep;
    size_t rep_len, n = prescan_text_replacement(p + i, len - i, &rep, &rep_len);
    if (rep) {
      *same = false;
      size = size - n + rep_len;
    }
    i += n;
  }
  return size;
}

void prescan_text_copy(const char *s, size_t len, char *dst) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, run = 0;
  while (i < len) {
    uint64_t w;
    if (len - i >= 8 && (memcpy(&w, p + i, 8), !prescan_text_word_needs_look(w))) {
      i += 8;
      continue;
    }
    if (!prescan_text_is_special(p[i])) {
      i++;
      continue;
    }
    const char *rep;
    size_t rep_len, n = prescan_text_replacement(p + i, len - i, &rep, &rep_len);
    if (rep) {
      memcpy(dst, s + run, i - run);
      dst += i - run;
      memcpy(dst, rep, rep_len);
      dst += rep_len;
      run = i + n;
    }
    i += n;
  }
  memcpy(dst, s + run, len - run);
}
