/* lglean.c — luaopen_glean: the glean Lua library's entry point, the
 * per-state runtime (logger, record sink, wakeups from other threads),
 * glean.emit and glean.version. */
#include "lglean.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "entities.h"
#include "fetch.h"
#include "glean.h"
#include "lembed.h"
#include "ljson.h"
#include "text.h"

#define LGLEAN_RUNTIME "glean.Runtime"

const char *glean_version(void) { return GLEAN_VERSION; }

static int lglean_push_buf_unprotected(lua_State *L) {
  buf *b = lua_touserdata(L, 1);
  lua_pushlstring(L, buf_str(b), b->len);
  return 1;
}

/* The copy into Lua can fail (the memory limit): b is freed either way. */
void lglean_push_buf(lua_State *L, buf *b) {
  if (b->failed) {
    buf_free(b);
    luaL_error(L, "not enough memory");
  }
  lua_pushcfunction(L, lglean_push_buf_unprotected);
  lua_pushlightuserdata(L, b);
  int status = lua_pcall(L, 1, 1, 0);
  buf_free(b);
  if (status != LUA_OK) lua_error(L);
}

lglean_runtime *lglean_get(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LGLEAN_RUNTIME);
  lglean_runtime *rt = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!rt) luaL_error(L, "glean runtime is not initialised");
  return rt;
}

const mem_allocator *lglean_mem(lua_State *L) {
  lglean_runtime *rt = lglean_get(L);
  /* Read again each time: llimits_open wraps the allocator after the
   * runtime is made. */
  rt->mem.fn = lua_getallocf(L, &rt->mem.ud);
  return &rt->mem;
}

static int lglean_runtime_gc(lua_State *L) {
  lglean_runtime *rt = lua_touserdata(L, 1);
  if (rt->records) rt->records->close(rt->records);
  rt->records = NULL;
  free(rt->sinks);
  rt->sinks = NULL;
  rt->nsinks = 0;
  pthread_mutex_destroy(&rt->wait_lock);
  return 0;
}

void lglean_set_records(lglean_runtime *rt, sink *s) {
  for (size_t i = 0; i < rt->nsinks; i++)
    if (rt->sinks[i] == rt->records) rt->sinks[i] = s;
  if (rt->records) rt->records->close(rt->records);
  rt->records = s;
  rt->records_stdout = false;
}

int lglean_set_outputs(lglean_runtime *rt, sink *const *list, size_t n, bool with_records) {
  if (!list) n = 0, with_records = true;
  sink **sinks = malloc((n + 1) * sizeof *sinks);
  if (!sinks) return -1;
  size_t k = 0;
  if (with_records) sinks[k++] = rt->records;
  for (size_t i = 0; i < n; i++) sinks[k++] = list[i];
  free(rt->sinks);
  rt->sinks = sinks;
  rt->nsinks = k;
  return 0;
}

void lglean_remove_sink(lglean_runtime *rt, sink *s) {
  size_t k = 0;
  for (size_t i = 0; i < rt->nsinks; i++)
    if (rt->sinks[i] != s) rt->sinks[k++] = rt->sinks[i];
  rt->nsinks = k;
}

sink **lglean_sinks(lglean_runtime *rt, size_t *n) {
  *n = rt->nsinks;
  return rt->sinks;
}

void lglean_wakeup(lglean_runtime *rt) {
  pthread_mutex_lock(&rt->wait_lock);
  if (rt->waiting) fetch_wakeup(rt->waiting);
  else rt->wake_pending = true;
  pthread_mutex_unlock(&rt->wait_lock);
}

int lglean_wait_begin(lglean_runtime *rt, fetch_engine *e, int timeout_ms) {
  pthread_mutex_lock(&rt->wait_lock);
  rt->waiting = e;
  if (rt->wake_pending) timeout_ms = 0;
  rt->wake_pending = false;
  pthread_mutex_unlock(&rt->wait_lock);
  return timeout_ms;
}

/* The engine may be freed once this returns: lglean_wakeup no longer
 * reaches it. */
void lglean_wait_end(lglean_runtime *rt) {
  pthread_mutex_lock(&rt->wait_lock);
  rt->waiting = NULL;
  pthread_mutex_unlock(&rt->wait_lock);
}

/* glean.emit(record): one record, as JSON text, to each of the outputs;
 * one that refuses it (a CSV without that column) does not keep it from
 * the others, and then the call fails with its reason. */
static int lglean_emit(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lglean_runtime *rt = lglean_get(L);
  buf *line = ljson_push_buffer(L);
  ljson_encode(L, 1, line);
  if (line->failed) return luaL_error(L, "emit: out of memory");
  char err[512], first[512] = "";
  for (size_t i = 0; i < rt->nsinks; i++)
    if (rt->sinks[i]->write(rt->sinks[i], buf_str(line), line->len, err, sizeof err) != 0 && !first[0])
      memcpy(first, err, sizeof first);
  if (first[0]) return luaL_error(L, "emit: %s", first);
  return 0;
}

/* glean.clock() -> seconds on a monotonic clock (for rates and timeouts) */
static int lglean_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* glean.isatty("stdin" | "stdout" | "stderr") -> boolean */
static int lglean_isatty(lua_State *L) {
  static const char *const names[] = {"stdin", "stdout", "stderr", NULL};
  int fd = luaL_checkoption(L, 1, NULL, names);
  lua_pushboolean(L, isatty(fd));
  return 1;
}

/* glean.text.squash(s) -> s with white space runs (no-break spaces too)
 * collapsed to one space and trimmed, as node:text() does */
static int lglean_squash(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, len);
  memcpy(p, s, len);
  luaL_pushresultsize(&b, text_squash(p, len));
  llimits_spend(L, (lua_Integer)(len / LGLEAN_STEP_BYTES));
  return 1;
}

/* glean.text.unescape(s) -> s with its HTML character references decoded,
 * as Python's html.unescape does ("&amp;nbsp;" once is "&nbsp;") */
static int lglean_unescape(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  if (!memchr(s, '&', len)) {
    lua_settop(L, 1);
    return 1;
  }
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, ENTITIES_OUT_MAX(len));
  luaL_pushresultsize(&b, entities_unescape(s, len, p));
  /* A reference (4 bytes at the least: "&lt;") costs a name lookup, more
   * than a Lua instruction: the bytes are charged as if all were ones. */
  llimits_spend(L, (lua_Integer)(len / 4));
  return 1;
}

static void lglean_new_runtime(lua_State *L) {
  lglean_runtime *rt = lua_newuserdatauv(L, sizeof *rt, 0);
  memset(rt, 0, sizeof *rt);
  pthread_mutex_init(&rt->wait_lock, NULL);
  rt->log.level = LOG_INFO;
  const char *level = getenv("GLEAN_LOG_LEVEL");
  if (level && log_level_parse(level) >= 0) rt->log.level = (log_level)log_level_parse(level);
  lua_newtable(L);
  lua_pushcfunction(L, lglean_runtime_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  rt->records = sink_jsonl_fd(STDOUT_FILENO);
  rt->records_stdout = true;
  if (!rt->records || lglean_set_outputs(rt, NULL, 0, true) != 0) luaL_error(L, "out of memory");
  lua_setfield(L, LUA_REGISTRYINDEX, LGLEAN_RUNTIME);
}

void lglean_wrap_lib(lua_State *L, const char *lib, const luaL_Reg *wrappers) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, lib) == LUA_TTABLE) {
    for (const luaL_Reg *w = wrappers; w->name; w++) {
      lua_getfield(L, -1, w->name);
      /* Only Lua's own (a second open finds the wrappers; a host's
       * replacement is its business). */
      lua_CFunction f = lua_tocfunction(L, -1);
      const char *upvalue = f ? lua_getupvalue(L, -1, 1) : NULL;
      if (upvalue) lua_pop(L, 1);
      if (!f || upvalue || f == w->func) {
        lua_pop(L, 1);
        continue;
      }
      lua_pushcclosure(L, w->func, 1);
      lua_setfield(L, -2, w->name);
    }
  }
  lua_pop(L, 2);
}

static int lglean_preload_module(lua_State *L) {
  const luaL_Reg *funcs = lua_touserdata(L, lua_upvalueindex(1));
  lua_newtable(L);
  luaL_setfuncs(L, funcs, 0);
  return 1;
}

void lglean_preload(lua_State *L, const char *name, const luaL_Reg *funcs) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushlightuserdata(L, (void *)funcs);
  lua_pushcclosure(L, lglean_preload_module, 1);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

/* Makes the embedded Lua modules requirable (package.preload), then runs
 * glean.init on the C table at the top of the stack: it adds the parts of
 * the library written in Lua (fetch, crawl, ...). */
static void lglean_load_lua(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const lembed_module *m = lembed_modules; m->name; m++) {
    lua_pushfstring(L, "@[glean]/%s.lua", m->name);
    if (luaL_loadbuffer(L, m->source, m->len, lua_tostring(L, -1)) != LUA_OK) lua_error(L);
    lua_setfield(L, -3, m->name);
    lua_pop(L, 1);
  }
  lua_getfield(L, -1, "glean.init");
  lua_remove(L, -2);
  lua_pushvalue(L, -2);
  lua_call(L, 1, 0);
}

int luaopen_glean(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LGLEAN_RUNTIME);
  int have_runtime = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (!have_runtime) lglean_new_runtime(L);
  llimits_open(L);
  lpattern_open(L);
  lcharged_open(L);
  lpath_open(L);
  lrecords_open(L);
  lchunk_open(L);

  lua_newtable(L);
  lua_pushstring(L, GLEAN_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushcfunction(L, lglean_emit);
  lua_setfield(L, -2, "emit");
  lua_pushcfunction(L, lglean_clock);
  lua_setfield(L, -2, "clock");
  lua_pushcfunction(L, lglean_isatty);
  lua_setfield(L, -2, "isatty");
  lua_newtable(L);
  lua_pushcfunction(L, lglean_squash);
  lua_setfield(L, -2, "squash");
  lua_pushcfunction(L, lglean_unescape);
  lua_setfield(L, -2, "unescape");
  lua_setfield(L, -2, "text");
  luaopen_glean_json(L);
  lua_setfield(L, -2, "json");
  ldom_open(L);
  lregex_open(L);
  llog_open(L);
  lfetch_open(L);
  lcrawl_open(L);
  lwarc_open(L);
  ltime_open(L);
  lsink_open(L);
  lglean_load_lua(L);
  return 1;
}
