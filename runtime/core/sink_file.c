/* sink_file.c — the file part of the JSON Lines and CSV sinks (see
 * sink_file.h). */
#include "sink_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double sink_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sink_file_policy(sink_file *f, const sink_options *o) {
  f->fsync = o ? o->fsync : SINK_FSYNC_BATCH;
  f->batch_records = o && o->batch_records ? o->batch_records : SINK_BATCH_RECORDS;
  f->batch_seconds = o && o->batch_seconds > 0 ? o->batch_seconds : SINK_BATCH_SECONDS;
}

void sink_file_fd(sink_file *f, int fd, const char *name) {
  memset(f, 0, sizeof *f);
  f->fd = fd;
  f->name = strdup(name);
  sink_file_policy(f, NULL);
  f->fsync = SINK_FSYNC_NEVER; /* a descriptor it was given: maybe a pipe */
}

int sink_file_open(sink_file *f, const char *path, const sink_options *o, char *err, size_t errlen) {
  memset(f, 0, sizeof *f);
  sink_file_policy(f, o);
  /* Not O_APPEND: the position before the first write must be the end. */
  f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f->fd < 0) {
    snprintf(err, errlen, "%s: cannot open for writing: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode) || lseek(f->fd, 0, SEEK_END) < 0) {
    snprintf(err, errlen, "%s: not a regular file", path);
    close(f->fd);
    return -1;
  }
  f->owned = true;
  f->name = strdup(path);
  if (!f->name) {
    snprintf(err, errlen, "%s: out of memory", path);
    close(f->fd);
    return -1;
  }
  return 0;
}

static int sink_file_sync(sink_file *f, char *err, size_t errlen) {
  f->pending = 0;
  if (f->fsync == SINK_FSYNC_NEVER) return 0;
  if (fdatasync(f->fd) != 0) {
    snprintf(err, errlen, "%s: fdatasync: %s", f->name, strerror(errno));
    return -1;
  }
  return 0;
}

int sink_file_write(sink_file *f, struct iovec *v, int n, char *err, size_t errlen) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  off_t start = lseek(f->fd, 0, SEEK_CUR);
  int rc = 0;
  while (n) {
    ssize_t w = writev(f->fd, v, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      snprintf(err, errlen, "%s: writing a record: %s", f->name, strerror(errno));
      if (start >= 0 && ftruncate(f->fd, start) == 0) lseek(f->fd, start, SEEK_SET);
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
  if (rc != 0) return rc;
  if (f->pending++ == 0) f->batch_start = sink_now();
  if (f->fsync == SINK_FSYNC_ALWAYS || f->pending >= f->batch_records ||
      sink_now() - f->batch_start >= f->batch_seconds)
    return sink_file_sync(f, err, errlen);
  return 0;
}

int sink_file_flush(sink_file *f, char *err, size_t errlen) {
  return f->pending ? sink_file_sync(f, err, errlen) : 0;
}

/* Only a regular file can be brought back; stdout to a pipe or a terminal
 * cannot. */
long long sink_file_position(sink_file *f) {
  struct stat st;
  if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  /* Opened to append (>>), the next line goes at the end, wherever the
   * offset is (0 before the first write). */
  int flags = fcntl(f->fd, F_GETFL);
  if (flags >= 0 && (flags & O_APPEND)) return (long long)st.st_size;
  off_t at = lseek(f->fd, 0, SEEK_CUR);
  return at < 0 ? -1 : (long long)at;
}

int sink_file_rewind(sink_file *f, long long pos, char *err, size_t errlen) {
  if (pos < 0 || ftruncate(f->fd, (off_t)pos) != 0 || lseek(f->fd, (off_t)pos, SEEK_SET) < 0) {
    snprintf(err, errlen, "bringing the records back to byte %lld: %s", pos,
             pos < 0 ? "not a position" : strerror(errno));
    return -1;
  }
  return 0;
}

void sink_file_close(sink_file *f) {
  char err[16];
  sink_file_flush(f, err, sizeof err);
  if (f->owned) close(f->fd);
  free(f->name);
  f->name = NULL;
}
