/* lpath.c — glean.path, the runtime's internal module (package.preload,
 * not part of the glean table adapters get) for file names: what
 * glean.sandbox needs to keep an adapter's reads inside its folder.
 *   real(path) -> the absolute path with every symlink, "." and ".."
 *                 resolved (realpath(3)), or nil, message */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lglean.h"

static int lpath_real(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char *resolved = realpath(path, NULL);
  if (!resolved) {
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  lua_pushstring(L, resolved);
  free(resolved);
  return 1;
}

void lpath_open(lua_State *L) {
  static const luaL_Reg funcs[] = {{"real", lpath_real}, {NULL, NULL}};
  lglean_preload(L, "glean.path", funcs);
}
