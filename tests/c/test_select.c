/* test_select.c — the selector engine: parser acceptance and error
 * positions, An+B, escapes, matching on small documents, limits, and a
 * replay of the Chromium-answered cases in fixtures/selectors/cases.txt. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "dom.h"
#include "select.h"

/* ---- helpers ----------------------------------------------------------------- */

typedef struct hits {
  GumboNode *el[4096];
  size_t n;
  size_t limit;
} hits;

static bool collect(GumboNode *el, void *ud) {
  hits *h = ud;
  if (h->n < sizeof h->el / sizeof *h->el) h->el[h->n++] = el;
  return h->limit == 0 || h->n < h->limit;
}

static dom_doc *parse(const char *html) {
  char err[256];
  dom_doc *d = dom_parse(html, strlen(html), NULL, err, sizeof err);
  if (!d) fprintf(stderr, "dom_parse: %s\n", err);
  return d;
}

static bool valid(const char *sel) {
  char err[256];
  sel_list *s = sel_compile(sel, strlen(sel), NULL, err, sizeof err);
  sel_free(s);
  return s != NULL;
}

/* The error message for an invalid selector ("" when it compiled). */
static const char *error_of(const char *sel) {
  static char err[256];
  sel_list *s = sel_compile(sel, strlen(sel), NULL, err, sizeof err);
  if (s) {
    sel_free(s);
    return "";
  }
  return err;
}

/* Matches as "tag#id tag#id ..." (id omitted when absent); "!" when invalid. */
static const char *query_from(dom_doc *d, const GumboNode *root, const char *sel) {
  static char out[4096];
  char err[256];
  sel_list *s = sel_compile(sel, strlen(sel), NULL, err, sizeof err);
  if (!s) return "!";
  static hits h;
  h.n = 0;
  h.limit = 0;
  sel_select(s, root ? root : dom_root(d), collect, &h, NULL);
  sel_free(s);
  out[0] = '\0';
  size_t len = 0;
  for (size_t i = 0; i < h.n; i++) {
    const GumboAttribute *id = dom_attr_find(h.el[i], "id");
    len += (size_t)snprintf(out + len, sizeof out - len, "%s%s%s%s", i ? " " : "", dom_tag_name(h.el[i]),
                            id ? "#" : "", id ? id->value : "");
    if (len >= sizeof out) break;
  }
  return out;
}

static const char *query(dom_doc *d, const char *sel) { return query_from(d, NULL, sel); }

static GumboNode *by_id(dom_doc *d, const char *id) {
  GumboNode *root = dom_root(d);
  for (GumboNode *x = dom_next_element(root, root); x; x = dom_next_element(x, root)) {
    const GumboAttribute *a = dom_attr_find(x, "id");
    if (a && strcmp(a->value, id) == 0) return x;
  }
  return NULL;
}

/* ---- parser ---------------------------------------------------------------------- */

static void test_valid_and_invalid(void) {
  const char *ok[] = {
    "*", "div", "DIV", "*|*", "*|div", "|div", "|*", "#a", "#-a", "#\\31 a", ".x", ".-x", "div.x#a[t]",
    "[a]", "[ a ]", "[a=b]", "[a = 'b' ]", "[a~=b]", "[a|=b]", "[a^=b]", "[a$=b]", "[a*=b]", "[a=b i]",
    "[a=\"b\"I]", "[*|a]", "[|a]", "a b", "a>b", "a > b", "a+b", "a ~ b", "a\tb", "a\nb", " a ",
    "a, b", "a ,b", "a/**/.b", ":root", ":Empty", ":first-child", ":nth-child(2n+1)", ":nth-child( odd )",
    ":nth-last-child(-n+3)", ":nth-of-type(even)", ":nth-last-of-type(3)", ":nth-child(2 of .a, b)",
    ":not(a, b c)", ":is()", ":is(a, :bogus)", ":where(!)", ":has(> p)", ":has(+ p, ~ q, r s)", ":scope",
    "&", "p&", ":lang(en)", ":dir(rtl)", ":hover", ":visited", "::before", "div::after", ":before",
    "::before, p", "::-webkit-anything", "::before::marker", "::part(x):hover", ":host", ":host(p)",
    ":defined", ":checked", ":placeholder-shown", ":is(a", "[a=b", "p:nth-child(2", ":is(:has(p))",
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    if (!valid(ok[i])) fprintf(stderr, "should be valid: %s (%s)\n", ok[i], error_of(ok[i]));
    CHECK(valid(ok[i]));
  }
  const char *bad[] = {
    "", " ", ",", "a,", ",a", "a,,b", "> a", "a >", "a > > b", "a || b", "#1a", ".1", ". a", "[a]div",
    "ns|a", "[ns|a]", "[a=1]", "[a=]", "[a~ =b]", "[a=b x]", "a|", ":unknown", ":first", ": root",
    ":root()", ":nth-child", ":nth-child()", ":nth-child(2n+)", ":nth-child(+ n)", ":nth-child(1.5)",
    ":nth-child(1 OF p)", ":nth-of-type(1 of p)", ":not()", ":not(::before)", ":not(:before)", ":has()",
    ":has(:has(p))", ":has(p,)", ":has(> > p)", ":has(::before)", "::before > a", "::before.a",
    "::before:hover", "::bogus", "&p", "div/**/p", ":lang(\"en\")", ":lang(en, fr)", "{}", "a;", "@a",
    ":-webkit-any()", ":-webkit-any(a b)", "p::part(x) q", "[a=b s]", "[a=b S]",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    if (valid(bad[i])) fprintf(stderr, "should be invalid: %s\n", bad[i]);
    CHECK(!valid(bad[i]));
  }
}

static void test_error_messages(void) {
  CHECK_STR(error_of("a > > b"), "unexpected '>' at position 5, expected a selector");
  CHECK_STR(error_of("a,"), "unexpected end of selector at position 3, expected a selector");
  CHECK_STR(error_of(""), "unexpected end of selector at position 1, expected a selector");
  CHECK_STR(error_of("div:bogus"), "unknown pseudo-class ':bogus' at position 4");
  CHECK_STR(error_of("ns|p"), "undeclared namespace prefix 'ns' at position 1");
  CHECK_STR(error_of("#1a"), "unexpected '#1a' at position 1, expected an identifier after '#'");
  CHECK_STR(error_of("[a=1]"), "unexpected number at position 4, expected an attribute value");
  CHECK_STR(error_of("p:nth-child(2n+)"), "unexpected ')' at position 16, expected an integer");
  CHECK_STR(error_of("a b)"), "unexpected ')' at position 4, expected a combinator, ',' or end of selector");
  /* positions count characters, not bytes */
  CHECK_STR(error_of("é > > b"), "unexpected '>' at position 5, expected a selector");
  CHECK_STR(error_of(":has(:has(p))"), ":has() cannot be nested at position 6");
  CHECK_STR(error_of(":valid"), "pseudo-class ':valid' is not supported at position 1");
}

static void test_limits(void) {
  buf b = BUF_INIT;
  for (int i = 0; i < SEL_MAX_NESTING; i++) buf_puts(&b, ":is(");
  buf_puts(&b, "p");
  for (int i = 0; i < SEL_MAX_NESTING; i++) buf_puts(&b, ")");
  CHECK(valid(buf_str(&b)));
  buf_reset(&b);
  for (int i = 0; i <= SEL_MAX_NESTING; i++) buf_puts(&b, ":is(");
  buf_puts(&b, "p");
  CHECK(strstr(error_of(buf_str(&b)), "nested more than 32 levels") != NULL);
  /* too deep inside a forgiving list is still an error, not a silent drop */
  buf_reset(&b);
  for (int i = 0; i <= SEL_MAX_NESTING + 5; i++) buf_puts(&b, ":not(");
  buf_puts(&b, "p");
  CHECK(!valid(buf_str(&b)));
  buf_reset(&b);
  for (int i = 0; i < SEL_MAX_COMPOUNDS; i++) buf_puts(&b, i ? " a" : "a");
  CHECK(valid(buf_str(&b)));
  buf_puts(&b, " a");
  CHECK(strstr(error_of(buf_str(&b)), "more than 256 compound") != NULL);
  buf_reset(&b);
  for (int i = 0; i < SEL_MAX_LEN; i++) buf_putc(&b, 'a');
  CHECK(valid(buf_str(&b)));
  buf_putc(&b, 'a');
  CHECK(strstr(error_of(buf_str(&b)), "selector too long") != NULL);
  buf_free(&b);
}

/* ---- An+B, escapes ------------------------------------------------------------------ */

static void test_anb(void) {
  dom_doc *d = parse("<!doctype html><ul id=u><li id=l1><li id=l2><li id=l3><li id=l4><li id=l5><li id=l6><li id=l7></ul>");
  struct { const char *anb, *want; } cases[] = {
    {"odd", "l1 l3 l5 l7"}, {"EVEN", "l2 l4 l6"}, {"3", "l3"}, {"+3", "l3"}, {"-1", ""}, {"0", ""},
    {"n", "l1 l2 l3 l4 l5 l6 l7"}, {"+n", "l1 l2 l3 l4 l5 l6 l7"}, {"-n+3", "l1 l2 l3"}, {"-n", ""},
    {"2n+1", "l1 l3 l5 l7"}, {"2n + 1", "l1 l3 l5 l7"}, {"2n +1", "l1 l3 l5 l7"}, {"2n+ 1", "l1 l3 l5 l7"},
    {"2n- 1", "l1 l3 l5 l7"}, {"2n-1", "l1 l3 l5 l7"}, {"2n -1", "l1 l3 l5 l7"}, {"2n - 1", "l1 l3 l5 l7"},
    {"3n", "l3 l6"}, {"0n+5", "l5"}, {"N-5", "l1 l2 l3 l4 l5 l6 l7"}, {"-n-1", ""}, {"-2n+5", "l1 l3 l5"},
    {"+n-6", "l1 l2 l3 l4 l5 l6 l7"}, {"-n+6", "l1 l2 l3 l4 l5 l6"}, {"-n- 6", ""}, {"99999999999", ""}, {"1n", "l1 l2 l3 l4 l5 l6 l7"},
    {" 4 ", "l4"}, {"\\6e+1", "l1 l2 l3 l4 l5 l6 l7"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char sel[64], want[128];
    snprintf(sel, sizeof sel, "li:nth-child(%s)", cases[i].anb);
    /* the answer lists ids; rebuild "li#l1 li#l3" from "l1 l3" */
    size_t w = 0;
    want[0] = '\0';
    for (const char *p = cases[i].want; *p;) {
      const char *e = strchr(p, ' ');
      size_t n = e ? (size_t)(e - p) : strlen(p);
      w += (size_t)snprintf(want + w, sizeof want - w, "%sli#%.*s", w ? " " : "", (int)n, p);
      p += n + (e != NULL);
    }
    const char *got = query(d, sel);
    if (strcmp(got, want) != 0) fprintf(stderr, "%s: got \"%s\" want \"%s\"\n", sel, got, want);
    CHECK_STR(got, want);
  }
  const char *bad[] = {"2n+", "n+-1", "2n 1", "+ n", "- n", "2.0n", "1.5", "n--1", "a", "", "n-a", "2n++1",
                       "--n", "n-99999999999", "2n - -1", "1e1", "2n+1 of", "+ 5", "2 n"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char sel[64];
    snprintf(sel, sizeof sel, ":nth-child(%s)", bad[i]);
    if (valid(sel)) fprintf(stderr, "should be invalid: %s\n", sel);
    CHECK(!valid(sel));
  }
  CHECK_STR(query(d, "li:nth-last-child(2)"), "li#l6");
  CHECK_STR(query(d, "li:nth-last-of-type(-n+2)"), "li#l6 li#l7");
  CHECK_STR(query(d, ":nth-child(odd of #l2, #l3, #l4)"), "li#l2 li#l4");
  CHECK_STR(query(d, ":nth-last-child(1 of #l2, #l3, #l4)"), "li#l4");
  dom_free(d);
}

/* el's 1-based position among its element siblings (of its type when
 * of_type), from the start or the end: counted here from the tree, apart
 * from the engine. */
static long sibling_position(const GumboNode *el, bool of_type, bool from_end) {
  long pos = 1;
  for (const GumboNode *x = from_end ? dom_next_element_sibling(el) : dom_prev_element_sibling(el); x;
       x = from_end ? dom_next_element_sibling(x) : dom_prev_element_sibling(x))
    if (!of_type || strcmp(dom_tag_name(x), dom_tag_name(el)) == 0) pos++;
  return pos;
}

static bool anb_holds(long a, long b, long pos) {
  if (a == 0) return pos == b;
  return (pos - b) % a == 0 && (pos - b) / a >= 0;
}

/* What the engine answers for "#r SEL" against what the positions say,
 * for every An+B with a from -3 to 3 and b from -3 to 4 in each of the
 * four :nth-*() forms, on trees of mixed types; and the forms with
 * negative a that stand for :first-*, :last-* and :only-* give what those
 * give. (Generated browser cases once missed -n+1 of-type: it was read as
 * :only-of-type.) */
static void test_anb_against_positions(void) {
  const char *trees[] = {
    "<div id=r><p id=a><span id=b></span><p id=c><p id=d><span id=e></span><em id=f></em></div>",
    "<div id=r><em id=a></em><p id=b><p id=c><span id=d></span><p id=e><p id=f><em id=g></em><p id=h></div>",
    "<div id=r><p id=a><div id=b><p id=c><span id=d></span><p id=e><span id=f></span></div><span id=g></span></div>",
    "<div id=r><b id=a></b></div>",
  };
  const struct { const char *name; bool of_type, from_end; } forms[] = {
    {"nth-child", false, false}, {"nth-last-child", false, true},
    {"nth-of-type", true, false}, {"nth-last-of-type", true, true},
  };
  const char *same[][2] = {
    {":nth-of-type(-n+1)", ":first-of-type"}, {":nth-last-of-type(-n+1)", ":last-of-type"},
    {":nth-child(-n+1)", ":first-child"}, {":nth-last-child(-n+1)", ":last-child"},
    {":nth-of-type(-n+1):nth-last-of-type(-n+1)", ":only-of-type"},
    {":nth-child(-n+1):nth-last-child(-n+1)", ":only-child"},
    {":nth-of-type(-2n+1):nth-last-of-type(-3n+1)", ":only-of-type"},
    {":nth-of-type(1)", ":first-of-type"}, {":nth-last-of-type(0n+1)", ":last-of-type"},
  };
  for (size_t t = 0; t < sizeof trees / sizeof *trees; t++) {
    dom_doc *d = parse(trees[t]);
    GumboNode *r = by_id(d, "r");
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++)
      for (long a = -3; a <= 3; a++)
        for (long b = -3; b <= 4; b++) {
          char sel[96], want[1024] = "";
          snprintf(sel, sizeof sel, "#r :%s(%ldn%+ld)", forms[f].name, a, b);
          size_t w = 0;
          for (GumboNode *x = dom_next_element(r, r); x; x = dom_next_element(x, r))
            if (anb_holds(a, b, sibling_position(x, forms[f].of_type, forms[f].from_end)))
              w += (size_t)snprintf(want + w, sizeof want - w, "%s%s#%s", w ? " " : "", dom_tag_name(x),
                                    dom_attr_find(x, "id")->value);
          const char *got = query(d, sel);
          if (strcmp(got, want) != 0) fprintf(stderr, "tree %zu, %s: got \"%s\" want \"%s\"\n", t, sel, got, want);
          CHECK_STR(got, want);
        }
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
      char one[96], other[96], want[1024];
      snprintf(one, sizeof one, "#r %s", same[i][0]);
      snprintf(other, sizeof other, "#r %s", same[i][1]);
      snprintf(want, sizeof want, "%s", query(d, other));
      const char *got = query(d, one);
      if (strcmp(got, want) != 0) fprintf(stderr, "tree %zu, %s: got \"%s\", %s gives \"%s\"\n", t, one, got, other, want);
      CHECK_STR(got, want);
    }
    dom_free(d);
  }
}

static void test_escapes(void) {
  dom_doc *d = parse("<!doctype html><p id=\"123\" class=\"a.b c:d é\"></p><span id='x\"y' class=\"\xef\xbf\xbd\"></span>"
                     "<b title='a\nb' class='-'></b><i id='&#x1F600;'></i>");
  CHECK_STR(query(d, "#\\31 23"), "p#123");
  CHECK_STR(query(d, "#\\000031 23"), "p#123");
  CHECK_STR(query(d, "#\\31\n23"), "p#123");
  CHECK_STR(query(d, ".a\\.b"), "p#123");
  CHECK_STR(query(d, ".c\\:d"), "p#123");
  CHECK_STR(query(d, ".é"), "p#123");
  CHECK_STR(query(d, ".\\e9"), "p#123");
  CHECK_STR(query(d, "#x\\\"y"), "span#x\"y");
  CHECK_STR(query(d, "[id=\"x\\\"y\"]"), "span#x\"y");
  CHECK_STR(query(d, ".\\0"), "span#x\"y");          /* \0 is U+FFFD */
  CHECK_STR(query(d, ".\\d800"), "span#x\"y");       /* surrogates too */
  CHECK_STR(query(d, ".\\110000"), "span#x\"y");     /* and beyond U+10FFFF */
  CHECK_STR(query(d, "[title=\"a\\\nb\"]"), "");      /* escaped newline in a string is removed */
  CHECK_STR(query(d, "[title=\"a\\a b\"]"), "b");
  CHECK_STR(query(d, "[title=\"a\nb\"]"), "!");       /* raw newline: bad string */
  CHECK_STR(query(d, ".\\-"), "b");
  CHECK_STR(query(d, "#\\1F600"), "i#\xf0\x9f\x98\x80");
  CHECK_STR(query(d, "\\70"), "p#123");
  CHECK_STR(query(d, "p\\"), "");                       /* a trailing backslash is U+FFFD */
  CHECK_STR(query(d, "/* c */p/**/#\\31 23/* */"), "p#123");
  /* NUL in the source is U+FFFD */
  char err[128];
  sel_list *s = sel_compile(".\0", 2, NULL, err, sizeof err);
  CHECK(s != NULL);
  hits h = {.n = 0, .limit = 0};
  if (s) sel_select(s, dom_root(d), collect, &h, NULL);
  CHECK(h.n == 1);
  sel_free(s);
  dom_free(d);
}

/* ---- matching ----------------------------------------------------------------------- */

static void test_combinators(void) {
  dom_doc *d = parse("<!doctype html><div id=a><p id=b><span id=c></span></p><p id=d></p><em id=e></em><p id=f></p></div>");
  CHECK_STR(query(d, "div span"), "span#c");
  CHECK_STR(query(d, "div > span"), "");
  CHECK_STR(query(d, "p + p"), "p#d");
  CHECK_STR(query(d, "p ~ p"), "p#d p#f");
  CHECK_STR(query(d, "em + p"), "p#f");
  CHECK_STR(query(d, "#b ~ em + p"), "p#f");
  CHECK_STR(query(d, "div p > span"), "span#c");
  CHECK_STR(query(d, "html body div p span"), "span#c");
  CHECK_STR(query(d, "div, span, div"), "div#a span#c");
  /* element queries match against the whole document, results under the root */
  GumboNode *b = by_id(d, "b");
  CHECK_STR(query_from(d, b, "div span"), "span#c");
  CHECK_STR(query_from(d, b, "p"), "");
  CHECK_STR(query_from(d, b, ":scope > span"), "span#c");
  CHECK_STR(query_from(d, by_id(d, "a"), ":scope > p"), "p#b p#d p#f");
  CHECK_STR(query(d, ":scope"), "html");
  CHECK_STR(query(d, "& > body"), "body");
  /* sel_matches with an explicit scope */
  char err[64];
  sel_list *s = sel_compile(":scope > p", 10, NULL, err, sizeof err);
  CHECK(sel_matches(s, b, by_id(d, "a"), NULL));
  CHECK(!sel_matches(s, b, NULL, NULL));
  sel_free(s);
  /* early stop */
  s = sel_compile("p", 1, NULL, err, sizeof err);
  hits h = {.n = 0, .limit = 2};
  CHECK(sel_select(s, dom_root(d), collect, &h, NULL) == 2);
  sel_free(s);
  dom_free(d);
}

static void test_structural(void) {
  dom_doc *d = parse("<!doctype html><div id=r><p id=p1> </p><p id=p2><!--c--></p><b id=b1></b><p id=p3>x</p>"
                     "<template id=t><i></i></template></div><i id=i1></i>");
  CHECK_STR(query(d, "#r :empty"), "p#p2 b#b1 template#t");
  CHECK_STR(query(d, "#r > :first-child"), "p#p1");
  CHECK_STR(query(d, "#r > :last-child"), "template#t");
  CHECK_STR(query(d, "p:first-of-type, p:last-of-type"), "p#p1 p#p3");
  CHECK_STR(query(d, "#r :only-of-type"), "b#b1 template#t");
  CHECK_STR(query(d, "i"), "i#i1");  /* template contents are not in the tree */
  CHECK_STR(query(d, "template:has(i)"), "");
  CHECK_STR(query(d, ":root"), "html");
  CHECK_STR(query(d, "html:first-child:last-child:only-child"), "html");
  CHECK_STR(query(d, "div:has(> b)"), "div#r");
  CHECK_STR(query(d, "p:has(+ b)"), "p#p2");
  CHECK_STR(query(d, "p:has(~ b)"), "p#p1 p#p2");
  CHECK_STR(query(d, "p:has(~ p)"), "p#p1 p#p2");
  CHECK_STR(query(d, "body :has(p)"), "div#r");
  CHECK_STR(query(d, ":has(+ i)"), "div#r");
  CHECK_STR(query(d, "p:not(:has(*))"), "p#p1 p#p2 p#p3");
  CHECK_STR(query(d, ":is(b, #p3):where(p)"), "p#p3");
  CHECK_STR(query(d, "p:not(#p1, :empty)"), "p#p3");
  dom_free(d);
}

static void test_attributes(void) {
  dom_doc *d = parse("<!doctype html><a id=a href='/x' hreflang='EN-us' title='Hello World' class='  one two '>a</a>"
                     "<p id=p type=TEXT data-v='a-b'></p><svg id=s type=TEXT viewBox='0 0 1 1'>"
                     "<a id=sa xlink:href=y></a></svg>");
  CHECK_STR(query(d, "[href]"), "a#a");
  CHECK_STR(query(d, "[HREF]"), "a#a");
  CHECK_STR(query(d, "[title='Hello World']"), "a#a");
  CHECK_STR(query(d, "[title='hello world']"), "");
  CHECK_STR(query(d, "[title='hello world' i]"), "a#a");
  CHECK_STR(query(d, "[title~=World]"), "a#a");
  CHECK_STR(query(d, "[title~='']"), "");
  CHECK_STR(query(d, "[title~='o W']"), "");
  CHECK_STR(query(d, "[hreflang|=en]"), "a#a");       /* hreflang values are case-insensitive */
  CHECK_STR(query(d, "[hreflang|=en s]"), "!"); /* Chromium has no 's' flag */
  CHECK_STR(query(d, "[data-v|=a]"), "p#p");
  CHECK_STR(query(d, "[data-v^=a]"), "p#p");
  CHECK_STR(query(d, "[data-v$=b]"), "p#p");
  CHECK_STR(query(d, "[data-v*='-']"), "p#p");
  CHECK_STR(query(d, "[data-v^='']"), "");
  CHECK_STR(query(d, "[type=text]"), "p#p");          /* only on HTML elements */
  CHECK_STR(query(d, "[type=TEXT]"), "p#p svg#s");
  CHECK_STR(query(d, "[viewbox]"), "svg#s");
  CHECK_STR(query(d, "[href]"), "a#a");
  CHECK_STR(query(d, "[*|href]"), "a#a a#sa");
  CHECK_STR(query(d, "[|href]"), "a#a");
  CHECK_STR(query(d, ".one.two"), "a#a");
  CHECK_STR(query(d, ":link"), "a#a a#sa");
  CHECK_STR(query(d, "SVG, A"), "a#a svg#s a#sa");
  CHECK_STR(query(d, "*|svg, |svg"), "svg#s");
  dom_free(d);
}

static void test_quirks_and_case(void) {
  dom_doc *q = parse("<div id=Main class='Foo bar'></div><p id=x></p>");
  CHECK_STR(query(q, "#main"), "div#Main");
  CHECK_STR(query(q, ".foo.BAR"), "div#Main");
  CHECK_STR(query(q, "[class~=foo]"), "");
  dom_free(q);
  dom_doc *d = parse("<!doctype html><div id=Main class='Foo bar'></div>");
  CHECK_STR(query(d, "#main"), "");
  CHECK_STR(query(d, ".foo"), "");
  CHECK_STR(query(d, "DiV#Main.Foo"), "div#Main");
  dom_free(d);
}

static void test_forms(void) {
  dom_doc *d = parse(
      "<!doctype html><form id=f><input id=r1 type=radio name=r checked><input id=r2 type=radio name=r checked>"
      "<input id=r3 type=radio name=q><input id=c1 type=checkbox checked required>"
      "<select id=s1><option id=o1>a<option id=o2 disabled>b</select>"
      "<select id=s2 multiple><option id=o3>a<option id=o4 selected>b</select>"
      "<fieldset id=fs disabled><legend><input id=i1></legend><input id=i2 readonly></fieldset>"
      "<textarea id=t1 placeholder=x></textarea><input id=i3 type=number placeholder=x value=no>"
      "<button id=b1></button><input id=i4 type=submit></form>"
      "<div id=ce contenteditable><span id=sp></span></div><progress id=pg></progress><details id=dt open></details>"
      "<x-y id=xy></x-y>");
  CHECK_STR(query(d, ":checked"), "input#r2 input#c1 option#o1 option#o4");
  CHECK_STR(query(d, ":disabled"), "option#o2 fieldset#fs input#i2");
  CHECK_STR(query(d, ":required"), "input#c1");
  CHECK_STR(query(d, "#fs :read-write, #ce :read-write, :read-write#t1, #i3:read-write"), "input#i1 textarea#t1 input#i3 span#sp");
  CHECK_STR(query(d, ":placeholder-shown"), "textarea#t1 input#i3");
  CHECK_STR(query(d, ":default"), "input#r1 input#r2 input#c1 option#o4 button#b1");
  CHECK_STR(query(d, ":indeterminate"), "input#r3 progress#pg");
  CHECK_STR(query(d, ":open"), "details#dt");
  CHECK_STR(query(d, ":not(:defined)"), "x-y#xy");
  dom_free(d);
}

static void test_lang_dir(void) {
  dom_doc *d = parse("<!doctype html><html lang=en-GB><body><p id=a></p><p id=b lang=fr><i id=c lang=''></i></p>"
                     "<div id=d dir=rtl><span id=e></span><span id=f dir=auto>abc</span></div>"
                     "<div id=g dir=auto>\xd7\xa9</div></body></html>");
  CHECK_STR(query(d, "p:lang(en)"), "p#a");
  CHECK_STR(query(d, "p:lang(EN-gb)"), "p#a");
  CHECK_STR(query(d, ":lang(fr)"), "p#b");
  CHECK_STR(query(d, ":lang(e)"), "");
  CHECK_STR(query(d, "body :dir(rtl)"), "div#d span#e div#g");
  CHECK_STR(query(d, "span:dir(ltr)"), "span#f");
  dom_free(d);
}

static void test_pseudo_elements_never_match(void) {
  dom_doc *d = parse("<!doctype html><p id=a></p>");
  CHECK_STR(query(d, "p::before"), "");
  CHECK_STR(query(d, "p:before"), "");
  CHECK_STR(query(d, "p::before, p"), "p#a");
  CHECK_STR(query(d, ":hover, :focus, :visited, :target"), "");
  CHECK_STR(query(d, "p:not(:hover)"), "p#a");
  dom_free(d);
}

/* Deep documents: matching walks ancestors without recursing, and
 * descendant chains do not backtrack exponentially. */
static void test_deep(void) {
  enum { DEPTH = 20000 };
  buf b = BUF_INIT;
  buf_puts(&b, "<!doctype html>");
  for (int i = 0; i < DEPTH; i++) buf_puts(&b, "<div>");
  buf_puts(&b, "<span id=leaf></span>");
  char err[256];
  dom_options opts = {.max_depth = DEPTH + 100};
  dom_doc *d = dom_parse(b.data, b.len, &opts, err, sizeof err);
  buf_free(&b);
  CHECK(d != NULL);
  if (!d) return;
  CHECK_STR(query(d, "html div div div div div div div div div div span"), "span#leaf");
  CHECK_STR(query(d, "p div div div div div div div div div div span"), "");
  CHECK_STR(query(d, "body > div div > div div > div span"), "span#leaf");
  CHECK_STR(query(d, "section > div div div div div div div div span"), "");
  CHECK_STR(query(d, "div:has(> span) > span"), "span#leaf");
  CHECK_STR(query(d, "body > div:first-child:last-child span:only-child"), "span#leaf");
  dom_free(d);
}

static void test_wide(void) {
  enum { WIDTH = 20000 };
  buf b = BUF_INIT;
  buf_puts(&b, "<!doctype html><ul>");
  for (int i = 0; i < WIDTH; i++) buf_puts(&b, i % 2 ? "<li></li>" : "<li class=x></li>");
  buf_puts(&b, "</ul>");
  dom_doc *d = parse(b.data);
  buf_free(&b);
  char err[64];
  const char *sels[] = {"li:nth-child(2n)", "li:nth-last-child(2n)", "li:nth-of-type(2n)", "li:last-of-type",
                        "li:nth-child(odd of .x)", "li:nth-last-child(odd of .x)"};
  size_t want[] = {WIDTH / 2, WIDTH / 2, WIDTH / 2, 1, WIDTH / 4, WIDTH / 4};
  for (size_t i = 0; i < sizeof sels / sizeof *sels; i++) {
    sel_list *s = sel_compile(sels[i], strlen(sels[i]), NULL, err, sizeof err);
    hits *h = calloc(1, sizeof *h);
    size_t n = sel_select(s, dom_root(d), collect, h, NULL);
    if (n != want[i]) fprintf(stderr, "%s: %zu, want %zu\n", sels[i], n, want[i]);
    CHECK(n == want[i]);
    free(h);
    sel_free(s);
  }
  dom_free(d);
}

static bool count_only(GumboNode *el, void *ud) {
  (void)el;
  (*(size_t *)ud)++;
  return true;
}

static bool stop_third_time(void *ud) { return ++*(int *)ud == 3; }

/* A step is one element tried against one compound: the budget bounds
 * selectors whose work grows with the square of the page, and stops them. */
static void test_budget(void) {
  enum { WIDTH = 3000 };
  buf b = BUF_INIT;
  buf_puts(&b, "<!doctype html><ul>");
  for (int i = 0; i < WIDTH; i++) buf_puts(&b, "<li><i></i></li>");
  buf_puts(&b, "</ul>");
  dom_doc *d = parse(b.data);
  buf_free(&b);
  char err[64];
  struct { const char *sel; size_t want; } cases[] = {
      {"li", WIDTH}, {"li:has(~ li)", WIDTH - 1}, {":has(~ b)", 0}, {"li:has(+ li + li i)", WIDTH - 2},
      {"ul > li:not(:has(i ~ b))", WIDTH}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sel_list *s = sel_compile(cases[i].sel, strlen(cases[i].sel), NULL, err, sizeof err);
    CHECK(s != NULL);
    /* Unbounded: the answer, and the steps it took. */
    sel_budget plenty = {UINT64_MAX, NULL, NULL};
    size_t n = 0;
    CHECK(sel_select(s, dom_root(d), count_only, &n, &plenty) == cases[i].want);
    CHECK(n == cases[i].want);
    uint64_t used = UINT64_MAX - plenty.steps;
    CHECK(used >= WIDTH && plenty.steps > 0);
    /* Exactly enough; one step short runs out. */
    sel_budget steps = {used, NULL, NULL};
    n = 0;
    CHECK(sel_select(s, dom_root(d), count_only, &n, &steps) == cases[i].want && steps.steps == 0);
    steps.steps = used - 1;
    sel_select(s, dom_root(d), count_only, &n, &steps);
    CHECK(steps.steps == 0);
    const GumboNode *ul = dom_next_element(dom_root(d), dom_root(d));
    while (ul && strcmp(dom_tag_name(ul), "ul") != 0) ul = dom_next_element(ul, dom_root(d));
    steps.steps = 10;
    sel_matches(s, dom_next_element(ul, ul), NULL, &steps);
    CHECK(steps.steps < 10);
    sel_free(s);
  }
  /* Quadratic: every li tries every later sibling. */
  sel_list *s = sel_compile(":has(~ b)", 9, NULL, err, sizeof err);
  sel_budget steps = {UINT64_MAX, NULL, NULL};
  size_t n = 0;
  sel_select(s, dom_root(d), count_only, &n, &steps);
  CHECK(UINT64_MAX - steps.steps > (uint64_t)WIDTH * WIDTH / 2);
  steps.steps = 100000;
  sel_select(s, dom_root(d), count_only, &n, &steps);
  CHECK(steps.steps == 0);
  /* A caller's clock, asked every SEL_STOP_STEPS steps: its first "stop"
   * ends the call with the budget out, however many steps are left. */
  int asked = 0;
  steps = (sel_budget){UINT64_MAX, stop_third_time, &asked};
  sel_select(s, dom_root(d), count_only, &n, &steps);
  CHECK(steps.steps == 0 && asked == 3);
  sel_free(s);
  dom_free(d);

  /* Walks over other elements count too: each radio of a group looks
   * through the document for a checked one, each :lang() up its ancestors. */
  b = (buf)BUF_INIT;
  buf_puts(&b, "<!doctype html><form>");
  for (int i = 0; i < WIDTH; i++) buf_puts(&b, i % 2 ? "<input type=radio name=a>" : "<input type=radio name=b>");
  buf_puts(&b, "</form>");
  d = parse(b.data);
  buf_free(&b);
  const char *walks[] = {":indeterminate", ":checked", "input:default", ":lang(en)", ":dir(rtl)", ":read-write"};
  for (size_t i = 0; i < sizeof walks / sizeof *walks; i++) {
    s = sel_compile(walks[i], strlen(walks[i]), NULL, err, sizeof err);
    steps.steps = UINT64_MAX;
    n = 0;
    sel_select(s, dom_root(d), count_only, &n, &steps);
    uint64_t used = UINT64_MAX - steps.steps;
    if (i == 0) CHECK(n == WIDTH && used > (uint64_t)WIDTH * WIDTH / 2);
    else CHECK(used > (uint64_t)WIDTH);
    steps.steps = used / 2;
    sel_select(s, dom_root(d), count_only, &n, &steps);
    CHECK(steps.steps == 0);
    sel_free(s);
  }
  dom_free(d);
}

/* ---- replay of browser answers ------------------------------------------------------ */

/* Undoes the fixture's escaping into out; returns the length (selectors may hold NUL). */
static size_t unescape(const char *line, char *out) {
  size_t n = 0;
  for (const char *p = line; *p; p++) {
    if (*p == '\\' && p[1]) {
      p++;
      out[n++] = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p == 'f' ? '\f' : *p == '0' ? '\0' : *p;
    } else {
      out[n++] = *p;
    }
  }
  out[n] = '\0';
  return n;
}

static bool has_text(const GumboNode *el) {
  if (el->type == GUMBO_NODE_TEMPLATE) return false;
  const GumboVector *kids = dom_children(el);
  for (size_t i = 0; i < kids->length; i++)
    if (dom_is_text(kids->data[i])) return true;
  return false;
}

static void test_browser_cases(const char *path) {
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  if (!f) { fprintf(stderr, "cannot open %s\n", path); return; }
  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  dom_doc *d = NULL;
  GumboNode **els = NULL;
  size_t nels = 0;
  bool tree_ok = false;
  long scope = -1;
  char *sel = NULL;
  size_t sel_len = 0;
  size_t cases = 0, agreed = 0, skipped = 0, docs = 0, bad_docs = 0, shown = 0;
  hits *h = calloc(1, sizeof *h);
  while ((got = getline(&line, &cap, f)) > 0) {
    if (line[got - 1] == '\n') line[--got] = '\0';
    if (line[0] == '#' || got < 1) continue;
    char kind = line[0];
    char *rest = got > 1 ? line + 2 : line + 1;
    if (kind == 'D') {
      dom_free(d);
      free(els);
      els = NULL;
      nels = 0;
      unescape(rest, rest);
      d = parse(rest);
      docs++;
      if (d) {
        GumboNode *root = dom_root(d);
        size_t ecap = 0;
        for (GumboNode *x = dom_next_element(root, root); x; x = dom_next_element(x, root)) {
          if (nels == ecap) {
            ecap = ecap ? ecap * 2 : 64;
            els = realloc(els, ecap * sizeof *els);
          }
          els[nels++] = x;
        }
      }
    } else if (kind == 'E') {
      /* the trees must agree before the answers can be compared */
      tree_ok = d != NULL;
      size_t i = 0;
      for (char *tokp = strtok(rest, " "); tokp && tree_ok; tokp = strtok(NULL, " "), i++) {
        size_t tl = strlen(tokp);
        bool text = tl && tokp[tl - 1] == '+';
        tree_ok = i < nels && strlen(dom_tag_name(els[i])) == tl - text &&
                  strncmp(dom_tag_name(els[i]), tokp, tl - text) == 0 && has_text(els[i]) == text;
      }
      tree_ok = tree_ok && i == nels;
      if (!tree_ok) {
        bad_docs++;
        fprintf(stderr, "document %zu: Gumbo's tree differs from Chromium's at element %zu\n", docs, i ? i - 1 : 0);
      }
    } else if (kind == 'Q') {
      char *sp = strchr(rest, ' ');
      scope = strtol(rest, NULL, 10);
      const char *src = sp ? sp + 1 : "";
      free(sel);
      sel = malloc(strlen(src) + 1);
      sel_len = unescape(src, sel);
    } else if (kind == 'R') {
      cases++;
      if (!tree_ok) { skipped++; continue; }
      char err[256];
      sel_list *s = sel_compile(sel, sel_len, NULL, err, sizeof err);
      bool want_invalid = strcmp(rest, "!") == 0;
      char mine[1024];
      size_t ml = 0;
      mine[0] = '\0';
      if (!s) {
        snprintf(mine, sizeof mine, "! (%s)", err);
      } else {
        h->n = 0;
        h->limit = 0;
        sel_select(s, scope < 0 ? dom_root(d) : els[scope], collect, h, NULL);
        size_t j = 0;
        for (size_t i = 0; i < h->n && ml < sizeof mine - 16; i++) {
          while (j < nels && els[j] != h->el[i]) j++;
          ml += (size_t)snprintf(mine + ml, sizeof mine - ml, "%s%zu", i ? " " : "", j);
        }
        sel_free(s);
      }
      bool same = want_invalid ? s == NULL : (s != NULL && strcmp(mine, rest) == 0);
      if (same) {
        agreed++;
      } else if (shown++ < 40) {
        fprintf(stderr, "browser case (doc %zu, scope %ld) %s\n  chromium: %s\n  glean:    %s\n", docs, scope, sel,
                rest, mine);
      }
    }
  }
  printf("browser cases: %zu, agreed %zu, skipped %zu (%zu of %zu documents parse differently)\n", cases, agreed,
         skipped, bad_docs, docs);
  CHECK(cases > 0);
  CHECK(agreed == cases - skipped);
  /* a fixture whose documents mostly parse differently tests nothing */
  CHECK(bad_docs * 10 <= docs);
  free(h);
  free(sel);
  free(line);
  free(els);
  dom_free(d);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    test_browser_cases(argv[1]);
    return check_summary();
  }
  test_valid_and_invalid();
  test_error_messages();
  test_limits();
  test_anb();
  test_anb_against_positions();
  test_escapes();
  test_combinators();
  test_structural();
  test_attributes();
  test_quirks_and_case();
  test_forms();
  test_lang_dir();
  test_pseudo_elements_never_match();
  test_deep();
  test_wide();
  test_budget();
  test_browser_cases("fixtures/selectors/cases.txt");
  return check_summary();
}
