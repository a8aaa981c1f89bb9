/* ljson.h — glean.json: JSON text for Lua values. Encoding writes straight
 * into a buf (glean.emit uses it for records); decoding goes through cJSON. */
#ifndef GLEAN_LJSON_H
#define GLEAN_LJSON_H

#include <lua.h>

#include "buf.h"

/* Pushes the glean.json table: encode, decode, array, object, null. */
int luaopen_glean_json(lua_State *L);

/* Appends the JSON text of the value at idx to out and returns 0, leaving
 * the stack as it was. Raises a Lua error naming the problem and where it
 * is ("json.encode: cannot encode function at .tags[3]"); out then holds
 * whatever was appended before the error, so a caller's buf must be freed
 * by something that survives the error (a to-be-closed value, say). */
int ljson_encode(lua_State *L, int idx, buf *out);

/* Pushes an empty buf as a to-be-closed value: freed when the calling C
 * function returns or raises, for use with ljson_encode. Its memory is the
 * state's (lglean_mem): the text counts against the memory limit. */
buf *ljson_push_buffer(lua_State *L);

#endif
