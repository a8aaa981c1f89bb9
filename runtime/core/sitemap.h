/* sitemap.h — the URLs of a sitemap or sitemap index (sitemaps.org protocol)
 * read by a small XML scanner: no XML library, no DTDs, no validation. It
 * understands what real sitemaps contain: a declaration, comments, namespace
 * prefixes, CDATA sections, the predefined and numeric character references,
 * and white space around URLs. */
#ifndef GLEAN_SITEMAP_H
#define GLEAN_SITEMAP_H

#include <stddef.h>

typedef struct sitemap sitemap;

typedef enum {
  SITEMAP_UNKNOWN,  /* the root element is neither: no URLs (an error page, a feed, gzip bytes) */
  SITEMAP_URLSET,   /* <urlset>: the <loc>s are pages */
  SITEMAP_INDEX,    /* <sitemapindex>: the <loc>s are more sitemaps */
} sitemap_kind;

/* Scans body (UTF-8 XML, already decompressed: a .xml.gz file must be
 * gunzipped first) for <url><loc> or <sitemap><loc> under the root element,
 * by local name, so any namespace prefix is accepted; <loc>s of extensions
 * nested deeper (image:loc inside image:image) are not taken. Each URL is
 * returned as written, entities decoded and surrounding white space
 * trimmed, empty ones skipped. A document cut short keeps the URLs before
 * the cut. NULL only when out of memory. */
sitemap *sitemap_parse(const char *body, size_t len);
void sitemap_free(sitemap *sm);

sitemap_kind sitemap_type(const sitemap *sm);
size_t sitemap_count(const sitemap *sm);
const char *sitemap_loc(const sitemap *sm, size_t i);  /* NULL past the end */

#endif
