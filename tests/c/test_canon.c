/* URL canonicalization: each spelling of a page maps to one string. */
#include "canon.h"
#include "check.h"

static void canon_is(const char *url, const canon_options *opts, const char *want) {
  buf b = BUF_INIT;
  char err[128] = "";
  int rc = canon_url(url, opts, &b, err, sizeof err);
  CHECK(rc == 0);
  if (rc != 0) fprintf(stderr, "  %s: %s\n", url, err);
  CHECK_STR(buf_str(&b), want);
  /* The canonical form is a fixed point. */
  buf again = BUF_INIT;
  CHECK(canon_url(buf_str(&b), opts, &again, NULL, 0) == 0);
  CHECK_STR(buf_str(&again), want);
  buf_free(&again);
  buf_free(&b);
}

static void canon_same(const char *a, const char *b) {
  buf x = BUF_INIT, y = BUF_INIT;
  CHECK(canon_url(a, NULL, &x, NULL, 0) == 0);
  CHECK(canon_url(b, NULL, &y, NULL, 0) == 0);
  CHECK_STR(buf_str(&x), buf_str(&y));
  buf_free(&x);
  buf_free(&y);
}

static void canon_rejects(const char *url, const char *reason) {
  buf b = BUF_INIT;
  buf_puts(&b, "kept");
  char err[128] = "";
  CHECK(canon_url(url, NULL, &b, err, sizeof err) == -1);
  CHECK_STR(buf_str(&b), "kept");  /* out untouched on failure */
  CHECK(strstr(err, reason) != NULL);
  if (!strstr(err, reason)) fprintf(stderr, "  %s: %s\n", url, err);
  buf_free(&b);
}

int main(void) {
  /* Case: scheme and host lower-cased, path and query left alone. */
  canon_is("HTTPS://Example.COM/Path/To?Q=A", NULL, "https://example.com/Path/To?Q=A");
  canon_is("HtTp://WWW.Example.org", NULL, "http://www.example.org/");

  /* Default ports dropped, others kept. */
  canon_is("https://example.com:443/a", NULL, "https://example.com/a");
  canon_is("http://example.com:80/a", NULL, "http://example.com/a");
  canon_is("http://example.com:0080/a", NULL, "http://example.com/a");
  canon_is("http://example.com:443/a", NULL, "http://example.com:443/a");
  canon_is("https://example.com:80/a", NULL, "https://example.com:80/a");
  canon_is("https://example.com:8443/a", NULL, "https://example.com:8443/a");
  canon_is("https://example.com:/a", NULL, "https://example.com/a");

  /* Fragments dropped; an empty path becomes "/". */
  canon_is("https://example.com/a#top", NULL, "https://example.com/a");
  canon_is("https://example.com#top", NULL, "https://example.com/");
  canon_is("https://example.com/a?x=1#f?y=2", NULL, "https://example.com/a?x=1");

  /* Dot segments, spelled literally or escaped. */
  canon_is("https://example.com/a/./b/../c", NULL, "https://example.com/a/c");
  canon_is("https://example.com/a/b/../../..", NULL, "https://example.com/");
  canon_is("https://example.com/a/%2e%2E/b", NULL, "https://example.com/b");
  canon_is("https://example.com/a/%2E/b/.", NULL, "https://example.com/a/b/");
  canon_is("https://example.com/a//b", NULL, "https://example.com/a//b");

  /* Percent-encoding: unreserved escapes decoded, hex upper-cased, reserved
   * escapes kept, bytes that may not appear literally escaped. */
  canon_is("https://example.com/%7euser", NULL, "https://example.com/~user");
  canon_is("https://example.com/~user", NULL, "https://example.com/~user");
  canon_same("https://example.com/%7Euser", "https://example.com/~user");
  canon_is("https://example.com/%41%62%2D%5f", NULL, "https://example.com/Ab-_");
  canon_is("https://example.com/a%2fb", NULL, "https://example.com/a%2Fb");
  canon_is("https://example.com/a%2Fb", NULL, "https://example.com/a%2Fb");
  canon_is("https://example.com/a%3Fb?c%3dd=%26", NULL, "https://example.com/a%3Fb?c%3Dd=%26");
  canon_is("https://example.com/a b?q=a b", NULL, "https://example.com/a%20b?q=a%20b");
  canon_is("https://example.com/caf\xc3\xa9", NULL, "https://example.com/caf%C3%A9");
  canon_same("https://example.com/caf\xc3\xa9", "https://example.com/caf%c3%a9");
  canon_is("https://example.com/\"<>^`{|}\\", NULL, "https://example.com/%22%3C%3E%5E%60%7B%7C%7D%5C");
  canon_is("https://example.com/100%", NULL, "https://example.com/100%25");
  canon_is("https://example.com/%zz", NULL, "https://example.com/%25zz");
  canon_is("https://example.com/a:b@c!$&'()*+,;=", NULL, "https://example.com/a:b@c!$&'()*+,;=");
  canon_is("https://example.com/?a=/?:@", NULL, "https://example.com/?a=/?:@");
  canon_is("https://us%65r:p%61ss@Example.com/", NULL, "https://user:pass@example.com/");

  /* Tracking parameters: first, middle, last, only, escaped names, prefix. */
  canon_is("https://example.com/a?utm_source=x&id=7", NULL, "https://example.com/a?id=7");
  canon_is("https://example.com/a?id=7&utm_medium=y&page=2", NULL, "https://example.com/a?id=7&page=2");
  canon_is("https://example.com/a?id=7&fbclid=abc", NULL, "https://example.com/a?id=7");
  canon_is("https://example.com/a?utm_source=x&utm_campaign=y&gclid=z", NULL, "https://example.com/a");
  canon_is("https://example.com/a?utm_source", NULL, "https://example.com/a");
  canon_is("https://example.com/a?utm%5Fsource=x&b=1", NULL, "https://example.com/a?b=1");
  canon_is("https://example.com/a?mc_cid=1&mc_eid=2&igshid=3&msclkid=4&_ga=5&yclid=6&ref_src=7&x=8", NULL,
           "https://example.com/a?x=8");
  canon_is("https://example.com/a?z=1&b=2&a=3", NULL, "https://example.com/a?z=1&b=2&a=3");  /* order kept */
  canon_is("https://example.com/a?gclidx=1&xgclid=2&UTM_source=3", NULL,
           "https://example.com/a?gclidx=1&xgclid=2&UTM_source=3");
  canon_is("https://example.com/a?utm=1&utm_=2", NULL, "https://example.com/a?utm=1");

  /* Empty queries and empty parameters. */
  canon_is("https://example.com/a?", NULL, "https://example.com/a");
  canon_is("https://example.com/a?#f", NULL, "https://example.com/a");
  canon_is("https://example.com/a?&&x=1&&", NULL, "https://example.com/a?x=1");
  canon_is("https://example.com/a?x=&y", NULL, "https://example.com/a?x=&y");

  /* A configured list replaces the default. */
  const char *const mine[] = {"sid", "track_*", NULL};
  canon_options opts = {mine};
  canon_is("https://example.com/?sid=1&track_a=2&utm_source=3&q=4", &opts,
           "https://example.com/?utm_source=3&q=4");
  const char *const none[] = {NULL};
  canon_options keep = {none};
  canon_is("https://example.com/?utm_source=3", &keep, "https://example.com/?utm_source=3");

  /* Hosts: IDN left as curl gives it (only ASCII lower-cased), IP literals. */
  canon_is("https://B\xc3\xbc" "cher.DE/x", NULL, "https://b\xc3\xbc" "cher.de/x");
  canon_is("https://xn--bcher-kva.DE/", NULL, "https://xn--bcher-kva.de/");
  canon_is("http://[::1]:8080/x", NULL, "http://[::1]:8080/x");
  canon_is("http://127.0.0.1/", NULL, "http://127.0.0.1/");

  /* Whole URLs that are the same page. */
  canon_same("HTTPS://WWW.Example.com:443/a/../b/%7Efoo?utm_source=news&id=1#comments",
             "https://www.example.com/b/~foo?id=1");

  /* Refused: relative, other schemes, unparsable. */
  canon_rejects("/relative/path", "not an absolute URL");
  canon_rejects("example.com/x", "not an absolute URL");
  canon_rejects("", "not an absolute URL");
  canon_rejects("ftp://example.com/x", "not an http or https URL");
  canon_rejects("file:///etc/passwd", "not an http or https URL");
  canon_rejects("https://exa mple.com/", "not an absolute URL");
  canon_rejects("https://example.com:99999/", "not an absolute URL");
  canon_rejects("https://example.com/a\x01" "b", "not an absolute URL");

  /* canon_host on canonical URLs. */
  size_t n = 0;
  const char *h = canon_host("https://user:p@example.com:8080/a@b", &n);
  CHECK(h && n == 11 && strncmp(h, "example.com", n) == 0);
  h = canon_host("http://[::1]:8080/", &n);
  CHECK(h && n == 5 && strncmp(h, "[::1]", n) == 0);
  h = canon_host("https://example.com/", &n);
  CHECK(h && n == 11 && strncmp(h, "example.com", n) == 0);
  CHECK(canon_host("no scheme", &n) == NULL);

  /* canon_escape per part. */
  buf b = BUF_INIT;
  canon_escape("a@b:c/d?", 8, CANON_USERINFO, &b);
  CHECK_STR(buf_str(&b), "a%40b:c%2Fd%3F");
  buf_reset(&b);
  canon_escape("a@b/d?", 6, CANON_PATH, &b);
  CHECK_STR(buf_str(&b), "a@b/d%3F");
  buf_reset(&b);
  canon_escape("%4", 2, CANON_PATH, &b);  /* truncated escape */
  CHECK_STR(buf_str(&b), "%254");
  buf_free(&b);
  return check_summary();
}
