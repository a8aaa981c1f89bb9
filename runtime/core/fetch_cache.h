/* fetch_cache.h — the fetch engine's HTTP cache (RFC 9111, as a private
 * cache): final responses kept in a SQLite file (WAL, the body a BLOB),
 * keyed by the request's method and canonical URL and, for a response with
 * Vary, the values of the request headers it names. Entries are read when a
 * request asks for one, never loaded whole, so a cache of any size costs
 * what one entry does; several processes may share a file (SQLite's locks,
 * with a busy timeout). Internal to the fetch engine, which calls it on
 * its loop thread only. */
#ifndef GLEAN_FETCH_CACHE_H
#define GLEAN_FETCH_CACHE_H

#include <curl/curl.h>
#include <stdbool.h>

#include "fetch.h"

/* Heuristic freshness (RFC 9111 4.2.2) for a response with Last-Modified and
 * no explicit lifetime: this fraction of the time since it was modified, at
 * most CACHE_HEURISTIC_MAX seconds. */
#define CACHE_HEURISTIC_FRACTION 0.1
#define CACHE_HEURISTIC_MAX 86400.0

typedef struct fetch_cache fetch_cache;
typedef struct cache_entry cache_entry;  /* what a lookup found, body not read */

/* Opens (creating) the cache file at path; NULL with the reason in err. */
fetch_cache *cache_open(const char *path, char *err, size_t errlen);
void cache_close(fetch_cache *c);

typedef enum { CACHE_MISS, CACHE_FRESH, CACHE_STALE } cache_verdict;

/* The entry stored for the request (method, url: the engine's normalized
 * URL; headers and user_agent: what it sends, for Vary), fresh or stale
 * (any: every entry counts as fresh); the entry in *out unless a miss. A
 * read error is a miss. */
cache_verdict cache_lookup(fetch_cache *c, const char *method, const char *url, const struct curl_slist *headers,
                           const char *user_agent, bool any, cache_entry **out);

/* Whether the request's own Cache-Control has the directive ("no-cache":
 * no stored response without asking the server; "no-store": none kept). */
bool cache_request_has(const struct curl_slist *headers, const char *directive);

/* Adds If-None-Match and If-Modified-Since for the entry's ETag and
 * Last-Modified to *headers; false if it has neither (or out of memory):
 * then a stale entry cannot be revalidated, only fetched again. */
bool cache_add_validators(const cache_entry *e, struct curl_slist **headers);

/* Fills r, which holds no response, from the entry as stored now: final
 * URL, status, headers, body, content type, redirects. -1 with the reason
 * in err if it cannot be read (gone since the lookup, a read error). */
int cache_load(fetch_cache *c, const cache_entry *e, fetch_response *r, char *err, size_t errlen);

/* A 304 answered the entry's revalidation: its headers replace the
 * stored ones of the same names (RFC 9111 4.3.4) and the entry's age
 * starts again (request_time: wall-clock seconds when the request went).
 * -1 with the reason in err if it cannot be written. */
int cache_refresh(fetch_cache *c, const cache_entry *e, const fetch_response *not_modified, double request_time,
                  char *err, size_t errlen);

/* Stores r, a final response with a status, for the request. Responses
 * with Cache-Control: no-store (unless keep_all) or Vary: *, partial ones
 * (206) and 304s are not stored. 1 stored, 0 not storable, -1 with the reason
 * in err if it cannot be written. */
int cache_store(fetch_cache *c, const char *method, const char *url, const struct curl_slist *headers,
                const char *user_agent, const fetch_response *r, double request_time, bool keep_all, char *err,
                size_t errlen);

void cache_entry_free(cache_entry *e);

/* Wall-clock seconds, as the cache's ages count them. */
double cache_now(void);

#endif
