/* lcharged.c — the standard library's loops for adapter code: string.rep
 * and the table functions that loop (concat, insert, remove, move, sort),
 * with their steps charged to the budget of the adapter call in progress
 * (llimits.c). Each of them can loop for as long as its arguments say
 * inside one Lua instruction, where the count hook does not run, and a
 * step can be a metamethod that is a C function (t's __index could be
 * table.concat itself) and so runs no instruction either:
 * table.move({}, 1, 1 << 62, 2), or table.insert(t, 1, v) with a __len
 * that answers 1 << 62, run for ever in plain Lua. Charging every step
 * makes C metamethods harmless, so the sandbox need not refuse them.
 *
 * As in lpattern.c, lcharged_open replaces the functions in the state's
 * string and table libraries with wrappers that run Lua's own (upvalue 1)
 * outside adapter calls, and their charged versions inside them, which give
 * Lua 5.4's results and errors (ltablib.c's code, with the charges added;
 * __len runs once, as there). */
#include <lualib.h>

#include "lglean.h"

/* Steps between two charges. */
#define LCHARGED_TICK 1024
/* What a step costs when the table has a metatable: each may call a
 * metamethod, and one that is a C function runs no instruction. */
#define LCHARGED_META 64

#define LCHARGED_R 1 /* read */
#define LCHARGED_W 2 /* write */
#define LCHARGED_L 4 /* length */

static lua_Integer lcharged_weight(lua_State *L, int arg) {
  if (!lua_getmetatable(L, arg)) return 1;
  lua_pop(L, 1);
  return LCHARGED_META;
}

static void lcharged_step(lua_State *L, lua_Integer i, lua_Integer weight) {
  if ((i & (LCHARGED_TICK - 1)) == 0) llimits_spend(L, LCHARGED_TICK * weight);
}

/* ltablib.c's checktab: a table, or a value whose metatable has what the
 * function needs. */
static int lcharged_field(lua_State *L, const char *key, int n) {
  lua_pushstring(L, key);
  return lua_rawget(L, -n) != LUA_TNIL;
}

static void lcharged_checktab(lua_State *L, int arg, int what) {
  if (lua_type(L, arg) == LUA_TTABLE) return;
  int n = 1;
  if (lua_getmetatable(L, arg) && (!(what & LCHARGED_R) || lcharged_field(L, "__index", ++n)) &&
      (!(what & LCHARGED_W) || lcharged_field(L, "__newindex", ++n)) &&
      (!(what & LCHARGED_L) || lcharged_field(L, "__len", ++n))) {
    lua_pop(L, n);
  } else {
    luaL_checktype(L, arg, LUA_TTABLE);
  }
}

static lua_Integer lcharged_getn(lua_State *L, int what) {
  lcharged_checktab(L, 1, what | LCHARGED_L);
  return luaL_len(L, 1);
}

/* Lua's own function, in this call's frame (see lpattern.c), outside
 * adapter calls; fn inside them. */
static int lcharged_dispatch(lua_State *L, lua_CFunction fn) {
  if (!llimits_limited(L)) return lua_tocfunction(L, lua_upvalueindex(1))(L);
  return fn(L);
}

/* ---- string.rep ------------------------------------------------------------ */

/* A step a piece: Lua's copies them one at a time, and repeats an empty
 * string n times doing nothing (which this skips). */
static int lcharged_rep_charged(lua_State *L) {
  size_t l, lsep;
  luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (n <= 0 || l + lsep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  llimits_spend(L, n);
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* ---- table.concat, insert, remove ------------------------------------------ */

static int lcharged_concat_charged(lua_State *L) {
  luaL_Buffer b;
  lua_Integer last = lcharged_getn(L, LCHARGED_R);
  size_t lsep;
  const char *sep = luaL_optlstring(L, 2, "", &lsep);
  lua_Integer i = luaL_optinteger(L, 3, 1);
  last = luaL_optinteger(L, 4, last);
  lua_Integer weight = lcharged_weight(L, 1);
  luaL_buffinit(L, &b);
  for (lua_Integer steps = 1; i <= last; i++, steps++) {
    lcharged_step(L, steps, weight);
    lua_geti(L, 1, i);
    if (!lua_isstring(L, -1)) return luaL_error(L, "invalid value (at index %I) in table for 'concat'", (LUAI_UACINT)i);
    luaL_addvalue(&b);
    if (i == last) break; /* i++ would overflow at math.maxinteger */
    luaL_addlstring(&b, sep, lsep);
  }
  luaL_pushresult(&b);
  return 1;
}

static int lcharged_insert_charged(lua_State *L) {
  lua_Integer e = lcharged_getn(L, LCHARGED_R | LCHARGED_W);
  e = (lua_Integer)((lua_Unsigned)e + 1u); /* first empty element */
  lua_Integer pos;
  switch (lua_gettop(L)) {
  case 2:
    pos = e;
    break;
  case 3:
    pos = luaL_checkinteger(L, 2);
    luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
    lua_Integer weight = lcharged_weight(L, 1);
    for (lua_Integer i = e; i > pos; i--) {
      lcharged_step(L, e - i + 1, weight);
      lua_geti(L, 1, i - 1);
      lua_seti(L, 1, i);
    }
    break;
  default:
    return luaL_error(L, "wrong number of arguments to 'insert'");
  }
  lua_seti(L, 1, pos);
  return 0;
}

static int lcharged_remove_charged(lua_State *L) {
  lua_Integer size = lcharged_getn(L, LCHARGED_R | LCHARGED_W);
  lua_Integer pos = luaL_optinteger(L, 2, size);
  if (pos != size) luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2, "position out of bounds");
  lua_geti(L, 1, pos);
  lua_Integer weight = lcharged_weight(L, 1);
  for (lua_Integer steps = 1; pos < size; pos++, steps++) {
    lcharged_step(L, steps, weight);
    lua_geti(L, 1, pos + 1);
    lua_seti(L, 1, pos);
  }
  lua_pushnil(L);
  lua_seti(L, 1, pos);
  return 1;
}

/* ---- table.move, sort -------------------------------------------------------- */

/* Its count of steps is in its arguments: charged before Lua's runs. */
static int lcharged_move_charged(lua_State *L) {
  lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
  if (e >= f && (f > 0 || e < LUA_MAXINTEGER + f)) {
    lua_Integer n = e - f + 1, weight = lcharged_weight(L, 1);
    if (!lua_isnoneornil(L, 5) && lcharged_weight(L, 5) > weight) weight = LCHARGED_META;
    llimits_spend(L, n > LUA_MAXINTEGER / weight ? LUA_MAXINTEGER : n * weight);
  }
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* The order function Lua's sort is given instead of the adapter's
 * (upvalue 1, or nil for '<'): each comparison is a step, counted in
 * upvalue 2, of weight upvalue 3. */
static int lcharged_compare(lua_State *L) {
  lua_Integer steps = lua_tointeger(L, lua_upvalueindex(2)) + 1;
  lua_pushinteger(L, steps);
  lua_replace(L, lua_upvalueindex(2));
  lcharged_step(L, steps, lua_tointeger(L, lua_upvalueindex(3)));
  if (lua_isnil(L, lua_upvalueindex(1))) {
    lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  return 1;
}

static int lcharged_sort_charged(lua_State *L) {
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  lua_pushinteger(L, 0);
  lua_pushinteger(L, lcharged_weight(L, 1));
  lua_pushcclosure(L, lcharged_compare, 3);
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* ---- the wrappers ---------------------------------------------------------- */

static int lcharged_rep(lua_State *L) { return lcharged_dispatch(L, lcharged_rep_charged); }
static int lcharged_concat(lua_State *L) { return lcharged_dispatch(L, lcharged_concat_charged); }
/* At the end (the usual call) neither loops: Lua's own runs. */
static int lcharged_insert(lua_State *L) {
  return lua_gettop(L) == 2 ? lua_tocfunction(L, lua_upvalueindex(1))(L) : lcharged_dispatch(L, lcharged_insert_charged);
}

static int lcharged_remove(lua_State *L) {
  return lua_isnone(L, 2) ? lua_tocfunction(L, lua_upvalueindex(1))(L) : lcharged_dispatch(L, lcharged_remove_charged);
}
static int lcharged_move(lua_State *L) { return lcharged_dispatch(L, lcharged_move_charged); }
static int lcharged_sort(lua_State *L) { return lcharged_dispatch(L, lcharged_sort_charged); }

void lcharged_open(lua_State *L) {
  static const luaL_Reg strings[] = {{"rep", lcharged_rep}, {NULL, NULL}};
  static const luaL_Reg tables[] = {
    {"concat", lcharged_concat}, {"insert", lcharged_insert}, {"remove", lcharged_remove},
    {"move", lcharged_move},     {"sort", lcharged_sort},     {NULL, NULL},
  };
  lglean_wrap_lib(L, LUA_STRLIBNAME, strings);
  lglean_wrap_lib(L, LUA_TABLIBNAME, tables);
}
