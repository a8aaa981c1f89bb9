/* frontier.c — the crawl frontier (see frontier.h). Memory is flat: every
 * string (canonical URLs, host names) is copied once into a chunked pool and
 * never freed before the frontier, hash sets are open-addressed arrays of
 * {pointer, hash, value}, and queued items live in one array, chained into
 * per-host FIFOs by index, with handed-out slots reused through a free list.
 * Hosts with waiting items form a circular list that frontier_next walks. */
#include "frontier.h"

#include <string.h>

#include "buf.h"

#define FRONTIER_NONE UINT32_MAX
#define FRONTIER_CHUNK_MIN 4096
#define FRONTIER_CHUNK_MAX ((size_t)1 << 20)

typedef struct frontier_chunk {
  struct frontier_chunk *next;
  size_t used, cap;
  char data[];
} frontier_chunk;

typedef struct frontier_slot {
  const char *s;  /* NULL: empty */
  uint32_t hash;
  uint32_t val;   /* the host index in the host map; unused elsewhere */
} frontier_slot;

typedef struct frontier_set {
  frontier_slot *slots;
  size_t cap, count;  /* cap is 0 or a power of two */
} frontier_set;

typedef struct frontier_entry {
  const char *url;
  intptr_t tag;
  unsigned depth;
  uint32_t next;  /* next in its host's queue, or in the free list */
} frontier_entry;

typedef struct frontier_host {
  const char *name;
  uint32_t head, tail;            /* its queue; head NONE when empty */
  uint32_t ring_next, ring_prev;  /* in the ring while its queue is not empty */
} frontier_host;

struct frontier {
  frontier_options opts;
  mem_allocator mem;  /* opts.mem's, or malloc */
  frontier_set seen, host_map, allowed;
  frontier_chunk *pool;
  frontier_entry *entries;
  size_t n_entries, cap_entries;
  uint32_t free_entries;
  frontier_host *hosts;
  size_t n_hosts, cap_hosts;
  uint32_t ring;  /* the host whose turn is next; NONE when nothing waits */
  size_t queued;
  buf scratch;    /* canonical form of the URL being added */
};

/* ---- string pool ---------------------------------------------------------- */

static const char *frontier_strdup(frontier *f, const char *s, size_t n) {
  frontier_chunk *c = f->pool;
  if (!c || c->cap - c->used < n + 1) {
    /* Chunks grow with the pool, so a small crawl stays small and a big one
     * makes few allocations. */
    size_t cap = c ? c->cap * 2 : FRONTIER_CHUNK_MIN;
    if (cap > FRONTIER_CHUNK_MAX) cap = FRONTIER_CHUNK_MAX;
    if (cap < n + 1) cap = n + 1;
    c = mem_alloc(&f->mem, sizeof *c + cap);
    if (!c) return NULL;
    c->next = f->pool;
    c->used = 0;
    c->cap = cap;
    f->pool = c;
  }
  char *p = c->data + c->used;
  memcpy(p, s, n);
  p[n] = '\0';
  c->used += n + 1;
  return p;
}

/* ---- hash sets of strings ------------------------------------------------- */

static uint32_t frontier_hash(const char *s, size_t n) {
  uint64_t h = 14695981039346656037u;  /* FNV-1a, then a 64-bit finalizer so low bits mix */
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211u;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdu;
  h ^= h >> 33;
  return (uint32_t)h;
}

/* The slot holding s[0..n), or the empty slot where it would go. */
static frontier_slot *frontier_find(const frontier_set *t, const char *s, size_t n, uint32_t h) {
  size_t mask = t->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    frontier_slot *sl = &t->slots[i];
    if (!sl->s || (sl->hash == h && strncmp(sl->s, s, n) == 0 && sl->s[n] == '\0')) return sl;
  }
}

static bool frontier_contains(const frontier_set *t, const char *s, size_t n) {
  return t->count && frontier_find(t, s, n, frontier_hash(s, n))->s;
}

/* Makes room for one more string, keeping the load at most 3/4. */
static bool frontier_reserve(const mem_allocator *mem, frontier_set *t) {
  if ((t->count + 1) * 4 <= t->cap * 3) return true;
  size_t cap = t->cap ? t->cap * 2 : 64;
  frontier_slot *slots = mem_calloc(mem, cap, sizeof *slots);
  if (!slots) return false;
  frontier_set grown = {slots, cap, t->count};
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].s) {
      frontier_slot *sl = t->slots + i;
      *frontier_find(&grown, sl->s, strlen(sl->s), sl->hash) = *sl;
    }
  mem_free(mem, t->slots, t->cap * sizeof *t->slots);
  *t = grown;
  return true;
}

/* Finds s in t, or the slot to put it in, after making room; NULL when out
 * of memory. The caller fills an empty slot and counts it. */
static frontier_slot *frontier_lookup(frontier *f, frontier_set *t, const char *s, size_t n) {
  if (!frontier_reserve(&f->mem, t)) return NULL;
  uint32_t h = frontier_hash(s, n);
  frontier_slot *sl = frontier_find(t, s, n, h);
  if (!sl->s) sl->hash = h;
  return sl;
}

/* ---- the frontier --------------------------------------------------------- */

frontier *frontier_new(const frontier_options *opts) {
  frontier *f = mem_calloc(opts ? opts->mem : NULL, 1, sizeof *f);
  if (!f) return NULL;
  if (opts) f->opts = *opts;
  else f->opts.max_depth = -1;
  if (f->opts.mem) f->mem = *f->opts.mem;
  f->scratch = (buf)BUF_WITH(&f->mem);
  f->free_entries = FRONTIER_NONE;
  f->ring = FRONTIER_NONE;
  return f;
}

void frontier_free(frontier *f) {
  if (!f) return;
  const mem_allocator *mem = &f->mem;
  for (frontier_chunk *c = f->pool, *next; c; c = next) {
    next = c->next;
    mem_free(mem, c, sizeof *c + c->cap);
  }
  mem_free(mem, f->seen.slots, f->seen.cap * sizeof *f->seen.slots);
  mem_free(mem, f->host_map.slots, f->host_map.cap * sizeof *f->host_map.slots);
  mem_free(mem, f->allowed.slots, f->allowed.cap * sizeof *f->allowed.slots);
  mem_free(mem, f->entries, f->cap_entries * sizeof *f->entries);
  mem_free(mem, f->hosts, f->cap_hosts * sizeof *f->hosts);
  buf_free(&f->scratch);
  mem_allocator m = f->mem;
  mem_free(&m, f, sizeof *f);
}

int frontier_allow_host(frontier *f, const char *host) {
  size_t n = strlen(host);
  char *lower = mem_alloc(&f->mem, n + 1);
  if (!lower) return -1;
  for (size_t i = 0; i <= n; i++) lower[i] = host[i] >= 'A' && host[i] <= 'Z' ? (char)(host[i] + 32) : host[i];
  int rc = -1;
  frontier_slot *sl = frontier_lookup(f, &f->allowed, lower, n);
  if (sl && !sl->s) {
    sl->s = frontier_strdup(f, lower, n);
    if (sl->s) f->allowed.count++;
  }
  if (sl && sl->s) rc = 0;
  mem_free(&f->mem, lower, n + 1);
  return rc;
}

static bool frontier_host_allowed(const frontier *f, const char *host, size_t n) {
  if (!f->allowed.count) return true;
  for (;;) {
    if (frontier_contains(&f->allowed, host, n)) return true;
    const char *dot = f->opts.allow_subdomains ? memchr(host, '.', n) : NULL;
    if (!dot) return false;
    n -= (size_t)(dot + 1 - host);
    host = dot + 1;
  }
}

frontier_status frontier_canonicalize(frontier *f, const char *url) {
  buf_reset(&f->scratch);
  if (canon_url(url, f->opts.canon, &f->scratch, NULL, 0) == 0) return FRONTIER_ADDED;
  if (!f->scratch.failed) return FRONTIER_BAD_URL;
  buf_free(&f->scratch);  /* clears the sticky failure for the next call */
  return FRONTIER_NOMEM;
}

/* arr with room for need elements (the same pointer when it has room), or
 * NULL when out of memory, arr then untouched. */
static void *frontier_grow(frontier *f, void *arr, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return arr;
  size_t n = *cap ? *cap * 2 : 64;
  if (n >= FRONTIER_NONE) return NULL;  /* indexes are 32-bit */
  void *p = mem_realloc(&f->mem, arr, *cap * size, n * size);
  if (p) *cap = n;
  return p;
}

/* A new host joins the ring just before the one whose turn is next, so it
 * waits for the current round to finish. */
static void frontier_ring_insert(frontier *f, uint32_t h) {
  frontier_host *ho = &f->hosts[h];
  if (f->ring == FRONTIER_NONE) {
    ho->ring_next = ho->ring_prev = h;
    f->ring = h;
    return;
  }
  frontier_host *next = &f->hosts[f->ring];
  ho->ring_next = f->ring;
  ho->ring_prev = next->ring_prev;
  f->hosts[next->ring_prev].ring_next = h;
  next->ring_prev = h;
}

/* The turn has already moved past h. */
static void frontier_ring_remove(frontier *f, uint32_t h) {
  frontier_host *ho = &f->hosts[h];
  if (ho->ring_next == h) {
    f->ring = FRONTIER_NONE;
    return;
  }
  f->hosts[ho->ring_prev].ring_next = ho->ring_next;
  f->hosts[ho->ring_next].ring_prev = ho->ring_prev;
}

frontier_status frontier_check(frontier *f, const char *url, unsigned depth) {
  if (f->opts.max_depth >= 0 && depth > (unsigned)f->opts.max_depth) return FRONTIER_TOO_DEEP;
  frontier_status st = frontier_canonicalize(f, url);
  if (st != FRONTIER_ADDED) return st;
  size_t hlen = 0;
  const char *host = canon_host(f->scratch.data, &hlen);
  return frontier_host_allowed(f, host, hlen) ? FRONTIER_ADDED : FRONTIER_OFFSITE;
}

/* frontier_add, or with again frontier_requeue: a seen URL is queued anew,
 * under the copy the seen set holds. */
static frontier_status frontier_queue(frontier *f, const char *url, unsigned depth, intptr_t tag, bool again) {
  frontier_status st = frontier_check(f, url, depth);
  if (st != FRONTIER_ADDED) return st;
  const char *canon = f->scratch.data;
  size_t hlen = 0;
  const char *host = canon_host(canon, &hlen);

  /* Everything that can fail is done before the frontier changes. */
  frontier_slot *seen = frontier_lookup(f, &f->seen, canon, f->scratch.len);
  if (!seen) return FRONTIER_NOMEM;
  if (seen->s && !again) return FRONTIER_SEEN;
  if (f->opts.max_queued && f->queued >= f->opts.max_queued) return FRONTIER_FULL;
  frontier_slot *hs = frontier_lookup(f, &f->host_map, host, hlen);
  if (!hs) return FRONTIER_NOMEM;
  const char *host_name = hs->s;
  if (!host_name) {
    frontier_host *hosts = frontier_grow(f, f->hosts, &f->cap_hosts, f->n_hosts + 1, sizeof *hosts);
    if (!hosts) return FRONTIER_NOMEM;
    f->hosts = hosts;
    if (!(host_name = frontier_strdup(f, host, hlen))) return FRONTIER_NOMEM;
  }
  if (f->free_entries == FRONTIER_NONE) {
    frontier_entry *entries = frontier_grow(f, f->entries, &f->cap_entries, f->n_entries + 1, sizeof *entries);
    if (!entries) return FRONTIER_NOMEM;
    f->entries = entries;
  }
  const char *copy = seen->s ? seen->s : frontier_strdup(f, canon, f->scratch.len);
  if (!copy) return FRONTIER_NOMEM;

  if (!seen->s) {
    seen->s = copy;
    f->seen.count++;
  }
  if (!hs->s) {
    hs->s = host_name;
    hs->val = (uint32_t)f->n_hosts;
    f->host_map.count++;
    f->hosts[f->n_hosts++] = (frontier_host){host_name, FRONTIER_NONE, FRONTIER_NONE, 0, 0};
  }
  uint32_t e = f->free_entries;
  if (e != FRONTIER_NONE) f->free_entries = f->entries[e].next;
  else e = (uint32_t)f->n_entries++;
  f->entries[e] = (frontier_entry){copy, tag, depth, FRONTIER_NONE};
  frontier_host *ho = &f->hosts[hs->val];
  if (ho->head == FRONTIER_NONE) {
    ho->head = ho->tail = e;
    frontier_ring_insert(f, hs->val);
  } else {
    f->entries[ho->tail].next = e;
    ho->tail = e;
  }
  f->queued++;
  return FRONTIER_ADDED;
}

frontier_status frontier_add(frontier *f, const char *url, unsigned depth, intptr_t tag) {
  return frontier_queue(f, url, depth, tag, false);
}

frontier_status frontier_requeue(frontier *f, const char *url, unsigned depth, intptr_t tag) {
  return frontier_queue(f, url, depth, tag, true);
}

frontier_status frontier_mark_seen(frontier *f, const char *url) {
  frontier_status st = frontier_canonicalize(f, url);
  if (st != FRONTIER_ADDED) return st;
  frontier_slot *seen = frontier_lookup(f, &f->seen, f->scratch.data, f->scratch.len);
  if (!seen) return FRONTIER_NOMEM;
  if (seen->s) return FRONTIER_SEEN;
  if (!(seen->s = frontier_strdup(f, f->scratch.data, f->scratch.len))) return FRONTIER_NOMEM;
  f->seen.count++;
  return FRONTIER_ADDED;
}

bool frontier_next(frontier *f, frontier_ready_fn ready, void *ud, frontier_item *out) {
  if (f->ring == FRONTIER_NONE) return false;
  uint32_t h = f->ring;
  do {
    frontier_host *ho = &f->hosts[h];
    if (!ready || ready(ud, ho->name)) {
      uint32_t e = ho->head;
      frontier_entry *en = &f->entries[e];
      *out = (frontier_item){en->url, ho->name, en->depth, en->tag};
      ho->head = en->next;
      en->next = f->free_entries;
      f->free_entries = e;
      f->queued--;
      f->ring = ho->ring_next;
      if (ho->head == FRONTIER_NONE) frontier_ring_remove(f, h);
      return true;
    }
    h = ho->ring_next;
  } while (h != f->ring);
  return false;
}

const char *frontier_canonical(const frontier *f, size_t *len) {
  *len = f->scratch.len;
  return buf_str(&f->scratch);
}

size_t frontier_queued(const frontier *f) { return f->queued; }

size_t frontier_seen(const frontier *f) { return f->seen.count; }

const char *frontier_status_name(frontier_status s) {
  static const char *const names[] = {"added", "seen", "too deep", "offsite", "full", "bad URL", "out of memory",
                                      "state error"};
  return names[s];
}
