/* warc_write.h — the WARC/1.1 writer (--warc-out): record framing,
 * WARC-Block-Digest and WARC-Payload-Digest (SHA-1 in base32, "sha1:...",
 * as wget and warcio write them), one gzip member per record for .warc.gz
 * (plain records for .warc), and rotation by size into numbered files:
 * "crawl.warc.gz" is written as crawl-00000.warc.gz, crawl-00001.warc.gz,
 * ..., each starting with a warcinfo record. A run never appends to a file
 * another wrote: it takes the first number not yet there (O_EXCL), so a
 * resumed crawl, or two engines given the same path, each get their own.
 *
 * An exchange (its request and response records) is one write(2) with the
 * signals that would end the process held off (sink_file_write), and a
 * write that fails is cut back off the file: a killed process leaves whole
 * records only. Files are fdatasync'ed when they are full and at close, not
 * after each record: a power loss may cost the last ones.
 *
 * Knows nothing of HTTP libraries: the caller hands it each exchange's
 * bytes as they went and came (fetch_warc.c does, for the fetch engine).
 * Not thread-safe: one writer per thread. */
#ifndef GLEAN_WARC_WRITE_H
#define GLEAN_WARC_WRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct warc_writer warc_writer;

typedef struct warc_exchange {
  const char *url;          /* WARC-Target-URI */
  const char *ip;           /* WARC-IP-Address; NULL or "" when not known */
  double time;              /* when the request went, Unix seconds (WARC-Date) */
  const char *req_head;     /* the request line and headers, as sent */
  size_t req_head_len;
  const char *req_body;     /* the request body, as sent */
  size_t req_body_len;
  const char *res_head;     /* the status line and headers, up to and with
                               the empty line */
  size_t res_head_len;
  const char *res_body;     /* the body as transferred: the payload */
  size_t res_body_len;
  const char *truncated;    /* WARC-Truncated's reason ("length", "time",
                               "disconnect", "unspecified"), NULL if whole */
} warc_exchange;

/* Opens the first file of path ("NAME.warc.gz" or "NAME.warc"; any other
 * name is refused) and writes its warcinfo record, naming software. Files
 * are rotated once the next exchange would take one past max_size bytes (0:
 * never); an exchange larger than that still goes whole into a file of its
 * own. NULL with a message naming the file in err on failure. */
warc_writer *warc_write_open(const char *path, uint64_t max_size, const char *software, char *err, size_t errlen);

/* Writes the exchange's request and response records (each naming the
 * other in WARC-Concurrent-To). Returns 0, or -1 with a message naming the
 * file in err (nothing of the exchange stays in the file). */
int warc_write_exchange(warc_writer *w, const warc_exchange *x, char *err, size_t errlen);

/* Syncs and closes the file, frees the writer. NULL is fine. */
void warc_write_close(warc_writer *w);

#endif
