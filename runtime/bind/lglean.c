/* lglean.c — luaopen_glean: the glean Lua library's entry point, the
 * per-state runtime (logger, record sink), glean.emit and glean.version. */
#include "lglean.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "glean.h"
#include "ljson.h"

#define LGLEAN_RUNTIME "glean.Runtime"

const char *glean_version(void) { return GLEAN_VERSION; }

lglean_runtime *lglean_get(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LGLEAN_RUNTIME);
  lglean_runtime *rt = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!rt) luaL_error(L, "glean runtime is not initialised");
  return rt;
}

static int lglean_runtime_gc(lua_State *L) {
  lglean_runtime *rt = lua_touserdata(L, 1);
  if (rt->records) rt->records->close(rt->records);
  rt->records = NULL;
  return 0;
}

/* glean.emit(record): one record, as one JSON line, to the record sink */
static int lglean_emit(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lglean_runtime *rt = lglean_get(L);
  buf *line = ljson_push_buffer(L);
  ljson_encode(L, 1, line);
  if (line->failed) return luaL_error(L, "emit: out of memory");
  char err[256];
  if (rt->records->write(rt->records, buf_str(line), line->len, err, sizeof err) != 0)
    return luaL_error(L, "emit: %s", err);
  return 0;
}

static void lglean_new_runtime(lua_State *L) {
  lglean_runtime *rt = lua_newuserdatauv(L, sizeof *rt, 0);
  memset(rt, 0, sizeof *rt);
  rt->log.level = LOG_INFO;
  const char *level = getenv("GLEAN_LOG_LEVEL");
  if (level && log_level_parse(level) >= 0) rt->log.level = (log_level)log_level_parse(level);
  lua_newtable(L);
  lua_pushcfunction(L, lglean_runtime_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  rt->records = sink_jsonl_fd(STDOUT_FILENO);
  if (!rt->records) luaL_error(L, "out of memory");
  lua_setfield(L, LUA_REGISTRYINDEX, LGLEAN_RUNTIME);
}

int luaopen_glean(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LGLEAN_RUNTIME);
  int have_runtime = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (!have_runtime) lglean_new_runtime(L);

  lua_newtable(L);
  lua_pushstring(L, GLEAN_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushcfunction(L, lglean_emit);
  lua_setfield(L, -2, "emit");
  luaopen_glean_json(L);
  lua_setfield(L, -2, "json");
  ldom_open(L);
  llog_open(L);
  return 1;
}
