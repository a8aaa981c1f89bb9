/* select.c — the selector engine behind select.h: a CSS Syntax 3 tokenizer,
 * a parser that accepts and rejects what Chromium's querySelectorAll does,
 * and a right-to-left matcher that walks the tree without recursing on it. */
#include "select.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dom.h"

/* ---- memory ----------------------------------------------------------------
 * A compiled list lives in its own small chunk chain so sel_free is one walk
 * and callers that cache hundreds of selectors pay for what they use. */

typedef struct pool_chunk {
  struct pool_chunk *prev;
  size_t size, used;
  max_align_t data[];
} pool_chunk;

typedef struct sel_pool {
  pool_chunk *head;
  mem_allocator mem;  /* the caller's (sel_compile) */
  size_t reserved;    /* bytes of its chunks */
} sel_pool;

static void *pool_alloc(sel_pool *pool, size_t size) {
  size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
  pool_chunk *c = pool->head;
  if (!c || c->size - c->used < size) {
    size_t cap = c ? c->size * 2 : 1024;
    if (cap > ((size_t)1 << 20)) cap = (size_t)1 << 20;
    if (cap < size) cap = size;
    c = mem_alloc(&pool->mem, sizeof *c + cap);
    if (!c) return NULL;
    c->prev = pool->head;
    c->size = cap;
    c->used = 0;
    pool->head = c;
    pool->reserved += sizeof *c + cap;
  }
  void *p = (char *)c->data + c->used;
  c->used += size;
  memset(p, 0, size);
  return p;
}

/* pool may live in its own chunks (a list's): it is read before they go. */
static void pool_free(sel_pool *pool) {
  sel_pool p = *pool;
  for (pool_chunk *c = p.head; c;) {
    pool_chunk *prev = c->prev;
    mem_free(&p.mem, c, sizeof *c + c->size);
    c = prev;
  }
}

/* ---- compiled form ----------------------------------------------------------
 * Simple selector kinds are ordered by matching cost: a compound's simple
 * selectors are sorted by kind so cheap rejections run first. */

enum kind {
  K_FALSE, /* a state a static document never has (:hover), or a pseudo-element */
  K_ID, K_CLASS, K_ATTR, K_ROOT, K_SCOPE, K_EMPTY, K_FIRST_CHILD, K_LAST_CHILD, K_ONLY_CHILD,
  K_LINK, K_OPEN, K_DEFINED, K_CHECKED, K_DISABLED, K_ENABLED, K_REQUIRED, K_OPTIONAL,
  K_READ_WRITE, K_READ_ONLY, K_PLACEHOLDER, K_DEFAULT, K_INDETERMINATE, K_LANG, K_DIR,
  K_NTH, K_ONLY_OF_TYPE, K_IS, K_NOT, K_HAS,
};

enum attr_op { A_EXISTS, A_EQ, A_INCLUDES, A_DASH, A_PREFIX, A_SUFFIX, A_SUBSTR };
/* No 's' flag: Chromium rejects it, and results must match a browser's. */
enum attr_case { AC_DEFAULT, AC_I };
enum comb { C_NONE, C_DESC, C_CHILD, C_ADJ, C_SIB };
enum dir { DIR_NONE, DIR_LTR, DIR_RTL };

/* How :has() finds candidates for one relative selector. */
enum has_walk { HW_CHILDREN, HW_DESCENDANTS, HW_NEXT, HW_SIBLINGS, HW_SIBLING_TREES };

typedef struct simple {
  uint8_t kind;
  uint8_t op;        /* attr_op */
  uint8_t acase;     /* attr_case */
  bool legacy_ci;    /* attribute value compared case-insensitively on HTML elements */
  bool any_ns;       /* [*|a] */
  bool last, of_type; /* :nth-last-*, :nth-*-of-type */
  enum dir dir;      /* :dir() argument */
  int a, b;          /* An+B */
  const char *name;  /* id, class, attribute name (lower-cased), :lang() range */
  const char *value; /* attribute value */
  size_t vlen;
  struct sel_list *sub; /* :is/:where/:not/:has argument, :nth-child(... of S) */
} simple;

typedef struct compound {
  GumboTag tag;      /* GUMBO_TAG_LAST when there is no type selector */
  const char *name;  /* lower-cased type name, compared when tag is GUMBO_TAG_UNKNOWN */
  bool never;        /* |E, or carries a pseudo-element: matches no element */
  bool anchor;       /* stands for the element a :has() is being tested on */
  uint8_t comb;      /* combinator between this compound and the one on its left */
  simple *s;
  size_t ns;
} compound;

typedef struct cplx {
  compound *c;       /* right to left: c[0] is the subject */
  size_t n;
  uint8_t has_walk;  /* relative selectors only */
} cplx;

struct sel_list {
  cplx *items;
  size_t n;
  sel_pool pool;      /* set on the top-level list only: owns everything */
};

/* ---- input: UTF-8 to preprocessed code points ------------------------------ */

#define CP_EOF 0xFFFFFFFFu

static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i) {
  unsigned char b = s[*i];
  if (b < 0x80) { (*i)++; return b; }
  int n;
  uint32_t cp, min;
  if (b >= 0xC2 && b <= 0xDF) { n = 1; cp = b & 0x1F; min = 0x80; }
  else if (b >= 0xE0 && b <= 0xEF) { n = 2; cp = b & 0x0F; min = 0x800; }
  else if (b >= 0xF0 && b <= 0xF4) { n = 3; cp = b & 0x07; min = 0x10000; }
  else { (*i)++; return 0xFFFD; }
  size_t j = *i + 1;
  for (int k = 0; k < n; k++, j++) {
    if (j >= len || (s[j] & 0xC0) != 0x80) { *i = j; return 0xFFFD; }
    cp = (cp << 6) | (s[j] & 0x3F);
  }
  *i = j;
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0xFFFD;
  return cp;
}

static void utf8_put(buf *b, uint32_t cp) {
  char o[4];
  size_t n;
  if (cp < 0x80) { o[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
  }
  buf_append(b, o, n);
}

/* ---- tokenizer (CSS Syntax 3, section 4) ------------------------------------ */

enum tok_type {
  T_EOF, T_WS, T_IDENT, T_FUNCTION, T_AT, T_HASH, T_STRING, T_BADSTRING, T_URL, T_BADURL, T_DELIM,
  T_NUMBER, T_PERCENT, T_DIMENSION, T_CDO, T_CDC, T_COLON, T_SEMI, T_COMMA, T_LBRACK, T_RBRACK,
  T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE,
};

typedef struct tok {
  uint8_t type;
  bool id_hash;      /* hash token whose type flag is "id" */
  bool integer;      /* numeric token whose type flag is "integer" */
  bool sign;         /* numeric token written with an explicit + or - */
  uint32_t delim;
  uint32_t pos;      /* 1-based character offset in the source */
  double num;
  const char *val;   /* ident/function/at/hash name, string value, dimension unit */
} tok;

typedef struct lexer {
  const uint32_t *c;
  const uint32_t *pos;
  size_t n, i;
  sel_pool *pool;
  buf scratch;
  bool oom;
} lexer;

static uint32_t lx_at(const lexer *lx, size_t k) { return lx->i + k < lx->n ? lx->c[lx->i + k] : CP_EOF; }
static bool is_ws(uint32_t c) { return c == ' ' || c == '\t' || c == '\n'; }
static bool is_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static bool is_hex(uint32_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_letter(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_ident_start(uint32_t c) { return is_letter(c) || c == '_' || (c >= 0x80 && c != CP_EOF); }
static bool is_ident_char(uint32_t c) { return is_ident_start(c) || is_digit(c) || c == '-'; }
static bool valid_escape(uint32_t a, uint32_t b) { return a == '\\' && b != '\n'; }

static bool starts_ident(uint32_t a, uint32_t b, uint32_t c) {
  if (a == '-') return is_ident_start(b) || b == '-' || valid_escape(b, c);
  if (a == '\\') return valid_escape(a, b);
  return is_ident_start(a);
}

static bool starts_number(uint32_t a, uint32_t b, uint32_t c) {
  if (a == '+' || a == '-') return is_digit(b) || (b == '.' && is_digit(c));
  if (a == '.') return is_digit(b);
  return is_digit(a);
}

static int hex_val(uint32_t c) {
  if (is_digit(c)) return (int)(c - '0');
  return (int)((c | 0x20) - 'a' + 10);
}

/* The backslash has been consumed. */
static uint32_t lx_escape(lexer *lx) {
  uint32_t c = lx_at(lx, 0);
  if (c == CP_EOF) return 0xFFFD;
  lx->i++;
  if (!is_hex(c)) return c;
  uint32_t v = (uint32_t)hex_val(c);
  for (int k = 1; k < 6 && is_hex(lx_at(lx, 0)); k++, lx->i++) v = v * 16 + (uint32_t)hex_val(lx_at(lx, 0));
  if (is_ws(lx_at(lx, 0))) lx->i++;
  if (v == 0 || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) return 0xFFFD;
  return v;
}

static void lx_ident_seq(lexer *lx) {
  for (;;) {
    uint32_t c = lx_at(lx, 0);
    if (is_ident_char(c)) {
      utf8_put(&lx->scratch, c);
      lx->i++;
    } else if (valid_escape(c, lx_at(lx, 1))) {
      lx->i++;
      utf8_put(&lx->scratch, lx_escape(lx));
    } else {
      return;
    }
  }
}

static const char *lx_value(lexer *lx) {
  if (lx->scratch.failed) { lx->oom = true; return ""; }
  size_t n = lx->scratch.len;
  char *p = pool_alloc(lx->pool, n + 1);
  if (!p) { lx->oom = true; return ""; }
  if (n) memcpy(p, lx->scratch.data, n);
  p[n] = '\0';
  buf_reset(&lx->scratch);
  return p;
}

static void lx_string(lexer *lx, tok *t, uint32_t quote) {
  t->type = T_STRING;
  for (;;) {
    uint32_t c = lx_at(lx, 0);
    if (c == CP_EOF) break;
    if (c == quote) { lx->i++; break; }
    if (c == '\n') { t->type = T_BADSTRING; break; }
    lx->i++;
    if (c == '\\') {
      uint32_t d = lx_at(lx, 0);
      if (d == CP_EOF) continue;
      if (d == '\n') { lx->i++; continue; }
      utf8_put(&lx->scratch, lx_escape(lx));
    } else {
      utf8_put(&lx->scratch, c);
    }
  }
  t->val = lx_value(lx);
}

static bool non_printable(uint32_t c) { return c <= 8 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F; }

/* After "url(" and any whitespace. */
static void lx_url(lexer *lx, tok *t) {
  t->type = T_URL;
  while (is_ws(lx_at(lx, 0))) lx->i++;
  for (;;) {
    uint32_t c = lx_at(lx, 0);
    if (c == CP_EOF) break;
    lx->i++;
    if (c == ')') break;
    if (is_ws(c)) {
      while (is_ws(lx_at(lx, 0))) lx->i++;
      if (lx_at(lx, 0) == ')' || lx_at(lx, 0) == CP_EOF) {
        if (lx_at(lx, 0) == ')') lx->i++;
        break;
      }
      t->type = T_BADURL;
    } else if (c == '"' || c == '\'' || c == '(' || non_printable(c)) {
      t->type = T_BADURL;
    } else if (c == '\\') {
      if (valid_escape(c, lx_at(lx, 0))) utf8_put(&lx->scratch, lx_escape(lx));
      else t->type = T_BADURL;
    } else {
      utf8_put(&lx->scratch, c);
    }
    if (t->type == T_BADURL) {
      /* consume the remnants of a bad url */
      for (;;) {
        uint32_t d = lx_at(lx, 0);
        if (d == CP_EOF) break;
        lx->i++;
        if (d == ')') break;
        if (valid_escape(d, lx_at(lx, 0))) lx_escape(lx);
      }
      break;
    }
  }
  t->val = lx_value(lx);
}

static void lx_ident_like(lexer *lx, tok *t) {
  lx_ident_seq(lx);
  bool is_url = lx->scratch.len == 3 && (lx->scratch.data[0] | 0x20) == 'u' && (lx->scratch.data[1] | 0x20) == 'r' &&
                (lx->scratch.data[2] | 0x20) == 'l';
  if (lx_at(lx, 0) != '(') {
    t->type = T_IDENT;
    t->val = lx_value(lx);
    return;
  }
  lx->i++;
  if (is_url) {
    while (is_ws(lx_at(lx, 0)) && is_ws(lx_at(lx, 1))) lx->i++;
    uint32_t a = lx_at(lx, 0), b = lx_at(lx, 1);
    if (!(a == '"' || a == '\'' || (is_ws(a) && (b == '"' || b == '\'')))) {
      buf_reset(&lx->scratch);
      lx_url(lx, t);
      return;
    }
  }
  t->type = T_FUNCTION;
  t->val = lx_value(lx);
}

static void lx_numeric(lexer *lx, tok *t) {
  /* Only integer values matter to selectors (An+B); others keep num = 0. */
  uint32_t c = lx_at(lx, 0);
  double v = 0;
  bool neg = false;
  t->integer = true;
  if (c == '+' || c == '-') {
    t->sign = true;
    neg = c == '-';
    lx->i++;
  }
  while (is_digit(lx_at(lx, 0))) v = v * 10 + (lx_at(lx, 0) - '0'), lx->i++;
  if (lx_at(lx, 0) == '.' && is_digit(lx_at(lx, 1))) {
    t->integer = false;
    lx->i++;
    while (is_digit(lx_at(lx, 0))) lx->i++;
  }
  uint32_t e = lx_at(lx, 0), e1 = lx_at(lx, 1);
  if ((e == 'e' || e == 'E') && (is_digit(e1) || ((e1 == '+' || e1 == '-') && is_digit(lx_at(lx, 2))))) {
    t->integer = false;
    lx->i += is_digit(e1) ? 1 : 2;
    while (is_digit(lx_at(lx, 0))) lx->i++;
  }
  t->num = t->integer ? (neg ? -v : v) : 0;
  if (starts_ident(lx_at(lx, 0), lx_at(lx, 1), lx_at(lx, 2))) {
    t->type = T_DIMENSION;
    lx_ident_seq(lx);
    t->val = lx_value(lx);
  } else if (lx_at(lx, 0) == '%') {
    lx->i++;
    t->type = T_PERCENT;
  } else {
    t->type = T_NUMBER;
  }
}

static void lx_token(lexer *lx, tok *t) {
  memset(t, 0, sizeof *t);
  /* comments vanish without a trace (no whitespace token) */
  while (lx_at(lx, 0) == '/' && lx_at(lx, 1) == '*') {
    lx->i += 2;
    while (lx->i < lx->n && !(lx_at(lx, 0) == '*' && lx_at(lx, 1) == '/')) lx->i++;
    lx->i = lx->i + 2 <= lx->n ? lx->i + 2 : lx->n;
  }
  t->pos = lx->i < lx->n ? lx->pos[lx->i] : (lx->n ? lx->pos[lx->n - 1] + 1 : 1);
  uint32_t c = lx_at(lx, 0), c1 = lx_at(lx, 1), c2 = lx_at(lx, 2);
  t->val = "";
  if (c == CP_EOF) { t->type = T_EOF; return; }
  if (is_ws(c)) {
    while (is_ws(lx_at(lx, 0))) lx->i++;
    t->type = T_WS;
    return;
  }
  if (c == '"' || c == '\'') { lx->i++; lx_string(lx, t, c); return; }
  if (is_digit(c) || ((c == '+' || c == '.') && starts_number(c, c1, c2))) { lx_numeric(lx, t); return; }
  if (c == '-') {
    if (starts_number(c, c1, c2)) { lx_numeric(lx, t); return; }
    if (c1 == '-' && c2 == '>') { lx->i += 3; t->type = T_CDC; return; }
    if (starts_ident(c, c1, c2)) { lx_ident_like(lx, t); return; }
  }
  if (is_ident_start(c) || (c == '\\' && valid_escape(c, c1))) { lx_ident_like(lx, t); return; }
  lx->i++;
  switch (c) {
    case '#':
      if (is_ident_char(c1) || valid_escape(c1, c2)) {
        t->type = T_HASH;
        t->id_hash = starts_ident(c1, c2, lx_at(lx, 2));
        lx_ident_seq(lx);
        t->val = lx_value(lx);
        return;
      }
      break;
    case '<':
      if (c1 == '!' && c2 == '-' && lx_at(lx, 2) == '-') { lx->i += 3; t->type = T_CDO; return; }
      break;
    case '@':
      if (starts_ident(c1, c2, lx_at(lx, 2))) {
        t->type = T_AT;
        lx_ident_seq(lx);
        t->val = lx_value(lx);
        return;
      }
      break;
    case '(': t->type = T_LPAREN; return;
    case ')': t->type = T_RPAREN; return;
    case '[': t->type = T_LBRACK; return;
    case ']': t->type = T_RBRACK; return;
    case '{': t->type = T_LBRACE; return;
    case '}': t->type = T_RBRACE; return;
    case ',': t->type = T_COMMA; return;
    case ':': t->type = T_COLON; return;
    case ';': t->type = T_SEMI; return;
    default: break;
  }
  t->type = T_DELIM;
  t->delim = c;
}

/* ---- parser ------------------------------------------------------------------ */

typedef struct parser {
  const tok *t;
  size_t nt;          /* index of the EOF token */
  size_t *close;      /* for a block-opening token, the index of its closer (or EOF) */
  sel_pool *pool;
  char *err;
  size_t errlen;
  bool failed;        /* an error message is recorded */
  bool fatal;         /* ... and forgiving lists must not drop it */
  int depth;          /* nesting of selector arguments */
  int in_has;         /* inside a :has() argument */
  int in_any;         /* inside :-webkit-any(), where everything nested must be compound */
  int under_any;      /* anywhere below :-webkit-any(), where :has() is invalid */
} parser;

enum list_mode {
  L_TOP,        /* the whole selector: pseudo-elements allowed */
  L_COMPLEX,    /* :not() */
  L_NTH_OF,     /* :nth-child(An+B of S) */
  L_FORGIVING,  /* :is(), :where(): invalid items are dropped */
  L_RELATIVE,   /* :has() */
  L_COMPOUND,   /* :-webkit-any(), :host(), ::slotted(), ::cue(): compounds only */
};

static void tok_describe(const tok *t, char *out, size_t outlen) {
  buf b = BUF_INIT;
  switch (t->type) {
    case T_EOF: snprintf(out, outlen, "end of selector"); return;
    case T_WS: snprintf(out, outlen, "whitespace"); return;
    case T_STRING: case T_BADSTRING: snprintf(out, outlen, "string"); return;
    case T_URL: case T_BADURL: snprintf(out, outlen, "url()"); return;
    case T_NUMBER: case T_PERCENT: case T_DIMENSION: snprintf(out, outlen, "number"); return;
    case T_CDO: snprintf(out, outlen, "'<!--'"); return;
    case T_CDC: snprintf(out, outlen, "'-->'"); return;
    case T_IDENT: snprintf(out, outlen, "'%.40s'", t->val); return;
    case T_FUNCTION: snprintf(out, outlen, "'%.40s('", t->val); return;
    case T_AT: snprintf(out, outlen, "'@%.40s'", t->val); return;
    case T_HASH: snprintf(out, outlen, "'#%.40s'", t->val); return;
    case T_DELIM:
      utf8_put(&b, t->delim);
      snprintf(out, outlen, "'%s'", buf_str(&b));
      buf_free(&b);
      return;
    default: {
      static const char punct[] = "?:;,[]()";
      size_t k = (size_t)(t->type - T_COLON);
      if (t->type == T_LBRACE) snprintf(out, outlen, "'{'");
      else if (t->type == T_RBRACE) snprintf(out, outlen, "'}'");
      else snprintf(out, outlen, "'%c'", punct[k + 1]);
    }
  }
}

static bool fail_at(parser *p, size_t i, bool fatal, const char *fmt, ...) {
  if (!p->failed) {
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->errlen) snprintf(p->err, p->errlen, "%s at position %u", msg, (unsigned)p->t[i].pos);
    p->failed = true;
    p->fatal = fatal;
  }
  return false;
}

/* "unexpected X at position N, expected Y" */
static bool unexpected(parser *p, size_t i, const char *expected) {
  char d[64];
  tok_describe(&p->t[i], d, sizeof d);
  if (!p->failed) {
    fail_at(p, i, false, "unexpected %s", d);
    size_t n = strlen(p->err);
    if (expected && n + 1 < p->errlen) snprintf(p->err + n, p->errlen - n, ", expected %s", expected);
  }
  return false;
}

static bool oom(parser *p, size_t i) { return fail_at(p, i, true, "out of memory"); }

static bool tok_is_delim(const tok *t, uint32_t c) { return t->type == T_DELIM && t->delim == c; }

static size_t skip_ws(const parser *p, size_t i, size_t end) {
  while (i < end && p->t[i].type == T_WS) i++;
  return i;
}

/* Index just past the component value starting at i (a whole block for an opener). */
static size_t skip_value(const parser *p, size_t i) {
  uint8_t ty = p->t[i].type;
  if (ty == T_FUNCTION || ty == T_LPAREN || ty == T_LBRACK || ty == T_LBRACE)
    return p->close[i] < p->nt ? p->close[i] + 1 : p->nt;
  return i + 1;
}

static bool ascii_ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a, y = *b;
    if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
    if (x != y) return false;
  }
  return *a == *b;
}

static char *pool_lower(parser *p, const char *s) {
  size_t n = strlen(s);
  char *o = pool_alloc(p->pool, n + 1);
  if (!o) return NULL;
  for (size_t i = 0; i <= n; i++) o[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
  return o;
}

/* Appends one zeroed element to a pool-backed growing array. */
static void *grow(parser *p, void **arr, size_t *n, size_t *cap, size_t size) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 4;
    void *na = pool_alloc(p->pool, nc * size);
    if (!na) return NULL;
    if (*n) memcpy(na, *arr, *n * size);
    *arr = na;
    *cap = nc;
  }
  void *e = (char *)*arr + (*n)++ * size;
  memset(e, 0, size);
  return e;
}

static sel_list *parse_list(parser *p, size_t a, size_t b, enum list_mode mode);

/* The HTML spec's attributes whose values selectors compare
 * ASCII-case-insensitively on HTML elements in HTML documents. */
static const char *const legacy_ci_attrs[] = {
  "accept", "accept-charset", "align", "alink", "axis", "bgcolor", "charset", "checked", "clear", "codetype",
  "color", "compact", "declare", "defer", "dir", "direction", "disabled", "enctype", "face", "frame",
  "hreflang", "http-equiv", "lang", "language", "link", "media", "method", "multiple", "nohref", "noresize",
  "noshade", "nowrap", "readonly", "rel", "rev", "rules", "scope", "scrolling", "selected", "shape",
  "target", "text", "type", "valign", "valuetype", "vlink", NULL,
};

/* [ ... ] between a (after '[') and b (the closer). */
static bool parse_attr(parser *p, size_t a, size_t b, simple *s) {
  const tok *t = p->t;
  size_t i = skip_ws(p, a, b);
  s->kind = K_ATTR;
  const char *name = NULL;
  bool prefixed = true;
  if (i < b && (t[i].type == T_IDENT || tok_is_delim(&t[i], '*')) && i + 2 < b + 1 && tok_is_delim(&t[i + 1], '|') &&
      i + 2 < b && t[i + 2].type == T_IDENT) {
    if (t[i].type == T_IDENT && strcmp(t[i].val, "*") != 0)
      return fail_at(p, i, false, "undeclared namespace prefix '%.40s'", t[i].val);
    s->any_ns = true;
    name = t[i + 2].val;
    i += 3;
  } else if (i < b && tok_is_delim(&t[i], '|') && i + 1 < b && t[i + 1].type == T_IDENT) {
    name = t[i + 1].val;
    i += 2;
  } else if (i < b && t[i].type == T_IDENT) {
    name = t[i].val;
    prefixed = false;
    i++;
  } else {
    return unexpected(p, i, "an attribute name");
  }
  if (!(s->name = pool_lower(p, name))) return oom(p, i);
  /* Chromium applies the legacy list only to unprefixed names: not to [*|type] or [|type] */
  for (const char *const *l = legacy_ci_attrs; *l && !prefixed; l++)
    if (strcmp(*l, s->name) == 0) s->legacy_ci = true;
  i = skip_ws(p, i, b);
  if (i == b) { s->op = A_EXISTS; return true; }
  if (tok_is_delim(&t[i], '=')) {
    s->op = A_EQ;
    i++;
  } else if (t[i].type == T_DELIM && i + 1 < b && tok_is_delim(&t[i + 1], '=') && t[i + 1].pos == t[i].pos + 1) {
    /* a two-character operator: Chromium rejects a comment between its halves */
    switch (t[i].delim) {
      case '~': s->op = A_INCLUDES; break;
      case '|': s->op = A_DASH; break;
      case '^': s->op = A_PREFIX; break;
      case '$': s->op = A_SUFFIX; break;
      case '*': s->op = A_SUBSTR; break;
      default: return unexpected(p, i, "an attribute operator or ']'");
    }
    i += 2;
  } else {
    return unexpected(p, i, "an attribute operator or ']'");
  }
  i = skip_ws(p, i, b);
  if (i == b || (t[i].type != T_IDENT && t[i].type != T_STRING)) return unexpected(p, i, "an attribute value");
  s->value = t[i].val;
  s->vlen = strlen(s->value);
  i = skip_ws(p, i + 1, b);
  if (i < b && t[i].type == T_IDENT) {
    if (ascii_ieq(t[i].val, "i")) s->acase = AC_I;
    else return unexpected(p, i, "'i' or ']'");
    i = skip_ws(p, i + 1, b);
  }
  if (i != b) return unexpected(p, i, "']'");
  return true;
}

static int clamp_int(double v) {
  if (v >= (double)INT_MAX) return INT_MAX;
  if (v <= (double)INT_MIN) return INT_MIN;
  return (int)v;
}

/* Parses "n", "n-", "n-<digits>" (case-insensitive n) after the A part.
 * Returns 0 bad, 1 bare n, 2 "n-" awaiting a signless integer, 3 complete. */
static int anb_n_part(const char *s, int *b) {
  if (s[0] != 'n' && s[0] != 'N') return 0;
  if (s[1] == '\0') return 1;
  if (s[1] != '-') return 0;
  if (s[2] == '\0') return 2;
  long long v = 0;
  for (const char *q = s + 2; *q; q++) {
    if (*q < '0' || *q > '9') return 0;
    v = v * 10 + (*q - '0');
    /* Chromium parses these digits as a strict int: overflow is invalid */
    if (v > (long long)INT_MAX + 1) return 0;
  }
  if (-v < INT_MIN) return 0;
  *b = (int)-v;
  return 3;
}

/* The An+B microsyntax (CSS Syntax 3, section 6) over tokens [*i, end). */
static bool parse_anb(parser *p, size_t *ip, size_t end, int *a, int *b) {
  const tok *t = p->t;
  size_t i = *ip;
  const char *npart = NULL;
  *b = 0;
  if (i >= end) return unexpected(p, i, "an An+B expression");
  if (t[i].type == T_NUMBER && t[i].integer) {
    *a = 0;
    *b = clamp_int(t[i].num);
    *ip = i + 1;
    return true;
  }
  if (t[i].type == T_IDENT && ascii_ieq(t[i].val, "odd")) { *a = 2; *b = 1; *ip = i + 1; return true; }
  if (t[i].type == T_IDENT && ascii_ieq(t[i].val, "even")) { *a = 2; *b = 0; *ip = i + 1; return true; }
  if (tok_is_delim(&t[i], '+') && i + 1 < end && t[i + 1].type == T_IDENT) {
    *a = 1;
    npart = t[i + 1].val;
    i += 2;
  } else if (t[i].type == T_DIMENSION && t[i].integer) {
    *a = clamp_int(t[i].num);
    npart = t[i].val;
    i++;
  } else if (t[i].type == T_IDENT) {
    *a = t[i].val[0] == '-' ? -1 : 1;
    npart = t[i].val + (t[i].val[0] == '-');
    i++;
  } else {
    return unexpected(p, i, "an An+B expression");
  }
  size_t at = i - 1;
  int form = anb_n_part(npart, b);
  if (form == 0) return unexpected(p, at, "an An+B expression");
  if (form == 3) { *ip = i; return true; }
  size_t j = skip_ws(p, i, end);
  int sign = form == 2 ? -1 : 0;
  if (sign == 0 && j < end && (tok_is_delim(&t[j], '+') || tok_is_delim(&t[j], '-'))) {
    sign = tok_is_delim(&t[j], '+') ? 1 : -1;
    j = skip_ws(p, j + 1, end);
  }
  if (sign == 0 && !(j < end && t[j].type == T_NUMBER)) { *ip = i; return true; }
  if (j >= end || t[j].type != T_NUMBER || !t[j].integer || t[j].sign != (sign == 0))
    return unexpected(p, j, "an integer");
  double v = t[j].num;
  *b = clamp_int(sign < 0 ? -v : v);
  *ip = j + 1;
  return true;
}

/* One identifier, alone between whitespace, in [a, b). */
static bool parse_one_ident(parser *p, size_t a, size_t b, const char **out) {
  size_t i = skip_ws(p, a, b);
  if (i == b || p->t[i].type != T_IDENT) return unexpected(p, i, "an identifier");
  *out = p->t[i].val;
  i = skip_ws(p, i + 1, b);
  if (i != b) return unexpected(p, i, "')'");
  return true;
}

/* Selector-list arguments share the nesting budget. */
static sel_list *parse_arg_list(parser *p, size_t fn, size_t a, size_t b, enum list_mode mode) {
  if (++p->depth > SEL_MAX_NESTING) {
    fail_at(p, fn, true, "selector nested more than %d levels deep", SEL_MAX_NESTING);
    p->depth--;
    return NULL;
  }
  sel_list *l = parse_list(p, a, b, mode);
  p->depth--;
  return l;
}

enum pc_arg { PA_NONE, PA_NTH, PA_NTH_OF, PA_LIST_NOT, PA_LIST_IS, PA_LIST_HAS, PA_LIST_ANY, PA_LANG, PA_DIR, PA_COMPOUND, PA_IDENT, PA_IDENTS };

typedef struct pseudo_def {
  const char *name;
  uint8_t kind;
  uint8_t arg;
  int a, b;
  bool last, of_type;
} pseudo_def;

/* Pseudo-classes Chromium accepts in querySelectorAll. The dynamic and
 * shadow-tree ones can never hold in a parsed document: they are K_FALSE. */
static const pseudo_def pseudo_classes[] = {
  {"root", K_ROOT, PA_NONE, 0, 0, false, false},
  {"scope", K_SCOPE, PA_NONE, 0, 0, false, false},
  {"empty", K_EMPTY, PA_NONE, 0, 0, false, false},
  {"first-child", K_FIRST_CHILD, PA_NONE, 0, 0, false, false},
  {"last-child", K_LAST_CHILD, PA_NONE, 0, 0, false, false},
  {"only-child", K_ONLY_CHILD, PA_NONE, 0, 0, false, false},
  {"first-of-type", K_NTH, PA_NONE, 0, 1, false, true},
  {"last-of-type", K_NTH, PA_NONE, 0, 1, true, true},
  {"only-of-type", K_ONLY_OF_TYPE, PA_NONE, 0, 0, false, true},
  {"link", K_LINK, PA_NONE, 0, 0, false, false},
  {"any-link", K_LINK, PA_NONE, 0, 0, false, false},
  {"-webkit-any-link", K_LINK, PA_NONE, 0, 0, false, false},
  {"checked", K_CHECKED, PA_NONE, 0, 0, false, false},
  {"disabled", K_DISABLED, PA_NONE, 0, 0, false, false},
  {"enabled", K_ENABLED, PA_NONE, 0, 0, false, false},
  {"required", K_REQUIRED, PA_NONE, 0, 0, false, false},
  {"optional", K_OPTIONAL, PA_NONE, 0, 0, false, false},
  {"read-only", K_READ_ONLY, PA_NONE, 0, 0, false, false},
  {"read-write", K_READ_WRITE, PA_NONE, 0, 0, false, false},
  {"placeholder-shown", K_PLACEHOLDER, PA_NONE, 0, 0, false, false},
  {"defined", K_DEFINED, PA_NONE, 0, 0, false, false},
  {"default", K_DEFAULT, PA_NONE, 0, 0, false, false},
  {"indeterminate", K_INDETERMINATE, PA_NONE, 0, 0, false, false},
  {"open", K_OPEN, PA_NONE, 0, 0, false, false},
  {"nth-child", K_NTH, PA_NTH_OF, 0, 0, false, false},
  {"nth-last-child", K_NTH, PA_NTH_OF, 0, 0, true, false},
  {"nth-of-type", K_NTH, PA_NTH, 0, 0, false, true},
  {"nth-last-of-type", K_NTH, PA_NTH, 0, 0, true, true},
  {"not", K_NOT, PA_LIST_NOT, 0, 0, false, false},
  {"is", K_IS, PA_LIST_IS, 0, 0, false, false},
  {"where", K_IS, PA_LIST_IS, 0, 0, false, false},
  {"-webkit-any", K_IS, PA_LIST_ANY, 0, 0, false, false},
  {"has", K_HAS, PA_LIST_HAS, 0, 0, false, false},
  {"lang", K_LANG, PA_LANG, 0, 0, false, false},
  {"dir", K_DIR, PA_DIR, 0, 0, false, false},
  {"host", K_FALSE, PA_COMPOUND, 0, 0, false, false},
  {"host-context", K_FALSE, PA_COMPOUND, 0, 0, false, false},
  {"state", K_FALSE, PA_IDENT, 0, 0, false, false},
  {"active-view-transition-type", K_FALSE, PA_IDENTS, 0, 0, false, false},
};

static const char *const false_pseudo_classes[] = {
  "active", "active-view-transition", "autofill", "-webkit-autofill", "corner-present", "current", "decrement",
  "double-button", "end", "focus", "focus-visible", "focus-within", "fullscreen", "-webkit-full-screen",
  "-webkit-full-screen-ancestor", "-webkit-full-page-media", "future", "horizontal", "host", "hover",
  "increment", "interest-source", "interest-target", "modal", "no-button", "past", "picture-in-picture",
  "popover-open", "single-button", "start", "target", "target-current", "user-invalid", "user-valid", "vertical", "visited",
  "-webkit-drag", "window-inactive", "xr-overlay", NULL,
};

/* Accepted by Chromium, but their semantics (constraint validation) are not
 * modelled here: compiling them fails rather than answering wrongly. */
static const char *const unsupported_pseudo_classes[] = {"valid", "invalid", "in-range", "out-of-range", NULL};

static const char *const legacy_pseudo_elements[] = {"before", "after", "first-line", "first-letter", NULL};

/* Pseudo-classes allowed after ::-webkit-scrollbar-style pseudo-elements. */
static const char *const scrollbar_pseudo_classes[] = {
  "horizontal", "vertical", "decrement", "increment", "start", "end", "double-button", "single-button",
  "no-button", "corner-present", "window-inactive", "hover", "active", "enabled", "disabled", NULL,
};

static const char *const pseudo_elements[] = {
  "before", "after", "marker", "placeholder", "selection", "first-line", "first-letter", "backdrop",
  "file-selector-button", "cue", "spelling-error", "grammar-error", "target-text", "view-transition",
  "scroll-marker", "scroll-marker-group", "column", "details-content", "picker-icon", "checkmark", "search-text",
  NULL,
};

enum pe_state { PE_NONE, PE_BEFORE_AFTER, PE_PART, PE_WEBKIT, PE_OTHER };

static bool in_list(const char *const *l, const char *name) {
  for (; *l; l++)
    if (ascii_ieq(*l, name)) return true;
  return false;
}

static bool starts_webkit(const char *name) {
  static const char pre[] = "-webkit-";
  for (size_t k = 0; k < sizeof pre - 1; k++) {
    char c = name[k];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c != pre[k]) return false;
  }
  return name[sizeof pre - 1] != '\0';
}

/* A functional pseudo-element's argument, in [a, b). */
static bool parse_pe_arg(parser *p, size_t fn, size_t a, size_t b, const char *name) {
  const tok *t = p->t;
  if (ascii_ieq(name, "slotted") || ascii_ieq(name, "cue")) {
    sel_list *l = parse_arg_list(p, fn, a, b, L_COMPOUND);
    if (!l) return false;
    if (ascii_ieq(name, "slotted") && l->n != 1) return unexpected(p, fn, NULL);
    return true;
  }
  if (ascii_ieq(name, "part")) {
    size_t i = skip_ws(p, a, b);
    if (i == b) return unexpected(p, i, "an identifier");
    while (i < b) {
      if (t[i].type != T_IDENT) return unexpected(p, i, "an identifier");
      i = skip_ws(p, i + 1, b);
    }
    return true;
  }
  const char *v;
  if (ascii_ieq(name, "highlight")) return parse_one_ident(p, a, b, &v);
  if (ascii_ieq(name, "picker")) {
    if (!parse_one_ident(p, a, b, &v)) return false;
    if (!ascii_ieq(v, "select")) return unexpected(p, skip_ws(p, a, b), "'select'");
    return true;
  }
  static const char *const vt[] = {"view-transition-group", "view-transition-image-pair", "view-transition-old",
                                   "view-transition-new", "view-transition-group-children", "scroll-button", NULL};
  if (in_list(vt, name)) {
    size_t i = skip_ws(p, a, b);
    if (i < b && tok_is_delim(&t[i], '*')) {
      i = skip_ws(p, i + 1, b);
      if (i != b) return unexpected(p, i, "')'");
      return true;
    }
    if (ascii_ieq(name, "scroll-button")) {
      static const char *const dirs[] = {"up", "down", "left", "right", "block-start", "block-end",
                                         "inline-start", "inline-end", NULL};
      if (!parse_one_ident(p, a, b, &v)) return false;
      if (!in_list(dirs, v)) return unexpected(p, i, "a direction");
      return true;
    }
    return parse_one_ident(p, a, b, &v);
  }
  return fail_at(p, fn, false, "unknown pseudo-element '::%.40s('", name);
}

/* A pseudo-element at index j (after "::"), or a legacy one (":before"). */
static bool parse_pseudo_element(parser *p, size_t *ip, size_t end, int *pe, bool legacy) {
  const tok *t = p->t;
  size_t j = *ip;
  if (j >= end || (t[j].type != T_IDENT && t[j].type != T_FUNCTION)) return unexpected(p, j, "a pseudo-element name");
  const char *name = t[j].val;
  if (*pe != PE_NONE) {
    bool ok = (*pe == PE_BEFORE_AFTER && t[j].type == T_IDENT && ascii_ieq(name, "marker")) ||
              (*pe == PE_PART && t[j].type == T_IDENT && (in_list(pseudo_elements, name)));
    if (!ok) return unexpected(p, j - (legacy ? 1 : 2), NULL);
  }
  if (t[j].type == T_FUNCTION) {
    if (!parse_pe_arg(p, j, j + 1, p->close[j], name)) return false;
    *pe = ascii_ieq(name, "part") ? PE_PART : PE_OTHER;
    *ip = skip_value(p, j);
    return true;
  }
  if (starts_webkit(name)) {
    *pe = PE_WEBKIT;
  } else if (in_list(pseudo_elements, name)) {
    *pe = (ascii_ieq(name, "before") || ascii_ieq(name, "after")) ? PE_BEFORE_AFTER : PE_OTHER;
  } else {
    return fail_at(p, j, false, "unknown pseudo-element '::%.40s'", name);
  }
  *ip = j + 1;
  return true;
}

/* A pseudo-class at index j (after ':'), appended to s. */
static bool parse_pseudo_class(parser *p, size_t j, size_t end, simple *s, int pe, size_t *next) {
  const tok *t = p->t;
  if (j >= end || (t[j].type != T_IDENT && t[j].type != T_FUNCTION)) return unexpected(p, j, "a pseudo-class name");
  const char *name = t[j].val;
  bool fn = t[j].type == T_FUNCTION;
  if (pe != PE_NONE) {
    /* After a pseudo-element only a few pseudo-classes may follow. */
    bool ok = (fn && (ascii_ieq(name, "is") || ascii_ieq(name, "where"))) || pe == PE_PART ||
              (pe == PE_WEBKIT && !fn && in_list(scrollbar_pseudo_classes, name));
    if (!ok) return unexpected(p, j - 1, NULL);
  }
  if (!fn) {
    *next = j + 1;
    if (in_list(false_pseudo_classes, name)) { s->kind = K_FALSE; return true; }
    if (in_list(unsupported_pseudo_classes, name))
      return fail_at(p, j - 1, true, "pseudo-class ':%.40s' is not supported", name);
    for (size_t k = 0; k < sizeof pseudo_classes / sizeof *pseudo_classes; k++) {
      const pseudo_def *d = &pseudo_classes[k];
      if (d->arg == PA_NONE && ascii_ieq(d->name, name)) {
        s->kind = d->kind;
        s->a = d->a;
        s->b = d->b;
        s->last = d->last;
        s->of_type = d->of_type;
        return true;
      }
    }
    return fail_at(p, j - 1, false, "unknown pseudo-class ':%.40s'", name);
  }
  const pseudo_def *d = NULL;
  for (size_t k = 0; k < sizeof pseudo_classes / sizeof *pseudo_classes; k++)
    if (pseudo_classes[k].arg != PA_NONE && ascii_ieq(pseudo_classes[k].name, name)) d = &pseudo_classes[k];
  if (!d) return fail_at(p, j - 1, false, "unknown pseudo-class ':%.40s('", name);
  size_t a = j + 1, b = p->close[j];
  *next = skip_value(p, j);
  s->kind = d->kind;
  s->last = d->last;
  s->of_type = d->of_type;
  switch (d->arg) {
    case PA_NTH:
    case PA_NTH_OF: {
      size_t i = skip_ws(p, a, b);
      if (!parse_anb(p, &i, b, &s->a, &s->b)) return false;
      i = skip_ws(p, i, b);
      if (i == b) return true;
      /* Chromium matches "of" case-sensitively */
      if (d->arg == PA_NTH_OF && t[i].type == T_IDENT && strcmp(t[i].val, "of") == 0) {
        size_t k = skip_ws(p, i + 1, b);
        if (k == b) return unexpected(p, k, "a selector");
        /* unlike other arguments, "of S" may be complex even inside :-webkit-any() */
        int any = p->in_any;
        p->in_any = 0;
        s->sub = parse_arg_list(p, j, k, b, L_NTH_OF);
        p->in_any = any;
        return s->sub != NULL;
      }
      return unexpected(p, i, "')'");
    }
    case PA_LIST_NOT: return (s->sub = parse_arg_list(p, j, a, b, L_COMPLEX)) != NULL;
    case PA_LIST_IS: return (s->sub = parse_arg_list(p, j, a, b, L_FORGIVING)) != NULL;
    case PA_LIST_ANY:
      p->in_any++;
      p->under_any++;
      s->sub = parse_arg_list(p, j, a, b, L_COMPOUND);
      p->in_any--;
      p->under_any--;
      return s->sub != NULL;
    case PA_LIST_HAS: {
      if (p->in_has) return fail_at(p, j - 1, false, ":has() cannot be nested");
      if (p->under_any) return fail_at(p, j - 1, false, ":has() not allowed in :-webkit-any()");
      p->in_has++;
      s->sub = parse_arg_list(p, j, a, b, L_RELATIVE);
      p->in_has--;
      return s->sub != NULL;
    }
    case PA_LANG: {
      const char *v;
      if (!parse_one_ident(p, a, b, &v)) return false;
      s->name = v;
      return true;
    }
    case PA_DIR: {
      const char *v;
      if (!parse_one_ident(p, a, b, &v)) return false;
      s->dir = ascii_ieq(v, "ltr") ? DIR_LTR : ascii_ieq(v, "rtl") ? DIR_RTL : DIR_NONE;
      return true;
    }
    case PA_COMPOUND: {
      sel_list *l = parse_arg_list(p, j, a, b, L_COMPOUND);
      if (!l) return false;
      if (l->n != 1) return unexpected(p, j, NULL);
      return true;
    }
    case PA_IDENT: {
      const char *v;
      return parse_one_ident(p, a, b, &v);
    }
    default: { /* PA_IDENTS: comma-separated identifiers */
      size_t i = skip_ws(p, a, b);
      for (;;) {
        if (i == b || t[i].type != T_IDENT) return unexpected(p, i, "an identifier");
        i = skip_ws(p, i + 1, b);
        if (i == b) return true;
        if (t[i].type != T_COMMA) return unexpected(p, i, "','");
        i = skip_ws(p, i + 1, b);
      }
    }
  }
}

/* Pseudo-elements (which never match) are allowed at the top level and,
 * in Chromium, in the "of S" of an :nth-child() that is not itself nested. */
static bool pseudo_element_allowed(const parser *p, enum list_mode mode) {
  return mode == L_TOP || (mode == L_NTH_OF && p->depth == 1);
}

/* One compound selector starting at *ip; stops at the first token that
 * cannot continue it. `pe` reports a pseudo-element. */
static bool parse_compound(parser *p, size_t *ip, size_t end, compound *cp, int *pe, enum list_mode mode) {
  const tok *t = p->t;
  size_t i = *ip;
  size_t start = i;
  simple *ss = NULL;
  size_t ns = 0, cap = 0;
  cp->tag = GUMBO_TAG_LAST;
  *pe = PE_NONE;

  /* type or universal selector, with an optional namespace prefix */
  bool name_tok = i < end && (t[i].type == T_IDENT || tok_is_delim(&t[i], '*'));
  size_t name_at = SIZE_MAX;
  if (name_tok && i + 1 < end && tok_is_delim(&t[i + 1], '|')) {
    if (i + 2 < end && (t[i + 2].type == T_IDENT || tok_is_delim(&t[i + 2], '*'))) {
      /* an escaped "\*" prefix is still the universal one in Chromium */
      if (t[i].type == T_IDENT && strcmp(t[i].val, "*") != 0)
        return fail_at(p, i, false, "undeclared namespace prefix '%.40s'", t[i].val);
      name_at = i + 2;
      i += 3;
    } else {
      return unexpected(p, i + 2, "a type name after '|'");
    }
  } else if (name_tok) {
    name_at = i;
    i++;
  } else if (i < end && tok_is_delim(&t[i], '|')) {
    if (!(i + 1 < end && (t[i + 1].type == T_IDENT || tok_is_delim(&t[i + 1], '*'))))
      return unexpected(p, i + 1, "a type name after '|'");
    cp->never = true; /* no-namespace elements do not exist in HTML documents */
    name_at = i + 1;
    i += 2;
  }
  if (name_at != SIZE_MAX && t[name_at].type == T_IDENT) {
    char *lower = pool_lower(p, t[name_at].val);
    if (!lower) return oom(p, i);
    cp->tag = gumbo_tag_enum(lower);
    cp->name = lower;
  }

  for (;;) {
    if (i >= end) break;
    const tok *k = &t[i];
    bool is_pc = k->type == T_COLON && !(i + 1 < end && t[i + 1].type == T_COLON);
    bool subclass = k->type == T_HASH || tok_is_delim(k, '.') || k->type == T_LBRACK || tok_is_delim(k, '&');
    if (!subclass && k->type != T_COLON) break;
    if (*pe != PE_NONE && !is_pc && !(k->type == T_COLON)) return unexpected(p, i, NULL);
    if (is_pc && i + 1 < end && t[i + 1].type == T_IDENT && in_list(legacy_pseudo_elements, t[i + 1].val)) {
      if (!pseudo_element_allowed(p, mode)) return fail_at(p, i, false, "pseudo-element not allowed here");
      size_t j = i + 1;
      if (!parse_pseudo_element(p, &j, end, pe, true)) return false;
      cp->never = true;
      i = j;
      continue;
    }
    if (k->type == T_COLON && !is_pc) {
      if (!pseudo_element_allowed(p, mode)) return fail_at(p, i, false, "pseudo-element not allowed here");
      size_t j = i + 2;
      if (!parse_pseudo_element(p, &j, end, pe, false)) return false;
      cp->never = true;
      i = j;
      continue;
    }
    simple *s = grow(p, (void **)&ss, &ns, &cap, sizeof *ss);
    if (!s) return oom(p, i);
    if (k->type == T_HASH) {
      if (!k->id_hash) return unexpected(p, i, "an identifier after '#'");
      s->kind = K_ID;
      s->name = k->val;
      i++;
    } else if (tok_is_delim(k, '.')) {
      if (!(i + 1 < end && t[i + 1].type == T_IDENT)) return unexpected(p, i + 1, "a class name after '.'");
      s->kind = K_CLASS;
      s->name = t[i + 1].val;
      i += 2;
    } else if (k->type == T_LBRACK) {
      if (!parse_attr(p, i + 1, p->close[i], s)) return false;
      i = skip_value(p, i);
    } else if (tok_is_delim(k, '&')) {
      s->kind = K_SCOPE; /* the nesting selector outside nesting is :scope */
      i++;
    } else {
      size_t next = i;
      if (!parse_pseudo_class(p, i + 1, end, s, *pe, &next)) return false;
      i = next;
    }
  }
  if (i == start) return unexpected(p, i, "a selector");
  /* cheap checks first: stable insertion sort by kind */
  for (size_t a = 1; a < ns; a++) {
    simple x = ss[a];
    size_t b = a;
    for (; b > 0 && ss[b - 1].kind > x.kind; b--) ss[b] = ss[b - 1];
    ss[b] = x;
  }
  cp->s = ss;
  cp->ns = ns;
  *ip = i;
  return true;
}

/* A complex (or relative) selector spanning exactly [a, b). */
static bool parse_complex(parser *p, size_t a, size_t b, enum list_mode mode, cplx *out) {
  const tok *t = p->t;
  compound *cs = NULL;
  size_t n = 0, cap = 0;
  size_t i = a;
  uint8_t pending = C_NONE;
  if (mode == L_RELATIVE) {
    compound *anchor = grow(p, (void **)&cs, &n, &cap, sizeof *cs);
    if (!anchor) return oom(p, i);
    anchor->anchor = true;
    anchor->tag = GUMBO_TAG_LAST;
    pending = C_DESC;
    if (tok_is_delim(&t[i], '>')) pending = C_CHILD;
    else if (tok_is_delim(&t[i], '+')) pending = C_ADJ;
    else if (tok_is_delim(&t[i], '~')) pending = C_SIB;
    if (pending != C_DESC) {
      if (p->in_any) return unexpected(p, i, NULL);
      i = skip_ws(p, i + 1, b);
    }
  }
  for (;;) {
    compound *cp = grow(p, (void **)&cs, &n, &cap, sizeof *cs);
    if (!cp) return oom(p, i);
    int pe;
    if (!parse_compound(p, &i, b, cp, &pe, mode)) return false;
    cp->comb = pending;
    if (n > SEL_MAX_COMPOUNDS)
      return fail_at(p, i - 1, true, "more than %d compound selectors in one complex selector", SEL_MAX_COMPOUNDS);
    if (i == b) break;
    size_t ci = i;
    size_t j = skip_ws(p, i, b);
    pending = j > i ? C_DESC : C_NONE;
    if (j < b && t[j].type == T_DELIM && (t[j].delim == '>' || t[j].delim == '+' || t[j].delim == '~')) {
      pending = t[j].delim == '>' ? C_CHILD : t[j].delim == '+' ? C_ADJ : C_SIB;
      j = skip_ws(p, j + 1, b);
    } else if (pending == C_NONE) {
      /* Chromium rejects a {} block after a compound outright, even in a forgiving list */
      if (t[j].type == T_LBRACE) return fail_at(p, j, true, "unexpected '{'");
      return unexpected(p, j, pe != PE_NONE ? NULL : "a combinator, ',' or end of selector");
    }
    if (pe != PE_NONE) return unexpected(p, ci, NULL);
    if (mode == L_COMPOUND || p->in_any) return unexpected(p, ci, "')' or ','");
    if (j == b) return unexpected(p, j, "a selector after the combinator");
    i = j;
  }
  /* store right to left */
  compound *rc = pool_alloc(p->pool, n * sizeof *rc);
  if (!rc) return oom(p, i);
  for (size_t k = 0; k < n; k++) rc[k] = cs[n - 1 - k];
  /* c[k].comb must describe the link from c[k] to c[k+1] (its left) */
  for (size_t k = 0; k < n; k++) rc[k].comb = cs[n - 1 - k].comb;
  out->c = rc;
  out->n = n;
  if (mode == L_RELATIVE) {
    uint8_t lead = rc[n - 2].comb;
    bool deep = false;
    for (size_t k = 0; k + 2 < n; k++)
      if (rc[k].comb == C_DESC || rc[k].comb == C_CHILD) deep = true;
    if (lead == C_CHILD && n == 2) out->has_walk = HW_CHILDREN;
    else if (lead == C_DESC || lead == C_CHILD) out->has_walk = HW_DESCENDANTS;
    else if (lead == C_ADJ && n == 2) out->has_walk = HW_NEXT;
    else if (deep) out->has_walk = HW_SIBLING_TREES;
    else out->has_walk = HW_SIBLINGS;
  }
  return true;
}

static sel_list *parse_list(parser *p, size_t a, size_t b, enum list_mode mode) {
  const tok *t = p->t;
  sel_list *l = pool_alloc(p->pool, sizeof *l);
  if (!l) { oom(p, a); return NULL; }
  size_t cap = 0;
  size_t i = a;
  for (;;) {
    size_t s = i;
    size_t te = s; /* end of the last component value that is not whitespace */
    while (i < b && t[i].type != T_COMMA) {
      bool ws = t[i].type == T_WS;
      i = skip_value(p, i);
      if (!ws) te = i;
    }
    size_t e = i; /* the comma, or b */
    size_t ts = skip_ws(p, s, e);
    if (te < ts) te = ts;
    bool ok;
    cplx item = {NULL, 0, 0};
    if (ts == te) ok = unexpected(p, e, "a selector");
    else ok = parse_complex(p, ts, te, mode, &item);
    if (ok) {
      cplx *slot = grow(p, (void **)&l->items, &l->n, &cap, sizeof *slot);
      if (!slot) { oom(p, s); return NULL; }
      *slot = item;
    } else if (mode == L_FORGIVING && !p->fatal) {
      p->failed = false; /* forgiving lists drop what they cannot parse */
    } else {
      return NULL;
    }
    if (i >= b) break;
    i++; /* the comma */
  }
  return l;
}

sel_list *sel_compile(const char *src, size_t len, const mem_allocator *mem, char *err, size_t errlen) {
  if (errlen) err[0] = '\0';
  if (len > SEL_MAX_LEN) {
    if (errlen) snprintf(err, errlen, "selector too long (%zu bytes, limit %d)", len, SEL_MAX_LEN);
    return NULL;
  }
  uint32_t *cps = mem_alloc(mem, (len + 1) * sizeof *cps);
  uint32_t *pos = mem_alloc(mem, (len + 1) * sizeof *pos);
  tok *toks = NULL;
  size_t *close = NULL, *stack = NULL, nt = 0, tcap = 0;
  sel_pool pool = {NULL, {NULL, NULL}, 0};
  if (mem) pool.mem = *mem;
  sel_list *result = NULL;
  if (!cps || !pos) goto oom;

  /* preprocess (CSS Syntax 3, 3.3): newlines normalised, NUL replaced */
  size_t n = 0;
  uint32_t chars = 0;
  const unsigned char *s = (const unsigned char *)src;
  for (size_t i = 0; i < len;) {
    uint32_t c = utf8_next(s, len, &i);
    chars++;
    if (c == '\r') {
      if (i < len && s[i] == '\n') { i++; chars++; }
      c = '\n';
    } else if (c == '\f') {
      c = '\n';
    } else if (c == 0) {
      c = 0xFFFD;
    }
    cps[n] = c;
    pos[n++] = chars;
  }

  lexer lx = {cps, pos, n, 0, &pool, BUF_WITH(mem), false};
  for (;;) {
    if (nt == tcap) {
      size_t grown = tcap ? tcap * 2 : 32;
      tok *nt2 = mem_realloc(mem, toks, tcap * sizeof *toks, grown * sizeof *toks);
      if (!nt2) { buf_free(&lx.scratch); goto oom; }
      toks = nt2;
      tcap = grown;
    }
    lx_token(&lx, &toks[nt]);
    if (toks[nt++].type == T_EOF) break;
  }
  buf_free(&lx.scratch);
  if (lx.oom) goto oom;

  /* match blocks; unclosed ones end at EOF */
  close = mem_alloc(mem, nt * sizeof *close);
  stack = mem_alloc(mem, nt * sizeof *stack);
  if (!close || !stack) goto oom;
  size_t sp = 0;
  for (size_t i = 0; i < nt; i++) {
    close[i] = nt - 1;
    uint8_t ty = toks[i].type;
    if (ty == T_FUNCTION || ty == T_LPAREN || ty == T_LBRACK || ty == T_LBRACE) {
      stack[sp++] = i;
    } else if (sp && (ty == T_RPAREN || ty == T_RBRACK || ty == T_RBRACE)) {
      uint8_t open = toks[stack[sp - 1]].type;
      bool pairs = (ty == T_RPAREN && (open == T_FUNCTION || open == T_LPAREN)) ||
                   (ty == T_RBRACK && open == T_LBRACK) || (ty == T_RBRACE && open == T_LBRACE);
      if (pairs) close[stack[--sp]] = i;
    }
  }

  parser p = {toks, nt - 1, close, &pool, err, errlen, false, false, 0, 0, 0, 0};
  result = parse_list(&p, 0, nt - 1, L_TOP);
  if (result) {
    result->pool = pool;
    pool.head = NULL;
  }
  goto done;
oom:
  if (errlen) snprintf(err, errlen, "out of memory compiling selector");
done:
  pool_free(&pool);
  mem_free(mem, cps, (len + 1) * sizeof *cps);
  mem_free(mem, pos, (len + 1) * sizeof *pos);
  mem_free(mem, toks, tcap * sizeof *toks);
  mem_free(mem, close, nt * sizeof *close);
  mem_free(mem, stack, nt * sizeof *stack);
  return result;
}

void sel_free(sel_list *s) {
  if (s) pool_free(&s->pool);
}

size_t sel_size(const sel_list *s) { return s->pool.reserved; }

/* ---- matching: element facts --------------------------------------------- */

#define NTH_SLOTS 16

typedef struct nth_slot {
  const simple *s;
  const GumboNode *parent, *el;
  size_t idx;   /* 1-based position of el among the counted siblings */
  size_t total; /* number of counted siblings, or 0 when not yet known */
} nth_slot;

typedef struct mctx {
  const GumboNode *scope;   /* :scope, or NULL until resolved from the document */
  const GumboNode *anchor;  /* the element a :has() argument is relative to */
  int quirks;               /* -1 until needed */
  nth_slot nth[NTH_SLOTS];
  unsigned nth_next;
  uint64_t steps;           /* left of the call's budget; 0: out, everything fails */
  uint64_t taken;           /* steps since the call began, for the stop's turns */
  bool (*stop)(void *ud);   /* the budget's */
  void *stop_ud;
} mctx;

static bool list_matches(const sel_list *l, const GumboNode *el, mctx *m);

/* A step of the budget for a node visited by a walk that matching one
 * element can make over many others (a radio group, a form's owner, a
 * select's options, the ancestors for :lang()): false when none is left,
 * which ends the walk; every step goes through here. */
static inline bool spend(mctx *m) {
  if (!m->steps) return false;
  m->steps--;
  if (m->stop && ++m->taken % SEL_STOP_STEPS == 0 && m->stop(m->stop_ud)) {
    m->steps = 0;
    return false;
  }
  return true;
}
static bool cplx_matches(const cplx *cx, const GumboNode *el, mctx *m);

static const GumboNode *doc_of(const GumboNode *n) {
  while (n->parent) n = n->parent;
  return n;
}

static const GumboNode *doc_element(const GumboNode *doc) {
  const GumboVector *kids = dom_children(doc);
  for (size_t i = 0; kids && i < kids->length; i++)
    if (dom_is_element(kids->data[i])) return kids->data[i];
  return NULL;
}

static bool is_html(const GumboNode *el) { return el->v.element.tag_namespace == GUMBO_NAMESPACE_HTML; }
static bool html_is(const GumboNode *el, GumboTag tag) { return is_html(el) && el->v.element.tag == tag; }

/* Attribute in no namespace by its exact (lower-case) name. */
static const char *attr(const GumboNode *el, const char *name) {
  const GumboVector *attrs = &el->v.element.attributes;
  for (size_t i = 0; i < attrs->length; i++) {
    const GumboAttribute *a = attrs->data[i];
    if (a->attr_namespace == GUMBO_ATTR_NAMESPACE_NONE && strcmp(a->name, name) == 0) return a->value;
  }
  return NULL;
}

static bool has_attr(const GumboNode *el, const char *name) { return attr(el, name) != NULL; }

static bool ascii_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
static char lower_c(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static bool bytes_eq(const char *a, const char *b, size_t n, bool ci) {
  if (!ci) return memcmp(a, b, n) == 0;
  for (size_t i = 0; i < n; i++)
    if (lower_c(a[i]) != lower_c(b[i])) return false;
  return true;
}

static bool quirks(const GumboNode *el, mctx *m) {
  if (m->quirks < 0) {
    const GumboNode *d = doc_of(el);
    m->quirks = d->type == GUMBO_NODE_DOCUMENT && d->v.document.doc_type_quirks_mode == GUMBO_DOCTYPE_QUIRKS;
  }
  return m->quirks;
}

static const GumboNode *scope_of(const GumboNode *el, mctx *m) {
  if (!m->scope) m->scope = doc_element(doc_of(el));
  return m->scope;
}

/* An input's type keyword, lower-cased; unknown values are the Text state. */
static const char *input_type(const GumboNode *el) {
  static const char *const types[] = {
    "hidden", "text", "search", "tel", "url", "email", "password", "date", "month", "week", "time",
    "datetime-local", "number", "range", "color", "checkbox", "radio", "file", "submit", "image", "reset",
    "button", NULL,
  };
  const char *v = attr(el, "type");
  if (v)
    for (const char *const *t = types; *t; t++)
      if (ascii_ieq(*t, v)) return *t;
  return "text";
}

static bool is_input(const GumboNode *el, const char *type) {
  return html_is(el, GUMBO_TAG_INPUT) && strcmp(input_type(el), type) == 0;
}

static const char *attr_ci_keyword(const GumboNode *el, const char *name, const char *const *keys) {
  const char *v = attr(el, name);
  if (v)
    for (; *keys; keys++)
      if (ascii_ieq(*keys, v)) return *keys;
  return NULL;
}

static const GumboNode *element_by_id(const GumboNode *doc, const char *id, mctx *m) {
  for (GumboNode *x = dom_next_element(doc, doc); x && spend(m); x = dom_next_element(x, doc)) {
    const char *v = attr(x, "id");
    if (v && strcmp(v, id) == 0) return x;
  }
  return NULL;
}

/* The form an element is associated with, following its form="" attribute. */
static const GumboNode *form_owner(const GumboNode *el, mctx *m) {
  const char *f = attr(el, "form");
  if (f) {
    const GumboNode *x = *f ? element_by_id(doc_of(el), f, m) : NULL;
    return x && html_is(x, GUMBO_TAG_FORM) ? x : NULL;
  }
  for (const GumboNode *p = dom_parent_element(el); p && spend(m); p = dom_parent_element(p))
    if (html_is(p, GUMBO_TAG_FORM)) return p;
  return NULL;
}

static bool same_radio_group(const GumboNode *a, const GumboNode *b, const char *name, const GumboNode *owner,
                             mctx *m) {
  if (!is_input(b, "radio")) return false;
  const char *bn = attr(b, "name");
  return bn && strcmp(bn, name) == 0 && form_owner(b, m) == owner && a != b;
}

/* A radio's checkedness after parsing: checking one unchecks the earlier
 * checked radios of its group. */
static bool radio_checked(const GumboNode *el, mctx *m) {
  if (!has_attr(el, "checked")) return false;
  const char *name = attr(el, "name");
  if (!name || !*name) return true;
  const GumboNode *owner = form_owner(el, m), *doc = doc_of(el);
  for (GumboNode *x = dom_next_element(el, doc); x && spend(m); x = dom_next_element(x, doc))
    if (has_attr(x, "checked") && same_radio_group(el, x, name, owner, m)) return false;
  return true;
}

static bool radio_group_has_checked(const GumboNode *el, mctx *m) {
  if (has_attr(el, "checked")) return true;
  const char *name = attr(el, "name");
  if (!name || !*name) return false;
  const GumboNode *owner = form_owner(el, m), *doc = doc_of(el);
  for (GumboNode *x = dom_next_element(doc, doc); x && spend(m); x = dom_next_element(x, doc))
    if (has_attr(x, "checked") && same_radio_group(el, x, name, owner, m)) return true;
  return false;
}

static const GumboNode *option_select(const GumboNode *opt) {
  const GumboNode *p = dom_parent_element(opt);
  if (p && html_is(p, GUMBO_TAG_OPTGROUP)) p = dom_parent_element(p);
  return p && html_is(p, GUMBO_TAG_SELECT) ? p : NULL;
}

static bool option_disabled(const GumboNode *opt) {
  if (has_attr(opt, "disabled")) return true;
  const GumboNode *p = dom_parent_element(opt);
  return p && html_is(p, GUMBO_TAG_OPTGROUP) && has_attr(p, "disabled");
}

/* The HTML "rules for parsing non-negative integers"; -1 on failure. */
static long parse_nonneg(const char *v) {
  if (!v) return -1;
  while (ascii_ws(*v)) v++;
  if (*v == '+') v++;
  if (*v < '0' || *v > '9') return -1;
  long n = 0;
  for (; *v >= '0' && *v <= '9'; v++)
    if (n < 100000000) n = n * 10 + (*v - '0');
  return n;
}

static bool option_selected(const GumboNode *opt, mctx *m) {
  const GumboNode *sel = option_select(opt);
  if (!sel) return has_attr(opt, "selected");
  long size = parse_nonneg(attr(sel, "size"));
  if (has_attr(sel, "multiple") || size > 1) return has_attr(opt, "selected");
  /* a drop-down shows exactly one: the last one marked selected, or else the first enabled one */
  const GumboNode *last_sel = NULL, *first_ok = NULL;
  for (GumboNode *x = dom_next_element(sel, sel); x && spend(m); x = dom_next_element(x, sel)) {
    if (!html_is(x, GUMBO_TAG_OPTION) || option_select(x) != sel) continue;
    if (has_attr(x, "selected")) last_sel = x;
    if (!first_ok && !option_disabled(x)) first_ok = x;
  }
  return opt == (last_sel ? last_sel : first_ok);
}

static bool disabled_by_fieldset(const GumboNode *el, mctx *m) {
  const GumboNode *child = el;
  for (const GumboNode *p = dom_parent_element(el); p && spend(m); child = p, p = dom_parent_element(p)) {
    if (!html_is(p, GUMBO_TAG_FIELDSET) || !has_attr(p, "disabled")) continue;
    const GumboNode *legend = NULL;
    const GumboVector *kids = dom_children(p);
    for (size_t i = 0; i < kids->length && !legend; i++) {
      const GumboNode *k = kids->data[i];
      if (dom_is_element(k) && html_is(k, GUMBO_TAG_LEGEND)) legend = k;
    }
    if (child != legend) return true;
  }
  return false;
}

/* 1 disabled, 0 enabled, -1 neither applies */
static int disabled_state(const GumboNode *el, mctx *m) {
  if (!is_html(el)) return -1;
  switch (el->v.element.tag) {
    case GUMBO_TAG_BUTTON: case GUMBO_TAG_INPUT: case GUMBO_TAG_SELECT: case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_FIELDSET:
      return has_attr(el, "disabled") || disabled_by_fieldset(el, m);
    case GUMBO_TAG_OPTGROUP: {
      /* Chromium also disables the optgroups and options of a disabled select */
      const GumboNode *sel = dom_parent_element(el);
      return has_attr(el, "disabled") || (sel && html_is(sel, GUMBO_TAG_SELECT) && disabled_state(sel, m) == 1);
    }
    case GUMBO_TAG_OPTION: {
      const GumboNode *sel = option_select(el);
      return option_disabled(el) || (sel && disabled_state(sel, m) == 1);
    }
    default: return -1;
  }
}

static bool is_required(const GumboNode *el) {
  if (!is_html(el)) return false;
  GumboTag tag = el->v.element.tag;
  if (tag == GUMBO_TAG_SELECT || tag == GUMBO_TAG_TEXTAREA) return has_attr(el, "required");
  if (tag != GUMBO_TAG_INPUT || !has_attr(el, "required")) return false;
  static const char *const no_required[] = {"hidden", "range", "color", "submit", "image", "reset", "button", NULL};
  const char *ty = input_type(el);
  for (const char *const *t = no_required; *t; t++)
    if (strcmp(*t, ty) == 0) return false;
  return true;
}

static bool is_optional(const GumboNode *el) {
  if (!is_html(el)) return false;
  GumboTag tag = el->v.element.tag;
  bool control = tag == GUMBO_TAG_INPUT || tag == GUMBO_TAG_SELECT || tag == GUMBO_TAG_TEXTAREA || tag == GUMBO_TAG_BUTTON;
  return control && !is_required(el);
}

static bool type_in(const char *ty, const char *const *list) {
  for (; *list; list++)
    if (strcmp(*list, ty) == 0) return true;
  return false;
}

static bool is_read_write(const GumboNode *el, mctx *m) {
  if (!is_html(el)) return false;
  GumboTag tag = el->v.element.tag;
  if (tag == GUMBO_TAG_INPUT) {
    static const char *const editable[] = {"text", "search", "url", "tel", "email", "password", "date", "month",
                                           "week", "time", "datetime-local", "number", NULL};
    return type_in(input_type(el), editable) && !has_attr(el, "readonly") && disabled_state(el, m) != 1;
  }
  if (tag == GUMBO_TAG_TEXTAREA) return !has_attr(el, "readonly") && disabled_state(el, m) != 1;
  static const char *const ce_on[] = {"", "true", "plaintext-only", NULL};
  static const char *const ce_off[] = {"false", NULL};
  for (const GumboNode *e = el; e && spend(m); e = dom_parent_element(e)) {
    if (!is_html(e)) return false;
    if (attr_ci_keyword(e, "contenteditable", ce_on)) return true;
    if (attr_ci_keyword(e, "contenteditable", ce_off)) return false;
  }
  return false;
}

/* Is the value a valid floating-point number (HTML)? */
static bool valid_float(const char *v) {
  if (*v == '-') v++;
  bool digits = false;
  while (*v >= '0' && *v <= '9') v++, digits = true;
  if (*v == '.') {
    v++;
    bool frac = false;
    while (*v >= '0' && *v <= '9') v++, frac = true;
    if (!frac) return false;
    digits = true;
  }
  if (!digits) return false;
  if (*v == 'e' || *v == 'E') {
    v++;
    if (*v == '+' || *v == '-') v++;
    if (!(*v >= '0' && *v <= '9')) return false;
    while (*v >= '0' && *v <= '9') v++;
  }
  return *v == '\0';
}

static bool placeholder_shown(const GumboNode *el) {
  if (!is_html(el) || !has_attr(el, "placeholder")) return false;
  if (el->v.element.tag == GUMBO_TAG_TEXTAREA) {
    const GumboVector *kids = dom_children(el);
    for (size_t i = 0; i < kids->length; i++) {
      const GumboNode *k = kids->data[i];
      if (dom_is_text(k) && k->v.text.text[0]) return false;
    }
    return true;
  }
  if (el->v.element.tag != GUMBO_TAG_INPUT) return false;
  static const char *const kinds[] = {"text", "search", "url", "tel", "email", "password", "number", NULL};
  const char *ty = input_type(el);
  if (!type_in(ty, kinds)) return false;
  const char *v = attr(el, "value");
  if (!v) return true;
  if (strcmp(ty, "number") == 0) return !valid_float(v);
  /* value sanitization strips line breaks (and, for url/email, surrounding whitespace) */
  bool trim = strcmp(ty, "url") == 0 || strcmp(ty, "email") == 0;
  for (; *v; v++)
    if (*v != '\n' && *v != '\r' && !(trim && ascii_ws(*v))) return false;
  return true;
}

static bool is_link(const GumboNode *el) {
  GumboTag tag = el->v.element.tag;
  GumboNamespaceEnum ns = el->v.element.tag_namespace;
  if (ns == GUMBO_NAMESPACE_HTML) return (tag == GUMBO_TAG_A || tag == GUMBO_TAG_AREA) && has_attr(el, "href");
  if (ns != GUMBO_NAMESPACE_SVG || tag != GUMBO_TAG_A) return false;
  const GumboVector *attrs = &el->v.element.attributes;
  for (size_t i = 0; i < attrs->length; i++) {
    const GumboAttribute *a = attrs->data[i];
    if (strcmp(a->name, "href") == 0 &&
        (a->attr_namespace == GUMBO_ATTR_NAMESPACE_NONE || a->attr_namespace == GUMBO_ATTR_NAMESPACE_XLINK))
      return true;
  }
  return false;
}

/* HTML's "valid custom element name" (for names the parser produced). */
static bool custom_element_name(const char *name) {
  static const char *const reserved[] = {"annotation-xml", "color-profile", "font-face", "font-face-src",
                                         "font-face-uri", "font-face-format", "font-face-name", "missing-glyph", NULL};
  if (!(name[0] >= 'a' && name[0] <= 'z') || !strchr(name, '-') || type_in(name, reserved)) return false;
  size_t len = strlen(name);
  const unsigned char *s = (const unsigned char *)name;
  for (size_t i = 0; i < len;) {
    uint32_t c = utf8_next(s, len, &i);
    bool ok = c == '-' || c == '.' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == 0xB7 ||
              (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x37D) ||
              (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) || (c >= 0x203F && c <= 0x2040) ||
              (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
              (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
    if (!ok) return false;
  }
  return true;
}

static bool is_defined(const GumboNode *el) {
  if (!is_html(el)) return true;
  return !custom_element_name(dom_tag_name(el)) && !has_attr(el, "is");
}

static bool is_submit_button(const GumboNode *el) {
  if (!is_html(el)) return false;
  if (el->v.element.tag == GUMBO_TAG_INPUT) {
    const char *ty = input_type(el);
    return strcmp(ty, "submit") == 0 || strcmp(ty, "image") == 0;
  }
  if (el->v.element.tag != GUMBO_TAG_BUTTON) return false;
  static const char *const other[] = {"reset", "button", NULL};
  return attr_ci_keyword(el, "type", other) == NULL;
}

static bool is_default(const GumboNode *el, mctx *m) {
  if (!is_html(el)) return false;
  if (is_input(el, "checkbox") || is_input(el, "radio")) return has_attr(el, "checked");
  if (el->v.element.tag == GUMBO_TAG_OPTION) return has_attr(el, "selected");
  if (!is_submit_button(el)) return false;
  const GumboNode *owner = form_owner(el, m);
  if (!owner) return false;
  const GumboNode *doc = doc_of(el);
  for (GumboNode *x = dom_next_element(doc, doc); x && x != el && spend(m); x = dom_next_element(x, doc))
    if (is_submit_button(x) && form_owner(x, m) == owner) return false;
  return true;
}

static bool is_indeterminate(const GumboNode *el, mctx *m) {
  if (is_input(el, "radio")) return !radio_group_has_checked(el, m);
  return html_is(el, GUMBO_TAG_PROGRESS) && !has_attr(el, "value");
}

/* ---- :dir() ---------------------------------------------------------------- */

/* Bidi class of a code point, reduced to what directionality needs. */
static enum dir strong_dir(uint32_t c) {
  if ((c >= 0x0590 && c <= 0x08FF) || (c >= 0xFB1D && c <= 0xFDFF) || (c >= 0xFE70 && c <= 0xFEFF) ||
      (c >= 0x10800 && c <= 0x10FFF) || (c >= 0x1E800 && c <= 0x1EFFF)) {
    /* Arabic-Indic digits and marks are not strong */
    if ((c >= 0x0591 && c <= 0x05BD) || (c >= 0x0610 && c <= 0x061A) || (c >= 0x064B && c <= 0x066C) ||
        (c >= 0x06D6 && c <= 0x06ED) || (c >= 0x06F0 && c <= 0x06F9))
      return DIR_NONE;
    return DIR_RTL;
  }
  if (is_letter(c) || c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c <= 0x2B8 && c != 0xD7 && c != 0xF7) ||
      (c >= 0x370 && c <= 0x58F && !(c >= 0x374 && c <= 0x375) && c != 0x37E && c != 0x384 && c != 0x385 &&
       c != 0x387) ||
      (c >= 0x900 && c <= 0x1FFF) || (c >= 0x2C00 && c <= 0x2DFF) || (c >= 0x3040 && c <= 0xD7FF) ||
      (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF21 && c <= 0xFF3A) || (c >= 0xFF41 && c <= 0xFF5A) ||
      (c >= 0x10000 && c <= 0x107FF) || (c >= 0x11000 && c <= 0x1E7FF) || (c >= 0x20000 && c <= 0x3FFFF))
    return DIR_LTR;
  return DIR_NONE;
}

static enum dir text_dir(const char *s) {
  size_t len = strlen(s);
  for (size_t i = 0; i < len;) {
    enum dir d = strong_dir(utf8_next((const unsigned char *)s, len, &i));
    if (d != DIR_NONE) return d;
  }
  return DIR_NONE;
}

static enum dir dir_attr(const GumboNode *el, bool *is_auto) {
  static const char *const keys[] = {"ltr", "rtl", "auto", NULL};
  const char *k = is_html(el) ? attr_ci_keyword(el, "dir", keys) : NULL;
  *is_auto = k && k[0] == 'a';
  return !k || *is_auto ? DIR_NONE : k[0] == 'l' ? DIR_LTR : DIR_RTL;
}

/* Pre-order successor within root's subtree; `enter` says whether n's
 * children may be visited. */
static const GumboNode *next_node(const GumboNode *n, const GumboNode *root, bool enter) {
  const GumboVector *kids = enter && n->type == GUMBO_NODE_ELEMENT ? dom_children(n) : NULL;
  if (kids && kids->length) return kids->data[0];
  while (n != root) {
    const GumboNode *p = n->parent;
    const GumboVector *sib = dom_children(p);
    if (n->index_within_parent + 1 < sib->length) return sib->data[n->index_within_parent + 1];
    n = p;
  }
  return NULL;
}

/* The "auto" directionality of an element's contents: its first strong
 * character, else ltr (Chromium does not fall back to the parent). */
static enum dir auto_dir(const GumboNode *el, mctx *m) {
  static const char *const text_inputs[] = {"text", "search", "tel", "url", "email", NULL};
  if (html_is(el, GUMBO_TAG_INPUT) && type_in(input_type(el), text_inputs)) {
    const char *v = attr(el, "value");
    enum dir d = v ? text_dir(v) : DIR_NONE;
    return d == DIR_NONE ? DIR_LTR : d;
  }
  if (html_is(el, GUMBO_TAG_TEXTAREA)) {
    const GumboVector *kids = dom_children(el);
    for (size_t i = 0; i < kids->length; i++) {
      const GumboNode *k = kids->data[i];
      enum dir d = dom_is_text(k) ? text_dir(k->v.text.text) : DIR_NONE;
      if (d != DIR_NONE) return d;
    }
    return DIR_LTR;
  }
  const GumboNode *n = next_node(el, el, true);
  while (n && spend(m)) {
    bool enter = true;
    if (dom_is_text(n)) {
      enum dir d = text_dir(n->v.text.text);
      if (d != DIR_NONE) return d;
    } else if (n->type == GUMBO_NODE_ELEMENT) {
      bool is_auto;
      GumboTag t = n->v.element.tag;
      bool skip_tag = is_html(n) && (t == GUMBO_TAG_BDI || t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE ||
                                     t == GUMBO_TAG_TEXTAREA);
      if (skip_tag || dir_attr(n, &is_auto) != DIR_NONE || is_auto) enter = false;
    }
    n = next_node(n, el, enter);
  }
  return DIR_LTR;
}

static enum dir directionality(const GumboNode *el, mctx *m) {
  for (const GumboNode *e = el; e && spend(m); e = dom_parent_element(e)) {
    if (!is_html(e)) continue;
    bool is_auto;
    enum dir d = dir_attr(e, &is_auto);
    if (d != DIR_NONE) return d;
    if (is_auto || html_is(e, GUMBO_TAG_BDI)) return auto_dir(e, m);
    if (is_input(e, "tel")) {
      return DIR_LTR;
    }
  }
  return DIR_LTR;
}

/* ---- :lang() ----------------------------------------------------------------- */

static const char *element_lang(const GumboNode *el, mctx *m) {
  for (const GumboNode *e = el; e && spend(m); e = dom_parent_element(e)) {
    const GumboVector *attrs = &e->v.element.attributes;
    const char *plain = NULL;
    for (size_t i = 0; i < attrs->length; i++) {
      const GumboAttribute *a = attrs->data[i];
      if (strcmp(a->name, "lang") != 0) continue;
      if (a->attr_namespace == GUMBO_ATTR_NAMESPACE_XML) return a->value; /* xml:lang wins */
      if (a->attr_namespace == GUMBO_ATTR_NAMESPACE_NONE) plain = a->value;
    }
    if (plain) return plain;
  }
  return NULL;
}

static bool lang_matches(const GumboNode *el, const char *range, mctx *m) {
  const char *v = element_lang(el, m);
  if (!v) return false;
  size_t n = strlen(range);
  return strlen(v) >= n && bytes_eq(v, range, n, true) && (v[n] == '\0' || v[n] == '-');
}

/* ---- matching: simple selectors --------------------------------------------- */

static bool attr_value_matches(const simple *s, const char *v, bool ci) {
  size_t vl = strlen(v), n = s->vlen;
  const char *w = s->value;
  switch (s->op) {
    case A_EQ: return vl == n && bytes_eq(v, w, n, ci);
    case A_DASH: return vl >= n && bytes_eq(v, w, n, ci) && (vl == n || v[n] == '-');
    case A_PREFIX: return n && vl >= n && bytes_eq(v, w, n, ci);
    case A_SUFFIX: return n && vl >= n && bytes_eq(v + vl - n, w, n, ci);
    case A_SUBSTR:
      if (!n) return false;
      for (size_t i = 0; i + n <= vl; i++)
        if (bytes_eq(v + i, w, n, ci)) return true;
      return false;
    case A_INCLUDES:
      if (!n) return false;
      for (size_t i = 0; i < n; i++)
        if (ascii_ws(w[i])) return false;
      for (size_t i = 0; i < vl;) {
        while (i < vl && ascii_ws(v[i])) i++;
        size_t st = i;
        while (i < vl && !ascii_ws(v[i])) i++;
        if (i - st == n && bytes_eq(v + st, w, n, ci)) return true;
      }
      return false;
    default: return true;
  }
}

static bool attr_matches(const simple *s, const GumboNode *el) {
  const GumboVector *attrs = &el->v.element.attributes;
  bool ci = s->acase == AC_I || (s->acase == AC_DEFAULT && s->legacy_ci && is_html(el));
  for (size_t i = 0; i < attrs->length; i++) {
    const GumboAttribute *a = attrs->data[i];
    if (!s->any_ns && a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE) continue;
    /* Chromium lower-cases attribute selectors in HTML documents and
     * compares foreign (camelCase) attribute names case-insensitively */
    if (!ascii_ieq(a->name, s->name)) continue;
    if (s->op == A_EXISTS || attr_value_matches(s, a->value, ci)) return true;
  }
  return false;
}

static bool class_matches(const simple *s, const GumboNode *el, mctx *m) {
  const char *v = attr(el, "class");
  if (!v) return false;
  size_t n = strlen(s->name);
  bool ci = quirks(el, m);
  for (const char *p = v; *p;) {
    while (*p && ascii_ws(*p)) p++;
    const char *st = p;
    while (*p && !ascii_ws(*p)) p++;
    if ((size_t)(p - st) == n && n && bytes_eq(st, s->name, n, ci)) return true;
  }
  return false;
}

static bool id_matches(const simple *s, const GumboNode *el, mctx *m) {
  const char *v = attr(el, "id");
  if (!v) return false;
  size_t n = strlen(s->name);
  return strlen(v) == n && bytes_eq(v, s->name, n, quirks(el, m));
}

static bool same_type(const GumboNode *a, const GumboNode *b) {
  const GumboElement *x = &a->v.element, *y = &b->v.element;
  if (x->tag != y->tag || x->tag_namespace != y->tag_namespace) return false;
  return x->tag != GUMBO_TAG_UNKNOWN || strcmp(dom_tag_name(a), dom_tag_name(b)) == 0;
}

/* Is sibling x counted by this :nth-*() for element el? */
static bool nth_counts(const simple *s, const GumboNode *x, const GumboNode *el, mctx *m) {
  if (s->of_type) return same_type(x, el);
  return !s->sub || list_matches(s->sub, x, m);
}

/* el's 1-based position among the counted siblings, from the start or the
 * end. A small cache keeps document-order scans over wide parents linear. */
static size_t nth_position(const simple *s, const GumboNode *el, bool from_end, mctx *m) {
  const GumboNode *parent = el->parent;
  nth_slot *slot = NULL;
  for (unsigned k = 0; k < NTH_SLOTS; k++) {
    nth_slot *c = &m->nth[k];
    if (c->s == s && c->parent == parent && (!s->of_type || same_type(c->el, el))) { slot = c; break; }
  }
  size_t idx;
  if (slot && slot->el->index_within_parent <= el->index_within_parent) {
    idx = slot->idx;
    for (const GumboNode *x = slot->el; x != el;) {
      x = dom_next_element_sibling(x);
      if (nth_counts(s, x, el, m)) idx++;
    }
  } else {
    idx = 1;
    for (const GumboNode *x = dom_prev_element_sibling(el); x; x = dom_prev_element_sibling(x))
      if (nth_counts(s, x, el, m)) idx++;
    if (!slot) {
      slot = &m->nth[m->nth_next++ % NTH_SLOTS];
      slot->total = 0;
    }
  }
  if (slot->s != s || slot->parent != parent || (s->of_type && !same_type(slot->el, el))) slot->total = 0;
  slot->s = s;
  slot->parent = parent;
  slot->el = el;
  slot->idx = idx;
  if (!from_end) return idx;
  if (!slot->total) {
    size_t total = idx;
    for (const GumboNode *x = dom_next_element_sibling(el); x; x = dom_next_element_sibling(x))
      if (nth_counts(s, x, el, m)) total++;
    slot->total = total;
  }
  return slot->total - idx + 1;
}

static bool anb_matches(int a, int b, size_t pos) {
  /* Chromium gives up on values this large: they never match */
  if (a > INT_MAX / 2 || a < INT_MIN / 2 || b > INT_MAX / 2 || b < INT_MIN / 2 || pos > INT_MAX / 2) return false;
  long long d = (long long)pos - b;
  if (a == 0) return d == 0;
  return d % a == 0 && d / a >= 0;
}

static bool nth_matches(const simple *s, const GumboNode *el, mctx *m) {
  if (s->sub && !list_matches(s->sub, el, m)) return false;
  return anb_matches(s->a, s->b, nth_position(s, el, s->last, m));
}

static bool is_empty(const GumboNode *el) {
  if (el->type == GUMBO_NODE_TEMPLATE) return true; /* its children are its contents, not in the tree */
  const GumboVector *kids = dom_children(el);
  for (size_t i = 0; i < kids->length; i++)
    if (((const GumboNode *)kids->data[i])->type != GUMBO_NODE_COMMENT) return false;
  return true;
}

static const GumboNode *first_child_element(const GumboNode *el) {
  if (el->type == GUMBO_NODE_TEMPLATE) return NULL;
  const GumboVector *kids = dom_children(el);
  for (size_t i = 0; i < kids->length; i++)
    if (dom_is_element(kids->data[i])) return kids->data[i];
  return NULL;
}

/* :has(): each relative selector is tried on the elements its leading
 * combinator can reach from el, with el as the anchor. */
static bool has_matches(const sel_list *l, const GumboNode *el, mctx *m) {
  const GumboNode *saved = m->anchor;
  bool found = false;
  m->anchor = el;
  /* Each loop stops when the budget is out too (m->steps): every match
   * fails then, but the walks would still visit every node. */
  for (size_t i = 0; i < l->n && !found && m->steps; i++) {
    const cplx *r = &l->items[i];
    const GumboNode *x;
    switch (r->has_walk) {
      case HW_CHILDREN:
        for (x = first_child_element(el); x && !found && m->steps; x = dom_next_element_sibling(x))
          found = cplx_matches(r, x, m);
        break;
      case HW_DESCENDANTS:
        for (x = dom_next_element(el, el); x && !found && m->steps; x = dom_next_element(x, el))
          found = cplx_matches(r, x, m);
        break;
      case HW_NEXT:
        x = dom_next_element_sibling(el);
        found = x && cplx_matches(r, x, m);
        break;
      case HW_SIBLINGS:
        for (x = dom_next_element_sibling(el); x && !found && m->steps; x = dom_next_element_sibling(x))
          found = cplx_matches(r, x, m);
        break;
      default: /* HW_SIBLING_TREES: later siblings and everything inside them */
        for (const GumboNode *sib = dom_next_element_sibling(el); sib && !found && m->steps;
             sib = dom_next_element_sibling(sib)) {
          found = cplx_matches(r, sib, m);
          for (x = dom_next_element(sib, sib); x && !found && m->steps; x = dom_next_element(x, sib))
            found = cplx_matches(r, x, m);
        }
        break;
    }
  }
  m->anchor = saved;
  return found;
}

static bool simple_matches(const simple *s, const GumboNode *el, mctx *m) {
  switch (s->kind) {
    case K_FALSE: return false;
    case K_ID: return id_matches(s, el, m);
    case K_CLASS: return class_matches(s, el, m);
    case K_ATTR: return attr_matches(s, el);
    case K_ROOT: return el->parent && el->parent->type == GUMBO_NODE_DOCUMENT;
    case K_SCOPE: return el == scope_of(el, m);
    case K_EMPTY: return is_empty(el);
    case K_FIRST_CHILD: return !dom_prev_element_sibling(el);
    case K_LAST_CHILD: return !dom_next_element_sibling(el);
    case K_ONLY_CHILD: return !dom_prev_element_sibling(el) && !dom_next_element_sibling(el);
    case K_LINK: return is_link(el);
    case K_OPEN:
      /* Gumbo 0.10.1 predates <dialog>: it is an unknown tag there */
      return (html_is(el, GUMBO_TAG_DETAILS) || (html_is(el, GUMBO_TAG_UNKNOWN) && strcmp(dom_tag_name(el), "dialog") == 0)) &&
             has_attr(el, "open");
    case K_DEFINED: return is_defined(el);
    case K_CHECKED:
      if (is_input(el, "checkbox")) return has_attr(el, "checked");
      if (is_input(el, "radio")) return radio_checked(el, m);
      return html_is(el, GUMBO_TAG_OPTION) && option_selected(el, m);
    case K_DISABLED: return disabled_state(el, m) == 1;
    case K_ENABLED: return disabled_state(el, m) == 0;
    case K_REQUIRED: return is_required(el);
    case K_OPTIONAL: return is_optional(el);
    case K_READ_WRITE: return is_read_write(el, m);
    case K_READ_ONLY: return is_html(el) && !is_read_write(el, m);
    case K_PLACEHOLDER: return placeholder_shown(el);
    case K_DEFAULT: return is_default(el, m);
    case K_INDETERMINATE: return is_indeterminate(el, m);
    case K_LANG: return lang_matches(el, s->name, m);
    case K_DIR: return s->dir != DIR_NONE && directionality(el, m) == s->dir;
    case K_NTH: return nth_matches(s, el, m);
    case K_ONLY_OF_TYPE: return nth_position(s, el, false, m) == 1 && nth_position(s, el, true, m) == 1;
    case K_IS: return list_matches(s->sub, el, m);
    case K_NOT: return !list_matches(s->sub, el, m);
    default: return has_matches(s->sub, el, m); /* K_HAS */
  }
}

static bool compound_matches(const compound *c, const GumboNode *el, mctx *m) {
  if (!spend(m)) return false;
  if (c->anchor) return el == m->anchor;
  if (c->never) return false;
  if (c->tag != GUMBO_TAG_LAST) {
    GumboTag tag = el->v.element.tag;
    if (tag != c->tag) return false;
    /* Chromium compares type selectors ASCII-case-insensitively in HTML
     * documents, foreign (camelCase) elements included */
    if (tag == GUMBO_TAG_UNKNOWN && !ascii_ieq(dom_tag_name(el), c->name)) return false;
  }
  for (size_t i = 0; i < c->ns; i++)
    if (!simple_matches(&c->s[i], el, m)) return false;
  return true;
}

/* ---- matching: complex selectors ---------------------------------------------
 * Right to left with backtracking over the compounds (never over the tree's
 * depth). A failure says how far it reaches, as in browsers: one that fails
 * for every ancestor (or every earlier sibling) ends the enclosing loops
 * early, which keeps chains like "a b c d" linear in the depth. */

enum { F_LOCAL, F_SIBLINGS, F_ALL };

static const GumboNode *step(uint8_t comb, const GumboNode *e) {
  return comb == C_DESC || comb == C_CHILD ? dom_parent_element(e) : dom_prev_element_sibling(e);
}

static bool cplx_matches(const cplx *cx, const GumboNode *el, mctx *m) {
  const GumboNode *e[SEL_MAX_COMPOUNDS];
  if (!compound_matches(&cx->c[0], el, m)) return false;
  e[0] = el;
  size_t k = 0;                 /* c[0..k] are matched by e[0..k] */
  const GumboNode *cand = NULL;
  bool resume = false;          /* continue level k's loop from cand instead of starting it */
  for (;;) {
    if (k + 1 == cx->n) return true;
    uint8_t comb = cx->c[k].comb;
    if (!resume) cand = step(comb, e[k]);
    resume = false;
    int fail;
    for (;;) {
      if (!cand) { fail = comb == C_DESC || comb == C_CHILD ? F_ALL : F_SIBLINGS; break; }
      if (compound_matches(&cx->c[k + 1], cand, m)) { fail = -1; break; }
      if (comb == C_CHILD || comb == C_ADJ) { fail = F_LOCAL; break; }
      cand = step(comb, cand);
    }
    if (fail < 0) {
      e[++k] = cand;
      continue;
    }
    /* unwind to the nearest loop that this failure does not rule out */
    for (;;) {
      if (k == 0) return false;
      k--;
      uint8_t c = cx->c[k].comb;
      if (c == C_DESC && fail != F_ALL) break;
      if (c == C_SIB && fail == F_LOCAL) break;
    }
    cand = step(cx->c[k].comb, e[k + 1]);
    resume = true;
  }
}

static bool list_matches(const sel_list *l, const GumboNode *el, mctx *m) {
  for (size_t i = 0; i < l->n; i++)
    if (cplx_matches(&l->items[i], el, m)) return true;
  return false;
}

static void mctx_init(mctx *m, const GumboNode *scope, const sel_budget *budget) {
  memset(m, 0, sizeof *m);
  m->scope = scope && dom_is_element(scope) ? scope : NULL;
  m->quirks = -1;
  m->steps = budget ? budget->steps : UINT64_MAX;
  if (budget) {
    m->stop = budget->stop;
    m->stop_ud = budget->ud;
  }
}

bool sel_matches(const sel_list *s, const GumboNode *el, const GumboNode *scope, sel_budget *budget) {
  if (!s || !el || !dom_is_element(el)) return false;
  mctx m;
  mctx_init(&m, scope, budget);
  bool yes = list_matches(s, el, &m);
  if (budget) budget->steps = m.steps;
  return yes;
}

size_t sel_select(const sel_list *s, const GumboNode *root, bool (*found)(GumboNode *el, void *ud), void *ud,
                  sel_budget *budget) {
  if (!s || !root) return 0;
  mctx m;
  mctx_init(&m, root, budget);
  size_t n = 0;
  for (GumboNode *x = dom_next_element(root, root); x && m.steps; x = dom_next_element(x, root)) {
    if (!list_matches(s, x, &m)) continue;
    n++;
    if (!found(x, ud)) break;
  }
  if (budget) budget->steps = m.steps;
  return n;
}
