/* The Redis crawl state against a real redis-server on 127.0.0.1 (a free
 * port, a temp dir, no persistence): add and dedup, next, done acknowledged
 * by commit, a lease that expires going back to another worker, redirects
 * seen, the key/value store, the counters per host, and the refusals. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "state.h"

static char url[128];

/* A port nothing listens on now: the kernel's pick for port 0. */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  bind(fd, (struct sockaddr *)&a, sizeof a);
  getsockname(fd, (struct sockaddr *)&a, &len);
  close(fd);
  return ntohs(a.sin_port);
}

static void pause_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

static crawl_state *open_state(const char *name, const char *opts) {
  char u[200], err[600];
  snprintf(u, sizeof u, "%s%s%s", url, name, opts);
  crawl_state *s = state_redis_open(u, NULL, "a", err, sizeof err);
  if (!s) fprintf(stderr, "%s\n", err);
  return s;
}

typedef struct { long long queued, leased, done; int hosts; } totals;

static void add_host(void *ud, const char *host, const long long counts[STATE_MARKS], long long leased) {
  totals *t = ud;
  (void)host;
  t->queued += counts[STATE_QUEUED], t->leased += leased, t->done += counts[STATE_DONE], t->hosts++;
}

static void test_crawl(void) {
  crawl_state *a = open_state("t1", ""), *b = open_state("t1", "?lease=0.3");
  CHECK(a && b);
  if (!a || !b) return;
  CHECK(a->ops->add(a, "https://a.test/1", 0, 1) == FRONTIER_ADDED);
  CHECK(b->ops->add(b, "https://a.test/1#x", 0, 1) == FRONTIER_SEEN);  /* seeds once, whoever adds them */
  CHECK(a->ops->add(a, "https://b.test/2", 1, 2) == FRONTIER_ADDED);
  CHECK(a->ops->add(a, "ftp://b.test/2", 1, 2) == FRONTIER_BAD_URL);
  CHECK(a->ops->seen(a) == 2);
  CHECK(a->ops->queued(a) == 2);
  frontier_item it;
  CHECK(a->ops->next(a, NULL, NULL, &it));
  CHECK_STR(it.url, "https://a.test/1");
  CHECK_STR(it.host, "a.test");
  CHECK(it.depth == 0 && it.tag == 1);
  /* b takes the other; its lease (0.3 s) lapses unrenewed, a takes it. */
  CHECK(b->ops->next(b, NULL, NULL, &it));
  CHECK_STR(it.url, "https://b.test/2");
  CHECK(it.depth == 1 && it.tag == 2);
  CHECK(!a->ops->next(a, NULL, NULL, &it) && !a->err[0]);
  CHECK(a->ops->queued(a) == 2);  /* leased pages count: the crawl is not over */
  pause_s(0.5);
  CHECK(a->ops->next(a, NULL, NULL, &it));
  CHECK_STR(it.url, "https://b.test/2");
  /* Done counts once the commit acknowledges it; b's late ack of the page
   * a holds now ends a's lease too, and counts once. */
  CHECK(a->ops->done(a, "https://a.test/1", STATE_DONE) == 0);
  CHECK(a->ops->done(a, "https://a.test/nope", STATE_DONE) == -1);
  totals t = {0};
  CHECK(state_redis_hosts(a, add_host, &t) == 0);
  CHECK(t.done == 0 && t.leased == 2);
  CHECK(a->ops->commit(a) == 0);
  CHECK(b->ops->done(b, "https://b.test/2", STATE_DONE) == 0);
  CHECK(b->ops->commit(b) == 0);
  CHECK(a->ops->done(a, "https://b.test/2", STATE_DONE) == 0);
  CHECK(a->ops->commit(a) == 0);
  t = (totals){0};
  CHECK(state_redis_hosts(a, add_host, &t) == 0);
  CHECK(t.done == 2 && t.leased == 0 && t.queued == 0 && t.hosts == 2);
  CHECK(a->ops->queued(a) == 0);
  /* A redirect's target: new to the page that led there, even again (a
   * redone page), seen to any other. */
  CHECK(a->ops->mark_seen(a, "https://a.test/final", "https://a.test/1") == FRONTIER_ADDED);
  CHECK(b->ops->mark_seen(b, "https://a.test/final", "https://a.test/1") == FRONTIER_ADDED);
  CHECK(b->ops->mark_seen(b, "https://a.test/final", "https://b.test/2") == FRONTIER_SEEN);
  CHECK(a->ops->add(a, "https://a.test/final", 1, 0) == FRONTIER_SEEN);
  buf v = BUF_INIT;
  CHECK(a->ops->put(a, "robots https://a.test", "200\nx", 5) == 0);
  CHECK(b->ops->get(b, "robots https://a.test", &v) == 1);
  CHECK_STR(buf_str(&v), "200\nx");
  CHECK(b->ops->get(b, "missing", &v) == 0);
  buf_free(&v);
  CHECK(a->ops->refresh(a, 1, 10) == -1);  /* not this milestone's: said, not ignored */
  a->ops->free(a);
  b->ops->free(b);
}

/* A lease renewed by commit outlives its first term. */
static void test_renewed(void) {
  crawl_state *a = open_state("t2", "?lease=0.4"), *b = open_state("t2", "");
  CHECK(a && b);
  if (!a || !b) return;
  frontier_item it;
  CHECK(a->ops->add(a, "https://a.test/1", 0, 0) == FRONTIER_ADDED);
  CHECK(a->ops->next(a, NULL, NULL, &it));
  for (int i = 0; i < 4; i++) {
    pause_s(0.2);
    CHECK(a->ops->commit(a) == 0);
  }
  CHECK(!b->ops->next(b, NULL, NULL, &it) && !b->err[0]);
  a->ops->free(a);
  b->ops->free(b);
}

static void test_refusals(void) {
  char err[600];
  CHECK(!state_redis_open("rediss://127.0.0.1:1/x", NULL, NULL, err, sizeof err));
  CHECK(strstr(err, "TLS") != NULL);
  CHECK(!state_redis_open("redis://127.0.0.1:1/x", NULL, NULL, err, sizeof err));
  CHECK(strstr(err, "cannot connect") != NULL);
  CHECK(!state_redis_open("redis://127.0.0.1:1/", NULL, NULL, err, sizeof err));
  CHECK(strstr(err, "NAME is missing") != NULL);
  CHECK(!state_redis_open("redis://127.0.0.1:1/x?lease=-1", NULL, NULL, err, sizeof err));
  CHECK(strstr(err, "bad option") != NULL);
  char u[200];
  snprintf(u, sizeof u, "%st1", url);
  CHECK(!state_redis_open(u, NULL, "b", err, sizeof err));  /* t1 is adapter a's */
  CHECK(strstr(err, "another adapter") != NULL);
}

int main(void) {
  char dir[] = "/tmp/glean-redis-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  int port = free_port();
  char ports[16];
  snprintf(ports, sizeof ports, "%d", port);
  pid_t pid = fork();
  if (pid == 0) {
    execlp("redis-server", "redis-server", "--port", ports, "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--dir", dir, "--logfile", "", (char *)NULL);
    _exit(127);
  }
  snprintf(url, sizeof url, "redis://127.0.0.1:%d/", port);
  /* Ready once it answers (a guard: at most 10 s). */
  char probe[200], err[600];
  snprintf(probe, sizeof probe, "%sprobe", url);
  crawl_state *s = NULL;
  for (int i = 0; i < 200 && !(s = state_redis_open(probe, NULL, NULL, err, sizeof err)); i++) pause_s(0.05);
  CHECK(s != NULL);
  if (s) {
    s->ops->free(s);
    test_crawl();
    test_renewed();
    test_refusals();
  }
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  char rm[80];
  snprintf(rm, sizeof rm, "rm -rf %s", dir);
  if (system(rm) != 0) return 1;
  return check_summary();
}
