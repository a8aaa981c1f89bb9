/* buf.h — a growable byte buffer, always NUL-terminated, used wherever the
 * core builds a string of unknown length (text, serialization, JSON). */
#ifndef GLEAN_BUF_H
#define GLEAN_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "mem.h"

typedef struct buf {
  char *data;   /* NUL-terminated once anything was appended; NULL when empty */
  size_t len;
  size_t cap;
  bool failed;  /* an allocation failed: further appends are ignored */
  const mem_allocator *mem;  /* where data comes from (NULL: malloc); must outlive the buf */
} buf;

#define BUF_INIT {NULL, 0, 0, false, NULL}
#define BUF_WITH(m) {NULL, 0, 0, false, (m)}

void buf_append(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_reset(buf *b);    /* length 0, keeps the memory */
void buf_free(buf *b);    /* empty again, with the same allocator */
const char *buf_str(const buf *b);  /* "" when empty */

#endif
