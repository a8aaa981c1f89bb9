/* frontier.c — the crawl state alone, for scripts/bench frontier: N
 * synthetic URLs over HOSTS hosts added to a crawl state (state.h), then
 * all handed out and marked done. Commits once a second, as a crawl does by
 * default (--state-commit 1). Prints one JSON line: URLs/s of the adds and
 * of next + done, by wall time and by the process's CPU time (which other
 * jobs on the machine do not inflate), and its peak RSS (getrusage) in MB.
 *
 *   frontier_bench mem N HOSTS
 *   frontier_bench sqlite N HOSTS PATH   (PATH: a new state file) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "state.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(crawl_state *s, const char *doing) {
  fprintf(stderr, "frontier_bench: %s: %s\n", doing, s->err);
  exit(1);
}

/* Commits when a second has passed since the last. */
static void tick(crawl_state *s, double *last) {
  double t = now();
  if (t - *last < 1) return;
  if (s->ops->commit(s) != 0) fail(s, "commit");
  *last = t;
}

int main(int argc, char **argv) {
  if (argc < 4 || (strcmp(argv[1], "sqlite") == 0 && argc < 5)) {
    fprintf(stderr, "usage: frontier_bench mem|sqlite N HOSTS [PATH]\n");
    return 2;
  }
  long n = atol(argv[2]), hosts = atol(argv[3]);
  if (n <= 0 || hosts <= 0) {
    fprintf(stderr, "frontier_bench: N and HOSTS must be positive\n");
    return 2;
  }
  frontier_options opts = {.max_depth = -1};
  crawl_state *s;
  if (strcmp(argv[1], "mem") == 0) {
    s = state_mem_new(&opts);
  } else {
    char err[600];
    state_sqlite_options so = {.adapter = "bench"};
    if (!(s = state_sqlite_open(argv[4], &opts, &so, err, sizeof err))) {
      fprintf(stderr, "frontier_bench: %s\n", err);
      return 1;
    }
  }
  if (!s) return 1;
  char url[128];
  uint32_t rng = 1;
  double t0 = now(), c0 = cpu(), last = t0;
  for (long i = 0; i < n; i++) {
    rng = rng * 1664525u + 1013904223u;  /* the hosts in no order, as links come */
    snprintf(url, sizeof url, "https://www.host%03lu.example/section/%ld/article-%ld.html",
             (unsigned long)(rng >> 8) % (unsigned long)hosts, i % 97, i);
    if (s->ops->add(s, url, 1, 0) != FRONTIER_ADDED) fail(s, "add");
    if ((i & 1023) == 0) tick(s, &last);
  }
  double t1 = now(), c1 = cpu();
  frontier_item it;
  long handed = 0;
  while (s->ops->next(s, NULL, NULL, &it)) {
    if (s->ops->done(s, it.url, STATE_DONE) != 0) fail(s, "done");
    if ((++handed & 1023) == 0) tick(s, &last);
  }
  if (s->ops->commit(s) != 0) fail(s, "commit");
  double t2 = now(), c2 = cpu();
  if (handed != n || s->ops->seen(s) != (size_t)n) {
    fprintf(stderr, "frontier_bench: %ld added, %ld handed out, %zu seen\n", n, handed, s->ops->seen(s));
    return 1;
  }
  s->ops->free(s);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"add_per_s\": %.0f, \"next_per_s\": %.0f, \"add_per_cpu_s\": %.0f, \"next_per_cpu_s\": %.0f, "
         "\"rss_mb\": %.1f}\n", (double)n / (t1 - t0), (double)n / (t2 - t1), (double)n / (c1 - c0),
         (double)n / (c2 - c1), (double)ru.ru_maxrss / 1024);
  return 0;
}
