/* canon.h — the canonical form of an http(s) URL, so that two spellings of
 * the same page dedup to one string: parsed with libcurl's URL API, then
 * normalized as RFC 3986 section 6 allows (case, default port, percent-
 * encoding, dot segments), minus the fragment and minus tracking query
 * parameters. The canonical URL is also a good URL to fetch. */
#ifndef GLEAN_CANON_H
#define GLEAN_CANON_H

#include <stddef.h>

#include "buf.h"

typedef struct canon_options {
  /* Query parameter names to remove, NULL-terminated; a trailing '*' makes
   * the entry a prefix ("utm_*"). Names are compared case-sensitively after
   * percent-encoding normalization. NULL: canon_default_tracking. An empty
   * list ({NULL}) removes nothing. */
  const char *const *tracking;
} canon_options;

/* utm_*, gclid, fbclid, mc_cid, mc_eid, igshid, msclkid, _ga, yclid, ref_src. */
extern const char *const canon_default_tracking[];

/* Appends the canonical form of the absolute http or https URL url to out:
 * scheme and host lower-cased (non-ASCII host bytes left as libcurl gives
 * them), default port dropped, fragment dropped, empty path made "/",
 * percent-encoding normalized (hex digits upper-cased, escapes of unreserved
 * characters decoded, bytes RFC 3986 does not allow literally escaped), dot
 * segments removed (after decoding, so %2E%2E counts), tracking parameters
 * and empty parameters removed with the rest kept in order, and an empty
 * query dropped. opts may be NULL. Returns 0, or -1 with out unchanged and
 * the reason in err (when err is not NULL): not absolute, unparsable, not
 * http(s), or out of memory. */
int canon_url(const char *url, const canon_options *opts, buf *out, char *err, size_t errlen);

/* Which characters a component may hold literally (RFC 3986 section 3). */
typedef enum { CANON_USERINFO, CANON_PATH, CANON_QUERY } canon_part;

/* Appends s[0..len) to out with its percent-encoding normalized for part:
 * escapes of unreserved characters decoded, other escapes with upper-case
 * hex, and every byte the part may not hold literally (controls, space,
 * non-ASCII, a '%' that starts no escape, ...) escaped. */
void canon_escape(const char *s, size_t len, canon_part part, buf *out);

/* The host of a URL in canonical form (a pointer into it; brackets kept on
 * IPv6 literals), its length in *len. NULL when url has no "://". */
const char *canon_host(const char *url, size_t *len);

#endif
