/* sink_callback.c — the callback sink (see sink.h): records go to a function
 * of the embedding program. */
#include <stdio.h>
#include <stdlib.h>

#include "sink.h"

typedef struct {
  sink base;
  sink_record_fn fn;
  void *ud;
} sink_cb;

static int sink_callback_write(sink *s, const char *json, size_t len, char *err, size_t errlen) {
  sink_cb *c = (sink_cb *)s;
  if (c->fn(c->ud, json, len) == 0) return 0;
  snprintf(err, errlen, "refused by the host");
  return -1;
}

static int sink_callback_flush(sink *s, char *err, size_t errlen) {
  (void)s; (void)err; (void)errlen;
  return 0; /* the host had each record as it came */
}

static void sink_callback_close(sink *s) { free(s); }

sink *sink_callback(sink_record_fn fn, void *ud) {
  sink_cb *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->base.write = sink_callback_write;
  c->base.flush = sink_callback_flush;
  c->base.close = sink_callback_close;
  c->fn = fn;
  c->ud = ud;
  return &c->base;
}
