/* url.h — URL resolution on libcurl's URL API (curl_url), as a browser
 * resolves an href: surrounding white space stripped, tabs and newlines
 * removed, then parsed against the base. */
#ifndef GLEAN_URL_H
#define GLEAN_URL_H

#include "buf.h"

/* Appends the absolute URL of ref against base to out. Returns 0, or -1
 * when ref cannot be resolved (no base and not absolute, unparsable). */
int url_resolve(const char *base, const char *ref, buf *out);

#endif
