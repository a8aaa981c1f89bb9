/* lrecords.c — glean.records, the runtime's internal module (package.preload,
 * not part of the glean table adapters get) through which a crawl with a
 * state file holds its record sinks to what it has committed:
 *   flush()            every sink made durable (its fsync policy, its batch)
 *   positions()        -> {pos, ...}: each sink's position after the flush
 *                      (-1: it cannot be brought back, e.g. a pipe)
 *   rewind({pos, ...}) each sink brought back to the position given, the
 *                      records past it (written after the last commit)
 *                      dropped; raises when a sink holds less than that */
#include <string.h>

#include "lglean.h"

static int lrecords_flush(lua_State *L) {
  size_t n;
  sink **sinks = lglean_sinks(lglean_get(L), &n);
  char err[256];
  for (size_t i = 0; i < n; i++)
    if (sinks[i]->flush && sinks[i]->flush(sinks[i], err, sizeof err) != 0)
      return luaL_error(L, "records: %s", err);
  return 0;
}

static long long lrecords_position(sink *s) {
  return s->position ? s->position(s) : -1;
}

static int lrecords_positions(lua_State *L) {
  size_t n;
  sink **sinks = lglean_sinks(lglean_get(L), &n);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)lrecords_position(sinks[i]));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* A sink that cannot be brought back (-1 either side) is left as it is:
 * its records come at least once. */
static int lrecords_rewind(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  size_t n;
  sink **sinks = lglean_sinks(lglean_get(L), &n);
  char err[256];
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    lua_Integer want = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
    lua_pop(L, 1);
    long long have = lrecords_position(sinks[i]);
    if (want < 0 || have < 0 || !sinks[i]->rewind) continue;
    if (have < want)
      return luaL_error(L, "records output %d holds %lld bytes, less than the %lld this crawl's state has "
                        "committed: not this crawl's output (give the same output, or start another --state)",
                        (int)i + 1, have, (long long)want);
    if (sinks[i]->rewind(sinks[i], (long long)want, err, sizeof err) != 0)
      return luaL_error(L, "records output %d: %s", (int)i + 1, err);
  }
  return 0;
}

void lrecords_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"flush", lrecords_flush}, {"positions", lrecords_positions}, {"rewind", lrecords_rewind}, {NULL, NULL},
  };
  lglean_preload(L, "glean.records", funcs);
}
