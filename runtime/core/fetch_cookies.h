/* fetch_cookies.h — keeps the engine's cookie jar bounded. Internal to the
 * fetch engine. */
#ifndef GLEAN_FETCH_COOKIES_H
#define GLEAN_FETCH_COOKIES_H

#include <curl/curl.h>

/* RFC 6265 section 6.1 asks a user agent to keep at least this many; like
 * browsers, glean keeps no more. */
#define COOKIES_PER_DOMAIN 50
#define COOKIES_TOTAL 3000

/* Brings the jar that h shares back within COOKIES_PER_DOMAIN cookies per
 * domain and COOKIES_TOTAL in all, dropping the oldest. Returns how many it
 * dropped (0 when the jar was within bounds or could not be read). */
size_t cookies_bound(CURL *h);

#endif
