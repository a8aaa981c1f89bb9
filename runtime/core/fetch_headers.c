/* fetch_headers.c — response headers as they arrive (see fetch_headers.h).
 * libcurl 7.88's curl_easy_nextheader rescans every stored header on each
 * call, so walking a response's N headers with it costs N^2 on the loop
 * thread; here each line costs its own length once. */
#include "fetch_headers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void headers_init(headers_collector *c, size_t max_lines, size_t max_bytes) {
  *c = (headers_collector){.max_lines = max_lines, .max_bytes = max_bytes};
}

static void headers_drop(headers_collector *c) {
  for (size_t i = 0; i < c->n; i++) {
    free(c->list[i].name);
    free(c->list[i].value);
  }
  c->n = 0;
}

void headers_clear(headers_collector *c) {
  headers_drop(c);
  free(c->list);
  headers_init(c, c->max_lines, c->max_bytes);
}

static bool headers_fail(headers_collector *c, headers_status why) {
  c->status = why;
  return false;
}

static size_t trim_end(const char *s, size_t len) {
  while (len && (s[len - 1] == '\r' || s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
  return len;
}

static bool headers_add(headers_collector *c, const char *name, size_t name_len, const char *value, size_t value_len) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 32;
    fetch_header *grown = realloc(c->list, cap * sizeof *grown);
    if (!grown) return false;
    c->list = grown;
    c->cap = cap;
  }
  char *n = strndup(name, name_len), *v = strndup(value, value_len);
  if (!n || !v) {
    free(n);
    free(v);
    return false;
  }
  for (char *p = n; *p; p++) *p = (char)tolower((unsigned char)*p);
  c->list[c->n++] = (fetch_header){n, v};
  return true;
}

/* An obsolete line folding (RFC 9112 5.2): the value goes on, after one
 * space. */
static bool headers_fold(headers_collector *c, const char *more, size_t len) {
  if (!c->n) return true;
  fetch_header *h = &c->list[c->n - 1];
  size_t old = strlen(h->value);
  char *v = realloc(h->value, old + 1 + len + 1);
  if (!v) return false;
  v[old] = ' ';
  memcpy(v + old + 1, more, len);
  v[old + 1 + len] = '\0';
  h->value = v;
  return true;
}

bool headers_line(headers_collector *c, const char *line, size_t len) {
  if (c->status != HEADERS_OK) return false;
  c->seen = true;
  if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    headers_drop(c);
    c->lines = c->bytes = 0;
    c->complete = false;
  }
  c->lines++;
  c->bytes += len;
  if (c->max_lines && c->lines > c->max_lines) return headers_fail(c, HEADERS_TOO_MANY);
  if (c->max_bytes && c->bytes > c->max_bytes) return headers_fail(c, HEADERS_TOO_LARGE);
  size_t n = trim_end(line, len);
  if (n == 0) {
    c->complete = true;
    return true;
  }
  if (c->complete || (len >= 5 && memcmp(line, "HTTP/", 5) == 0)) return true;  /* a trailer, or the status */
  if (line[0] == ' ' || line[0] == '\t') {
    size_t skip = 0;
    while (skip < n && (line[skip] == ' ' || line[skip] == '\t')) skip++;
    return headers_fold(c, line + skip, n - skip) || headers_fail(c, HEADERS_NO_MEMORY);
  }
  const char *colon = memchr(line, ':', n);
  if (!colon || colon == line) return true;  /* not a header: libcurl let it by, we do too */
  const char *v = colon + 1, *end = line + n;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  if (colon - line == 10 && strncasecmp(line, "set-cookie", 10) == 0) c->set_cookies++;
  return headers_add(c, line, (size_t)(colon - line), v, (size_t)(end - v)) || headers_fail(c, HEADERS_NO_MEMORY);
}

const char *headers_find(const headers_collector *c, const char *name) {
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->list[i].name, name) == 0) return c->list[i].value;
  return NULL;
}

void headers_move(headers_collector *c, fetch_response *r) {
  r->headers = c->list;
  r->n_headers = c->n;
  c->list = NULL;
  c->n = c->cap = 0;
}
