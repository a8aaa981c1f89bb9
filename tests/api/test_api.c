/* test_api.c — the embedding API (glean.h) as a host uses it: adapters from
 * files and strings, extraction of the Coins2Day articles against
 * EXPECTED.jsonl, charsets, handler errors, refused records, options, the
 * log, re-entrant calls, crawls (records, failures, stats) and cancelling
 * one from another thread. Runs from the source root. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"
#include "glean.h"

#define ADAPTER "sites/coins2day.lua"
#define MIRROR ORIGIN "=" SITE

typedef struct failure {
  char url[512];
  char message[4096];
  size_t longest;  /* the longest message's whole length */
  int count;
} failure;

static void note_error(void *ud, const char *url, const char *message) {
  failure *f = ud;
  snprintf(f->url, sizeof f->url, "%s", url);
  snprintf(f->message, sizeof f->message, "%s", message);
  if (strlen(message) > f->longest) f->longest = strlen(message);
  f->count++;
}

/* Callbacks whose ud is a struct holding both. */
typedef struct sinks {
  collected records;
  failure errors;
} sinks;

static int sinks_record(void *ud, const char *json, size_t len) { return collect_record(&((sinks *)ud)->records, json, len); }
static void sinks_error(void *ud, const char *url, const char *message) { note_error(&((sinks *)ud)->errors, url, message); }

static glean_callbacks sinks_callbacks(sinks *s) {
  memset(s, 0, sizeof *s);
  return (glean_callbacks){.record = sinks_record, .error = sinks_error, .ud = s};
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static glean_runtime *with_adapter(const char *source) {
  glean_runtime *rt = glean_new();
  CHECK(rt != NULL);
  glean_status st = glean_load_adapter_string(rt, source, strlen(source), "test-adapter");
  CHECK(st == GLEAN_OK);
  if (st != GLEAN_OK) fprintf(stderr, "%s\n", glean_errmsg(rt));
  return rt;
}

static void test_version(void) {
  CHECK_STR(glean_version(), GLEAN_VERSION);
  glean_runtime *rt = glean_new();
  CHECK_STR(glean_errmsg(rt), "");
  glean_destroy(rt);
  glean_destroy(NULL);
}

static void test_adapters(void) {
  glean_runtime *rt = glean_new();
  CHECK(glean_extract(rt, ORIGIN "/", "", 0, NULL, NULL) == GLEAN_ENOADAPTER);
  CHECK(glean_crawl(rt, NULL, 0, NULL) == GLEAN_ENOADAPTER);

  CHECK(glean_load_adapter(rt, "no/such/adapter.lua") == GLEAN_EADAPTER);
  CHECK(strstr(glean_errmsg(rt), "no/such/adapter.lua") != NULL);

  const char *syntax = "return {";
  CHECK(glean_load_adapter_string(rt, syntax, strlen(syntax), "broken.lua") == GLEAN_EADAPTER);
  CHECK(strstr(glean_errmsg(rt), "broken.lua") != NULL);
  const char *raises = "error('no network here')";
  CHECK(glean_load_adapter_string(rt, raises, strlen(raises), "raises.lua") == GLEAN_EADAPTER);
  CHECK(strstr(glean_errmsg(rt), "no network here") != NULL);
  const char *number = "return 42";
  CHECK(glean_load_adapter_string(rt, number, strlen(number), "number.lua") == GLEAN_EADAPTER);
  CHECK(strstr(glean_errmsg(rt), "must return a table") != NULL);
  const char *no_pages = "return {name = 'x'}";
  CHECK(glean_load_adapter_string(rt, no_pages, strlen(no_pages), "empty.lua") == GLEAN_EADAPTER);
  CHECK(strstr(glean_errmsg(rt), "'pages'") != NULL);
  CHECK(glean_load_adapter_string(rt, NULL, 0, "x") == GLEAN_EINVAL);

  /* A good adapter, then a bad one: the good one stays. */
  CHECK(glean_load_adapter(rt, ADAPTER) == GLEAN_OK);
  CHECK(glean_load_adapter_string(rt, number, strlen(number), "number.lua") == GLEAN_EADAPTER);
  const char *home = "<html><body><a href='/section/tech/'>Tech</a></body></html>";
  CHECK(glean_extract(rt, ORIGIN "/", home, strlen(home), "text/html", NULL) == GLEAN_OK);
  glean_destroy(rt);
}

/* Every article page as the host has it: the records equal EXPECTED.jsonl. */
static void test_extract_articles(void) {
  fixture_page pages[ARTICLES];
  fixture_articles(pages);
  glean_runtime *rt = glean_new();
  CHECK(glean_load_adapter(rt, ADAPTER) == GLEAN_OK);
  for (int i = 0; i < ARTICLES; i++) {
    sinks s;
    glean_callbacks cb = sinks_callbacks(&s);
    glean_status st = glean_extract(rt, pages[i].url, pages[i].bytes, pages[i].len, "text/html", &cb);
    CHECK(st == GLEAN_OK);
    CHECK(s.records.count == 1);
    CHECK(s.errors.count == 0);
    cJSON *got = cJSON_Parse(s.records.text ? s.records.text : "");
    CHECK(got && cJSON_Compare(got, pages[i].expected, true));
    if (!got || !cJSON_Compare(got, pages[i].expected, true))
      fprintf(stderr, "record differs for %s:\n%s\n", pages[i].url, s.records.text ? s.records.text : "(none)");
    cJSON_Delete(got);
    collected_reset(&s.records);
  }

  /* A listing page has a rule without parse: no record, no error. A page
   * no rule takes is refused as such. */
  size_t len;
  char *home = fixture_read(SITE "/index.html", &len);
  CHECK(glean_extract(rt, ORIGIN "/", home, len, "text/html; charset=utf-8", NULL) == GLEAN_OK);
  CHECK(glean_extract(rt, ORIGIN "/author/natasha-bach/", home, len, "text/html", NULL) == GLEAN_ENORULE);
  CHECK(strstr(glean_errmsg(rt), "/author/natasha-bach/") != NULL);
  free(home);

  const char *stats = glean_stats(rt);
  cJSON *j = cJSON_Parse(stats);
  CHECK(j != NULL);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "documents")) == ARTICLES + 2);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "records")) == ARTICLES);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "errors")) == 0);
  CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "crawl")));
  cJSON_Delete(j);
  glean_destroy(rt);
  fixture_free(pages);
}

static const char *const TITLE_ADAPTER =
    "local glean = require 'glean'\n"
    "return {pages = {\n"
    "  {path = '^/boom/', parse = function(page) error('boom: ' .. page:text('h1')) end},\n"
    "  {path = '^/two/', parse = function(page) return {{n = 1}, {n = 2}} end},\n"
    "  {path = '^/odd/', parse = function(page) return 'a string' end},\n"
    "  {path = '^/talk/', parse = function(page)\n"
    "     glean.log.warn('warned about', page.url); print('printed', 1)\n"
    "     glean.log.debug('debug line'); return {t = page:text('p')} end},\n"
    "  {path = '^/utf8/', charset = 'utf-8', parse = function(page)\n"
    "     return {t = page:text('p'), charset = page:doc().charset} end},\n"
    "  {path = '^/again/', parse = function(page)\n"
    "     return {t = page:doc{charset = 'utf-8'}:select_one('p'):text()} end},\n"
    "  {path = '.', parse = function(page)\n"
    "     return {t = page:text('p'), charset = page:doc().charset, url = page.url} end},\n"
    "}}\n";

static const char *record_text(const sinks *s) { return s->records.text ? s->records.text : ""; }

static void test_charsets(void) {
  glean_runtime *rt = with_adapter(TITLE_ADAPTER);
  sinks s;
  glean_callbacks cb = sinks_callbacks(&s);
  /* Valid UTF-8 bytes, announced as windows-1252: the announcement wins. */
  const char *doc = "<p>caf\xc3\xa9</p>";
  CHECK(glean_extract(rt, "https://x.test/a", doc, strlen(doc), "text/html; charset=windows-1252", &cb) == GLEAN_OK);
  CHECK(strstr(record_text(&s), "\"t\":\"caf\xc3\x83\xc2\xa9\"") != NULL);
  CHECK(strstr(record_text(&s), "\"charset\":\"windows-1252\"") != NULL);
  collected_reset(&s.records);
  /* The same bytes with nothing announced: UTF-8. */
  CHECK(glean_extract(rt, "https://x.test/a", doc, strlen(doc), "TEXT/HTML", &cb) == GLEAN_OK);
  CHECK(strstr(record_text(&s), "\"t\":\"caf\xc3\xa9\"") != NULL);
  collected_reset(&s.records);
  CHECK(glean_extract(rt, "https://x.test/a", doc, strlen(doc), "text/html; Charset=\"UTF-8\"", &cb) == GLEAN_OK);
  CHECK(strstr(record_text(&s), "\"charset\":\"UTF-8\"") != NULL);
  collected_reset(&s.records);
  /* A rule's charset stands in for the announced one; page:doc{charset=}
   * decodes the host's bytes again. */
  CHECK(glean_extract(rt, "https://x.test/utf8/a", doc, strlen(doc), "text/html; charset=windows-1252", &cb) == GLEAN_OK);
  CHECK(strstr(record_text(&s), "\"t\":\"caf\xc3\xa9\"") != NULL);
  CHECK(strstr(record_text(&s), "\"charset\":\"UTF-8\"") != NULL);
  collected_reset(&s.records);
  CHECK(glean_extract(rt, "https://x.test/again/a", doc, strlen(doc), "text/html; charset=windows-1252", &cb) == GLEAN_OK);
  CHECK(strstr(record_text(&s), "\"t\":\"caf\xc3\xa9\"") != NULL);
  collected_reset(&s.records);
  /* An empty document. */
  CHECK(glean_extract(rt, "https://x.test/a", NULL, 0, NULL, &cb) == GLEAN_OK);
  CHECK(s.records.count == 1);
  collected_reset(&s.records);
  CHECK(glean_extract(rt, NULL, doc, 1, NULL, &cb) == GLEAN_EINVAL);
  CHECK(glean_extract(rt, "https://x.test/a", NULL, 1, NULL, &cb) == GLEAN_EINVAL);
  glean_destroy(rt);
}

static void test_page_errors(void) {
  glean_runtime *rt = with_adapter(TITLE_ADAPTER);
  sinks s;
  glean_callbacks cb = sinks_callbacks(&s);
  const char *doc = "<h1>Headline</h1><p>text</p>";

  CHECK(glean_extract(rt, "https://x.test/boom/1", doc, strlen(doc), NULL, &cb) == GLEAN_EPAGE);
  CHECK(s.errors.count == 1);
  CHECK_STR(s.errors.url, "https://x.test/boom/1");
  CHECK(strstr(s.errors.message, "boom: Headline") != NULL);
  CHECK(strstr(s.errors.message, "traceback") != NULL);
  CHECK(strstr(glean_errmsg(rt), "boom: Headline") != NULL);
  CHECK(s.records.count == 0);

  /* Still usable; a list of records is several records. */
  CHECK(glean_extract(rt, "https://x.test/two/", doc, strlen(doc), NULL, &cb) == GLEAN_OK);
  CHECK(s.records.count == 2);
  CHECK_STR(record_text(&s), "{\"n\":1}\n{\"n\":2}\n");

  CHECK(glean_extract(rt, "https://x.test/odd/", doc, strlen(doc), NULL, &cb) == GLEAN_EPAGE);
  CHECK(strstr(s.errors.message, "parse returned a string") != NULL);

  /* The host refuses the second record: the first stays taken. */
  collected_reset(&s.records);
  s.records.refuse_after = 1;
  CHECK(glean_extract(rt, "https://x.test/two/", doc, strlen(doc), NULL, &cb) == GLEAN_EPAGE);
  CHECK(s.records.count == 1);
  CHECK(strstr(s.errors.message, "refused by the host") != NULL);
  CHECK(s.errors.count == 3);

  /* No error callback: the code and message still say it. */
  CHECK(glean_extract(rt, "https://x.test/boom/2", doc, strlen(doc), NULL, NULL) == GLEAN_EPAGE);
  CHECK(strstr(glean_errmsg(rt), "boom") != NULL);

  cJSON *j = cJSON_Parse(glean_stats(rt));
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "errors")) == 4);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "records")) == 3);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "documents")) == 5);
  cJSON_Delete(j);
  collected_reset(&s.records);
  glean_destroy(rt);
}

static const char *const LIMITS_ADAPTER =
    "return {pages = {\n"
    "  {path = '^/loop/', parse = function(page) while true do end end},\n"
    "  {path = '^/alloc/', parse = function(page)\n"
    "     local t, block = {}, ('x'):rep(1024):rep(1024)\n"
    "     while true do t[#t + 1] = block .. #t end end},\n"
    "  {path = '^/close/', parse = function(page) page.close = function() while true do end end end},\n"
    "  {match = function(url) return url:find('/matchloop/') and (function() while true do end end)() end},\n"
    "  {path = '.', parse = function(page) return {execute = type(os.execute), t = page:text('p')} end},\n"
    "}}\n";

/* An adapter's code runs under the runtime's limits in glean_extract as in
 * a crawl: an endless loop or endless allocation fails its page, naming the
 * limit, and the runtime goes on; without trust the adapter has no
 * os.execute. */
static void test_limits(void) {
  glean_runtime *rt = glean_new();
  CHECK(glean_set_option(rt, "time-limit", "1e6") == GLEAN_OK);
  /* Low enough that the allocation fails on memory before its bytes have
   * taken the budget (an instruction per 64 bytes). */
  CHECK(glean_set_option(rt, "memory-limit", "16") == GLEAN_OK);
  CHECK(glean_set_option(rt, "time-limit", "-1") == GLEAN_EINVAL);
  CHECK(glean_set_option(rt, "memory-limit", "lots") == GLEAN_EINVAL);
  CHECK(glean_load_adapter_string(rt, LIMITS_ADAPTER, strlen(LIMITS_ADAPTER), "limits") == GLEAN_OK);
  sinks s;
  glean_callbacks cb = sinks_callbacks(&s);
  const char *doc = "<p>still here</p>";
  const char *const failing[][2] = {
      {"https://x.test/loop/1", "time limit exceeded"},
      {"https://x.test/alloc/1", "memory limit exceeded"},
      {"https://x.test/matchloop/1", "time limit exceeded"},
  };
  for (size_t i = 0; i < sizeof failing / sizeof *failing; i++) {
    double t0 = now();
    CHECK(glean_extract(rt, failing[i][0], doc, strlen(doc), NULL, &cb) == GLEAN_EPAGE);
    CHECK(now() - t0 < 30);
    CHECK_STR(s.errors.url, failing[i][0]);
    CHECK(strstr(s.errors.message, failing[i][1]) != NULL);
    if (!strstr(s.errors.message, failing[i][1])) fprintf(stderr, "%s: %s\n", failing[i][0], s.errors.message);
    CHECK(glean_extract(rt, "https://x.test/ok", doc, strlen(doc), NULL, &cb) == GLEAN_OK);
    CHECK(strstr(record_text(&s), "\"t\":\"still here\"") != NULL);
    collected_reset(&s.records);
  }
  /* The page is closed by the runtime, not by the adapter's replacement. */
  CHECK(glean_extract(rt, "https://x.test/close/1", doc, strlen(doc), NULL, &cb) == GLEAN_OK);
  CHECK(s.errors.count == 3);
  CHECK(glean_extract(rt, "https://x.test/ok", doc, strlen(doc), NULL, &cb) == GLEAN_OK);
  CHECK(strstr(record_text(&s), "\"execute\":\"nil\"") != NULL);
  collected_reset(&s.records);

  /* Trusted, the same adapter has the full standard library. */
  CHECK(glean_set_option(rt, "trust", NULL) == GLEAN_OK);
  CHECK(glean_load_adapter_string(rt, LIMITS_ADAPTER, strlen(LIMITS_ADAPTER), "limits") == GLEAN_OK);
  CHECK(glean_extract(rt, "https://x.test/ok", doc, strlen(doc), NULL, &cb) == GLEAN_OK);
  CHECK(strstr(record_text(&s), "\"execute\":\"function\"") != NULL);
  collected_reset(&s.records);
  glean_destroy(rt);
}

static void test_options(void) {
  glean_runtime *rt = glean_new();
  CHECK(glean_set_option(rt, "depth", "2") == GLEAN_OK);
  CHECK(glean_set_option(rt, "mirror", MIRROR) == GLEAN_OK);
  CHECK(glean_set_option(rt, "mirror", "https://b.test=" SITE) == GLEAN_OK);
  CHECK(glean_set_option(rt, "ignore-robots", NULL) == GLEAN_OK);
  CHECK(glean_set_option(rt, "ignore-robots", "false") == GLEAN_OK);
  CHECK(glean_set_option(rt, "no-cookies", "true") == GLEAN_OK);
  CHECK(glean_set_option(rt, "user-agent", "ingest/1.0") == GLEAN_OK);
  CHECK(glean_set_option(rt, "cacert", "/etc/ssl/certs/ca-certificates.crt") == GLEAN_OK);
  CHECK(glean_set_option(rt, "cacert", NULL) == GLEAN_EINVAL);
  CHECK(glean_set_option(rt, "per-host", "4") == GLEAN_OK);
  CHECK(glean_set_option(rt, "log-level", "error") == GLEAN_OK);

  CHECK(glean_set_option(rt, "frobnicate", "1") == GLEAN_EINVAL);
  CHECK(strstr(glean_errmsg(rt), "unknown option '--frobnicate'") != NULL);
  CHECK(glean_set_option(rt, "depth", "deep") == GLEAN_EINVAL);
  CHECK(strstr(glean_errmsg(rt), "needs a number") != NULL);
  CHECK(glean_set_option(rt, "depth", NULL) == GLEAN_EINVAL);
  CHECK(glean_set_option(rt, "mirror", "nowhere") == GLEAN_EINVAL);
  CHECK(glean_set_option(rt, "ignore-robots", "maybe") == GLEAN_EINVAL);
  CHECK(glean_set_option(rt, "log-level", "loud") == GLEAN_EINVAL);
  CHECK(glean_set_option(rt, NULL, "1") == GLEAN_EINVAL);
  CHECK(glean_set_option(NULL, "depth", "1") == GLEAN_EINVAL);
  glean_destroy(rt);
}

typedef struct log_lines {
  char text[8192];
  int warn, info, debug;
} log_lines;

static void note_log(void *ud, glean_log_level level, const char *message) {
  log_lines *l = ud;
  size_t n = strlen(l->text);
  snprintf(l->text + n, sizeof l->text - n, "%d %s\n", (int)level, message);
  if (level == GLEAN_LOG_WARN) l->warn++;
  if (level == GLEAN_LOG_INFO) l->info++;
  if (level == GLEAN_LOG_DEBUG) l->debug++;
}

/* Points fd at a fresh temporary file; returns the saved fd. */
static int capture_begin(int fd) {
  fflush(NULL);
  int saved = dup(fd);
  char path[] = "/tmp/glean-test-XXXXXX";
  int tmp = mkstemp(path);
  unlink(path);
  dup2(tmp, fd);
  close(tmp);
  return saved;
}

/* Restores fd; returns how many bytes were written to it meanwhile. */
static long capture_end(int fd, int saved) {
  fflush(NULL);
  long n = lseek(fd, 0, SEEK_END);
  dup2(saved, fd);
  close(saved);
  return n;
}

/* Logs go to the host's handler at the level set; stdout and stderr stay
 * untouched (an adapter's print is a log line). */
static void test_log(void) {
  glean_runtime *rt = with_adapter(TITLE_ADAPTER);
  log_lines lines = {{0}, 0, 0, 0};
  glean_set_log(rt, note_log, &lines);
  sinks s;
  glean_callbacks cb = sinks_callbacks(&s);
  const char *doc = "<p>x</p>";
  int out = capture_begin(STDOUT_FILENO), err = capture_begin(STDERR_FILENO);
  CHECK(glean_extract(rt, "https://x.test/talk/", doc, strlen(doc), NULL, &cb) == GLEAN_OK);
  CHECK(glean_set_option(rt, "log-level", "debug") == GLEAN_OK);
  CHECK(glean_extract(rt, "https://x.test/talk/", doc, strlen(doc), NULL, &cb) == GLEAN_OK);
  long out_bytes = capture_end(STDOUT_FILENO, out), err_bytes = capture_end(STDERR_FILENO, err);
  CHECK(out_bytes == 0);
  CHECK(err_bytes == 0);
  CHECK(lines.warn == 2);
  CHECK(lines.info == 2);
  CHECK(lines.debug == 1);
  CHECK(strstr(lines.text, "2 warned about https://x.test/talk/\n") != NULL);
  CHECK(strstr(lines.text, "1 printed 1\n") != NULL);
  CHECK(s.records.count == 2);

  /* Back to stderr. */
  glean_set_log(rt, NULL, NULL);
  err = capture_begin(STDERR_FILENO);
  CHECK(glean_extract(rt, "https://x.test/talk/", doc, strlen(doc), NULL, &cb) == GLEAN_OK);
  err_bytes = capture_end(STDERR_FILENO, err);
  CHECK(err_bytes > 0);
  CHECK(lines.warn == 2);
  collected_reset(&s.records);
  glean_destroy(rt);
}

/* A callback that calls back into its runtime. */
typedef struct reentry {
  glean_runtime *rt;
  glean_status extract, option, load, crawl;
  int calls;
} reentry;

static int reenter(void *ud, const char *json, size_t len) {
  (void)json, (void)len;
  reentry *r = ud;
  r->calls++;
  r->extract = glean_extract(r->rt, "https://x.test/a", "", 0, NULL, NULL);
  r->option = glean_set_option(r->rt, "depth", "1");
  r->load = glean_load_adapter(r->rt, ADAPTER);
  r->crawl = glean_crawl(r->rt, NULL, 0, NULL);
  CHECK(glean_stats(r->rt) != NULL);
  return 0;
}

static void test_reentry(void) {
  glean_runtime *rt = with_adapter(TITLE_ADAPTER);
  reentry r = {rt, GLEAN_OK, GLEAN_OK, GLEAN_OK, GLEAN_OK, 0};
  glean_callbacks cb = {.record = reenter, .ud = &r};
  CHECK(glean_extract(rt, "https://x.test/a", "<p>x</p>", 8, NULL, &cb) == GLEAN_OK);
  CHECK(r.calls == 1);
  CHECK(r.extract == GLEAN_EBUSY);
  CHECK(r.option == GLEAN_EBUSY);
  CHECK(r.load == GLEAN_EBUSY);
  CHECK(r.crawl == GLEAN_EBUSY);
  CHECK(strstr(glean_errmsg(rt), "inside a callback") != NULL);
  CHECK(glean_extract(rt, "https://x.test/a", "<p>x</p>", 8, NULL, NULL) == GLEAN_OK);
  glean_destroy(rt);
}

/* The snapshot crawled from the adapter's start URL through a mirror: the
 * 13 records, and the crawl's stats. */
static void test_crawl(void) {
  glean_runtime *rt = glean_new();
  log_lines lines = {{0}, 0, 0, 0};
  glean_set_log(rt, note_log, &lines);
  CHECK(glean_load_adapter(rt, ADAPTER) == GLEAN_OK);
  CHECK(glean_set_option(rt, "mirror", MIRROR) == GLEAN_OK);
  CHECK(glean_set_option(rt, "progress", "0") == GLEAN_OK);
  sinks s;
  glean_callbacks cb = sinks_callbacks(&s);
  int out = capture_begin(STDOUT_FILENO), err = capture_begin(STDERR_FILENO);
  glean_status st = glean_crawl(rt, NULL, 0, &cb);
  long out_bytes = capture_end(STDOUT_FILENO, out), err_bytes = capture_end(STDERR_FILENO, err);
  CHECK(st == GLEAN_OK);
  if (st != GLEAN_OK) fprintf(stderr, "crawl: %s\n", glean_errmsg(rt));
  CHECK(out_bytes == 0);
  CHECK(err_bytes == 0);
  CHECK(s.records.count == ARTICLES);
  CHECK(s.errors.count == 0);
  cJSON *j = cJSON_Parse(glean_stats(rt));
  cJSON *crawl = cJSON_GetObjectItem(j, "crawl");
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "crawls")) == 1);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "records")) == ARTICLES);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(crawl, "records")) == ARTICLES);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(crawl, "pages")) > ARTICLES);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(crawl, "failed")) == 0);
  CHECK(cJSON_IsFalse(cJSON_GetObjectItem(crawl, "interrupted")));
  cJSON_Delete(j);

  /* Each record is one of EXPECTED.jsonl's. */
  fixture_page pages[ARTICLES];
  fixture_articles(pages);
  int matched = 0;
  for (char *line = strtok(s.records.text, "\n"); line; line = strtok(NULL, "\n")) {
    cJSON *got = cJSON_Parse(line);
    for (int i = 0; i < ARTICLES; i++)
      if (cJSON_Compare(got, pages[i].expected, true)) matched++;
    cJSON_Delete(got);
  }
  CHECK(matched == ARTICLES);
  fixture_free(pages);
  collected_reset(&s.records);

  /* Pages that fail reach the error callback with their URL; the crawl
   * goes on and says some failed. */
  const char *failing = "return {pages = {{path = '^/$', parse = function() error('no luck' .. ('!'):rep(1e7)) end},\n"
                        "                  {path = '^/missing/'}}}";
  CHECK(glean_load_adapter_string(rt, failing, strlen(failing), "failing.lua") == GLEAN_OK);
  const char *urls[] = {ORIGIN "/", ORIGIN "/missing/"};
  cb = sinks_callbacks(&s);
  err = capture_begin(STDERR_FILENO);
  st = glean_crawl(rt, urls, 2, &cb);
  err_bytes = capture_end(STDERR_FILENO, err);
  CHECK(st == GLEAN_EPAGE);
  CHECK(err_bytes == 0);
  CHECK(s.errors.count == 2);
  CHECK(s.errors.longest > 100 && s.errors.longest < 20000);  /* a message of any size reaches the host cut */
  CHECK(strstr(lines.text, "handler failed for https://coins2day.com/") != NULL);
  CHECK(strstr(lines.text, "HTTP 404: https://coins2day.com/missing/") != NULL);
  j = cJSON_Parse(glean_stats(rt));
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "errors")) == 2);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "crawl"), "handler_errors")) == 1);
  cJSON_Delete(j);

  /* A crawl that cannot run. */
  const char *bad[] = {"not a url"};
  CHECK(glean_crawl(rt, bad, 1, &cb) == GLEAN_ECRAWL);
  CHECK(strstr(glean_errmsg(rt), "not a crawlable URL") != NULL);
  CHECK(glean_crawl(rt, (const char *[]){NULL}, 1, &cb) == GLEAN_EINVAL);
  glean_destroy(rt);
}

/* Options "cache" and "offline": a crawl through a base-URL mirror (the
 * fixture site served on 127.0.0.1 by python3 -m http.server) recorded,
 * then replayed by another runtime with the server gone and no mirror. */
static void test_cache(void) {
  char dir[] = "/tmp/glean-api-cache-XXXXXX", cache[64], mirror[128];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(cache, sizeof cache, "%s/site.cache", dir);
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execlp("python3", "python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", SITE, "0",
           (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  int port = 0;
  CHECK(f && fscanf(f, "Serving HTTP on 127.0.0.1 port %d", &port) == 1);
  snprintf(mirror, sizeof mirror, ORIGIN "=http://127.0.0.1:%d", port);
  collected runs[2] = {{0}};
  for (int run = 0; run < 2; run++) {
    glean_runtime *rt = glean_new();
    CHECK(glean_load_adapter(rt, ADAPTER) == GLEAN_OK);
    CHECK(glean_set_option(rt, "cache", cache) == GLEAN_OK);
    CHECK(glean_set_option(rt, "progress", "0") == GLEAN_OK);
    CHECK(glean_set_option(rt, "log-level", "error") == GLEAN_OK);
    if (run == 0) CHECK(glean_set_option(rt, "mirror", mirror) == GLEAN_OK);
    if (run == 1) {
      kill(pid, SIGTERM);
      waitpid(pid, NULL, 0);
      pid = -1;
      CHECK(glean_set_option(rt, "offline", NULL) == GLEAN_OK);
    }
    glean_callbacks cb = {.record = collect_record, .ud = &runs[run]};
    glean_status st = glean_crawl(rt, NULL, 0, &cb);
    CHECK(st == GLEAN_OK);
    if (st != GLEAN_OK) fprintf(stderr, "crawl %d: %s\n", run, glean_errmsg(rt));
    CHECK(runs[run].count == ARTICLES);
    cJSON *j = cJSON_Parse(glean_stats(rt));
    cJSON *crawl = cJSON_GetObjectItem(j, "crawl");
    double hits = cJSON_GetNumberValue(cJSON_GetObjectItem(crawl, "cache_hits"));
    double pages = cJSON_GetNumberValue(cJSON_GetObjectItem(crawl, "pages"));
    CHECK(run == 0 ? hits == 0 : hits > pages);  /* robots.txt too */
    cJSON_Delete(j);
    glean_destroy(rt);
  }
  /* The same records, in whatever order the pages came. */
  int same = 0;
  for (char *line = runs[1].text ? strtok(runs[1].text, "\n") : NULL; line; line = strtok(NULL, "\n"))
    same += runs[0].text && strstr(runs[0].text, line) != NULL;
  CHECK(same == ARTICLES);
  collected_reset(&runs[0]);
  collected_reset(&runs[1]);
  if (f) fclose(f);
  if (pid > 0) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
  }
  static const char *const files[] = {"site.cache", "site.cache-wal", "site.cache-shm"};
  for (size_t i = 0; i < 3; i++) {
    char p[96];
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
}

/* Option "out": the crawl's records go to the files too, beside the record
 * callback; "-" (stdout) is refused, stdout being the host's. And
 * "warc-out", "warc-max-size". */
static void test_out(void) {
  char dir[] = "/tmp/glean-api-out-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char csv[64], jsonl[64];
  snprintf(csv, sizeof csv, "%s/r.csv", dir);
  snprintf(jsonl, sizeof jsonl, "%s/r.jsonl", dir);
  glean_runtime *rt = glean_new();
  CHECK(glean_load_adapter(rt, ADAPTER) == GLEAN_OK);
  CHECK(glean_set_option(rt, "mirror", MIRROR) == GLEAN_OK);
  CHECK(glean_set_option(rt, "progress", "0") == GLEAN_OK);
  CHECK(glean_set_option(rt, "out", csv) == GLEAN_OK);
  CHECK(glean_set_option(rt, "out", jsonl) == GLEAN_OK);
  CHECK(glean_set_option(rt, "fsync", "never") == GLEAN_OK);
  /* WARC files too: only a warcinfo record here, a directory mirror's
   * pages being no HTTP exchanges (warc_spec.lua checks the records). */
  char warc[64], warc_file[64];
  snprintf(warc, sizeof warc, "%s/w.warc.gz", dir);
  snprintf(warc_file, sizeof warc_file, "%s/w-00000.warc.gz", dir);
  CHECK(glean_set_option(rt, "warc-out", warc) == GLEAN_OK);
  CHECK(glean_set_option(rt, "warc-max-size", "lots") == GLEAN_EINVAL);
  CHECK(strstr(glean_errmsg(rt), "--warc-max-size needs a size") != NULL);
  CHECK(glean_set_option(rt, "warc-max-size", "64M") == GLEAN_OK);
  CHECK(glean_set_option(rt, "fsync", "sometimes") == GLEAN_EINVAL);
  CHECK(strstr(glean_errmsg(rt), "--fsync must be always, batch, never") != NULL);
  sinks s;
  glean_callbacks cb = sinks_callbacks(&s);
  glean_status st = glean_crawl(rt, NULL, 0, &cb);
  CHECK(st == GLEAN_OK);
  if (st != GLEAN_OK) fprintf(stderr, "crawl: %s\n", glean_errmsg(rt));
  CHECK(s.records.count == ARTICLES);
  int lines = 0, rows = 0;
  char line[1 << 16];
  FILE *f = fopen(jsonl, "r");
  while (f && fgets(line, sizeof line, f)) lines++;
  if (f) fclose(f);
  CHECK(lines == ARTICLES);
  /* The header (columns sorted: no fields in the adapter), then a row for
   * each article, its URL last, unquoted. */
  f = fopen(csv, "r");
  size_t got = f ? fread(line, 1, sizeof line - 1, f) : 0;
  line[got] = '\0';
  CHECK(strncmp(line, "authors,body,", 13) == 0);
  for (const char *p = line; (p = strstr(p, ",https://coins2day.com/20")); p++) rows++;
  if (f) fclose(f);
  CHECK(rows == ARTICLES);
  CHECK(access(warc_file, R_OK) == 0);
  collected_reset(&s.records);
  glean_destroy(rt);

  rt = glean_new();
  CHECK(glean_load_adapter(rt, ADAPTER) == GLEAN_OK);
  CHECK(glean_set_option(rt, "out", "-") == GLEAN_OK);
  CHECK(glean_crawl(rt, NULL, 0, &cb) == GLEAN_ECRAWL);
  CHECK(strstr(glean_errmsg(rt), "standard output is the host's") != NULL);
  glean_destroy(rt);
  unlink(csv);
  unlink(jsonl);
  unlink(warc_file);
  rmdir(dir);
}

/* Lines of a file (0 if it cannot be read). */
static int file_lines(const char *path) {
  int lines = 0;
  char line[1 << 16];
  FILE *f = fopen(path, "r");
  while (f && fgets(line, sizeof line, f)) lines++;
  if (f) fclose(f);
  return lines;
}

/* Option "out" holds for glean_extract too: one set of files across the
 * calls, each record there as well as at the callback, the files closed
 * (whole) when the options change or the runtime goes. */
static void test_extract_out(void) {
  char dir[] = "/tmp/glean-api-xout-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char first[64], second[64];
  snprintf(first, sizeof first, "%s/first.jsonl", dir);
  snprintf(second, sizeof second, "%s/second.csv", dir);
  fixture_page pages[ARTICLES];
  fixture_articles(pages);
  glean_runtime *rt = glean_new();
  CHECK(glean_load_adapter(rt, ADAPTER) == GLEAN_OK);
  CHECK(glean_set_option(rt, "out", first) == GLEAN_OK);
  sinks s;
  glean_callbacks cb = sinks_callbacks(&s);
  for (int i = 0; i < ARTICLES; i++)
    CHECK(glean_extract(rt, pages[i].url, pages[i].bytes, pages[i].len, "text/html", &cb) == GLEAN_OK);
  CHECK(s.records.count == ARTICLES);
  /* A second file ("out" adds one): the first closed and opened again to
   * append, the second new, both given the next record. */
  CHECK(glean_set_option(rt, "out", second) == GLEAN_OK);
  CHECK(glean_extract(rt, pages[0].url, pages[0].bytes, pages[0].len, "text/html", &cb) == GLEAN_OK);
  glean_destroy(rt);
  CHECK(file_lines(first) == ARTICLES + 1);
  CHECK(file_lines(second) == 2); /* its header and the record */
  /* "-" is the host's stdout here too. */
  rt = glean_new();
  CHECK(glean_load_adapter(rt, ADAPTER) == GLEAN_OK);
  CHECK(glean_set_option(rt, "out", "-") == GLEAN_OK);
  CHECK(glean_extract(rt, pages[0].url, pages[0].bytes, pages[0].len, "text/html", &cb) != GLEAN_OK);
  CHECK(strstr(glean_errmsg(rt), "standard output is the host's") != NULL);
  glean_destroy(rt);
  collected_reset(&s.records);
  fixture_free(pages);
  unlink(first);
  unlink(second);
  rmdir(dir);
}

/* A server that takes connections and never answers: requests to it wait
 * for their timeout (a minute), unless the crawl is cancelled. */
static int blackhole(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
    return -1;
  *port = ntohs(a.sin_port);
  return fd;
}

typedef struct canceller {
  glean_runtime *rt;
  double delay, at;
} canceller;

static void *cancel_later(void *arg) {
  canceller *c = arg;
  struct timespec ts = {0, (long)(c->delay * 1e9)};
  nanosleep(&ts, NULL);
  c->at = now();
  glean_cancel(c->rt);
  return NULL;
}

static void test_cancel(void) {
  int port = 0;
  int server = blackhole(&port);
  CHECK(server >= 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
  const char *urls[] = {url};
  glean_runtime *rt = with_adapter("return {pages = {{path = '.', parse = function() return {x = 1} end}}}");
  glean_set_log(rt, note_log, &(log_lines){{0}, 0, 0, 0});
  CHECK(glean_set_option(rt, "progress", "0") == GLEAN_OK);
  sinks s;
  glean_callbacks cb = sinks_callbacks(&s);

  /* From another thread while the crawl waits on the network. */
  canceller c = {rt, 0.3, 0};
  pthread_t t;
  pthread_create(&t, NULL, cancel_later, &c);
  double t0 = now();
  glean_status st = glean_crawl(rt, urls, 1, &cb);
  double done = now();
  pthread_join(t, NULL);
  CHECK(st == GLEAN_ECANCELLED);
  CHECK(done - t0 >= 0.25);
  CHECK(done - c.at < 1.0);
  if (done - c.at >= 1.0) fprintf(stderr, "cancel took %.3f s\n", done - c.at);
  CHECK(s.errors.count == 0);
  cJSON *j = cJSON_Parse(glean_stats(rt));
  CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "crawl"), "interrupted")));
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "crawl"), "failed")) == 0);
  cJSON_Delete(j);

  /* Cancelled before it starts: the next crawl stops at once, and the one
   * after runs. */
  glean_cancel(rt);
  t0 = now();
  CHECK(glean_crawl(rt, urls, 1, &cb) == GLEAN_ECANCELLED);
  CHECK(now() - t0 < 1.0);
  const char *page = "<p>fine</p>";
  CHECK(glean_extract(rt, url, page, strlen(page), NULL, &cb) == GLEAN_OK);
  CHECK(glean_set_option(rt, "timeout", "0.2") == GLEAN_OK);
  CHECK(glean_set_option(rt, "retries", "0") == GLEAN_OK);
  CHECK(glean_set_option(rt, "ignore-robots", NULL) == GLEAN_OK);
  CHECK(glean_crawl(rt, urls, 1, &cb) == GLEAN_EPAGE);
  CHECK(strstr(s.errors.message, "timeout") != NULL || strstr(s.errors.message, "timed out") != NULL);
  collected_reset(&s.records);
  glean_destroy(rt);
  close(server);
}

/* One WARC response record for URL with an h1 of TITLE, into out. */
static size_t warc_response(char *out, size_t cap, const char *url, const char *title) {
  char http[512];
  char body[200];
  int blen = snprintf(body, sizeof body, "<!doctype html><h1>%s</h1>", title);
  int hlen = snprintf(http, sizeof http, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s",
                      blen, body);
  return (size_t)snprintf(out, cap,
                          "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: %s\r\n"
                          "Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n",
                          url, hlen, http);
}

/* glean_extract_warc and glean_extract_warc_memory: the records of the
 * archived pages a rule handles, a damaged record a warning naming the
 * byte it begins at, the stats a crawl's. */
static void test_warc(void) {
  const char *adapter = "return {pages = {{path = '^/a', parse = function(p) return {h1 = p:text('h1')} end}}}";
  glean_runtime *rt = with_adapter(adapter);
  log_lines lines = {{0}, 0, 0, 0};
  glean_set_log(rt, note_log, &lines);
  CHECK(glean_set_option(rt, "progress", "0") == GLEAN_OK);
  char data[4096];
  size_t len = warc_response(data, sizeof data, "https://x.test/a1", "one");
  size_t damaged_at = len;
  len += (size_t)snprintf(data + len, sizeof data - len, "WARC/1.1\r\nContent-Length: 5\r\n\r\nabcdefghij\r\n\r\n");
  len += warc_response(data + len, sizeof data - len, "https://x.test/b", "not handled");
  len += warc_response(data + len, sizeof data - len, "https://x.test/a2", "two");

  sinks s;
  glean_callbacks cb = sinks_callbacks(&s);
  glean_status st = glean_extract_warc_memory(rt, data, len, &cb);
  CHECK(st == GLEAN_OK);
  if (st != GLEAN_OK) fprintf(stderr, "warc: %s\n", glean_errmsg(rt));
  CHECK(s.records.count == 2);
  CHECK(s.records.text && strstr(s.records.text, "{\"h1\":\"one\"}\n{\"h1\":\"two\"}\n") != NULL);
  char where[80];
  snprintf(where, sizeof where, "record at byte %zu: its Content-Length", damaged_at);
  CHECK(strstr(lines.text, where) != NULL);
  cJSON *j = cJSON_Parse(glean_stats(rt));
  cJSON *crawl = cJSON_GetObjectItem(j, "crawl");
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(crawl, "pages")) == 2);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(crawl, "warc_records")) == 4);
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(crawl, "warc_skipped")) == 1);
  cJSON_Delete(j);
  collected_reset(&s.records);

  char path[] = "/tmp/glean-test-warc-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, data, len) == (ssize_t)len);
  close(fd);
  cb = sinks_callbacks(&s);
  CHECK(glean_extract_warc(rt, path, &cb) == GLEAN_OK);
  CHECK(s.records.count == 2);
  collected_reset(&s.records);
  unlink(path);
  CHECK(glean_extract_warc(rt, path, &cb) == GLEAN_ECRAWL);
  CHECK(strstr(glean_errmsg(rt), path) != NULL);
  CHECK(glean_extract_warc(rt, NULL, &cb) == GLEAN_EINVAL);
  glean_destroy(rt);
}

int main(void) {
  test_version();
  test_adapters();
  test_extract_articles();
  test_charsets();
  test_page_errors();
  test_limits();
  test_options();
  test_log();
  test_reentry();
  test_crawl();
  test_cache();
  test_out();
  test_extract_out();
  test_cancel();
  test_warc();
  return check_summary();
}
