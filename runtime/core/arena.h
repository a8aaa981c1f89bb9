/* arena.h — a bump allocator that backs one parsed document. Gumbo allocates
 * through it, so a tree is freed with one call instead of Gumbo's recursive
 * destructor (which overflows the stack on deep trees), and parsing skips
 * malloc's bookkeeping for the many small nodes. */
#ifndef GLEAN_ARENA_H
#define GLEAN_ARENA_H

#include <stddef.h>

#include "mem.h"

typedef struct arena arena;

/* m: where the arena and its chunks come from (NULL: malloc); copied. */
arena *arena_new(const mem_allocator *m);
void *arena_alloc(arena *a, size_t size);  /* NULL when out of memory */
char *arena_strndup(arena *a, const char *s, size_t len);
size_t arena_size(const arena *a);          /* bytes reserved from the system */
void arena_free(arena *a);

#endif
