/* sitemap.c — sitemap <loc> extraction (see sitemap.h). A single forward
 * scan: markup that cannot hold a URL (declarations, processing
 * instructions, comments) is skipped whole, quoted attribute values are
 * stepped over so a '>' inside them does not end a tag, and only element
 * depth and local names are tracked. A URL is a <loc> at depth 3 whose
 * parent is <url> under <urlset> or <sitemap> under <sitemapindex>. */
#include "sitemap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct sitemap {
  sitemap_kind kind;
  buf text;       /* the URLs, each NUL-terminated */
  size_t *locs;   /* offsets in text */
  size_t n_locs, cap_locs;
};

/* The index of the first occurrence of needle at or after i, or len. */
static size_t sitemap_find(const char *s, size_t i, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (; i + n <= len; i++)
    if (memcmp(s + i, needle, n) == 0) return i;
  return len;
}

static bool sitemap_starts(const char *s, size_t i, size_t len, const char *prefix) {
  size_t n = strlen(prefix);
  return len - i >= n && memcmp(s + i, prefix, n) == 0;
}

static bool sitemap_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void sitemap_utf8(unsigned long cp, buf *out) {
  char b[4];
  size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  static const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
  for (size_t k = n; k-- > 1; cp >>= 6) b[k] = (char)(0x80 | (cp & 0x3F));
  b[0] = (char)(lead[n] | cp);
  buf_append(out, b, n);
}

/* Decodes the reference at s[0..n) (between '&' and ';'); false if it is
 * not one XML predefines or a valid character number. */
static bool sitemap_entity(const char *s, size_t n, buf *out) {
  static const char *const names[] = {"amp", "lt", "gt", "quot", "apos"};
  static const char chars[] = "&<>\"'";
  for (int k = 0; k < 5; k++)
    if (strlen(names[k]) == n && memcmp(s, names[k], n) == 0) { buf_putc(out, chars[k]); return true; }
  if (n < 2 || s[0] != '#') return false;
  bool hex = s[1] == 'x' || s[1] == 'X';
  size_t i = hex ? 2 : 1;
  if (i == n) return false;
  unsigned long cp = 0;
  for (; i < n; i++) {
    int d = s[i] >= '0' && s[i] <= '9' ? s[i] - '0'
          : hex && s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
          : hex && s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10 : -1;
    if (d < 0) return false;
    cp = cp * (hex ? 16 : 10) + (unsigned long)d;
    if (cp > 0x10FFFF) return false;
  }
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  sitemap_utf8(cp, out);
  return true;
}

/* Appends character data with references decoded; one that is not
 * understood is kept as written. */
static void sitemap_text(const char *s, size_t n, buf *out) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '&') {
      const char *semi = memchr(s + i + 1, ';', n - i - 1);
      /* Real references are short; a stray '&' must not swallow the text. */
      if (semi && semi - (s + i) <= 12 && sitemap_entity(s + i + 1, (size_t)(semi - (s + i) - 1), out)) {
        i = (size_t)(semi - s);
        continue;
      }
    }
    buf_putc(out, s[i]);
  }
}

/* The end of the tag starting at s[i] == '<': the index after its '>', or
 * len. Quoted attribute values may hold '>'. */
static size_t sitemap_tag_end(const char *s, size_t i, size_t len) {
  char quote = 0;
  for (; i < len; i++) {
    if (quote) { if (s[i] == quote) quote = 0; }
    else if (s[i] == '"' || s[i] == '\'') quote = s[i];
    else if (s[i] == '>') return i + 1;
  }
  return len;
}

/* <!DOCTYPE ...> may carry an internal subset in brackets with '>' inside. */
static size_t sitemap_decl_end(const char *s, size_t i, size_t len) {
  int brackets = 0;
  char quote = 0;
  for (; i < len; i++) {
    if (quote) { if (s[i] == quote) quote = 0; }
    else if (s[i] == '"' || s[i] == '\'') quote = s[i];
    else if (s[i] == '[') brackets++;
    else if (s[i] == ']' && brackets) brackets--;
    else if (s[i] == '>' && !brackets) return i + 1;
  }
  return len;
}

static bool sitemap_is(const char *name, size_t n, const char *want) {
  return strlen(want) == n && memcmp(name, want, n) == 0;
}

static void sitemap_add(sitemap *sm, buf *loc) {
  size_t a = 0, b = loc->len;
  while (a < b && sitemap_space(loc->data[a])) a++;
  while (b > a && sitemap_space(loc->data[b - 1])) b--;
  if (a == b) return;
  if (sm->n_locs == sm->cap_locs) {
    size_t cap = sm->cap_locs ? sm->cap_locs * 2 : 64;
    size_t *p = realloc(sm->locs, cap * sizeof *p);
    if (!p) { sm->text.failed = true; return; }
    sm->locs = p;
    sm->cap_locs = cap;
  }
  sm->locs[sm->n_locs++] = sm->text.len;
  buf_append(&sm->text, loc->data + a, b - a);
  buf_putc(&sm->text, '\0');
}

sitemap *sitemap_parse(const char *body, size_t len) {
  sitemap *sm = calloc(1, sizeof *sm);
  if (!sm) return NULL;
  buf loc = BUF_INIT;
  int depth = 0;
  bool in_parent = false;  /* inside a <url> or <sitemap> child of the root */
  bool in_loc = false;
  for (size_t i = 0; i < len;) {
    if (body[i] != '<') {
      const char *lt = memchr(body + i, '<', len - i);
      size_t j = lt ? (size_t)(lt - body) : len;
      if (in_loc) sitemap_text(body + i, j - i, &loc);
      i = j;
    } else if (sitemap_starts(body, i, len, "<!--")) {
      i = sitemap_find(body, i + 4, len, "-->") + 3;
    } else if (sitemap_starts(body, i, len, "<![CDATA[")) {
      size_t end = sitemap_find(body, i + 9, len, "]]>");
      if (in_loc) buf_append(&loc, body + i + 9, end - i - 9);
      i = end + 3;
    } else if (sitemap_starts(body, i, len, "<?")) {
      i = sitemap_find(body, i + 2, len, "?>") + 2;
    } else if (sitemap_starts(body, i, len, "<!")) {
      i = sitemap_decl_end(body, i, len);
    } else if (sitemap_starts(body, i, len, "</")) {
      i = sitemap_tag_end(body, i, len);
      if (in_loc && depth == 3) {
        sitemap_add(sm, &loc);
        in_loc = false;
      }
      if (depth == 2) in_parent = false;
      /* A stray end tag before the root is ignored; once the root closes,
       * anything after it is not ours. */
      if (depth > 0 && --depth == 0) break;
    } else {
      size_t end = sitemap_tag_end(body, i, len);
      const char *name = body + i + 1;
      size_t n = 0;
      while (i + 1 + n < end && !sitemap_space(name[n]) && name[n] != '/' && name[n] != '>') n++;
      const char *colon = memchr(name, ':', n);
      if (colon) {
        n -= (size_t)(colon + 1 - name);
        name = colon + 1;
      }
      bool empty = end - i >= 2 && body[end - 2] == '/' && body[end - 1] == '>';
      i = end;
      if (depth == 0) {
        sm->kind = sitemap_is(name, n, "urlset") ? SITEMAP_URLSET
                 : sitemap_is(name, n, "sitemapindex") ? SITEMAP_INDEX : SITEMAP_UNKNOWN;
        if (sm->kind == SITEMAP_UNKNOWN || empty) break;
      } else if (depth == 1) {
        in_parent = !empty && sitemap_is(name, n, sm->kind == SITEMAP_URLSET ? "url" : "sitemap");
      } else if (depth == 2 && in_parent && !empty && sitemap_is(name, n, "loc")) {
        in_loc = true;
        buf_reset(&loc);
      }
      if (!empty) depth++;
    }
  }
  bool failed = sm->text.failed || loc.failed;
  buf_free(&loc);
  if (failed) {
    sitemap_free(sm);
    return NULL;
  }
  return sm;
}

void sitemap_free(sitemap *sm) {
  if (!sm) return;
  buf_free(&sm->text);
  free(sm->locs);
  free(sm);
}

sitemap_kind sitemap_type(const sitemap *sm) { return sm->kind; }

size_t sitemap_count(const sitemap *sm) { return sm->n_locs; }

const char *sitemap_loc(const sitemap *sm, size_t i) {
  return i < sm->n_locs ? sm->text.data + sm->locs[i] : NULL;
}
