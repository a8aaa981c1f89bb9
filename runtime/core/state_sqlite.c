/* state_sqlite.c — the crawl state in a SQLite file (see state.h), so that a
 * crawl killed at any moment resumes from its last commit, in memory that
 * stays the same size however large the crawl.
 *
 * The file: meta (key/value: format, adapter, created, last_run, and what
 * the crawl puts there); urls, one row per canonical URL under its sequence
 * number (the order it was queued in: rows are appended), with its host,
 * depth, tag, mark (state_mark), the time it was done and the hash of the
 * URL that redirected to it (STATE_SEEN rows); and seen, the seen set: a
 * 64-bit hash of each canonical URL (an INTEGER PRIMARY KEY: the table's own
 * b-tree, no second index) to its row in urls. Two URLs with the same hash
 * (odds about 1 in 10^7 at 10^9 URLs) would count as one. The queue is an
 * index on urls by host of the rows still queued (an index's entries end
 * with the rowid, seq: each host's in order).
 *
 * seen is apart from urls so that the one b-tree written at random places
 * (by hash) holds 20 bytes a URL, not the URL: it stays in SQLite's cache
 * far longer (a 1,000,000-URL crawl's fits), and urls and the queue are
 * written in order. Measured in scripts/bench frontier.
 *
 * In memory, bounded: SQLite's page cache (cache_size); a fixed table of
 * recently seen hashes in front of seen, so that links found on every page
 * (menus) do not go to SQLite; one of the URLs handed out and their rows,
 * so that done need not look them up; and per host with queued URLs, a
 * count and a window of its next rows, loaded a batch at a time (batches
 * shrink as hosts grow, STATE_SQLITE_WINDOW rows in all). Hosts take turns through a FIFO of
 * host indexes: the one at the front has the turn, a host served (or busy)
 * goes to the back, a new one joins at the back, just before the front: the
 * same round-robin as frontier.c's ring. A frontier with no URLs makes the
 * checks (depth, canonical form, host filter).
 *
 * Every change goes into one open transaction, which commit ends and starts
 * again. WAL with synchronous=NORMAL: a commit is atomic whenever the
 * process dies; power loss may lose the last commits (never the file), so
 * the crawl resumes from an earlier one. Rows handed out and not marked done
 * are still queued in the file, and so queued again after a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "canon.h"
#include "state.h"

#define STATE_SQLITE_FORMAT 2
#define STATE_SQLITE_NONE UINT32_MAX
#define STATE_SQLITE_CACHE_KB 32000  /* SQLite's page cache: a 1,000,000-URL seen set fits */
#define STATE_SQLITE_RECENT ((size_t)1 << 15)  /* hashes remembered in front of seen (256 KB) */
#define STATE_SQLITE_WINDOW 16384              /* queued rows in memory, all hosts together */
#define STATE_SQLITE_BATCH 64                  /* at most, a host's window */
#define STATE_SQLITE_HANDED 4096               /* URLs handed out whose row done finds at once */

/* A queued row loaded into its host's window. */
typedef struct state_sqlite_item {
  sqlite3_int64 seq;
  size_t url;  /* offset in the window's text */
  unsigned depth;
  intptr_t tag;
} state_sqlite_item;

typedef struct state_sqlite_host {
  char *name;
  size_t len;
  size_t waiting;          /* queued in the file and not handed out since it was opened */
  sqlite3_int64 cursor;    /* the last seq loaded into the window */
  state_sqlite_item *items;  /* the window: [head, count) not handed out yet */
  size_t head, count;
  buf text;                /* the window's URLs, NUL-separated */
} state_sqlite_host;

typedef struct {
  crawl_state base;
  sqlite3 *db;
  frontier *f;  /* no URLs: its checks only */
  mem_allocator mem;
  bool readonly;
  size_t max_queued;  /* frontier_options' */
  sqlite3_int64 seq;  /* the last sequence number given */
  size_t queued, seen;
  sqlite3_int64 *recent;  /* hash & (STATE_SQLITE_RECENT - 1) -> a hash in seen; 0: none */
  state_sqlite_host *hosts;
  size_t n_hosts, cap_hosts;
  uint32_t *host_map;  /* open-addressed by the name's hash: host index + 1; 0 empty */
  size_t cap_map;      /* a power of two, at least twice n_hosts */
  uint32_t *turns;     /* FIFO of the hosts waiting, circular, cap_hosts long */
  size_t turn_head, n_turns;
  uint32_t last;       /* the host of the last URL handed out */
  /* hash & (STATE_SQLITE_HANDED - 1) -> a URL handed out and its row, so
   * that done need not look it up in seen (0: none) */
  struct { sqlite3_int64 id, seq; } *handed;
  sqlite3_stmt *insert_seen, *insert_url, *lookup, *mark, *mark_row, *window, *get, *put;
} state_sqlite;

static const char state_sqlite_schema[] =
  "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;"
  "CREATE TABLE urls(seq INTEGER PRIMARY KEY, url TEXT NOT NULL, host TEXT NOT NULL,"
  " depth INTEGER NOT NULL, tag INTEGER NOT NULL, mark INTEGER NOT NULL, at INTEGER, via INTEGER);"
  "CREATE TABLE seen(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);"
  "CREATE INDEX queue ON urls(host) WHERE mark = 0;";

/* FNV-1a, then a 64-bit finalizer so that every bit mixes. */
static sqlite3_int64 state_sqlite_hash(const char *s, size_t n) {
  uint64_t h = 14695981039346656037u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211u;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdu;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53u;
  h ^= h >> 33;
  return (sqlite3_int64)h;
}

/* Fails with SQLite's message for what was being done. */
static int state_sqlite_fail(state_sqlite *q, const char *doing) {
  snprintf(q->base.err, sizeof q->base.err, "crawl state: %s: %s", doing, sqlite3_errmsg(q->db));
  return -1;
}

static int state_sqlite_nomem(state_sqlite *q) {
  snprintf(q->base.err, sizeof q->base.err, "crawl state: out of memory");
  return -1;
}

/* Runs a statement to its end and resets it (bindings kept for the next). */
static int state_sqlite_run(state_sqlite *q, sqlite3_stmt *st, const char *doing) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : state_sqlite_fail(q, doing);
}

static int state_sqlite_exec(state_sqlite *q, const char *sql, const char *doing) {
  return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : state_sqlite_fail(q, doing);
}

/* ---- hosts and their turns --------------------------------------------------- */

/* The index of host[0..len), or with create a new host (no URLs waiting)
 * for it; STATE_SQLITE_NONE when there is none, or out of memory. Whatever
 * it allocates is allocated first: a failure changes nothing. */
static uint32_t state_sqlite_host_find(state_sqlite *q, const char *host, size_t len, bool create) {
  size_t mask = q->cap_map - 1, i = q->cap_map ? (size_t)state_sqlite_hash(host, len) & mask : 0;
  for (; q->cap_map && q->host_map[i]; i = (i + 1) & mask) {
    state_sqlite_host *h = &q->hosts[q->host_map[i] - 1];
    if (h->len == len && memcmp(h->name, host, len) == 0) return q->host_map[i] - 1;
  }
  if (!create || q->n_hosts + 1 >= STATE_SQLITE_NONE) return STATE_SQLITE_NONE;
  if (q->n_hosts == q->cap_hosts) {
    /* hosts and the FIFO of turns grow together: a host is in it at most
     * once, so a turn given back always has room. */
    size_t cap = q->cap_hosts ? q->cap_hosts * 2 : 64;
    state_sqlite_host *hosts = mem_realloc(&q->mem, q->hosts, q->cap_hosts * sizeof *hosts, cap * sizeof *hosts);
    if (!hosts) return STATE_SQLITE_NONE;
    q->hosts = hosts;
    uint32_t *turns = mem_realloc(&q->mem, q->turns, q->cap_hosts * sizeof *turns, cap * sizeof *turns);
    if (!turns) return STATE_SQLITE_NONE;
    /* The part wrapped around to the start moves after the old end. */
    memcpy(turns + q->cap_hosts, turns, q->turn_head * sizeof *turns);
    q->turns = turns;
    q->cap_hosts = cap;
  }
  if ((q->n_hosts + 1) * 2 > q->cap_map) {
    size_t cap = q->cap_map ? q->cap_map * 2 : 128;
    uint32_t *map = mem_calloc(&q->mem, cap, sizeof *map);
    if (!map) return STATE_SQLITE_NONE;
    for (size_t k = 0; k < q->n_hosts; k++) {
      size_t j = (size_t)state_sqlite_hash(q->hosts[k].name, q->hosts[k].len) & (cap - 1);
      while (map[j]) j = (j + 1) & (cap - 1);
      map[j] = (uint32_t)k + 1;
    }
    mem_free(&q->mem, q->host_map, q->cap_map * sizeof *q->host_map);
    q->host_map = map;
    q->cap_map = cap;
    mask = cap - 1;
    for (i = (size_t)state_sqlite_hash(host, len) & mask; map[i];) i = (i + 1) & mask;
  }
  char *name = mem_alloc(&q->mem, len + 1);
  if (!name) return STATE_SQLITE_NONE;
  memcpy(name, host, len);
  name[len] = '\0';
  uint32_t h = (uint32_t)q->n_hosts++;
  q->hosts[h] = (state_sqlite_host){.name = name, .len = len, .text = BUF_WITH(&q->mem)};
  q->host_map[i] = h + 1;
  return h;
}

/* The host's turn goes to the back of the FIFO. */
static void state_sqlite_turn_push(state_sqlite *q, uint32_t h) {
  q->turns[(q->turn_head + q->n_turns++) % q->cap_hosts] = h;
}

static uint32_t state_sqlite_turn_pop(state_sqlite *q) {
  uint32_t h = q->turns[q->turn_head];
  q->turn_head = (q->turn_head + 1) % q->cap_hosts;
  q->n_turns--;
  return h;
}

/* One more URL of host h is queued (new, refreshed, or in the file). */
static void state_sqlite_wait(state_sqlite *q, uint32_t h, size_t n) {
  if (!q->hosts[h].waiting) state_sqlite_turn_push(q, h);
  q->hosts[h].waiting += n;
  q->queued += n;
}

/* The window of a host without URLs waiting is let go (its text held the
 * last URL handed out until now). */
static void state_sqlite_window_free(state_sqlite *q, state_sqlite_host *h) {
  mem_free(&q->mem, h->items, STATE_SQLITE_BATCH * sizeof *h->items);
  h->items = NULL;
  h->head = h->count = 0;
  buf_free(&h->text);
}

/* Loads the host's next queued rows into its window: how many, or -1
 * (err). */
static int state_sqlite_window_load(state_sqlite *q, state_sqlite_host *h) {
  if (!h->items && !(h->items = mem_alloc(&q->mem, STATE_SQLITE_BATCH * sizeof *h->items)))
    return state_sqlite_nomem(q);
  size_t batch = STATE_SQLITE_WINDOW / (q->n_turns + 1);
  if (batch > STATE_SQLITE_BATCH) batch = STATE_SQLITE_BATCH;
  if (batch < 1) batch = 1;
  sqlite3_stmt *st = q->window;
  sqlite3_bind_text(st, 1, h->name, (int)h->len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, h->cursor);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)batch);
  buf_reset(&h->text);
  h->head = h->count = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    state_sqlite_item *it = &h->items[h->count++];
    *it = (state_sqlite_item){sqlite3_column_int64(st, 0), h->text.len, (unsigned)sqlite3_column_int64(st, 2),
                              (intptr_t)sqlite3_column_int64(st, 3)};
    buf_append(&h->text, sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1) + 1);
    h->cursor = it->seq;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return state_sqlite_fail(q, "reading the queue");
  if (h->text.failed) {
    buf_free(&h->text);
    h->count = 0;
    return state_sqlite_nomem(q);
  }
  return (int)h->count;
}

/* ---- the crawl state ------------------------------------------------------------ */

static bool state_sqlite_recent(state_sqlite *q, sqlite3_int64 id) {
  return id && q->recent[(uint64_t)id & (STATE_SQLITE_RECENT - 1)] == id;
}

static void state_sqlite_remember(state_sqlite *q, sqlite3_int64 id) {
  q->recent[(uint64_t)id & (STATE_SQLITE_RECENT - 1)] = id;
}

/* Records the URL of frontier_canonical in seen and urls, unless seen has it
 * already: FRONTIER_ADDED, FRONTIER_SEEN or FRONTIER_STORE_ERROR. */
static frontier_status state_sqlite_insert(state_sqlite *q, sqlite3_int64 id, unsigned depth, intptr_t tag,
                                           state_mark mark, const char *via) {
  size_t len, hlen;
  const char *url = frontier_canonical(q->f, &len);
  const char *host = canon_host(url, &hlen);
  sqlite3_stmt *st = q->insert_seen;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, q->seq + 1);
  if (state_sqlite_run(q, st, "recording a URL") != 0) return FRONTIER_STORE_ERROR;
  state_sqlite_remember(q, id);
  if (!sqlite3_changes(q->db)) return FRONTIER_SEEN;
  st = q->insert_url;
  sqlite3_bind_int64(st, 1, ++q->seq);
  sqlite3_bind_text(st, 2, url, (int)len, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, host, (int)hlen, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, depth);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)tag);
  sqlite3_bind_int(st, 6, (int)mark);
  if (via) sqlite3_bind_int64(st, 7, state_sqlite_hash(via, strlen(via)));
  else sqlite3_bind_null(st, 7);
  if (state_sqlite_run(q, st, "recording a URL") != 0) return FRONTIER_STORE_ERROR;
  q->seen++;
  return FRONTIER_ADDED;
}

/* The row of the URL whose hash is id: 1 with its mark and via (0: none),
 * 0 when there is none, -1 (err). */
static int state_sqlite_lookup(state_sqlite *q, sqlite3_int64 id, int *mark, sqlite3_int64 *via) {
  sqlite3_stmt *st = q->lookup;
  sqlite3_bind_int64(st, 1, id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *mark = sqlite3_column_int(st, 0);
    *via = sqlite3_column_int64(st, 1);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return state_sqlite_fail(q, "reading a URL");
  return rc == SQLITE_ROW;
}

static int state_sqlite_allow_host(crawl_state *s, const char *host) {
  return frontier_allow_host(((state_sqlite *)s)->f, host);
}

static frontier_status state_sqlite_add(crawl_state *s, const char *url, unsigned depth, intptr_t tag) {
  state_sqlite *q = (state_sqlite *)s;
  frontier_status st = frontier_check(q->f, url, depth);
  if (st != FRONTIER_ADDED) return st;
  size_t len, hlen;
  const char *canon = frontier_canonical(q->f, &len), *host = canon_host(canon, &hlen);
  sqlite3_int64 id = state_sqlite_hash(canon, len);
  if (state_sqlite_recent(q, id)) return FRONTIER_SEEN;
  if (q->max_queued && q->queued >= q->max_queued) {
    /* Full: seen or not, it is not queued, but says which. */
    int mark;
    sqlite3_int64 via;
    int found = state_sqlite_lookup(q, id, &mark, &via);
    return found < 0 ? FRONTIER_STORE_ERROR : found ? FRONTIER_SEEN : FRONTIER_FULL;
  }
  uint32_t h = state_sqlite_host_find(q, host, hlen, true);
  if (h == STATE_SQLITE_NONE) return FRONTIER_NOMEM;
  st = state_sqlite_insert(q, id, depth, tag, STATE_QUEUED, NULL);
  if (st == FRONTIER_ADDED) state_sqlite_wait(q, h, 1);
  return st;
}

static frontier_status state_sqlite_mark_seen(crawl_state *s, const char *url, const char *via) {
  state_sqlite *q = (state_sqlite *)s;
  frontier_status st = frontier_canonicalize(q->f, url);
  if (st != FRONTIER_ADDED) return st;
  size_t len;
  const char *canon = frontier_canonical(q->f, &len);
  sqlite3_int64 id = state_sqlite_hash(canon, len);
  if (!state_sqlite_recent(q, id)) st = state_sqlite_insert(q, id, 0, 0, STATE_SEEN, via);
  else st = FRONTIER_SEEN;
  if (st != FRONTIER_SEEN || !via) return st;
  int mark;
  sqlite3_int64 by;
  int found = state_sqlite_lookup(q, id, &mark, &by);
  if (found < 0) return FRONTIER_STORE_ERROR;
  return found && mark == STATE_SEEN && by == state_sqlite_hash(via, strlen(via)) ? FRONTIER_ADDED : FRONTIER_SEEN;
}

static bool state_sqlite_next(crawl_state *s, frontier_ready_fn ready, void *ud, frontier_item *out) {
  state_sqlite *q = (state_sqlite *)s;
  if (q->last != STATE_SQLITE_NONE && !q->hosts[q->last].waiting) state_sqlite_window_free(q, &q->hosts[q->last]);
  q->last = STATE_SQLITE_NONE;
  for (size_t tries = q->n_turns; tries; tries--) {
    uint32_t h = state_sqlite_turn_pop(q);
    state_sqlite_host *ho = &q->hosts[h];
    if (ready && !ready(ud, ho->name)) {
      state_sqlite_turn_push(q, h);
      continue;
    }
    int loaded = ho->head < ho->count ? 1 : state_sqlite_window_load(q, ho);
    if (loaded < 0) {
      /* It keeps its turn: nothing changed. */
      q->turn_head = (q->turn_head + q->cap_hosts - 1) % q->cap_hosts;
      q->turns[q->turn_head] = h;
      q->n_turns++;
      return false;
    }
    if (!loaded) {
      /* Its rows were marked done before they were handed out: none waits. */
      q->queued -= ho->waiting;
      ho->waiting = 0;
      continue;
    }
    const state_sqlite_item *it = &ho->items[ho->head++];
    *out = (frontier_item){ho->text.data + it->url, ho->name, it->depth, it->tag};
    sqlite3_int64 id = state_sqlite_hash(out->url, strlen(out->url));
    q->handed[(uint64_t)id & (STATE_SQLITE_HANDED - 1)].id = id;
    q->handed[(uint64_t)id & (STATE_SQLITE_HANDED - 1)].seq = it->seq;
    ho->waiting--;
    q->queued--;
    q->last = h;
    if (ho->waiting) state_sqlite_turn_push(q, h);
    return true;
  }
  return false;
}

static int state_sqlite_done(crawl_state *s, const char *url, state_mark mark) {
  state_sqlite *q = (state_sqlite *)s;
  sqlite3_int64 id = state_sqlite_hash(url, strlen(url));
  size_t i = (uint64_t)id & (STATE_SQLITE_HANDED - 1);
  bool handed = id && q->handed[i].id == id;
  sqlite3_stmt *st = handed ? q->mark_row : q->mark;
  sqlite3_bind_int(st, 1, (int)mark);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
  sqlite3_bind_int64(st, 3, handed ? q->handed[i].seq : id);
  if (handed) q->handed[i].id = 0;
  return state_sqlite_run(q, st, "marking a page done");
}

/* Each page queued again goes to the end of its host's queue, under a new
 * sequence number, with the checks frontier_requeue makes. */
static long state_sqlite_refresh(crawl_state *s, intptr_t tag, double max_age) {
  state_sqlite *q = (state_sqlite *)s;
  sqlite3_stmt *st, *move = NULL, *point = NULL;
  if (sqlite3_prepare_v2(q->db, "SELECT seq, url, depth FROM urls WHERE tag = ?1 AND mark IN (1, 2) AND at <= ?2",
                         -1, &st, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(q->db, "UPDATE urls SET seq = ?1, mark = 0 WHERE seq = ?2", -1, &move, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(q->db, "UPDATE seen SET seq = ?1 WHERE id = ?2", -1, &point, NULL) != SQLITE_OK) {
    state_sqlite_fail(q, "finding pages to refresh");
    sqlite3_finalize(st);
    sqlite3_finalize(move);
    return -1;
  }
  sqlite3_bind_int64(st, 1, (sqlite3_int64)tag);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL) - (sqlite3_int64)max_age);
  long n = 0;
  int rc;
  /* A row moved comes after the scan's place, queued: the scan passes it. */
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    frontier_status fs = frontier_check(q->f, (const char *)sqlite3_column_text(st, 1),
                                        (unsigned)sqlite3_column_int64(st, 2));
    if (fs == FRONTIER_NOMEM) {
      n = state_sqlite_nomem(q);
      break;
    }
    if (fs != FRONTIER_ADDED || (q->max_queued && q->queued >= q->max_queued)) continue;
    size_t len, hlen;
    const char *canon = frontier_canonical(q->f, &len), *host = canon_host(canon, &hlen);
    uint32_t h = state_sqlite_host_find(q, host, hlen, true);
    if (h == STATE_SQLITE_NONE) {
      n = state_sqlite_nomem(q);
      break;
    }
    sqlite3_bind_int64(move, 1, q->seq + 1);
    sqlite3_bind_int64(move, 2, sqlite3_column_int64(st, 0));
    sqlite3_bind_int64(point, 1, q->seq + 1);
    sqlite3_bind_int64(point, 2, state_sqlite_hash(canon, len));
    if (state_sqlite_run(q, move, "queueing pages to refresh") != 0 ||
        state_sqlite_run(q, point, "queueing pages to refresh") != 0) {
      n = -1;
      break;
    }
    q->seq++;
    state_sqlite_wait(q, h, 1);
    n++;
  }
  if (n >= 0 && rc != SQLITE_DONE) n = state_sqlite_fail(q, "finding pages to refresh");
  sqlite3_finalize(st);
  sqlite3_finalize(move);
  sqlite3_finalize(point);
  return n;
}

static size_t state_sqlite_queued(crawl_state *s) { return ((state_sqlite *)s)->queued; }

static size_t state_sqlite_seen(crawl_state *s) { return ((state_sqlite *)s)->seen; }

static int state_sqlite_get(crawl_state *s, const char *key, buf *out) {
  state_sqlite *q = (state_sqlite *)s;
  sqlite3_stmt *st = q->get;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st), found = rc == SQLITE_ROW;
  buf_reset(out);
  if (found) buf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return state_sqlite_fail(q, "reading a value");
  if (out->failed) {
    snprintf(q->base.err, sizeof q->base.err, "crawl state: out of memory");
    return -1;
  }
  return found;
}

static int state_sqlite_put(crawl_state *s, const char *key, const void *val, size_t len) {
  state_sqlite *q = (state_sqlite *)s;
  sqlite3_stmt *st = q->put;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_blob(st, 2, len ? val : "", (int)len, SQLITE_STATIC);
  return state_sqlite_run(q, st, "writing a value");
}

static int state_sqlite_commit(crawl_state *s) {
  state_sqlite *q = (state_sqlite *)s;
  if (q->readonly) return 0;
  return state_sqlite_exec(q, "COMMIT; BEGIN IMMEDIATE", "committing");
}

static void state_sqlite_free(crawl_state *s) {
  state_sqlite *q = (state_sqlite *)s;
  if (!q) return;
  sqlite3_stmt *stmts[] = {q->insert_seen, q->insert_url, q->lookup, q->mark, q->mark_row, q->window, q->get, q->put};
  for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++) sqlite3_finalize(stmts[i]);
  /* An open transaction is rolled back: what was not committed is undone,
   * as a kill would. */
  sqlite3_close(q->db);
  frontier_free(q->f);
  const mem_allocator *mem = &q->mem;
  for (size_t h = 0; h < q->n_hosts; h++) {
    state_sqlite_window_free(q, &q->hosts[h]);
    mem_free(mem, q->hosts[h].name, q->hosts[h].len + 1);
  }
  mem_free(mem, q->hosts, q->cap_hosts * sizeof *q->hosts);
  mem_free(mem, q->turns, q->cap_hosts * sizeof *q->turns);
  mem_free(mem, q->host_map, q->cap_map * sizeof *q->host_map);
  mem_free(mem, q->recent, STATE_SQLITE_RECENT * sizeof *q->recent);
  mem_free(mem, q->handed, STATE_SQLITE_HANDED * sizeof *q->handed);
  mem_allocator m = q->mem;
  mem_free(&m, q, sizeof *q);
}

static const crawl_state_ops state_sqlite_ops = {
  state_sqlite_allow_host, state_sqlite_add, state_sqlite_mark_seen, state_sqlite_next, state_sqlite_done,
  state_sqlite_refresh, state_sqlite_queued, state_sqlite_seen, state_sqlite_get, state_sqlite_put,
  state_sqlite_commit, state_sqlite_free,
};

static int state_sqlite_prepare(state_sqlite *q);

/* One integer a query gives (count, format), or -1 with err set. */
static long long state_sqlite_int(state_sqlite *q, const char *sql, const char *doing) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) return state_sqlite_fail(q, doing);
  int rc = sqlite3_step(st);
  long long v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? v : state_sqlite_fail(q, doing);
}

/* Refuses what is not a state this crawl may take up. A file that is not
 * SQLite's, or damaged, reads as "file is not a database" or fails the
 * check. */
static int state_sqlite_check(state_sqlite *q, const char *adapter) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(q->db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK)
    return state_sqlite_fail(q, "not a glean state file, or a damaged one");
  int rc = sqlite3_step(st);
  bool ok = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
  if (rc == SQLITE_ROW && !ok) {
    /* The check's report is lines under a "*** in database main ***"
     * heading: its first finding makes a one-line error. */
    const char *report = (const char *)sqlite3_column_text(st, 0);
    if (strncmp(report, "*** ", 4) == 0 && strchr(report, '\n')) report = strchr(report, '\n') + 1;
    int len = (int)strcspn(report, "\n");
    snprintf(q->base.err, sizeof q->base.err, "crawl state: damaged (integrity check: %.*s%s)", len, report,
             report[len] ? " ..." : "");
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) return state_sqlite_fail(q, "not a glean state file, or a damaged one");
  if (!ok) return -1;
  if (state_sqlite_int(q, "SELECT count(*) FROM sqlite_master WHERE name IN ('meta', 'urls')", "reading") != 2) {
    snprintf(q->base.err, sizeof q->base.err, "crawl state: a SQLite file, but not a glean state file");
    return -1;
  }
  long long format = state_sqlite_int(q, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'format'", "reading the format");
  if (format < 0) return -1;
  if (format != STATE_SQLITE_FORMAT) {
    snprintf(q->base.err, sizeof q->base.err,
             "crawl state: format %lld, %s (this glean reads format %d)", format,
             format > STATE_SQLITE_FORMAT ? "written by a newer glean"
             : format == 1               ? "written by an older glean (start it again without this file)"
                                         : "not one glean wrote",
             STATE_SQLITE_FORMAT);
    return -1;
  }
  if (!q->insert_seen && state_sqlite_prepare(q) != 0) return -1;
  /* glean writes the adapter with the tables: a file without it is not
   * one glean wrote, even for `glean state`, which names no adapter. */
  buf owner = BUF_INIT;
  int found = state_sqlite_get(&q->base, "adapter", &owner);
  int rc2 = 0;
  if (found < 0) rc2 = -1;
  else if (!found) {
    snprintf(q->base.err, sizeof q->base.err, "crawl state: no adapter recorded: not a glean state file, or a damaged one");
    rc2 = -1;
  } else if (adapter && strcmp(buf_str(&owner), adapter) != 0) {
    snprintf(q->base.err, sizeof q->base.err,
             "crawl state: the state of adapter '%s', not of '%s' (give this crawl its own --state)",
             buf_str(&owner), adapter);
    rc2 = -1;
  }
  buf_free(&owner);
  return rc2;
}

/* The counts as the file left them, and each host with queued URLs in the
 * order its queue began, to take turns in. */
static int state_sqlite_load(state_sqlite *q) {
  long long seq = state_sqlite_int(q, "SELECT coalesce(max(seq), 0) FROM urls", "reading the queue");
  long long seen = state_sqlite_int(q, "SELECT count(*) FROM seen", "reading the seen set");
  if (seq < 0 || seen < 0) return -1;
  q->seq = seq;
  q->seen = (size_t)seen;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(q->db, "SELECT host, count(*) FROM urls WHERE mark = 0 GROUP BY host ORDER BY min(seq)",
                         -1, &st, NULL) != SQLITE_OK)
    return state_sqlite_fail(q, "reading the queue");
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    uint32_t h = state_sqlite_host_find(q, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                                   true);
    if (h == STATE_SQLITE_NONE) {
      sqlite3_finalize(st);
      return state_sqlite_nomem(q);
    }
    state_sqlite_wait(q, h, (size_t)sqlite3_column_int64(st, 1));
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : state_sqlite_fail(q, "reading the queue");
}

static int state_sqlite_prepare(state_sqlite *q) {
  static const struct { size_t at; const char *sql; } stmts[] = {
    {offsetof(state_sqlite, insert_seen), "INSERT OR IGNORE INTO seen(id, seq) VALUES (?1, ?2)"},
    {offsetof(state_sqlite, insert_url),
     "INSERT INTO urls(seq, url, host, depth, tag, mark, via) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
    {offsetof(state_sqlite, lookup), "SELECT u.mark, u.via FROM seen s JOIN urls u ON u.seq = s.seq WHERE s.id = ?1"},
    {offsetof(state_sqlite, mark), "UPDATE urls SET mark = ?1, at = ?2 WHERE seq = (SELECT seq FROM seen WHERE id = ?3)"},
    {offsetof(state_sqlite, mark_row), "UPDATE urls SET mark = ?1, at = ?2 WHERE seq = ?3"},
    {offsetof(state_sqlite, window),
     "SELECT seq, url, depth, tag FROM urls WHERE host = ?1 AND mark = 0 AND seq > ?2 ORDER BY seq LIMIT ?3"},
    {offsetof(state_sqlite, get), "SELECT value FROM meta WHERE key = ?1"},
    {offsetof(state_sqlite, put), "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)"},
  };
  for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
    if (sqlite3_prepare_v3(q->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                           (sqlite3_stmt **)((char *)q + stmts[i].at), NULL) != SQLITE_OK)
      return state_sqlite_fail(q, "preparing");
  return 0;
}

static void state_sqlite_now(char *out, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Creates the tables in a new file, in one transaction: a kill leaves
 * either them or a file with no tables, which is taken as new again. */
static int state_sqlite_create(state_sqlite *q, const char *adapter) {
  char now[32], format[16];
  state_sqlite_now(now, sizeof now);
  snprintf(format, sizeof format, "%d", STATE_SQLITE_FORMAT);
  if (state_sqlite_exec(q, "BEGIN IMMEDIATE", "creating") != 0 ||
      state_sqlite_exec(q, state_sqlite_schema, "creating") != 0 || state_sqlite_prepare(q) != 0)
    return -1;
  if (state_sqlite_put(&q->base, "format", format, strlen(format)) != 0 ||
      state_sqlite_put(&q->base, "adapter", adapter ? adapter : "", adapter ? strlen(adapter) : 0) != 0 ||
      state_sqlite_put(&q->base, "created", now, strlen(now)) != 0)
    return -1;
  return state_sqlite_exec(q, "COMMIT", "creating");
}

static state_sqlite *state_sqlite_start(const char *path, const frontier_options *fopts,
                                        const state_sqlite_options *opts) {
  const mem_allocator *mem = fopts ? fopts->mem : NULL;
  state_sqlite *q = mem_calloc(mem, 1, sizeof *q);
  if (!q) return NULL;
  q->base.ops = &state_sqlite_ops;
  if (mem) q->mem = *mem;
  q->readonly = opts->readonly;
  q->max_queued = fopts ? fopts->max_queued : 0;
  q->last = STATE_SQLITE_NONE;
  struct stat st;
  bool exists = stat(path, &st) == 0;
  if (opts->readonly && !exists) {
    snprintf(q->base.err, sizeof q->base.err, "crawl state: no such file");
    return q;
  }
  /* One connection, used by one thread at a time: SQLite's mutexes are
   * not needed. Read-only inspection opens it read-write all the same,
   * with writes refused (query_only): a SQLITE_OPEN_READONLY connection
   * to a WAL file leaves its -wal and -shm files behind when it closes.
   * (SQLite opens a file it may not write read-only anyway.) */
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE | (opts->readonly ? 0 : SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK ||
      (opts->readonly && sqlite3_exec(q->db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK)) {
    state_sqlite_fail(q, "opening");
    return q;
  }
  /* Another crawl holding the file is an error at once, not a wait. */
  sqlite3_busy_timeout(q->db, 0);
  long long tables = state_sqlite_int(q, "SELECT count(*) FROM sqlite_master", "not a glean state file, or a damaged one");
  if (tables < 0) return q;
  if (tables == 0 && !opts->readonly) {
    if (state_sqlite_create(q, opts->adapter) != 0) return q;
  } else if (state_sqlite_check(q, opts->adapter) != 0) {
    return q;
  }
  if (opts->readonly) {
    q->base.err[0] = '\0';
    return q;
  }
  char setup[160];
  snprintf(setup, sizeof setup, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -%d",
           STATE_SQLITE_CACHE_KB);
  if (state_sqlite_exec(q, setup, "setting up") != 0) return q;
  if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(q->base.err, sizeof q->base.err, "crawl state: %s (is another crawl using it?)", sqlite3_errmsg(q->db));
    return q;
  }
  if (!q->insert_seen && state_sqlite_prepare(q) != 0) return q;
  char now[32];
  state_sqlite_now(now, sizeof now);
  if (state_sqlite_put(&q->base, "last_run", now, strlen(now)) != 0) return q;
  if (!(q->f = frontier_new(fopts)) || !(q->recent = mem_calloc(&q->mem, STATE_SQLITE_RECENT, sizeof *q->recent)) ||
      !(q->handed = mem_calloc(&q->mem, STATE_SQLITE_HANDED, sizeof *q->handed))) {
    state_sqlite_nomem(q);
    return q;
  }
  if (state_sqlite_load(q) != 0) return q;
  q->base.err[0] = '\0';
  return q;
}

crawl_state *state_sqlite_open(const char *path, const frontier_options *fopts,
                               const state_sqlite_options *opts, char *err, size_t errlen) {
  static const state_sqlite_options none = {0};
  state_sqlite *q = state_sqlite_start(path, fopts, opts ? opts : &none);
  if (!q) {
    snprintf(err, errlen, "%s: crawl state: out of memory", path);
    return NULL;
  }
  /* A readonly state has no frontier; a crawl's always has one. */
  if (q->base.err[0] || (!q->readonly && !q->f)) {
    snprintf(err, errlen, "%s: %s", path, q->base.err[0] ? q->base.err + strlen("crawl state: ") : "not opened");
    state_sqlite_free(&q->base);
    return NULL;
  }
  return &q->base;
}

int state_sqlite_hosts(crawl_state *s, state_host_fn fn, void *ud) {
  if (s->ops != &state_sqlite_ops) {
    snprintf(s->err, sizeof s->err, "crawl state: in memory, not in a file");
    return -1;
  }
  state_sqlite *q = (state_sqlite *)s;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(q->db, "SELECT host, mark, count(*) FROM urls GROUP BY host, mark ORDER BY host",
                         -1, &st, NULL) != SQLITE_OK)
    return state_sqlite_fail(q, "counting");
  long long counts[STATE_MARKS] = {0};
  char *host = NULL;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *h = (const char *)sqlite3_column_text(st, 0);
    if (host && strcmp(host, h) != 0) {
      fn(ud, host, counts, 0);
      memset(counts, 0, sizeof counts);
      free(host);
      host = NULL;
    }
    if (!host && !(host = strdup(h))) break;
    int mark = sqlite3_column_int(st, 1);
    if (mark >= 0 && mark < STATE_MARKS) counts[mark] += sqlite3_column_int64(st, 2);
  }
  if (host) fn(ud, host, counts, 0);
  free(host);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : state_sqlite_fail(q, "counting");
}
