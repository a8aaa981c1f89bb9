/* fuzz_json.c — libFuzzer target for glean.json.decode (cJSON underneath,
 * and glean's own checks around it), through a Lua state with the glean
 * library as adapters use it: any text either decodes or is refused with a
 * "json.decode:" message, and what decodes encodes, and decodes back to
 * the same value (same types, integers and floats apart) and the same
 * text. Corpus: corpus/json/. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "glean.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char check[] =
  "local json = require('glean').json\n"
  "local function same(a, b)\n"
  "  if type(a) ~= type(b) or math.type(a) ~= math.type(b) then return false end\n"
  "  if type(a) ~= 'table' then return a == b end\n"
  "  if getmetatable(a) ~= getmetatable(b) then return false end\n"
  "  for k, v in pairs(a) do if not same(v, b[k]) then return false end end\n"
  "  for k in pairs(b) do if a[k] == nil then return false end end\n"
  "  return true\n"
  "end\n"
  "return function(text)\n"
  "  local ok, value = pcall(json.decode, text)\n"
  "  if not ok then\n"
  "    assert(type(value) == 'string' and value:find('^json%.decode: '), value)\n"
  "    return\n"
  "  end\n"
  "  local encoded = json.encode(value)\n"
  "  local again = json.decode(encoded)\n"
  "  assert(same(value, again), 'decode(encode(v)) differs from v: ' .. encoded)\n"
  "  assert(json.encode(again) == encoded, 'encode is not stable: ' .. encoded)\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lua_State *L;
  static int check_ref;
  if (!L) {
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "glean", luaopen_glean, 1);
    lua_pop(L, 1);
    if (luaL_loadstring(L, check) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
      fprintf(stderr, "fuzz_json: %s\n", lua_tostring(L, -1));
      abort();
    }
    check_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_json: %s\n", lua_tostring(L, -1));
    abort();
  }
  return 0;
}
