/* fetch_warc.c — the fetch engine's tap for the WARC writer (see
 * fetch_warc.h). libcurl passes what it sends and receives to the debug
 * callback before it decodes anything (its comment: "pass data to the
 * debug function before it gets dechunked"), which is what a WARC response
 * record holds: the message as transferred. */
#include "fetch_warc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RFC 9110's reason phrases, for the status line of an HTTP/2 or /3
 * response (which has none). */
static const char *fetch_warc_reason(long status) {
  static const struct {
    short code;
    const char *text;
  } reasons[] = {
      {200, "OK"}, {201, "Created"}, {202, "Accepted"}, {203, "Non-Authoritative Information"},
      {204, "No Content"}, {205, "Reset Content"}, {206, "Partial Content"}, {300, "Multiple Choices"},
      {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"}, {304, "Not Modified"},
      {307, "Temporary Redirect"}, {308, "Permanent Redirect"}, {400, "Bad Request"}, {401, "Unauthorized"},
      {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"}, {406, "Not Acceptable"},
      {408, "Request Timeout"}, {409, "Conflict"}, {410, "Gone"}, {411, "Length Required"},
      {412, "Precondition Failed"}, {413, "Content Too Large"}, {414, "URI Too Long"},
      {415, "Unsupported Media Type"}, {416, "Range Not Satisfiable"}, {421, "Misdirected Request"},
      {422, "Unprocessable Content"}, {425, "Too Early"}, {426, "Upgrade Required"}, {429, "Too Many Requests"},
      {451, "Unavailable For Legal Reasons"}, {500, "Internal Server Error"}, {501, "Not Implemented"},
      {502, "Bad Gateway"}, {503, "Service Unavailable"}, {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
  };
  for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++)
    if (reasons[i].code == status) return reasons[i].text;
  return "";
}

/* Empty again for the next exchange; keeps the buffers' memory. */
static void fetch_warc_reset(fetch_warc *t) {
  buf_reset(&t->req_head);
  buf_reset(&t->req_body);
  buf_reset(&t->res_head);
  buf_reset(&t->res_body);
  free(t->url);
  t->url = NULL;
  t->ip[0] = '\0';
  t->skip = t->head_done = false;
  t->status = 0;
}

/* Writes the exchange collected, if its response's headers came. */
static void fetch_warc_flush(fetch_warc *t, const char *truncated) {
  if (t->skip || !t->head_done || !t->url) return;
  if (t->req_head.failed || t->req_body.failed || t->res_head.failed || t->res_body.failed) {
    if (t->log) log_msg(t->log, LOG_ERROR, "warc: %s: out of memory: exchange not recorded", t->url);
    return;
  }
  char *site = t->site ? t->site(t->site_ud, t->url) : NULL;
  warc_exchange x = {
      .url = site ? site : t->url, .ip = t->ip, .time = t->time,
      .req_head = buf_str(&t->req_head), .req_head_len = t->req_head.len,
      .req_body = buf_str(&t->req_body), .req_body_len = t->req_body.len,
      .res_head = buf_str(&t->res_head), .res_head_len = t->res_head.len,
      .res_body = buf_str(&t->res_body), .res_body_len = t->res_body.len,
      .truncated = truncated,
  };
  char err[512];
  if (warc_write_exchange(t->writer, &x, err, sizeof err) != 0 && t->log)
    log_msg(t->log, LOG_ERROR, "warc: %s not recorded: %s", x.url, err);
  free(site);
}

/* A request begins: the one before it (a redirect libcurl followed) is
 * whole. */
static void fetch_warc_request(fetch_warc *t, CURL *h, const char *data, size_t len) {
  if (t->res_head.len || t->skip) {
    fetch_warc_flush(t, NULL);
    fetch_warc_reset(t);
  }
  if (!t->req_head.len) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t->time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    char *url = NULL, *ip = NULL;
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url);
    curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip);
    t->url = url ? strdup(url) : NULL;
    snprintf(t->ip, sizeof t->ip, "%s", ip ? ip : "");
    t->skip = len >= 8 && memcmp(data, "CONNECT ", 8) == 0;
  }
  buf_append(&t->req_head, data, len);
}

/* A line of the response's head: "HTTP/..." starts a response (after an
 * interim 1xx, the final one replaces it). */
static void fetch_warc_header(fetch_warc *t, const char *data, size_t len) {
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    buf_reset(&t->res_head);
    t->head_done = false;
    const char *sp = memchr(data, ' ', len);
    t->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    if (len >= 7 && (memcmp(data, "HTTP/2", 6) == 0 || memcmp(data, "HTTP/3", 6) == 0)) {
      char line[96];
      int n = snprintf(line, sizeof line, "HTTP/1.1 %ld %s\r\n", t->status, fetch_warc_reason(t->status));
      buf_append(&t->res_head, line, (size_t)n);
      return;
    }
  }
  buf_append(&t->res_head, data, len);
  /* The empty line: the head is whole, unless it was a 1xx's. */
  if ((len == 2 && data[0] == '\r' && data[1] == '\n') || (len == 1 && data[0] == '\n'))
    t->head_done = t->status >= 200 || t->status == 0;
}

static int fetch_warc_debug(CURL *h, curl_infotype type, char *data, size_t len, void *ud) {
  fetch_warc *t = ud;
  switch (type) {
  case CURLINFO_HEADER_OUT:
    fetch_warc_request(t, h, data, len);
    break;
  case CURLINFO_DATA_OUT:
    buf_append(&t->req_body, data, len);
    break;
  case CURLINFO_HEADER_IN:
    fetch_warc_header(t, data, len);
    break;
  case CURLINFO_DATA_IN:
    if (t->head_done) buf_append(&t->res_body, data, len);
    break;
  default:
    break;
  }
  return 0;
}

bool fetch_warc_attach(fetch_warc *t, CURL *h, warc_writer *writer, const logger *log, fetch_warc_site_fn site,
                       const void *site_ud) {
  fetch_warc_reset(t);
  t->writer = writer;
  t->log = log;
  t->site = site;
  t->site_ud = site_ud;
  return curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, fetch_warc_debug) == CURLE_OK &&
         curl_easy_setopt(h, CURLOPT_DEBUGDATA, (void *)t) == CURLE_OK &&
         curl_easy_setopt(h, CURLOPT_VERBOSE, 1L) == CURLE_OK;
}

void fetch_warc_clear(fetch_warc *t) {
  fetch_warc_reset(t);
  buf_free(&t->req_head);
  buf_free(&t->req_body);
  buf_free(&t->res_head);
  buf_free(&t->res_body);
}

void fetch_warc_finish(fetch_warc *t, const char *truncated) {
  fetch_warc_flush(t, truncated);
  /* The copy of the body goes now, not with the job: that waits for the
   * workers' parse and the caller's `done`. */
  fetch_warc_clear(t);
}
