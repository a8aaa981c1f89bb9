/* fetch.c — the fetch engine (see fetch.h). Requests wait in per-host FIFO
 * queues, served round-robin, in front of one curl multi handle; retries
 * sleep on a timer list; local files (directory mirrors, file://) are read
 * on the worker pool, which also runs the `after` callbacks. Everything but
 * the pool runs on the loop thread, so the engine's own state needs no
 * locks: the pool hands jobs back through its queue. */
#include "fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch_cache.h"
#include "fetch_decode.h"
#include "fetch_cookies.h"
#include "fetch_headers.h"
#include "fetch_retry.h"
#include "fetch_warc.h"
#include "url.h"
#include "warc_write.h"
#include "workers.h"

typedef struct fetch_host fetch_host;
typedef struct fetch_job fetch_job;

typedef struct job_list {
  fetch_job *head, *tail;
  size_t n;
} job_list;

struct fetch_host {
  fetch_host *chain;      /* next in the hash bucket */
  fetch_host *wait_next;  /* next in the engine's round-robin list */
  bool waiting;           /* in that list, i.e. the queue is not empty */
  char *name;             /* lower case */
  job_list queue;
  int active;
  int delay_ms;           /* FETCH_DEFAULT: the engine's */
  double last_start;      /* monotonic seconds */
  double hold_until;      /* a Retry-After holds the whole host */
};

typedef struct mirror {
  char *scheme, *host, *port;  /* the origin's, as curl_url gives them */
  char *origin;                /* "scheme://host[:port]", to build site URLs */
  char *base;                  /* location URL without its trailing '/' ... */
  char *loc_scheme, *loc_host, *loc_port, *loc_path;  /* ... and its parts */
  char *dir;                   /* or the directory, without a trailing '/' */
} mirror;

struct fetch_job {
  workers_job work;
  fetch_job *prev, *next;  /* in one of the engine's or a host's lists */
  fetch_engine *eng;
  fetch_host *host;        /* NULL for local files */
  char *site;              /* the URL asked for, normalized */
  char *url;               /* what libcurl fetches, or the local URL path */
  const mirror *mirror;    /* the base-URL mirror url points into */
  const char *dir;         /* local files: the root ("" for file://) */
  char *method;
  struct curl_slist *headers;
  char *body;
  size_t body_len;
  bool has_body;
  long timeout_ms, max_redirects, connect_timeout_ms, low_speed_limit, low_speed_time;
  long deadline_ms;
  double deadline;         /* monotonic seconds; 0 until the first try */
  bool idempotent;
  bool follow;
  int hops;                /* redirects the engine followed (fetch_redirect) */
  int retries;
  size_t max_body;
  char *proxy, *user_agent, *cacert;
  fetch_after_fn after;
  fetch_done_fn done;
  void *ud;
  CURL *easy;
  bool too_large;          /* the write callback stopped the transfer */
  bool over_room;          /* ... because of body_room, which said room */
  size_t room;
  size_t held;             /* of its body, counted in the engine's held_body */
  headers_collector hdr;   /* this try's response headers */
  decoder *dec;            /* its Content-Encoding's, from its first byte */
  bool dec_checked, dec_failed;
  char dec_err[160];
  double wake_at;          /* when sleeping before a retry */
  fetch_response *res;
  int socket_errno;        /* why this try could not open a socket (0: it could) */
  char errbuf[CURL_ERROR_SIZE];
  char *cache_url;         /* the request's URL, its key in the cache, when
                              its response is to be stored there */
  cache_entry *cached;     /* the entry it was answered from or revalidates */
  double cache_sent;       /* wall-clock seconds when it was sent */
  fetch_warc warc;         /* this try's exchanges, for --warc-out */
};

struct fetch_engine {
  fetch_config cfg;  /* as given, but its strings point to the copies below */
  char *user_agent, *proxy, *cacert;
  mirror *mirrors;
  size_t n_mirrors;
  CURLM *multi;
  CURLSH *share;
  workers *pool;
  size_t on_pool;      /* jobs submitted to the pool and not taken back */
  size_t max_on_pool;  /* past it, no transfer starts (see fetch_may_start) */
  fetch_host **buckets;
  size_t nbuckets, nhosts;
  fetch_host *wait_head, *wait_tail;  /* hosts with queued requests */
  size_t queued;                      /* in all hosts' queues */
  job_list running, sleeping, ready;  /* ready: awaiting `done` */
  size_t pending;
  uint64_t next_id, rng;
  fetch_stats stats;
  size_t queued_body;  /* request-body bytes held by undelivered jobs */
  size_t new_cookies;  /* Set-Cookie lines since the jar was last bounded */
  size_t held_body;    /* response-body bytes they hold (see body_room) */
  unsigned char retry_status[600];  /* 1 for each retried HTTP status */
  bool in_run;
  fetch_cache *cache;  /* cfg.cache's, NULL without */
  warc_writer *warc;   /* --warc-out's, or NULL */
  char *warc_out;      /* cfg.warc_out's copy */
};

static const char *const fetch_error_names[FETCH_ERROR_KINDS] = {
    "ok", "dns", "connect", "timeout", "tls", "too_large", "redirects", "scheme", "cancelled", "other",
    "decode", "truncated", "headers", "queue", "memory", "offline"};

const char *fetch_error_name(fetch_error kind) {
  return (unsigned)kind < FETCH_ERROR_KINDS ? fetch_error_names[kind] : "other";
}

/* Scrapy's RETRY_HTTP_CODES. */
static const int fetch_default_statuses[] = {408, 429, 500, 502, 503, 504, 522, 524};

void fetch_config_defaults(fetch_config *cfg) {
  *cfg = (fetch_config){
      .max_in_flight = 64,
      .max_per_host = 8,
      .connect_timeout_ms = 10000,
      .timeout_ms = 60000,
      .low_speed_limit = 1,
      .low_speed_time = 30,
      .max_body = (size_t)32 << 20,
      .max_redirects = 10,
      .follow_redirects = true,
      .retries = 2,
      .retry_statuses = fetch_default_statuses,
      .n_retry_statuses = sizeof fetch_default_statuses / sizeof *fetch_default_statuses,
      .retry_errors = 1u << FETCH_DNS | 1u << FETCH_CONNECT | 1u << FETCH_TIMEOUT | 1u << FETCH_TLS | 1u << FETCH_OTHER,
      .backoff_ms = 500,
      .backoff_max_ms = 30000,
      .retry_after_max_ms = 120000,
      .max_headers = 1000,
      .max_header_bytes = 256 << 10,
      .max_queued_body = (size_t)64 << 20,
      .warc_max_size = (uint64_t)1 << 30,
      .cookies = true,
      .user_agent = "glean/" GLEAN_VERSION,
  };
}

void fetch_request_init(fetch_request *req, const char *url) {
  *req = (fetch_request){
      .url = url,
      .timeout_ms = FETCH_DEFAULT,
      .connect_timeout_ms = FETCH_DEFAULT,
      .deadline_ms = FETCH_DEFAULT,
      .low_speed_limit = FETCH_DEFAULT,
      .low_speed_time = FETCH_DEFAULT,
      .idempotent = FETCH_DEFAULT,
      .follow_redirects = FETCH_DEFAULT,
      .max_redirects = FETCH_DEFAULT,
      .retries = FETCH_DEFAULT,
  };
}

/* ---- small helpers ---------------------------------------------------- */

static double fetch_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *fetch_vstrf(const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  char *s = n < 0 ? NULL : malloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, again);
  va_end(again);
  return s;
}

__attribute__((format(printf, 1, 2))) static char *fetch_strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = fetch_vstrf(fmt, ap);
  va_end(ap);
  return s;
}

static char *fetch_strdup(const char *s) { return s ? strdup(s) : NULL; }

static void str_lower(char *s) {
  for (; s && *s; s++) *s = (char)tolower((unsigned char)*s);
}

/* Uniform in [0, 1): xorshift64*, per engine (no shared state). */
static double fetch_random(fetch_engine *e) {
  uint64_t x = e->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  e->rng = x;
  return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static void list_push(job_list *l, fetch_job *j) {
  j->next = NULL;
  j->prev = l->tail;
  if (l->tail) l->tail->next = j;
  else l->head = j;
  l->tail = j;
  l->n++;
}

static void list_push_front(job_list *l, fetch_job *j) {
  j->prev = NULL;
  j->next = l->head;
  if (l->head) l->head->prev = j;
  else l->tail = j;
  l->head = j;
  l->n++;
}

static void list_remove(job_list *l, fetch_job *j) {
  if (j->prev) j->prev->next = j->next;
  else l->head = j->next;
  if (j->next) j->next->prev = j->prev;
  else l->tail = j->prev;
  j->prev = j->next = NULL;
  l->n--;
}

static fetch_job *list_pop(job_list *l) {
  fetch_job *j = l->head;
  if (j) list_remove(l, j);
  return j;
}

/* A URL part as a malloc'd string, or NULL if absent. */
static char *url_part(CURLU *u, CURLUPart what, unsigned flags) {
  char *p = NULL;
  if (curl_url_get(u, what, &p, flags) != CURLUE_OK) return NULL;
  char *s = strdup(p);
  curl_free(p);
  return s;
}

static void strip_trailing_slash(char *s) {
  size_t n = strlen(s);
  if (n && s[n - 1] == '/') s[n - 1] = '\0';
}

/* ---- responses -------------------------------------------------------- */

static void fetch_add_header(fetch_response *r, const char *name, size_t name_len, const char *value) {
  fetch_header *h = realloc(r->headers, (r->n_headers + 1) * sizeof *h);
  if (!h) return;
  r->headers = h;
  char *n = strndup(name, name_len), *v = strdup(value);
  if (!n || !v) {
    free(n);
    free(v);
    return;
  }
  str_lower(n);
  h[r->n_headers++] = (fetch_header){n, v};
}

const char *fetch_header_get(const fetch_response *res, const char *name) {
  for (size_t i = 0; i < res->n_headers; i++)
    if (strcasecmp(res->headers[i].name, name) == 0) return res->headers[i].value;
  return NULL;
}

/* Back to what a try starts from; keeps id, ud, url, tries and result. */
static void fetch_response_clear(fetch_response *r) {
  for (size_t i = 0; i < r->n_headers; i++) {
    free(r->headers[i].name);
    free(r->headers[i].value);
  }
  free(r->headers);
  free(r->content_type);
  free(r->charset);
  free(r->message);
  buf_free(&r->body);
  r->headers = NULL;
  r->n_headers = 0;
  r->content_type = r->charset = r->message = NULL;
  r->http_version = NULL;
  r->status = 0;
  r->redirects = 0;
  r->timings = (fetch_timings){0, 0, 0, 0, 0};
  r->error = FETCH_OK;
}

void fetch_response_free(fetch_response *res) {
  if (!res) return;
  fetch_response_clear(res);
  free(res->url);
  if (res->result && res->free_result) res->free_result(res->result);
  free(res);
}

static const char *skip_space(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

/* Trimmed [s, end) as a new string, or NULL if empty. */
static char *trimmed(const char *s, const char *end) {
  s = skip_space(s);
  while (end > s && (end[-1] == ' ' || end[-1] == '\t')) end--;
  return end > s ? strndup(s, (size_t)(end - s)) : NULL;
}

void fetch_parse_content_type(const char *value, char **type, char **charset) {
  *type = *charset = NULL;
  if (!value) return;
  const char *semi = strchr(value, ';');
  *type = trimmed(value, semi ? semi : value + strlen(value));
  str_lower(*type);
  while (semi && !*charset) {
    const char *p = skip_space(semi + 1);
    semi = strchr(p, ';');
    if (strncasecmp(p, "charset", 7) != 0) continue;
    p = skip_space(p + 7);
    if (*p != '=') continue;
    p = skip_space(p + 1);
    const char *end = semi ? semi : p + strlen(p);
    if (*p == '"') {
      const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
      if (q) end = q;
      p++;
    }
    *charset = trimmed(p, end);
  }
}

/* Ends the current try as an error: nothing of a response is kept. */
__attribute__((format(printf, 3, 4))) static void fetch_fail(fetch_job *j, fetch_error kind, const char *fmt, ...) {
  fetch_response *r = j->res;
  fetch_response_clear(r);
  char *url = fetch_strdup(j->site);
  if (url) {
    free(r->url);
    r->url = url;
  }
  r->error = kind;
  va_list ap;
  va_start(ap, fmt);
  r->message = fetch_vstrf(fmt, ap);
  va_end(ap);
}

/* ---- local files ------------------------------------------------------ */

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = (char)tolower((unsigned char)c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The file a URL path names under root: percent-decoded first (so "%2F"
 * separates and "%2e%2e" is ".."), then "." and ".." resolved lexically and
 * clamped at root, so nothing outside it is ever named; "index.html" for a
 * directory path. False for a path with a NUL byte. */
static bool fetch_local_path(const char *root, const char *path, buf *out) {
  buf_puts(out, root);
  size_t top = out->len, seg = out->len;  /* seg: where the segment's '/' goes */
  bool dir = true;  /* the path so far names a directory */
  for (const char *p = path;; p++) {
    char c = *p;
    int hi, lo;
    if (c == '%' && (hi = hex_value(p[1])) >= 0 && (lo = hex_value(p[2])) >= 0) {
      c = (char)(hi * 16 + lo);
      p += 2;
      if (c == '\0') return false;
    }
    if (c != '/' && c != '\0') {
      if (out->len == seg) buf_putc(out, '/');
      buf_putc(out, c);
      dir = false;
      continue;
    }
    /* A segment ended; out holds it, '/' first, from seg on. */
    size_t n = out->len - seg;
    const char *s = buf_str(out) + seg;
    if ((n == 2 && s[1] == '.') || (n == 3 && s[1] == '.' && s[2] == '.')) {
      out->len = seg;
      if (n == 3) {
        while (out->len > top && out->data[out->len - 1] != '/') out->len--;
        if (out->len > top) out->len--;
      }
      if (out->data) out->data[out->len] = '\0';
      dir = true;
    }
    if (c == '\0') break;
    seg = out->len;
    dir = true;
  }
  if (dir) buf_puts(out, "/index.html");
  return true;
}

static const char *fetch_guess_type(const char *path) {
  static const char *const types[][2] = {
      {".html", "text/html"}, {".htm", "text/html"}, {".xml", "application/xml"},
      {".txt", "text/plain"}, {".json", "application/json"}, {".css", "text/css"},
      {".js", "text/javascript"}, {".svg", "image/svg+xml"},
  };
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcasecmp(dot, types[i][0]) == 0) return types[i][1];
  return "application/octet-stream";
}

static bool fetch_missing(int err) { return err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG; }

/* Opens what a URL path names under root (see fetch_local_path), its
 * index.html if that is a directory; -1 with errno if it cannot. */
static int fetch_open_local(const char *root, const char *url_path, buf *path) {
  if (!fetch_local_path(root, url_path, path) || path->failed) {
    errno = path->failed ? ENOMEM : ENOENT;
    return -1;
  }
  /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
  int fd = open(path->data, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) return fd;
  close(fd);
  buf_puts(path, "/index.html");
  if (path->failed) {
    errno = ENOMEM;
    return -1;
  }
  return open(path->data, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

/* Reads fd to its end into b, at most max bytes (0: no limit). Returns 0,
 * EFBIG past the limit, or another errno. */
static int fetch_read_all(int fd, buf *b, size_t max) {
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) return 0;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (max && (size_t)n > max - b->len) return EFBIG;
    buf_append(b, chunk, (size_t)n);
    if (b->failed) return ENOMEM;
  }
}

/* Runs on a worker: reads the local file into the response (200, or 404
 * when there is none), then calls `after`. */
static void fetch_read_file(workers_job *work) {
  fetch_job *j = (fetch_job *)((char *)work - offsetof(fetch_job, work));
  fetch_response *r = j->res;
  double t0 = fetch_now();
  r->tries = 1;
  buf path = BUF_INIT;
  int fd = fetch_open_local(j->dir, j->url, &path), rc = 0;
  struct stat st;
  char msg[256];
  if (fd < 0 && !fetch_missing(errno)) {
    strerror_r(errno, msg, sizeof msg);
    fetch_fail(j, FETCH_OTHER, "%s: cannot read %s: %s", j->site, buf_str(&path), msg);
  } else if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    r->status = 404;
  } else if ((j->max_body && (uintmax_t)st.st_size > j->max_body) ||
             (rc = fetch_read_all(fd, &r->body, j->max_body)) == EFBIG) {
    fetch_fail(j, FETCH_TOO_LARGE, "%s: body larger than %zu bytes", j->site, j->max_body);
  } else if (rc) {
    strerror_r(rc, msg, sizeof msg);
    fetch_fail(j, FETCH_OTHER, "%s: cannot read %s: %s", j->site, buf_str(&path), msg);
  } else {
    const char *type = fetch_guess_type(path.data);
    char len[32];
    snprintf(len, sizeof len, "%zu", r->body.len);
    r->status = 200;
    fetch_add_header(r, "content-type", 12, type);
    fetch_add_header(r, "content-length", 14, len);
    r->content_type = strdup(type);
  }
  if (fd >= 0) close(fd);
  buf_free(&path);
  r->timings.total = fetch_now() - t0;
  if (j->after) j->after(r, j->ud);
}

/* ---- hosts ------------------------------------------------------------ */

static size_t host_hash(const char *s) {
  uint64_t h = 14695981039346656037u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return (size_t)h;
}

static void hosts_grow(fetch_engine *e) {
  size_t n = e->nbuckets * 2;
  fetch_host **b = calloc(n, sizeof *b);
  if (!b) return;  /* longer chains, still correct */
  for (size_t i = 0; i < e->nbuckets; i++)
    for (fetch_host *h = e->buckets[i], *next; h; h = next) {
      next = h->chain;
      size_t k = host_hash(h->name) & (n - 1);
      h->chain = b[k];
      b[k] = h;
    }
  free(e->buckets);
  e->buckets = b;
  e->nbuckets = n;
}

/* The host named name (lower case), created on first use; NULL if out of
 * memory. */
static fetch_host *host_get(fetch_engine *e, const char *name) {
  size_t k = host_hash(name) & (e->nbuckets - 1);
  for (fetch_host *h = e->buckets[k]; h; h = h->chain)
    if (strcmp(h->name, name) == 0) return h;
  fetch_host *h = calloc(1, sizeof *h);
  if (!h || !(h->name = strdup(name))) {
    free(h);
    return NULL;
  }
  h->delay_ms = FETCH_DEFAULT;
  h->last_start = h->hold_until = -INFINITY;
  if (e->nhosts >= e->nbuckets) {
    hosts_grow(e);
    k = host_hash(name) & (e->nbuckets - 1);
  }
  h->chain = e->buckets[k];
  e->buckets[k] = h;
  e->nhosts++;
  return h;
}

/* When the host may start its next request (ignoring its active count). */
static double host_ready_at(const fetch_engine *e, const fetch_host *h) {
  int delay = h->delay_ms == FETCH_DEFAULT ? e->cfg.host_delay_ms : h->delay_ms;
  double t = h->last_start + delay / 1000.0;
  return t > h->hold_until ? t : h->hold_until;
}

static void host_wait_push(fetch_engine *e, fetch_host *h) {
  h->waiting = true;
  h->wait_next = NULL;
  if (e->wait_tail) e->wait_tail->wait_next = h;
  else e->wait_head = h;
  e->wait_tail = h;
}

static fetch_host *host_wait_pop(fetch_engine *e) {
  fetch_host *h = e->wait_head;
  e->wait_head = h->wait_next;
  if (!e->wait_head) e->wait_tail = NULL;
  h->waiting = false;
  return h;
}

static void host_enqueue(fetch_engine *e, fetch_host *h, fetch_job *j, bool front) {
  if (front) list_push_front(&h->queue, j);
  else list_push(&h->queue, j);
  e->queued++;
  if (!h->waiting) host_wait_push(e, h);
}

/* ---- mirrors ---------------------------------------------------------- */

static void mirror_free(mirror *m) {
  free(m->scheme);
  free(m->host);
  free(m->port);
  free(m->origin);
  free(m->base);
  free(m->loc_scheme);
  free(m->loc_host);
  free(m->loc_port);
  free(m->loc_path);
  free(m->dir);
}

/* Parses url into u and drops what a base URL does not keep. */
static bool url_parse_base(CURLU *u, const char *url) {
  return curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
         curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK;
}

static int mirror_init(mirror *m, const fetch_mirror *src, char *err, size_t errlen) {
  CURLU *u = curl_url();
  int rc = -1;
  if (!u) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (!src->origin || !url_parse_base(u, src->origin) || curl_url_set(u, CURLUPART_PATH, NULL, 0) != CURLUE_OK) {
    snprintf(err, errlen, "mirror origin is not a URL: %s", src->origin ? src->origin : "(null)");
    goto done;
  }
  m->scheme = url_part(u, CURLUPART_SCHEME, 0);
  m->host = url_part(u, CURLUPART_HOST, 0);
  str_lower(m->host);
  m->port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (m->host && curl_url_set(u, CURLUPART_HOST, m->host, 0) == CURLUE_OK)
    m->origin = url_part(u, CURLUPART_URL, CURLU_NO_DEFAULT_PORT);
  if (!src->location || !*src->location) {
    snprintf(err, errlen, "mirror of %s has no location", src->origin);
    goto done;
  }
  if (strstr(src->location, "://")) {
    if (!url_parse_base(u, src->location)) {
      snprintf(err, errlen, "mirror location is not a URL: %s", src->location);
      goto done;
    }
    m->loc_scheme = url_part(u, CURLUPART_SCHEME, 0);
    m->loc_host = url_part(u, CURLUPART_HOST, 0);
    m->loc_port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    m->loc_path = url_part(u, CURLUPART_PATH, 0);
    m->base = url_part(u, CURLUPART_URL, 0);
    if (!m->loc_scheme || !m->loc_host || !m->loc_port || !m->loc_path || !m->base) goto oom;
    str_lower(m->loc_host);
    strip_trailing_slash(m->loc_path);
    strip_trailing_slash(m->base);
  } else {
    /* Caught here, a mistyped directory is not a site of 404s. */
    struct stat st;
    if (stat(src->location, &st) != 0 || !S_ISDIR(st.st_mode)) {
      snprintf(err, errlen, "mirror location is not a directory: %s", src->location);
      goto done;
    }
    if (!(m->dir = strdup(src->location))) goto oom;
    strip_trailing_slash(m->dir);
  }
  if (!m->scheme || !m->host || !m->port || !m->origin) goto oom;
  strip_trailing_slash(m->origin);
  rc = 0;
  goto done;
oom:
  snprintf(err, errlen, "out of memory");
done:
  curl_url_cleanup(u);
  return rc;
}

/* The site URL of a URL libcurl ended at: back from the mirror's location
 * to its origin when it points into it; NULL to keep it as it is. */
static char *mirror_unmap(const mirror *m, const char *url) {
  CURLU *u = curl_url();
  char *site = NULL;
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
    char *scheme = url_part(u, CURLUPART_SCHEME, 0), *host = url_part(u, CURLUPART_HOST, 0);
    char *port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT), *path = url_part(u, CURLUPART_PATH, 0);
    char *query = url_part(u, CURLUPART_QUERY, 0);
    size_t plen = strlen(m->loc_path);
    str_lower(host);
    if (scheme && host && port && path && strcmp(scheme, m->loc_scheme) == 0 && strcmp(host, m->loc_host) == 0 &&
        strcmp(port, m->loc_port) == 0 && strncmp(path, m->loc_path, plen) == 0 &&
        (path[plen] == '/' || path[plen] == '\0'))
      site = fetch_strf("%s%s%s%s", m->origin, path[plen] ? path + plen : "/", query ? "?" : "", query ? query : "");
    free(scheme);
    free(host);
    free(port);
    free(path);
    free(query);
  }
  curl_url_cleanup(u);
  return site;
}

/* ---- submitting ------------------------------------------------------- */

typedef enum { ROUTE_NET, ROUTE_FILE, ROUTE_ERROR } fetch_route_kind;

/* The URL's scheme, lower case, into out; false (and "") if it has none. */
static bool url_scheme(const char *url, char *out, size_t outlen) {
  size_t i = 0;
  out[0] = '\0';
  if (!isalpha((unsigned char)url[0])) return false;
  for (; isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.'; i++) {
    if (i + 1 >= outlen) {
      out[0] = '\0';
      return false;
    }
    out[i] = (char)tolower((unsigned char)url[i]);
  }
  out[i] = '\0';
  if (url[i] != ':') out[0] = '\0';
  return url[i] == ':';
}

/* Decides where the job's URL is served from: sets site, url and either
 * host (network), dir (local file), or the error on the response. */
static fetch_route_kind fetch_route(fetch_engine *e, fetch_job *j, const char *url) {
  char scheme[64];
  bool has_scheme = url_scheme(url, scheme, sizeof scheme);
  bool file = has_scheme && strcmp(scheme, "file") == 0;
  if (has_scheme && strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 && !(file && e->cfg.allow_file)) {
    fetch_fail(j, FETCH_SCHEME, "%s: scheme %s: not allowed (http, https%s)", url, scheme,
               e->cfg.allow_file ? ", file" : "");
    return ROUTE_ERROR;
  }
  CURLU *u = curl_url();
  if (!u) {
    fetch_fail(j, FETCH_OTHER, "%s: out of memory", url);
    return ROUTE_ERROR;
  }
  fetch_route_kind kind = ROUTE_ERROR;
  char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
  if (uc == CURLUE_OK) uc = curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);  /* never sent */
  if (uc != CURLUE_OK) {
    fetch_fail(j, FETCH_OTHER, "%s: invalid URL: %s", url, curl_url_strerror(uc));
    goto done;
  }
  /* Host names are case-insensitive: one spelling for URLs and queues. */
  host = url_part(u, CURLUPART_HOST, 0);
  str_lower(host);
  if (host && curl_url_set(u, CURLUPART_HOST, host, 0) != CURLUE_OK) goto oom;
  char *site = url_part(u, CURLUPART_URL, 0);
  path = url_part(u, CURLUPART_PATH, 0);
  query = url_part(u, CURLUPART_QUERY, 0);
  if (site) {
    free(j->site);
    j->site = site;
  }
  if (!site || !path || !(j->res->url = strdup(site))) goto oom;
  if (file) {
    j->dir = "";
    j->url = path;
    path = NULL;
    kind = ROUTE_FILE;
    goto done;
  }
  port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!host || !port) goto oom;
  const mirror *m = NULL;
  for (size_t i = 0; i < e->n_mirrors && !m; i++)
    if (strcmp(e->mirrors[i].scheme, scheme) == 0 && strcmp(e->mirrors[i].host, host) == 0 &&
        strcmp(e->mirrors[i].port, port) == 0)
      m = &e->mirrors[i];
  if (m && m->dir) {
    j->dir = m->dir;
    j->url = path;
    path = NULL;
    kind = ROUTE_FILE;
    goto done;
  }
  if (m) {
    j->mirror = m;
    j->url = fetch_strf("%s%s%s%s", m->base, path, query ? "?" : "", query ? query : "");
  } else {
    j->url = strdup(site);
  }
  if (!j->url || !(j->host = host_get(e, host))) goto oom;
  kind = ROUTE_NET;
  goto done;
oom:
  fetch_fail(j, FETCH_OTHER, "%s: out of memory", url);
done:
  free(host);
  free(port);
  free(path);
  free(query);
  curl_url_cleanup(u);
  return kind;
}

static void fetch_job_free(fetch_job *j) {
  if (j->easy) curl_easy_cleanup(j->easy);
  free(j->cache_url);
  cache_entry_free(j->cached);
  free(j->site);
  free(j->url);
  free(j->method);
  curl_slist_free_all(j->headers);
  free(j->body);
  free(j->proxy);
  free(j->user_agent);
  free(j->cacert);
  headers_clear(&j->hdr);
  decoder_free(j->dec);
  fetch_warc_clear(&j->warc);
  if (j->eng && j->has_body) j->eng->queued_body -= j->body_len;
  if (j->eng) j->eng->held_body -= j->held;
  fetch_response_free(j->res);
  free(j);
}

static void fetch_run_after(workers_job *work) {
  fetch_job *j = (fetch_job *)((char *)work - offsetof(fetch_job, work));
  j->after(j->res, j->ud);
}

/* The job goes to the pool, counted until fetch_collect takes it back. */
static void fetch_to_pool(fetch_engine *e, fetch_job *j, void (*run)(workers_job *work)) {
  j->work.run = run;
  e->on_pool++;
  workers_submit(e->pool, &j->work);
}

/* The response is final: on to `after` (on a worker), or straight to
 * `done`. */
static void fetch_finish(fetch_engine *e, fetch_job *j) {
  if (j->after) fetch_to_pool(e, j, fetch_run_after);
  else list_push(&e->ready, j);
}

/* The cache's two hooks (see "the HTTP cache" below). */
static bool fetch_cache_before(fetch_engine *e, fetch_job *j);
static void fetch_cache_after(fetch_engine *e, fetch_job *j);

/* Routes the job to url and puts it where it waits: its host's queue (at
 * the front, for a redirect), the pool for a local file, or done with the
 * routing's error; a request for the network may be answered (or refused,
 * offline) by the cache instead. */
static void fetch_dispatch(fetch_engine *e, fetch_job *j, const char *url, bool front) {
  switch (fetch_route(e, j, url)) {
  case ROUTE_NET:
    if (!fetch_cache_before(e, j)) host_enqueue(e, j->host, j, front);
    break;
  case ROUTE_FILE:
    fetch_to_pool(e, j, fetch_read_file);
    break;
  case ROUTE_ERROR:
    fetch_finish(e, j);
    break;
  }
}

uint64_t fetch_submit(fetch_engine *e, const fetch_request *req) {
  fetch_job *j = calloc(1, sizeof *j);
  if (!j) return 0;
  j->eng = e;
  j->res = calloc(1, sizeof *j->res);
  const char *url = req->url ? req->url : "";
  j->site = strdup(url);
  j->method = strdup(req->method ? req->method : "GET");
  bool ok = j->res && j->site && j->method;
  for (size_t i = 0; ok && i < req->n_headers; i++) {
    struct curl_slist *l = curl_slist_append(j->headers, req->headers[i]);
    if (l) j->headers = l;
    else ok = false;
  }
  bool full = req->body && e->cfg.max_queued_body && req->body_len > e->cfg.max_queued_body - e->queued_body;
  if (ok && req->body && !full) {
    ok = (j->body = malloc(req->body_len ? req->body_len : 1)) != NULL;
    if (ok) {
      memcpy(j->body, req->body, req->body_len);
      j->has_body = true;
      j->body_len = req->body_len;
      e->queued_body += req->body_len;
    }
  }
  const char *proxy = req->proxy ? req->proxy : e->proxy;
  const char *ua = req->user_agent ? req->user_agent : e->user_agent;
  const char *cacert = req->cacert ? req->cacert : e->cacert;
  if (ok && proxy) ok = (j->proxy = strdup(proxy)) != NULL;
  if (ok && ua) ok = (j->user_agent = strdup(ua)) != NULL;
  if (ok && cacert) ok = (j->cacert = strdup(cacert)) != NULL;
  if (!ok) {
    fetch_job_free(j);
    return 0;
  }
  for (char *m = j->method; *m; m++) *m = (char)toupper((unsigned char)*m);
  const fetch_config *c = &e->cfg;
  j->timeout_ms = req->timeout_ms >= 0 ? req->timeout_ms : c->timeout_ms;
  j->follow = req->follow_redirects >= 0 ? req->follow_redirects != 0 : c->follow_redirects;
  j->max_redirects = req->max_redirects >= 0 ? req->max_redirects : c->max_redirects;
  j->retries = req->retries >= 0 ? req->retries : c->retries;
  j->connect_timeout_ms = req->connect_timeout_ms >= 0 ? req->connect_timeout_ms : c->connect_timeout_ms;
  j->deadline_ms = req->deadline_ms >= 0 ? req->deadline_ms : c->deadline_ms;
  j->low_speed_limit = req->low_speed_limit >= 0 ? req->low_speed_limit : c->low_speed_limit;
  j->low_speed_time = req->low_speed_time >= 0 ? req->low_speed_time : c->low_speed_time;
  j->idempotent = req->idempotent >= 0 ? req->idempotent != 0 : retry_idempotent(j->method);
  headers_init(&j->hdr, c->max_headers, c->max_header_bytes);
  j->max_body = req->max_body ? req->max_body : c->max_body;
  j->after = req->after;
  j->done = req->done;
  j->ud = req->ud;
  j->res->ud = req->ud;
  j->res->id = ++e->next_id;
  e->stats.requests++;
  e->pending++;
  if (full) {
    fetch_fail(j, FETCH_QUEUE_FULL, "%s: request body of %zu bytes refused: %zu bytes of request bodies already queued (max_queued_body %zu)",
               url, req->body_len, e->queued_body, c->max_queued_body);
    fetch_finish(e, j);
  } else {
    fetch_dispatch(e, j, url, false);
  }
  return j->res->id;
}

/* ---- WARC output (fetch_warc.h) --------------------------------------- */

/* A record names the site's URL, not a base-URL mirror's. */
static char *fetch_warc_site(const void *m, const char *url) { return m ? mirror_unmap(m, url) : NULL; }

/* The try ended with rc: its last exchange to the writer, marked
 * WARC-Truncated when its body did not come whole. */
static void fetch_warc_done(fetch_job *j, CURLcode rc) {
  const char *why = NULL;
  if (rc == CURLE_OPERATION_TIMEDOUT) why = "time";
  else if (j->too_large || rc == CURLE_FILESIZE_EXCEEDED) why = "length";
  else if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING) why = "disconnect";
  else if (rc != CURLE_OK) why = "unspecified";
  fetch_warc_finish(&j->warc, why);
}

/* ---- transfers -------------------------------------------------------- */

/* Whether the job's body may grow to len bytes under body_room; counts it
 * in held_body if so. A body a retry or redirect cleared is still counted
 * until then (or until its job is freed): the count errs high, never low. */
static bool fetch_hold(fetch_engine *e, fetch_job *j, size_t len) {
  size_t others = e->held_body - j->held;
  if (e->cfg.body_room && len > j->held) {
    size_t room = e->cfg.body_room(e->cfg.body_room_ud, others + len);
    if (others + len > room) {
      j->over_room = true;
      j->room = room > others ? room - others : 0;
      return false;
    }
  }
  e->held_body = others + len;
  j->held = len;
  return true;
}

static void fetch_fail_room(fetch_job *j) {
  fetch_fail(j, FETCH_MEMORY, "%s: memory limit exceeded: its body would pass the %zu bytes left for it (memory-limit)",
             j->site, j->room);
}

/* Decoded body bytes: counted after decoding, so a compression bomb stops
 * at the limit. */
static bool fetch_keep_body(void *ud, const char *data, size_t len) {
  fetch_job *j = ud;
  buf *b = &j->res->body;
  size_t want = j->max_body && len > j->max_body - b->len ? j->max_body : b->len + len;
  if (!fetch_hold(j->eng, j, want)) return false;
  if (j->max_body && len > j->max_body - b->len) {
    buf_append(b, data, j->max_body - b->len);
    j->too_large = true;
    return false;
  }
  buf_append(b, data, len);
  if (b->failed) return false;
  j->eng->stats.bytes += len;
  return true;
}

/* The body as it comes, decoded here rather than by libcurl (see
 * fetch_decode.h); the decoder is chosen at its first byte, when the
 * response's headers are all in. */
static size_t fetch_on_body(char *data, size_t size, size_t n, void *ud) {
  fetch_job *j = ud;
  size_t len = size * n;
  if (!j->dec_checked) {
    j->dec_checked = true;
    if (decoder_new(headers_find(&j->hdr, "content-encoding"), &j->dec, j->dec_err, sizeof j->dec_err) != 0) {
      j->dec_failed = true;
      return CURL_WRITEFUNC_ERROR;
    }
  }
  if (!j->dec) return fetch_keep_body(j, data, len) ? len : CURL_WRITEFUNC_ERROR;
  switch (decoder_feed(j->dec, data, len, fetch_keep_body, j, j->dec_err, sizeof j->dec_err)) {
  case DECODE_OK:
    return len;
  case DECODE_ERROR:
    j->dec_failed = true;
    return CURL_WRITEFUNC_ERROR;
  default:
    return CURL_WRITEFUNC_ERROR;
  }
}

static size_t fetch_on_header(char *data, size_t size, size_t n, void *ud) {
  fetch_job *j = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    /* A new response (after a 1xx or a redirect): its own coding. */
    decoder_free(j->dec);
    j->dec = NULL;
    j->dec_checked = false;
  }
  return headers_line(&j->hdr, data, len) ? len : CURL_WRITEFUNC_ERROR;
}

/* Opens the sockets libcurl asks for, as it would, to keep why one could
 * not be opened: libcurl says only "Couldn't connect", which a process out
 * of file descriptors should not be told. */
static curl_socket_t fetch_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr) {
  (void)purpose;
  fetch_job *j = ud;
  curl_socket_t fd = socket(addr->family, addr->socktype, addr->protocol);
  if (fd == CURL_SOCKET_BAD) j->socket_errno = errno;
  return fd;
}

/* Whether libcurl is given the method as a custom one, which it would keep
 * across every redirect (with the body dropped after a 301, 302 or 303):
 * the engine follows those redirects itself. */
static bool fetch_custom_method(const fetch_job *j) {
  return strcmp(j->method, "HEAD") != 0 && strcmp(j->method, "POST") != 0 &&
         (strcmp(j->method, "GET") != 0 || j->has_body);
}

/* Whether the engine, not libcurl, follows the job's redirects. */
static bool fetch_engine_follows(const fetch_job *j) { return j->follow && (j->mirror || fetch_custom_method(j)); }

static bool fetch_configure(fetch_engine *e, fetch_job *j, CURL *h, long timeout_ms) {
  bool ok = true;
#define SET(opt, val) ok = ok && curl_easy_setopt(h, opt, val) == CURLE_OK
  SET(CURLOPT_URL, j->url);
  SET(CURLOPT_PRIVATE, (void *)j);
  SET(CURLOPT_ERRORBUFFER, j->errbuf);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_WRITEFUNCTION, fetch_on_body);
  SET(CURLOPT_WRITEDATA, (void *)j);
  SET(CURLOPT_HEADERFUNCTION, fetch_on_header);
  SET(CURLOPT_HEADERDATA, (void *)j);
  SET(CURLOPT_OPENSOCKETFUNCTION, fetch_open_socket);
  SET(CURLOPT_OPENSOCKETDATA, (void *)j);
  SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  SET(CURLOPT_ACCEPT_ENCODING, DECODE_ACCEPT);
  SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
  /* Never file:// or anything else, even from a redirect. */
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_FOLLOWLOCATION, j->follow && !fetch_engine_follows(j) ? 1L : 0L);
  SET(CURLOPT_MAXREDIRS, j->max_redirects < 0 ? -1L : j->max_redirects - j->hops);
  SET(CURLOPT_CONNECTTIMEOUT_MS, j->connect_timeout_ms);
  SET(CURLOPT_TIMEOUT_MS, timeout_ms);
  SET(CURLOPT_LOW_SPEED_LIMIT, j->low_speed_limit);
  SET(CURLOPT_LOW_SPEED_TIME, j->low_speed_time);
  if (j->user_agent) SET(CURLOPT_USERAGENT, j->user_agent);
  if (j->proxy) SET(CURLOPT_PROXY, j->proxy);
  if (j->cacert) SET(CURLOPT_CAINFO, j->cacert);
  /* Requests to one https host share one HTTP/2 connection when the server
   * offers h2 (libcurl multiplexes by default): without PIPEWAIT, those
   * started together would each open a connection before the first has
   * learnt from ALPN that it could carry them all. A server without h2
   * costs them the wait for that handshake. Not for http://, which libcurl
   * never speaks HTTP/2 over, and where the wait would last until the
   * first response came. */
  if (strncmp(j->url, "https:", 6) == 0) SET(CURLOPT_PIPEWAIT, 1L);
  if (j->headers) SET(CURLOPT_HTTPHEADER, j->headers);
  if (e->share) {
    SET(CURLOPT_SHARE, e->share);
    SET(CURLOPT_COOKIEFILE, "");  /* the cookie engine on, nothing loaded */
  }
  bool head = strcmp(j->method, "HEAD") == 0;
  /* A Content-Length over the limit is refused before the body comes. */
  if (j->max_body && !head && j->max_body <= (size_t)INT64_MAX)
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->max_body);
  if (head) {
    SET(CURLOPT_NOBODY, 1L);
  } else if (strcmp(j->method, "POST") == 0 || j->has_body) {
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
    SET(CURLOPT_POSTFIELDS, j->has_body ? j->body : "");
  }
  /* POST is left to libcurl so that a 301/302/303 turns it into a GET, as
   * browsers do; a custom method's redirects the engine follows. */
  if (fetch_custom_method(j)) SET(CURLOPT_CUSTOMREQUEST, j->method);
#undef SET
  return ok && (!e->warc || fetch_warc_attach(&j->warc, h, e->warc, e->cfg.log, fetch_warc_site, j->mirror));
}

static void fetch_start(fetch_engine *e, fetch_job *j) {
  fetch_response *r = j->res;
  fetch_response_clear(r);
  e->held_body -= j->held;
  j->held = 0;
  r->tries++;
  j->too_large = j->over_room = j->dec_checked = j->dec_failed = false;
  decoder_free(j->dec);
  j->dec = NULL;
  headers_clear(&j->hdr);
  j->errbuf[0] = '\0';
  j->socket_errno = 0;
  /* The deadline runs from the first try; each try ends by it. */
  double now = fetch_now();
  long timeout_ms = j->timeout_ms;
  if (j->deadline_ms > 0 && j->deadline == 0) j->deadline = now + j->deadline_ms / 1000.0;
  if (j->deadline > 0) {
    double left_ms = (j->deadline - now) * 1000.0;
    if (left_ms < 1) {
      fetch_fail(j, FETCH_TIMEOUT, "%s: deadline of %ld ms passed (deadline)", j->site, j->deadline_ms);
      fetch_finish(e, j);
      return;
    }
    if (timeout_ms <= 0 || left_ms < timeout_ms) timeout_ms = (long)left_ms + 1;
  }
  CURL *h = curl_easy_init();
  if (!h || !fetch_configure(e, j, h, timeout_ms) || curl_multi_add_handle(e->multi, h) != CURLM_OK) {
    if (h) curl_easy_cleanup(h);
    fetch_fail(j, FETCH_OTHER, "%s: cannot start the transfer (out of memory)", j->site);
    fetch_finish(e, j);
    return;
  }
  j->easy = h;
  list_push(&e->running, j);
  j->host->active++;
  if (e->running.n > e->stats.peak_in_flight) e->stats.peak_in_flight = e->running.n;
}

static fetch_error fetch_kind(CURLcode rc, bool too_large) {
  switch (rc) {
  case CURLE_OK:
    return FETCH_OK;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return FETCH_DNS;
  case CURLE_COULDNT_CONNECT:
    return FETCH_CONNECT;
  case CURLE_OPERATION_TIMEDOUT:
    return FETCH_TIMEOUT;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_USE_SSL_FAILED:
    return FETCH_TLS;
  case CURLE_FILESIZE_EXCEEDED:
    return FETCH_TOO_LARGE;
  case CURLE_WRITE_ERROR:
    return too_large ? FETCH_TOO_LARGE : FETCH_OTHER;
  case CURLE_TOO_MANY_REDIRECTS:
    return FETCH_TOO_MANY_REDIRECTS;
  case CURLE_PARTIAL_FILE:
    return FETCH_TRUNCATED;
  case CURLE_BAD_CONTENT_ENCODING:
    return FETCH_DECODE;
  case CURLE_UNSUPPORTED_PROTOCOL:
    return FETCH_SCHEME;
  default:
    return FETCH_OTHER;
  }
}

/* Wait before the try after `tries` tries. */
static double fetch_backoff(fetch_engine *e, int tries) {
  return retry_backoff(e->cfg.backoff_ms, e->cfg.backoff_max_ms, tries, fetch_random(e));
}

static const char *fetch_http_version(long version) {
  switch (version) {
  case CURL_HTTP_VERSION_1_0:
    return "1.0";
  case CURL_HTTP_VERSION_1_1:
    return "1.1";
  case CURL_HTTP_VERSION_2_0:
    return "2";
  case CURL_HTTP_VERSION_3:
    return "3";
  default:
    return NULL;
  }
}

static void fetch_take_info(fetch_job *j, CURL *h) {
  fetch_response *r = j->res;
  long redirects = 0, version = 0;
  char *eff = NULL;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
  r->http_version = fetch_http_version(version);
  curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
  r->redirects = (int)redirects;
  curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME, &r->timings.dns);
  curl_easy_getinfo(h, CURLINFO_CONNECT_TIME, &r->timings.connect);
  curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME, &r->timings.tls);
  curl_easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME, &r->timings.first_byte);
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &r->timings.total);
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) {
    char *site = j->mirror ? mirror_unmap(j->mirror, eff) : NULL;
    if (!site) site = strdup(eff);
    if (site) {
      free(r->url);
      r->url = site;
    }
  }
  /* The last response of a redirect chain only (see headers_line). */
  headers_move(&j->hdr, r);
  fetch_parse_content_type(fetch_header_get(r, "content-type"), &r->content_type, &r->charset);
}

/* Whether two URLs have the same scheme, host and port. */
static bool same_origin(const char *a, const char *b) {
  CURLU *u[2] = {curl_url(), curl_url()};
  const char *urls[2] = {a, b};
  char *parts[2][3] = {{NULL}};
  static const CURLUPart which[3] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
  for (int i = 0; i < 2; i++)
    if (u[i] && curl_url_set(u[i], CURLUPART_URL, urls[i], 0) == CURLUE_OK)
      for (int k = 0; k < 3; k++) parts[i][k] = url_part(u[i], which[k], k == 2 ? CURLU_DEFAULT_PORT : 0);
  bool same = true;
  for (int k = 0; k < 3; k++) {
    if (k == 1) str_lower(parts[0][k]), str_lower(parts[1][k]);
    same = same && parts[0][k] && parts[1][k] && strcmp(parts[0][k], parts[1][k]) == 0;
    free(parts[0][k]);
    free(parts[1][k]);
  }
  curl_url_cleanup(u[0]);
  curl_url_cleanup(u[1]);
  return same;
}

/* The request's own Authorization and Cookie headers are for the host it
 * named: a redirect elsewhere goes without them, as libcurl does. */
static void fetch_drop_credentials(fetch_job *j) {
  struct curl_slist *kept = NULL;
  for (struct curl_slist *h = j->headers; h; h = h->next) {
    if (strncasecmp(h->data, "authorization:", 14) == 0 || strncasecmp(h->data, "cookie:", 7) == 0) continue;
    struct curl_slist *l = curl_slist_append(kept, h->data);
    if (l) kept = l;
  }
  curl_slist_free_all(j->headers);
  j->headers = kept;
}

/* A redirect libcurl was not let follow: from a base-URL mirror, or of a
 * custom method (see fetch_engine_follows). Its Location is resolved
 * against the URL fetched, as libcurl would; from a mirror, a URL back
 * under the mirror's location is the site's URL again, and any other is a
 * URL like those a page links to, routed afresh: one under the origin (an
 * absolute redirect to the site itself) is served by the mirror instead of
 * leaving for the real site. The method changes as RFC 9110 15.4 and
 * browsers have it: to GET without the body after a 303 (but HEAD), and
 * after a 301 or 302 to a POST; any other keeps its method and body. */
static void fetch_redirect(fetch_engine *e, fetch_job *j, const char *location) {
  fetch_response *r = j->res;
  long status = r->status;
  if (j->max_redirects >= 0 && j->hops >= j->max_redirects) {
    fetch_fail(j, FETCH_TOO_MANY_REDIRECTS, "%s: more than %ld redirects", j->site, j->max_redirects);
    fetch_finish(e, j);
    return;
  }
  buf next = BUF_INIT;
  if (url_resolve(j->url, location, &next) != 0 || next.failed) {
    char *bad = fetch_strdup(location);  /* fetch_fail frees the headers */
    fetch_fail(j, FETCH_OTHER, "%s: redirect to an invalid URL: %s", j->site, bad ? bad : "?");
    free(bad);
    buf_free(&next);
    fetch_finish(e, j);
    return;
  }
  char scheme[16];
  url_scheme(next.data, scheme, sizeof scheme);
  if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
    /* Never file:// or anything else from a redirect (see fetch_configure). */
    fetch_fail(j, FETCH_SCHEME, "%s: redirect to scheme %s: not allowed (http, https)", j->site, scheme);
    buf_free(&next);
    fetch_finish(e, j);
    return;
  }
  bool head = strcmp(j->method, "HEAD") == 0;
  if ((status == 303 && !head) || ((status == 301 || status == 302) && strcmp(j->method, "POST") == 0)) {
    char *get = fetch_strdup("GET");
    if (get) {
      free(j->method);
      j->method = get;
      if (j->has_body) e->queued_body -= j->body_len;
      free(j->body);
      j->body = NULL;
      j->body_len = 0;
      j->has_body = false;
    }
  }
  char *site = j->mirror ? mirror_unmap(j->mirror, next.data) : NULL;
  if (!same_origin(j->site, site ? site : next.data)) fetch_drop_credentials(j);
  j->hops++;
  fetch_response_clear(r);
  r->tries = 0;
  free(r->url);
  r->url = NULL;
  free(j->url);
  j->url = NULL;
  j->mirror = NULL;
  j->host = NULL;
  j->dir = NULL;
  fetch_dispatch(e, j, site ? site : next.data, true);
  free(site);
  buf_free(&next);
}

/* Sets the try's error kind and message from libcurl's rc and what the
 * engine's own callbacks saw (header budget, decoding, size limit).
 * Returns whether the result is one the engine retries (a listed status,
 * or a listed error kind that another try may pass), whatever the tries
 * left. */
static bool fetch_classify(fetch_engine *e, fetch_job *j, CURLcode rc) {
  fetch_response *r = j->res;
  char msg[200];
  if (j->hdr.status == HEADERS_TOO_MANY || j->hdr.status == HEADERS_TOO_LARGE) {
    fetch_fail(j, FETCH_HEADERS, j->hdr.status == HEADERS_TOO_MANY ? "%s: more than %zu response headers (max_headers)"
                                                                   : "%s: response headers larger than %zu bytes (max_header_bytes)",
               j->site, j->hdr.status == HEADERS_TOO_MANY ? e->cfg.max_headers : e->cfg.max_header_bytes);
    return false;
  }
  if (rc == CURLE_OUT_OF_MEMORY && j->hdr.status == HEADERS_OK && !j->hdr.complete) {
    /* libcurl's dynbuf refuses a header line past CURL_MAX_HTTP_HEADER. */
    fetch_fail(j, FETCH_HEADERS, "%s: a response header line longer than libcurl's limit of %d KiB", j->site,
               CURL_MAX_HTTP_HEADER / 1024);
    return false;
  }
  if (rc == CURLE_RECV_ERROR && j->hdr.status == HEADERS_OK && !j->hdr.complete &&
      strstr(j->errbuf, "Too large response headers")) {
    /* libcurl's own cap on a response's headers (300 KiB in 7.88). */
    fetch_fail(j, FETCH_HEADERS, "%s: %s (libcurl's limit)", j->site, j->errbuf);
    return false;
  }
  if (j->over_room) {
    fetch_fail_room(j);
    return false;
  }
  if (j->dec_failed || (rc == CURLE_OK && j->dec && decoder_finish(j->dec, msg, sizeof msg) != 0)) {
    fetch_fail(j, FETCH_DECODE, "%s: %s", j->site, j->dec_failed ? j->dec_err : msg);
    return false;
  }
  if (rc != CURLE_OK && r->status >= 100 && r->status < 200) {
    /* An unasked-for 101 (or any 1xx as the last word): the server's
     * answer, the same next time. */
    fetch_fail(j, FETCH_OTHER, "%s: unexpected %ld response", j->site, r->status);
    return false;
  }
  r->error = fetch_kind(rc, j->too_large);
  if (r->error == FETCH_TOO_LARGE)
    r->message = fetch_strf("%s: body larger than %zu bytes", j->site, j->max_body);
  else if (r->error == FETCH_TRUNCATED)
    r->message = fetch_strf("%s: body cut short: %s", j->site, j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
  else if (r->error == FETCH_CONNECT && (j->socket_errno == EMFILE || j->socket_errno == ENFILE))
    r->message = fetch_strf("%s: cannot open a socket: %s (the process's open files, ulimit -n, are all in use)", j->site,
                            strerror(j->socket_errno));
  else if (r->error == FETCH_CONNECT && j->socket_errno)
    r->message = fetch_strf("%s: cannot open a socket: %s", j->site, strerror(j->socket_errno));
  else if (r->error != FETCH_OK)
    r->message = fetch_strf("%s: %s", j->site, j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
  if (r->error == FETCH_OK) return r->status >= 0 && r->status < 600 && e->retry_status[r->status];
  return (e->cfg.retry_errors & (1u << r->error)) && retry_can_pass(r->error, rc);
}

static void fetch_complete(fetch_engine *e, fetch_job *j, CURLcode rc) {
  fetch_response *r = j->res;
  CURL *h = j->easy;
  if (e->share) {
    /* Bounding the jar reads it whole: once per so many new cookies, which
     * lets it pass its bounds by at most that many and one response's. */
    e->new_cookies += j->hdr.set_cookies;
    if (e->new_cookies >= COOKIES_PER_DOMAIN) {
      e->new_cookies = 0;
      cookies_bound(h);
    }
  }
  fetch_take_info(j, h);
  if (e->warc) fetch_warc_done(j, rc);
  curl_multi_remove_handle(e->multi, h);
  curl_easy_cleanup(h);
  j->easy = NULL;
  list_remove(&e->running, j);
  j->host->active--;
  bool retry = fetch_classify(e, j, rc);
  const char *location = fetch_header_get(r, "location");
  if (r->error == FETCH_OK && fetch_engine_follows(j) && location &&
      (r->status == 301 || r->status == 302 || r->status == 303 || r->status == 307 || r->status == 308)) {
    fetch_redirect(e, j, location);
    return;
  }
  bool busy = r->error == FETCH_OK && retry;
  double asked = busy ? retry_after(fetch_header_get(r, "retry-after")) : -1;
  double wait = asked < 0 ? fetch_backoff(e, r->tries) : asked;
  if (asked > e->cfg.retry_after_max_ms / 1000.0) wait = e->cfg.retry_after_max_ms / 1000.0;
  /* No try that would start after the deadline. */
  if (!retry || r->tries > j->retries || !j->idempotent || (j->deadline > 0 && fetch_now() + wait >= j->deadline)) {
    fetch_cache_after(e, j);
    fetch_finish(e, j);
    return;
  }
  if (asked >= 0) {
    /* The server asked the host to back off, not only this URL. */
    double until = fetch_now() + wait;
    if (until > j->host->hold_until) j->host->hold_until = until;
  }
  if (e->cfg.log && busy)
    log_msg(e->cfg.log, LOG_DEBUG, "%s: HTTP %ld, retry %d of %d in %.3f s", j->site, r->status, r->tries, j->retries,
            wait);
  else if (e->cfg.log)
    log_msg(e->cfg.log, LOG_DEBUG, "%s, retry %d of %d in %.3f s", r->message ? r->message : j->site, r->tries,
            j->retries, wait);
  e->stats.retries++;
  j->wake_at = fetch_now() + wait;
  list_push(&e->sleeping, j);
}

/* ---- the HTTP cache (fetch_cache.c) ----------------------------------- */

/* Whether the request's response may come from and go to the cache: GET
 * and HEAD without a body, and without validators or a range of the
 * caller's own (the caller wants the server's answer to those). */
static bool fetch_cacheable(const fetch_job *j) {
  if (j->has_body || (strcmp(j->method, "GET") != 0 && strcmp(j->method, "HEAD") != 0)) return false;
  for (const struct curl_slist *h = j->headers; h; h = h->next)
    if (strncasecmp(h->data, "if-", 3) == 0 || strncasecmp(h->data, "range:", 6) == 0) return false;
  return true;
}

/* Replaces the response with the job's cache entry; false (the response
 * cleared, the reason logged) if the entry cannot be read. */
static bool fetch_cache_answer(fetch_engine *e, fetch_job *j) {
  fetch_response *r = j->res;
  char err[512];
  fetch_response_clear(r);
  if (cache_load(e->cache, j->cached, r, err, sizeof err) != 0) {
    fetch_response_clear(r);
    e->stats.cache_errors++;
    if (e->cfg.log) log_msg(e->cfg.log, LOG_WARN, "%s", err);
    return false;
  }
  if (!fetch_hold(e, j, r->body.len)) fetch_fail_room(j);
  return true;
}

/* Before a request goes to the network (routed, not yet queued): answered
 * from a cache entry, or refused offline, and finished here (true); or
 * sent, with validators when its entry is stale. Once per request: a
 * redirect the engine follows is part of the first request's response. */
static bool fetch_cache_before(fetch_engine *e, fetch_job *j) {
  if (j->hops > 0) return false;
  bool cacheable = e->cache && fetch_cacheable(j) && !cache_request_has(j->headers, "no-store");
  bool any = e->cfg.offline || e->cfg.cache_mode == FETCH_CACHE_ALWAYS;
  /* Offline, whatever the request asks, the cache is all there is. */
  bool reuse = e->cfg.offline ||
               (e->cfg.cache_mode != FETCH_CACHE_REFRESH && !cache_request_has(j->headers, "no-cache"));
  cache_verdict v = CACHE_MISS;
  if (cacheable) {
    j->cache_sent = cache_now();
    if (!(j->cache_url = strdup(j->site))) cacheable = false;
  }
  if (cacheable && reuse)
    v = cache_lookup(e->cache, j->method, j->cache_url, j->headers, j->user_agent, any, &j->cached);
  if (v == CACHE_FRESH && fetch_cache_answer(e, j)) {
    e->stats.cache_hits++;
    free(j->cache_url);  /* nothing to store */
    j->cache_url = NULL;
    fetch_finish(e, j);
    return true;
  }
  if (e->cfg.offline) {
    fetch_fail(j, FETCH_OFFLINE, "%s: offline, and not in the cache", j->site);
    fetch_finish(e, j);
    return true;
  }
  if (v == CACHE_FRESH || (v == CACHE_STALE && !cache_add_validators(j->cached, &j->headers))) {
    cache_entry_free(j->cached);  /* fetched whole, then replaced */
    j->cached = NULL;
  }
  return false;
}

/* A request's final response from the network: a 304 to a stale entry's
 * validators is answered with the entry, refreshed; any other response is
 * stored. A cache that cannot be written is logged, and the crawl goes on. */
static void fetch_cache_after(fetch_engine *e, fetch_job *j) {
  fetch_response *r = j->res;
  char err[512];
  if (!j->cache_url) return;
  if (j->cached && r->error == FETCH_OK && r->status == 304) {
    if (cache_refresh(e->cache, j->cached, r, j->cache_sent, err, sizeof err) != 0) {
      e->stats.cache_errors++;
      if (e->cfg.log) log_msg(e->cfg.log, LOG_WARN, "%s", err);
    }
    fetch_timings t = r->timings;
    if (fetch_cache_answer(e, j)) {
      r->timings = t;
      e->stats.cache_revalidated++;
    } else {
      fetch_fail(j, FETCH_OTHER, "%s: 304 Not Modified, and the cache entry cannot be read", j->site);
    }
    return;
  }
  int rc = cache_store(e->cache, j->method, j->cache_url, j->headers, j->user_agent, r, j->cache_sent,
                       e->cfg.cache_mode != FETCH_CACHE_FRESH, err, sizeof err);
  if (rc > 0) e->stats.cache_stored++;
  if (rc < 0) {
    e->stats.cache_errors++;
    if (e->cfg.log) log_msg(e->cfg.log, LOG_WARN, "%s", err);
  }
}

/* ---- the loop --------------------------------------------------------- */

/* Retries whose time has come go first in their host's queue. */
static void fetch_wake_sleepers(fetch_engine *e, double now) {
  for (fetch_job *j = e->sleeping.head, *next; j; j = next) {
    next = j->next;
    if (j->wake_at > now) continue;
    list_remove(&e->sleeping, j);
    host_enqueue(e, j->host, j, true);
  }
}

/* Whether a transfer may start: a slot is free, and the workers are not
 * behind. Bodies fetched faster than the workers parse them would pile up
 * on the pool's queue, which is most of a crawl's memory when the site is
 * near (a page waiting holds its body, one being parsed its tree as well);
 * a short queue is all the workers need to stay busy. */
static bool fetch_may_start(const fetch_engine *e) {
  size_t backlog = e->on_pool + e->ready.n;
  return e->running.n + backlog < (size_t)e->cfg.max_in_flight && backlog < e->max_on_pool;
}

/* Starts what the limits allow, one request per host per pass, rotating
 * the hosts so that none waits behind another's long queue. */
static void fetch_start_queued(fetch_engine *e, double now) {
  for (bool started = true; started && fetch_may_start(e);) {
    started = false;
    /* A pass: each host waiting now, once; those put back come after last. */
    fetch_host *last = e->wait_tail;
    for (fetch_host *h = NULL; h != last && fetch_may_start(e);) {
      h = host_wait_pop(e);
      if (h->active < e->cfg.max_per_host && now >= host_ready_at(e, h)) {
        fetch_job *j = list_pop(&h->queue);
        e->queued--;
        h->last_start = now;
        fetch_start(e, j);
        started = true;
      }
      if (h->queue.n) host_wait_push(e, h);
    }
  }
}

static void fetch_advance(fetch_engine *e) {
  double now = fetch_now();
  fetch_wake_sleepers(e, now);
  fetch_start_queued(e, now);
}

static void fetch_collect(fetch_engine *e) {
  int running, left;
  curl_multi_perform(e->multi, &running);
  CURLMsg *m;
  while ((m = curl_multi_info_read(e->multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    char *p = NULL;
    CURLcode rc = m->data.result;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
    fetch_complete(e, (fetch_job *)p, rc);
  }
  for (workers_job *w = workers_take(e->pool), *next; w; w = next) {
    next = w->next;
    e->on_pool--;
    fetch_job *j = (fetch_job *)((char *)w - offsetof(fetch_job, work));
    /* A local file was read on a worker, out of body_room's sight (the
     * room is the loop thread's to ask): it is counted here, before it
     * reaches the caller. */
    if (j->res->error == FETCH_OK && !fetch_hold(e, j, j->res->body.len)) {
      fetch_fail_room(j);
      if (j->res->result && j->res->free_result) j->res->free_result(j->res->result);
      j->res->result = NULL;
    }
    list_push(&e->ready, j);
  }
}

/* How long the poll may sleep: until the caller's timeout, the next retry,
 * or the next host whose delay runs out while a slot is free. */
static int fetch_wait_ms(const fetch_engine *e, int timeout_ms) {
  if (timeout_ms <= 0) return 0;
  double now = fetch_now(), until = now + timeout_ms / 1000.0;
  for (const fetch_job *j = e->sleeping.head; j; j = j->next)
    if (j->wake_at < until) until = j->wake_at;
  /* Else a worker's notify wakes the poll when it is done. */
  if (fetch_may_start(e))
    for (const fetch_host *h = e->wait_head; h; h = h->wait_next) {
      double t = host_ready_at(e, h);
      if (h->active < e->cfg.max_per_host && t < until) until = t;
    }
  double ms = (until - now) * 1000.0;
  if (ms <= 0) return 0;
  /* Round up, so the poll does not wake just before the timer is due. */
  return ms >= timeout_ms ? timeout_ms : (int)ms + 1;
}

static void fetch_deliver(fetch_engine *e) {
  job_list l = e->ready;
  e->ready = (job_list){NULL, NULL, 0};
  for (fetch_job *j; (j = list_pop(&l));) {
    fetch_response *r = j->res;
    j->res = NULL;
    r->redirects += j->hops;
    if (r->error == FETCH_OK) e->stats.responses++;
    else e->stats.errors[r->error]++;
    e->pending--;
    fetch_done_fn done = j->done;
    void *ud = j->ud;
    fetch_job_free(j);
    if (done) done(r, ud);
    else fetch_response_free(r);
  }
}

int fetch_run(fetch_engine *e, int timeout_ms) {
  if (e->in_run) return -1;
  if (!e->pending) return 0;
  e->in_run = true;
  fetch_advance(e);
  fetch_collect(e);
  fetch_advance(e);  /* slots freed and retries due just now */
  if (!e->ready.n) {
    curl_multi_poll(e->multi, NULL, 0, fetch_wait_ms(e, timeout_ms), NULL);
    fetch_collect(e);
  }
  fetch_deliver(e);
  e->in_run = false;
  return (int)e->pending;
}

size_t fetch_pending(const fetch_engine *e) { return e->pending; }

void fetch_wakeup(fetch_engine *e) { curl_multi_wakeup(e->multi); }

static void fetch_cancel_job(fetch_engine *e, fetch_job *j) {
  fetch_fail(j, FETCH_CANCELLED, "%s: cancelled", j->site);
  fetch_finish(e, j);
}

void fetch_cancel(fetch_engine *e) {
  fetch_job *j;
  while ((j = list_pop(&e->running))) {
    curl_multi_remove_handle(e->multi, j->easy);
    curl_easy_cleanup(j->easy);
    j->easy = NULL;
    j->host->active--;
    fetch_cancel_job(e, j);
  }
  for (fetch_host *h = e->wait_head; h; h = h->wait_next) {
    while ((j = list_pop(&h->queue))) fetch_cancel_job(e, j);
    h->waiting = false;
  }
  e->wait_head = e->wait_tail = NULL;
  e->queued = 0;
  while ((j = list_pop(&e->sleeping))) fetch_cancel_job(e, j);
}

int fetch_set_host_delay(fetch_engine *e, const char *host, int ms) {
  char *name = strdup(host);
  if (!name) return -1;
  str_lower(name);
  fetch_host *h = host_get(e, name);
  free(name);
  if (!h) return -1;
  h->delay_ms = ms < 0 ? FETCH_DEFAULT : ms;
  return 0;
}

void fetch_stats_get(const fetch_engine *e, fetch_stats *out) {
  *out = e->stats;
  out->queued = e->queued + e->sleeping.n;
  out->in_flight = e->running.n;
}

const fetch_config *fetch_config_of(const fetch_engine *e) { return &e->cfg; }

/* ---- the engine ------------------------------------------------------- */

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void fetch_notify(void *ud) { fetch_wakeup(ud); }

fetch_engine *fetch_new(const fetch_config *cfg, char *err, size_t errlen) {
  pthread_once(&fetch_once, fetch_global_init);
  fetch_engine *e = calloc(1, sizeof *e);
  if (!e) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  e->cfg = *cfg;
  if (e->cfg.max_in_flight < 1) e->cfg.max_in_flight = 1;
  if (e->cfg.max_per_host < 1) e->cfg.max_per_host = 1;
  if (e->cfg.host_delay_ms < 0) e->cfg.host_delay_ms = 0;
  if (e->cfg.retries < 0) e->cfg.retries = 0;
  for (size_t i = 0; i < cfg->n_retry_statuses; i++)
    if (cfg->retry_statuses[i] >= 0 && cfg->retry_statuses[i] < 600) e->retry_status[cfg->retry_statuses[i]] = 1;
  e->cfg.retry_statuses = NULL;  /* copied into e->retry_status */
  e->cfg.n_retry_statuses = 0;
  e->user_agent = fetch_strdup(cfg->user_agent);
  e->proxy = fetch_strdup(cfg->proxy);
  e->cacert = fetch_strdup(cfg->cacert);
  e->cfg.user_agent = e->user_agent;
  e->cfg.proxy = e->proxy;
  e->cfg.cacert = e->cacert;
  e->cfg.mirrors = NULL;  /* parsed into e->mirrors */
  e->cfg.n_mirrors = 0;
  e->nbuckets = 64;
  e->buckets = calloc(e->nbuckets, sizeof *e->buckets);
  e->mirrors = cfg->n_mirrors ? calloc(cfg->n_mirrors, sizeof *e->mirrors) : NULL;
  e->rng = ((uint64_t)(fetch_now() * 1e9) ^ (uint64_t)(uintptr_t)e) | 1;
  if ((cfg->user_agent && !e->user_agent) || (cfg->proxy && !e->proxy) || (cfg->cacert && !e->cacert) ||
      !e->buckets || (cfg->n_mirrors && !e->mirrors)) {
    snprintf(err, errlen, "out of memory");
    fetch_free(e);
    return NULL;
  }
  for (; e->n_mirrors < cfg->n_mirrors; e->n_mirrors++)
    if (mirror_init(&e->mirrors[e->n_mirrors], &cfg->mirrors[e->n_mirrors], err, errlen) != 0) {
      e->n_mirrors++;
      fetch_free(e);
      return NULL;
    }
  e->multi = curl_multi_init();
  if (e->multi && cfg->cookies) {
    /* All transfers run on the loop thread, so the share needs no locks. */
    e->share = curl_share_init();
    if (!e->share || curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK) {
      snprintf(err, errlen, "cannot create the cookie jar");
      fetch_free(e);
      return NULL;
    }
  }
  if (!e->multi || !(e->pool = workers_new(cfg->workers, fetch_notify, e))) {
    snprintf(err, errlen, e->multi ? "cannot start worker threads" : "cannot create a libcurl multi handle");
    fetch_free(e);
    return NULL;
  }
  e->max_on_pool = 4 * (size_t)workers_count(e->pool);
  e->cfg.cache = NULL;  /* opened into e->cache */
  if (cfg->cache && !(e->cache = cache_open(cfg->cache, err, errlen))) {
    fetch_free(e);
    return NULL;
  }
  if (cfg->warc_out) {
    e->warc_out = strdup(cfg->warc_out);
    e->cfg.warc_out = e->warc_out;
    if (!e->warc_out || !(e->warc = warc_write_open(cfg->warc_out, cfg->warc_max_size, "glean/" GLEAN_VERSION, err, errlen))) {
      if (!e->warc_out) snprintf(err, errlen, "out of memory");
      fetch_free(e);
      return NULL;
    }
  }
  return e;
}

void fetch_free(fetch_engine *e) {
  if (!e) return;
  /* The pool first: its threads may still wake the multi handle. */
  for (workers_job *w = e->pool ? workers_free(e->pool) : NULL, *next; w; w = next) {
    next = w->next;
    fetch_job_free((fetch_job *)((char *)w - offsetof(fetch_job, work)));
  }
  fetch_job *j;
  while ((j = list_pop(&e->running))) {
    curl_multi_remove_handle(e->multi, j->easy);
    fetch_job_free(j);
  }
  while ((j = list_pop(&e->sleeping))) fetch_job_free(j);
  while ((j = list_pop(&e->ready))) fetch_job_free(j);
  for (size_t i = 0; i < e->nbuckets && e->buckets; i++)
    for (fetch_host *h = e->buckets[i], *next; h; h = next) {
      next = h->chain;
      while ((j = list_pop(&h->queue))) fetch_job_free(j);
      free(h->name);
      free(h);
    }
  free(e->buckets);
  if (e->multi) curl_multi_cleanup(e->multi);
  if (e->share) curl_share_cleanup(e->share);
  for (size_t i = 0; i < e->n_mirrors; i++) mirror_free(&e->mirrors[i]);
  free(e->mirrors);
  free(e->user_agent);
  free(e->proxy);
  free(e->cacert);
  cache_close(e->cache);
  warc_write_close(e->warc);
  free(e->warc_out);
  free(e);
}
