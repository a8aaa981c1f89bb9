/* Site discovery files: robots.txt (RFC 9309: groups, longest match,
 * wildcards, tolerance, status handling) and sitemaps, with the Coins2Day
 * fixtures. Run from tests/. */
#include <stdlib.h>

#include "check.h"
#include "robots.h"
#include "sitemap.h"

static robots *parse(const char *body, const char *agent) { return robots_parse(body, strlen(body), agent); }

/* want is a list of "+path" (allowed) and "-path" (disallowed). */
static void expect(const robots *r, const char *const *want) {
  for (; *want; want++) {
    bool allowed = robots_allowed(r, *want + 1);
    CHECK(allowed == (**want == '+'));
    if (allowed != (**want == '+')) fprintf(stderr, "  for %s\n", *want);
  }
}

/* RFC 9309 section 5.1. */
static const char rfc_example[] =
    "User-Agent: *\n"
    "Disallow: *.gif$\n"
    "Disallow: /example/\n"
    "Allow: /publications/\n"
    "\n"
    "User-Agent: foobot\n"
    "Disallow:/\n"
    "Allow:/example/page.html\n"
    "Allow:/example/allowed.gif\n"
    "\n"
    "User-Agent: barbot\n"
    "User-Agent: bazbot\n"
    "Disallow: /example/page.html\n"
    "\n"
    "User-Agent: quxbot\n";

static void test_rfc(void) {
  robots *r = parse(rfc_example, "foobot");
  expect(r, (const char *[]){"+/example/page.html", "+/example/allowed.gif", "-/example/other.html", "-/",
                             "-/publications/", "+/robots.txt", NULL});
  robots_free(r);
  r = parse(rfc_example, "FooBot/2.1 (+https://example.com/bot)");  /* token, any case */
  expect(r, (const char *[]){"+/example/page.html", "-/x", NULL});
  robots_free(r);
  for (int i = 0; i < 2; i++) {
    r = parse(rfc_example, i ? "bazbot" : "barbot");
    expect(r, (const char *[]){"-/example/page.html", "+/example/other.html", "+/x.gif", "+/", NULL});
    robots_free(r);
  }
  r = parse(rfc_example, "quxbot");  /* its group is empty: everything allowed */
  expect(r, (const char *[]){"+/", "+/example/", "+/x.gif", NULL});
  robots_free(r);
  r = parse(rfc_example, "otherbot");  /* falls back to "*" */
  expect(r, (const char *[]){"-/x.gif", "+/x.gif?v=1", "-/example/", "-/example/a", "+/publications/",
                             "+/publications/x", "+/", "+/example", NULL});
  robots_free(r);
  r = parse(rfc_example, "foobot-news");  /* tokens match whole, not by prefix */
  expect(r, (const char *[]){"-/x.gif", "+/", NULL});
  robots_free(r);

  /* Section 5.2: the longest match wins. */
  r = parse("User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n", "foobot");
  expect(r, (const char *[]){"+/example/page/", "+/example/page/a.gif", "-/example/page/disallowed.gif", NULL});
  robots_free(r);

  /* Section 2.2.1: groups naming the same agent merge; several agents share
   * a group; an agent named only in a group without rules gets no rules. */
  static const char groups[] =
      "user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\n"
      "user-agent: a\ndisallow: /c\n\nuser-agent: b\ndisallow: /d\n\n"
      "user-agent: e\nuser-agent: f\ndisallow: /g\n\nuser-agent: h\n\n"
      "user-agent: examplebot\ndisallow: /baz\n";
  r = parse(groups, "ExampleBot");
  expect(r, (const char *[]){"-/foo", "-/bar", "-/baz", "+/c", "+/g", NULL});
  robots_free(r);
  r = parse(groups, "f");
  expect(r, (const char *[]){"-/g", "+/c", "+/foo", NULL});
  robots_free(r);
  r = parse(groups, "h");
  expect(r, (const char *[]){"+/g", "+/c", "+/foo", NULL});
  robots_free(r);
  r = parse(groups, "zzz");  /* no group and no "*": everything allowed */
  expect(r, (const char *[]){"+/foo", "+/g", NULL});
  robots_free(r);

  /* Section 2.2.3: special characters and percent-encoding. */
  r = parse("User-agent: *\n"
            "Disallow: /\n"
            "Allow: / # comment in line\n"
            "# comment on its own line\n"
            "Allow: /this/path/exactly$\n"
            "Allow: /this/*/exactly\n"
            "Allow: /path/file-with-a-%2A.html\n"
            "Allow: /path/foo-%24\n"
            "Allow: /foo/bar?baz=quz\n"
            "Allow: /foo/bar/\xE3\x83\x84\n"
            "Allow: /foo/bar/%62%61%7A\n"
            "Disallow: /Q/\n",
            "bot");
  expect(r, (const char *[]){"+/this/path/exactly", "+/this/a/b/exactly", "+/path/file-with-a-*.html",
                             "+/path/file-with-a-%2a.html", "+/path/foo-$", "+/foo/bar?baz=quz",
                             "+/foo/bar/%E3%83%84", "+/foo/bar/%e3%83%84", "+/foo/bar/\xE3\x83\x84",
                             "+/foo/bar/baz", "+/foo/bar/%62az", "-/Q/x", "-/Q/", NULL});
  robots_free(r);
}

static void test_wildcards(void) {
  robots *r = parse("User-agent: *\n"
                    "Disallow: /*.php$\n"
                    "Disallow: /fish*\n"
                    "Disallow: /a*b*c$\n"
                    "Disallow: /*/private/\n"
                    "Disallow: /$\n"
                    "Disallow: /x$y\n"
                    "Disallow: /~user\n",
                    "bot");
  expect(r, (const char *[]){"-/index.php", "-/dir/file.php", "+/index.php?x=1", "+/index.php5",
                             "-/fish", "-/fish.html", "-/fishheads/yummy.html", "+/Fish.asp", "+/catfish",
                             "-/abc", "-/aXbYbZc", "-/abcbc", "+/abcd", "+/acb",
                             "-/1/private/", "-/1/2/private/x", "+/private/",
                             "-/", "+/?q=1", "+/index.html",
                             "-/x$y", "-/x%24y", "+/xy",
                             "-/~user/", "-/%7euser/", "-/%7Euser", NULL});
  robots_free(r);

  /* '*' alone, leading, repeated; a tie goes to allow. */
  r = parse("User-agent: *\nDisallow: *\nAllow: /ok**\nDisallow: /ok/no\nAllow: /ok/no\n", "bot");
  expect(r, (const char *[]){"-/", "-/x", "+/ok", "+/ok/yes", "+/ok/no", NULL});
  robots_free(r);
  r = parse("User-agent: *\nDisallow: /page\nAllow: /*$\n", "bot");  /* 5 octets vs 3 */
  expect(r, (const char *[]){"-/page", "-/pages", "+/other", NULL});
  robots_free(r);
  r = parse("User-agent: *\nDisallow: /a\nAllow: /a$\n", "bot");  /* the anchor counts */
  expect(r, (const char *[]){"+/a", "-/ab", NULL});
  robots_free(r);
}

static void test_tolerance(void) {
  /* BOM, CR and CRLF ends, case and spacing of keys, garbage, NUL bytes,
   * rules before any group, unknown records, empty Disallow, no final
   * newline. */
  static const char messy[] =
      "\xEF\xBB\xBF"
      "Disallow: /before-any-group\r\n"
      "garbage line without colon\r"
      "\x01\x02:\xff\xfe\r\n"
      "  USER-AGENT :  *  \r\n"
      "Foo: bar\r\n"
      "disallow:/secret # hidden\r"
      "DISALLOW\t:\t/tab\n"
      "Disallow: /nul\0byte\n"
      "Noindex: /x\n"
      "Allow:\n"
      "Disallow: /last";
  robots *r = robots_parse(messy, sizeof messy - 1, "bot");
  expect(r, (const char *[]){"+/before-any-group", "-/secret", "-/secret/x", "-/tab", "-/last", "+/nul",
                             "-/nul%00byte", "+/", "+/x", NULL});
  robots_free(r);

  /* "Disallow:" alone allows everything. */
  r = parse("User-agent: *\nDisallow:\n", "bot");
  expect(r, (const char *[]){"+/", "+/anything", NULL});
  robots_free(r);

  /* Empty and bodiless files. */
  r = robots_parse("", 0, "bot");
  expect(r, (const char *[]){"+/", NULL});
  CHECK(robots_crawl_delay(r) == -1);
  CHECK(robots_sitemap_count(r) == 0);
  robots_free(r);
  r = parse("User-agent: *\nDisallow: /\n", NULL);  /* no agent: "*" */
  expect(r, (const char *[]){"-/", "-", "+/robots.txt", "+/robots.txt?x=1", "-/robots.txt/x", NULL});
  robots_free(r);

  /* Only the first 500 KiB are read, and a line cut there is dropped. */
  size_t big = ROBOTS_MAX_BYTES + 4096;
  char *body = malloc(big);
  const char *head = "User-agent: *\nDisallow: /early\n";
  memset(body, '#', big);
  memcpy(body, head, strlen(head));
  body[strlen(head) + 10] = '\n';
  const char *cut = "\nDisallow: /cut-by-the-limit\n";  /* straddles the limit */
  memcpy(body + ROBOTS_MAX_BYTES - 20, cut, strlen(cut));
  const char *late = "\nDisallow: /late\n";
  memcpy(body + big - strlen(late), late, strlen(late));
  r = robots_parse(body, big, "bot");
  expect(r, (const char *[]){"-/early", "+/cut", "+/cut-by-the-limit", "+/late", NULL});
  robots_free(r);
  /* A line ending exactly at the limit is kept. */
  memset(body, '#', big);
  memcpy(body, head, strlen(head));
  body[strlen(head) + 10] = '\n';
  const char *edge = "\nDisallow: /edge";
  memcpy(body + ROBOTS_MAX_BYTES - strlen(edge), edge, strlen(edge));
  body[ROBOTS_MAX_BYTES] = '\n';
  r = robots_parse(body, big, "bot");
  expect(r, (const char *[]){"-/early", "-/edge", NULL});
  robots_free(r);
  free(body);
}

static void test_delay_and_sitemaps(void) {
  static const char txt[] =
      "Sitemap: https://example.com/before.xml\n"
      "User-agent: *\n"
      "Crawl-delay: 10\n"
      "Disallow: /x\n"
      "Sitemap: https://example.com/inside.xml # comment\n"
      "User-agent: slowbot\n"
      "Crawl-delay: 2.5\n"
      "Crawl-delay: 0.5\n"
      "User-agent: badbot\n"
      "Crawl-delay: soon\n"
      "User-agent: quickbot\n"
      "Disallow: /y\n"
      "sitemap:https://example.com/after.xml\n"
      "Sitemap:\n";
  robots *r = parse(txt, "slowbot");
  CHECK(robots_crawl_delay(r) == 2.5);
  expect(r, (const char *[]){"+/x", NULL});
  CHECK(robots_sitemap_count(r) == 3);
  CHECK_STR(robots_sitemap(r, 0), "https://example.com/before.xml");
  CHECK_STR(robots_sitemap(r, 1), "https://example.com/inside.xml");
  CHECK_STR(robots_sitemap(r, 2), "https://example.com/after.xml");
  CHECK(robots_sitemap(r, 3) == NULL);
  robots_free(r);
  r = parse(txt, "otherbot");
  CHECK(robots_crawl_delay(r) == 10);
  expect(r, (const char *[]){"-/x", NULL});
  CHECK(robots_sitemap_count(r) == 3);
  robots_free(r);
  r = parse(txt, "badbot");
  CHECK(robots_crawl_delay(r) == -1);
  robots_free(r);
  r = parse(txt, "quickbot");
  CHECK(robots_crawl_delay(r) == -1);
  expect(r, (const char *[]){"-/y", "+/x", NULL});
  robots_free(r);
}

static void test_status(void) {
  const char *body = "User-agent: *\nDisallow: /private\n";
  robots *r = robots_from_status(200, body, strlen(body), "bot");
  expect(r, (const char *[]){"-/private", "+/public", NULL});
  robots_free(r);
  long unavailable[] = {404, 410, 401, 403, 301};
  for (size_t i = 0; i < sizeof unavailable / sizeof *unavailable; i++) {
    r = robots_from_status(unavailable[i], body, strlen(body), "bot");
    expect(r, (const char *[]){"+/private", "+/", NULL});
    robots_free(r);
  }
  long unreachable[] = {500, 503, 0, 100};
  for (size_t i = 0; i < sizeof unreachable / sizeof *unreachable; i++) {
    r = robots_from_status(unreachable[i], body, strlen(body), "bot");
    expect(r, (const char *[]){"-/public", "-/", "+/robots.txt", NULL});
    CHECK(robots_crawl_delay(r) == -1);
    robots_free(r);
  }
}

static char *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  char *data = malloc(1 << 16);
  *len = data ? fread(data, 1, 1 << 16, fp) : 0;
  fclose(fp);
  return data;
}

static void test_coins2day(void) {
  size_t len = 0;
  char *body = slurp("fixtures/coins2day/site/robots.txt", &len);
  CHECK(body != NULL);
  if (!body) return;
  robots *r = robots_parse(body, len, "GleanBot/0.1");
  expect(r, (const char *[]){"-/search/", "-/search/?q=bitcoin", "-/api/", "-/api/v1/quotes", "+/search",
                             "+/", "+/2025/06/02/redfernly-bank-names-ulrich-fitzwilliam-ceo-as-imani-tolliver-steps-down/",
                             "+/rankings/", "+/sitemap.xml", NULL});
  CHECK(robots_sitemap_count(r) == 1);
  CHECK_STR(robots_sitemap(r, 0), "https://coins2day.com/sitemap.xml");
  CHECK(robots_crawl_delay(r) == -1);
  robots_free(r);
  r = robots_parse(body, len, "ccbot");
  expect(r, (const char *[]){"-/", "-/rankings/", "-/search/", "+/robots.txt", NULL});
  CHECK(robots_sitemap_count(r) == 1);
  robots_free(r);
  free(body);
}

static sitemap *scan(const char *xml) { return sitemap_parse(xml, strlen(xml)); }

/* want: the kind, then the URLs expected, NULL-terminated. */
static void locs_are(const char *xml, sitemap_kind kind, const char *const *want) {
  sitemap *sm = scan(xml);
  CHECK(sm != NULL);
  if (!sm) return;
  CHECK(sitemap_type(sm) == kind);
  size_t n = 0;
  for (; want[n]; n++) CHECK_STR(sitemap_loc(sm, n), want[n]);
  CHECK(sitemap_count(sm) == n);
  if (sitemap_count(sm) != n) fprintf(stderr, "  %zu URLs, want %zu, in %.60s\n", sitemap_count(sm), n, xml);
  CHECK(sitemap_loc(sm, n) == NULL);
  sitemap_free(sm);
}

static void test_sitemaps(void) {
  size_t len = 0;
  char *body = slurp("fixtures/coins2day/site/sitemap.xml", &len);
  CHECK(body != NULL);
  if (body) {
    sitemap *sm = sitemap_parse(body, len);
    CHECK(sitemap_type(sm) == SITEMAP_URLSET);
    CHECK(sitemap_count(sm) == 13);
    CHECK_STR(sitemap_loc(sm, 0),
              "https://coins2day.com/2025/06/02/redfernly-bank-names-ulrich-fitzwilliam-ceo-as-imani-tolliver-steps-down/");
    CHECK_STR(sitemap_loc(sm, 12), "https://coins2day.com/2017/01/13/jack-ma-alibaba-global-retail-empire/");
    sitemap_free(sm);
    free(body);
  }

  /* An index with a prefix, a doctype with an internal subset, comments,
   * CDATA and white space. */
  locs_are("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
           "<!-- generated > by hand -->\r\n"
           "<!DOCTYPE sm:sitemapindex [ <!ENTITY x \"<y>\"> ]>\r\n"
           "<sm:sitemapindex xmlns:sm=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\r\n"
           "  <sm:sitemap>\r\n    <sm:loc>\r\n      https://example.com/sitemap-1.xml\r\n    </sm:loc>\r\n"
           "    <sm:lastmod>2024-01-01</sm:lastmod>\r\n  </sm:sitemap>\r\n"
           "  <sm:sitemap><sm:loc><![CDATA[ https://example.com/s?a=1&b=<2> ]]></sm:loc></sm:sitemap>\r\n"
           "</sm:sitemapindex>\r\n",
           SITEMAP_INDEX, (const char *[]){"https://example.com/sitemap-1.xml", "https://example.com/s?a=1&b=<2>", NULL});

  /* References: predefined, numeric, invalid or unknown kept as written. */
  locs_are("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
           "<url><loc>https://example.com/?a=1&amp;b=2&#38;c=3&#x26;d=&lt;&gt;&quot;&apos;</loc></url>"
           "<url><loc>https://example.com/caf&#233;/&#x1F600;&#x30c4;</loc></url>"
           "<url><loc>https://example.com/&nbsp;&#0;&#xD800;&#x110000;&#;&#x;&amp &</loc></url>"
           "</urlset>",
           SITEMAP_URLSET,
           (const char *[]){"https://example.com/?a=1&b=2&c=3&d=<>\"'", "https://example.com/caf\xC3\xA9/\xF0\x9F\x98\x80\xE3\x83\x84",
                            "https://example.com/&nbsp;&#0;&#xD800;&#x110000;&#;&#x;&amp &", NULL});

  /* Only <loc> children of <url>: extension locs, stray locs, empty locs
   * and locs of the wrong parent are not URLs; a '>' in an attribute value
   * does not end the tag; comments inside a loc vanish. */
  locs_are("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" "
           "xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\" note='a>b'>\n"
           "<loc>https://example.com/stray</loc>\n"
           "<url><loc>https://example.com/page</loc>"
           "<image:image><image:loc>https://example.com/photo.jpg</image:loc></image:image></url>\n"
           "<url><loc>   </loc></url><url><loc/></url><url/>\n"
           "<sitemap><loc>https://example.com/wrong-parent.xml</loc></sitemap>\n"
           "<url><loc>https://example.com/<!-- x -->joined<b>bold</b></loc></url>\n"
           "</urlset>",
           SITEMAP_URLSET, (const char *[]){"https://example.com/page", "https://example.com/joinedbold", NULL});
  locs_are("<sitemapindex><url><loc>https://example.com/page</loc></url></sitemapindex>", SITEMAP_INDEX,
           (const char *[]){NULL});

  /* Not sitemaps: no URLs. */
  locs_are("<!DOCTYPE html><html><body><url><loc>https://example.com/</loc></url></body></html>",
           SITEMAP_UNKNOWN, (const char *[]){NULL});
  locs_are("\x1f\x8b\x08\x00\x00\x00\x00\x00", SITEMAP_UNKNOWN, (const char *[]){NULL});
  locs_are("", SITEMAP_UNKNOWN, (const char *[]){NULL});
  locs_are("<urlset/>", SITEMAP_URLSET, (const char *[]){NULL});

  /* Cut short: the URLs before the cut; after the root: nothing. */
  locs_are("<urlset><url><loc>https://a.test/1</loc></url><url><loc>https://a.test/2", SITEMAP_URLSET,
           (const char *[]){"https://a.test/1", NULL});
  locs_are("<urlset><url><loc><![CDATA[https://a.test/1", SITEMAP_URLSET, (const char *[]){NULL});
  locs_are("<urlset><url><loc>https://a.test/1</loc></url><!-- unterminated", SITEMAP_URLSET,
           (const char *[]){"https://a.test/1", NULL});
  locs_are("</stray><urlset><url><loc>https://a.test/1</loc></url></urlset>"
           "<urlset><url><loc>https://a.test/2</loc></url></urlset>",
           SITEMAP_URLSET, (const char *[]){"https://a.test/1", NULL});
}

int main(void) {
  test_rfc();
  test_wildcards();
  test_tolerance();
  test_delay_and_sitemaps();
  test_status();
  test_coins2day();
  test_sitemaps();
  return check_summary();
}
