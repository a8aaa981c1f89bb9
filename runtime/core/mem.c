/* mem.c — allocation through the caller's allocator (see mem.h). */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *mem_alloc(const mem_allocator *m, size_t size) {
  if (!m || !m->fn) return malloc(size ? size : 1);
  return m->fn(m->ud, NULL, 0, size ? size : 1);
}

void *mem_calloc(const mem_allocator *m, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  void *p = mem_alloc(m, n * size);
  if (p) memset(p, 0, n * size);
  return p;
}

void *mem_realloc(const mem_allocator *m, void *p, size_t old, size_t size) {
  if (!m || !m->fn) return realloc(p, size ? size : 1);
  return m->fn(m->ud, p, p ? old : 0, size ? size : 1);
}

void mem_free(const mem_allocator *m, void *p, size_t size) {
  if (!p) return;
  if (!m || !m->fn) free(p);
  else m->fn(m->ud, p, size, 0);
}

bool mem_same(const mem_allocator *a, const mem_allocator *b) {
  bool a_libc = !a || !a->fn, b_libc = !b || !b->fn;
  if (a_libc || b_libc) return a_libc == b_libc;
  return a->fn == b->fn && a->ud == b->ud;
}
