/* The parse fast path (prescan.c, dom.c): where the prescan finds bodies and
 * how deep it counts, the placeholder and normalization helpers, and the
 * differential check (fast path against a full parse, identical trees) on
 * hand-written adversarial documents, on wrong proposals that must fall
 * back, on the Coins2Day snapshot, on the fuzzer's regression inputs and
 * from several threads at once. The htmlparser-benchmark pages are in
 * test_prescan_corpus.c. */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "check.h"
#include "../fuzz/prescan_check.h"

/* ---- what the prescan finds --------------------------------------------------- */

/* "kind:body|kind:body" for every body found (however short). */
static char *bodies_of(const char *html) {
  prescan_result r;
  prescan_scan(html, strlen(html), 1000, 1, &r);
  buf b = BUF_INIT;
  for (size_t i = 0; i < r.n; i++) {
    if (i) buf_putc(&b, '|');
    buf_puts(&b, r.bodies[i].kind == PRESCAN_SCRIPT ? "script:" : "style:");
    buf_append(&b, html + r.bodies[i].start, r.bodies[i].len);
  }
  prescan_free(&r);
  char *s = strdup(buf_str(&b));
  buf_free(&b);
  return s;
}

#define BODIES(html, want) \
  do { \
    char *bodies_ = bodies_of(html); \
    CHECK_STR(bodies_, want); \
    free(bodies_); \
  } while (0)

static void test_bodies(void) {
  BODIES("<script>abc</script>", "script:abc");
  BODIES("<sCrIpT type=x>a</ScRiPt >b", "script:a");
  BODIES("<script>a</script/x>", "script:a");
  BODIES("<script>a</scriptx>b</script\t>", "script:a</scriptx>b");
  BODIES("<script>a</script\f>", "script:a");
  BODIES("<script>a</script\r>", "script:a");
  BODIES("<script>a</ script>b</script>", "script:a</ script>b");
  BODIES("<script>a</style></script>", "script:a</style>");
  BODIES("<style>a</script></style>", "style:a</script>");
  BODIES("<script>a</script", "script:a</script");
  BODIES("<script>unterminated", "script:unterminated");
  BODIES("<script>", "");
  BODIES("<script/>x</script>", "script:x");
  BODIES("<script a=1/>b</script>", "script:b");
  BODIES("<script a='1'/>b</script>", "script:b");
  BODIES("<script\nsrc=x\n>a</script>", "script:a");
  BODIES("<script data-x=\"a>b\" c='</script>'>body</script>", "script:body");
  BODIES("<scripts>x</scripts>", "");
  BODIES("< script>x</script>", "");
  BODIES("<style>s</style><script>t</script>", "style:s|script:t");

  /* Scripts that enter the escaped states stay in place; the scan still
   * finds where they end. */
  BODIES("<script>a<!--b</script>", "");
  BODIES("<script><!-- x --></script><script>y</script>", "script:y");
  BODIES("<script><!--<script></script>still</script><script>z</script>", "script:z");
  BODIES("<script><!--<script>--></script><script>z</script>", "script:z");
  BODIES("<script><!--<SCRIPT/></script ><!-- x</script ><script>z</script>", "script:z");
  BODIES("<script>a<!-b</script>", "script:a<!-b");

  /* Markup that only looks like a script. */
  BODIES("<a title='<script>x</script>'>t</a>", "");
  BODIES("<a title=<script>x</script>", "");
  BODIES("<a b'c=<script>x</script>", "");
  BODIES("<!-- <script>x</script> -->", "");
  BODIES("<!-- <!-- --><script>x</script>", "script:x");
  BODIES("<!--><script>x</script>", "script:x");
  BODIES("<!---><script>x</script>", "script:x");
  BODIES("<!-- a --!><script>x</script>", "script:x");
  BODIES("<!-- a --!-><script>x</script> -->", "");
  BODIES("<!DOCTYPE html PUBLIC \"a>b\"><script>x</script>", "script:x");
  BODIES("<?xml version='1.0'?><script>x</script>", "script:x");
  BODIES("<!x <script>y</script>", "");
  BODIES("</div foo='<script>'><script>x</script>", "script:x");
  BODIES("</><script>x</script>", "script:x");
  BODIES("</ <script>x</script>", "");
  BODIES("<textarea><script>x</script></textarea><style>s</style>", "style:s");
  BODIES("<title><style>x</style></TITLE><style>s</style>", "style:s");
  BODIES("<xmp><script>x</script></xmp>", "");
  BODIES("<iframe><script>x</script></iframe>", "");
  BODIES("<noembed><script>x</script></noembed>", "");
  BODIES("<noframes><script>x</script></noframes>", "");
  BODIES("<plaintext><script>x</script>", "");
  BODIES("<noscript><script>x</script></noscript>", "script:x");
  BODIES("<template><script>x</script></template>", "script:x");

  /* Foreign content holds markup, not raw text. */
  BODIES("<svg><script>x</script><style>s</style></svg><script>y</script>", "script:y");
  BODIES("<svg/><script>y</script>", "script:y");
  BODIES("<math><mi><p></p></mi></math><style>z</style>", "style:z");
  BODIES("<svg><![CDATA[<script>x</script>]]></svg><script>y</script>", "script:y");
  BODIES("<![CDATA[<script>x</script>]]>", "");
  BODIES("<svg><svg></svg><style>x</style></svg><style>y</style>", "style:y");

  /* After a frameset the tree builder drops scripts: not proposed. */
  BODIES("<frameset><script>x</script>", "");
}

static long depth_of(const char *html) {
  prescan_result r;
  prescan_scan(html, strlen(html), 1L << 30, 0, &r);
  long depth = r.depth;
  prescan_free(&r);
  return depth;
}

static char *repeat(const char *s, int n) {
  buf b = BUF_INIT;
  for (int i = 0; i < n; i++) buf_puts(&b, s);
  return b.data;
}

static void test_depth(void) {
  char *s = repeat("<div>", 50);
  CHECK(depth_of(s) == 50);
  free(s);
  s = repeat("<div></div>", 50);
  CHECK(depth_of(s) == 1);
  free(s);
  /* "/>" does not close an HTML element (<div/> opens a div)... */
  s = repeat("<div/>", 50);
  CHECK(depth_of(s) == 50);
  free(s);
  /* ...but does close a foreign one. */
  CHECK(depth_of("<svg><g/><g/><g/><g/></svg>") == 1);
  CHECK(depth_of("<svg><g><g><g></g></g></g></svg>") == 4);
  CHECK(depth_of("<p><li><td><br><img><a><a>") == 0);
  CHECK(depth_of("<div><!-- <div><div> --><script><div><div></script><textarea><div></textarea></div>") == 1);
  CHECK(depth_of("<div><div a='<div>' b=\"<div>\" c=<div>></div>") == 2);
  CHECK(depth_of("<div><script><!--<script><div></script><div></script><div>") == 2);
  CHECK(depth_of("<div><plaintext><div><div><div>") == 1);

  char err[256];
  s = repeat("<div/>", 5000);
  dom_options guard = {.max_depth = 100};
  CHECK(dom_parse(s, strlen(s), &guard, err, sizeof err) == NULL);
  CHECK(strstr(err, "max_depth") != NULL);
  free(s);
}

/* ---- helpers ----------------------------------------------------------------- */

static char *normalized(const char *s, size_t len, size_t *size, bool *same, bool *space) {
  *size = prescan_text_size(s, len, same, space);
  char *out = malloc(*size + 1);
  if (*same) memcpy(out, s, *size);
  else prescan_text_copy(s, len, out);
  out[*size] = '\0';
  return out;
}

#define NORMALIZES(in, want, want_same) \
  do { \
    size_t size_; \
    bool same_, space_; \
    char *got_ = normalized(in, sizeof in - 1, &size_, &same_, &space_); \
    CHECK(size_ == sizeof want - 1 && memcmp(got_, want, size_) == 0); \
    CHECK(same_ == (want_same)); \
    free(got_); \
  } while (0)

static void test_normalize(void) {
  NORMALIZES("plain text, no change", "plain text, no change", true);
  NORMALIZES("a\r\nb\rc\n\rd", "a\nb\nc\n\nd", false);
  NORMALIZES("\r", "\n", false);
  NORMALIZES("\r\n", "\n", false);
  NORMALIZES("a\0b", "a\xEF\xBF\xBD" "b", false);
  NORMALIZES("\x01\x08\x0B\x0E\x1F\x7F", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", false);
  NORMALIZES("\t\n\f ", "\t\n\f ", true);
  NORMALIZES("\xC2\x80\xC2\x9F\xC2\xA0", "\xEF\xBF\xBD\xEF\xBF\xBD\xC2\xA0", false);
  NORMALIZES("\xEF\xB7\x90\xEF\xB7\xAF\xEF\xB7\xB0", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xB7\xB0", false);
  NORMALIZES("\xEF\xBF\xBE\xEF\xBF\xBF\xEF\xBB\xBF\xEF\xBF\xBD", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBB\xBF\xEF\xBF\xBD", false);
  NORMALIZES("\xF0\x9F\xBF\xBE\xF4\x8F\xBF\xBF\xF0\x9F\x98\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xF0\x9F\x98\x80", false);
  /* Long runs take the word-at-a-time path; specials at every offset. */
  NORMALIZES("0123456789abcdef0123456789abcdef\r\n0123456789abcdef", "0123456789abcdef0123456789abcdef\n0123456789abcdef", false);
  NORMALIZES("0123456\r789abcdef01234567\0", "0123456\n789abcdef01234567\xEF\xBF\xBD", false);

  size_t size;
  bool same, space;
  char *t = normalized(" \t\r\n\f ", 6, &size, &same, &space);
  CHECK(space && size == 5);
  free(t);
  t = normalized(" \t x", 4, &size, &same, &space);
  CHECK(!space && same);
  free(t);
}

static void test_placeholders(void) {
  char nonce[PRESCAN_NONCE_LEN], other[PRESCAN_NONCE_LEN];
  prescan_nonce(nonce);
  prescan_nonce(other);
  CHECK(memcmp(nonce, other, PRESCAN_NONCE_LEN) != 0);
  bool alnum = true;
  for (int i = 0; i < PRESCAN_NONCE_LEN; i++)
    alnum = alnum && ((nonce[i] >= 'a' && nonce[i] <= 'z') || (nonce[i] >= '0' && nonce[i] <= '9'));
  CHECK(alnum);

  const char *doc = "<script>0123456789</script><p>x</p><style>abcdef</style>";
  prescan_result r;
  prescan_scan(doc, strlen(doc), 100, 1, &r);
  CHECK(r.n == 2 && r.skipped == 16);
  buf out = BUF_INIT;
  CHECK(prescan_shorten(doc, strlen(doc), &r, nonce, &out) == 0);
  char want[256];
  snprintf(want, sizeof want, "<script>%.16s00000000</script><p>x</p><style>%.16s00000001</style>", nonce, nonce);
  CHECK_STR(buf_str(&out), want);
  char ph[PRESCAN_PLACEHOLDER_LEN + 2];
  memcpy(ph, out.data + 8, PRESCAN_PLACEHOLDER_LEN);
  ph[PRESCAN_PLACEHOLDER_LEN] = '\0';
  CHECK(prescan_placeholder_index(ph, nonce) == 0);
  CHECK(prescan_placeholder_index(ph, other) == -1);
  memcpy(ph + PRESCAN_PLACEHOLDER_LEN, "0", 2);
  CHECK(prescan_placeholder_index(ph, nonce) == -1);
  ph[PRESCAN_PLACEHOLDER_LEN - 1] = '\0';
  CHECK(prescan_placeholder_index(ph, nonce) == -1);
  CHECK(prescan_placeholder_index("", nonce) == -1);
  prescan_free(&r);

  /* A document that contains the nonce (in its markup, or straddling a
   * placeholder's edge) is refused: it could fake a placeholder. */
  char doc2[256];
  snprintf(doc2, sizeof doc2, "<p title='%.16s'></p><script>abc</script>", nonce);
  prescan_scan(doc2, strlen(doc2), 100, 1, &r);
  CHECK(r.n == 1);
  CHECK(prescan_shorten(doc2, strlen(doc2), &r, nonce, &out) == 1);
  prescan_free(&r);
  snprintf(doc2, sizeof doc2, "<p>%.8s<script>abc</script>", nonce + 8);
  prescan_scan(doc2, strlen(doc2), 100, 1, &r);
  CHECK(prescan_shorten(doc2, strlen(doc2), &r, nonce, &out) == 0); /* half a nonce is no nonce */
  prescan_free(&r);
  buf_free(&out);

  /* With the nonce in the page the fast path cannot be tested directly, but
   * placeholder-looking text must change nothing. */
  const char *lookalike = "<script>aaaaaaaaaaaaaaaa00000000</script><p>aaaaaaaaaaaaaaaa00000001</p>";
  CHECK(check_document("lookalike", lookalike, strlen(lookalike), NULL, NULL) == 0);
}

/* ---- the differential check ----------------------------------------------------- */

typedef struct doc_case {
  const char *html;
  size_t len; /* 0: strlen */
} doc_case;

#define RAW(s) {s, sizeof s - 1}

static const doc_case adversarial[] = {
  {"<!doctype html><title>t</title><script>var a = 1 < 2 && 3 > 2;</script><style>p{color:red}</style><p>x", 0},
  {"<script>document.write('<script>x</script>')</script><p>after", 0},
  {"<script>a</SCRIPT >b</script>c", 0},
  {"<script>a</script/x>b", 0},
  {"<script>a</script x='</script>'>b", 0},
  {"<script>a</scriptx>b</script\t>c", 0},
  {"<script>unterminated <p>not a tag", 0},
  {"<script>a</script", 0},
  {"<style>unterminated", 0},
  {"<script>a<!--b</script>c</script>d", 0},
  {"<script><!--<script></script>still</script><p>after<script>z</script>", 0},
  {"<script><!-- x --></script><script>y</script>", 0},
  {"<script><!--<script>--></script><script>z</script>", 0},
  {"<script><!--></script>x<script>y</script>", 0},
  RAW("<script>a\r\nb\rc\0d\x01" "e\xC2\x85" "f\xEF\xBF\xBE</script><style>\r\n\0</style>"),
  RAW("<style>\r\n \t\r</style><script>\n\n</script><script> x </script>"),
  RAW("<script>\0</script>"),
  {"<!-- <script>x</script> --><script>y</script>", 0},
  {"<!--><script>x</script>", 0},
  {"<!---><script>x</script>", 0},
  {"<!-- a --!><script>x</script>", 0},
  {"<!-- <!-- --><script>x</script>", 0},
  {"<a title='<script>x</script>'>t</a><script>y</script>", 0},
  {"<a title=<script>x</script>b</a>", 0},
  {"<a b'c=<script>x</script>", 0},
  {"<svg><script>x</script><style>s</style></svg><script>y</script>", 0},
  {"<svg><foreignObject><p>p</p></foreignObject><style>svg style</style></svg><style>html</style>", 0},
  {"<svg><foreignObject><script>in fo</script></foreignObject></svg>", 0},
  {"<svg><title><script>t</script></title><desc><style>d</style></desc></svg>", 0},
  {"<math><mi><script>mi</script></mi><annotation-xml encoding='text/html'><style>a</style></annotation-xml></math>", 0},
  {"<math><mtext><p>p</p></mtext><script>after p</script></math>", 0},
  {"<svg><![CDATA[<script>x</script>]]><style>y</style></svg>", 0},
  {"<![CDATA[<script>x</script>]]>", 0},
  {"<template><script>x</script><style>y</style></template><template><svg><script>z</script></svg></template>", 0},
  {"<frameset><script>x</script></frameset><script>y</script>", 0},
  {"<html><head><script>h</script></head><frameset><frame></frameset><noframes><script>n</script></noframes>", 0},
  {"<body><p>x</p><frameset><script>y</script>", 0},
  {"<noscript><script>x</script><style>y</style></noscript>", 0},
  {"<head><noscript><style>y</style><script>x</script></noscript></head>", 0},
  {"<textarea><script>x</script></textarea><script>y</script>", 0},
  {"<title><style>x</style></title><style>y</style>", 0},
  {"<xmp><script>x</script></xmp><iframe><style>y</style></iframe><noembed><script>z</script></noembed>", 0},
  {"<plaintext><script>x</script>", 0},
  {"<table><script>t</script><tr><style>s</style><td><script>c</script></table>", 0},
  {"<select><script>s</script><style>y</style><svg><script>z</script></svg></select>", 0},
  {"<table><svg><style>a</style></svg></table><style>b</style>", 0},
  {"<p><svg><style>a</style></p><style>b</style>", 0},
  {"</html><script>after html</script>", 0},
  {"<html></html><!-- c --><style>s</style>", 0},
  {"<script src=a defer></script><script type=module>import x from 'y';</script>", 0},
  {"<script/>x</script><style/>y</style>", 0},
  {"<sCrIpT>a</ScRiPt><STYLE>b</STYLE>", 0},
  {"<script>\"</script>\"</script>", 0},
  {"<style>/* </style */ x</style>", 0},
  {"<!DOCTYPE html PUBLIC \"a>b\"><script>x</script>", 0},
  {"<?xml version='1.0'?><script>x</script>", 0},
  {"<!x <script>y</script>", 0},
  {"<script>" "aaaaaaaaaaaaaaaa00000000" "</script>", 0},
  {"<body><script>b</script><p>" "<script>in p</script></p></body><script>after body</script>", 0},
  {"<div><script>x</script><div><style>y</style></div></div>", 0},
  RAW("\xEF\xBB\xBF<script>after a BOM</script>"),
  RAW("<meta charset=windows-1252><script>caf\xE9</script><style>\x80</style>"),
  RAW("<script>caf\xC3\xA9 \xF0\x9F\x98\x80</script>"),
  RAW("<script>invalid \xFF utf-8</script>"),
};

static void test_adversarial(void) {
  int failures = 0;
  check_totals always = {0};
  for (size_t i = 0; i < sizeof adversarial / sizeof *adversarial; i++) {
    const doc_case *c = &adversarial[i];
    char label[64];
    snprintf(label, sizeof label, "adversarial #%zu", i);
    failures += check_document(label, c->html, c->len ? c->len : strlen(c->html), NULL, &always);
  }
  CHECK(failures == 0);
  /* Most of them do go through the fast path. */
  CHECK(always.used * 2 > always.docs);
}

/* Wrong proposals that reach Gumbo (they pass the local check) and must
 * be caught in the tree, then parsed in full, with the same result. */
static void test_fallbacks(void) {
  static const char *wrong[] = {
    "<!--<script>in a comment</script>-->",
    "<p title='<script>in an attribute</script>'>",
    "<svg><script>in svg</script></svg>",
    "<svg><style>in svg</style></svg>",
    "<math><style>in math</style></math>",
    "<textarea><script>in a textarea</script></textarea>",
    "<title><style>in a title</style></title>",
    "<frameset><script>dropped</script></frameset>",
    "<script>x</script><frameset><style>dropped</style>",
    "<xmp><style>in xmp</style></xmp>",
    "<plaintext><script>in plaintext</script>",
    "<style>right</style><textarea><style>wrong</style></textarea>",
  };
  for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
    prescan_body proposed[8];
    size_t n = check_naive(wrong[i], strlen(wrong[i]), proposed, 8);
    CHECK(n >= 1);
    char err[256];
    dom_doc *d = dom_parse_proposed(wrong[i], strlen(wrong[i]), NULL, proposed, n, err, sizeof err);
    CHECK(d != NULL);
    if (!d) continue;
    dom_parse_stats st = dom_stats(d);
    if (!st.fell_back) fprintf(stderr, "no fallback: %s\n", wrong[i]);
    CHECK(st.fell_back && !st.prescan_used);
    dom_free(d);
    CHECK(check_document(wrong[i], wrong[i], strlen(wrong[i]), NULL, NULL) == 0);
  }

  /* Right proposals go through; a missing or an extra one does not. */
  const char *doc = "<script>one</script><style>two</style>";
  prescan_body right[2] = {{8, 3, PRESCAN_SCRIPT}, {27, 3, PRESCAN_STYLE}};
  char err[256];
  dom_doc *d = dom_parse_proposed(doc, strlen(doc), NULL, right, 2, err, sizeof err);
  CHECK(d && dom_stats(d).prescan_used && dom_stats(d).bodies == 2 && dom_stats(d).bytes_skipped == 6);
  dom_free(d);
  prescan_body kinds[2] = {{8, 3, PRESCAN_STYLE}, {27, 3, PRESCAN_SCRIPT}};
  d = dom_parse_proposed(doc, strlen(doc), NULL, kinds, 2, err, sizeof err);
  CHECK(d && dom_stats(d).fell_back);
  dom_free(d);
  const char *eof = "<style>abc";
  prescan_body as_script = {7, 3, PRESCAN_SCRIPT};
  d = dom_parse_proposed(eof, strlen(eof), NULL, &as_script, 1, err, sizeof err);
  CHECK(d && dom_stats(d).fell_back);
  dom_free(d);
  prescan_body overlapping[2] = {{8, 3, PRESCAN_SCRIPT}, {9, 3, PRESCAN_SCRIPT}};
  d = dom_parse_proposed(doc, strlen(doc), NULL, overlapping, 2, err, sizeof err);
  CHECK(d && dom_stats(d).fell_back);
  dom_free(d);
  prescan_body outside = {30, 100, PRESCAN_STYLE};
  d = dom_parse_proposed(doc, strlen(doc), NULL, &outside, 1, err, sizeof err);
  CHECK(d && dom_stats(d).fell_back);
  dom_free(d);
}

/* ---- files ----------------------------------------------------------------------- */

typedef struct file_list {
  char **paths;
  size_t n, cap;
} file_list;

static void files_add(file_list *l, const char *path) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 32;
    l->paths = realloc(l->paths, l->cap * sizeof *l->paths);
  }
  l->paths[l->n++] = strdup(path);
}

static int files_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Files under dir named `name` (any name when NULL), recursively, sorted. */
static void files_walk(file_list *l, const char *dir, const char *name) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) files_walk(l, path, name);
    else if (!name || strcmp(e->d_name, name) == 0) files_add(l, path);
  }
  closedir(d);
  qsort(l->paths, l->n, sizeof *l->paths, files_cmp);
}

static void files_free(file_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->paths[i]);
  free(l->paths);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  buf b = BUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
  fclose(f);
  *len = b.len;
  return b.data ? b.data : strdup("");
}

/* The Coins2Day article pages (tests/fixtures/coins2day/site/20.../index.html). */
static void coins2day_pages(file_list *l) {
  DIR *d = opendir("fixtures/coins2day/site");
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "20", 2) != 0) continue;
    char path[512];
    snprintf(path, sizeof path, "fixtures/coins2day/site/%s", e->d_name);
    files_walk(l, path, "index.html");
  }
  closedir(d);
  qsort(l->paths, l->n, sizeof *l->paths, files_cmp);
}

static void test_coins2day(void) {
  file_list pages = {0};
  coins2day_pages(&pages);
  CHECK(pages.n >= 13);
  int failures = 0;
  check_totals autos = {0}, always = {0};
  for (size_t i = 0; i < pages.n; i++) {
    size_t len;
    char *html = slurp(pages.paths[i], &len);
    CHECK(html != NULL);
    if (!html) continue;
    failures += check_document(pages.paths[i], html, len, &autos, &always);
    free(html);
  }
  CHECK(failures == 0);
  /* Every page takes the fast path and none falls back. */
  CHECK(autos.used == pages.n && autos.fell_back == 0);
  CHECK(always.used == pages.n && always.fell_back == 0);
  printf("coins2day: %zu pages, %zu in the fast path, %zu fell back, %zu of %zu bytes skipped\n", autos.docs,
         autos.used, autos.fell_back, autos.skipped, autos.bytes);
  files_free(&pages);
}

/* The fuzzer's findings and seeds (tests/fuzz/corpus/prescan). */
static void test_regressions(void) {
  file_list inputs = {0};
  files_walk(&inputs, "fuzz/corpus/prescan", NULL);
  CHECK(inputs.n > 0);
  int failures = 0;
  for (size_t i = 0; i < inputs.n; i++) {
    size_t len;
    char *data = slurp(inputs.paths[i], &len);
    if (!data) continue;
    failures += check_document(inputs.paths[i], data, len, NULL, NULL);
    free(data);
  }
  CHECK(failures == 0);
  printf("regressions: %zu inputs\n", inputs.n);
  files_free(&inputs);
}

/* ---- threads: dom_parse runs on worker threads concurrently ------------------------- */

typedef struct thread_job {
  file_list *pages;
  buf *want;
  int failures;
} thread_job;

static void *thread_run(void *arg) {
  thread_job *job = arg;
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < job->pages->n; i++) {
      size_t len;
      char *html = slurp(job->pages->paths[i], &len);
      if (!html) continue;
      char err[256] = "";
      dom_doc *d = dom_parse(html, len, NULL, err, sizeof err);
      buf got = BUF_INIT;
      check_render(d, err, &got);
      if (got.len != job->want[i].len || memcmp(got.data, job->want[i].data, got.len) != 0) job->failures++;
      buf_free(&got);
      dom_free(d);
      free(html);
    }
  }
  return NULL;
}

static void test_threads(void) {
  file_list pages = {0};
  coins2day_pages(&pages);
  buf *want = calloc(pages.n ? pages.n : 1, sizeof *want);
  for (size_t i = 0; i < pages.n; i++) {
    size_t len;
    char *html = slurp(pages.paths[i], &len);
    char err[256] = "";
    dom_doc *d = html ? dom_parse_mode(html, len, NULL, DOM_PRESCAN_OFF, err, sizeof err) : NULL;
    check_render(d, err, &want[i]);
    dom_free(d);
    free(html);
  }
  enum { THREADS = 4 };
  pthread_t tid[THREADS];
  thread_job jobs[THREADS];
  for (int t = 0; t < THREADS; t++) {
    jobs[t] = (thread_job){&pages, want, 0};
    CHECK(pthread_create(&tid[t], NULL, thread_run, &jobs[t]) == 0);
  }
  for (int t = 0; t < THREADS; t++) {
    pthread_join(tid[t], NULL);
    CHECK(jobs[t].failures == 0);
  }
  for (size_t i = 0; i < pages.n; i++) buf_free(&want[i]);
  free(want);
  files_free(&pages);
}

int main(void) {
  test_bodies();
  test_depth();
  test_normalize();
  test_placeholders();
  test_adversarial();
  test_fallbacks();
  test_coins2day();
  test_regressions();
  test_threads();
  return check_summary();
}
