/* fetch_retry.h — the retry policy: which methods may be sent again, which
 * failures another try can get past, how long to wait before it (backoff,
 * Retry-After). Pure functions; internal to the fetch engine. */
#ifndef GLEAN_FETCH_RETRY_H
#define GLEAN_FETCH_RETRY_H

#include <curl/curl.h>
#include <stdbool.h>

#include "fetch.h"

/* RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE. */
bool retry_idempotent(const char *method);
/* Whether a failed try (kind, from libcurl's rc) could go otherwise the
 * next time: a network's failure, not the URL's, the certificate's, the
 * limits' or the server's fixed answer. */
bool retry_can_pass(fetch_error kind, CURLcode rc);
/* Seconds a Retry-After value asks for (delta-seconds or HTTP-date), or -1
 * if it does not parse. */
double retry_after(const char *value);
/* Wait before the try after `tries` tries: full jitter (u uniform in
 * [0, 1)) above a floor of half the base, uniform in
 * [base/2, min(cap, base*2^(tries-1))]. Seconds. */
double retry_backoff(int base_ms, int cap_ms, int tries, double u);

#endif
