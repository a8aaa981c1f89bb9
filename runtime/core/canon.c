/* canon.c — canonical URLs for dedup (see canon.h). libcurl splits the URL
 * and resolves literal dot segments; everything after that (case, ports,
 * escapes, the second dot pass, the query filter) is done here on the raw
 * parts, because curl keeps escapes exactly as written. */
#include "canon.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *const canon_default_tracking[] = {
  "utm_*", "gclid", "fbclid", "mc_cid", "mc_eid", "igshid", "msclkid", "_ga", "yclid", "ref_src", NULL,
};

static int canon_hex(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static bool canon_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

static bool canon_literal(unsigned char c, canon_part part) {
  if (canon_unreserved(c) || (c && strchr("!$&'()*+,;=:", c))) return true;
  if (part == CANON_USERINFO) return false;
  return c == '@' || c == '/' || (part == CANON_QUERY && c == '?');
}

void canon_escape(const char *s, size_t len, canon_part part, buf *out) {
  static const char digits[] = "0123456789ABCDEF";
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = p[i];
    if (c == '%' && i + 2 < len && canon_hex(p[i + 1]) >= 0 && canon_hex(p[i + 2]) >= 0) {
      c = (unsigned char)(canon_hex(p[i + 1]) * 16 + canon_hex(p[i + 2]));
      i += 2;
      if (canon_unreserved(c)) { buf_putc(out, (char)c); continue; }
    } else if (canon_literal(c, part)) {
      buf_putc(out, (char)c);
      continue;
    }
    char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
    buf_append(out, esc, 3);
  }
}

/* RFC 3986 5.2.4 on an escape-normalized path, appended to out; ".." never
 * climbs above the root. curl reports every http(s) path with its leading
 * '/', so each segment here starts at a '/'. */
static void canon_dots(const char *in, size_t n, buf *out) {
  size_t root = out->len;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && in[j] != '/') j++;
    const char *seg = in + i + 1;
    size_t seglen = j - i - 1;
    bool last = j == n;
    if (seglen == 1 && seg[0] == '.') {
      if (last) buf_putc(out, '/');
    } else if (seglen == 2 && seg[0] == '.' && seg[1] == '.') {
      size_t k = out->len;
      while (k > root && out->data[k - 1] != '/') k--;
      if (k > root) k--;  /* drop the segment and the '/' before it */
      out->len = k;
      if (out->data) out->data[k] = '\0';
      if (last) buf_putc(out, '/');
    } else {
      buf_append(out, in + i, j - i);
    }
    i = j;
  }
  if (out->len == root) buf_putc(out, '/');
}

static bool canon_tracked(const char *name, size_t len, const char *const *list) {
  for (; *list; list++) {
    size_t n = strlen(*list);
    if (n && (*list)[n - 1] == '*') {
      if (len >= n - 1 && memcmp(name, *list, n - 1) == 0) return true;
    } else if (len == n && memcmp(name, *list, n) == 0) {
      return true;
    }
  }
  return false;
}

/* Appends "?" and the kept parameters of an escape-normalized query, or
 * nothing when none is kept. */
static void canon_query(const char *q, size_t n, const char *const *tracking, buf *out) {
  bool first = true;
  for (size_t i = 0; i <= n;) {
    size_t j = i;
    while (j < n && q[j] != '&') j++;
    size_t name = i;
    while (name < j && q[name] != '=') name++;
    if (j > i && !canon_tracked(q + i, name - i, tracking)) {
      buf_putc(out, first ? '?' : '&');
      buf_append(out, q + i, j - i);
      first = false;
    }
    i = j + 1;
  }
}

static void canon_fail(char *err, size_t errlen, const char *what, const char *detail) {
  if (err && errlen) snprintf(err, errlen, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

enum {
  CANON_PART_SCHEME, CANON_PART_USER, CANON_PART_PASSWORD, CANON_PART_HOST,
  CANON_PART_PORT, CANON_PART_PATH, CANON_PART_QUERY, CANON_PART_COUNT
};

int canon_url(const char *url, const canon_options *opts, buf *out, char *err, size_t errlen) {
  static const CURLUPart which[CANON_PART_COUNT] = {
    CURLUPART_SCHEME, CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_HOST,
    CURLUPART_PORT, CURLUPART_PATH, CURLUPART_QUERY,
  };
  char *part[CANON_PART_COUNT] = {NULL};
  const char *const *tracking = opts && opts->tracking ? opts->tracking : canon_default_tracking;
  size_t start = out->len;
  buf tmp = BUF_INIT;
  int rc = -1;
  CURLU *u = curl_url();
  if (!u) { canon_fail(err, errlen, "out of memory", NULL); goto done; }
  /* Spaces are accepted here and escaped below like any other byte. */
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME | CURLU_ALLOW_SPACE);
  if (uc != CURLUE_OK) { canon_fail(err, errlen, "not an absolute URL", curl_url_strerror(uc)); goto done; }
  for (int i = 0; i < CANON_PART_COUNT; i++) curl_url_get(u, which[i], &part[i], 0);
  const char *scheme = part[CANON_PART_SCHEME];
  const char *dflt = NULL;  /* the scheme's default port */
  if (scheme && strcmp(scheme, "https") == 0) dflt = "443";
  else if (scheme && strcmp(scheme, "http") == 0) dflt = "80";
  if (!dflt) { canon_fail(err, errlen, "not an http or https URL", scheme); goto done; }
  if (!part[CANON_PART_HOST] || !part[CANON_PART_PATH]) {
    canon_fail(err, errlen, "out of memory", NULL);
    goto done;
  }

  buf_puts(out, scheme);
  buf_puts(out, "://");
  if (part[CANON_PART_USER]) {
    canon_escape(part[CANON_PART_USER], strlen(part[CANON_PART_USER]), CANON_USERINFO, out);
    if (part[CANON_PART_PASSWORD]) {
      buf_putc(out, ':');
      canon_escape(part[CANON_PART_PASSWORD], strlen(part[CANON_PART_PASSWORD]), CANON_USERINFO, out);
    }
    buf_putc(out, '@');
  }
  for (const char *h = part[CANON_PART_HOST]; *h; h++)
    buf_putc(out, *h >= 'A' && *h <= 'Z' ? (char)(*h + 32) : *h);
  if (part[CANON_PART_PORT] && strcmp(part[CANON_PART_PORT], dflt) != 0) {
    buf_putc(out, ':');
    buf_puts(out, part[CANON_PART_PORT]);
  }
  /* curl always reports at least "/" for http(s), but only resolves dot
   * segments spelled literally: once escapes are normalized, resolve again. */
  canon_escape(part[CANON_PART_PATH], strlen(part[CANON_PART_PATH]), CANON_PATH, &tmp);
  canon_dots(buf_str(&tmp), tmp.len, out);
  if (part[CANON_PART_QUERY]) {
    buf_reset(&tmp);
    canon_escape(part[CANON_PART_QUERY], strlen(part[CANON_PART_QUERY]), CANON_QUERY, &tmp);
    canon_query(buf_str(&tmp), tmp.len, tracking, out);
  }
  if (out->failed || tmp.failed) { canon_fail(err, errlen, "out of memory", NULL); goto done; }
  rc = 0;
done:
  if (rc != 0 && out->len > start) {
    out->len = start;
    out->data[start] = '\0';
  }
  for (int i = 0; i < CANON_PART_COUNT; i++) curl_free(part[i]);
  curl_url_cleanup(u);
  buf_free(&tmp);
  return rc;
}

const char *canon_host(const char *url, size_t *len) {
  const char *p = strstr(url, "://");
  if (!p) return NULL;
  p += 3;
  const char *end = p + strcspn(p, "/?#");
  for (const char *q = end; q > p; q--)
    if (q[-1] == '@') { p = q; break; }
  const char *stop;
  if (*p == '[') {
    stop = memchr(p, ']', (size_t)(end - p));
    stop = stop ? stop + 1 : end;
  } else {
    stop = memchr(p, ':', (size_t)(end - p));
    if (!stop) stop = end;
  }
  *len = (size_t)(stop - p);
  return p;
}
