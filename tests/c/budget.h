/* budget.h — the allocator (mem.h) the C unit tests count with: what it
 * holds, its peak, and a limit past which it refuses, as a Lua state's with
 * a memory limit. */
#ifndef GLEAN_TEST_BUDGET_H
#define GLEAN_TEST_BUDGET_H

#include <stdlib.h>

typedef struct budget {
  size_t held, peak, limit;  /* limit 0: none */
  size_t refused;
} budget;

static void *budget_fn(void *ud, void *p, size_t old, size_t size) {
  budget *b = ud;
  if (!p) old = 0;
  if (size == 0) {
    free(p);
    b->held -= old;
    return NULL;
  }
  if (size > old && b->limit && b->held - old + size > b->limit) {
    b->refused++;
    return NULL;
  }
  void *q = realloc(p, size);
  if (q) {
    b->held = b->held - old + size;
    if (b->held > b->peak) b->peak = b->held;
  }
  return q;
}

#endif
