/* url.c — resolving references against base URLs (see url.h). */
#include "url.h"

#include <curl/curl.h>
#include <string.h>

/* The URL parser strips leading and trailing C0 controls and spaces and
 * removes every tab and newline before parsing; curl does neither. */
static void url_clean(const char *ref, buf *out) {
  const unsigned char *s = (const unsigned char *)ref;
  const unsigned char *e = s + strlen(ref);
  while (s < e && *s <= 0x20) s++;
  while (e > s && e[-1] <= 0x20) e--;
  for (; s < e; s++)
    if (*s != '\t' && *s != '\n' && *s != '\r') buf_putc(out, (char)*s);
}

int url_resolve(const char *base, const char *ref, buf *out) {
  buf clean = BUF_INIT;
  url_clean(ref, &clean);
  CURLU *u = curl_url();
  int rc = -1;
  if (!u || clean.failed) goto done;
  unsigned flags = CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE;
  if (base && *base && curl_url_set(u, CURLUPART_URL, base, flags) != CURLUE_OK) goto done;
  /* An empty reference means the base without its fragment, and "#x" the
   * base with another one; curl would treat either as a path. */
  if (clean.len == 0 || clean.data[0] == '#') {
    if (!base || !*base) goto done;
    if (curl_url_set(u, CURLUPART_FRAGMENT, clean.len > 1 ? clean.data + 1 : NULL, flags) != CURLUE_OK) goto done;
  } else if (curl_url_set(u, CURLUPART_URL, buf_str(&clean), flags) != CURLUE_OK) {
    goto done;
  }
  /* Browsers lower-case the host and drop a port that is the scheme's default. */
  char *host = NULL;
  if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    for (char *h = host; *h; h++)
      if (*h >= 'A' && *h <= 'Z') *h = (char)(*h + 32);
    curl_url_set(u, CURLUPART_HOST, host, 0);
    curl_free(host);
  }
  char *abs = NULL;
  if (curl_url_get(u, CURLUPART_URL, &abs, CURLU_NO_DEFAULT_PORT) != CURLUE_OK) goto done;
  buf_puts(out, abs);
  curl_free(abs);
  rc = 0;
done:
  curl_url_cleanup(u);
  buf_free(&clean);
  return rc;
}
