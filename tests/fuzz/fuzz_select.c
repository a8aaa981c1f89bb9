/* fuzz_select.c — libFuzzer target for selector strings: any bytes to
 * sel_compile, which refuses with a message or compiles; a compiled
 * selector is run on a small fixed document from the document and from
 * some of its elements, and must agree with itself: an element a query
 * returns matches it, and every element that matches it is returned.
 * Corpus: corpus/select/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dom.h"
#include "select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char page[] =
  "<!DOCTYPE html><html lang=en><head><title>t</title><base href=/x/></head>"
  "<body class='a B' id=top><h1 id=h>Head</h1><p class=x>one <a href=/a hreflang=en-GB>a</a></p>"
  "<p class='x y' data-n=3>two<img src=i.png alt=''></p><ul><li class=x>1<li>2<li class=x>3<li>4</ul>"
  "<div><span></span><!-- c --><b>bold</b>text</div><form><input type=checkbox checked name=c>"
  "<input type=text disabled value=v><select><option selected>o1<option>o2</select>"
  "<textarea required></textarea></form><table><tr><td>1<td>2</table><template><p>in</p></template>"
  "<svg viewBox='0 0 1 1'><circle r=1 /><foreignObject><p>f</p></foreignObject></svg>"
  "<math><mi>x</mi></math><div dir=rtl lang=fr-CA><p></p><p> </p></div></body></html>";

static void fail(const char *what) {
  fprintf(stderr, "fuzz_select: %s\n", what);
  abort();
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

/* Runs sel from scope: what it returns matches, and is all that matches. */
static void check_query(const sel_list *sel, const GumboNode *scope) {
  query q = {sel, scope, 0};
  sel_select(sel, scope, check_match, &q, NULL);
  size_t matching = 0;
  for (GumboNode *el = dom_next_element(scope, scope); el; el = dom_next_element(el, scope))
    if (sel_matches(sel, el, scope, NULL)) matching++;
  if (matching != q.found) fail("a query missed elements that match it");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static dom_doc *doc;
  char err[256];
  if (!doc && !(doc = dom_parse(page, sizeof page - 1, NULL, err, sizeof err))) fail(err);
  err[0] = '\0';
  sel_list *sel = sel_compile((const char *)data, size, NULL, err, sizeof err);
  if (!sel) {
    if (!err[0] || !memchr(err, '\0', sizeof err)) fail("a refusal without a message");
    return 0;
  }
  GumboNode *root = dom_root(doc);
  check_query(sel, root);
  /* From elements too, where :scope is the element. */
  size_t n = 0;
  for (GumboNode *el = dom_next_element(root, root); el; el = dom_next_element(el, root))
    if (n++ % 7 == 0) check_query(sel, el);
  sel_free(sel);
  return 0;
}
