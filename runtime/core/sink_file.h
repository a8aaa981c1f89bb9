/* sink_file.h — what the sinks that append to a file share (JSON Lines,
 * CSV): whole writes with signals held, the fsync policy and its batches,
 * and positions to resume from. */
#ifndef GLEAN_SINK_FILE_H
#define GLEAN_SINK_FILE_H

#include <stdbool.h>
#include <sys/uio.h>

#include "sink.h"

typedef struct sink_file {
  int fd;
  bool owned;          /* closed by sink_file_close */
  char *name;          /* for messages */
  sink_fsync fsync;
  unsigned batch_records, pending;
  double batch_seconds, batch_start;
} sink_file;

/* Opens path for appending (read and write: the CSV sink reads its
 * header). */
int sink_file_open(sink_file *f, const char *path, const sink_options *o, char *err, size_t errlen);
void sink_file_fd(sink_file *f, int fd, const char *name);
/* All of iov, as one writev(2) unless the fd takes less, with the signals
 * that would end the process held off meanwhile; a write that fails is
 * cut back off a regular file, so no part of it stays. */
int sink_file_write(sink_file *f, struct iovec *iov, int n, char *err, size_t errlen);
int sink_file_flush(sink_file *f, char *err, size_t errlen);
long long sink_file_position(sink_file *f);
int sink_file_rewind(sink_file *f, long long pos, char *err, size_t errlen);
void sink_file_close(sink_file *f);

/* Seconds on the monotonic clock, for batches. */
double sink_now(void);

#endif
