/* The fetch engine against tests/server/testserver.py, started here on
 * 127.0.0.1: responses and headers, redirects, transport errors and their
 * kinds, retries and Retry-After, decoding and size limits, cookies,
 * charsets, methods, concurrency limits, host delays, mirrors (base URL and
 * directory), the worker pool, cancel and wakeup. No upper time bounds: the
 * machine may be slow. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fetch.h"
#include "fetch_retry.h"

static int port;
static char base[64];  /* http://127.0.0.1:PORT */

static pid_t server_start(void) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execlp("python3", "python3", "server/testserver.py", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  if (pid < 0 || !f || fscanf(f, "%d", &port) != 1) port = 0;
  if (f) fclose(f);
  snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
  return pid;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A URL from a format, in one of a few rotating buffers. */
static const char *U(const char *fmt, ...) {
  static char bufs[8][512];
  static int next;
  char *b = bufs[next++ % 8];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b, sizeof bufs[0], fmt, ap);
  va_end(ap);
  return b;
}

static void test_config(fetch_config *cfg) {
  fetch_config_defaults(cfg);
  cfg->proxy = "";  /* whatever the environment says, talk to 127.0.0.1 */
  cfg->backoff_ms = 10;
  cfg->workers = 2;
}

static fetch_engine *engine(const fetch_config *cfg) {
  char err[256] = "";
  fetch_engine *e = fetch_new(cfg, err, sizeof err);
  if (!e) fprintf(stderr, "fetch_new: %s\n", err);
  CHECK(e != NULL);
  return e;
}

static void drain(fetch_engine *e) {
  while (fetch_run(e, 1000) > 0) {
  }
}

static void keep(fetch_response *res, void *ud) { *(fetch_response **)ud = res; }

/* Fetches one request to the end and returns its response. */
static fetch_response *fetch_req(fetch_engine *e, fetch_request *req) {
  fetch_response *res = NULL;
  req->done = keep;
  req->ud = &res;
  CHECK(fetch_submit(e, req) != 0);
  drain(e);
  CHECK(res != NULL);
  return res;
}

static fetch_response *get(fetch_engine *e, const char *url) {
  fetch_request req;
  fetch_request_init(&req, url);
  return fetch_req(e, &req);
}

static bool has(const fetch_response *r, const char *needle) {
  return r && r->body.data && strstr(r->body.data, needle) != NULL;
}

static bool message_names(const fetch_response *r, const char *url) {
  return r->message && strstr(r->message, url) != NULL;
}

static void test_basic(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *e = engine(&cfg);
  fetch_response *r = get(e, U("%s/hello", base));
  CHECK(r->error == FETCH_OK && r->message == NULL);
  CHECK(r->status == 200);
  CHECK_STR(buf_str(&r->body), "<!doctype html><title>hello</title><p>hello, glean</p>\n");
  CHECK_STR(r->url, U("%s/hello", base));
  CHECK_STR(r->content_type, "text/html");
  CHECK_STR(r->charset, "utf-8");
  CHECK_STR(r->http_version, "1.1");
  CHECK_STR(fetch_header_get(r, "Content-Length"), "55");
  CHECK(r->tries == 1 && r->redirects == 0);
  CHECK(r->timings.total > 0 && r->timings.first_byte > 0 && r->timings.first_byte <= r->timings.total);
  CHECK(r->timings.connect <= r->timings.first_byte && r->timings.tls == 0);
  CHECK(r->id == 1);
  fetch_response_free(r);

  fetch_request req;
  fetch_request_init(&req, U("%s/hello", base));
  req.method = "HEAD";
  r = fetch_req(e, &req);
  CHECK(r->status == 200 && r->body.len == 0);
  CHECK_STR(fetch_header_get(r, "content-length"), "55");
  fetch_response_free(r);

  /* HTTP error statuses are responses. */
  r = get(e, U("%s/status/404", base));
  CHECK(r->error == FETCH_OK && r->status == 404);
  CHECK_STR(buf_str(&r->body), "status 404");
  fetch_response_free(r);

  /* Headers: names lower-cased, order and repeats kept. */
  r = get(e, U("%s/headers", base));
  CHECK_STR(r->content_type, "text/plain");
  CHECK_STR(r->charset, "UTF-8");
  size_t multi = 0;
  const char *want[] = {"one", "two"};
  for (size_t i = 0; i < r->n_headers; i++)
    if (strcmp(r->headers[i].name, "x-multi") == 0) {
      if (multi < 2) CHECK_STR(r->headers[i].value, want[multi]);
      multi++;
    }
  CHECK(multi == 2);
  CHECK(fetch_header_get(r, "X-Other") != NULL);
  fetch_response_free(r);

  fetch_stats st;
  fetch_stats_get(e, &st);
  CHECK(st.requests == 4 && st.responses == 4 && st.in_flight == 0 && st.queued == 0);
  CHECK(st.bytes >= 55 + 10 + 5);
  fetch_free(e);
}

static void test_redirects(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *e = engine(&cfg);
  fetch_response *r = get(e, U("%s/redirect/3", base));
  CHECK(r->status == 200 && r->redirects == 3);
  CHECK_STR(r->url, U("%s/final", base));
  CHECK_STR(buf_str(&r->body), "final");
  /* Headers of the last response only. */
  CHECK_STR(fetch_header_get(r, "x-final"), "yes");
  CHECK(fetch_header_get(r, "x-hop") == NULL);
  fetch_response_free(r);

  r = get(e, U("%s/loop", base));
  CHECK(r->error == FETCH_TOO_MANY_REDIRECTS);
  CHECK_STR(fetch_error_name(r->error), "redirects");
  CHECK(message_names(r, U("%s/loop", base)));
  fetch_response_free(r);

  fetch_request req;
  fetch_request_init(&req, U("%s/redirect/3", base));
  req.max_redirects = 2;
  r = fetch_req(e, &req);
  CHECK(r->error == FETCH_TOO_MANY_REDIRECTS);
  fetch_response_free(r);

  fetch_request_init(&req, U("%s/redirect/3", base));
  req.follow_redirects = 0;
  r = fetch_req(e, &req);
  CHECK(r->error == FETCH_OK && r->status == 302 && r->redirects == 0);
  CHECK_STR(fetch_header_get(r, "location"), "/redirect/2");
  CHECK_STR(r->url, U("%s/redirect/3", base));
  fetch_response_free(r);

  /* POST becomes GET on a 302, as in browsers. */
  fetch_request_init(&req, U("%s/redirect-to?url=/echo", base));
  req.method = "POST";
  req.body = "x=1";
  req.body_len = 3;
  r = fetch_req(e, &req);
  CHECK(has(r, "\"method\":\"GET\""));
  fetch_response_free(r);
  fetch_free(e);
}

/* A TCP port on 127.0.0.1 that refuses connections: bound, never listening. */
static int closed_port(int *fd) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  *fd = socket(AF_INET, SOCK_STREAM, 0);
  if (*fd < 0 || bind(*fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(*fd, (struct sockaddr *)&a, &len) != 0)
    return 1;
  return ntohs(a.sin_port);
}

static void test_errors(void) {
  fetch_config cfg;
  test_config(&cfg);
  cfg.retries = 0;
  cfg.allow_file = true;
  fetch_engine *e = engine(&cfg);
  int fd;
  const char *refused = U("http://127.0.0.1:%d/", closed_port(&fd));
  fetch_response *r = get(e, refused);
  CHECK(r->error == FETCH_CONNECT && r->status == 0);
  CHECK_STR(fetch_error_name(r->error), "connect");
  CHECK(message_names(r, refused));
  fetch_response_free(r);
  close(fd);

  /* No DNS failure here: resolving a name would leave loopback. */

  fetch_request req;
  fetch_request_init(&req, U("%s/stall", base));
  req.timeout_ms = 300;
  double t0 = now();
  r = fetch_req(e, &req);
  CHECK(r->error == FETCH_TIMEOUT && now() - t0 >= 0.29);
  CHECK_STR(fetch_error_name(r->error), "timeout");
  fetch_response_free(r);

  r = get(e, "ftp://127.0.0.1/x");
  CHECK(r->error == FETCH_SCHEME && r->tries == 0);
  CHECK_STR(fetch_error_name(r->error), "scheme");
  CHECK(message_names(r, "ftp://127.0.0.1/x"));
  fetch_response_free(r);
  r = get(e, "javascript:alert(1)");
  CHECK(r->error == FETCH_SCHEME);
  fetch_response_free(r);
  /* Redirects only ever go to http and https, file:// allowed or not. */
  r = get(e, U("%s/redirect-to?url=ftp://127.0.0.1/x", base));
  CHECK(r->error == FETCH_SCHEME);
  fetch_response_free(r);
  r = get(e, U("%s/redirect-to?url=file:///etc/passwd", base));
  CHECK(r->error == FETCH_SCHEME && r->body.len == 0);
  fetch_response_free(r);

  r = get(e, "not a url");
  CHECK(r->error == FETCH_OTHER && message_names(r, "not a url"));
  CHECK_STR(fetch_error_name(r->error), "other");
  fetch_response_free(r);

  fetch_stats st;
  fetch_stats_get(e, &st);
  CHECK(st.errors[FETCH_CONNECT] == 1 && st.errors[FETCH_TIMEOUT] == 1);
  CHECK(st.errors[FETCH_SCHEME] == 4 && st.errors[FETCH_OTHER] == 1 && st.responses == 0);
  fetch_free(e);

  /* Too slow for too long is a timeout too. */
  test_config(&cfg);
  cfg.retries = 0;
  cfg.low_speed_limit = 1000;
  cfg.low_speed_time = 1;
  e = engine(&cfg);
  r = get(e, U("%s/slow?bytes=100&ms=100", base));
  CHECK(r->error == FETCH_TIMEOUT);
  fetch_response_free(r);
  fetch_free(e);

  /* A mirror that does not parse is refused with a message. */
  test_config(&cfg);
  fetch_mirror bad = {"not a url", "/tmp"};
  cfg.mirrors = &bad;
  cfg.n_mirrors = 1;
  char err[256] = "";
  CHECK(fetch_new(&cfg, err, sizeof err) == NULL);
  CHECK(strstr(err, "not a url") != NULL);
  fetch_mirror nodir = {"https://example.com", "/nonexistent/glean"};
  cfg.mirrors = &nodir;
  CHECK(fetch_new(&cfg, err, sizeof err) == NULL);
  CHECK(strstr(err, "/nonexistent/glean") != NULL);
}

static int retry_lines;

static void count_retries(void *ud, log_level level, const char *msg) {
  (void)ud;
  if (level == LOG_DEBUG && strstr(msg, "retry")) retry_lines++;
}

static void test_retries(void) {
  fetch_config cfg;
  test_config(&cfg);
  logger lg = {LOG_DEBUG, count_retries, NULL};
  cfg.log = &lg;
  fetch_engine *e = engine(&cfg);

  fetch_response *r = get(e, U("%s/flaky/a", base));
  CHECK(r->status == 200 && r->tries == 2);
  CHECK_STR(buf_str(&r->body), "ok a");
  fetch_response_free(r);

  double t0 = now();
  r = get(e, U("%s/limited/a", base));
  CHECK(r->status == 200 && r->tries == 2);
  CHECK(now() - t0 >= 0.99);
  fetch_response_free(r);

  t0 = now();
  r = get(e, U("%s/limited-date/a", base));
  CHECK(r->status == 200 && r->tries == 2);
  CHECK(now() - t0 >= 0.99);
  fetch_response_free(r);

  /* Out of tries: the last response stands. */
  r = get(e, U("%s/status/503", base));
  CHECK(r->error == FETCH_OK && r->status == 503 && r->tries == 3);
  fetch_response_free(r);

  int fd;
  fetch_request req;
  fetch_request_init(&req, U("http://127.0.0.1:%d/", closed_port(&fd)));
  req.retries = 1;
  r = fetch_req(e, &req);
  CHECK(r->error == FETCH_CONNECT && r->tries == 2);
  fetch_response_free(r);
  close(fd);

  /* Not retried: client errors, limits, schemes. */
  r = get(e, U("%s/status/404", base));
  CHECK(r->tries == 1);
  fetch_response_free(r);
  fetch_request_init(&req, U("%s/big?n=5000", base));
  req.max_body = 100;
  r = fetch_req(e, &req);
  CHECK(r->error == FETCH_TOO_LARGE && r->tries == 1);
  fetch_response_free(r);

  fetch_stats st;
  fetch_stats_get(e, &st);
  CHECK(st.retries == 1 + 1 + 1 + 2 + 1);
  CHECK(retry_lines == 6);
  fetch_free(e);

  /* Retry-After is capped. */
  test_config(&cfg);
  cfg.retry_after_max_ms = 50;
  e = engine(&cfg);
  r = get(e, U("%s/limited/b", base));
  CHECK(r->status == 200 && r->tries == 2);
  fetch_response_free(r);
  fetch_free(e);
}

static const char *quick_fox(void) {
  static char text[46 * 20 + 1];
  if (!text[0])
    for (int i = 0; i < 20; i++) strcat(text, "The quick brown fox jumps over the lazy dog. ");
  return text;
}

static void test_decoding_and_limits(void) {
  fetch_config cfg;
  test_config(&cfg);
  cfg.max_body = 1 << 20;
  fetch_engine *e = engine(&cfg);
  const char *enc[][2] = {{"gzip", "gzip"}, {"br", "br"}, {"zstd", "zstd"}};
  for (size_t i = 0; i < 3; i++) {
    fetch_response *r = get(e, U("%s/%s", base, enc[i][0]));
    CHECK(r->status == 200);
    CHECK_STR(buf_str(&r->body), quick_fox());
    CHECK_STR(fetch_header_get(r, "content-encoding"), enc[i][1]);
    fetch_response_free(r);
  }

  fetch_response *r = get(e, U("%s/big?n=1000", base));
  CHECK(r->status == 200 && r->body.len == 1000);
  fetch_response_free(r);

  /* Refused from its Content-Length, before the body. */
  r = get(e, U("%s/big?n=2000000", base));
  CHECK(r->error == FETCH_TOO_LARGE && r->body.len == 0);
  CHECK_STR(fetch_error_name(r->error), "too_large");
  CHECK(message_names(r, U("%s/big?n=2000000", base)));
  fetch_response_free(r);

  /* No Content-Length: stopped while receiving, keeping max_body bytes. */
  r = get(e, U("%s/big-chunked?n=2000000", base));
  CHECK(r->error == FETCH_TOO_LARGE && r->body.len == cfg.max_body);
  fetch_response_free(r);

  fetch_stats before, after;
  fetch_stats_get(e, &before);
  r = get(e, U("%s/bomb", base));
  fetch_stats_get(e, &after);
  CHECK(r->error == FETCH_TOO_LARGE && r->body.len <= cfg.max_body);
  CHECK(after.bytes - before.bytes <= cfg.max_body);
  fetch_response_free(r);
  fetch_free(e);
}

static void test_cookies(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *a = engine(&cfg), *b = engine(&cfg);
  cfg.cookies = false;
  fetch_engine *none = engine(&cfg);
  fetch_response_free(get(a, U("%s/cookie/set?flavour=oat&n=1", base)));
  fetch_response_free(get(none, U("%s/cookie/set?flavour=oat", base)));
  fetch_response *r = get(a, U("%s/cookie/echo", base));
  CHECK(has(r, "flavour=oat") && has(r, "n=1"));
  fetch_response_free(r);
  r = get(b, U("%s/cookie/echo", base));  /* a jar per engine */
  CHECK(r->status == 200 && r->body.len == 0);
  fetch_response_free(r);
  r = get(none, U("%s/cookie/echo", base));
  CHECK(r->status == 200 && r->body.len == 0);
  fetch_response_free(r);
  fetch_free(a);
  fetch_free(b);
  fetch_free(none);
}

static void test_charsets(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *e = engine(&cfg);
  fetch_response *r = get(e, U("%s/charset/latin1", base));
  CHECK_STR(r->content_type, "text/html");
  CHECK_STR(r->charset, "ISO-8859-1");
  CHECK_STR(buf_str(&r->body), "<p>caf\xe9</p>");
  fetch_response_free(r);
  r = get(e, U("%s/charset/cp1252", base));
  CHECK_STR(r->charset, "windows-1252");
  CHECK_STR(buf_str(&r->body), "<p>\x80 \x93quoted\x94</p>");
  fetch_response_free(r);
  r = get(e, U("%s/charset/sjis", base));
  CHECK_STR(r->charset, "Shift_JIS");  /* quotes removed */
  CHECK_STR(buf_str(&r->body), "<p>\x93\xfa\x96\x7b\x8c\xea</p>");
  fetch_response_free(r);
  r = get(e, U("%s/final", base));
  CHECK_STR(r->content_type, "text/plain");
  CHECK(r->charset == NULL);
  fetch_response_free(r);
  fetch_free(e);
}

static void test_methods(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *e = engine(&cfg);
  const char *headers[] = {"X-Test: yes", "Content-Type: text/plain"};
  fetch_request req;
  fetch_request_init(&req, U("%s/echo", base));
  req.method = "POST";
  req.headers = headers;
  req.n_headers = 2;
  req.body = "a=1&b=2";
  req.body_len = 7;
  fetch_response *r = fetch_req(e, &req);
  CHECK(has(r, "\"method\":\"POST\"") && has(r, "\"body\":\"a=1&b=2\""));
  CHECK(has(r, "\"X-Test\":\"yes\"") && has(r, "\"Content-Type\":\"text/plain\""));
  CHECK(has(r, "\"User-Agent\":\"glean/" GLEAN_VERSION "\""));
  CHECK_STR(r->content_type, "application/json");
  fetch_response_free(r);

  const char *methods[] = {"put", "PATCH", "DELETE"};
  for (size_t i = 0; i < 3; i++) {
    fetch_request_init(&req, U("%s/echo", base));
    req.method = methods[i];
    req.body = "payload";
    req.body_len = 7;
    req.user_agent = "agent/2";
    r = fetch_req(e, &req);
    char want[64];
    snprintf(want, sizeof want, "\"method\":\"%s\"", i == 0 ? "PUT" : methods[i]);
    CHECK(has(r, want) && has(r, "\"body\":\"payload\"") && has(r, "\"User-Agent\":\"agent/2\""));
    fetch_response_free(r);
  }

  /* An empty POST still says Content-Length: 0; a body may hold NULs. */
  fetch_request_init(&req, U("%s/echo", base));
  req.method = "POST";
  r = fetch_req(e, &req);
  CHECK(has(r, "\"Content-Length\":\"0\"") && has(r, "\"method\":\"POST\""));
  fetch_response_free(r);
  fetch_request_init(&req, U("%s/echo", base));
  req.method = "POST";
  req.body = "a\0b";
  req.body_len = 3;
  r = fetch_req(e, &req);
  CHECK(has(r, "\"body\":\"a\\u0000b\""));
  fetch_response_free(r);

  /* Accept-Encoding lists what libcurl decodes. */
  r = get(e, U("%s/echo", base));
  CHECK(has(r, "gzip") && has(r, "br") && has(r, "zstd"));
  fetch_response_free(r);
  fetch_free(e);
}

static int peak_of(fetch_engine *e, const char *key) {
  fetch_response *r = get(e, U("%s/peak/%s", base, key));
  int n = atoi(buf_str(&r->body));
  fetch_response_free(r);
  return n;
}

static int ok_count;

static void count_ok(fetch_response *res, void *ud) {
  (void)ud;
  if (res->error == FETCH_OK && res->status == 200) ok_count++;
  fetch_response_free(res);
}

static void submit_counted(fetch_engine *e, const char *url) {
  fetch_request req;
  fetch_request_init(&req, url);
  req.done = count_ok;
  CHECK(fetch_submit(e, &req) != 0);
}

static void test_concurrency(void) {
  fetch_config cfg;
  test_config(&cfg);
  cfg.max_per_host = 4;
  fetch_engine *e = engine(&cfg);
  ok_count = 0;
  for (int i = 0; i < 40; i++) submit_counted(e, U("%s/count/host/%d", base, i));
  fetch_stats st;
  fetch_stats_get(e, &st);
  CHECK(st.queued == 40 && st.in_flight == 0);  /* nothing starts before fetch_run */
  drain(e);
  fetch_stats_get(e, &st);
  CHECK(ok_count == 40 && st.peak_in_flight == 4);
  int peak = peak_of(e, "host");
  CHECK(peak >= 1 && peak <= 4);
  fetch_free(e);

  /* Two host names for one server: the global limit binds. */
  test_config(&cfg);
  cfg.max_in_flight = 5;
  cfg.max_per_host = 4;
  e = engine(&cfg);
  ok_count = 0;
  for (int i = 0; i < 20; i++) {
    submit_counted(e, U("%s/count/global/%d", base, i));
    submit_counted(e, U("http://localhost:%d/count/global/%d", port, i));
  }
  drain(e);
  fetch_stats_get(e, &st);
  CHECK(ok_count == 40 && st.peak_in_flight == 5);
  peak = peak_of(e, "global");
  CHECK(peak >= 1 && peak <= 5);
  fetch_free(e);

  /* Many at once. */
  test_config(&cfg);
  cfg.max_in_flight = 500;
  cfg.max_per_host = 500;
  e = engine(&cfg);
  ok_count = 0;
  for (int i = 0; i < 500; i++) submit_counted(e, U("%s/count/many/%d", base, i));
  drain(e);
  fetch_stats_get(e, &st);
  CHECK(ok_count == 500 && st.peak_in_flight == 500 && st.responses == 500);
  fetch_free(e);
}

static void test_host_delay(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *e = engine(&cfg);
  fetch_response *r = get(e, U("%s/robots.txt", base));
  const char *cd = strstr(buf_str(&r->body), "Crawl-delay:");
  CHECK(cd != NULL);
  int ms = cd ? (int)(atof(cd + 12) * 1000) : 0;
  CHECK(ms == 250);
  fetch_response_free(r);
  CHECK(fetch_set_host_delay(e, "127.0.0.1", ms) == 0);
  ok_count = 0;
  double t0 = now();
  for (int i = 0; i < 4; i++) submit_counted(e, U("%s/hello", base));
  drain(e);
  CHECK(ok_count == 4 && now() - t0 >= 0.75);
  fetch_stats st;
  /* Back to the engine's: no gap. */
  CHECK(fetch_set_host_delay(e, "127.0.0.1", -1) == 0);
  for (int i = 0; i < 4; i++) submit_counted(e, U("%s/count/nodelay/%d", base, i));
  drain(e);
  fetch_stats_get(e, &st);
  CHECK(ok_count == 8 && st.peak_in_flight == 4);
  fetch_free(e);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

typedef struct {
  pthread_t thread;
  size_t len;
} after_note;

static pthread_t main_thread;
static int notes_freed;

static void note_free(void *p) {
  notes_freed++;
  free(p);
}

/* Runs on a worker thread: what a parser would do. */
static void note_after(fetch_response *res, void *ud) {
  (void)ud;
  after_note *n = malloc(sizeof *n);
  if (!n) return;
  n->thread = pthread_self();
  n->len = res->body.len;
  res->result = n;
  res->free_result = note_free;
}

static void test_mirrors(void) {
  /* A base URL, with and without a path prefix. */
  fetch_config cfg;
  test_config(&cfg);
  fetch_mirror m[] = {
      {"https://coins2day.com", base},
      {"http://Example.TEST:8080", U("%s/m/", base)},
      {"https://disk.test", "fixtures/coins2day/site/"},
  };
  cfg.mirrors = m;
  cfg.n_mirrors = 3;
  cfg.allow_file = true;
  fetch_engine *e = engine(&cfg);
  fetch_response *r = get(e, "https://coins2day.com/redirect/2");
  CHECK(r->status == 200 && r->redirects == 2);
  CHECK_STR(r->url, "https://coins2day.com/final");
  fetch_response_free(r);
  r = get(e, "https://coins2day.com/echo?x=1&y=%20");
  CHECK(has(r, "\"path\":\"/echo?x=1&y=%20\""));
  CHECK_STR(r->url, "https://coins2day.com/echo?x=1&y=%20");
  fetch_response_free(r);
  r = get(e, "http://example.test:8080/a/b?q=1");
  CHECK_STR(buf_str(&r->body), "/m/a/b?q=1");
  CHECK_STR(r->url, "http://example.test:8080/a/b?q=1");
  fetch_response_free(r);
  r = get(e, "http://example.test:8080/go");
  CHECK_STR(buf_str(&r->body), "/m/landed?x=1");
  CHECK_STR(r->url, "http://example.test:8080/landed?x=1");
  fetch_response_free(r);
  /* A redirect to the origin itself is served by the mirror too, never by
   * the real site (which this test could not reach). */
  r = get(e, "https://coins2day.com/redirect-to?url=https://coins2day.com/hello");
  CHECK(r->error == FETCH_OK && r->status == 200 && has(r, "hello, glean") && r->redirects == 1);
  CHECK_STR(r->url, "https://coins2day.com/hello");
  fetch_response_free(r);
  r = get(e, "https://coins2day.com/redirect-to?url=https://coins2day.com/redirect/2");
  CHECK(r->status == 200 && r->redirects == 3);
  CHECK_STR(r->url, "https://coins2day.com/final");
  fetch_response_free(r);
  /* ... and a POST that a 302 sends on becomes a GET without its body. */
  fetch_request post;
  fetch_request_init(&post, "https://coins2day.com/redirect-to?url=https://coins2day.com/echo");
  post.method = "POST";
  post.body = "x=1";
  post.body_len = 3;
  r = fetch_req(e, &post);
  CHECK(has(r, "\"method\":\"GET\"") && has(r, "\"body\":\"\""));
  fetch_response_free(r);
  r = get(e, "https://coins2day.com/loop");
  CHECK(r->error == FETCH_TOO_MANY_REDIRECTS && message_names(r, "https://coins2day.com/loop"));
  fetch_response_free(r);
  r = get(e, "https://coins2day.com/redirect-to?url=ftp://coins2day.com/x");
  CHECK(r->error == FETCH_SCHEME);
  fetch_response_free(r);
  /* A server may not have local files read, whatever the engine allows. */
  r = get(e, "https://coins2day.com/redirect-to?url=file:///etc/hostname");
  CHECK(r->error == FETCH_SCHEME && r->body.len == 0);
  fetch_response_free(r);
  /* Into a directory mirror, counted. */
  r = get(e, "https://coins2day.com/redirect-to?url=https://disk.test/");
  CHECK(r->status == 200 && r->redirects == 1 && r->body.len > 0);
  CHECK_STR(r->url, "https://disk.test/");
  fetch_response_free(r);
  /* The request's credentials go on to its own origin only. */
  const char *secrets[] = {"Authorization: Bearer s3cret", "Cookie: sid=1", "X-Other: kept"};
  const char *targets[][2] = {{"https://coins2day.com/echo", "s3cret"}, {U("http://localhost:%d/echo", port), NULL}};
  for (size_t i = 0; i < 2; i++) {
    fetch_request_init(&post, U("https://coins2day.com/redirect-to?url=%s", targets[i][0]));
    post.headers = secrets;
    post.n_headers = 3;
    r = fetch_req(e, &post);
    CHECK(r->status == 200 && has(r, "kept"));
    CHECK(targets[i][1] ? has(r, "s3cret") && has(r, "sid=1") : !has(r, "s3cret") && !has(r, "sid=1"));
    fetch_response_free(r);
  }
  /* Only the exact origin: other ports and schemes keep their URLs. */
  r = get(e, U("%s/hello", base));
  CHECK(r->status == 200 && has(r, "hello, glean"));
  fetch_response_free(r);
  fetch_free(e);

  /* A directory. */
  char tmp[] = "/tmp/glean-fetch-XXXXXX";
  CHECK(mkdtemp(tmp) != NULL);
  char site[64], p[128];
  snprintf(site, sizeof site, "%s/site", tmp);
  const char *dirs[] = {"", "/a", "/a/b", "/empty"};
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s%s", site, dirs[i]);
    CHECK(mkdir(p, 0755) == 0);
  }
  const char *files[][2] = {
      {"/index.html", "<p>home</p>"}, {"/a/b/index.html", "<p>ab</p>"}, {"/x.txt", "text"},
      {"/d.json", "{}"},              {"/s.svg", "<svg/>"},            {"/sp ace.txt", "space"},
      {"/raw.bin", "raw"},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(p, sizeof p, "%s%s", site, files[i][0]);
    write_file(p, files[i][1]);
  }
  snprintf(p, sizeof p, "%s/secret.txt", tmp);
  write_file(p, "secret");

  test_config(&cfg);
  fetch_mirror dm[] = {{"https://coins2day.com", site}, {"https://fixture.test", "fixtures/coins2day/site/"}};
  cfg.mirrors = dm;
  cfg.n_mirrors = 2;
  e = engine(&cfg);
  const char *served[][4] = {
      {"https://coins2day.com/", "<p>home</p>", "text/html", "https://coins2day.com/"},
      {"https://coins2day.com", "<p>home</p>", "text/html", "https://coins2day.com/"},
      {"https://coins2day.com/a/b/", "<p>ab</p>", "text/html", NULL},
      {"https://coins2day.com/a/b", "<p>ab</p>", "text/html", NULL},
      {"https://coins2day.com/a/b/../b/./", "<p>ab</p>", "text/html", "https://coins2day.com/a/b/"},
      {"https://coins2day.com/x.txt?q=1#f", "text", "text/plain", "https://coins2day.com/x.txt?q=1"},
      {"https://coins2day.com/d.json", "{}", "application/json", NULL},
      {"https://coins2day.com/s.svg", "<svg/>", "image/svg+xml", NULL},
      {"https://coins2day.com/sp%20ace.txt", "space", "text/plain", NULL},
      {"https://coins2day.com/raw.bin", "raw", "application/octet-stream", NULL},
  };
  for (size_t i = 0; i < sizeof served / sizeof served[0]; i++) {
    r = get(e, served[i][0]);
    CHECK(r->error == FETCH_OK && r->status == 200);
    CHECK_STR(buf_str(&r->body), served[i][1]);
    CHECK_STR(r->content_type, served[i][2]);
    CHECK_STR(r->url, served[i][3] ? served[i][3] : served[i][0]);
    fetch_response_free(r);
  }
  const char *missing[] = {
      "https://coins2day.com/missing.html", "https://coins2day.com/empty/", "https://coins2day.com/../secret.txt",
      "https://coins2day.com/..%2fsecret.txt", "https://coins2day.com/%2e%2e/secret.txt",
      "https://coins2day.com/a/%2e%2e%2F%2e%2e%2f..%2Fsecret.txt", "https://coins2day.com/x%00.txt",
  };
  for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
    r = get(e, missing[i]);
    CHECK(r->error == FETCH_OK && r->status == 404 && r->body.len == 0);
    fetch_response_free(r);
  }
  /* The repository's own snapshot of the site. */
  r = get(e, "https://fixture.test/");
  CHECK(r->status == 200 && r->body.len > 0);
  CHECK_STR(r->content_type, "text/html");
  fetch_response_free(r);

  /* `after` runs on a worker for files as for the network. */
  fetch_request req;
  fetch_request_init(&req, "https://coins2day.com/x.txt");
  req.after = note_after;
  r = fetch_req(e, &req);
  after_note *n = r->result;
  CHECK(n && n->len == 4 && !pthread_equal(n->thread, main_thread));
  fetch_response_free(r);
  fetch_free(e);

  /* file:// only when allowed. */
  test_config(&cfg);
  e = engine(&cfg);
  r = get(e, U("file://%s/x.txt", site));
  CHECK(r->error == FETCH_SCHEME);
  fetch_response_free(r);
  fetch_free(e);
  cfg.allow_file = true;
  e = engine(&cfg);
  r = get(e, U("file://%s/x.txt", site));
  CHECK(r->status == 200);
  CHECK_STR(buf_str(&r->body), "text");
  fetch_response_free(r);
  fetch_request_init(&req, U("file://%s/x.txt", site));
  req.max_body = 2;
  r = fetch_req(e, &req);
  CHECK(r->error == FETCH_TOO_LARGE);
  fetch_response_free(r);
  fetch_free(e);

  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(p, sizeof p, "%s%s", site, files[i][0]);
    unlink(p);
  }
  for (size_t i = 4; i-- > 0;) {
    snprintf(p, sizeof p, "%s%s", site, dirs[i]);
    rmdir(p);
  }
  snprintf(p, sizeof p, "%s/secret.txt", tmp);
  unlink(p);
  rmdir(tmp);
}

static int after_done;

static void after_checked(fetch_response *res, void *ud) {
  after_note *n = res->result;
  CHECK(ud == (void *)&after_done);
  CHECK(pthread_equal(pthread_self(), main_thread));
  if (n && n->len == res->body.len && !pthread_equal(n->thread, main_thread)) after_done++;
  fetch_response_free(res);
}

static void test_workers(void) {
  fetch_config cfg;
  test_config(&cfg);
  cfg.workers = 3;
  fetch_engine *e = engine(&cfg);
  after_done = notes_freed = 0;
  for (int i = 0; i < 60; i++) {
    fetch_request req;
    fetch_request_init(&req, i % 3 ? U("%s/hello", base) : U("%s/status/%d", base, 400 + i));
    req.after = note_after;
    req.done = after_checked;
    req.ud = &after_done;
    CHECK(fetch_submit(e, &req) != 0);
  }
  drain(e);
  CHECK(after_done == 60 && notes_freed == 60);

  /* Freeing an engine with work in every state leaks nothing. */
  for (int i = 0; i < 10; i++) {
    fetch_request req;
    fetch_request_init(&req, U("%s/%s", base, i % 2 ? "stall" : "hello"));
    req.after = note_after;
    fetch_submit(e, &req);
  }
  fetch_run(e, 100);
  fetch_free(e);
}

/* A parser slower than the network: responses must not pile up behind it. */
static void slow_after(fetch_response *res, void *ud) {
  (void)res;
  (void)ud;
  struct timespec ts = {0, 5 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

static size_t peak_unhandled;

/* Counts the responses fetched and not yet handed over, this one included. */
static void note_unhandled(fetch_response *res, void *ud) {
  fetch_stats st;
  fetch_stats_get(ud, &st);
  uint64_t delivered = st.responses;
  for (int k = 0; k < FETCH_ERROR_KINDS; k++) delivered += st.errors[k];
  size_t unhandled = (size_t)(st.requests - st.queued - delivered) + 1;
  if (unhandled > peak_unhandled) peak_unhandled = unhandled;
  fetch_response_free(res);
}

static void test_backlog(void) {
  fetch_config cfg;
  test_config(&cfg);
  cfg.workers = 1;
  cfg.max_in_flight = 8;
  cfg.max_per_host = 8;
  fetch_engine *e = engine(&cfg);
  peak_unhandled = 0;
  for (int i = 0; i < 80; i++) {
    fetch_request req;
    fetch_request_init(&req, U("%s/hello", base));
    req.after = slow_after;
    req.done = note_unhandled;
    req.ud = e;
    CHECK(fetch_submit(e, &req) != 0);
  }
  drain(e);
  fetch_stats st;
  fetch_stats_get(e, &st);
  CHECK(st.responses == 80);
  /* A response waiting for its `after` holds its slot: the requests
   * started, in flight or waiting, never pass max_in_flight. */
  CHECK(peak_unhandled >= 2 && peak_unhandled <= 8);
  fetch_free(e);
}

static int cancelled;

static void count_cancelled(fetch_response *res, void *ud) {
  (void)ud;
  if (res->error == FETCH_CANCELLED && strstr(res->message, "cancelled") && res->status == 0 && res->body.len == 0)
    cancelled++;
  fetch_response_free(res);
}

static void *wake_later(void *e) {
  struct timespec ts = {0, 200 * 1000 * 1000};
  nanosleep(&ts, NULL);
  fetch_wakeup(e);
  return NULL;
}

static void reenter(fetch_response *res, void *ud) {
  CHECK(fetch_run(ud, 0) == -1);
  fetch_response_free(res);
}

static void test_cancel_and_wakeup(void) {
  fetch_config cfg;
  test_config(&cfg);
  cfg.max_per_host = 2;
  cfg.backoff_ms = 60000;
  fetch_engine *e = engine(&cfg);
  cancelled = 0;
  for (int i = 0; i < 6; i++) {
    fetch_request req;
    fetch_request_init(&req, U("%s/stall", base));
    req.done = count_cancelled;
    req.after = i % 2 ? note_after : NULL;
    fetch_submit(e, &req);
  }
  fetch_request req;
  fetch_request_init(&req, U("http://localhost:%d/status/503", port));  /* will sleep before a retry */
  req.done = count_cancelled;
  fetch_submit(e, &req);
  fetch_stats st;
  for (int i = 0; i < 1000; i++) {  /* until there; the bound is for a hang */
    fetch_run(e, 50);
    fetch_stats_get(e, &st);
    if (st.in_flight == 2 && st.queued == 5 && st.retries == 1) break;
  }
  CHECK(st.in_flight == 2 && st.queued == 5 && st.retries == 1);
  fetch_cancel(e);
  fetch_stats_get(e, &st);
  CHECK(st.in_flight == 0 && st.queued == 0);
  drain(e);
  CHECK(cancelled == 7);
  fetch_stats_get(e, &st);
  CHECK(st.errors[FETCH_CANCELLED] == 7);

  /* Still usable after a cancel; a wakeup from another thread returns a
   * waiting turn early (if it did not, the turn would take 30 s). */
  fetch_response *r = get(e, U("%s/hello", base));
  CHECK(r->status == 200);
  fetch_response_free(r);
  fetch_request_init(&req, U("%s/stall", base));
  req.done = count_cancelled;
  fetch_submit(e, &req);
  fetch_run(e, 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, wake_later, e) == 0);
  CHECK(fetch_run(e, 30000) == 1);
  pthread_join(t, NULL);
  fetch_cancel(e);
  drain(e);
  CHECK(cancelled == 8 && fetch_pending(e) == 0);

  /* Callbacks never run inside fetch_submit, and fetch_run is not
   * reentrant. */
  fetch_request_init(&req, "ftp://127.0.0.1/");
  req.done = reenter;
  req.ud = e;
  CHECK(fetch_submit(e, &req) != 0 && fetch_pending(e) == 1);
  drain(e);
  CHECK(fetch_run(e, 1000) == 0);
  fetch_free(e);
}

/* What the echo endpoint said it got: method and body. */
static bool echoed(const fetch_response *r, const char *method, const char *body) {
  char m[64], b[64];
  snprintf(m, sizeof m, "\"method\":\"%s\"", method);
  snprintf(b, sizeof b, "\"body\":\"%s\"", body);
  return r->error == FETCH_OK && r->status == 200 && has(r, m) && has(r, b);
}

/* RFC 9110 15.4: 303 makes any method but HEAD a GET without a body;
 * 301 and 302 do that to POST only; 307 and 308 keep method and body.
 * Through libcurl's own redirect following and the engine's (a mirror). */
static void test_redirect_methods(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_mirror m[] = {{"https://mirrored.test", base}};
  cfg.mirrors = m;
  cfg.n_mirrors = 1;
  fetch_engine *e = engine(&cfg);
  const char *methods[] = {"PUT", "DELETE", "PATCH", "POST"};
  const int codes[] = {301, 302, 303, 307, 308};
  const char *origins[] = {base, "https://mirrored.test"};
  for (size_t o = 0; o < 2; o++)
    for (size_t i = 0; i < 4; i++)
      for (size_t k = 0; k < 5; k++) {
        fetch_request req;
        fetch_request_init(&req, U("%s/h/redirect/%d", origins[o], codes[k]));
        req.method = methods[i];
        req.body = "payload";
        req.body_len = 7;
        fetch_response *r = fetch_req(e, &req);
        bool to_get = codes[k] == 303 || ((codes[k] == 301 || codes[k] == 302) && strcmp(methods[i], "POST") == 0);
        bool ok = to_get ? echoed(r, "GET", "") : echoed(r, methods[i], "payload");
        if (!ok) fprintf(stderr, "%s %s after %d: %s\n", methods[i], origins[o], codes[k], buf_str(&r->body));
        CHECK(ok && r->redirects == 1);
        fetch_response_free(r);
      }
  /* HEAD stays HEAD, even after a 303. */
  fetch_request req;
  fetch_request_init(&req, U("%s/h/redirect/303", base));
  req.method = "HEAD";
  fetch_response *r = fetch_req(e, &req);
  CHECK(r->error == FETCH_OK && r->status == 200 && r->redirects == 1 && r->body.len == 0);
  fetch_response_free(r);
  fetch_free(e);
}

static fetch_response *get_with(fetch_engine *e, const char *url, const char *method, int retries) {
  fetch_request req;
  fetch_request_init(&req, url);
  req.method = method;
  req.retries = retries;
  return fetch_req(e, &req);
}

static int hits_of(fetch_engine *e, const char *key) {
  fetch_response *r = get(e, U("%s/h/hits/%s", base, key));
  int n = atoi(buf_str(&r->body));
  fetch_response_free(r);
  return n;
}

/* A server that lies or overwhelms: each failure has its own kind, names
 * its limit, and is not retried. */
static void test_hostile_responses(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *e = engine(&cfg);
  const char *codings[] = {"gzip", "deflate", "br", "zstd"};
  for (size_t i = 0; i < 4; i++) {
    fetch_response *r = get(e, U("%s/h/cut/%s", base, codings[i]));
    CHECK(r->error == FETCH_DECODE && r->tries == 1);
    CHECK_STR(fetch_error_name(r->error), "decode");
    CHECK(r->message && strstr(r->message, codings[i]) && strstr(r->message, "ends early"));
    CHECK(message_names(r, U("%s/h/cut/%s", base, codings[i])));
    fetch_response_free(r);
  }
  fetch_response *r = get(e, U("%s/h/short", base));
  CHECK(r->error == FETCH_TRUNCATED && r->tries == 1);
  CHECK_STR(fetch_error_name(r->error), "truncated");
  fetch_response_free(r);

  r = get(e, U("%s/h/huge-header", base));
  CHECK(r->error == FETCH_HEADERS && r->tries == 1);
  CHECK(r->message && strstr(r->message, "100 KiB") && !strstr(r->message, "memory"));
  fetch_response_free(r);

  /* 9,000 headers (about 290 KB, inside libcurl's own cap): over the
   * count budget; and, with no budget, all of them collected (a quadratic
   * collection took seconds here). */
  r = get(e, U("%s/h/headers?n=9000", base));
  CHECK(r->error == FETCH_HEADERS && r->tries == 1);
  CHECK(r->message && strstr(r->message, "1000 response headers (max_headers)"));
  CHECK_STR(fetch_error_name(r->error), "headers");
  fetch_response_free(r);
  r = get(e, U("%s/h/headers?n=900", base));
  CHECK(r->error == FETCH_OK && r->n_headers == 901);
  CHECK_STR(fetch_header_get(r, "x-899"), "vvvvvvvvvvvvvvvvvvvv");
  fetch_response_free(r);

  r = get(e, U("%s/h/101", base));
  CHECK(r->error == FETCH_OTHER && r->tries == 1 && r->message && strstr(r->message, "unexpected 101"));
  fetch_response_free(r);
  fetch_free(e);

  test_config(&cfg);
  cfg.max_headers = 0;
  cfg.max_header_bytes = 16384;
  e = engine(&cfg);
  r = get(e, U("%s/h/headers?n=9000&len=5", base));
  CHECK(r->error == FETCH_HEADERS && r->message && strstr(r->message, "16384 bytes (max_header_bytes)"));
  fetch_response_free(r);
  fetch_free(e);
  test_config(&cfg);
  cfg.max_headers = 0;
  e = engine(&cfg);
  r = get(e, U("%s/h/headers?n=9000&len=5", base));
  CHECK(r->error == FETCH_OK && r->n_headers == 9001);
  fetch_response_free(r);
  /* Past libcurl's own cap (300 KiB): the same kind, and no retry. */
  cfg.max_header_bytes = 0;
  fetch_free(e);
  e = engine(&cfg);
  r = get(e, U("%s/h/headers?n=55000&len=1", base));
  CHECK(r->error == FETCH_HEADERS && r->tries == 1 && r->message && strstr(r->message, "libcurl's limit"));
  fetch_response_free(r);
  fetch_free(e);
}

/* Only idempotent methods are retried, unless a request says it may be;
 * the statuses and error kinds retried are the engine's options. */
static void test_retry_policy(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *e = engine(&cfg);
  fetch_response *r = get_with(e, U("%s/h/busy/post", base), "POST", FETCH_DEFAULT);
  CHECK(r->status == 503 && r->tries == 1);
  fetch_response_free(r);
  CHECK(hits_of(e, "post") == 1);
  r = get_with(e, U("%s/h/busy/patch", base), "PATCH", FETCH_DEFAULT);
  CHECK(r->status == 503 && r->tries == 1);
  fetch_response_free(r);
  r = get_with(e, U("%s/h/busy/put", base), "PUT", FETCH_DEFAULT);
  CHECK(r->status == 503 && r->tries == 3);
  fetch_response_free(r);
  CHECK(hits_of(e, "put") == 3);
  fetch_request req;
  fetch_request_init(&req, U("%s/h/busy/post-ok", base));
  req.method = "POST";
  req.idempotent = 1;
  r = fetch_req(e, &req);
  CHECK(r->status == 503 && r->tries == 3);
  fetch_response_free(r);
  CHECK(hits_of(e, "post-ok") == 3);
  fetch_free(e);

  static const int only_429[] = {429};
  test_config(&cfg);
  cfg.retry_statuses = only_429;
  cfg.n_retry_statuses = 1;
  cfg.retry_errors = 1u << FETCH_TRUNCATED;
  e = engine(&cfg);
  r = get(e, U("%s/h/busy/get", base));
  CHECK(r->status == 503 && r->tries == 1);
  fetch_response_free(r);
  r = get(e, U("%s/h/short", base));
  CHECK(r->error == FETCH_TRUNCATED && r->tries == 3);
  fetch_response_free(r);
  int fd;
  r = get(e, U("http://127.0.0.1:%d/", closed_port(&fd)));
  CHECK(r->error == FETCH_CONNECT && r->tries == 1);
  fetch_response_free(r);
  close(fd);
  fetch_free(e);

  /* Full jitter above a floor of half the base, up to the cap. */
  CHECK(retry_backoff(500, 30000, 1, 0.0) == 0.25 && retry_backoff(500, 30000, 1, 0.999) <= 0.5);
  CHECK(retry_backoff(500, 30000, 3, 0.999) > 1.99 && retry_backoff(500, 1000, 9, 0.999) <= 1.0);
}

/* A deadline across tries: a stalling server, tries of 400 ms, ten
 * retries allowed, 1 s in all. */
static void test_deadline_and_speed(void) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *e = engine(&cfg);
  fetch_request req;
  fetch_request_init(&req, U("%s/stall", base));
  req.timeout_ms = 400;
  req.retries = 10;
  req.deadline_ms = 1000;
  fetch_response *r = fetch_req(e, &req);
  CHECK(r->error == FETCH_TIMEOUT && r->tries >= 1 && r->tries <= 3);
  fetch_response_free(r);
  /* The low-speed limit, per request. */
  fetch_request_init(&req, U("%s/slow?bytes=20&ms=300", base));
  req.low_speed_limit = 1000;
  req.low_speed_time = 1;
  req.retries = 0;
  r = fetch_req(e, &req);
  CHECK(r->error == FETCH_TIMEOUT);
  fetch_response_free(r);
  fetch_free(e);
}

static fetch_response *queue_res[3];

static void keep_queued(fetch_response *res, void *ud) { queue_res[(intptr_t)ud] = res; }

/* Request bodies held by the engine are capped: past it, submit's request
 * fails at once, naming the option. */
static void test_queue_cap(void) {
  fetch_config cfg;
  test_config(&cfg);
  cfg.max_queued_body = 10;
  fetch_engine *e = engine(&cfg);
  for (intptr_t i = 0; i < 3; i++) {
    fetch_request req;
    fetch_request_init(&req, U("%s/echo", base));
    req.method = "POST";
    req.body = "12345678";
    req.body_len = i == 2 ? 2 : 8;
    req.done = keep_queued;
    req.ud = (void *)i;
    CHECK(fetch_submit(e, &req) != 0);
  }
  drain(e);
  CHECK(queue_res[0] && echoed(queue_res[0], "POST", "12345678"));
  CHECK(queue_res[1] && queue_res[1]->error == FETCH_QUEUE_FULL && queue_res[1]->tries == 0);
  CHECK(queue_res[1]->message && strstr(queue_res[1]->message, "max_queued_body 10"));
  CHECK_STR(fetch_error_name(FETCH_QUEUE_FULL), "queue");
  CHECK(queue_res[2] && echoed(queue_res[2], "POST", "12"));
  for (int i = 0; i < 3; i++) fetch_response_free(queue_res[i]);
  /* Delivered, or dropped by a 303, the bodies no longer count. */
  fetch_request req;
  fetch_request_init(&req, U("%s/h/redirect/303", base));
  req.method = "PUT";
  req.body = "12345678";
  req.body_len = 8;
  fetch_response *r = fetch_req(e, &req);
  CHECK(echoed(r, "GET", ""));
  fetch_response_free(r);
  fetch_request_init(&req, U("%s/echo", base));
  req.method = "POST";
  req.body = "0123456789";
  req.body_len = 10;
  r = fetch_req(e, &req);
  CHECK(echoed(r, "POST", "0123456789"));
  fetch_response_free(r);
  fetch_free(e);
}

static size_t room_asked;

static size_t fixed_room(void *ud, size_t want) {
  room_asked = want;
  return *(size_t *)ud;
}

/* The bodies of undelivered responses are held to body_room in total: a
 * body that would pass it fails with FETCH_MEMORY, naming the URL, and is
 * not retried; a delivered body no longer counts. */
static void test_body_room(void) {
  fetch_config cfg;
  test_config(&cfg);
  size_t room = 3000;
  cfg.body_room = fixed_room;
  cfg.body_room_ud = &room;
  cfg.retry_errors = ~0u;
  fetch_engine *e = engine(&cfg);
  fetch_response *r = get(e, U("%s/big?n=5000", base));
  CHECK(r->error == FETCH_MEMORY && r->tries == 1 && r->body.len == 0);
  CHECK(message_names(r, U("%s/big?n=5000", base)) && strstr(r->message, "(memory-limit)"));
  CHECK_STR(fetch_error_name(FETCH_MEMORY), "memory");
  fetch_response_free(r);
  for (int i = 0; i < 3; i++) {
    r = get(e, U("%s/big?n=2000", base));
    CHECK(r->error == FETCH_OK && r->body.len == 2000 && room_asked <= 2000);
    fetch_response_free(r);
  }
  fetch_free(e);
  /* A local file, read on a worker, is held to the room when it comes back. */
  char tmp[] = "/tmp/glean-room-XXXXXX", path[64];
  CHECK(mkdtemp(tmp) != NULL);
  snprintf(path, sizeof path, "%s/big.txt", tmp);
  char text[5001];
  memset(text, 'x', 5000);
  text[5000] = '\0';
  write_file(path, text);
  fetch_mirror m = {"https://room.test", tmp};
  cfg.mirrors = &m;
  cfg.n_mirrors = 1;
  e = engine(&cfg);
  r = get(e, "https://room.test/big.txt");
  CHECK(r->error == FETCH_MEMORY && r->body.len == 0 && message_names(r, "https://room.test/big.txt"));
  fetch_response_free(r);
  room = 6000;
  r = get(e, "https://room.test/big.txt");
  CHECK(r->error == FETCH_OK && r->body.len == 5000);
  fetch_response_free(r);
  fetch_free(e);
  unlink(path);
  rmdir(tmp);
}

/* ---- the HTTP cache ---------------------------------------------------- */

static char cache_dir[64], cache_file[96];

/* An engine on the test's cache file in mode, offline or not. */
static fetch_engine *cache_engine(fetch_cache_mode mode, bool offline) {
  fetch_config cfg;
  test_config(&cfg);
  cfg.cache = cache_file;
  cfg.cache_mode = mode;
  cfg.offline = offline;
  return engine(&cfg);
}

/* What the server counted for /c/KIND/KEY: requests, and 304s sent. */
static int served(const char *kind, const char *key, int *not_modified) {
  fetch_config cfg;
  test_config(&cfg);
  fetch_engine *e = engine(&cfg);
  fetch_response *r = get(e, U("%s/c/count/%s/%s", base, kind, key));
  int n = -1, m = -1;
  CHECK(sscanf(buf_str(&r->body), "{\"requests\": %d, \"not_modified\": %d}", &n, &m) == 2);
  if (not_modified) *not_modified = m;
  fetch_response_free(r);
  fetch_free(e);
  return n;
}

/* The body of GET /c/KIND/KEY through e (and the response's checks). */
static void cache_get(fetch_engine *e, const char *kind, const char *key, const char *want) {
  fetch_response *r = get(e, U("%s/c/%s/%s", base, kind, key));
  CHECK(r->error == FETCH_OK);
  CHECK_STR(buf_str(&r->body), want);
  fetch_response_free(r);
}

static void test_cache_freshness(void) {
  fetch_engine *e = cache_engine(FETCH_CACHE_FRESH, false);
  fetch_stats st;
  /* max-age: the second answer is the first, without the network. */
  fetch_response *r = get(e, U("%s/c/fresh/a", base));
  CHECK(r->status == 200 && r->tries == 1);
  fetch_response_free(r);
  r = get(e, U("%s/c/fresh/a", base));
  CHECK(r->error == FETCH_OK && r->status == 200 && r->tries == 0);
  CHECK_STR(buf_str(&r->body), "fresh a 1");
  CHECK_STR(r->url, U("%s/c/fresh/a", base));
  CHECK_STR(r->content_type, "text/plain");
  CHECK_STR(fetch_header_get(r, "etag"), "\"fresh-a\"");
  CHECK_STR(r->http_version, "1.1");
  fetch_response_free(r);
  CHECK(served("fresh", "a", NULL) == 1);
  fetch_stats_get(e, &st);
  CHECK(st.cache_hits == 1 && st.cache_stored == 1 && st.cache_errors == 0);
  /* Heuristic freshness: 10% of 10 days since Last-Modified. */
  cache_get(e, "heuristic", "a", "heuristic a 1");
  cache_get(e, "heuristic", "a", "heuristic a 1");
  CHECK(served("heuristic", "a", NULL) == 1);
  /* Expired, and stale on arrival by its Age: fetched again. */
  cache_get(e, "expired", "a", "expired a 1");
  cache_get(e, "expired", "a", "expired a 2");
  cache_get(e, "aged", "a", "aged a 1");
  cache_get(e, "aged", "a", "aged a 2");
  /* An HTTP error status is stored like any response. */
  r = get(e, U("%s/c/status/a", base));
  fetch_response_free(r);
  r = get(e, U("%s/c/status/a", base));
  CHECK(r->status == 404 && r->tries == 0);
  fetch_response_free(r);
  CHECK(served("status", "a", NULL) == 1);
  /* no-store is not stored. */
  cache_get(e, "nostore", "a", "nostore a 1");
  cache_get(e, "nostore", "a", "nostore a 2");
  /* The redirect chain's end, under the URL asked for. */
  r = get(e, U("%s/c/moved/m", base));
  CHECK(r->redirects == 1);
  fetch_response_free(r);
  r = get(e, U("%s/c/moved/m", base));
  CHECK(r->tries == 0 && r->redirects == 1 && r->status == 200);
  CHECK_STR(r->url, U("%s/c/fresh/m", base));
  fetch_response_free(r);
  CHECK(served("moved", "m", NULL) == 1);
  /* The request's own Cache-Control: no-cache goes out (and stores what
   * comes), no-store goes out and keeps nothing. */
  fetch_request req;
  const char *no_cache[] = {"Cache-Control: no-cache"}, *no_store[] = {"Cache-Control: max-age=0, no-store"};
  fetch_request_init(&req, U("%s/c/fresh/rq", base));
  req.headers = no_cache;
  req.n_headers = 1;
  cache_get(e, "fresh", "rq", "fresh rq 1");
  r = fetch_req(e, &req);
  CHECK_STR(buf_str(&r->body), "fresh rq 2");
  fetch_response_free(r);
  cache_get(e, "fresh", "rq", "fresh rq 2");
  fetch_stats_get(e, &st);
  uint64_t stored = st.cache_stored;
  fetch_request_init(&req, U("%s/c/fresh/rq", base));
  req.headers = no_store;
  req.n_headers = 1;
  r = fetch_req(e, &req);
  CHECK_STR(buf_str(&r->body), "fresh rq 3");
  fetch_response_free(r);
  fetch_stats_get(e, &st);
  CHECK(st.cache_stored == stored);
  cache_get(e, "fresh", "rq", "fresh rq 2");
  CHECK(served("fresh", "rq", NULL) == 3);
  /* A POST goes out every time. */
  fetch_request_init(&req, U("%s/c/fresh/post", base));
  req.method = "POST";
  fetch_response_free(fetch_req(e, &req));
  fetch_request_init(&req, U("%s/c/fresh/post", base));
  req.method = "POST";
  fetch_response_free(fetch_req(e, &req));
  CHECK(served("fresh", "post", NULL) == 2);
  fetch_free(e);
  /* Another engine on the file (as another process would be) finds it. */
  e = cache_engine(FETCH_CACHE_FRESH, false);
  cache_get(e, "fresh", "a", "fresh a 1");
  CHECK(served("fresh", "a", NULL) == 1);
  fetch_free(e);
}

static void test_cache_revalidation(void) {
  fetch_engine *e = cache_engine(FETCH_CACHE_FRESH, false);
  int not_modified = 0;
  /* no-cache with an ETag: each use asks If-None-Match, and a 304 gives
   * the stored body with the 304's headers. */
  cache_get(e, "etag", "a", "etag a 1");
  fetch_response *r = get(e, U("%s/c/etag/a", base));
  CHECK(r->error == FETCH_OK && r->status == 200 && r->tries == 1);
  CHECK_STR(buf_str(&r->body), "etag a 1");
  CHECK_STR(fetch_header_get(r, "x-served"), "2");
  CHECK_STR(r->charset, "utf-8");
  fetch_response_free(r);
  CHECK(served("etag", "a", &not_modified) == 2 && not_modified == 1);
  /* Last-Modified: If-Modified-Since. */
  cache_get(e, "lm", "a", "lm a 1");
  cache_get(e, "lm", "a", "lm a 1");
  CHECK(served("lm", "a", &not_modified) == 2 && not_modified == 1);
  fetch_stats st;
  fetch_stats_get(e, &st);
  CHECK(st.cache_revalidated == 2);
  /* A request with validators of its own gets the server's 304. */
  fetch_request req;
  const char *inm[] = {"If-None-Match: \"v1\""};
  fetch_request_init(&req, U("%s/c/etag/a", base));
  req.headers = inm;
  req.n_headers = 1;
  r = fetch_req(e, &req);
  CHECK(r->status == 304);
  fetch_response_free(r);
  /* Vary: one entry per value of the header it names. */
  const char *en[] = {"X-Lang: en"}, *fr[] = {"X-Lang: fr"};
  const char *const *langs[] = {en, fr, en};
  const char *want[] = {"vary a 1 en", "vary a 2 fr", "vary a 1 en"};
  for (int i = 0; i < 3; i++) {
    fetch_request_init(&req, U("%s/c/vary/a", base));
    req.headers = langs[i];
    req.n_headers = 1;
    r = fetch_req(e, &req);
    CHECK_STR(buf_str(&r->body), want[i]);
    fetch_response_free(r);
  }
  CHECK(served("vary", "a", NULL) == 2);
  fetch_free(e);
}

static void test_cache_modes(void) {
  /* always: any entry answers, however stale. */
  fetch_engine *e = cache_engine(FETCH_CACHE_ALWAYS, false);
  cache_get(e, "etag", "a", "etag a 1");
  CHECK(served("etag", "a", NULL) == 3);  /* the two of test_cache_revalidation, and its own */
  cache_get(e, "etag", "a", "etag a 1");
  CHECK(served("etag", "a", NULL) == 3);
  /* ... and a no-store response is kept, to replay. */
  cache_get(e, "nostore", "b", "nostore b 1");
  cache_get(e, "nostore", "b", "nostore b 1");
  fetch_free(e);
  /* refresh: every request goes out, and what comes is stored. */
  e = cache_engine(FETCH_CACHE_REFRESH, false);
  cache_get(e, "fresh", "a", "fresh a 2");
  fetch_free(e);
  e = cache_engine(FETCH_CACHE_FRESH, false);
  cache_get(e, "fresh", "a", "fresh a 2");
  CHECK(served("fresh", "a", NULL) == 2);
  fetch_free(e);
}

static void test_cache_offline(void) {
  fetch_engine *e = cache_engine(FETCH_CACHE_FRESH, true);
  int before = served("expired", "a", NULL);
  /* Fresh or not, an entry answers; no request goes out. */
  cache_get(e, "fresh", "a", "fresh a 2");
  cache_get(e, "expired", "a", "expired a 2");
  CHECK(served("expired", "a", NULL) == before);
  fetch_response *r = get(e, U("%s/c/fresh/never", base));
  CHECK(r->error == FETCH_OFFLINE && r->status == 0);
  CHECK(message_names(r, U("%s/c/fresh/never", base)));
  CHECK_STR(fetch_error_name(r->error), "offline");
  fetch_response_free(r);
  CHECK(served("fresh", "never", NULL) == 0);
  fetch_stats st;
  fetch_stats_get(e, &st);
  CHECK(st.errors[FETCH_OFFLINE] == 1 && st.cache_hits == 2);
  fetch_free(e);
  /* Offline without a cache: nothing goes out at all, not even through a
   * base-URL mirror; a directory mirror still serves. */
  char page[128];
  snprintf(page, sizeof page, "%s/index.html", cache_dir);
  FILE *f = fopen(page, "w");
  CHECK(f != NULL);
  if (f) {
    fputs("local copy", f);
    fclose(f);
  }
  fetch_mirror mirrors[] = {{"http://dir.test", cache_dir}, {"http://base.test", base}};
  fetch_config cfg;
  test_config(&cfg);
  cfg.offline = true;
  cfg.mirrors = mirrors;
  cfg.n_mirrors = 2;
  e = engine(&cfg);
  r = get(e, U("%s/hello", base));
  CHECK(r->error == FETCH_OFFLINE);
  fetch_response_free(r);
  r = get(e, "http://base.test/hello");
  CHECK(r->error == FETCH_OFFLINE);
  fetch_response_free(r);
  r = get(e, "http://dir.test/");
  CHECK(r->error == FETCH_OK && r->status == 200);
  CHECK_STR(buf_str(&r->body), "local copy");
  fetch_response_free(r);
  fetch_free(e);
  unlink(page);
}

static void test_cache_bad_file(void) {
  char path[128], err[256] = "";
  snprintf(path, sizeof path, "%s/not-sqlite", cache_dir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs("this is not a database, but it is long enough to look like a header of one............\n", f);
    fclose(f);
  }
  fetch_config cfg;
  test_config(&cfg);
  cfg.cache = path;
  fetch_engine *e = fetch_new(&cfg, err, sizeof err);
  CHECK(e == NULL);
  CHECK(strstr(err, path) != NULL);
  unlink(path);
  cfg.cache = cache_dir;  /* a directory */
  e = fetch_new(&cfg, err, sizeof err);
  CHECK(e == NULL && strstr(err, cache_dir) != NULL);
}

static void test_cache(void) {
  snprintf(cache_dir, sizeof cache_dir, "/tmp/glean-cache-XXXXXX");
  CHECK(mkdtemp(cache_dir) != NULL);
  snprintf(cache_file, sizeof cache_file, "%s/cache.db", cache_dir);
  test_cache_freshness();
  test_cache_revalidation();
  test_cache_modes();
  test_cache_offline();
  test_cache_bad_file();
  static const char *const files[] = {"cache.db", "cache.db-wal", "cache.db-shm"};
  for (size_t i = 0; i < 3; i++) unlink(U("%s/%s", cache_dir, files[i]));
  rmdir(cache_dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  main_thread = pthread_self();
  pid_t server = server_start();
  CHECK(port > 0);
  if (port > 0) {
    test_basic();
    test_redirects();
    test_errors();
    test_retries();
    test_decoding_and_limits();
    test_cookies();
    test_charsets();
    test_methods();
    test_concurrency();
    test_host_delay();
    test_mirrors();
    test_workers();
    test_backlog();
    test_cancel_and_wakeup();
    test_redirect_methods();
    test_hostile_responses();
    test_retry_policy();
    test_deadline_and_speed();
    test_queue_cap();
    test_body_room();
    test_cache();
  }
  if (server > 0) {
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
  }
  return check_summary();
}
