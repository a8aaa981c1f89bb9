/* mem.h — where the core's allocations that grow with what its caller asks
 * for come from: the C library's, or the caller's allocator. A binding
 * passes its Lua state's (lua_Alloc has this contract), so that what adapter
 * code makes the core allocate counts against the state's memory limit and
 * is refused past it, as Lua's own allocations are. */
#ifndef GLEAN_MEM_H
#define GLEAN_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* fn(ud, NULL, 0, n) allocates, fn(ud, p, old, n) resizes, fn(ud, p, old, 0)
 * frees; NULL when it cannot (or may not) allocate. */
typedef void *(*mem_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct mem_allocator {
  mem_fn fn;
  void *ud;
} mem_allocator;

/* m may be NULL everywhere: the C library's malloc, realloc and free. */
void *mem_alloc(const mem_allocator *m, size_t size);
void *mem_calloc(const mem_allocator *m, size_t n, size_t size);
void *mem_realloc(const mem_allocator *m, void *p, size_t old, size_t size);
void mem_free(const mem_allocator *m, void *p, size_t size);
bool mem_same(const mem_allocator *a, const mem_allocator *b);

#endif
