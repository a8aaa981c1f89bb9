/* test_threads.c — the thread rules of glean.h: several runtimes, one per
 * thread, extracting the Coins2Day articles in parallel (and one crawling
 * the snapshot meanwhile) give the records one runtime gives alone. Built
 * with -DGLEAN_TSAN=ON (scripts/test --tsan), ThreadSanitizer checks that
 * they share nothing unguarded. And glean_cancel, from another thread,
 * ends a handler that never returns. Runs from the source root. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"
#include "glean.h"

#define THREADS 4
#define ROUNDS 3

static fixture_page pages[ARTICLES];

typedef struct worker {
  pthread_t thread;
  collected records;
  int failures;
  glean_status crawl;  /* for the crawling thread */
} worker;

static void quiet(void *ud, glean_log_level level, const char *message) {
  (void)ud, (void)level, (void)message;
}

/* All the articles, ROUNDS times, in a runtime of its own. */
static void *extract_all(void *arg) {
  worker *w = arg;
  glean_runtime *rt = glean_new();
  if (!rt || glean_load_adapter(rt, "sites/coins2day.lua") != GLEAN_OK) {
    w->failures++;
    glean_destroy(rt);
    return NULL;
  }
  glean_set_log(rt, quiet, NULL);
  glean_callbacks cb = {.record = collect_record, .ud = &w->records};
  for (int round = 0; round < ROUNDS; round++)
    for (int i = 0; i < ARTICLES; i++)
      if (glean_extract(rt, pages[i].url, pages[i].bytes, pages[i].len, "text/html", &cb) != GLEAN_OK) w->failures++;
  glean_destroy(rt);
  return NULL;
}

/* A crawl of the snapshot: the fetch engine's threads are busy too. */
static void *crawl_site(void *arg) {
  worker *w = arg;
  glean_runtime *rt = glean_new();
  glean_set_log(rt, quiet, NULL);
  glean_callbacks cb = {.record = collect_record, .ud = &w->records};
  if (glean_load_adapter(rt, "sites/coins2day.lua") != GLEAN_OK ||
      glean_set_option(rt, "mirror", ORIGIN "=" SITE) != GLEAN_OK ||
      glean_set_option(rt, "progress", "0") != GLEAN_OK)
    w->failures++;
  else
    w->crawl = glean_crawl(rt, NULL, 0, &cb);
  glean_destroy(rt);
  return NULL;
}

typedef struct canceller {
  pthread_t thread;
  glean_runtime *rt;
} canceller;

static void *cancel_soon(void *arg) {
  canceller *c = arg;
  nanosleep(&(struct timespec){0, 200000000}, NULL);
  glean_cancel(c->rt);
  return NULL;
}

static void cancel_start(canceller *c, glean_runtime *rt) {
  c->rt = rt;
  pthread_create(&c->thread, NULL, cancel_soon, c);
}

typedef struct page_errors {
  int count;
  char message[512];
} page_errors;

static void note_error(void *ud, const char *url, const char *message) {
  page_errors *e = ud;
  (void)url;
  e->count++;
  snprintf(e->message, sizeof e->message, "%s", message);
}

/* Handlers stuck in Lua, or in one C call (a selector, a pattern), with no
 * time limit of either kind: only glean_cancel ends them, in glean_extract
 * and in glean_crawl (the page fails, naming the cancel), and the runtime
 * works after. The alarm fails the test if a call never returns. */
static void test_cancel_handler(void) {
  glean_runtime *rt = glean_new();
  const char *adapter =
    "return {pages = {{path = '^/about%-us/', parse = function() while true do end end},"
    "  {path = '^/select/', parse = function() glean.html(('<p></p>'):rep(100000)):select('p:has(~ b)') end},"
    "  {path = '^/pattern/', parse = function() return {x = ('a'):rep(100000):find('.-.-.-b')} end},"
    "  {path = '.', parse = function(page) return {title = page:text('title')} end}}}";
  CHECK(glean_load_adapter_string(rt, adapter, strlen(adapter), "stuck") == GLEAN_OK);
  glean_set_log(rt, quiet, NULL);
  CHECK(glean_set_option(rt, "time-limit", "0") == GLEAN_OK);
  CHECK(glean_set_option(rt, "time-limit-seconds", "0") == GLEAN_OK);
  CHECK(glean_set_option(rt, "mirror", ORIGIN "=" SITE) == GLEAN_OK);
  CHECK(glean_set_option(rt, "progress", "0") == GLEAN_OK);
  collected records = {0};
  page_errors errors = {0};
  glean_callbacks cb = {.record = collect_record, .ud = &records};
  glean_callbacks ecb = {.error = note_error, .ud = &errors};
  const char *html = "<title>fine</title>";
  canceller c;

  alarm(30);
  const char *stuck[] = {"https://x.test/about-us/", "https://x.test/select/", "https://x.test/pattern/"};
  for (size_t i = 0; i < sizeof stuck / sizeof *stuck; i++) {
    errors.count = 0;
    cancel_start(&c, rt);
    CHECK(glean_extract(rt, stuck[i], html, strlen(html), "text/html", &ecb) == GLEAN_ECANCELLED);
    pthread_join(c.thread, NULL);
    CHECK(strstr(glean_errmsg(rt), "cancelled") != NULL);
    CHECK(errors.count == 1 && strstr(errors.message, "cancelled") != NULL);
    CHECK(glean_extract(rt, "https://x.test/", html, strlen(html), "text/html", &cb) == GLEAN_OK);
    CHECK(records.count == i + 1);
  }

  errors.count = 0;
  const char *urls[] = {ORIGIN "/about-us/"};
  cancel_start(&c, rt);
  CHECK(glean_crawl(rt, urls, 1, &ecb) == GLEAN_ECANCELLED);
  pthread_join(c.thread, NULL);
  CHECK(errors.count == 1 && strstr(errors.message, "cancelled") != NULL);
  CHECK(glean_extract(rt, "https://x.test/", html, strlen(html), "text/html", &cb) == GLEAN_OK);
  CHECK(records.count == 4);

  /* Cancelled before: the next extraction stops however short its handler,
   * and the one after runs. */
  glean_cancel(rt);
  CHECK(glean_extract(rt, "https://x.test/", html, strlen(html), "text/html", &cb) == GLEAN_ECANCELLED);
  CHECK(glean_extract(rt, "https://x.test/", html, strlen(html), "text/html", &cb) == GLEAN_OK);
  CHECK(records.count == 5);

  /* An adapter whose main chunk never returns: the one loaded before stays. */
  const char *forever = "while true do end";
  cancel_start(&c, rt);
  CHECK(glean_load_adapter_string(rt, forever, strlen(forever), "forever") == GLEAN_ECANCELLED);
  pthread_join(c.thread, NULL);
  CHECK(glean_extract(rt, "https://x.test/", html, strlen(html), "text/html", &cb) == GLEAN_OK);
  CHECK(records.count == 6);
  alarm(0);
  collected_reset(&records);
  glean_destroy(rt);
}

int main(void) {
  test_cancel_handler();
  fixture_articles(pages);
  worker alone = {0};
  extract_all(&alone);
  CHECK(alone.failures == 0);
  CHECK(alone.records.count == ARTICLES * ROUNDS);

  worker workers[THREADS + 1];
  memset(workers, 0, sizeof workers);
  for (int i = 0; i < THREADS; i++) pthread_create(&workers[i].thread, NULL, extract_all, &workers[i]);
  pthread_create(&workers[THREADS].thread, NULL, crawl_site, &workers[THREADS]);
  for (int i = 0; i <= THREADS; i++) pthread_join(workers[i].thread, NULL);

  for (int i = 0; i < THREADS; i++) {
    CHECK(workers[i].failures == 0);
    CHECK(workers[i].records.count == alone.records.count);
    CHECK(workers[i].records.text && strcmp(workers[i].records.text, alone.records.text) == 0);
    collected_reset(&workers[i].records);
  }
  CHECK(workers[THREADS].failures == 0);
  CHECK(workers[THREADS].crawl == GLEAN_OK);
  CHECK(workers[THREADS].records.count == ARTICLES);
  collected_reset(&workers[THREADS].records);
  collected_reset(&alone.records);
  fixture_free(pages);
  return check_summary();
}
