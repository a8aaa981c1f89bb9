/* fetch_headers.h — collects a transfer's response headers as libcurl hands
 * them over (CURLOPT_HEADERFUNCTION), in linear time, within a budget of
 * header lines and bytes per response. Internal to the fetch engine. */
#ifndef GLEAN_FETCH_HEADERS_H
#define GLEAN_FETCH_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "fetch.h"

typedef enum { HEADERS_OK, HEADERS_TOO_MANY, HEADERS_TOO_LARGE, HEADERS_NO_MEMORY } headers_status;

typedef struct headers_collector {
  fetch_header *list;  /* the current response's, in order */
  size_t n, cap;
  size_t lines, bytes; /* of the current response, trailers included */
  size_t max_lines, max_bytes;  /* 0: no limit */
  bool complete;       /* its blank line came: what follows is body or trailers */
  bool seen;           /* any header line came in this try */
  size_t set_cookies;  /* Set-Cookie lines in this try, redirects' too */
  headers_status status;
} headers_collector;

void headers_init(headers_collector *c, size_t max_lines, size_t max_bytes);
/* Takes one raw line (status line, "Name: value", continuation, blank
 * line or trailer), CRLF included. A status line starts the next
 * response's headers (after a 1xx, or a redirect libcurl follows); a
 * trailer counts against the budget but is not kept. False once over the
 * budget or out of memory (see status). */
bool headers_line(headers_collector *c, const char *line, size_t len);
/* The first value of name (lower case) among the collected, or NULL. */
const char *headers_find(const headers_collector *c, const char *name);
/* Moves the collected headers into the response (which has none). */
void headers_move(headers_collector *c, fetch_response *r);
void headers_clear(headers_collector *c);

#endif
