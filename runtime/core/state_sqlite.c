/* state_sqlite.c — the crawl state in a SQLite file (see state.h), so that a
 * crawl killed at any moment resumes from its last commit.
 *
 * The file: meta (key/value: format, adapter, created, last_run, and what
 * the crawl puts there) and urls, one row per canonical URL keyed by a
 * 64-bit hash of it (an INTEGER PRIMARY KEY: the table's own b-tree, no
 * second index), with its host, depth, tag, mark (state_mark), the time it
 * was done, the hash of the URL that redirected to it (STATE_SEEN rows),
 * and a sequence number that keeps the queue's order. Two URLs with the
 * same hash (odds about 1 in 10^7 at 10^9 URLs) would count as one.
 *
 * In memory, a frontier holds the queue and the seen set and decides
 * everything (dedup, limits, hand-out order); every change it accepts is
 * written through to the file in one open transaction, which commit ends
 * and starts again. WAL with synchronous=NORMAL: a commit is atomic
 * whenever the process dies; power loss may lose the last commits (never
 * the file), so the crawl resumes from an earlier one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "canon.h"
#include "state.h"

#define STATE_SQLITE_FORMAT 1

typedef struct {
  crawl_state base;
  sqlite3 *db;
  frontier *f;
  bool readonly;
  long long seq;  /* the last sequence number given */
  sqlite3_stmt *insert, *mark, *via, *get, *put;
} state_sqlite;

static const char state_sqlite_schema[] =
  "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;"
  "CREATE TABLE urls(id INTEGER PRIMARY KEY, url TEXT NOT NULL, host TEXT NOT NULL,"
  " depth INTEGER NOT NULL, tag INTEGER NOT NULL, mark INTEGER NOT NULL, at INTEGER,"
  " via INTEGER, seq INTEGER NOT NULL);";

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

/* Runs a statement to its end and resets it (bindings kept for the next). */
static int state_sqlite_run(state_sqlite *q, sqlite3_stmt *st, const char *doing) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : state_sqlite_fail(q, doing);
}

static int state_sqlite_exec(state_sqlite *q, const char *sql, const char *doing) {
  return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : state_sqlite_fail(q, doing);
}

/* Writes through the row of the URL the frontier just took. */
static frontier_status state_sqlite_insert(state_sqlite *q, unsigned depth, intptr_t tag, state_mark mark,
                                           const char *via) {
  size_t len, hlen;
  const char *url = frontier_canonical(q->f, &len);
  const char *host = canon_host(url, &hlen);
  sqlite3_stmt *st = q->insert;
  sqlite3_bind_int64(st, 1, state_sqlite_hash(url, len));
  sqlite3_bind_text(st, 2, url, (int)len, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, host, (int)hlen, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, depth);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)tag);
  sqlite3_bind_int(st, 6, (int)mark);
  if (via) sqlite3_bind_int64(st, 7, state_sqlite_hash(via, strlen(via)));
  else sqlite3_bind_null(st, 7);
  sqlite3_bind_int64(st, 8, ++q->seq);
  return state_sqlite_run(q, st, "recording a URL") == 0 ? FRONTIER_ADDED : FRONTIER_STORE_ERROR;
}

static int state_sqlite_allow_host(crawl_state *s, const char *host) {
  return frontier_allow_host(((state_sqlite *)s)->f, host);
}

static frontier_status state_sqlite_add(crawl_state *s, const char *url, unsigned depth, intptr_t tag) {
  state_sqlite *q = (state_sqlite *)s;
  frontier_status st = frontier_add(q->f, url, depth, tag);
  return st == FRONTIER_ADDED ? state_sqlite_insert(q, depth, tag, STATE_QUEUED, NULL) : st;
}

static frontier_status state_sqlite_mark_seen(crawl_state *s, const char *url, const char *via) {
  state_sqlite *q = (state_sqlite *)s;
  frontier_status st = frontier_mark_seen(q->f, url);
  if (st == FRONTIER_ADDED) return state_sqlite_insert(q, 0, 0, STATE_SEEN, via);
  if (st != FRONTIER_SEEN || !via) return st;
  size_t len;
  const char *canon = frontier_canonical(q->f, &len);
  sqlite3_stmt *v = q->via;
  sqlite3_bind_int64(v, 1, state_sqlite_hash(canon, len));
  int rc = sqlite3_step(v);
  bool again = rc == SQLITE_ROW && sqlite3_column_int(v, 0) == STATE_SEEN &&
               sqlite3_column_type(v, 1) != SQLITE_NULL &&
               sqlite3_column_int64(v, 1) == state_sqlite_hash(via, strlen(via));
  sqlite3_reset(v);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return state_sqlite_fail(q, "reading a URL"), FRONTIER_STORE_ERROR;
  return again ? FRONTIER_ADDED : FRONTIER_SEEN;
}

static bool state_sqlite_next(crawl_state *s, frontier_ready_fn ready, void *ud, frontier_item *out) {
  return frontier_next(((state_sqlite *)s)->f, ready, ud, out);
}

static int state_sqlite_set_mark(state_sqlite *q, sqlite3_int64 id, state_mark mark) {
  sqlite3_stmt *st = q->mark;
  sqlite3_bind_int(st, 1, (int)mark);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
  sqlite3_bind_int64(st, 3, id);
  return state_sqlite_run(q, st, "marking a page done");
}

static int state_sqlite_done(crawl_state *s, const char *url, state_mark mark) {
  return state_sqlite_set_mark((state_sqlite *)s, state_sqlite_hash(url, strlen(url)), mark);
}

static long state_sqlite_refresh(crawl_state *s, intptr_t tag, double max_age) {
  state_sqlite *q = (state_sqlite *)s;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(q->db, "SELECT url, depth FROM urls WHERE tag = ?1 AND mark IN (1, 2) AND at <= ?2",
                         -1, &st, NULL) != SQLITE_OK)
    return state_sqlite_fail(q, "finding pages to refresh");
  sqlite3_bind_int64(st, 1, (sqlite3_int64)tag);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL) - (sqlite3_int64)max_age);
  long n = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    frontier_status fs = frontier_requeue(q->f, (const char *)sqlite3_column_text(st, 0),
                                          (unsigned)sqlite3_column_int64(st, 1), tag);
    if (fs == FRONTIER_NOMEM) {
      sqlite3_finalize(st);
      snprintf(q->base.err, sizeof q->base.err, "crawl state: out of memory");
      return -1;
    }
    if (fs == FRONTIER_ADDED) n++;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return state_sqlite_fail(q, "finding pages to refresh");
  char sql[160];
  snprintf(sql, sizeof sql, "UPDATE urls SET mark = 0 WHERE tag = %lld AND mark IN (1, 2) AND at <= %lld",
           (long long)tag, (long long)time(NULL) - (long long)max_age);
  return state_sqlite_exec(q, sql, "queueing pages to refresh") == 0 ? n : -1;
}

/* A state opened to inspect has no frontier. */
static size_t state_sqlite_queued(crawl_state *s) {
  state_sqlite *q = (state_sqlite *)s;
  return q->f ? frontier_queued(q->f) : 0;
}

static size_t state_sqlite_seen(crawl_state *s) {
  state_sqlite *q = (state_sqlite *)s;
  return q->f ? frontier_seen(q->f) : 0;
}

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
  sqlite3_stmt *stmts[] = {q->insert, q->mark, q->via, q->get, q->put};
  for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++) sqlite3_finalize(stmts[i]);
  /* An open transaction is rolled back: what was not committed is undone,
   * as a kill would. */
  sqlite3_close(q->db);
  frontier_free(q->f);
  free(q);
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
             format > STATE_SQLITE_FORMAT ? "written by a newer glean" : "not one glean wrote",
             STATE_SQLITE_FORMAT);
    return -1;
  }
  if (!q->insert && state_sqlite_prepare(q) != 0) return -1;
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

/* The frontier as the file left it: the queue in its order, the rest seen. */
static int state_sqlite_load(state_sqlite *q) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(q->db, "SELECT url, depth, tag, mark, seq FROM urls ORDER BY mark <> 0, seq",
                         -1, &st, NULL) != SQLITE_OK)
    return state_sqlite_fail(q, "reading the queue");
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *url = (const char *)sqlite3_column_text(st, 0);
    long long seq = sqlite3_column_int64(st, 4);
    if (seq > q->seq) q->seq = seq;
    frontier_status fs = sqlite3_column_int(st, 3) == STATE_QUEUED
      ? frontier_add(q->f, url, (unsigned)sqlite3_column_int64(st, 1), (intptr_t)sqlite3_column_int64(st, 2))
      : frontier_mark_seen(q->f, url);
    if (fs == FRONTIER_NOMEM) {
      sqlite3_finalize(st);
      snprintf(q->base.err, sizeof q->base.err, "crawl state: out of memory reading the queue");
      return -1;
    }
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : state_sqlite_fail(q, "reading the queue");
}

static int state_sqlite_prepare(state_sqlite *q) {
  static const struct { size_t at; const char *sql; } stmts[] = {
    {offsetof(state_sqlite, insert),
     "INSERT OR IGNORE INTO urls(id, url, host, depth, tag, mark, via, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
    {offsetof(state_sqlite, mark), "UPDATE urls SET mark = ?1, at = ?2 WHERE id = ?3"},
    {offsetof(state_sqlite, via), "SELECT mark, via FROM urls WHERE id = ?1"},
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
  state_sqlite *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->base.ops = &state_sqlite_ops;
  q->readonly = opts->readonly;
  struct stat st;
  bool exists = stat(path, &st) == 0;
  if (opts->readonly && !exists) {
    snprintf(q->base.err, sizeof q->base.err, "crawl state: no such file");
    return q;
  }
  int flags = opts->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK) {
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
  if (state_sqlite_exec(q, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16000",
                        "setting up") != 0)
    return q;
  if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(q->base.err, sizeof q->base.err, "crawl state: %s (is another crawl using it?)", sqlite3_errmsg(q->db));
    return q;
  }
  if (!q->insert && state_sqlite_prepare(q) != 0) return q;
  char now[32];
  state_sqlite_now(now, sizeof now);
  if (state_sqlite_put(&q->base, "last_run", now, strlen(now)) != 0) return q;
  if (!(q->f = frontier_new(fopts))) {
    snprintf(q->base.err, sizeof q->base.err, "crawl state: out of memory");
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
      fn(ud, host, counts);
      memset(counts, 0, sizeof counts);
      free(host);
      host = NULL;
    }
    if (!host && !(host = strdup(h))) break;
    int mark = sqlite3_column_int(st, 1);
    if (mark >= 0 && mark < STATE_MARKS) counts[mark] += sqlite3_column_int64(st, 2);
  }
  if (host) fn(ud, host, counts);
  free(host);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : state_sqlite_fail(q, "counting");
}
