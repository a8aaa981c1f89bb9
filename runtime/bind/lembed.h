/* lembed.h — the runtime's own Lua modules (runtime/lua/glean/NAME.lua),
 * compiled into the library by cmake/embed_lua.cmake. */
#ifndef GLEAN_LEMBED_H
#define GLEAN_LEMBED_H

#include <stddef.h>

typedef struct lembed_module {
  const char *name;   /* "glean.crawl"; NULL ends the table */
  const char *source;
  size_t len;
} lembed_module;

extern const lembed_module lembed_modules[];

#endif
