/* The SQLite crawl state: what a commit keeps and a crash undoes, done
 * marks, redirects redone, refresh, and the files it refuses. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
  char side[80];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  return check_summary();
}
