/* warc_read.h — reads WARC archives (WARC/1.0 and 1.1: .warc, .warc.gz with
 * one gzip member per record or one for all, several files in a row, or a
 * memory buffer) as a stream in bounded buffers, and gives each HTTP
 * response they hold as a fetch_response: the archived status and headers,
 * the body with its chunked transfer coding and Content-Encoding undone,
 * the media type and charset of its Content-Type, the record's
 * WARC-Target-URI as its URL. `resource` records give their block as a 200
 * body; `revisit` records give the record they point to (WARC-Refers-To,
 * else WARC-Refers-To-Target-URI and -Date, else the payload digest) when
 * it was read before, under the revisit's URL.
 *
 * Damage is passed over, never fatal: a record cut short, a gzip member
 * that does not inflate, a Content-Length that lies, an HTTP message
 * without a status line, a record not of HTTP, an ARC file: each is one
 * warning to the logger naming the file and byte offset, and reading goes
 * on at the next record (found again by its "WARC/" line, or the next gzip
 * member). Nothing here knows of Lua. */
#ifndef GLEAN_WARC_READ_H
#define GLEAN_WARC_READ_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "log.h"

/* Where a record starts in a file: the byte offset of its gzip member and
 * the uncompressed bytes before it in that member (a record of a file that
 * holds one member per record is at skip 0); for a file not compressed,
 * member 0 and the byte offset in skip. */
typedef struct warc_pos {
  uint64_t member;
  uint64_t skip;
} warc_pos;

typedef struct warc_options {
  size_t max_body;    /* decoded body bytes of one record (0: no limit); a
                         record past it is passed over with a warning */
  size_t max_index;   /* keys remembered for revisits to find records by,
                         up to three a record (0: 250,000, a table of 16 MB
                         at most); revisits of records past it are warned of */
  const logger *log;  /* warnings; NULL: silent */
} warc_options;

typedef struct warc_stats {
  uint64_t records;    /* WARC records read, of every type */
  uint64_t responses;  /* responses given by warc_next (revisits too) */
  uint64_t skipped;    /* records passed over for damage, and gzip members
                          that do not inflate (each warned of) */
  uint64_t bytes;      /* of the files, as stored (compressed) */
} warc_stats;

typedef struct warc_reader warc_reader;

/* A reader of the n files, in order (names copied). NULL with a message in
 * err if out of memory; a file that cannot be opened is a warning when its
 * turn comes. */
warc_reader *warc_open_files(const char *const *paths, size_t n, const warc_options *opt, char *err,
                             size_t errlen);
/* A reader of len bytes at data (borrowed: they must outlive the reader),
 * called name in warnings. */
warc_reader *warc_open_memory(const void *data, size_t len, const char *name, const warc_options *opt,
                              char *err, size_t errlen);

/* Goes to a record of file number `file` (from 0) at pos, as warc_where
 * gave it (a resumed run); file n (the number of files), pos {0, 0}: past
 * them all. -1 with a message in err if there is no such file or place. */
int warc_seek(warc_reader *r, size_t file, warc_pos pos, char *err, size_t errlen);

/* The next response: 1 with *out (the caller's, for fetch_response_free);
 * 0 at the end of the last file; -1 out of memory (message in err). */
int warc_next(warc_reader *r, fetch_response **out, char *err, size_t errlen);

/* Where the record after those given so far starts: what warc_seek takes. */
void warc_where(const warc_reader *r, size_t *file, warc_pos *pos);
const char *warc_file_name(const warc_reader *r, size_t file);
warc_stats warc_get_stats(const warc_reader *r);

void warc_close(warc_reader *r);

#endif
