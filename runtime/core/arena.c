/* arena.c — bump allocator for documents (see arena.h). */
#include "arena.h"

#include <stdint.h>
#include <string.h>

typedef struct chunk {
  struct chunk *prev;
  size_t size;   /* usable bytes after the header */
  size_t used;
} chunk;

struct arena {
  chunk *head;
  size_t reserved;
  mem_allocator mem;
};

#define ARENA_ALIGN 16
#define ARENA_FIRST_CHUNK ((size_t)64 << 10)
#define ARENA_MAX_CHUNK ((size_t)4 << 20)
#define CHUNK_HEADER ((sizeof(chunk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

arena *arena_new(const mem_allocator *m) {
  arena *a = mem_calloc(m, 1, sizeof *a);
  if (!a) return NULL;
  if (m) a->mem = *m;
  a->reserved = sizeof *a;
  return a;
}

static chunk *arena_grow(arena *a, size_t need) {
  /* Chunks double up to a cap so a small document costs little and a large
   * one needs few system allocations. */
  size_t size = a->head ? a->head->size * 2 : ARENA_FIRST_CHUNK;
  if (size > ARENA_MAX_CHUNK) size = ARENA_MAX_CHUNK;
  if (size < need) size = need;
  if (size > SIZE_MAX - CHUNK_HEADER) return NULL;
  chunk *c = mem_alloc(&a->mem, CHUNK_HEADER + size);
  if (!c) return NULL;
  c->prev = a->head;
  c->size = size;
  c->used = 0;
  a->head = c;
  a->reserved += CHUNK_HEADER + size;
  return c;
}

void *arena_alloc(arena *a, size_t size) {
  if (size > SIZE_MAX - ARENA_ALIGN) return NULL;
  size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  chunk *c = a->head;
  if (!c || c->size - c->used < size) {
    c = arena_grow(a, size);
    if (!c) return NULL;
  }
  void *p = (char *)c + CHUNK_HEADER + c->used;
  c->used += size;
  return p;
}

char *arena_strndup(arena *a, const char *s, size_t len) {
  char *p = arena_alloc(a, len + 1);
  if (!p) return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

size_t arena_size(const arena *a) { return a->reserved; }

void arena_free(arena *a) {
  if (!a) return;
  for (chunk *c = a->head; c;) {
    chunk *prev = c->prev;
    mem_free(&a->mem, c, CHUNK_HEADER + c->size);
    c = prev;
  }
  mem_allocator m = a->mem;
  mem_free(&m, a, sizeof *a);
}
