/* ltime.c — glean.time: dates as adapters need them, on the system's tz
 * database and without touching process-wide state (TZ, tzset), so it is
 * safe in programs that embed glean in several threads.
 *   glean.time.parse("August 4, 2017, 5:43 AM ET", "%B %d, %Y, %I:%M %p ET",
 *                    "America/New_York")  --> "2017-08-04T05:43:00-04:00"
 * Zones are loaded once per Lua state and cached. */
#include <string.h>

#include "buf.h"
#include "lglean.h"
#include "tz.h"

#define LTIME_ZONE "glean.Zone"
#define LTIME_CACHE "glean.zone_cache"

static int ltime_zone_gc(lua_State *L) {
  tz_zone **z = luaL_checkudata(L, 1, LTIME_ZONE);
  tz_free(*z);
  *z = NULL;
  return 0;
}

static const tz_zone *ltime_zone(lua_State *L, int idx) {
  const char *name = luaL_checkstring(L, idx);
  lua_getfield(L, LUA_REGISTRYINDEX, LTIME_CACHE);
  if (lua_getfield(L, -1, name) == LUA_TUSERDATA) {
    tz_zone **z = lua_touserdata(L, -1);
    lua_pop(L, 2);
    return *z;
  }
  lua_pop(L, 1);
  tz_zone **z = lua_newuserdatauv(L, sizeof *z, 0);
  *z = NULL;
  luaL_setmetatable(L, LTIME_ZONE);
  char err[200];
  *z = tz_load(name, err, sizeof err);
  if (!*z) {
    luaL_error(L, "%s", err);
    return NULL;
  }
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
  return *z;
}

/* glean.time.parse(text, format, zone) -> ISO 8601 with the zone's offset
 * at that instant, or nil, message when text does not match format. An
 * unknown zone is an error. */
static int ltime_parse(lua_State *L) {
  const char *text = luaL_checkstring(L, 1);
  const char *format = luaL_checkstring(L, 2);
  const tz_zone *zone = ltime_zone(L, 3);
  buf out = BUF_WITH(lglean_mem(L));
  char err[256];
  if (tz_parse(text, format, zone, &out, err, sizeof err) != 0) {
    buf_free(&out);
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lglean_push_buf(L, &out);
  return 1;
}

void ltime_open(lua_State *L) {
  luaL_newmetatable(L, LTIME_ZONE);
  lua_pushcfunction(L, ltime_zone_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LTIME_CACHE);
  static const luaL_Reg funcs[] = {{"parse", ltime_parse}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  lua_setfield(L, -2, "time");
}
