/* fuzz_html.c — libFuzzer target for the parse of hostile pages: any bytes
 * (after a first byte that picks the charset announced, as HTTP would) to a
 * document, then what the runtime does with one: textContent, outer and
 * inner serialization, selector queries. Checked: no sanitizer report, the
 * text and markup that come out are UTF-8 whatever went in, and every
 * element a query returns matches the selector. Corpus: corpus/html/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dom.h"
#include "encoding.h"
#include "select.h"
#include "serialize.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const charsets[] = {
  NULL, "utf-8", "windows-1252", "shift_jis", "utf-16le", "utf-16be", "iso-2022-jp", "gb18030", "euc-kr",
  "big5", "koi8-r", "x-user-defined", "replacement", "no-such-charset",
};

static const char *const queries[] = {
  "*", "p", "div > a[href]", "a:not([href^=http])", ":is(h1, h2) + p", "li:nth-child(2n+1 of .x)",
  ":has(> img, > svg)", "[class~=a i]", ":root :empty", "body :last-of-type", "template, table td",
  ":scope > *", "input:checked, option:checked", "[lang|=en] ~ *", "svg circle, math mi",
};

#define N_QUERIES (sizeof queries / sizeof *queries)

static void fail(const char *what) {
  fprintf(stderr, "fuzz_html: %s\n", what);
  abort();
}

static void check_utf8(const buf *b, const char *what) {
  if (b->failed) fail("out of memory");
  if (!enc_valid_utf8(buf_str(b), b->len)) fail(what);
}

typedef struct query {
  const sel_list *sel;
  const GumboNode *scope;
  size_t found;
} query;

static bool check_match(GumboNode *el, void *ud) {
  query *q = ud;
  if (!sel_matches(q->sel, el, q->scope, NULL)) fail("an element a query returned does not match it");
  q->found++;
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sel_list *compiled[N_QUERIES];
  if (!compiled[0]) {
    char err[256];
    for (size_t i = 0; i < N_QUERIES; i++)
      if (!(compiled[i] = sel_compile(queries[i], strlen(queries[i]), NULL, err, sizeof err))) fail(err);
  }
  dom_options opts = {0};
  if (size > 0) {
    opts.charset = charsets[data[0] % (sizeof charsets / sizeof *charsets)];
    data++, size--;
  }
  char err[256];
  dom_doc *doc = dom_parse((const char *)data, size, &opts, err, sizeof err);
  if (!doc) return 0; /* refused: too deep, or a charset this system lacks */
  GumboNode *root = dom_root(doc);

  buf b = BUF_INIT;
  text_inner(root, NULL, false, &b);
  check_utf8(&b, "the reader's text is not UTF-8");
  buf_reset(&b);
  text_content(root, NULL, &b);
  check_utf8(&b, "textContent is not UTF-8");
  if (b.data) b.len = text_squash(b.data, b.len);
  check_utf8(&b, "squashed text is not UTF-8");
  buf_free(&b);
  serialize_node(root, true, &b);
  check_utf8(&b, "the serialization is not UTF-8");
  buf_reset(&b);
  serialize_node(root, false, &b);
  check_utf8(&b, "the inner serialization is not UTF-8");
  buf_free(&b);

  for (size_t i = 0; i < N_QUERIES; i++) {
    query q = {compiled[i], root, 0};
    sel_select(q.sel, root, check_match, &q, NULL);
  }
  dom_free(doc);
  return 0;
}
