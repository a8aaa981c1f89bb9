/* fetch_warc.h — the fetch engine's tap for --warc-out: collects each HTTP
 * exchange of a transfer as it went over the wire, from libcurl's debug
 * callback (the request's headers and body as sent; the response's status
 * line, headers and body as received: chunked framing and Content-Encoding
 * kept, as wget and warcio record them), and hands it to the WARC writer
 * when the next exchange starts (a redirect libcurl follows) or the
 * transfer ends. Interim 1xx responses are dropped, proxy CONNECTs not
 * recorded; an HTTP/2 or /3 response gets an "HTTP/1.1 200 OK" status line,
 * which is what readers expect (its headers and body are as received, there
 * being no framing of HTTP/1.1 to keep). Local files (directory mirrors,
 * file://) are no HTTP exchanges and are not recorded. */
#ifndef GLEAN_FETCH_WARC_H
#define GLEAN_FETCH_WARC_H

#include <curl/curl.h>
#include <stdbool.h>

#include "buf.h"
#include "log.h"
#include "warc_write.h"

/* The URL a record names, from the one libcurl fetched (a base-URL
 * mirror's back to the site's): a new string, or NULL to keep it. */
typedef char *(*fetch_warc_site_fn)(const void *ud, const char *url);

typedef struct fetch_warc {
  warc_writer *writer;
  const logger *log;
  fetch_warc_site_fn site;
  const void *site_ud;
  buf req_head, req_body, res_head, res_body;
  char *url;        /* what the exchange asked for, as libcurl has it */
  char ip[64];
  double time;      /* when its request went (Unix seconds) */
  bool skip;        /* a CONNECT to a proxy: not an exchange to record */
  bool head_done;   /* the response's headers ended (its empty line came) */
  long status;      /* of the response's status line */
} fetch_warc;

/* Starts a transfer's tap: sets libcurl's debug callback on h (which means
 * CURLOPT_VERBOSE too: the callback takes libcurl's text lines, unwritten).
 * Exchanges go to writer; failed writes are logged (log may be NULL). */
bool fetch_warc_attach(fetch_warc *t, CURL *h, warc_writer *writer, const logger *log, fetch_warc_site_fn site,
                       const void *site_ud);

/* The transfer ended: its last exchange is written if its response
 * headers came, marked WARC-Truncated (truncated: the reason) when the
 * body did not come whole. Then the tap holds nothing (its memory freed). */
void fetch_warc_finish(fetch_warc *t, const char *truncated);

/* Frees what the tap holds, writing nothing. */
void fetch_warc_clear(fetch_warc *t);

#endif
