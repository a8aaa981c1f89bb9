/* glean_api.c — the embedding API (runtime/glean.h), on top of the Lua
 * bindings: a glean_runtime is one Lua state with the glean library and its
 * glean.embed module (runtime/lua/glean/embed.lua), the host's callbacks
 * bridged to that state's logger, record sink and crawl, and a cancel
 * request any thread may make: the state's interrupt (llimits.c), which
 * ends the adapter code running and which the crawl loop polls between
 * pages. */
#include <inttypes.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "glean.h"
#include "lglean.h"
#include "sink.h"

_Static_assert((int)GLEAN_LOG_DEBUG == (int)LOG_DEBUG && (int)GLEAN_LOG_INFO == (int)LOG_INFO &&
                   (int)GLEAN_LOG_WARN == (int)LOG_WARN && (int)GLEAN_LOG_ERROR == (int)LOG_ERROR,
               "glean.h's log levels are log.h's");

struct glean_runtime {
  lua_State *L;
  lglean_runtime *lrt;        /* the state's logger, record sink and wakeups */
  int embed;                  /* registry reference to glean.embed */
  bool have_adapter;
  bool busy;                  /* running Lua: the callbacks must not re-enter */
  const glean_callbacks *cb;  /* the running call's */
  llimits *limits;            /* its interrupt and lrt's wakeup: what other threads touch */
  glean_log_fn log_fn;
  void *log_ud;
  uint64_t documents, records, errors, crawls;
  char *crawl_stats;          /* the last crawl's, as JSON */
  char *stats;                /* glean_stats's last answer */
  char errmsg[4096];
};

__attribute__((format(printf, 3, 4))) static glean_status api_fail(glean_runtime *rt, glean_status code,
                                                                   const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rt->errmsg, sizeof rt->errmsg, fmt, ap);
  va_end(ap);
  return code;
}

/* What every call that runs Lua checks first. */
static glean_status api_enter(glean_runtime *rt, const char *fn) {
  if (!rt) return GLEAN_EINVAL;
  if (rt->busy) return api_fail(rt, GLEAN_EBUSY, "%s: called from inside a callback of the same runtime", fn);
  return GLEAN_OK;
}

/* ---- the host's callbacks, as the Lua side sees them --------------------- */

static int api_on_record(void *ud, const char *json, size_t len) {
  glean_runtime *rt = ud;
  const glean_callbacks *cb = rt->cb;
  if (cb && cb->record && cb->record(cb->ud, json, len) != 0) return -1;
  rt->records++;
  return 0;
}

static void api_report(glean_runtime *rt, const glean_callbacks *cb, const char *url, const char *message) {
  rt->errors++;
  if (cb && cb->error) cb->error(cb->ud, url, message);
}

/* The crawl's on_error(url, message). */
static int api_on_error(lua_State *L) {
  glean_runtime *rt = lua_touserdata(L, lua_upvalueindex(1));
  api_report(rt, rt->cb, luaL_checkstring(L, 1), luaL_checkstring(L, 2));
  return 0;
}

/* glean.interrupts() as the crawl loop polls it: 2, "stop now", once
 * glean_cancel was called (the command line counts Ctrl-Cs instead). */
static int api_interrupts(lua_State *L) {
  glean_runtime *rt = lua_touserdata(L, lua_upvalueindex(1));
  lua_pushinteger(L, llimits_cancelled(rt->limits) ? 2 : 0);
  return 1;
}

static void api_on_log(void *ud, log_level level, const char *msg) {
  glean_runtime *rt = ud;
  rt->log_fn(rt->log_ud, (glean_log_level)level, msg);
}

/* ---- calls into Lua ----------------------------------------------------- */

/* Inside a protected call: calls glean.embed[name] on the nargs values on
 * the stack. */
static void api_call(lua_State *L, glean_runtime *rt, const char *name, int nargs, int nresults) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->embed);
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  lua_insert(L, -nargs - 1);
  lua_call(L, nargs, nresults);
}

/* The same for the functions that return true, or nil and a message: the
 * message is raised. */
static void api_call_checked(lua_State *L, glean_runtime *rt, const char *name, int nargs) {
  api_call(L, rt, name, nargs, 2);
  if (lua_isnil(L, -2)) lua_error(L);
}

/* Runs fn(L) with args in protected mode (pushing values can fail too), the
 * runtime busy and cb its callbacks meanwhile. A Lua error leaves its
 * message in rt->errmsg. Returns the Lua status. */
static int api_run(glean_runtime *rt, lua_CFunction fn, void *args, const glean_callbacks *cb) {
  lua_State *L = rt->L;
  rt->busy = true;
  rt->cb = cb;
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, args);
  int rc = lua_pcall(L, 1, 0, 0);
  rt->busy = false;
  rt->cb = NULL;
  if (rc != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    snprintf(rt->errmsg, sizeof rt->errmsg, "%s", msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return rc;
}

/* At the end of a call that runs adapter code: whether a cancel request
 * came for it (or before it), which is then spent. One that comes after
 * this look is the next call's. */
static bool api_cancelled(glean_runtime *rt) { return llimits_cancel(rt->limits, false); }

/* ---- runtimes ------------------------------------------------------------ */

static int api_open(lua_State *L) {
  glean_runtime *rt = lua_touserdata(L, 1);
  luaL_openlibs(L);
  luaL_requiref(L, "glean", luaopen_glean, 1);
  lua_pushlightuserdata(L, rt);
  lua_pushcclosure(L, api_interrupts, 1);
  lua_setfield(L, -2, "interrupts");
  rt->lrt = lglean_get(L);
  if (!(rt->limits = llimits_get_interrupt(L))) return luaL_error(L, "glean: the state has no limits");
  sink *records = sink_callback(api_on_record, rt);
  if (!records) return luaL_error(L, "out of memory");
  lglean_set_records(rt->lrt, records);
  lua_getglobal(L, "require");
  lua_pushstring(L, "glean.embed");
  lua_call(L, 1, 1);
  rt->embed = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

glean_runtime *glean_new(void) {
  glean_runtime *rt = calloc(1, sizeof *rt);
  if (!rt) return NULL;
  rt->L = luaL_newstate();
  if (!rt->L) {
    free(rt);
    return NULL;
  }
  lua_pushcfunction(rt->L, api_open);
  lua_pushlightuserdata(rt->L, rt);
  if (lua_pcall(rt->L, 1, 0, 0) != LUA_OK) {
    lua_close(rt->L);
    free(rt);
    return NULL;
  }
  return rt;
}

void glean_destroy(glean_runtime *rt) {
  if (!rt) return;
  lua_close(rt->L);
  free(rt->crawl_stats);
  free(rt->stats);
  free(rt);
}

const char *glean_errmsg(const glean_runtime *rt) { return rt ? rt->errmsg : "no runtime (NULL)"; }

void glean_set_log(glean_runtime *rt, glean_log_fn fn, void *ud) {
  if (!rt) return;
  rt->log_fn = fn;
  rt->log_ud = ud;
  rt->lrt->log.handler = fn ? api_on_log : NULL;
  rt->lrt->log.ud = rt;
}

typedef struct api_option_args {
  glean_runtime *rt;
  const char *name, *value;
} api_option_args;

static int api_set_option_lua(lua_State *L) {
  api_option_args *a = lua_touserdata(L, 1);
  lua_pushstring(L, a->name);
  lua_pushstring(L, a->value);
  api_call_checked(L, a->rt, "set_option", 2);
  return 0;
}

glean_status glean_set_option(glean_runtime *rt, const char *name, const char *value) {
  glean_status st = api_enter(rt, "glean_set_option");
  if (st != GLEAN_OK) return st;
  if (!name) return api_fail(rt, GLEAN_EINVAL, "glean_set_option: no option name");
  api_option_args a = {rt, name, value};
  int rc = api_run(rt, api_set_option_lua, &a, NULL);
  return rc == LUA_OK ? GLEAN_OK : rc == LUA_ERRMEM ? GLEAN_ENOMEM : GLEAN_EINVAL;
}

/* ---- adapters ------------------------------------------------------------ */

typedef struct api_load_args {
  glean_runtime *rt;
  const char *path;    /* a file, or */
  const char *source;  /* source text of len bytes, called name */
  size_t len;
  const char *name;
} api_load_args;

static int api_load_lua(lua_State *L) {
  api_load_args *a = lua_touserdata(L, 1);
  if (a->source) {
    lua_pushlstring(L, a->source, a->len);
    lua_pushstring(L, a->name);
    api_call_checked(L, a->rt, "load_source", 2);
  } else {
    lua_pushstring(L, a->path);
    api_call_checked(L, a->rt, "load_file", 1);
  }
  return 0;
}

static glean_status api_load(glean_runtime *rt, api_load_args *a) {
  int rc = api_run(rt, api_load_lua, a, NULL);
  if (rc != LUA_OK && api_cancelled(rt)) return GLEAN_ECANCELLED;
  if (rc == LUA_OK) rt->have_adapter = true;
  return rc == LUA_OK ? GLEAN_OK : rc == LUA_ERRMEM ? GLEAN_ENOMEM : GLEAN_EADAPTER;
}

glean_status glean_load_adapter(glean_runtime *rt, const char *path) {
  glean_status st = api_enter(rt, "glean_load_adapter");
  if (st != GLEAN_OK) return st;
  if (!path) return api_fail(rt, GLEAN_EINVAL, "glean_load_adapter: no path");
  api_load_args a = {.rt = rt, .path = path};
  return api_load(rt, &a);
}

glean_status glean_load_adapter_string(glean_runtime *rt, const char *source, size_t len, const char *name) {
  glean_status st = api_enter(rt, "glean_load_adapter_string");
  if (st != GLEAN_OK) return st;
  if (!source) return api_fail(rt, GLEAN_EINVAL, "glean_load_adapter_string: no source");
  api_load_args a = {.rt = rt, .source = source, .len = len, .name = name ? name : "adapter"};
  return api_load(rt, &a);
}

/* ---- extraction ---------------------------------------------------------- */

typedef struct api_extract_args {
  glean_runtime *rt;
  const char *url;
  const void *bytes;
  size_t len;
  char *type, *charset;  /* from the Content-Type */
  bool matched;          /* some rule took the URL */
} api_extract_args;

static int api_extract_lua(lua_State *L) {
  api_extract_args *a = lua_touserdata(L, 1);
  lua_pushstring(L, a->url);
  lua_pushlstring(L, a->bytes, a->len);
  lua_pushstring(L, a->type);
  lua_pushstring(L, a->charset);
  api_call(L, a->rt, "extract", 4, 1);
  a->matched = lua_toboolean(L, -1);
  return 0;
}

glean_status glean_extract(glean_runtime *rt, const char *url, const void *bytes, size_t len,
                           const char *content_type, const glean_callbacks *cb) {
  glean_status st = api_enter(rt, "glean_extract");
  if (st != GLEAN_OK) return st;
  if (!url || (!bytes && len)) return api_fail(rt, GLEAN_EINVAL, "glean_extract: no URL or no bytes");
  if (!rt->have_adapter) return api_fail(rt, GLEAN_ENOADAPTER, "glean_extract: no adapter loaded");
  /* A handler too short to meet the budget's checks would not see it. */
  if (api_cancelled(rt)) return api_fail(rt, GLEAN_ECANCELLED, "glean_extract: cancelled before it started");
  api_extract_args a = {.rt = rt, .url = url, .bytes = bytes ? bytes : "", .len = len};
  fetch_parse_content_type(content_type, &a.type, &a.charset);
  rt->documents++;
  int rc = api_run(rt, api_extract_lua, &a, cb);
  free(a.type);
  free(a.charset);
  bool cancelled = api_cancelled(rt);
  if (rc == LUA_ERRMEM) return GLEAN_ENOMEM;
  if (rc != LUA_OK) {
    api_report(rt, cb, url, rt->errmsg);
    return cancelled ? GLEAN_ECANCELLED : GLEAN_EPAGE;
  }
  if (!a.matched) return api_fail(rt, GLEAN_ENORULE, "no page rule of the adapter matches %s", url);
  return GLEAN_OK;
}

/* ---- crawls -------------------------------------------------------------- */

typedef struct api_crawl_args {
  glean_runtime *rt;
  const char *const *urls;
  size_t n;
  const char *warc_path;  /* instead of URLs: a WARC file, or */
  const void *warc_data;  /* WARC records in memory */
  size_t warc_len;
  bool interrupted, failed;
} api_crawl_args;

static int api_crawl_lua(lua_State *L) {
  api_crawl_args *a = lua_touserdata(L, 1);
  glean_runtime *rt = a->rt;
  lua_createtable(L, a->n > INT32_MAX ? INT32_MAX : (int)a->n, 0);
  for (size_t i = 0; i < a->n; i++) {
    lua_pushstring(L, a->urls[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_pushlightuserdata(L, rt);
  lua_pushcclosure(L, api_on_error, 1);
  if (a->warc_path) lua_pushstring(L, a->warc_path);
  else if (a->warc_data) lua_pushlstring(L, a->warc_data, a->warc_len);
  else lua_pushnil(L);
  lua_pushboolean(L, a->warc_data != NULL);
  api_call(L, rt, "crawl", 4, 3);
  size_t len;
  const char *json = lua_tolstring(L, -3, &len);
  char *copy = malloc(len + 1);
  if (!copy) return luaL_error(L, "out of memory");
  memcpy(copy, json, len + 1);
  free(rt->crawl_stats);
  rt->crawl_stats = copy;
  a->interrupted = lua_toboolean(L, -2);
  a->failed = lua_toboolean(L, -1);
  return 0;
}

/* A crawl (of URLs, or over WARC input), fn the caller's name. */
static glean_status api_crawl(glean_runtime *rt, const char *fn, api_crawl_args *a, const glean_callbacks *cb) {
  if (!rt->have_adapter) return api_fail(rt, GLEAN_ENOADAPTER, "%s: no adapter loaded", fn);
  int rc = api_run(rt, api_crawl_lua, a, cb);
  rt->crawls++;
  bool cancelled = api_cancelled(rt);
  if (rc == LUA_ERRMEM) return GLEAN_ENOMEM;
  /* A cancel can end adapter code the crawl runs outside a page (its rules
   * for the start URLs): the crawl stops there. */
  if (rc != LUA_OK) return cancelled ? api_fail(rt, GLEAN_ECANCELLED, "the crawl was cancelled") : GLEAN_ECRAWL;
  if (a->interrupted) return api_fail(rt, GLEAN_ECANCELLED, "the crawl was cancelled");
  if (a->failed) return api_fail(rt, GLEAN_EPAGE, "some pages failed (see the stats)");
  return GLEAN_OK;
}

glean_status glean_crawl(glean_runtime *rt, const char *const *urls, size_t n, const glean_callbacks *cb) {
  glean_status st = api_enter(rt, "glean_crawl");
  if (st != GLEAN_OK) return st;
  for (size_t i = 0; i < n; i++)
    if (!urls[i]) return api_fail(rt, GLEAN_EINVAL, "glean_crawl: URL %zu is NULL", i);
  api_crawl_args a = {.rt = rt, .urls = urls, .n = n};
  return api_crawl(rt, "glean_crawl", &a, cb);
}

glean_status glean_extract_warc(glean_runtime *rt, const char *path, const glean_callbacks *cb) {
  glean_status st = api_enter(rt, "glean_extract_warc");
  if (st != GLEAN_OK) return st;
  if (!path) return api_fail(rt, GLEAN_EINVAL, "glean_extract_warc: no path");
  api_crawl_args a = {.rt = rt, .warc_path = path};
  return api_crawl(rt, "glean_extract_warc", &a, cb);
}

glean_status glean_extract_warc_memory(glean_runtime *rt, const void *data, size_t len, const glean_callbacks *cb) {
  glean_status st = api_enter(rt, "glean_extract_warc_memory");
  if (st != GLEAN_OK) return st;
  if (!data && len) return api_fail(rt, GLEAN_EINVAL, "glean_extract_warc_memory: no data");
  api_crawl_args a = {.rt = rt, .warc_data = data ? data : "", .warc_len = len};
  return api_crawl(rt, "glean_extract_warc_memory", &a, cb);
}

void glean_cancel(glean_runtime *rt) {
  if (!rt) return;
  llimits_cancel(rt->limits, true);
  lglean_wakeup(rt->lrt);
}

const char *glean_stats(glean_runtime *rt) {
  if (!rt) return NULL;
  const char *crawl = rt->crawl_stats ? rt->crawl_stats : "null";
  size_t cap = strlen(crawl) + 160;
  char *s = malloc(cap);
  if (!s) return NULL;
  snprintf(s, cap, "{\"crawl\":%s,\"crawls\":%" PRIu64 ",\"documents\":%" PRIu64 ",\"errors\":%" PRIu64
           ",\"records\":%" PRIu64 "}", crawl, rt->crawls, rt->documents, rt->errors, rt->records);
  free(rt->stats);
  rt->stats = s;
  return s;
}
