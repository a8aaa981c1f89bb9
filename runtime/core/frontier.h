/* frontier.h — what to crawl next. Owns the crawl's memory of URLs: dedup on
 * the canonical form (canon.h) of everything ever queued or marked seen, the
 * depth limit, the cap on queued URLs, the host filter, and the order of
 * hand-out: one queue per host, served round-robin so one big site cannot
 * starve the others. Politeness itself (per-host concurrency and delay) is
 * the fetch engine's; frontier_next only asks it which hosts may take a
 * request now. */
#ifndef GLEAN_FRONTIER_H
#define GLEAN_FRONTIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canon.h"
#include "mem.h"

typedef struct frontier frontier;

typedef struct frontier_options {
  int max_depth;          /* items deeper are refused; 0: seeds only; < 0: no limit */
  size_t max_queued;      /* at most this many waiting at once; 0: no limit */
  bool allow_subdomains;  /* an allowed host also allows every host under it */
  const canon_options *canon;  /* tracking parameters (NULL: canon's default); must
                                * outlive the frontier */
  const mem_allocator *mem;    /* where its memory comes from (NULL: malloc); copied */
} frontier_options;

typedef enum {
  FRONTIER_ADDED,     /* queued (frontier_mark_seen: newly recorded) */
  FRONTIER_SEEN,      /* its canonical form was queued or marked seen before */
  FRONTIER_TOO_DEEP,  /* depth > max_depth */
  FRONTIER_OFFSITE,   /* host not allowed */
  FRONTIER_FULL,      /* max_queued URLs are already waiting */
  FRONTIER_BAD_URL,   /* not an absolute http(s) URL (canon_url refused it) */
  FRONTIER_NOMEM,     /* out of memory; the frontier is unchanged */
  FRONTIER_STORE_ERROR, /* a crawl state's storage failed (state.h: its err says how) */
} frontier_status;

typedef struct frontier_item {
  const char *url;   /* canonical form; valid until frontier_free */
  const char *host;  /* lower-cased host name, no port; valid until frontier_free */
  unsigned depth;
  intptr_t tag;      /* as given to frontier_add */
} frontier_item;

/* May the fetch engine take a request for host now? It must not change the
 * frontier. */
typedef bool (*frontier_ready_fn)(void *ud, const char *host);

/* opts may be NULL: no depth limit, no cap, every host allowed. NULL when
 * out of memory. */
frontier *frontier_new(const frontier_options *opts);
void frontier_free(frontier *f);

/* Restricts the crawl to the allowed hosts (host names as in URLs, without
 * port; compared case-insensitively). With none allowed, every host is.
 * Returns 0, or -1 when out of memory. */
int frontier_allow_host(frontier *f, const char *host);

/* Queues url, found at depth (seeds are 0), with the caller's tag (e.g. which
 * handler asked for it; the frontier never looks at it). Checks, in order:
 * depth, URL, host, dedup, cap. A refused URL is not remembered, so it can be
 * added later (from a shallower page, or once the queue drains).
 * FRONTIER_FULL means URLs are being dropped: the caller should log it
 * clearly, e.g. "frontier full (max_queued=N), dropping URL; raise
 * max_queued", at least on the first occurrence. */
frontier_status frontier_add(frontier *f, const char *url, unsigned depth, intptr_t tag);

/* Records url as seen without queueing it (a redirect's final URL, a page
 * fetched another way): FRONTIER_ADDED if newly recorded, else
 * FRONTIER_SEEN, FRONTIER_BAD_URL or FRONTIER_NOMEM. */
frontier_status frontier_mark_seen(frontier *f, const char *url);

/* Queues url again although it was seen (a page to fetch anew, a crawl
 * state's queue brought back), with the same checks as frontier_add but
 * dedup: FRONTIER_ADDED, or why not. */
frontier_status frontier_requeue(frontier *f, const char *url, unsigned depth, intptr_t tag);

/* Hands out the next URL: hosts with waiting URLs take turns, one URL per
 * turn, in the order they first had something waiting; a host for which
 * ready returns false loses its turn (ready NULL: every host is ready).
 * Within a host, URLs come out in the order they were added. Returns false
 * when nothing can be handed out now: if frontier_queued is not 0, every
 * waiting host was busy. */
bool frontier_next(frontier *f, frontier_ready_fn ready, void *ud, frontier_item *out);

/* For a crawl state that keeps the seen set and the queue itself (see
 * state_sqlite.c): the checks frontier_add makes before dedup (depth, URL,
 * host), and the one frontier_mark_seen makes (URL). FRONTIER_ADDED when
 * url passes them, its canonical form then frontier_canonical's; else why
 * not. Neither changes the frontier. */
frontier_status frontier_check(frontier *f, const char *url, unsigned depth);
frontier_status frontier_canonicalize(frontier *f, const char *url);

/* The canonical form of the URL the last frontier_add, frontier_requeue,
 * frontier_mark_seen, frontier_check or frontier_canonicalize took (when it
 * returned FRONTIER_ADDED or FRONTIER_SEEN), len bytes; valid until the
 * next of those calls. */
const char *frontier_canonical(const frontier *f, size_t *len);

size_t frontier_queued(const frontier *f);  /* waiting to be handed out */
size_t frontier_seen(const frontier *f);    /* canonical URLs remembered (queued, handed out, marked) */

const char *frontier_status_name(frontier_status s);  /* "added", "seen", "too deep", ... */

#endif
