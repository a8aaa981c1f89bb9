/* lwarc.c — WARC input for Lua (warc_read.h): a WarcReader over files (globs
 * expanded) or a string of WARC records, whose next() gives each archived
 * response as a Response, the same userdata a fetch gives, so that a page
 * made from it is a crawl's page.
 *   local r = glean.warc({"a.warc.gz", "crawl-*.warc"}, {max_body = N})
 *   local r = glean.warc_string(bytes, "name")
 *   r:seek(where)         -- a table from r:where(): {file = 1, member = 0, skip = 0}
 *   local resp = r:next() -- nil at the end
 *   r:stats()             -- {records, responses, skipped, bytes}
 * Warnings (damage, each naming the file and byte offset) go to the
 * runtime's log. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "lglean.h"
#include "warc_read.h"

#define LWARC_READER "glean.WarcReader"

typedef struct lwarc {
  warc_reader *r;
} lwarc;

static lwarc *lwarc_check(lua_State *L) {
  lwarc *w = luaL_checkudata(L, 1, LWARC_READER);
  if (!w->r) luaL_error(L, "WARC reader is closed");
  return w;
}

static void lwarc_options(lua_State *L, int idx, warc_options *o) {
  memset(o, 0, sizeof *o);
  o->log = &lglean_get(L)->log;
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_getfield(L, idx, "max_body") != LUA_TNIL) {
    lua_Integer n = luaL_checkinteger(L, -1);
    if (n < 0) luaL_error(L, "glean.warc: max_body must not be negative");
    o->max_body = (size_t)n;
  }
  lua_pop(L, 1);
}

static lwarc *lwarc_push(lua_State *L) {
  lwarc *w = lua_newuserdatauv(L, sizeof *w, 1);
  w->r = NULL;
  luaL_setmetatable(L, LWARC_READER);
  return w;
}

/* Adds path to the list at the top of the stack, or the files its glob
 * matches (in name order); none is an error naming it. */
static void lwarc_add_path(lua_State *L, const char *path) {
  int list = lua_gettop(L);
  if (!strpbrk(path, "*?[")) {
    FILE *f = fopen(path, "rb");
    if (!f) luaL_error(L, "glean.warc: %s: %s", path, strerror(errno));
    fclose(f);
    lua_pushstring(L, path);
    lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
    return;
  }
  glob_t g;
  int rc = glob(path, 0, NULL, &g);
  if (rc != 0) {
    if (rc != GLOB_NOMATCH) globfree(&g);
    luaL_error(L, "glean.warc: %s: %s", path, rc == GLOB_NOMATCH ? "no file matches" : "cannot expand the pattern");
  }
  for (size_t i = 0; i < g.gl_pathc; i++) {
    lua_pushstring(L, g.gl_pathv[i]);
    lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
  }
  globfree(&g);
}

/* glean.warc(paths [, options]) -> WarcReader, and the list of files read */
static int lwarc_open_files(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) {
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    lua_replace(L, 1);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  warc_options o;
  lwarc_options(L, 2, &o);
  lua_settop(L, 2);
  lua_newtable(L);  /* 3: the files */
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  if (n == 0) return luaL_error(L, "glean.warc: no files given");
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    const char *path = lua_tostring(L, -1);
    if (!path) return luaL_error(L, "glean.warc: files[%d] is not a string", (int)i);
    lua_pushvalue(L, 3);
    lwarc_add_path(L, path);
    lua_pop(L, 2);
  }
  size_t count = lua_rawlen(L, 3);
  const char **paths = lua_newuserdatauv(L, count * sizeof *paths, 0);  /* 4: freed by Lua */
  for (size_t i = 0; i < count; i++) {
    lua_rawgeti(L, 3, (lua_Integer)i + 1);
    paths[i] = lua_tostring(L, -1);
    lua_pop(L, 1);  /* the list keeps the string */
  }
  lwarc *w = lwarc_push(L);
  char err[200];
  if (!(w->r = warc_open_files(paths, count, &o, err, sizeof err))) return luaL_error(L, "glean.warc: %s", err);
  lua_pushvalue(L, 3);
  return 2;
}

/* glean.warc_string(bytes [, name [, options]]) -> WarcReader */
static int lwarc_open_string(lua_State *L) {
  size_t len;
  const char *data = luaL_checklstring(L, 1, &len);
  const char *name = luaL_optstring(L, 2, "string");
  warc_options o;
  lwarc_options(L, 3, &o);
  lwarc *w = lwarc_push(L);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);  /* the bytes live as long as the reader */
  char err[200];
  if (!(w->r = warc_open_memory(data, len, name, &o, err, sizeof err))) return luaL_error(L, "glean.warc: %s", err);
  return 1;
}

/* r:next() -> Response, or nil at the end */
static int lwarc_next(lua_State *L) {
  lwarc *w = lwarc_check(L);
  fetch_response *res;
  char err[200];
  int got = warc_next(w->r, &res, err, sizeof err);
  if (got < 0) return luaL_error(L, "glean.warc: %s", err);
  if (!got) return 0;
  lfetch_push_owned(L, res);
  return 1;
}

static void lwarc_set(lua_State *L, const char *key, uint64_t n) {
  lua_pushinteger(L, (lua_Integer)n);
  lua_setfield(L, -2, key);
}

/* r:where() -> {file = N (from 1), name = PATH, member = M, skip = S} */
static int lwarc_where(lua_State *L) {
  lwarc *w = lwarc_check(L);
  size_t file;
  warc_pos pos;
  warc_where(w->r, &file, &pos);
  lua_createtable(L, 0, 4);
  lwarc_set(L, "file", file + 1);
  lua_pushstring(L, warc_file_name(w->r, file));
  lua_setfield(L, -2, "name");
  lwarc_set(L, "member", pos.member);
  lwarc_set(L, "skip", pos.skip);
  return 1;
}

static lua_Integer lwarc_field(lua_State *L, const char *key) {
  lua_getfield(L, 2, key);
  lua_Integer n = luaL_optinteger(L, -1, 0);
  lua_pop(L, 1);
  if (n < 0) luaL_error(L, "WarcReader:seek: '%s' must not be negative", key);
  return n;
}

/* r:seek(where): goes to where r:where() said (a resumed run). */
static int lwarc_seek(lua_State *L) {
  lwarc *w = lwarc_check(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer file = lwarc_field(L, "file");
  if (file < 1) return luaL_error(L, "WarcReader:seek: 'file' must be a file number from 1");
  warc_pos pos = {(uint64_t)lwarc_field(L, "member"), (uint64_t)lwarc_field(L, "skip")};
  char err[300];
  if (warc_seek(w->r, (size_t)file - 1, pos, err, sizeof err) != 0) return luaL_error(L, "%s", err);
  return 0;
}

static int lwarc_stats(lua_State *L) {
  lwarc *w = lwarc_check(L);
  warc_stats st = warc_get_stats(w->r);
  lua_createtable(L, 0, 4);
  lwarc_set(L, "records", st.records);
  lwarc_set(L, "responses", st.responses);
  lwarc_set(L, "skipped", st.skipped);
  lwarc_set(L, "bytes", st.bytes);
  return 1;
}

static int lwarc_close(lua_State *L) {
  lwarc *w = luaL_checkudata(L, 1, LWARC_READER);
  warc_close(w->r);
  w->r = NULL;
  return 0;
}

void lwarc_open(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"next", lwarc_next}, {"where", lwarc_where}, {"seek", lwarc_seek}, {"stats", lwarc_stats},
    {"close", lwarc_close}, {NULL, NULL},
  };
  luaL_newmetatable(L, LWARC_READER);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, lwarc_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, lwarc_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
  lua_pushcfunction(L, lwarc_open_files);
  lua_setfield(L, -2, "warc");
  lua_pushcfunction(L, lwarc_open_string);
  lua_setfield(L, -2, "warc_string");
}
