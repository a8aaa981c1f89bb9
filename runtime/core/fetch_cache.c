/* fetch_cache.c — the HTTP cache (see fetch_cache.h): one SQLite table,
 * a row per request and variant; freshness as RFC 9111 section 4.2 computes
 * it for a private cache (s-maxage, a shared cache's, is ignored, and
 * responses marked private are kept). Every call runs on the engine's loop
 * thread, so the connection needs no mutex of SQLite's own; other processes
 * on the same file wait on its locks up to CACHE_BUSY_MS. */
#include "fetch_cache.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "canon.h"

#define CACHE_BUSY_MS 10000

struct fetch_cache {
  sqlite3 *db;
  char *path;
  sqlite3_stmt *find, *load, *store, *refresh;
};

struct cache_entry {
  char *key;             /* "METHOD canonical-URL" */
  char *variant;         /* the Vary'd request headers' values it was stored for */
  fetch_response *stored; /* status and headers only */
  double request_time, response_time;
};

static const char CACHE_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS glean_cache ("
    " key TEXT NOT NULL,"            /* METHOD canonical-URL */
    " variant TEXT NOT NULL,"        /* name: value lines of the request headers vary names */
    " vary TEXT NOT NULL,"           /* the response's Vary names, lower case, comma-separated */
    " url TEXT NOT NULL,"            /* final URL, after redirects */
    " status INTEGER NOT NULL,"
    " headers BLOB NOT NULL,"        /* name NUL value NUL ..., in order */
    " redirects INTEGER NOT NULL,"
    " http_version TEXT,"
    " request_time REAL NOT NULL,"   /* wall-clock seconds */
    " response_time REAL NOT NULL,"
    " body BLOB NOT NULL,"
    " UNIQUE (key, variant))";

double cache_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cache_error(const fetch_cache *c, char *err, size_t errlen, const char *what) {
  snprintf(err, errlen, "cache %s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
}

void cache_close(fetch_cache *c) {
  if (!c) return;
  sqlite3_finalize(c->find);
  sqlite3_finalize(c->load);
  sqlite3_finalize(c->store);
  sqlite3_finalize(c->refresh);
  sqlite3_close(c->db);
  free(c->path);
  free(c);
}

fetch_cache *cache_open(const char *path, char *err, size_t errlen) {
  fetch_cache *c = calloc(1, sizeof *c);
  if (!c || !(c->path = strdup(path))) {
    free(c);
    snprintf(err, errlen, "cache %s: out of memory", path);
    return NULL;
  }
  if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    cache_error(c, err, errlen, "cannot open");
    cache_close(c);
    return NULL;
  }
  sqlite3_busy_timeout(c->db, CACHE_BUSY_MS);
  /* Another program's database (a crawl state, a record sink) is not made
   * a cache by adding a table to it: checked before anything is written. */
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(c->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name <> 'glean_cache'",
                              -1, &st, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    if (rc == SQLITE_ROW)
      snprintf(err, errlen, "cache %s: a database with other tables than a glean cache's (a state or records file?)",
               path);
    else
      cache_error(c, err, errlen, "not a SQLite database");
    cache_close(c);
    return NULL;
  }
  /* WAL: other processes read while one writes. */
  bool wal = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
  sqlite3_finalize(st);
  if (!wal) {
    cache_error(c, err, errlen, "not a SQLite database that can be written in WAL mode");
    cache_close(c);
    return NULL;
  }
  /* A lost last write costs a fetch, never a damaged file: no fsync per entry. */
  if (sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_exec(c->db, CACHE_SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c->db,
                         "SELECT variant, vary, status, headers, request_time, response_time FROM glean_cache"
                         " WHERE key = ?1",
                         -1, &c->find, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c->db,
                         "SELECT url, status, headers, redirects, http_version, body FROM glean_cache"
                         " WHERE key = ?1 AND variant = ?2",
                         -1, &c->load, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c->db,
                         "INSERT OR REPLACE INTO glean_cache (key, variant, vary, url, status, headers, redirects,"
                         " http_version, request_time, response_time, body)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                         -1, &c->store, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c->db,
                         "UPDATE glean_cache SET headers = ?3, request_time = ?4, response_time = ?5"
                         " WHERE key = ?1 AND variant = ?2",
                         -1, &c->refresh, NULL) != SQLITE_OK) {
    cache_error(c, err, errlen, "not a glean cache (or cannot be written)");
    cache_close(c);
    return NULL;
  }
  return c;
}

/* ---- keys and variants ------------------------------------------------ */

/* "METHOD canonical-URL" (the URL as given if it has no canonical form);
 * tracking parameters are kept: they are part of what was asked. */
static char *cache_key(const char *method, const char *url) {
  static const char *const keep_all[] = {NULL};
  canon_options opts = {keep_all};
  buf b = BUF_INIT;
  buf_puts(&b, method);
  buf_putc(&b, ' ');
  if (canon_url(url, &opts, &b, NULL, 0) != 0) buf_puts(&b, url);
  if (b.failed) {
    buf_free(&b);
    return NULL;
  }
  buf_putc(&b, '\0');
  return b.data;
}

/* The value of request header name (lower case) as the request sends it,
 * trimmed; user-agent from the engine's when not among the headers. */
static void cache_request_value(const struct curl_slist *headers, const char *user_agent, const char *name,
                                buf *out) {
  size_t n = strlen(name);
  for (const struct curl_slist *h = headers; h; h = h->next)
    if (strncasecmp(h->data, name, n) == 0 && h->data[n] == ':') {
      const char *v = h->data + n + 1, *end = v + strlen(v);
      while (*v == ' ' || *v == '\t') v++;
      while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
      buf_append(out, v, (size_t)(end - v));
      return;
    }
  if (strcmp(name, "user-agent") == 0 && user_agent) buf_puts(out, user_agent);
}

/* "name: value\n" for each name of vary (comma-separated, lower case). */
static char *cache_variant(const char *vary, const struct curl_slist *headers, const char *user_agent) {
  buf b = BUF_INIT, name = BUF_INIT;
  for (const char *p = vary; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    buf_reset(&name);
    buf_append(&name, p, len);
    buf_puts(&b, buf_str(&name));
    buf_puts(&b, ": ");
    cache_request_value(headers, user_agent, buf_str(&name), &b);
    buf_putc(&b, '\n');
    p += comma ? len + 1 : len;
  }
  buf_free(&name);
  buf_putc(&b, '\0');
  if (b.failed) {
    buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* The names the response's Vary headers list, lower case, comma-separated
 * into out; false for Vary: *, which no later request matches. */
static bool cache_vary_names(const fetch_response *r, buf *out) {
  for (size_t i = 0; i < r->n_headers; i++) {
    if (strcmp(r->headers[i].name, "vary") != 0) continue;
    for (const char *p = r->headers[i].value; *p;) {
      while (*p == ' ' || *p == '\t' || *p == ',') p++;
      size_t len = strcspn(p, ", \t");
      if (len == 1 && *p == '*') return false;
      if (len) {
        if (out->len) buf_putc(out, ',');
        for (size_t k = 0; k < len; k++) buf_putc(out, (char)tolower((unsigned char)p[k]));
      }
      p += len;
    }
  }
  return true;
}

/* ---- stored headers --------------------------------------------------- */

static void cache_encode_headers(const fetch_header *h, size_t n, buf *out) {
  for (size_t i = 0; i < n; i++) {
    buf_append(out, h[i].name, strlen(h[i].name) + 1);
    buf_append(out, h[i].value, strlen(h[i].value) + 1);
  }
}

/* Decodes name NUL value NUL ... into r's headers (which it has none of). */
static bool cache_decode_headers(const char *blob, size_t len, fetch_response *r) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += blob[i] == '\0';
  if (!n) return true;
  r->headers = calloc(n / 2 + 1, sizeof *r->headers);
  if (!r->headers) return false;
  for (const char *p = blob, *end = blob + len; p < end;) {
    const char *v = memchr(p, '\0', (size_t)(end - p));
    if (!v || ++v >= end) break;
    const char *next = memchr(v, '\0', (size_t)(end - v));
    if (!next) break;
    fetch_header *h = &r->headers[r->n_headers];
    if (!(h->name = strdup(p)) || !(h->value = strdup(v))) {
      free(h->name);
      return false;
    }
    r->n_headers++;
    p = next + 1;
  }
  return true;
}

void cache_entry_free(cache_entry *e) {
  if (!e) return;
  free(e->key);
  free(e->variant);
  fetch_response_free(e->stored);
  free(e);
}

/* ---- freshness (RFC 9111 4.2) ----------------------------------------- */

/* Whether a Cache-Control value has the directive; *arg (if not NULL) its
 * delta-seconds argument, -1 if none or not a number. */
static bool cache_directive(const char *value, const char *directive, long *arg) {
  size_t n = strlen(directive);
  for (const char *p = value; *p;) {
    while (*p == ' ' || *p == '\t' || *p == ',') p++;
    size_t len = strcspn(p, ",");
    if (strncasecmp(p, directive, n) == 0 && (p[n] == '=' || p[n] == ',' || p[n] == ' ' || !p[n])) {
      if (arg) {
        const char *v = p + n;
        *arg = -1;
        if (*v == '=') {
          if (*++v == '"') v++;
          char *end;
          long x = strtol(v, &end, 10);
          if (end > v && isdigit((unsigned char)*v)) *arg = x;
        }
      }
      return true;
    }
    p += len;
  }
  return false;
}

/* Whether the response's Cache-Control (any of its headers) has it. */
static bool cache_control(const fetch_response *r, const char *directive, long *arg) {
  for (size_t i = 0; i < r->n_headers; i++)
    if (strcmp(r->headers[i].name, "cache-control") == 0 && cache_directive(r->headers[i].value, directive, arg))
      return true;
  return false;
}

bool cache_request_has(const struct curl_slist *headers, const char *directive) {
  buf v = BUF_INIT;
  cache_request_value(headers, NULL, "cache-control", &v);
  bool has = cache_directive(buf_str(&v), directive, NULL);
  buf_free(&v);
  return has;
}

/* A date header's time, or dflt if absent or not a date. */
static double cache_date(const fetch_response *r, const char *name, double dflt) {
  const char *v = fetch_header_get(r, name);
  time_t t = v ? curl_getdate(v, NULL) : -1;
  return t == -1 ? dflt : (double)t;
}

/* RFC 9110 15.1: the statuses a cache may give a heuristic lifetime. */
static bool cache_heuristic_status(long status) {
  static const long ok[] = {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
    if (status == ok[i]) return true;
  return false;
}

static double cache_lifetime(const cache_entry *e) {
  const fetch_response *s = e->stored;
  long v;
  /* An invalid max-age (no number) means stale (4.2.1). */
  if (cache_control(s, "max-age", &v)) return v > 0 ? (double)v : 0;
  double date = cache_date(s, "date", e->response_time);
  if (fetch_header_get(s, "expires")) return cache_date(s, "expires", date) - date;
  double modified = cache_date(s, "last-modified", date);
  if (modified < date && cache_heuristic_status(s->status)) {
    double h = (date - modified) * CACHE_HEURISTIC_FRACTION;
    return h < CACHE_HEURISTIC_MAX ? h : CACHE_HEURISTIC_MAX;
  }
  return 0;
}

static double cache_age(const cache_entry *e, double now) {
  const fetch_response *s = e->stored;
  double date = cache_date(s, "date", e->response_time);
  const char *age = fetch_header_get(s, "age");
  double age_value = age && isdigit((unsigned char)*age) ? strtod(age, NULL) : 0;
  double apparent = e->response_time > date ? e->response_time - date : 0;
  double corrected = age_value + (e->response_time - e->request_time);
  return (apparent > corrected ? apparent : corrected) + (now - e->response_time);
}

static bool cache_fresh(const cache_entry *e, double now) {
  if (cache_control(e->stored, "no-cache", NULL)) return false;
  return cache_lifetime(e) > cache_age(e, now);
}

/* ---- lookup, load, store ---------------------------------------------- */

cache_verdict cache_lookup(fetch_cache *c, const char *method, const char *url, const struct curl_slist *headers,
                           const char *user_agent, bool any, cache_entry **out) {
  *out = NULL;
  char *key = cache_key(method, url);
  if (!key) return CACHE_MISS;
  sqlite3_stmt *st = c->find;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  cache_entry *e = NULL;
  while (!e && sqlite3_step(st) == SQLITE_ROW) {
    const char *variant = (const char *)sqlite3_column_text(st, 0), *vary = (const char *)sqlite3_column_text(st, 1);
    char *want = cache_variant(vary ? vary : "", headers, user_agent);
    bool match = want && variant && strcmp(want, variant) == 0;
    if (match && (e = calloc(1, sizeof *e)) && !(e->stored = calloc(1, sizeof *e->stored))) {
      free(e);
      e = NULL;
    }
    if (match && e) {
      e->variant = want;
      want = NULL;
      e->stored->status = sqlite3_column_int(st, 2);
      e->request_time = sqlite3_column_double(st, 4);
      e->response_time = sqlite3_column_double(st, 5);
      if (!cache_decode_headers(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3), e->stored)) {
        cache_entry_free(e);
        e = NULL;
      }
    }
    free(want);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (!e) {
    free(key);
    return CACHE_MISS;
  }
  e->key = key;
  *out = e;
  return any || cache_fresh(e, cache_now()) ? CACHE_FRESH : CACHE_STALE;
}

bool cache_add_validators(const cache_entry *e, struct curl_slist **headers) {
  static const char *const pairs[][2] = {{"etag", "If-None-Match"}, {"last-modified", "If-Modified-Since"}};
  bool added = false;
  for (size_t i = 0; i < 2; i++) {
    const char *v = fetch_header_get(e->stored, pairs[i][0]);
    if (!v) continue;
    size_t n = strlen(pairs[i][1]) + strlen(v) + 3;
    char *line = malloc(n);
    if (!line) return false;
    snprintf(line, n, "%s: %s", pairs[i][1], v);
    struct curl_slist *l = curl_slist_append(*headers, line);
    free(line);
    if (!l) return false;
    *headers = l;
    added = true;
  }
  return added;
}

/* The static version string fetch_response promises, from a stored one. */
static const char *cache_http_version(const char *v) {
  static const char *const known[] = {"1.0", "1.1", "2", "3"};
  for (size_t i = 0; v && i < sizeof known / sizeof *known; i++)
    if (strcmp(v, known[i]) == 0) return known[i];
  return NULL;
}

int cache_load(fetch_cache *c, const cache_entry *e, fetch_response *r, char *err, size_t errlen) {
  sqlite3_stmt *st = c->load;
  sqlite3_bind_text(st, 1, e->key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, e->variant, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st), out = -1;
  if (rc == SQLITE_ROW) {
    const char *stored_url = (const char *)sqlite3_column_text(st, 0);
    char *url = stored_url ? strdup(stored_url) : NULL;
    const void *body = sqlite3_column_blob(st, 5);
    size_t len = (size_t)sqlite3_column_bytes(st, 5);
    if (url && cache_decode_headers(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), r)) {
      free(r->url);
      r->url = url;
      url = NULL;
      r->status = sqlite3_column_int(st, 1);
      r->redirects = sqlite3_column_int(st, 3);
      r->http_version = cache_http_version((const char *)sqlite3_column_text(st, 4));
      if (len) buf_append(&r->body, body, len);
      fetch_parse_content_type(fetch_header_get(r, "content-type"), &r->content_type, &r->charset);
      out = r->body.failed ? -1 : 0;
    }
    free(url);
    if (out != 0) snprintf(err, errlen, "cache %s: %s: cannot read the entry (out of memory?)", c->path, e->key);
  } else if (rc == SQLITE_DONE) {
    snprintf(err, errlen, "cache %s: %s: entry gone (replaced by another process?)", c->path, e->key);
  } else {
    cache_error(c, err, errlen, "cannot read an entry");
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return out;
}

/* Headers a 304 does not update (RFC 9111 3.2: they describe its own
 * message, not the stored content). */
static bool cache_keeps_stored(const char *name) {
  static const char *const own[] = {"content-length", "content-encoding", "transfer-encoding", "content-range",
                                    "connection", "keep-alive"};
  for (size_t i = 0; i < sizeof own / sizeof *own; i++)
    if (strcmp(name, own[i]) == 0) return true;
  return false;
}

int cache_refresh(fetch_cache *c, const cache_entry *e, const fetch_response *not_modified, double request_time,
                  char *err, size_t errlen) {
  buf b = BUF_INIT;
  const fetch_response *s = e->stored;
  /* The stored headers the 304 does not name, then the 304's. */
  for (size_t i = 0; i < s->n_headers; i++)
    if (cache_keeps_stored(s->headers[i].name) || !fetch_header_get(not_modified, s->headers[i].name))
      cache_encode_headers(&s->headers[i], 1, &b);
  for (size_t i = 0; i < not_modified->n_headers; i++)
    if (!cache_keeps_stored(not_modified->headers[i].name)) cache_encode_headers(&not_modified->headers[i], 1, &b);
  if (b.failed) {
    snprintf(err, errlen, "cache %s: %s: out of memory", c->path, e->key);
    buf_free(&b);
    return -1;
  }
  sqlite3_stmt *st = c->refresh;
  sqlite3_bind_text(st, 1, e->key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, e->variant, -1, SQLITE_STATIC);
  sqlite3_bind_blob(st, 3, b.data ? b.data : "", (int)b.len, SQLITE_STATIC);
  sqlite3_bind_double(st, 4, request_time);
  sqlite3_bind_double(st, 5, cache_now());
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
  if (rc) cache_error(c, err, errlen, "cannot update an entry");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  buf_free(&b);
  return rc;
}

int cache_store(fetch_cache *c, const char *method, const char *url, const struct curl_slist *headers,
                const char *user_agent, const fetch_response *r, double request_time, bool keep_all, char *err,
                size_t errlen) {
  /* A 304 is an answer to validators, not a response to keep. */
  if (r->error != FETCH_OK || r->status < 100 || r->status == 206 || r->status == 304) return 0;
  if (!keep_all && cache_control(r, "no-store", NULL)) return 0;
  buf vary = BUF_INIT, hdrs = BUF_INIT;
  if (!cache_vary_names(r, &vary)) return 0;
  cache_encode_headers(r->headers, r->n_headers, &hdrs);
  char *key = cache_key(method, url);
  char *variant = vary.failed ? NULL : cache_variant(buf_str(&vary), headers, user_agent);
  int rc = -1;
  if (!key || !variant || hdrs.failed) {
    snprintf(err, errlen, "cache %s: %s: out of memory", c->path, url);
    goto done;
  }
  sqlite3_stmt *st = c->store;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, variant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, buf_str(&vary), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, r->url ? r->url : url, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 5, (int)r->status);
  sqlite3_bind_blob(st, 6, hdrs.data ? hdrs.data : "", (int)hdrs.len, SQLITE_STATIC);
  sqlite3_bind_int(st, 7, r->redirects);
  if (r->http_version) sqlite3_bind_text(st, 8, r->http_version, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 9, request_time);
  sqlite3_bind_double(st, 10, cache_now());
  sqlite3_bind_blob64(st, 11, r->body.data ? r->body.data : "", r->body.len, SQLITE_STATIC);
  rc = sqlite3_step(st) == SQLITE_DONE ? 1 : -1;
  if (rc < 0) cache_error(c, err, errlen, "cannot store an entry");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
done:
  free(key);
  free(variant);
  buf_free(&vary);
  buf_free(&hdrs);
  return rc;
}
