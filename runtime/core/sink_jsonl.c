/* sink_jsonl.c — the JSON Lines sink (see sink.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "sink.h"

typedef struct {
  sink base;
  int fd;
  buf line;
} sink_jsonl;

static int sink_jsonl_write(sink *s, const char *json, size_t len, char *err, size_t errlen) {
  sink_jsonl *j = (sink_jsonl *)s;
  buf_reset(&j->line);
  buf_append(&j->line, json, len);
  buf_putc(&j->line, '\n');
  if (j->line.failed) {
    snprintf(err, errlen, "out of memory for a %zu-byte record", len);
    return -1;
  }
  /* Signals that would end the process wait until the line is out. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  const char *p = j->line.data;
  size_t left = j->line.len;
  int rc = 0;
  while (left) {
    ssize_t w = write(j->fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      snprintf(err, errlen, "writing a record: %s", strerror(errno));
      rc = -1;
      break;
    }
    p += w;
    left -= (size_t)w;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}

static int sink_jsonl_flush(sink *s, char *err, size_t errlen) {
  (void)s; (void)err; (void)errlen;
  return 0; /* every record went out with its own write */
}

static void sink_jsonl_close(sink *s) {
  sink_jsonl *j = (sink_jsonl *)s;
  buf_free(&j->line);
  free(j);
}

sink *sink_jsonl_fd(int fd) {
  sink_jsonl *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->base.write = sink_jsonl_write;
  j->base.flush = sink_jsonl_flush;
  j->base.close = sink_jsonl_close;
  j->fd = fd;
  return &j->base;
}
