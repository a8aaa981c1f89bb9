/* The SQLite crawl state: what a commit keeps and a crash undoes, done
 * marks, redirects redone, refresh, the files it refuses, and memory that
 * stays the same however many URLs it holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "budget.h"
#include "check.h"
#include "state.h"

static char path[64];

static crawl_state *open_state(const char *adapter, char *err, size_t errlen) {
  state_sqlite_options o = {.adapter = adapter};
  return state_sqlite_open(path, NULL, &o, err, errlen);
}

static void test_commit_and_crash(void) {
  char err[600];
  crawl_state *s = open_state("a", err, sizeof err);
  CHECK(s != NULL);
  if (!s) { fprintf(stderr, "%s\n", err); return; }
  CHECK(s->ops->add(s, "https://a.test/1", 0, 1) == FRONTIER_ADDED);
  CHECK(s->ops->add(s, "https://a.test/2", 1, 2) == FRONTIER_ADDED);
  CHECK(s->ops->add(s, "https://a.test/1#x", 1, 0) == FRONTIER_SEEN);
  frontier_item it;
  CHECK(s->ops->next(s, NULL, NULL, &it));
  CHECK_STR(it.url, "https://a.test/1");
  CHECK(s->ops->done(s, it.url, STATE_DONE) == 0);
  CHECK(s->ops->mark_seen(s, "https://a.test/final", "https://a.test/2") == FRONTIER_ADDED);
  CHECK(s->ops->put(s, "k", "v1", 2) == 0);
  CHECK(s->ops->commit(s) == 0);
  /* Not committed: a crash (here, closing without a commit) undoes it. */
  CHECK(s->ops->add(s, "https://a.test/3", 1, 0) == FRONTIER_ADDED);
  CHECK(s->ops->put(s, "k", "v2", 2) == 0);
  s->ops->free(s);

  s = open_state("a", err, sizeof err);
  CHECK(s != NULL);
  if (!s) return;
  CHECK(s->ops->queued(s) == 1);  /* /2: /1 is done, /3 was never committed */
  CHECK(s->ops->add(s, "https://a.test/1", 0, 0) == FRONTIER_SEEN);
  CHECK(s->ops->add(s, "https://a.test/3", 1, 0) == FRONTIER_ADDED);
  /* /2 redone redirects to /final again: new to it, seen to any other. */
  CHECK(s->ops->mark_seen(s, "https://a.test/final", "https://a.test/2") == FRONTIER_ADDED);
  CHECK(s->ops->mark_seen(s, "https://a.test/final", "https://a.test/3") == FRONTIER_SEEN);
  buf b = BUF_INIT;
  CHECK(s->ops->get(s, "k", &b) == 1);
  CHECK_STR(buf_str(&b), "v1");
  CHECK(s->ops->get(s, "missing", &b) == 0);
  buf_free(&b);
  /* Refresh: /1 (tag 1) done now is older than 0 s, not than an hour. */
  CHECK(s->ops->refresh(s, 1, 3600) == 0);
  CHECK(s->ops->refresh(s, 1, 0) == 1);
  CHECK(s->ops->queued(s) == 3);
  CHECK(s->ops->commit(s) == 0);
  s->ops->free(s);
}

#define BOUNDED_URLS 200000
#define BOUNDED_HOSTS 50
#define BOUNDED_LIMIT ((size_t)1 << 20)  /* the URLs' text alone is 4.8 MB */

/* Hands out n URLs, marking them done (or not): hosts take turns in the
 * order they were first given URLs, each host's in the order added. */
static void hand_out(crawl_state *s, long n, long *next_of_host, bool done) {
  char want[64];
  frontier_item it;
  for (long i = 0; i < n; i++) {
    if (!s->ops->next(s, NULL, NULL, &it)) {
      CHECK(!"a URL to hand out");
      return;
    }
    int h = -1;
    long page = -1;
    sscanf(it.url, "https://h%d.test/p%ld", &h, &page);
    if (i < 2 * BOUNDED_HOSTS) {
      snprintf(want, sizeof want, "h%02ld.test", i % BOUNDED_HOSTS);
      CHECK_STR(it.host, want);
    }
    CHECK(h >= 0 && h < BOUNDED_HOSTS && page == next_of_host[h]);
    if (h >= 0 && h < BOUNDED_HOSTS) next_of_host[h] = page + BOUNDED_HOSTS;
    if (done) CHECK(s->ops->done(s, it.url, STATE_DONE) == 0);
  }
}

/* 200,000 URLs queued, handed out, a crash in the middle: the state's own
 * memory (its allocator's) stays under 1 MB all along; SQLite's page cache
 * is a fixed size besides. */
static void test_bounded(void) {
  char err[600], url[64];
  budget c = {0};
  mem_allocator m = {budget_fn, &c};
  frontier_options fo = {.max_depth = -1, .mem = &m};
  state_sqlite_options o = {.adapter = "big"};
  unlink(path);
  crawl_state *s = state_sqlite_open(path, &fo, &o, err, sizeof err);
  CHECK(s != NULL);
  if (!s) { fprintf(stderr, "%s\n", err); return; }
  for (long i = 0; i < BOUNDED_URLS; i++) {
    snprintf(url, sizeof url, "https://h%02ld.test/p%06ld", i % BOUNDED_HOSTS, i);
    if (s->ops->add(s, url, 1, 0) != FRONTIER_ADDED) {
      CHECK(!"added");
      break;
    }
    if (i % 10000 == 0) CHECK(s->ops->commit(s) == 0);
  }
  CHECK(s->ops->add(s, "https://h07.test/p000007", 1, 0) == FRONTIER_SEEN);
  CHECK(s->ops->add(s, "https://h07.test/p000007#top", 1, 0) == FRONTIER_SEEN);
  CHECK(s->ops->queued(s) == BOUNDED_URLS && s->ops->seen(s) == BOUNDED_URLS);
  long next_of_host[BOUNDED_HOSTS];
  for (long h = 0; h < BOUNDED_HOSTS; h++) next_of_host[h] = h;
  hand_out(s, 1000, next_of_host, true);
  CHECK(s->ops->commit(s) == 0);
  /* Handed out, not done, then a crash: queued again. */
  long before_crash[BOUNDED_HOSTS];
  memcpy(before_crash, next_of_host, sizeof next_of_host);
  hand_out(s, 10, next_of_host, false);
  s->ops->free(s);
  CHECK(c.held == 0);

  s = state_sqlite_open(path, &fo, &o, err, sizeof err);
  CHECK(s != NULL);
  if (!s) return;
  CHECK(s->ops->queued(s) == BOUNDED_URLS - 1000 && s->ops->seen(s) == BOUNDED_URLS);
  memcpy(next_of_host, before_crash, sizeof next_of_host);
  hand_out(s, BOUNDED_URLS - 1000, next_of_host, true);
  frontier_item it;
  CHECK(!s->ops->next(s, NULL, NULL, &it));
  CHECK(s->ops->queued(s) == 0);
  CHECK(s->ops->commit(s) == 0);
  s->ops->free(s);
  CHECK(c.held == 0);
  printf("state's own memory at %d URLs: peak %zu bytes\n", BOUNDED_URLS, c.peak);
  CHECK(c.peak < BOUNDED_LIMIT);
  unlink(path);
}

static bool not_busy(void *ud, const char *host) { return strcmp(host, (const char *)ud) != 0; }

/* The frontier's checks, as in memory: depth, host filter, the cap (a
 * seen URL still says seen), and a busy host losing its turn. */
static void test_limits(void) {
  char err[600];
  frontier_options fo = {.max_depth = 1, .max_queued = 2};
  state_sqlite_options o = {.adapter = "limits"};
  unlink(path);
  crawl_state *s = state_sqlite_open(path, &fo, &o, err, sizeof err);
  CHECK(s != NULL);
  if (!s) { fprintf(stderr, "%s\n", err); return; }
  CHECK(s->ops->allow_host(s, "a.test") == 0);
  CHECK(s->ops->allow_host(s, "b.test") == 0);
  CHECK(s->ops->add(s, "https://a.test/deep", 2, 0) == FRONTIER_TOO_DEEP);
  CHECK(s->ops->add(s, "https://c.test/", 0, 0) == FRONTIER_OFFSITE);
  CHECK(s->ops->add(s, "not a url", 0, 0) == FRONTIER_BAD_URL);
  CHECK(s->ops->add(s, "https://a.test/1", 1, 7) == FRONTIER_ADDED);
  CHECK(s->ops->add(s, "https://b.test/1", 1, 8) == FRONTIER_ADDED);
  CHECK(s->ops->add(s, "https://a.test/2", 1, 0) == FRONTIER_FULL);
  CHECK(s->ops->add(s, "https://a.test/1", 1, 0) == FRONTIER_SEEN);
  frontier_item it;
  CHECK(s->ops->next(s, not_busy, "a.test", &it));
  CHECK_STR(it.url, "https://b.test/1");
  CHECK(it.tag == 8 && it.depth == 1);
  CHECK(!s->ops->next(s, not_busy, "a.test", &it));
  CHECK(s->ops->queued(s) == 1);
  /* Not full any more: /2 was not remembered. */
  CHECK(s->ops->add(s, "https://a.test/2", 1, 0) == FRONTIER_ADDED);
  CHECK(s->ops->next(s, NULL, NULL, &it));
  CHECK_STR(it.url, "https://a.test/1");
  CHECK_STR(it.host, "a.test");
  CHECK(it.tag == 7);
  CHECK(s->ops->next(s, NULL, NULL, &it));
  CHECK_STR(it.url, "https://a.test/2");
  CHECK(!s->ops->next(s, NULL, NULL, &it) && s->ops->queued(s) == 0);
  s->ops->free(s);
  unlink(path);
}

static void test_refusals(void) {
  char err[600];
  CHECK(open_state("b", err, sizeof err) == NULL);
  CHECK(strstr(err, "adapter 'a', not of 'b'") != NULL);
  FILE *f = fopen(path, "r+b");
  fputs("not sqlite at all", f);
  fclose(f);
  CHECK(open_state("a", err, sizeof err) == NULL);
  CHECK(strstr(err, "not a glean state file") != NULL);
}

int main(void) {
  snprintf(path, sizeof path, "/tmp/glean-state-XXXXXX");
  int fd = mkstemp(path);
  close(fd);
  test_commit_and_crash();
  test_refusals();
  test_bounded();
  test_limits();
  char side[80];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  return check_summary();
}
