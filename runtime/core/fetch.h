/* fetch.h — the fetch engine: HTTP(S) requests on libcurl's multi interface,
 * driven one turn at a time by the thread that owns the engine (the loop
 * thread). Owns scheduling (a global limit, per-host queues and limits, a
 * minimum gap between starts to one host), retries with backoff, size and
 * time limits, the cookie jar, mirrors (a site's URLs served from another
 * base URL or a local directory), an HTTP cache and offline mode (the
 * hooks; the cache itself is fetch_cache.c's), and a worker pool that runs each
 * request's `after` callback off the loop thread. Nothing here knows of Lua:
 * a binding submits, yields, and resumes from the `done` callback.
 *
 * Threads: every function is for the loop thread only, except fetch_wakeup
 * (any thread) and the `after` callbacks (which run on worker threads and
 * must not call into the engine). Callbacks are never called from inside
 * fetch_submit, only from fetch_run. libcurl's global state is initialized
 * by the first fetch_new (through pthread_once), so programs need not call
 * curl_global_init; calling it too is harmless. */
#ifndef GLEAN_FETCH_H
#define GLEAN_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "log.h"

typedef enum {
  FETCH_OK,
  FETCH_DNS,                 /* the host name (or proxy) did not resolve */
  FETCH_CONNECT,             /* no connection (refused, unreachable) */
  FETCH_TIMEOUT,             /* connect, total or low-speed time limit */
  FETCH_TLS,                 /* handshake or certificate */
  FETCH_TOO_LARGE,           /* the decoded body passed max_body */
  FETCH_TOO_MANY_REDIRECTS,
  FETCH_SCHEME,              /* a URL or redirect to a scheme not allowed */
  FETCH_CANCELLED,
  FETCH_OTHER,               /* malformed URL, broken response, local I/O ... */
  FETCH_DECODE,              /* a Content-Encoding stream damaged, cut short
                                or of a coding not known */
  FETCH_TRUNCATED,           /* the body ended before its Content-Length
                                (or the connection closed mid-body) */
  FETCH_HEADERS,             /* response headers past max_headers or
                                max_header_bytes, or a line past libcurl's
                                100 KiB */
  FETCH_QUEUE_FULL,          /* refused by fetch_submit: max_queued_body */
  FETCH_MEMORY,              /* the bodies held for undelivered responses
                                would pass what body_room allows */
  FETCH_OFFLINE,             /* offline, and the cache has no entry for it */
  FETCH_ERROR_KINDS
} fetch_error;

/* "ok", "dns", "connect", "timeout", "tls", "too_large", "redirects",
 * "scheme", "cancelled", "other", "decode", "truncated", "headers",
 * "queue", "memory", "offline": stable, for scripts and logs. */
const char *fetch_error_name(fetch_error kind);

/* Requests for URLs under origin ("https://example.com": scheme, host and
 * port must match exactly; every path) are served from location instead:
 * a base URL ("http://127.0.0.1:8000" or ".../prefix": the same path and
 * query are fetched there) or a local directory (anything without "://":
 * "/a/b/" reads DIR/a/b/index.html, "/x.txt" reads DIR/x.txt, the query is
 * ignored, nothing outside DIR is ever read, and a missing file is a 404).
 * Responses keep the site's URLs, and requests count against the site's
 * host for the per-host limits (local files are read on the worker pool,
 * outside them). */
typedef struct fetch_mirror {
  const char *origin;
  const char *location;
} fetch_mirror;

/* How the HTTP cache (fetch_config.cache) answers requests. */
typedef enum {
  FETCH_CACHE_FRESH,    /* RFC 9111: a fresh entry answers, a stale one is
                           revalidated (If-None-Match, If-Modified-Since) */
  FETCH_CACHE_ALWAYS,   /* any entry answers, however old: for replaying a
                           recorded site */
  FETCH_CACHE_REFRESH,  /* every request goes out; its response is stored */
} fetch_cache_mode;

typedef struct fetch_config {
  int max_in_flight;         /* requests running at once, all hosts, counting
                                those done and waiting for their `after`
                                (a slow parser holds the fetching back): 64 */
  int max_per_host;          /* running at once to one host name: 8 (over
                                HTTP/2: streams on one connection) */
  int host_delay_ms;         /* least time between two starts to one host: 0 */
  long connect_timeout_ms;   /* 10 s */
  long timeout_ms;           /* a whole try, redirects included (0: none;
                                where the engine follows redirects itself,
                                through a base-URL mirror or for a method
                                other than GET, HEAD and POST, each
                                redirect is a try of its own): 60 s */
  long deadline_ms;          /* a whole request from its first try's start:
                                tries, backoff and redirects (0: none): 0 */
  long low_speed_limit;      /* abort a try slower than this many bytes/s ... */
  long low_speed_time;       /* ... for this many seconds: 1 byte/s for 30 s */
  size_t max_body;           /* decoded body bytes (0: no limit): 32 MiB */
  int max_redirects;         /* 10 */
  bool follow_redirects;     /* true */
  int retries;               /* tries after the first, for idempotent
                                methods (GET, HEAD, OPTIONS, TRACE, PUT,
                                DELETE; see fetch_request.idempotent), on
                                the statuses and error kinds below: 2 */
  const int *retry_statuses; /* retried HTTP statuses (copied): 408, 429,
                                500, 502, 503, 504, 522, 524 */
  size_t n_retry_statuses;
  unsigned retry_errors;     /* bit (1u << kind) for each fetch_error kind
                                retried, of dns, connect, timeout, tls,
                                truncated and other (only their failures
                                that may pass: a TLS handshake, not a
                                certificate; a broken connection, not a
                                malformed URL): all but truncated */
  int backoff_ms;            /* first retry's backoff, doubling, with
                                full jitter above half of it (unless
                                Retry-After): 500 */
  int backoff_max_ms;        /* backoff cap: 30 s */
  int retry_after_max_ms;    /* cap on a server's Retry-After: 120 s */
  size_t max_headers;        /* header lines of one response, trailers
                                included (0: no limit): 1000 */
  size_t max_header_bytes;   /* their bytes (0: libcurl's own limit, 300 KiB,
                                which fails the same way): 256 KiB */
  size_t max_queued_body;    /* request-body bytes the engine holds for
                                requests not yet delivered; past it
                                fetch_submit's request fails with
                                FETCH_QUEUE_FULL (0: no limit): 64 MiB */
  /* What the bodies of responses not yet delivered may hold in total, in
   * bytes, asked on the loop thread when they grow (want: the total they
   * would reach): the caller's memory left, e.g. Past it the response
   * growing fails with FETCH_MEMORY, not retried. NULL: no such bound
   * (max_body still holds per response). */
  size_t (*body_room)(void *ud, size_t want);
  void *body_room_ud;
  bool cookies;              /* one cookie jar for the engine: true */
  bool allow_file;           /* file:// URLs (read as local files): false */
  const char *user_agent;    /* "glean/" GLEAN_VERSION */
  const char *proxy;         /* NULL: libcurl's http_proxy, https_proxy,
                                no_proxy variables; "": none */
  const char *cacert;        /* a PEM file of CA certificates to verify
                                https servers with, as curl's --cacert;
                                NULL: the system's (one that cannot be
                                read fails each https request, FETCH_TLS) */
  const fetch_mirror *mirrors;
  size_t n_mirrors;
  const char *warc_out;      /* every HTTP exchange into this WARC file,
                                NAME.warc.gz or NAME.warc, written as
                                numbered files (see warc_write.h and
                                fetch_warc.h); NULL: none */
  uint64_t warc_max_size;    /* its files rotate before they pass this
                                many bytes (0: never): 1 GiB */
  int workers;               /* threads for `after` (0: one per CPU) */
  /* The HTTP cache (fetch_cache.h): a SQLite file that final responses to
   * GET and HEAD over the network are stored in (not those of mirrors or
   * local files), with their final URL, status, headers, body and redirect
   * count; later requests are answered from it as cache_mode says, read on
   * the loop thread. Responses with Cache-Control: no-store are stored in
   * the modes always and refresh only (recording a site wants them all).
   * Several processes may share the file. NULL: no cache. */
  const char *cache;
  fetch_cache_mode cache_mode;  /* FETCH_CACHE_FRESH */
  bool offline;              /* nothing goes to the network: a request the
                                cache has no entry for (any entry answers,
                                whatever its age) fails with FETCH_OFFLINE;
                                local files and directory mirrors still
                                serve: false */
  const logger *log;         /* debug lines per retry; NULL: silent; must
                                outlive the engine */
} fetch_config;

void fetch_config_defaults(fetch_config *cfg);

typedef struct fetch_header {
  char *name;   /* lower case */
  char *value;
} fetch_header;

typedef struct fetch_timings {
  /* Seconds from the start of the last try, as libcurl measures them. */
  double dns, connect, tls, first_byte, total;
} fetch_timings;

typedef struct fetch_response {
  uint64_t id;             /* fetch_submit's */
  void *ud;                /* the request's */
  long status;             /* HTTP status; 0 if no response came */
  char *url;               /* final URL (after redirects), as the site's */
  fetch_header *headers;   /* the last response's, in order, repeats kept */
  size_t n_headers;
  buf body;                /* decoded; on FETCH_TOO_LARGE at most max_body
                              bytes of it */
  char *content_type;      /* media type, lower case; NULL if none */
  char *charset;           /* its charset parameter as sent; NULL if none */
  const char *http_version;  /* what the last response came over: "1.0",
                                "1.1", "2", "3" (static); NULL for local
                                files and when no response came */
  int redirects;           /* redirects followed by the last try */
  int tries;               /* tries made (0: refused before any, or answered
                              from the cache without the network) */
  fetch_timings timings;
  fetch_error error;       /* HTTP error statuses are FETCH_OK responses */
  char *message;           /* names the URL; NULL when FETCH_OK */
  void *result;            /* set by the `after` callback, freed with */
  void (*free_result)(void *result);  /* this when the response is */
} fetch_response;

/* Value of the first header named name (any case), or NULL. */
const char *fetch_header_get(const fetch_response *res, const char *name);
void fetch_response_free(fetch_response *res);

/* Splits a Content-Type value ("text/html; charset=UTF-8") into its media
 * type, lower-cased, and its charset parameter as sent: new strings for
 * free(), each NULL when absent (or out of memory). value may be NULL. */
void fetch_parse_content_type(const char *value, char **type, char **charset);

/* Called on a worker thread once the response is final (whatever its
 * error), e.g. to parse the body into res->result. */
typedef void (*fetch_after_fn)(fetch_response *res, void *ud);
/* Called on the loop thread, after `after`, from fetch_run. Owns res:
 * free it with fetch_response_free. */
typedef void (*fetch_done_fn)(fetch_response *res, void *ud);

#define FETCH_DEFAULT (-1)  /* in a request's override: the engine's setting */

typedef struct fetch_request {
  const char *url;
  const char *method;           /* NULL: GET; HEAD, POST, PUT, DELETE, ... */
  const char *const *headers;   /* "Name: value" strings */
  size_t n_headers;
  const void *body;             /* sent when not NULL (POST sends "" if NULL) */
  size_t body_len;
  /* Overrides; FETCH_DEFAULT (0 for max_body, NULL for strings): the
   * engine's. */
  long timeout_ms;
  long connect_timeout_ms;
  long deadline_ms;
  long low_speed_limit;
  long low_speed_time;
  int idempotent;               /* 0 or 1: may be sent again on a retry;
                                   FETCH_DEFAULT: by its method */
  int follow_redirects;         /* 0 or 1 */
  int max_redirects;
  int retries;
  size_t max_body;
  const char *proxy;
  const char *user_agent;
  const char *cacert;
  fetch_after_fn after;         /* optional */
  fetch_done_fn done;           /* NULL: the response is freed unseen */
  void *ud;
} fetch_request;

/* Zeroes req, sets the overrides to FETCH_DEFAULT and the URL. */
void fetch_request_init(fetch_request *req, const char *url);

typedef struct fetch_engine fetch_engine;

/* NULL with a message in err on failure (a mirror that does not parse, out
 * of memory, no thread). The configuration's strings are copied; cfg->log
 * must outlive the engine. */
fetch_engine *fetch_new(const fetch_config *cfg, char *err, size_t errlen);

/* Frees the engine and every request it still holds without calling their
 * callbacks (fetch_cancel and run to 0 first for those). Not from a
 * callback. */
void fetch_free(fetch_engine *e);

/* Queues a request; copies all it needs from req. Never blocks (but with
 * a cache, it reads the request's entry from the cache file here) and
 * never calls back: even a refused URL, or one the cache answers, is
 * answered by a later fetch_run. Returns
 * the request's id (from 1), or 0 if out of memory (no callback then). */
uint64_t fetch_submit(fetch_engine *e, const fetch_request *req);

/* One turn of the loop: starts what the limits allow, waits up to
 * timeout_ms for network activity, a timer or fetch_wakeup, handles what
 * finished (retrying by timers) and calls `done` for every response whose
 * `after` has run. Returns the number of requests not yet delivered; 0
 * at once if there are none. Not reentrant: -1 from inside a callback. */
int fetch_run(fetch_engine *e, int timeout_ms);

/* Requests submitted and not yet delivered to `done`. */
size_t fetch_pending(const fetch_engine *e);

/* Makes a fetch_run waiting now (or the next one) return early. Safe from
 * any thread. From a signal handler: libcurl only writes to a socket, but
 * does not promise async-signal safety. */
void fetch_wakeup(fetch_engine *e);

/* Every queued, waiting-to-retry and running request completes with
 * FETCH_CANCELLED (delivered by fetch_run). Responses already complete
 * (in `after` or awaiting `done`) are delivered as they are; requests
 * submitted later run normally. */
void fetch_cancel(fetch_engine *e);

/* Sets the least gap between request starts to host (a name, any case:
 * e.g. from robots.txt's Crawl-delay); ms < 0 restores the engine's. */
int fetch_set_host_delay(fetch_engine *e, const char *host, int ms);

typedef struct fetch_stats {
  uint64_t requests;      /* submitted */
  uint64_t responses;     /* delivered without error (any HTTP status) */
  uint64_t errors[FETCH_ERROR_KINDS];  /* delivered with each error kind */
  uint64_t retries;       /* tries after the first */
  uint64_t bytes;         /* decoded body bytes from the network, retried
                             tries included (local files not counted) */
  size_t queued;          /* waiting for a start, or for a retry timer */
  size_t in_flight;       /* running */
  size_t peak_in_flight;
  uint64_t cache_hits;    /* answered from the cache without the network */
  uint64_t cache_revalidated;  /* answered from the cache after a 304 */
  uint64_t cache_stored;  /* responses written to the cache */
  uint64_t cache_errors;  /* cache reads and writes that failed (logged) */
} fetch_stats;

void fetch_stats_get(const fetch_engine *e, fetch_stats *out);

/* The engine's configuration, as given (what a request's overrides
 * replace); its strings are the engine's, valid while it lives. */
const fetch_config *fetch_config_of(const fetch_engine *e);

#endif
