/* state_mem.c — the in-memory crawl state (see state.h): the frontier, and
 * nothing that outlives the process. */
#include <stdlib.h>

#include "state.h"

typedef struct {
  crawl_state base;
  frontier *f;
} state_mem;

#define STATE_MEM(s) (((state_mem *)(s))->f)

static int state_mem_allow_host(crawl_state *s, const char *host) {
  return frontier_allow_host(STATE_MEM(s), host);
}

static frontier_status state_mem_add(crawl_state *s, const char *url, unsigned depth, intptr_t tag) {
  return frontier_add(STATE_MEM(s), url, depth, tag);
}

static frontier_status state_mem_mark_seen(crawl_state *s, const char *url, const char *via) {
  (void)via;  /* a process that did not crash redoes nothing */
  return frontier_mark_seen(STATE_MEM(s), url);
}

static bool state_mem_next(crawl_state *s, frontier_ready_fn ready, void *ud, frontier_item *out) {
  return frontier_next(STATE_MEM(s), ready, ud, out);
}

static int state_mem_done(crawl_state *s, const char *url, state_mark mark) {
  (void)s; (void)url; (void)mark;
  return 0;
}

static long state_mem_refresh(crawl_state *s, intptr_t tag, double max_age) {
  (void)s; (void)tag; (void)max_age;
  return 0;  /* nothing was done before this process */
}

static size_t state_mem_queued(crawl_state *s) { return frontier_queued(STATE_MEM(s)); }

static size_t state_mem_seen(crawl_state *s) { return frontier_seen(STATE_MEM(s)); }

static int state_mem_get(crawl_state *s, const char *key, buf *out) {
  (void)s; (void)key; (void)out;
  return 0;
}

static int state_mem_put(crawl_state *s, const char *key, const void *val, size_t len) {
  (void)s; (void)key; (void)val; (void)len;
  return 0;
}

static int state_mem_commit(crawl_state *s) {
  (void)s;
  return 0;
}

static void state_mem_free(crawl_state *s) {
  if (!s) return;
  frontier_free(STATE_MEM(s));
  free(s);
}

static const crawl_state_ops state_mem_ops = {
  state_mem_allow_host, state_mem_add, state_mem_mark_seen, state_mem_next, state_mem_done,
  state_mem_refresh, state_mem_queued, state_mem_seen, state_mem_get, state_mem_put,
  state_mem_commit, state_mem_free,
};

crawl_state *state_mem_new(const frontier_options *opts) {
  state_mem *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  if (!(m->f = frontier_new(opts))) {
    free(m);
    return NULL;
  }
  m->base.ops = &state_mem_ops;
  return &m->base;
}
