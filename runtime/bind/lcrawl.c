/* lcrawl.c — the crawl's C parts for Lua: the frontier, robots.txt rules,
 * sitemaps, and URL helpers (canonical form, resolution). The crawl loop
 * that uses them is runtime/lua/glean/crawl.lua. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "canon.h"
#include "frontier.h"
#include "lglean.h"
#include "robots.h"
#include "sitemap.h"
#include "url.h"

#define LCRAWL_FRONTIER "glean.Frontier"
#define LCRAWL_ROBOTS "glean.Robots"

typedef struct lcrawl_frontier {
  frontier *f;
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

static lcrawl_frontier *lcrawl_check_frontier(lua_State *L) {
  return luaL_checkudata(L, 1, LCRAWL_FRONTIER);
}

static int lcrawl_frontier_gc(lua_State *L) {
  lcrawl_frontier *lf = lcrawl_check_frontier(L);
  frontier_free(lf->f);
  lf->f = NULL;
  if (lf->tracking)
    for (char **t = lf->tracking; *t; t++) free(*t);
  free(lf->tracking);
  lf->tracking = NULL;
  return 0;
}

/* glean.frontier{max_depth = n, max_queued = n, allow_subdomains = bool,
 * tracking = {"utm_*", ...}} -> Frontier */
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
  lf->f = frontier_new(&opts);
  if (!lf->f) return luaL_error(L, "out of memory");
  return 1;
}

/* f:allow_host(host) */
static int lcrawl_allow_host(lua_State *L) {
  lcrawl_frontier *lf = lcrawl_check_frontier(L);
  if (frontier_allow_host(lf->f, luaL_checkstring(L, 2)) != 0) return luaL_error(L, "frontier: not enough memory");
  return 0;
}

/* f:add(url, depth [, tag]) -> status ("added", "seen", "too deep", ...) */
static int lcrawl_add(lua_State *L) {
  lcrawl_frontier *lf = lcrawl_check_frontier(L);
  const char *url = luaL_checkstring(L, 2);
  lua_Integer depth = luaL_checkinteger(L, 3);
  lua_Integer tag = luaL_optinteger(L, 4, 0);
  luaL_argcheck(L, depth >= 0, 3, "depth must not be negative");
  frontier_status st = frontier_add(lf->f, url, (unsigned)depth, (intptr_t)tag);
  if (st == FRONTIER_NOMEM) return luaL_error(L, "frontier: not enough memory");
  lua_pushstring(L, frontier_status_name(st));
  return 1;
}

/* f:mark_seen(url) -> status */
static int lcrawl_mark_seen(lua_State *L) {
  lcrawl_frontier *lf = lcrawl_check_frontier(L);
  frontier_status st = frontier_mark_seen(lf->f, luaL_checkstring(L, 2));
  if (st == FRONTIER_NOMEM) return luaL_error(L, "frontier: not enough memory");
  lua_pushstring(L, frontier_status_name(st));
  return 1;
}

/* f:next() -> url, depth, tag, host; or nil when nothing is waiting */
static int lcrawl_next(lua_State *L) {
  lcrawl_frontier *lf = lcrawl_check_frontier(L);
  frontier_item it;
  if (!frontier_next(lf->f, NULL, NULL, &it)) {
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
  lua_pushinteger(L, (lua_Integer)frontier_queued(lcrawl_check_frontier(L)->f));
  return 1;
}

static int lcrawl_seen(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)frontier_seen(lcrawl_check_frontier(L)->f));
  return 1;
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
    {"next", lcrawl_next}, {"queued", lcrawl_queued}, {"seen", lcrawl_seen}, {NULL, NULL},
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
