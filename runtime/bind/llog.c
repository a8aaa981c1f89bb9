/* llog.c — glean.log: leveled messages to the runtime's logger (stderr by
 * default), so that stdout carries records only.
 *   glean.log.info("fetched", url, n)   -- arguments joined like print's
 *   glean.log.set_level("debug")        -- also GLEAN_LOG_LEVEL=debug
 * A message is cut at LLOG_MAX bytes, its control characters escaped. */
#include <stdio.h>
#include <unistd.h>

#include "lglean.h"

/* The most of one message the log takes: an adapter's error, or a page's
 * text in it, may be any size. */
#define LLOG_MAX 8192

/* Adds s to b as the log shows it, control characters but newline and tab
 * as \ddd (a message must not drive the host's terminal), in at most *room
 * bytes, which it takes off. Returns the bytes of s left out. */
static size_t llog_add(luaL_Buffer *b, const char *s, size_t len, size_t *room) {
  size_t i = 0;
  for (; i < len && *room > 0; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      if (*room < 4) break;
      char esc[5];
      snprintf(esc, sizeof esc, "\\%03d", c);
      luaL_addlstring(b, esc, 4);
      *room -= 4;
    } else {
      luaL_addchar(b, (char)c);
      (*room)--;
    }
  }
  return len - i;
}

static int llog_write(lua_State *L) {
  log_level level = (log_level)lua_tointeger(L, lua_upvalueindex(1));
  lglean_runtime *rt = lglean_get(L);
  if (level < rt->log.level) return 0;
  int n = lua_gettop(L);
  for (int i = 1; i <= n; i++) {
    luaL_tolstring(L, i, NULL);
    lua_replace(L, i);
  }
  size_t room = LLOG_MAX, cut = 0;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *s = lua_tolstring(L, i, &len);
    if (i > 1) cut += llog_add(&b, " ", 1, &room);
    cut += llog_add(&b, s, len, &room);
  }
  if (cut) {
    char more[64];
    snprintf(more, sizeof more, " ... (%zu bytes more)", cut);
    luaL_addstring(&b, more);
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
