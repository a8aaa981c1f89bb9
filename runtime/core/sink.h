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

/* How much a file sink does to make records survive a power loss (a killed
 * process loses nothing written whatever the policy): never (the kernel
 * writes them when it likes), batch (fdatasync, or SQLite's commit with
 * synchronous=FULL, at the end of each batch and at flush), always (after
 * every record). */
typedef enum { SINK_FSYNC_BATCH, SINK_FSYNC_NEVER, SINK_FSYNC_ALWAYS } sink_fsync;

typedef struct sink_options {
  sink_fsync fsync;
  /* Column order (CSV, SQLite), NULL-terminated; NULL: the file's header or
   * table if it has one, else the first record's keys, sorted. */
  const char *const *fields;
  const char *key;        /* the record's identity (SQLite's UNIQUE column); NULL: "url" */
  const char *table;      /* SQLite; NULL: "records" */
  unsigned batch_records; /* a batch ends after this many records (0: 500) */
  double batch_seconds;   /* or this long after its first (0: 1) */
} sink_options;

#define SINK_BATCH_RECORDS 500
#define SINK_BATCH_SECONDS 1.0

/* Each opens (creating it, appending to what it holds) the file at path;
 * NULL with a message naming the file in err. */
sink *sink_jsonl_open(const char *path, const sink_options *o, char *err, size_t errlen);
/* RFC 4180, CRLF line ends, UTF-8; a header row once (a file that has one
 * must match the fields). Strings quoted when they need it (and the empty
 * string always, so that it differs from null: an empty cell); nested
 * values as JSON text. */
sink *sink_csv_open(const char *path, const sink_options *o, char *err, size_t errlen);
/* One table, a column per field (no declared type: values keep theirs;
 * nested ones as JSON text), the key UNIQUE, each record an upsert; WAL;
 * records committed in batches. */
sink *sink_sqlite_open(const char *path, const sink_options *o, char *err, size_t errlen);

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
