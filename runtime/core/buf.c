/* buf.c — growable byte buffer (see buf.h). */
#include "buf.h"

#include <string.h>

static bool buf_reserve(buf *b, size_t extra) {
  if (b->failed) return false;
  if (extra >= (size_t)-1 - b->len) { b->failed = true; return false; }
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
  char *p = mem_realloc(b->mem, b->data, b->cap, cap);
  if (!p) { b->failed = true; return false; }
  b->data = p;
  b->cap = cap;
  return true;
}

void buf_append(buf *b, const void *data, size_t len) {
  if (!buf_reserve(b, len)) return;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void buf_puts(buf *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_putc(buf *b, char c) { buf_append(b, &c, 1); }

void buf_reset(buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void buf_free(buf *b) {
  mem_free(b->mem, b->data, b->cap);
  *b = (buf)BUF_WITH(b->mem);
}

const char *buf_str(const buf *b) { return b->data ? b->data : ""; }
