/* robots.h — robots.txt as RFC 9309 defines it: parsing any bytes, choosing
 * the group for one crawler, answering whether a path may be fetched, plus
 * the records crawlers commonly honour beside the standard (Crawl-delay,
 * Sitemap). One robots value answers for one crawler on one origin. */
#ifndef GLEAN_ROBOTS_H
#define GLEAN_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct robots robots;

/* Only the first ROBOTS_MAX_BYTES are read (RFC 9309 2.5 requires at least
 * 500 KiB); a line cut by the limit is dropped. */
#define ROBOTS_MAX_BYTES ((size_t)500 << 10)

/* Parses a robots.txt body (any bytes: UTF-8 BOM, CR, LF or CRLF line ends,
 * comments, unknown records, garbage lines are all tolerated) for the crawler
 * whose product token starts agent ("GleanBot", or "GleanBot/1.0": the token
 * is the leading run of letters, '_' and '-'). The rules kept are those of
 * every group naming that token (case-insensitive, merged), or when there is
 * none, of every "*" group (merged); with neither, everything is allowed.
 * NULL only when out of memory. */
robots *robots_parse(const char *body, size_t len, const char *agent);

/* The rules for a robots.txt fetch that ended with HTTP status (RFC 9309
 * 2.3.1): 2xx parses body; 3xx (redirects not followed, or more than five
 * of them: follow up to five before calling this) and 4xx mean "unavailable":
 * everything is allowed; 5xx, anything else, and status 0 for "unreachable"
 * (DNS, connect, timeout) mean everything is disallowed. The RFC lets a
 * crawler treat a site unreachable for 30 days as unavailable, and asks that
 * a fetched robots.txt be reused for at most 24 hours: both are the caller's.
 * NULL only when out of memory. */
robots *robots_from_status(long status, const char *body, size_t len, const char *agent);

void robots_free(robots *r);

/* May the crawler fetch path_and_query (the URL's path and "?query", e.g.
 * "/a/b?c=d"; "" means "/")? The longest matching rule decides (length in
 * octets of the rule as written, after percent-encoding normalization); an
 * allow wins a tie; no match allows. Rules may use '*' (any run of octets)
 * and a final '$' (end of the URL); %2A and %24 match a literal '*' and '$'.
 * Escapes are compared normalized (canon_escape), so %7e and ~ match, as do
 * é and %C3%A9. "/robots.txt" is always allowed. False when out of memory. */
bool robots_allowed(const robots *r, const char *path_and_query);

/* Crawl-delay of the chosen group in seconds (fractions allowed; the largest
 * if the chosen groups give several), or -1 when none is given. */
double robots_crawl_delay(const robots *r);

/* The Sitemap: records of the whole file, in order, as written (they should
 * be absolute URLs; resolve them against the robots.txt URL to be sure). */
size_t robots_sitemap_count(const robots *r);

/* Bytes the rules hold (at most a few times ROBOTS_MAX_BYTES). */
size_t robots_size(const robots *r);
const char *robots_sitemap(const robots *r, size_t i);

#endif
