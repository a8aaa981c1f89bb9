/* The crawl frontier: dedup, limits, host filter, fair hand-out. */
#include <stdio.h>

#include "check.h"
#include "frontier.h"

/* Hands out everything ready and appends "host-letter path" pairs, e.g.
 * "a/1 b/1", to got. */
static void drain(frontier *f, frontier_ready_fn ready, void *ud, char *got, size_t len) {
  frontier_item it;
  got[0] = '\0';
  while (frontier_next(f, ready, ud, &it)) {
    size_t n = strlen(got);
    /* URLs here look like https://a.test/1 */
    snprintf(got + n, len - n, "%s%c%s", n ? " " : "", it.host[0], strrchr(it.url, '/'));
  }
}

static bool not_host(void *ud, const char *host) { return strcmp(host, ud) != 0; }

static void test_dedup(void) {
  frontier *f = frontier_new(NULL);
  CHECK(frontier_add(f, "https://Example.com/a?utm_source=x&id=1#top", 0, 7) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://example.com/a?id=1", 1, 0) == FRONTIER_SEEN);
  CHECK(frontier_add(f, "HTTPS://EXAMPLE.COM:443/a?id=1&fbclid=q#other", 1, 0) == FRONTIER_SEEN);
  CHECK(frontier_add(f, "https://example.com/%61?gclid=z&id=1", 1, 0) == FRONTIER_SEEN);
  CHECK(frontier_add(f, "https://example.com/a/../a?id=1", 1, 0) == FRONTIER_SEEN);
  CHECK(frontier_add(f, "https://example.com/A?id=1", 1, 0) == FRONTIER_ADDED);  /* paths are case-sensitive */
  CHECK(frontier_add(f, "http://example.com/a?id=1", 1, 0) == FRONTIER_ADDED);   /* so is the scheme's meaning */
  CHECK(frontier_add(f, "/relative", 0, 0) == FRONTIER_BAD_URL);
  CHECK(frontier_add(f, "mailto:someone@example.com", 0, 0) == FRONTIER_BAD_URL);
  CHECK(frontier_add(f, "javascript:void(0)", 0, 0) == FRONTIER_BAD_URL);
  CHECK(frontier_queued(f) == 3);
  CHECK(frontier_seen(f) == 3);

  frontier_item it;
  CHECK(frontier_next(f, NULL, NULL, &it));
  CHECK_STR(it.url, "https://example.com/a?id=1");
  CHECK_STR(it.host, "example.com");
  CHECK(it.depth == 0 && it.tag == 7);
  /* Handed out is still seen. */
  CHECK(frontier_add(f, "https://example.com/a?id=1", 0, 0) == FRONTIER_SEEN);
  CHECK(frontier_queued(f) == 2);

  /* A redirect's final URL, reached without frontier_add. */
  CHECK(frontier_mark_seen(f, "https://example.com/final?utm_campaign=z#x") == FRONTIER_ADDED);
  CHECK(frontier_mark_seen(f, "https://example.com/final") == FRONTIER_SEEN);
  CHECK(frontier_add(f, "https://EXAMPLE.com/final", 1, 0) == FRONTIER_SEEN);
  CHECK(frontier_mark_seen(f, "https://example.com/A?id=1") == FRONTIER_SEEN);  /* queued counts as seen */
  CHECK(frontier_mark_seen(f, "not a url") == FRONTIER_BAD_URL);
  CHECK(frontier_seen(f) == 4);
  CHECK(frontier_queued(f) == 2);
  frontier_free(f);

  /* The frontier's tracking list is canon's, configurable. */
  const char *const tracking[] = {"session", NULL};
  canon_options copts = {tracking};
  frontier_options opts = {.max_depth = -1, .canon = &copts};
  f = frontier_new(&opts);
  CHECK(frontier_add(f, "https://example.com/?session=1&q=a", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://example.com/?q=a", 0, 0) == FRONTIER_SEEN);
  CHECK(frontier_add(f, "https://example.com/?q=a&utm_source=x", 0, 0) == FRONTIER_ADDED);
  frontier_free(f);
}

static void test_depth(void) {
  frontier_options opts = {.max_depth = 2};
  frontier *f = frontier_new(&opts);
  CHECK(frontier_add(f, "https://example.com/0", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://example.com/2", 2, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://example.com/3", 3, 0) == FRONTIER_TOO_DEEP);
  CHECK(frontier_add(f, "not even a url", 3, 0) == FRONTIER_TOO_DEEP);
  /* Refused for depth is not remembered: reachable from a shallower page. */
  CHECK(frontier_add(f, "https://example.com/3", 1, 0) == FRONTIER_ADDED);
  CHECK(frontier_queued(f) == 3);
  frontier_free(f);

  opts.max_depth = 0;  /* seeds only */
  f = frontier_new(&opts);
  CHECK(frontier_add(f, "https://example.com/", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://example.com/x", 1, 0) == FRONTIER_TOO_DEEP);
  frontier_free(f);

  f = frontier_new(NULL);  /* no limit */
  CHECK(frontier_add(f, "https://example.com/deep", 1000000, 0) == FRONTIER_ADDED);
  frontier_free(f);
}

static void test_cap(void) {
  frontier_options opts = {.max_depth = -1, .max_queued = 3};
  frontier *f = frontier_new(&opts);
  CHECK(frontier_add(f, "https://a.test/1", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://a.test/2", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://b.test/1", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://b.test/2", 0, 0) == FRONTIER_FULL);
  CHECK(frontier_add(f, "https://a.test/1#x", 0, 0) == FRONTIER_SEEN);  /* dedup before the cap */
  CHECK(frontier_queued(f) == 3);
  CHECK(frontier_seen(f) == 3);
  frontier_item it;
  CHECK(frontier_next(f, NULL, NULL, &it));
  /* Refused while full is not remembered: room again, it goes in. */
  CHECK(frontier_add(f, "https://b.test/2", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://b.test/3", 0, 0) == FRONTIER_FULL);
  CHECK_STR(frontier_status_name(FRONTIER_FULL), "full");
  frontier_free(f);
}

static void test_hosts(void) {
  frontier_options opts = {.max_depth = -1};
  frontier *f = frontier_new(&opts);
  CHECK(frontier_add(f, "https://anywhere.test/", 0, 0) == FRONTIER_ADDED);  /* none allowed: all are */
  CHECK(frontier_allow_host(f, "Example.COM") == 0);
  CHECK(frontier_allow_host(f, "example.com") == 0);
  CHECK(frontier_allow_host(f, "other.org") == 0);
  CHECK(frontier_add(f, "https://EXAMPLE.com/x", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "http://example.com:8080/x", 0, 0) == FRONTIER_ADDED);  /* the port is not the host */
  CHECK(frontier_add(f, "https://other.org/", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://www.example.com/", 0, 0) == FRONTIER_OFFSITE);
  CHECK(frontier_add(f, "https://elsewhere.test/", 0, 0) == FRONTIER_OFFSITE);
  CHECK(frontier_add(f, "https://user@elsewhere.test/@example.com", 0, 0) == FRONTIER_OFFSITE);
  frontier_free(f);

  opts.allow_subdomains = true;
  f = frontier_new(&opts);
  CHECK(frontier_allow_host(f, "example.com") == 0);
  CHECK(frontier_add(f, "https://example.com/", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://www.example.com/", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://a.b.Example.com/", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_add(f, "https://notexample.com/", 0, 0) == FRONTIER_OFFSITE);
  CHECK(frontier_add(f, "https://example.com.evil.test/", 0, 0) == FRONTIER_OFFSITE);
  CHECK(frontier_add(f, "https://com/", 0, 0) == FRONTIER_OFFSITE);
  CHECK(frontier_queued(f) == 3);
  frontier_free(f);
}

static void test_fairness(void) {
  frontier *f = frontier_new(NULL);
  const char *urls[] = {"https://a.test/1", "https://a.test/2", "https://a.test/3", "https://a.test/4",
                        "https://b.test/1", "https://b.test/2", "https://c.test/1"};
  for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) CHECK(frontier_add(f, urls[i], 0, 0) == FRONTIER_ADDED);
  char got[256];
  drain(f, NULL, NULL, got, sizeof got);
  CHECK_STR(got, "a/1 b/1 c/1 a/2 b/2 a/3 a/4");
  CHECK(frontier_queued(f) == 0);

  /* A busy host loses its turns; the others go on; it is served once ready. */
  frontier_free(f);
  f = frontier_new(NULL);
  for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) frontier_add(f, urls[i], 0, 0);
  drain(f, not_host, "b.test", got, sizeof got);
  CHECK_STR(got, "a/1 c/1 a/2 a/3 a/4");
  CHECK(frontier_queued(f) == 2);  /* false with work left: every waiting host was busy */
  frontier_item it;
  CHECK(!frontier_next(f, not_host, "b.test", &it));
  drain(f, NULL, NULL, got, sizeof got);
  CHECK_STR(got, "b/1 b/2");
  CHECK(!frontier_next(f, NULL, NULL, &it));

  /* A host that starts waiting mid-round joins at the end of the round. */
  frontier_add(f, "https://a.test/5", 0, 0);
  frontier_add(f, "https://a.test/6", 0, 0);
  frontier_add(f, "https://b.test/3", 0, 0);
  frontier_add(f, "https://c.test/2", 0, 0);
  CHECK(frontier_next(f, NULL, NULL, &it));
  CHECK_STR(it.url, "https://a.test/5");
  frontier_add(f, "https://d.test/1", 0, 0);
  drain(f, NULL, NULL, got, sizeof got);
  CHECK_STR(got, "b/3 c/2 a/6 d/1");
  frontier_free(f);
}

static void test_million(void) {
  enum { N = 1000000, HOSTS = 1000 };
  frontier_options opts = {.max_depth = 5, .max_queued = N};
  frontier *f = frontier_new(&opts);
  char url[96];
  int added = 0;
  for (int i = 0; i < N; i++) {
    snprintf(url, sizeof url, "https://h%d.example/page/%d?utm_source=feed", i % HOSTS, i);
    added += frontier_add(f, url, (unsigned)(i % 6), (intptr_t)i) == FRONTIER_ADDED;
  }
  CHECK(added == N);
  CHECK(frontier_queued(f) == N);
  CHECK(frontier_seen(f) == N);
  snprintf(url, sizeof url, "https://h1.example/page/1000001");
  CHECK(frontier_add(f, url, 0, 0) == FRONTIER_FULL);
  int seen = 0;
  for (int i = 0; i < N; i += 997) {
    snprintf(url, sizeof url, "HTTPS://H%d.EXAMPLE:443/page/%d#x", i % HOSTS, i);
    seen += frontier_add(f, url, 0, 0) == FRONTIER_SEEN;
  }
  CHECK(seen == (N + 996) / 997);

  /* Drain: every round visits every host once, in order of arrival, and
   * each host's URLs come out in order, with their tags. */
  frontier_item it;
  int out = 0, fair = 1, ordered = 1;
  while (frontier_next(f, NULL, NULL, &it)) {
    int host = -1, page = -1;
    sscanf(it.url, "https://h%d.example/page/%d", &host, &page);
    if (host != out % HOSTS) fair = 0;
    if (page != (out % HOSTS) + (out / HOSTS) * HOSTS || it.tag != page || it.depth != (unsigned)(page % 6)) ordered = 0;
    out++;
  }
  CHECK(out == N);
  CHECK(fair);
  CHECK(ordered);
  CHECK(frontier_queued(f) == 0);
  CHECK(frontier_seen(f) == N);
  /* Slots are reused once handed out. */
  CHECK(frontier_add(f, "https://h1.example/new", 0, 0) == FRONTIER_ADDED);
  CHECK(frontier_next(f, NULL, NULL, &it));
  CHECK_STR(it.url, "https://h1.example/new");
  frontier_free(f);
}

int main(void) {
  test_dedup();
  test_depth();
  test_cap();
  test_hosts();
  test_fairness();
  test_million();
  return check_summary();
}
