/* fetch_cookies.c — the bound on the engine's cookie jar. The jar is
 * libcurl's (shared by the engine's transfers), which caps the cookies of
 * one response and of one request but not what it stores: a server naming
 * new cookies in every response would grow it without end. libcurl parses
 * Set-Cookie before glean sees it and cannot drop a single cookie, so the
 * engine calls cookies_bound now and then (see fetch.c); when the jar is
 * over, it is emptied and what is kept is put back. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fetch_cookies.h"

typedef struct {
  const char *line;    /* Netscape cookie-file format: domain first */
  const char *domain;  /* into line, without "#HttpOnly_" and a leading dot */
  size_t domain_len;
  size_t order;        /* in libcurl's list */
  size_t rank;         /* among its domain's, the newest 0 */
} cookie_entry;

static bool same_domain(const cookie_entry *a, const cookie_entry *b) {
  return a->domain_len == b->domain_len && memcmp(a->domain, b->domain, a->domain_len) == 0;
}

/* By domain, then newest first. */
static int cookie_entry_cmp(const void *pa, const void *pb) {
  const cookie_entry *a = pa, *b = pb;
  size_t n = a->domain_len < b->domain_len ? a->domain_len : b->domain_len;
  int c = memcmp(a->domain, b->domain, n);
  if (c) return c;
  if (a->domain_len != b->domain_len) return a->domain_len < b->domain_len ? -1 : 1;
  return a->order > b->order ? -1 : a->order < b->order;
}

/* Newest of their domains first, then in libcurl's order. */
static int cookie_rank_cmp(const void *pa, const void *pb) {
  const cookie_entry *a = pa, *b = pb;
  if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

size_t cookies_bound(CURL *h) {
  struct curl_slist *list = NULL;
  if (curl_easy_getinfo(h, CURLINFO_COOKIELIST, &list) != CURLE_OK || !list) return 0;
  size_t n = 0;
  for (struct curl_slist *l = list; l; l = l->next) n++;
  cookie_entry *e = n > COOKIES_PER_DOMAIN ? malloc(n * sizeof *e) : NULL;
  if (!e) {
    curl_slist_free_all(list);
    return 0;
  }
  size_t i = 0;
  for (struct curl_slist *l = list; l; l = l->next, i++) {
    const char *d = l->data;
    if (strncmp(d, "#HttpOnly_", 10) == 0) d += 10;
    if (*d == '.') d++;
    const char *tab = strchr(d, '\t');
    e[i] = (cookie_entry){l->data, d, tab ? (size_t)(tab - d) : strlen(d), i, 0};
  }
  /* libcurl lists a domain's cookies oldest first (a new one goes at the
   * tail of its domain's chain; a replaced one keeps its place, as RFC 6265
   * keeps its creation time): the last of each domain are kept. */
  qsort(e, n, sizeof *e, cookie_entry_cmp);
  size_t kept = 0;
  for (size_t j = 0, rank = 0; j < n; j++) {
    rank = j > 0 && same_domain(&e[j - 1], &e[j]) ? rank + 1 : 0;
    e[j].rank = rank;
    if (rank < COOKIES_PER_DOMAIN) e[kept++] = e[j];  /* kept <= j: e[j - 1] is still itself */
  }
  /* Over the total, each domain's oldest go first. */
  if (kept > COOKIES_TOTAL) {
    qsort(e, kept, sizeof *e, cookie_rank_cmp);
    kept = COOKIES_TOTAL;
  }
  size_t dropped = n - kept;
  if (dropped) {
    curl_easy_setopt(h, CURLOPT_COOKIELIST, "ALL");
    /* Oldest first, so that each goes back to the tail of its chain in
     * the order it had. */
    for (size_t j = kept; j-- > 0;) curl_easy_setopt(h, CURLOPT_COOKIELIST, e[j].line);
  }
  free(e);
  curl_slist_free_all(list);
  return dropped;
}
