/* lsink.c — record sinks for Lua: glean.sink(path, opts) -> Sink (write,
 * flush, close; <close> and __gc close it, as liolib's files), and
 * glean.set_outputs, which gives a crawl's sinks to glean.emit. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lglean.h"
#include "ljson.h"

#define LSINK_SINK "glean.Sink"

typedef struct lsink {
  sink *s;     /* NULL once closed */
  char *name;
} lsink;

static lsink *lsink_check_at(lua_State *L, int idx) {
  lsink *k = luaL_checkudata(L, idx, LSINK_SINK);
  if (!k->s) luaL_error(L, "attempt to use a closed sink");
  return k;
}

static lsink *lsink_check(lua_State *L) { return lsink_check_at(L, 1); }

static const char *lsink_format(lua_State *L, const char *path) {
  if (strcmp(path, "-") == 0) return "jsonl";
  const char *dot = strrchr(path, '.');
  const char *slash = strrchr(path, '/');
  if (dot && (!slash || dot > slash)) {
    if (strcmp(dot, ".jsonl") == 0) return "jsonl";
    if (strcmp(dot, ".csv") == 0) return "csv";
    if (strcmp(dot, ".sqlite") == 0 || strcmp(dot, ".db") == 0) return "sqlite";
  }
  luaL_error(L, "%s: unknown kind of file (.jsonl, .csv, .sqlite or .db; or say which with format = \"jsonl\" | \"csv\" | \"sqlite\")", path);
  return NULL;
}

/* opts.fields as a NULL-terminated array in a userdata on the stack. */
static const char **lsink_fields(lua_State *L, int opts) {
  if (lua_getfield(L, opts, "fields") == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  luaL_argcheck(L, lua_istable(L, -1), 2, "fields must be a list of names");
  lua_Integer n = luaL_len(L, -1);
  const char **fields = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *fields, 1);
  lua_pushvalue(L, -2);
  lua_setiuservalue(L, -2, 1);  /* keeps the names alive */
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, -2, i) != LUA_TSTRING) luaL_error(L, "fields[%d] must be a string", (int)i);
    fields[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  fields[n] = NULL;
  lua_remove(L, -2);
  return fields;
}

/* glean.sink(path [, {format =, fields =, key =, table =, fsync =,
 * batch =, batch_seconds =}]) -> Sink */
static int lsink_new(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  else {
    lua_settop(L, 1);
    lua_newtable(L);
  }
  sink_options o = {0};
  lua_getfield(L, 2, "format");
  const char *format = lua_isnil(L, -1) ? lsink_format(L, path) : luaL_checkstring(L, -1);
  lua_getfield(L, 2, "key");
  o.key = luaL_optstring(L, -1, NULL);
  lua_getfield(L, 2, "table");
  o.table = luaL_optstring(L, -1, NULL);
  static const char *const policies[] = {"batch", "never", "always", NULL};
  lua_getfield(L, 2, "fsync");
  o.fsync = (sink_fsync)luaL_checkoption(L, -1, "batch", policies);
  lua_getfield(L, 2, "batch");
  o.batch_records = (unsigned)luaL_optinteger(L, -1, 0);
  lua_getfield(L, 2, "batch_seconds");
  o.batch_seconds = luaL_optnumber(L, -1, 0);
  o.fields = lsink_fields(L, 2);
  lsink *k = lua_newuserdatauv(L, sizeof *k, 0);
  k->s = NULL;
  k->name = NULL;
  luaL_setmetatable(L, LSINK_SINK);
  char err[512];
  if (strcmp(format, "jsonl") == 0) k->s = strcmp(path, "-") == 0 ? sink_jsonl_fd(1) : sink_jsonl_open(path, &o, err, sizeof err);
  else if (strcmp(format, "csv") == 0) k->s = sink_csv_open(path, &o, err, sizeof err);
  else if (strcmp(format, "sqlite") == 0) k->s = sink_sqlite_open(path, &o, err, sizeof err);
  else return luaL_error(L, "%s: unknown format '%s' (jsonl, csv or sqlite)", path, format);
  if (!k->s) return luaL_error(L, "%s", err);
  k->name = strdup(path);
  if (!k->name) return luaL_error(L, "out of memory");
  return 1;
}

static int lsink_write_unprotected(lua_State *L) {
  lsink *k = lua_touserdata(L, 1);
  buf *json = ljson_push_buffer(L);
  ljson_encode(L, 2, json);
  if (json->failed) return luaL_error(L, "out of memory");
  char err[512];
  if (k->s->write(k->s, buf_str(json), json->len, err, sizeof err) != 0) return luaL_error(L, "%s", err);
  return 0;
}

/* s:write(record) -> s */
static int lsink_write(lua_State *L) {
  lsink *k = lsink_check(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_pushcfunction(L, lsink_write_unprotected);
  lua_pushlightuserdata(L, k);
  lua_pushvalue(L, 2);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    /* The sink's own messages name its file; the encoder's name the field. */
    const char *msg = lua_tostring(L, -1);
    if (msg && strncmp(msg, "json.encode: ", 13) == 0) return luaL_error(L, "%s: %s", k->name, msg + 13);
    return lua_error(L);
  }
  lua_settop(L, 1);
  return 1;
}

static int lsink_flush(lua_State *L) {
  lsink *k = lsink_check(L);
  char err[512];
  if (k->s->flush(k->s, err, sizeof err) != 0) return luaL_error(L, "%s", err);
  lua_settop(L, 1);
  return 1;
}

/* s:position() -> bytes, or nil where the sink has none (see sink.h) */
static int lsink_position(lua_State *L) {
  lsink *k = lsink_check(L);
  long long at = k->s->position ? k->s->position(k->s) : -1;
  if (at < 0) lua_pushnil(L);
  else lua_pushinteger(L, (lua_Integer)at);
  return 1;
}

static int lsink_close(lua_State *L) {
  lsink *k = luaL_checkudata(L, 1, LSINK_SINK);
  if (k->s) {
    lglean_remove_sink(lglean_get(L), k->s);
    char err[512];
    int rc = k->s->flush(k->s, err, sizeof err);
    k->s->close(k->s);
    k->s = NULL;
    if (rc != 0 && lua_toboolean(L, lua_upvalueindex(1))) return luaL_error(L, "%s", err);
  }
  free(k->name);
  k->name = NULL;
  return 0;
}

static int lsink_tostring(lua_State *L) {
  lsink *k = luaL_checkudata(L, 1, LSINK_SINK);
  if (k->s) lua_pushfstring(L, "glean.Sink (%s)", k->name);
  else lua_pushliteral(L, "glean.Sink (closed)");
  return 1;
}

/* glean.set_outputs(sinks, stdout) -> where glean.emit writes: the Sinks
 * listed (the caller keeps them open), and the runtime's own record sink
 * if stdout is true or it is the host's (the embedding API's callback);
 * glean.set_outputs() puts the runtime's sink alone back. */
static int lsink_set_outputs(lua_State *L) {
  lglean_runtime *rt = lglean_get(L);
  if (lua_isnoneornil(L, 1)) {
    lglean_set_outputs(rt, NULL, 0, true);
    return 0;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  bool with_stdout = lua_toboolean(L, 2);
  if (with_stdout && !rt->records_stdout)
    return luaL_error(L, "out '-': standard output is the host's here (records go to the record callback)");
  lua_Integer n = luaL_len(L, 1);
  sink **list = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *list, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    list[i - 1] = lsink_check_at(L, -1)->s;
    lua_pop(L, 1);
  }
  if (lglean_set_outputs(rt, list, (size_t)n, with_stdout || !rt->records_stdout) != 0) return luaL_error(L, "out of memory");
  return 0;
}

void lsink_open(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"write", lsink_write}, {"flush", lsink_flush}, {"position", lsink_position}, {"close", NULL}, {NULL, NULL},
  };
  luaL_newmetatable(L, LSINK_SINK);
  luaL_newlib(L, methods);
  /* close() says when the last records could not be made durable; __gc
   * and __close cannot. */
  lua_pushboolean(L, 1);
  lua_pushcclosure(L, lsink_close, 1);
  lua_setfield(L, -2, "close");
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_pushcclosure(L, lsink_close, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__gc");
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, lsink_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  lua_pushcfunction(L, lsink_new);
  lua_setfield(L, -2, "sink");
  lua_pushcfunction(L, lsink_set_outputs);
  lua_setfield(L, -2, "set_outputs");
}
