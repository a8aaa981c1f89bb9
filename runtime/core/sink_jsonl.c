/* sink_jsonl.c — the JSON Lines sink (see sink.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sink.h"

typedef struct {
  sink base;
  int fd;
} sink_jsonl;

/* The record and its newline go out in one writev(2) (more only if the fd
 * takes part of it): no copy of the record is made, however big. */
static int sink_jsonl_write(sink *s, const char *json, size_t len, char *err, size_t errlen) {
  sink_jsonl *j = (sink_jsonl *)s;
  struct iovec iov[2] = {{(void *)json, len}, {(void *)"\n", 1}};
  struct iovec *v = iov;
  int n = 2;
  /* Signals that would end the process wait until the line is out. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int rc = 0;
  while (n) {
    ssize_t w = writev(j->fd, v, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      snprintf(err, errlen, "writing a record: %s", strerror(errno));
      rc = -1;
      break;
    }
    size_t done = (size_t)w;
    for (; n && done >= v->iov_len; v++, n--) done -= v->iov_len;
    if (n) {
      v->iov_base = (char *)v->iov_base + done;
      v->iov_len -= done;
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}

static int sink_jsonl_flush(sink *s, char *err, size_t errlen) {
  (void)s; (void)err; (void)errlen;
  return 0; /* every record went out with its own write */
}

/* Only a regular file can be brought back; stdout to a pipe or a terminal
 * cannot. */
static long long sink_jsonl_position(sink *s) {
  sink_jsonl *j = (sink_jsonl *)s;
  struct stat st;
  if (fstat(j->fd, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  /* Opened to append (>>), the next line goes at the end, wherever the
   * offset is (0 before the first write). */
  int flags = fcntl(j->fd, F_GETFL);
  if (flags >= 0 && (flags & O_APPEND)) return (long long)st.st_size;
  off_t at = lseek(j->fd, 0, SEEK_CUR);
  return at < 0 ? -1 : (long long)at;
}

static int sink_jsonl_rewind(sink *s, long long pos, char *err, size_t errlen) {
  sink_jsonl *j = (sink_jsonl *)s;
  if (pos < 0 || ftruncate(j->fd, (off_t)pos) != 0 || lseek(j->fd, (off_t)pos, SEEK_SET) < 0) {
    snprintf(err, errlen, "bringing the records back to byte %lld: %s", pos,
             pos < 0 ? "not a position" : strerror(errno));
    return -1;
  }
  return 0;
}

static void sink_jsonl_close(sink *s) {
  free(s);
}

sink *sink_jsonl_fd(int fd) {
  sink_jsonl *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->base.write = sink_jsonl_write;
  j->base.flush = sink_jsonl_flush;
  j->base.position = sink_jsonl_position;
  j->base.rewind = sink_jsonl_rewind;
  j->base.close = sink_jsonl_close;
  j->fd = fd;
  return &j->base;
}
