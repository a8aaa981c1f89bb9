/* URL resolution against bases, as browsers resolve hrefs. */
#include "check.h"
#include "url.h"

static void resolves(const char *base, const char *ref, const char *want) {
  buf b = BUF_INIT;
  int rc = url_resolve(base, ref, &b);
  CHECK(rc == 0);
  CHECK_STR(buf_str(&b), want);
  buf_free(&b);
}

static void fails(const char *base, const char *ref) {
  buf b = BUF_INIT;
  CHECK(url_resolve(base, ref, &b) != 0);
  buf_free(&b);
}

int main(void) {
  const char *base = "https://example.com/a/b/c?q=1#frag";
  resolves(base, "d", "https://example.com/a/b/d");
  resolves(base, "../d", "https://example.com/a/d");
  resolves(base, "/x/y", "https://example.com/x/y");
  resolves(base, "//other.org/p", "https://other.org/p");
  resolves(base, "?z=2", "https://example.com/a/b/c?z=2");
  resolves(base, "#top", "https://example.com/a/b/c?q=1#top");
  resolves(base, "", "https://example.com/a/b/c?q=1");
  resolves(base, "  /p\n/q\t ", "https://example.com/p/q");
  resolves(base, "http://Example.COM:80/x", "http://example.com/x");
  resolves(base, "/a b", "https://example.com/a%20b");
  resolves(NULL, "https://example.com/x", "https://example.com/x");
  fails(NULL, "/relative");
  fails(NULL, "");
  return check_summary();
}
