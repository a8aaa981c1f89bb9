/* llog.c — glean.log: leveled messages to the runtime's logger (stderr by
 * default), so that stdout carries records only.
 *   glean.log.info("fetched", url, n)   -- arguments joined like print's
 *   glean.log.set_level("debug")        -- also GLEAN_LOG_LEVEL=debug */
#include <unistd.h>

#include "lglean.h"

static int llog_write(lua_State *L) {
  log_level level = (log_level)lua_tointeger(L, lua_upvalueindex(1));
  lglean_runtime *rt = lglean_get(L);
  if (level < rt->log.level) return 0;
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, ' ');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  log_msg(&rt->log, level, "%s", lua_tostring(L, -1));
  return 0;
}

static int llog_set_level(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  int level = log_level_parse(name);
  if (level < 0) return luaL_argerror(L, 1, lua_pushfstring(L, "unknown log level '%s' (debug, info, warn, error, off)", name));
  lglean_get(L)->log.level = (log_level)level;
  return 0;
}

static int llog_get_level(lua_State *L) {
  lua_pushstring(L, log_level_name(lglean_get(L)->log.level));
  return 1;
}

/* glean.log.to_terminal() -> whether messages go to stderr and it is a
 * terminal (a live progress line is fine then; never under a host's log
 * handler) */
static int llog_to_terminal(lua_State *L) {
  lua_pushboolean(L, !lglean_get(L)->log.handler && isatty(STDERR_FILENO));
  return 1;
}

void llog_open(lua_State *L) {
  static const char *const names[] = {"debug", "info", "warn", "error"};
  lua_newtable(L);
  for (int i = 0; i < 4; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, llog_write, 1);
    lua_setfield(L, -2, names[i]);
  }
  lua_pushcfunction(L, llog_set_level);
  lua_setfield(L, -2, "set_level");
  lua_pushcfunction(L, llog_get_level);
  lua_setfield(L, -2, "level");
  lua_pushcfunction(L, llog_to_terminal);
  lua_setfield(L, -2, "to_terminal");
  lua_setfield(L, -2, "log");
}
