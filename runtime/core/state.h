/* state.h — the crawl's state behind one interface: what the crawl loop
 * needs of its frontier (queue, seen set, hand-out order), which pages are
 * done and how they ended, and a small key/value store for the rest (the
 * stats, robots.txt rules fetched, each sink's committed position), made
 * durable together by commit. Two backends: in memory (state_mem, the
 * frontier alone: nothing outlives the process) and SQLite (state_sqlite:
 * a crawl resumes from its last commit; the seen set and the queue on disk,
 * in memory that does not grow with them); and Redis (state_redis: one
 * crawl shared by many processes, each page handed out leased until done
 * is committed).
 *
 * Between commits, changes are provisional: a crash takes the state back to
 * the last commit, where the pages handed out but not marked done are
 * queued again. */
#ifndef GLEAN_STATE_H
#define GLEAN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frontier.h"

/* What became of a URL, as stored (values are the file format's). */
typedef enum {
  STATE_QUEUED = 0,   /* waiting, or handed out and not done */
  STATE_DONE = 1,     /* handled */
  STATE_FAILED = 2,   /* handled, and it failed (fetch, HTTP status, handler) */
  STATE_SKIPPED = 3,  /* not fetched: robots.txt, no rule, a redirect to a page seen */
  STATE_SEEN = 4,     /* recorded without being queued (a redirect's target) */
  STATE_MARKS
} state_mark;

typedef struct crawl_state crawl_state;

typedef struct crawl_state_ops {
  int (*allow_host)(crawl_state *s, const char *host);  /* frontier_allow_host */
  /* frontier_add; FRONTIER_STORE_ERROR when storing failed */
  frontier_status (*add)(crawl_state *s, const char *url, unsigned depth, intptr_t tag);
  /* frontier_mark_seen, with the URL handed out that led there (NULL:
   * none): a target that URL recorded before a crash is new again to it,
   * so a redone redirect is not taken for a page handled elsewhere. */
  frontier_status (*mark_seen)(crawl_state *s, const char *url, const char *via);
  /* frontier_next; the item's strings are valid until the next call of
   * next (in memory, until free). False too when storing failed: err then
   * set, which the caller empties before the call to tell. */
  bool (*next)(crawl_state *s, frontier_ready_fn ready, void *ud, frontier_item *out);
  /* url (as handed out) is done, as mark says. 0, or -1 (err). */
  int (*done)(crawl_state *s, const char *url, state_mark mark);
  /* Queues again the pages with this tag done (or failed) at least
   * max_age seconds ago; returns how many, or -1 (err). */
  long (*refresh)(crawl_state *s, intptr_t tag, double max_age);
  size_t (*queued)(crawl_state *s);
  size_t (*seen)(crawl_state *s);
  /* The value under key into out (replacing its contents): 1, 0 when there
   * is none, -1 (err). */
  int (*get)(crawl_state *s, const char *key, buf *out);
  int (*put)(crawl_state *s, const char *key, const void *val, size_t len);  /* 0 or -1 */
  /* Makes everything since the last commit durable at once. 0 or -1. */
  int (*commit)(crawl_state *s);
  void (*free)(crawl_state *s);
} crawl_state_ops;

struct crawl_state {
  const crawl_state_ops *ops;
  char err[512];  /* why the last call that failed did */
};

/* In memory: the frontier with opts (see frontier_new), nothing kept
 * after the process; get finds nothing, commit does nothing. NULL when out
 * of memory. */
crawl_state *state_mem_new(const frontier_options *opts);

typedef struct state_sqlite_options {
  const char *adapter;  /* whose crawl; a file of another's is refused. NULL: any */
  bool readonly;        /* to inspect it (state_sqlite_hosts), not to crawl */
} state_sqlite_options;

/* Opens (or creates) the state file at path. Refuses, NULL with a message
 * in err, a file that is not a glean state or is damaged, one of a newer
 * format, one of another adapter, one another crawl has open. */
crawl_state *state_sqlite_open(const char *path, const frontier_options *fopts,
                               const state_sqlite_options *opts, char *err, size_t errlen);

/* For each host, how many of its URLs are in each mark (counts indexed by
 * state_mark), and how many of the queued are handed out under a lease
 * (Redis; a file keeps none). 0, or -1 (err). */
typedef void (*state_host_fn)(void *ud, const char *host, const long long counts[STATE_MARKS], long long leased);
int state_sqlite_hosts(crawl_state *s, state_host_fn fn, void *ud);

/* Opens the crawl at redis://[[USER]:PASS@]HOST[:PORT]/NAME[?lease=S&wait=S]
 * (the password else from REDISCLI_AUTH; lease: seconds a page handed out
 * stays leased unrenewed, default 60; wait: seconds of retries once Redis
 * is lost, default 60), for adapter (a crawl of another is refused; NULL:
 * any, to inspect it). NULL with why in err: a bad URL, rediss://, Redis
 * unreachable (no retries at the start). */
crawl_state *state_redis_open(const char *url, const frontier_options *fopts, const char *adapter, char *err,
                              size_t errlen);
int state_redis_hosts(crawl_state *s, state_host_fn fn, void *ud);

/* Each worker of a Redis crawl (its name, "HOST:PID"), the seconds since
 * its last commit, and its stats (JSON, NULL before its first commit):
 * a shared state keeps the key "stats" per worker. 0, or -1 (err). */
typedef void (*state_worker_fn)(void *ud, const char *worker, long long age, const char *stats);
int state_redis_workers(crawl_state *s, state_worker_fn fn, void *ud);

#endif
