/* glean.h — the public interface of libglean, the Lua-scriptable scraping
 * runtime. This is the only header an embedding program includes. */
#ifndef GLEAN_H
#define GLEAN_H

#ifdef __cplusplus
extern "C" {
#endif

struct lua_State;

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *glean_version(void);

/* Opens the glean Lua library into L and pushes its table: what
 * `require "glean"` returns. */
int luaopen_glean(struct lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
