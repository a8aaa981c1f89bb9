/* Parsing, names, text, serialisation and limits of the C core's DOM. */
#include <stdlib.h>

#include "check.h"
#include "dom.h"
#include "serialize.h"
#include "text.h"

static dom_doc *parse(const char *html) {
  char err[256];
  dom_doc *d = dom_parse(html, strlen(html), NULL, err, sizeof err);
  if (!d) fprintf(stderr, "parse failed: %s\n", err);
  return d;
}

static GumboNode *first(dom_doc *d, const char *tag) {
  GumboNode *root = dom_root(d);
  for (GumboNode *el = dom_next_element(root, root); el; el = dom_next_element(el, root))
    if (strcmp(dom_tag_name(el), tag) == 0) return el;
  return NULL;
}

static char *outer(const GumboNode *n) {
  buf b = BUF_INIT;
  serialize_node(n, true, &b);
  return b.data ? b.data : strdup("");
}

static char *squashed_text(const GumboNode *n) {
  buf b = BUF_INIT;
  text_content(n, NULL, &b);
  if (!b.data) return strdup("");
  b.len = text_squash(b.data, b.len);
  return b.data;
}

static void test_names(void) {
  dom_doc *d = parse("<My-Widget id=x></My-Widget><svg><foreignObject/><clipPath/><LinearGradient/></svg><math><mi/></math>");
  CHECK(first(d, "my-widget") != NULL);
  CHECK(first(d, "foreignObject") != NULL);
  CHECK(first(d, "clipPath") != NULL);
  CHECK(first(d, "linearGradient") != NULL);
  CHECK(first(d, "mi") != NULL);
  CHECK(first(d, "foreignobject") == NULL);
  dom_free(d);
}

static void test_attrs(void) {
  dom_doc *d = parse("<div DATA-X=1 class='a b'></div><svg viewBox='0 0 1 1' xlink:href='#a'></svg>");
  GumboNode *div = first(d, "div");
  CHECK(dom_attr_find(div, "data-x") != NULL);
  CHECK(dom_attr_find(div, "DATA-X") != NULL); /* getAttribute lower-cases on HTML elements */
  CHECK_STR(dom_attr_find(div, "class")->value, "a b");
  GumboNode *svg = first(d, "svg");
  CHECK(dom_attr_find(svg, "viewBox") != NULL);
  CHECK(dom_attr_find(svg, "viewbox") == NULL);
  CHECK(dom_attr_find(svg, "xlink:href") != NULL);
  dom_free(d);
}

static void test_serialize(void) {
  dom_doc *d = parse("<!doctype html><p class=\"a&quot;b\">x &amp; y&nbsp;&lt;z&gt;<br><img src=a></p>"
                     "<script>if (a < b && c) {}</script><template><i>t</i></template><!-- c -->");
  char *s = outer(first(d, "p"));
  CHECK_STR(s, "<p class=\"a&quot;b\">x &amp; y&nbsp;&lt;z&gt;<br><img src=\"a\"></p>");
  free(s);
  s = outer(first(d, "script"));
  CHECK_STR(s, "<script>if (a < b && c) {}</script>");
  free(s);
  s = outer(first(d, "template"));
  CHECK_STR(s, "<template><i>t</i></template>");
  free(s);
  s = outer(dom_root(d));
  CHECK(strncmp(s, "<!DOCTYPE html><html><head></head><body>", 40) == 0);
  CHECK(strstr(s, "<!-- c --></body></html>") != NULL);
  free(s);
  dom_free(d);
}

/* Text that ends a form stays in it, as in browsers (Gumbo 0.10.1 puts it
 * after the form); text after the end tag stays after it. */
static void test_form_text(void) {
  const char *cases[][2] = {
      {"<form>text</form>", "<body><form>text</form></body>"},
      {"<form><input>te&amp;xt\r\n</form>after", "<body><form><input>te&amp;xt\n</form>after</body>"},
      {"<div><form>a<b>x</b> tail </form></div>", "<body><div><form>a<b>x</b> tail </form></div></body>"},
      {"<form>  </form>x", "<body><form>  </form>x</body>"},
      {"<form></form>after", "<body><form></form>after</body>"},
      {"<form>a</form>b</form>c", "<body><form>a</form>bc</body>"},
      {"<form>x</FORM\t>y", "<body><form>x</form>y</body>"},
      {"<form><p>text</form>after", "<body><form><p>text</p></form>after</body>"},
      {"<table><tr><td><form>cell</form>z", "<body><table><tbody><tr><td><form>cell</form>z</td></tr></tbody></table></body>"},
      {"<form>1 &lt; 2 &amp 3</form><form>b</form>", "<body><form>1 &lt; 2 &amp; 3</form><form>b</form></body>"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    dom_doc *d = parse(cases[i][0]);
    char *s = outer(first(d, "body"));
    if (strcmp(s, cases[i][1]) != 0) fprintf(stderr, "%s: %s\n", cases[i][0], s);
    CHECK_STR(s, cases[i][1]);
    free(s);
    dom_free(d);
  }
  /* The fast path (a long script taken out) does the same. */
  buf html = BUF_INIT;
  buf_puts(&html, "<script>");
  for (int i = 0; i < 2000; i++) buf_puts(&html, "var x = 1; ");
  buf_puts(&html, "</script><form>Name <input> please</form>");
  dom_doc *d = parse(html.data);
  CHECK(dom_stats(d).prescan_used);
  char *s = outer(first(d, "form"));
  CHECK_STR(s, "<form>Name <input> please</form>");
  free(s);
  dom_free(d);
  buf_free(&html);
}

static void test_text(void) {
  dom_doc *d = parse("<div>  Hello,\n\t<b>big</b>&nbsp;&nbsp;world\xe3\x80\x80! <template>hidden</template><!--no--></div>");
  char *t = squashed_text(first(d, "div"));
  /* ASCII white space and U+00A0 collapse; U+3000 and U+2003 are text. */
  CHECK_STR(t, "Hello, big world\xe3\x80\x80!");
  free(t);
  char s[] = " \xc2\xa0 a \xe2\x80\x83 b\t\f\r\n";
  size_t n = text_squash(s, strlen(s));
  CHECK(n == 7);
  CHECK_STR(s, "a \xe2\x80\x83 b");
  dom_free(d);
}

static void test_limits(void) {
  char err[256];
  dom_options small = {.max_bytes = 10};
  CHECK(dom_parse("<p>hello world</p>", 18, &small, err, sizeof err) == NULL);
  CHECK(strstr(err, "max_bytes") != NULL);

  /* Nesting: refused past max_depth, parsed (and walked without recursion) below it. */
  size_t n = 5000;
  char *deep = malloc(n * 11 + 1), *p = deep;
  for (size_t i = 0; i < n; i++) p += sprintf(p, "<div>");
  for (size_t i = 0; i < n; i++) p += sprintf(p, "</div>");
  dom_options shallow = {.max_depth = 4000};
  CHECK(dom_parse(deep, strlen(deep), &shallow, err, sizeof err) == NULL);
  CHECK(strstr(err, "max_depth") != NULL);
  dom_options roomy = {.max_depth = 6000};
  dom_doc *d = dom_parse(deep, strlen(deep), &roomy, err, sizeof err);
  CHECK(d != NULL);
  if (d) {
    char *s = outer(first(d, "div"));
    CHECK(strlen(s) == n * 11);
    free(s);
    dom_free(d);
  }
  free(deep);

  /* Implied end tags and comments do not count towards depth. */
  buf many = BUF_INIT;
  for (int i = 0; i < 10000; i++) buf_puts(&many, "<p>x<li>y<!-- <div><div> -->");
  dom_options guard = {.max_depth = 100};
  d = dom_parse(many.data, many.len, &guard, err, sizeof err);
  CHECK(d != NULL);
  dom_free(d);
  buf_free(&many);

  /* Attributes: a tag with more than max_attributes (duplicates count:
   * Gumbo compares each with the others), also one cut off at the end of
   * the input, is refused; as many is fine. */
  buf attrs = BUF_INIT;
  buf_puts(&attrs, "<p><b id=x");
  for (int i = 0; i < DOM_DEFAULT_MAX_ATTRIBUTES - 1; i++) buf_puts(&attrs, " a='1'");
  buf_puts(&attrs, ">");
  d = dom_parse(attrs.data, attrs.len, NULL, err, sizeof err);
  CHECK(d != NULL);
  CHECK_STR(dom_attr_find(first(d, "b"), "id")->value, "x");
  dom_free(d);
  attrs.len--;
  buf_puts(&attrs, " a");
  CHECK(dom_parse(attrs.data, attrs.len, NULL, err, sizeof err) == NULL);
  CHECK(strstr(err, "257 attributes, over the limit of 256 (max_attributes)") != NULL);
  dom_options more = {.max_attributes = 1000};
  d = dom_parse(attrs.data, attrs.len, &more, err, sizeof err);
  CHECK(d != NULL);
  dom_free(d);
  buf_free(&attrs);

  /* Numeric references past INT_MAX, which Gumbo 0.10.1 cannot count,
   * read as U+FFFD as in a browser, in text and attribute values; smaller
   * ones as before. */
  static const char refs[] = "<p title='&#x80000000;'>&#2147483648;|&#1111111111111111;|&#8589934657;"
                             "|&#2147483647;|&#x10FFFF;|&#0000000000065;|&#</p>";
  d = dom_parse(refs, sizeof refs - 1, NULL, err, sizeof err);
  CHECK(d != NULL);
  if (d) {
    GumboNode *para = first(d, "p");
    buf text = BUF_INIT;
    text_content(para, NULL, &text);
    CHECK_STR(buf_str(&text), "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xf4\x8f\xbf\xbf|A|&#");
    CHECK_STR(dom_attr_find(para, "title")->value, "\xef\xbf\xbd");
    buf_free(&text);
    dom_free(d);
  }

  /* NUL bytes and invalid UTF-8 parse; text carries U+FFFD. */
  static const char nul[] = "<p>a\0b\xff</p>";
  d = dom_parse(nul, sizeof nul - 1, NULL, err, sizeof err);
  CHECK(d != NULL);
  CHECK_STR(dom_charset(d), "windows-1252");
  dom_free(d);
}

int main(void) {
  test_names();
  test_attrs();
  test_serialize();
  test_form_text();
  test_text();
  test_limits();
  return check_summary();
}
