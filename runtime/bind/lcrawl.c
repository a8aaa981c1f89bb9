/* lcrawl.c — the crawl's C parts for Lua: the frontier (a crawl state,
 * state.h: in memory, in a --state file, or shared in Redis with
 * --frontier), robots.txt rules, sitemaps,
 * and URL helpers (canonical form, resolution). The crawl loop that uses
 * them is runtime/lua/glean/crawl.lua. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "canon.h"
#include "frontier.h"
#include "lglean.h"
#include "robots.h"
#include "sitemap.h"
#include "state.h"
#include "url.h"

#define LCRAWL_FRONTIER "glean.Frontier"
#define LCRAWL_ROBOTS "glean.Robots"

typedef struct lcrawl_frontier {
  crawl_state *s;
  bool redis;       /* s is state_redis's */
  canon_options canon;
  char **tracking;  /* owned copies of the tracking-parameter names */
} lcrawl_frontier;

/* ---- URLs ------------------------------------------------------------------- */

/* glean.url.canonical(url [, tracking]) -> canonical URL, or nil, reason */
static int lcrawl_canonical(lua_State *L) {
  const char *url = luaL_checkstring(L, 1);
  buf b = BUF_WITH(lglean_mem(L));
  char err[200];
  if (canon_url(url, NULL, &b, err, sizeof err) != 0) {
    buf_free(&b);
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lglean_push_buf(L, &b);
  return 1;
}

/* glean.url.resolve(base, ref) -> absolute URL, or nil */
static int lcrawl_resolve(lua_State *L) {
  const char *base = luaL_optstring(L, 1, NULL);
  const char *ref = luaL_checkstring(L, 2);
  buf b = BUF_WITH(lglean_mem(L));
  if (url_resolve(base, ref, &b) != 0) {
    buf_free(&b);
    lua_pushnil(L);
    return 1;
  }
  lglean_push_buf(L, &b);
  return 1;
}

/* ---- frontier --------------------------------------------------------------- */

/* A frontier's state, which must still be open. */
static crawl_state *lcrawl_check_frontier(lua_State *L) {
  lcrawl_frontier *lf = luaL_checkudata(L, 1, LCRAWL_FRONTIER);
  if (!lf->s) luaL_error(L, "frontier is closed");
  return lf->s;
}

/* Raises the state's error (storage failed: the disk, the file). */
static int lcrawl_state_error(lua_State *L, crawl_state *s) {
  return luaL_error(L, "%s", s->err);
}

static int lcrawl_frontier_gc(lua_State *L) {
  lcrawl_frontier *lf = luaL_checkudata(L, 1, LCRAWL_FRONTIER);
  if (lf->s) lf->s->ops->free(lf->s);
  lf->s = NULL;
  if (lf->tracking)
    for (char **t = lf->tracking; *t; t++) free(*t);
  free(lf->tracking);
  lf->tracking = NULL;
  return 0;
}

/* glean.frontier{max_depth = n, max_queued = n, allow_subdomains = bool,
 * tracking = {"utm_*", ...}, state = PATH, frontier = "redis://...",
 * adapter = NAME, readonly = bool} -> Frontier; in memory without state or
 * frontier, else in the state file PATH or in Redis (refusals raised as
 * errors that name it). */
static int lcrawl_frontier_new(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  frontier_options opts = {.max_depth = -1, .mem = lglean_mem(L)};
  if (lua_getfield(L, 1, "max_depth") != LUA_TNIL) opts.max_depth = (int)luaL_checkinteger(L, -1);
  if (lua_getfield(L, 1, "max_queued") != LUA_TNIL) opts.max_queued = (size_t)luaL_checkinteger(L, -1);
  lua_getfield(L, 1, "allow_subdomains");
  opts.allow_subdomains = lua_toboolean(L, -1);
  lua_pop(L, 3);
  lcrawl_frontier *lf = lua_newuserdatauv(L, sizeof *lf, 0);
  memset(lf, 0, sizeof *lf);
  luaL_setmetatable(L, LCRAWL_FRONTIER);
  if (lua_getfield(L, 1, "tracking") == LUA_TTABLE) {
    lua_Integer n = luaL_len(L, -1);
    lf->tracking = calloc((size_t)n + 1, sizeof *lf->tracking);
    if (!lf->tracking) return luaL_error(L, "out of memory");
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      const char *name = lua_tostring(L, -1);
      if (!name) return luaL_error(L, "bad option 'tracking' (strings expected)");
      if (!(lf->tracking[i - 1] = strdup(name))) return luaL_error(L, "out of memory");
      lua_pop(L, 1);
    }
    lf->canon.tracking = (const char *const *)lf->tracking;
    opts.canon = &lf->canon;
  }
  lua_pop(L, 1);
  const char *path = lua_getfield(L, 1, "state") == LUA_TNIL ? NULL : luaL_checkstring(L, -1);
  const char *redis = lua_getfield(L, 1, "frontier") == LUA_TNIL ? NULL : luaL_checkstring(L, -1);
  if (path && redis) return luaL_error(L, "frontier: give state or frontier, not both");
  if (redis) {
    const char *adapter = lua_getfield(L, 1, "adapter") == LUA_TNIL ? NULL : luaL_checkstring(L, -1);
    char err[600];
    opts.mem = NULL;  /* as a file's, below */
    if (!(lf->s = state_redis_open(redis, &opts, adapter, err, sizeof err))) return luaL_error(L, "%s", err);
    lf->redis = true;
    lua_settop(L, 2);
    return 1;
  }
  if (!path) {
    if (!(lf->s = state_mem_new(&opts))) return luaL_error(L, "out of memory");
    lua_settop(L, 2);
    return 1;
  }
  state_sqlite_options so = {0};
  if (lua_getfield(L, 1, "adapter") != LUA_TNIL) so.adapter = luaL_checkstring(L, -1);
  lua_getfield(L, 1, "readonly");
  so.readonly = lua_toboolean(L, -1);
  char err[600];
  /* The frontier inside a file's state is malloc's: it is the crawl's,
   * never allocated while adapter code runs. */
  opts.mem = NULL;
  if (!(lf->s = state_sqlite_open(path, &opts, &so, err, sizeof err))) return luaL_error(L, "%s", err);
  lua_settop(L, 2);
  return 1;
}

/* f:allow_host(host) */
static int lcrawl_allow_host(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  if (s->ops->allow_host(s, luaL_checkstring(L, 2)) != 0) return luaL_error(L, "frontier: not enough memory");
  return 0;
}

/* f:add(url, depth [, tag]) -> status ("added", "seen", "too deep", ...) */
/* A status as Lua sees it, or the error behind it. */
static int lcrawl_push_status(lua_State *L, crawl_state *s, frontier_status st) {
  if (st == FRONTIER_NOMEM) return luaL_error(L, "frontier: not enough memory");
  if (st == FRONTIER_STORE_ERROR) return lcrawl_state_error(L, s);
  lua_pushstring(L, frontier_status_name(st));
  return 1;
}

static int lcrawl_add(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  const char *url = luaL_checkstring(L, 2);
  lua_Integer depth = luaL_checkinteger(L, 3);
  lua_Integer tag = luaL_optinteger(L, 4, 0);
  luaL_argcheck(L, depth >= 0, 3, "depth must not be negative");
  return lcrawl_push_status(L, s, s->ops->add(s, url, (unsigned)depth, (intptr_t)tag));
}

/* f:mark_seen(url [, via]) -> status; via: the URL handed out that led
 * there (see state.h) */
static int lcrawl_mark_seen(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  const char *url = luaL_checkstring(L, 2);
  return lcrawl_push_status(L, s, s->ops->mark_seen(s, url, luaL_optstring(L, 3, NULL)));
}

/* f:next() -> url, depth, tag, host; or nil when nothing is waiting */
static int lcrawl_next(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  frontier_item it;
  s->err[0] = '\0';
  if (!s->ops->next(s, NULL, NULL, &it)) {
    if (s->err[0]) return lcrawl_state_error(L, s);
    lua_pushnil(L);
    return 1;
  }
  lua_pushstring(L, it.url);
  lua_pushinteger(L, it.depth);
  lua_pushinteger(L, (lua_Integer)it.tag);
  lua_pushstring(L, it.host);
  return 4;
}

static int lcrawl_queued(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  lua_pushinteger(L, (lua_Integer)s->ops->queued(s));
  return 1;
}

static int lcrawl_seen(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  lua_pushinteger(L, (lua_Integer)s->ops->seen(s));
  return 1;
}

/* f:done(url, "done" | "failed" | "skipped"): url, as handed out, handled */
static int lcrawl_done(lua_State *L) {
  static const char *const marks[] = {"done", "failed", "skipped", NULL};
  crawl_state *s = lcrawl_check_frontier(L);
  const char *url = luaL_checkstring(L, 2);
  state_mark mark = (state_mark)(STATE_DONE + luaL_checkoption(L, 3, NULL, marks));
  if (s->ops->done(s, url, mark) != 0) return lcrawl_state_error(L, s);
  return 0;
}

/* f:refresh(tag, seconds) -> how many pages with tag were queued again */
static int lcrawl_refresh(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  lua_Integer tag = luaL_checkinteger(L, 2);
  long n = s->ops->refresh(s, (intptr_t)tag, luaL_checknumber(L, 3));
  if (n < 0) return lcrawl_state_error(L, s);
  lua_pushinteger(L, n);
  return 1;
}

/* f:get(key) -> value, or nil */
static int lcrawl_get(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  buf b = BUF_INIT;
  int found = s->ops->get(s, luaL_checkstring(L, 2), &b);
  if (found < 0) {
    buf_free(&b);
    return lcrawl_state_error(L, s);
  }
  if (!found) {
    buf_free(&b);
    lua_pushnil(L);
    return 1;
  }
  lua_pushlstring(L, buf_str(&b), b.len);
  buf_free(&b);
  return 1;
}

/* f:put(key, value) */
static int lcrawl_put(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  size_t len;
  const char *key = luaL_checkstring(L, 2), *val = luaL_checklstring(L, 3, &len);
  if (s->ops->put(s, key, val, len) != 0) return lcrawl_state_error(L, s);
  return 0;
}

/* f:commit(): what changed since the last commit made durable at once */
static int lcrawl_commit(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  if (s->ops->commit(s) != 0) return lcrawl_state_error(L, s);
  return 0;
}

static void lcrawl_push_host(void *ud, const char *host, const long long counts[STATE_MARKS], long long leased) {
  static const char *const names[STATE_MARKS] = {"queued", "done", "failed", "skipped", "seen"};
  lua_State *L = ud;
  lua_createtable(L, 0, STATE_MARKS + 2);
  lua_pushstring(L, host);
  lua_setfield(L, -2, "host");
  lua_pushinteger(L, (lua_Integer)leased);
  lua_setfield(L, -2, "leased");
  for (int i = 0; i < STATE_MARKS; i++) {
    lua_pushinteger(L, (lua_Integer)counts[i]);
    lua_setfield(L, -2, names[i]);
  }
  lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
}

/* f:hosts() -> {{host =, queued =, leased =, done =, failed =, skipped =,
 * seen =}, ...} (a state file's or Redis's; in memory, an error) */
static int lcrawl_hosts(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  bool redis = ((lcrawl_frontier *)lua_touserdata(L, 1))->redis;
  lua_newtable(L);
  if ((redis ? state_redis_hosts : state_sqlite_hosts)(s, lcrawl_push_host, L) != 0) return lcrawl_state_error(L, s);
  return 1;
}

static void lcrawl_push_worker(void *ud, const char *worker, long long age, const char *stats) {
  lua_State *L = ud;
  lua_createtable(L, 0, 3);
  lua_pushstring(L, worker);
  lua_setfield(L, -2, "worker");
  lua_pushinteger(L, (lua_Integer)age);
  lua_setfield(L, -2, "age");
  if (stats) {
    lua_pushstring(L, stats);
    lua_setfield(L, -2, "stats");
  }
  lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
}

/* f:workers() -> {{worker = "HOST:PID", age = seconds since its last
 * commit, stats = JSON or nil}, ...} (a frontier in Redis only) */
static int lcrawl_workers(lua_State *L) {
  crawl_state *s = lcrawl_check_frontier(L);
  if (!((lcrawl_frontier *)lua_touserdata(L, 1))->redis) return luaL_error(L, "frontier: workers are Redis's only");
  lua_newtable(L);
  if (state_redis_workers(s, lcrawl_push_worker, L) != 0) return lcrawl_state_error(L, s);
  return 1;
}

/* f:close(): the state let go of now (a file's: what was not committed is
 * undone) */
static int lcrawl_close(lua_State *L) {
  return lcrawl_frontier_gc(L);
}

/* ---- robots.txt ------------------------------------------------------------- */

/* A Robots: the rules, and what the memory limit was charged for them. */
typedef struct lcrawl_robots {
  robots *r;
  size_t charged;
} lcrawl_robots;

static lcrawl_robots *lcrawl_check_robots(lua_State *L) {
  return luaL_checkudata(L, 1, LCRAWL_ROBOTS);
}

static int lcrawl_robots_gc(lua_State *L) {
  lcrawl_robots *lr = lcrawl_check_robots(L);
  robots_free(lr->r);
  lr->r = NULL;
  lglean_uncharge(L, lr->charged);
  lr->charged = 0;
  return 0;
}

/* glean.robots(status, body, agent) -> Robots (rules for that agent; the
 * status decides per RFC 9309 when there is no usable body). The rules are
 * charged to the memory limit: adapter code may keep many. */
static int lcrawl_robots_new(lua_State *L) {
  lua_Integer status = luaL_checkinteger(L, 1);
  size_t len;
  const char *body = luaL_optlstring(L, 2, "", &len);
  const char *agent = luaL_checkstring(L, 3);
  lcrawl_robots *lr = lua_newuserdatauv(L, sizeof *lr, 0);
  lr->r = NULL;
  lr->charged = 0;
  luaL_setmetatable(L, LCRAWL_ROBOTS);
  lr->r = robots_from_status((long)status, body, len, agent);
  if (!lr->r) return luaL_error(L, "robots: not enough memory");
  size_t size = robots_size(lr->r);
  if (lglean_charge(L, size) != 0) {
    robots_free(lr->r);
    lr->r = NULL;
    return luaL_error(L, "robots: not enough memory");
  }
  lr->charged = size;
  return 1;
}

/* r:allowed(path_and_query) -> boolean */
static int lcrawl_robots_allowed(lua_State *L) {
  lcrawl_robots *lr = lcrawl_check_robots(L);
  lua_pushboolean(L, robots_allowed(lr->r, luaL_checkstring(L, 2)));
  return 1;
}

/* r:crawl_delay() -> seconds or nil */
static int lcrawl_robots_delay(lua_State *L) {
  double d = robots_crawl_delay(lcrawl_check_robots(L)->r);
  if (d < 0) lua_pushnil(L);
  else lua_pushnumber(L, d);
  return 1;
}

/* r:sitemaps() -> array of URLs as written */
static int lcrawl_robots_sitemaps(lua_State *L) {
  robots *r = lcrawl_check_robots(L)->r;
  size_t n = robots_sitemap_count(r);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, robots_sitemap(r, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* ---- sitemaps --------------------------------------------------------------- */

static int lcrawl_sitemap_push(lua_State *L) {
  const sitemap *sm = lua_touserdata(L, 1);
  size_t n = sitemap_count(sm);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, sitemap_loc(sm, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  sitemap_kind kind = sitemap_type(sm);
  lua_pushstring(L, kind == SITEMAP_URLSET ? "urlset" : kind == SITEMAP_INDEX ? "index" : "unknown");
  return 2;
}

/* glean.sitemap(body) -> urls, kind ("urlset", "index" or "unknown") */
static int lcrawl_sitemap(lua_State *L) {
  size_t len;
  const char *body = luaL_checklstring(L, 1, &len);
  sitemap *sm = sitemap_parse(body, len);
  if (!sm) return luaL_error(L, "out of memory");
  /* Protected, so that running out of memory (the limit) frees sm too. */
  lua_pushcfunction(L, lcrawl_sitemap_push);
  lua_pushlightuserdata(L, sm);
  int status = lua_pcall(L, 1, 2, 0);
  sitemap_free(sm);
  if (status != LUA_OK) return lua_error(L);
  return 2;
}

void lcrawl_open(lua_State *L) {
  static const luaL_Reg frontier_methods[] = {
    {"allow_host", lcrawl_allow_host}, {"add", lcrawl_add}, {"mark_seen", lcrawl_mark_seen},
    {"next", lcrawl_next}, {"queued", lcrawl_queued}, {"seen", lcrawl_seen}, {"done", lcrawl_done},
    {"refresh", lcrawl_refresh}, {"get", lcrawl_get}, {"put", lcrawl_put}, {"commit", lcrawl_commit},
    {"hosts", lcrawl_hosts}, {"workers", lcrawl_workers}, {"close", lcrawl_close}, {NULL, NULL},
  };
  luaL_newmetatable(L, LCRAWL_FRONTIER);
  luaL_newlib(L, frontier_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, lcrawl_frontier_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  static const luaL_Reg robots_methods[] = {
    {"allowed", lcrawl_robots_allowed}, {"crawl_delay", lcrawl_robots_delay},
    {"sitemaps", lcrawl_robots_sitemaps}, {NULL, NULL},
  };
  luaL_newmetatable(L, LCRAWL_ROBOTS);
  luaL_newlib(L, robots_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, lcrawl_robots_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  static const luaL_Reg url_funcs[] = {
    {"canonical", lcrawl_canonical}, {"resolve", lcrawl_resolve}, {NULL, NULL},
  };
  luaL_newlib(L, url_funcs);
  lua_setfield(L, -2, "url");
  lua_pushcfunction(L, lcrawl_frontier_new);
  lua_setfield(L, -2, "frontier");
  lua_pushcfunction(L, lcrawl_robots_new);
  lua_setfield(L, -2, "robots");
  lua_pushcfunction(L, lcrawl_sitemap);
  lua_setfield(L, -2, "sitemap");
}
