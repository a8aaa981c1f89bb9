/* state_redis.c — the crawl state in Redis (see state.h), shared by any
 * number of crawl processes on any number of machines: `--frontier
 * redis://HOST:PORT/NAME`. Owns the keys under NAME and the Lua scripts
 * Redis runs on them; each step is one script, atomic in Redis.
 *
 * Keys (NAME:...):
 *   queue   LIST of entries "depth\ttag\thost\tURL" (the canonical URL), FIFO
 *   leased  ZSET of the entries handed out -> lease expiry (ms, Redis's clock)
 *   seen    SET of every canonical URL ever queued or marked seen
 *   via     HASH redirect target -> the URL that led there (see mark_seen)
 *   count   HASH "queued"/"leased"/"done"/"failed"/"skipped"/"seen", each
 *           also per host as "MARK HOST": the counters `glean status` reads
 *   kv      HASH the state's get/put (robots.txt rules, ...), but "stats":
 *   stats   HASH worker -> its stats (JSON), each worker's own
 *   workers HASH worker ("HOST:PID") -> its last commit (s, Redis's clock)
 *   meta    HASH adapter: whose crawl it is
 *
 * Work is leased, not popped: next moves an entry from queue to leased with
 * an expiry; done only notes the mark here, and commit (which the crawl
 * calls after its sinks are flushed) acknowledges the marks and renews the
 * leases of the pages still in hand, in one script. Whoever asks for work
 * first puts the expired leases back at the head of the queue, so a worker
 * that dies loses nothing: its pages are fetched again (at-least-once).
 *
 * Redis lost mid-crawl: each call reconnects with backoff (0.1 s doubling
 * to 5 s, a line on stderr each time) for up to max_wait seconds, then
 * fails. A call whose reply was lost may have run: every script is safe to
 * run twice (a lease taken twice expires; a mark counts only once, when its
 * lease is removed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "canon.h"
#include "log.h"
#include "state.h"

#define STATE_REDIS_LEASE 60.0    /* seconds a page handed out stays leased unrenewed */
#define STATE_REDIS_WAIT 60.0     /* seconds of retries when Redis is lost, then fail */
#define STATE_REDIS_IDLE_MS 100   /* the pause of a worker with nothing in hand and nothing to take */
#define STATE_REDIS_REQUEUE 100   /* expired leases put back per call of next, at most */

enum { SCRIPT_ADD, SCRIPT_SEEN, SCRIPT_NEXT, SCRIPT_COMMIT, SCRIPTS };

/* KEYS[1] is NAME throughout; the host is the entry's third field. */
#define STATE_REDIS_COUNT \
  "local function count(p, what, host, n)" \
  " redis.call('HINCRBY', p..':count', what, n)" \
  " redis.call('HINCRBY', p..':count', what..' '..host, n) end" \
  " local function host_of(e) return e:match('^[^\\t]*\\t[^\\t]*\\t([^\\t]*)') end "

static const char *const state_redis_scripts[SCRIPTS] = {
  /* add: ARGV url, entry, host, max_queued -> 1 added, 0 seen, 2 full */
  STATE_REDIS_COUNT
  "local p = KEYS[1]"
  " if redis.call('SISMEMBER', p..':seen', ARGV[1]) == 1 then return 0 end"
  " local max = tonumber(ARGV[4])"
  " if max > 0 and redis.call('LLEN', p..':queue') >= max then return 2 end"
  " redis.call('SADD', p..':seen', ARGV[1])"
  " redis.call('RPUSH', p..':queue', ARGV[2])"
  " count(p, 'queued', ARGV[3], 1)"
  " return 1",
  /* mark_seen: ARGV url, via, host -> 1 newly seen (or seen first by via), 0 seen */
  STATE_REDIS_COUNT
  "local p = KEYS[1]"
  " if redis.call('SADD', p..':seen', ARGV[1]) == 1 then"
  "  if ARGV[2] ~= '' then redis.call('HSET', p..':via', ARGV[1], ARGV[2]) end"
  "  count(p, 'seen', ARGV[3], 1) return 1 end"
  " if ARGV[2] ~= '' and redis.call('HGET', p..':via', ARGV[1]) == ARGV[2] then return 1 end"
  " return 0",
  /* next: ARGV lease_ms, requeue -> an entry, or false */
  STATE_REDIS_COUNT
  "local p = KEYS[1]"
  " local t = redis.call('TIME')"
  " local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"
  " local expired = redis.call('ZRANGEBYSCORE', p..':leased', '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))"
  " for _, e in ipairs(expired) do"
  "  redis.call('ZREM', p..':leased', e) redis.call('LPUSH', p..':queue', e)"
  "  count(p, 'leased', host_of(e), -1) count(p, 'queued', host_of(e), 1) end"
  " local e = redis.call('LPOP', p..':queue')"
  " if not e then return false end"
  " redis.call('ZADD', p..':leased', now + tonumber(ARGV[1]), e)"
  " count(p, 'queued', host_of(e), -1) count(p, 'leased', host_of(e), 1)"
  " return e",
  /* commit: ARGV lease_ms, worker, then pairs (what, entry): what 'renew'
   * or a mark */
  STATE_REDIS_COUNT
  "local p = KEYS[1]"
  " local t = redis.call('TIME')"
  " local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])"
  " redis.call('HSET', p..':workers', ARGV[2], t[1])"
  " for i = 3, #ARGV - 1, 2 do"
  "  local what, e = ARGV[i], ARGV[i + 1]"
  "  if what == 'renew' then redis.call('ZADD', p..':leased', 'XX', expiry, e)"
  "  elseif redis.call('ZREM', p..':leased', e) == 1 then"
  "   count(p, 'leased', host_of(e), -1) count(p, what, host_of(e), 1) end"
  " end"
  " return 0",
};

/* A page handed out, until its mark is acknowledged. */
typedef struct state_redis_page {
  char *entry;   /* as in Redis */
  char *fields;  /* a copy split at the tabs: depth, tag, host, url */
  const char *url, *host;
  int mark;      /* -1: in hand (its lease renewed at commit) */
} state_redis_page;

typedef struct {
  crawl_state base;
  redisContext *c;
  frontier *f;  /* no URLs: its checks only */
  char *host, *user, *pass, *name;
  int port;
  double lease, max_wait;
  size_t max_queued;
  char sha[SCRIPTS][41];
  char worker[300];  /* "HOST:PID": whose stats, whose heartbeat */
  state_redis_page *pages;
  size_t n_pages, cap_pages;
} state_redis;

static const logger state_redis_log = {LOG_WARN, NULL, NULL};

static void state_redis_sleep(double seconds) {
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  nanosleep(&ts, NULL);
}

/* Connects (again), authenticates and loads the scripts: 0, or -1 with why
 * in err. */
static int state_redis_connect(state_redis *r) {
  if (r->c) redisFree(r->c);
  struct timeval tv = {5, 0};
  r->c = redisConnectWithTimeout(r->host, r->port, tv);
  if (!r->c || r->c->err) {
    snprintf(r->base.err, sizeof r->base.err, "frontier redis://%s:%d/%s: cannot connect: %s", r->host, r->port,
             r->name, r->c ? r->c->errstr : "out of memory");
    return -1;
  }
  tv.tv_sec = 30;
  redisSetTimeout(r->c, tv);
  redisReply *rep = NULL;
  if (r->pass)
    rep = r->user ? redisCommand(r->c, "AUTH %s %s", r->user, r->pass) : redisCommand(r->c, "AUTH %s", r->pass);
  for (int i = 0; (!r->pass || (rep && rep->type != REDIS_REPLY_ERROR)) && i < SCRIPTS; i++) {
    if (rep) freeReplyObject(rep);
    rep = redisCommand(r->c, "SCRIPT LOAD %s", state_redis_scripts[i]);
    if (rep && rep->type == REDIS_REPLY_STRING) snprintf(r->sha[i], sizeof r->sha[i], "%s", rep->str);
    else break;
  }
  if (!rep || rep->type == REDIS_REPLY_ERROR) {
    snprintf(r->base.err, sizeof r->base.err, "frontier redis://%s:%d/%s: %s", r->host, r->port, r->name,
             rep ? rep->str : r->c->errstr);
    if (rep) freeReplyObject(rep);
    return -1;
  }
  freeReplyObject(rep);
  return 0;
}

/* Errors that pass: a Redis loading its data after a restart, busy with a
 * script, or that restarted and so lost the scripts (a reconnect loads
 * them again). */
static bool state_redis_transient(const redisReply *rep) {
  static const char *const kinds[] = {"LOADING", "BUSY", "TRYAGAIN", "NOSCRIPT"};
  for (size_t i = 0; rep->type == REDIS_REPLY_ERROR && i < sizeof kinds / sizeof *kinds; i++)
    if (strncmp(rep->str, kinds[i], strlen(kinds[i])) == 0) return true;
  return false;
}

/* Runs a command; Redis lost (or not ready), it reconnects with backoff for
 * up to max_wait seconds. The reply (an error reply too), or NULL (err says
 * why). */
static redisReply *state_redis_argv(state_redis *r, int argc, const char **argv, const size_t *lens) {
  double waited = 0, pause = 0.1;
  for (;;) {
    char why[200];  /* a copy: err is written below */
    snprintf(why, sizeof why, "%.199s", r->c && r->c->err ? r->c->errstr : r->base.err);
    if (r->c && !r->c->err) {
      redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
      if (rep && !state_redis_transient(rep)) return rep;
      snprintf(why, sizeof why, "%.199s", rep ? rep->str : r->c->errstr);
      if (rep) freeReplyObject(rep);
    }
    if (waited >= r->max_wait) {
      snprintf(r->base.err, sizeof r->base.err, "frontier redis://%s:%d/%s: Redis lost (%s), gave up after %.0f s",
               r->host, r->port, r->name, why, waited);
      return NULL;
    }
    log_msg(&state_redis_log, LOG_WARN, "frontier redis://%s:%d/%s: Redis lost (%s); pausing, retry in %.1f s",
            r->host, r->port, r->name, why, pause);
    state_redis_sleep(pause);
    waited += pause;
    pause = pause * 2 < 5 ? pause * 2 : 5;
    if (state_redis_connect(r) == 0)
      log_msg(&state_redis_log, LOG_WARN, "frontier redis://%s:%d/%s: reconnected", r->host, r->port, r->name);
  }
}

static redisReply *state_redis_fail(state_redis *r, redisReply *rep, const char *doing) {
  if (rep && rep->type == REDIS_REPLY_ERROR) {
    snprintf(r->base.err, sizeof r->base.err, "frontier redis://%s:%d/%s: %s: %s", r->host, r->port, r->name,
             doing, rep->str);
    freeReplyObject(rep);
    return NULL;
  }
  return rep;
}

/* Runs script with args (after KEYS[1] = NAME): the reply, or NULL (err). */
static redisReply *state_redis_eval(state_redis *r, int script, int argc, const char **args, const size_t *lens,
                                    const char *doing) {
  const char **argv = malloc((size_t)(argc + 4) * sizeof *argv);
  size_t *alen = malloc((size_t)(argc + 4) * sizeof *alen);
  if (!argv || !alen) {
    free(argv);
    free(alen);
    snprintf(r->base.err, sizeof r->base.err, "frontier: out of memory");
    return NULL;
  }
  argv[0] = "EVALSHA", argv[2] = "1", argv[3] = r->name;
  alen[0] = 7, alen[2] = 1, alen[3] = strlen(r->name);
  for (int i = 0; i < argc; i++) argv[i + 4] = args[i], alen[i + 4] = lens ? lens[i] : strlen(args[i]);
  argv[1] = r->sha[script], alen[1] = strlen(r->sha[script]);
  redisReply *rep = state_redis_argv(r, argc + 4, argv, alen);
  free(argv);
  free(alen);
  return rep ? state_redis_fail(r, rep, doing) : NULL;
}

/* A command of NUL-terminated words, through the reconnecting path. */
static redisReply *state_redis_cmd(state_redis *r, const char *doing, int argc, const char **argv) {
  return state_redis_fail(r, state_redis_argv(r, argc, argv, NULL), doing);
}

static int state_redis_allow_host(crawl_state *s, const char *host) {
  return frontier_allow_host(((state_redis *)s)->f, host);
}

static frontier_status state_redis_add(crawl_state *s, const char *url, unsigned depth, intptr_t tag) {
  state_redis *r = (state_redis *)s;
  frontier_status st = frontier_check(r->f, url, depth);
  if (st != FRONTIER_ADDED) return st;
  size_t len, hlen;
  const char *canon = frontier_canonical(r->f, &len), *host = canon_host(canon, &hlen);
  char head[64], max[32];
  int n = snprintf(head, sizeof head, "%u\t%ld\t", depth, (long)tag);
  snprintf(max, sizeof max, "%zu", r->max_queued);
  size_t elen = (size_t)n + hlen + 1 + len;
  char *entry = malloc(elen + 1), *hostz = malloc(hlen + 1);
  if (!entry || !hostz) {
    free(entry);
    free(hostz);
    return FRONTIER_NOMEM;
  }
  snprintf(entry, elen + 1, "%s%.*s\t%.*s", head, (int)hlen, host, (int)len, canon);
  snprintf(hostz, hlen + 1, "%.*s", (int)hlen, host);
  const char *args[] = {entry + n + hlen + 1, entry, hostz, max};
  redisReply *rep = state_redis_eval(r, SCRIPT_ADD, 4, args, NULL, "adding a URL");
  free(entry);
  free(hostz);
  if (!rep) return FRONTIER_STORE_ERROR;
  long long v = rep->integer;
  freeReplyObject(rep);
  return v == 1 ? FRONTIER_ADDED : v == 2 ? FRONTIER_FULL : FRONTIER_SEEN;
}

static frontier_status state_redis_mark_seen(crawl_state *s, const char *url, const char *via) {
  state_redis *r = (state_redis *)s;
  frontier_status st = frontier_canonicalize(r->f, url);
  if (st != FRONTIER_ADDED) return st;
  size_t len, hlen;
  const char *canon = frontier_canonical(r->f, &len), *host = canon_host(canon, &hlen);
  const char *args[] = {canon, via ? via : "", host};
  size_t lens[] = {len, via ? strlen(via) : 0, hlen};
  redisReply *rep = state_redis_eval(r, SCRIPT_SEEN, 3, args, lens, "marking a URL seen");
  if (!rep) return FRONTIER_STORE_ERROR;
  long long v = rep->integer;
  freeReplyObject(rep);
  return v == 1 ? FRONTIER_ADDED : FRONTIER_SEEN;
}

/* The pages in hand whose mark is not noted yet. */
static size_t state_redis_in_hand(const state_redis *r) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_pages; i++) n += r->pages[i].mark < 0;
  return n;
}

static bool state_redis_next(crawl_state *s, frontier_ready_fn ready, void *ud, frontier_item *out) {
  (void)ready, (void)ud;  /* one queue for all hosts: politeness stays the fetch engine's, per worker */
  state_redis *r = (state_redis *)s;
  if (r->n_pages == r->cap_pages) {
    size_t cap = r->cap_pages ? r->cap_pages * 2 : 64;
    state_redis_page *pages = realloc(r->pages, cap * sizeof *pages);
    if (!pages) {
      snprintf(s->err, sizeof s->err, "frontier: out of memory");
      return false;
    }
    r->pages = pages, r->cap_pages = cap;
  }
  char lease[32], requeue[16];
  snprintf(lease, sizeof lease, "%.0f", r->lease * 1000);
  snprintf(requeue, sizeof requeue, "%d", STATE_REDIS_REQUEUE);
  const char *args[] = {lease, requeue};
  redisReply *rep = state_redis_eval(r, SCRIPT_NEXT, 2, args, NULL, "taking a URL");
  if (!rep) return false;
  if (rep->type != REDIS_REPLY_STRING) {
    freeReplyObject(rep);
    /* Nothing to take, maybe while others hold leases: a worker with none
     * of its own would otherwise ask again at once, and again. */
    if (!state_redis_in_hand(r)) state_redis_sleep(STATE_REDIS_IDLE_MS / 1000.0);
    return false;
  }
  state_redis_page *p = &r->pages[r->n_pages];
  p->entry = strdup(rep->str);
  p->fields = strdup(rep->str);
  freeReplyObject(rep);
  char *depth = p->fields, *tag = depth ? strchr(depth, '\t') : NULL, *host = tag ? strchr(tag + 1, '\t') : NULL,
       *url = host ? strchr(host + 1, '\t') : NULL;
  if (!p->entry || !url) {
    snprintf(s->err, sizeof s->err, "frontier redis://%s:%d/%s: %s", r->host, r->port, r->name,
             p->entry && p->fields ? "a queue entry is not glean's (depth, tag, host, URL)" : "out of memory");
    free(p->entry);
    free(p->fields);
    return false;
  }
  *tag++ = *host++ = *url++ = '\0';
  p->url = url, p->host = host, p->mark = -1;
  r->n_pages++;
  *out = (frontier_item){.url = url, .host = host, .depth = (unsigned)strtoul(depth, NULL, 10),
                         .tag = (intptr_t)strtol(tag, NULL, 10)};
  return true;
}

static int state_redis_done(crawl_state *s, const char *url, state_mark mark) {
  state_redis *r = (state_redis *)s;
  for (size_t i = 0; i < r->n_pages; i++)
    if (r->pages[i].mark < 0 && strcmp(r->pages[i].url, url) == 0) {
      r->pages[i].mark = (int)mark;
      return 0;
    }
  snprintf(s->err, sizeof s->err, "frontier: %s was not handed out", url);
  return -1;
}

static long state_redis_refresh(crawl_state *s, intptr_t tag, double max_age) {
  (void)tag, (void)max_age;
  snprintf(s->err, sizeof s->err, "frontier: a page rule's refresh is not supported with --frontier redis:// yet");
  return -1;
}

/* A counter of the count hash (0 when none): -1 when Redis failed. */
static long long state_redis_counts(state_redis *r, const char *a, const char *b) {
  const char *argv[] = {"HMGET", NULL, a, b};
  char key[300];
  snprintf(key, sizeof key, "%s:count", r->name);
  argv[1] = key;
  redisReply *rep = state_redis_cmd(r, "counting", b ? 4 : 3, argv);
  if (!rep) return -1;
  long long n = 0;
  for (size_t i = 0; i < rep->elements; i++)
    if (rep->element[i]->type == REDIS_REPLY_STRING) n += strtoll(rep->element[i]->str, NULL, 10);
  freeReplyObject(rep);
  return n;
}

/* Queued or leased by anyone: the crawl is not over while others hold pages
 * (theirs may expire, or queue more). A Redis that is gone counts as work
 * left: the next call reports it. */
static size_t state_redis_queued(crawl_state *s) {
  long long n = state_redis_counts((state_redis *)s, "queued", "leased");
  return n < 0 ? 1 : (size_t)n;
}

static size_t state_redis_seen(crawl_state *s) {
  state_redis *r = (state_redis *)s;
  char key[300];
  snprintf(key, sizeof key, "%s:seen", r->name);
  const char *argv[] = {"SCARD", key};
  redisReply *rep = state_redis_cmd(r, "counting", 2, argv);
  size_t n = rep ? (size_t)rep->integer : 0;
  if (rep) freeReplyObject(rep);
  return n;
}

static int state_redis_get(crawl_state *s, const char *key, buf *out) {
  state_redis *r = (state_redis *)s;
  char hash[300];
  snprintf(hash, sizeof hash, "%s:kv", r->name);
  const char *argv[] = {"HGET", hash, key};
  redisReply *rep = state_redis_cmd(r, "reading a key", 3, argv);
  if (!rep) return -1;
  int found = rep->type == REDIS_REPLY_STRING;
  buf_reset(out);
  if (found) buf_append(out, rep->str, rep->len);
  freeReplyObject(rep);
  if (out->failed) {
    snprintf(s->err, sizeof s->err, "frontier: out of memory");
    return -1;
  }
  return found;
}

/* "stats" are the worker's own: in NAME:stats under its name. */
static int state_redis_put(crawl_state *s, const char *key, const void *val, size_t len) {
  state_redis *r = (state_redis *)s;
  char hash[300];
  bool stats = strcmp(key, "stats") == 0;
  snprintf(hash, sizeof hash, "%s:%s", r->name, stats ? "stats" : "kv");
  if (stats) key = r->worker;
  const char *argv[] = {"HSET", hash, key, val};
  size_t lens[] = {4, strlen(hash), strlen(key), len};
  redisReply *rep = state_redis_fail(r, state_redis_argv(r, 4, argv, lens), "writing a key");
  if (!rep) return -1;
  freeReplyObject(rep);
  return 0;
}

/* The marks noted since the last commit acknowledged (their leases
 * removed, counted), the other pages in hand renewed, the worker's
 * heartbeat: one script. */
static int state_redis_commit(crawl_state *s) {
  static const char *const marks[STATE_MARKS] = {"queued", "done", "failed", "skipped", "seen"};
  state_redis *r = (state_redis *)s;
  int argc = 2 + 2 * (int)r->n_pages;
  const char **args = malloc((size_t)argc * sizeof *args);
  if (!args) {
    snprintf(s->err, sizeof s->err, "frontier: out of memory");
    return -1;
  }
  char lease[32];
  snprintf(lease, sizeof lease, "%.0f", r->lease * 1000);
  args[0] = lease, args[1] = r->worker;
  for (size_t i = 0; i < r->n_pages; i++) {
    args[2 + 2 * i] = r->pages[i].mark < 0 ? "renew" : marks[r->pages[i].mark];
    args[3 + 2 * i] = r->pages[i].entry;
  }
  redisReply *rep = state_redis_eval(r, SCRIPT_COMMIT, argc, args, NULL, "committing");
  free(args);
  if (!rep) return -1;
  freeReplyObject(rep);
  size_t kept = 0;
  for (size_t i = 0; i < r->n_pages; i++) {
    if (r->pages[i].mark < 0) {
      r->pages[kept++] = r->pages[i];
      continue;
    }
    free(r->pages[i].entry);
    free(r->pages[i].fields);
  }
  r->n_pages = kept;
  return 0;
}

static void state_redis_free(crawl_state *s) {
  if (!s) return;
  state_redis *r = (state_redis *)s;
  if (r->c) redisFree(r->c);
  frontier_free(r->f);
  for (size_t i = 0; i < r->n_pages; i++) {
    free(r->pages[i].entry);
    free(r->pages[i].fields);
  }
  free(r->pages);
  free(r->host);
  free(r->user);
  free(r->pass);
  free(r->name);
  free(r);
}

static const crawl_state_ops state_redis_ops = {
  state_redis_allow_host, state_redis_add, state_redis_mark_seen, state_redis_next, state_redis_done,
  state_redis_refresh, state_redis_queued, state_redis_seen, state_redis_get, state_redis_put,
  state_redis_commit, state_redis_free,
};

static char *state_redis_dup(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) memcpy(d, s, n), d[n] = '\0';
  return d;
}

/* Splits redis://[[USER]:PASS@]HOST[:PORT]/NAME[?lease=S&wait=S] into r;
 * 0, or -1 with why in err. */
static int state_redis_parse(state_redis *r, const char *url, char *err, size_t errlen) {
  if (strncmp(url, "rediss://", 9) == 0) {
    snprintf(err, errlen, "--frontier %s: rediss:// (TLS) is not supported: Debian's hiredis 0.14 has no TLS; "
             "use redis:// on a trusted network or a TLS tunnel", url);
    return -1;
  }
  if (strncmp(url, "redis://", 8) != 0) {
    snprintf(err, errlen, "--frontier %s: not a redis://HOST:PORT/NAME URL", url);
    return -1;
  }
  const char *p = url + 8, *slash = strchr(p, '/'), *at = memchr(p, '@', slash ? (size_t)(slash - p) : 0);
  if (!slash || !slash[1] || slash[1] == '?') {
    snprintf(err, errlen, "--frontier %s: the crawl's NAME is missing (redis://HOST:PORT/NAME)", url);
    return -1;
  }
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (colon) {
      if (colon > p) r->user = state_redis_dup(p, (size_t)(colon - p));
      r->pass = state_redis_dup(colon + 1, (size_t)(at - colon - 1));
    } else {
      r->pass = state_redis_dup(p, (size_t)(at - p));
    }
    p = at + 1;
  } else if (getenv("REDISCLI_AUTH") && *getenv("REDISCLI_AUTH")) {
    r->pass = strdup(getenv("REDISCLI_AUTH"));
  }
  const char *colon = memchr(p, ':', (size_t)(slash - p));
  r->host = state_redis_dup(p, (size_t)((colon ? colon : slash) - p));
  r->port = 6379;
  if (colon) {
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end != slash || port <= 0 || port > 65535) {
      snprintf(err, errlen, "--frontier %s: bad port", url);
      return -1;
    }
    r->port = (int)port;
  }
  const char *q = strchr(slash + 1, '?');
  r->name = state_redis_dup(slash + 1, q ? (size_t)(q - slash - 1) : strlen(slash + 1));
  r->lease = STATE_REDIS_LEASE, r->max_wait = STATE_REDIS_WAIT;
  for (; q && *q; q = strchr(q, '&')) {
    q++;
    double *opt = strncmp(q, "lease=", 6) == 0 ? &r->lease : strncmp(q, "wait=", 5) == 0 ? &r->max_wait : NULL;
    char *end;
    double v = opt ? strtod(strchr(q, '=') + 1, &end) : 0;
    if (!opt || !(v > 0) || (*end && *end != '&')) {
      snprintf(err, errlen, "--frontier %s: bad option at '%s' (lease=SECONDS, wait=SECONDS)", url, q);
      return -1;
    }
    *opt = v;
  }
  if (!r->host || !r->name || strlen(r->name) > 200) {
    snprintf(err, errlen, "--frontier %s: %s", url, r->name ? "NAME is too long" : "out of memory");
    return -1;
  }
  return 0;
}

crawl_state *state_redis_open(const char *url, const frontier_options *fopts, const char *adapter, char *err,
                              size_t errlen) {
  state_redis *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "--frontier %s: out of memory", url);
    return NULL;
  }
  r->base.ops = &state_redis_ops;
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  snprintf(r->worker, sizeof r->worker, "%s:%ld", host, (long)getpid());
  r->max_queued = fopts ? fopts->max_queued : 0;
  if (state_redis_parse(r, url, err, errlen) != 0) goto fail;
  if (!(r->f = frontier_new(fopts))) {
    snprintf(err, errlen, "--frontier %s: out of memory", url);
    goto fail;
  }
  /* Unreachable at the start: said at once, no retries. */
  if (state_redis_connect(r) != 0) {
    snprintf(err, errlen, "%s", r->base.err);
    goto fail;
  }
  if (adapter) {
    char key[300];
    snprintf(key, sizeof key, "%s:meta", r->name);
    redisReply *rep = redisCommand(r->c, "HSETNX %s adapter %s", key, adapter);
    if (rep) freeReplyObject(rep);
    rep = redisCommand(r->c, "HGET %s adapter", key);
    if (!rep || rep->type != REDIS_REPLY_STRING || strcmp(rep->str, adapter) != 0) {
      snprintf(err, errlen, "--frontier %s: %s%s", url, rep && rep->type == REDIS_REPLY_STRING ?
               "the crawl there is of another adapter: " : "cannot read the crawl's adapter: ",
               rep ? rep->str : r->c->errstr);
      if (rep) freeReplyObject(rep);
      goto fail;
    }
    freeReplyObject(rep);
  }
  return &r->base;
fail:
  state_redis_free(&r->base);
  return NULL;
}

/* Orders the count hash's "MARK HOST" fields by host (totals, with no
 * host, first). */
static int state_redis_by_host(const void *a, const void *b) {
  const char *x = strchr((*(redisReply *const *)a)->str, ' '), *y = strchr((*(redisReply *const *)b)->str, ' ');
  return !x || !y ? (x != NULL) - (y != NULL) : strcmp(x + 1, y + 1);
}

int state_redis_hosts(crawl_state *s, state_host_fn fn, void *ud) {
  static const char *const names[] = {"queued", "done", "failed", "skipped", "seen", "leased"};
  state_redis *r = (state_redis *)s;
  char key[300];
  snprintf(key, sizeof key, "%s:count", r->name);
  const char *argv[] = {"HGETALL", key};
  redisReply *rep = state_redis_cmd(r, "counting", 2, argv);
  if (!rep) return -1;
  /* Field and value replies side by side, sorted as pairs by the field's host. */
  size_t n = rep->elements / 2;
  redisReply **pairs = rep->element;
  for (size_t i = 0; i < n; i++)
    if (pairs[2 * i]->type != REDIS_REPLY_STRING || pairs[2 * i + 1]->type != REDIS_REPLY_STRING) n = 0;
  if (n > 0) qsort(pairs, n, 2 * sizeof *pairs, state_redis_by_host); /* an empty hash has no element array */
  for (size_t i = 0; i < n;) {
    const char *host = strchr(pairs[2 * i]->str, ' ');
    if (!host) {
      i++;
      continue;
    }
    long long counts[STATE_MARKS] = {0}, leased = 0;
    size_t j = i;
    for (; j < n && strchr(pairs[2 * j]->str, ' ') && strcmp(strchr(pairs[2 * j]->str, ' '), host) == 0; j++) {
      const char *f = pairs[2 * j]->str;
      size_t len = (size_t)(strchr(f, ' ') - f);
      long long v = strtoll(pairs[2 * j + 1]->str, NULL, 10);
      for (int m = 0; m < 6; m++)
        if (strlen(names[m]) == len && strncmp(f, names[m], len) == 0) {
          if (m == 5) leased = v;
          else counts[m] = v;
        }
    }
    fn(ud, host + 1, counts, leased);
    i = j;
  }
  freeReplyObject(rep);
  return 0;
}

int state_redis_workers(crawl_state *s, state_worker_fn fn, void *ud) {
  state_redis *r = (state_redis *)s;
  char workers[300], stats[300];
  snprintf(workers, sizeof workers, "%s:workers", r->name);
  snprintf(stats, sizeof stats, "%s:stats", r->name);
  const char *time_argv[] = {"TIME"}, *workers_argv[] = {"HGETALL", workers}, *stats_argv[] = {"HGETALL", stats};
  redisReply *now = state_redis_cmd(r, "reading the clock", 1, time_argv), *w = NULL, *st = NULL;
  if (now) w = state_redis_cmd(r, "listing the workers", 2, workers_argv);
  if (w) st = state_redis_cmd(r, "listing the workers", 2, stats_argv);
  int rc = st && now->type == REDIS_REPLY_ARRAY && now->elements == 2 ? 0 : -1;
  if (rc < 0 && st) snprintf(s->err, sizeof s->err, "frontier redis://%s:%d/%s: TIME: not a time", r->host,
                             r->port, r->name);
  for (size_t i = 0; rc == 0 && i + 1 < w->elements; i += 2) {
    const char *json = NULL;
    for (size_t j = 0; j + 1 < st->elements && !json; j += 2)
      if (strcmp(st->element[j]->str, w->element[i]->str) == 0) json = st->element[j + 1]->str;
    fn(ud, w->element[i]->str, strtoll(now->element[0]->str, NULL, 10) - strtoll(w->element[i + 1]->str, NULL, 10),
       json);
  }
  if (now) freeReplyObject(now);
  if (w) freeReplyObject(w);
  if (st) freeReplyObject(st);
  return rc;
}
