/* sink.h — where records go. A sink takes one record at a time as JSON text
 * and stores it whole; this interface is what the JSON Lines, CSV, SQLite
 * and callback sinks implement. */
#ifndef GLEAN_SINK_H
#define GLEAN_SINK_H

#include <stddef.h>

typedef struct sink sink;

struct sink {
  /* Stores one record (JSON text without a trailing newline). Returns 0, or
   * -1 with a message in err. */
  int (*write)(sink *s, const char *json, size_t len, char *err, size_t errlen);
  /* Makes what was written durable as the sink's fsync policy says (file
   * sinks), or commits the open batch (SQLite). */
  int (*flush)(sink *s, char *err, size_t errlen);
  /* Where the output stands after the last flush, for crawl state that must
   * resume it exactly: bytes in the file for JSON Lines and CSV; -1 when
   * it cannot be brought back (a pipe, a terminal). NULL (with rewind) in
   * sinks that never can (the callback) or need not be (an upserting sink:
   * a record written twice is kept once). */
  long long (*position)(sink *s);
  /* Brings the output back to a position it reported (after a kill, the
   * records past it are written again). Returns 0, or -1 with a message. */
  int (*rewind)(sink *s, long long pos, char *err, size_t errlen);
  void (*close)(sink *s);
};

/* JSON Lines on a file descriptor (stdout by default): each record is one
 * writev(2) of the whole line (the record is not copied), with signals held
 * off until it is written, so a record is never cut or interleaved, even
 * when the process is killed by a signal. The fd is not closed by close(). */
sink *sink_jsonl_fd(int fd);

/* Hands each record to fn(ud, json, len) (json NUL-terminated too), on the
 * thread that writes it. fn returns 0 when it took the record; anything else
 * refuses it, and write fails with "refused by the host". For programs that
 * embed glean and keep the records themselves. */
typedef int (*sink_record_fn)(void *ud, const char *json, size_t len);
sink *sink_callback(sink_record_fn fn, void *ud);

#endif
