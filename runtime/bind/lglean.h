/* lglean.h — what the Lua binding files share: the per-state runtime (logger
 * and record sink) and each part's registration function. */
#ifndef GLEAN_LGLEAN_H
#define GLEAN_LGLEAN_H

#include <lauxlib.h>
#include <lua.h>

#include "log.h"
#include "sink.h"

typedef struct lglean_runtime {
  logger log;
  sink *records;
} lglean_runtime;

/* Pushes b's contents as a string and frees b; raises "out of memory" if
 * building b failed. */
struct buf;
void lglean_push_buf(lua_State *L, struct buf *b);

/* The runtime of this Lua state (created by luaopen_glean). */
lglean_runtime *lglean_get(lua_State *L);

/* Pushes a Document that takes ownership of dom (see ldom.c). */
struct dom_doc;
void ldom_push_document(lua_State *L, struct dom_doc *dom, const char *url);

/* Each adds its functions to the glean table at the top of the stack. */
void ldom_open(lua_State *L);
void llog_open(lua_State *L);
void lfetch_open(lua_State *L);
void lcrawl_open(lua_State *L);
void ltime_open(lua_State *L);

#endif
