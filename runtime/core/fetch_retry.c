/* fetch_retry.c — the retry policy (see fetch_retry.h). Which statuses and
 * error kinds are retried is the engine's configuration; what is here is
 * what no configuration changes. */
#include "fetch_retry.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool retry_idempotent(const char *method) {
  static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
  for (size_t i = 0; i < sizeof safe / sizeof *safe; i++)
    if (strcmp(method, safe[i]) == 0) return true;
  return false;
}

bool retry_can_pass(fetch_error kind, CURLcode rc) {
  switch (kind) {
  case FETCH_DNS:
  case FETCH_CONNECT:
  case FETCH_TIMEOUT:
  case FETCH_TRUNCATED:  /* a connection lost mid-body (or a length that lies) */
    return true;
  case FETCH_TLS:
    return rc == CURLE_SSL_CONNECT_ERROR;  /* the handshake, not the certificate */
  case FETCH_OTHER:
    switch (rc) {
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
      return true;
    default:
      return false;
    }
  default:
    return false;
  }
}

double retry_after(const char *v) {
  if (!v || !*v) return -1;
  char *end;
  errno = 0;
  long secs = strtol(v, &end, 10);
  if (isdigit((unsigned char)*v) && *end == '\0') return errno == ERANGE ? 1e9 : (double)secs;
  time_t when = curl_getdate(v, NULL);
  if (when == -1) return -1;
  double d = difftime(when, time(NULL));
  return d > 0 ? d : 0;
}

double retry_backoff(int base_ms, int cap_ms, int tries, double u) {
  double cap = base_ms;
  for (int i = 1; i < tries && cap < cap_ms; i++) cap *= 2;
  if (cap > cap_ms) cap = cap_ms;
  double floor = base_ms / 2.0;
  if (floor > cap) floor = cap;
  return (floor + u * (cap - floor)) / 1000.0;
}
