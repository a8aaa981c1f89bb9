/* sink_jsonl.c — the JSON Lines sink (see sink.h). */
#include <stdio.h>
#include <stdlib.h>

#include "sink_file.h"

typedef struct {
  sink base;
  sink_file file;
} sink_jsonl;

/* The record and its newline go out in one writev(2): no copy of the
 * record is made, however big. */
static int sink_jsonl_write(sink *s, const char *json, size_t len, char *err, size_t errlen) {
  struct iovec iov[2] = {{(void *)json, len}, {(void *)"\n", 1}};
  return sink_file_write(&((sink_jsonl *)s)->file, iov, 2, err, errlen);
}

static int sink_jsonl_flush(sink *s, char *err, size_t errlen) {
  return sink_file_flush(&((sink_jsonl *)s)->file, err, errlen);
}

static long long sink_jsonl_position(sink *s) { return sink_file_position(&((sink_jsonl *)s)->file); }

static int sink_jsonl_rewind(sink *s, long long pos, char *err, size_t errlen) {
  return sink_file_rewind(&((sink_jsonl *)s)->file, pos, err, errlen);
}

static void sink_jsonl_close(sink *s) {
  sink_file_close(&((sink_jsonl *)s)->file);
  free(s);
}

static sink_jsonl *sink_jsonl_new(void) {
  sink_jsonl *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->base.write = sink_jsonl_write;
  j->base.flush = sink_jsonl_flush;
  j->base.position = sink_jsonl_position;
  j->base.rewind = sink_jsonl_rewind;
  j->base.close = sink_jsonl_close;
  return j;
}

sink *sink_jsonl_fd(int fd) {
  sink_jsonl *j = sink_jsonl_new();
  if (!j) return NULL;
  sink_file_fd(&j->file, fd, "stdout");
  return &j->base;
}

sink *sink_jsonl_open(const char *path, const sink_options *o, char *err, size_t errlen) {
  sink_jsonl *j = sink_jsonl_new();
  if (!j || sink_file_open(&j->file, path, o, err, errlen) != 0) {
    if (!j) snprintf(err, errlen, "%s: out of memory", path);
    free(j);
    return NULL;
  }
  return &j->base;
}
