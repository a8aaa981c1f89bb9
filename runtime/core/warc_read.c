/* warc_read.c — the WARC reader (see warc_read.h), in three layers: a
 * source (a file or memory, inflated member by member when gzip, into one
 * lookahead buffer that never spans two members, so that every byte has a
 * resumable position), the record layer (version line, WARC headers,
 * Content-Length bytes of block, the CRLF CRLF after it, and the search for
 * the next record after damage), and the HTTP layer the block is streamed
 * through (status line and headers by fetch_headers.c, chunked transfer
 * coding, Content-Encoding by fetch_decode.c, the body into the
 * fetch_response it ends in: one copy, out of the lookahead buffer). */
#include "warc_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "buf.h"
#include "fetch_decode.h"
#include "fetch_headers.h"

#define WARC_OUT (256 * 1024)    /* the lookahead buffer: also the longest header line */
#define WARC_IN (64 * 1024)      /* compressed bytes read at once */
#define WARC_MAX_HEADERS 1000    /* header lines of a record, and of its HTTP message */
#define WARC_MAX_HEAD (256 * 1024)  /* bytes of either */
#define WARC_RESEEK_MAX (16u << 20)  /* see read_record */
#define WARC_INDEX_DEFAULT 250000  /* entries: a table of at most 512 Ki x 32 bytes */

/* ---- sources ----------------------------------------------------------------- */

typedef struct source {
  const char *name;
  FILE *f;                       /* a file, or */
  const unsigned char *mem;      /* memory */
  size_t mem_len;
  uint64_t raw_pos;              /* offset of the next raw byte not yet in `in` */
  unsigned char *in;             /* raw bytes read, from in_off on not yet used */
  size_t in_off, in_len;
  bool raw_eof;
  bool gz;
  z_stream z;
  bool z_init, z_live;           /* z_live: inside a member */
  uint64_t member;               /* where the current member starts (plain: 0) */
  uint64_t base;                 /* position in the member of out[0] (plain: the file offset) */
  unsigned char *out;
  size_t off, len;               /* out[off, len): bytes not yet used */
  bool member_end;               /* no more bytes in this member after out[len] */
  bool eof;                      /* nor after it */
  unsigned breaks;               /* damaged members passed over so far */
  const logger *log;
} source;

static uint64_t src_raw_at(const source *s) { return s->raw_pos - (s->in_len - s->in_off); }

static void src_raw_seek(source *s, uint64_t at) {
  s->raw_pos = at;
  s->in_off = s->in_len = 0;
  s->raw_eof = at > (s->f ? UINT64_MAX : s->mem_len);
  if (s->f && fseeko(s->f, (off_t)at, SEEK_SET) != 0) s->raw_eof = true;
}

/* Up to n raw bytes at dst, from the file or memory; 0 at the end. */
static size_t src_raw_read(source *s, unsigned char *dst, size_t n) {
  if (s->raw_eof) return 0;
  if (s->f) {
    n = fread(dst, 1, n, s->f);
  } else {
    size_t left = s->raw_pos < s->mem_len ? s->mem_len - (size_t)s->raw_pos : 0;
    if (n > left) n = left;
    memcpy(dst, s->mem + s->raw_pos, n);
  }
  s->raw_pos += n;
  if (!n) s->raw_eof = true;
  return n;
}

/* Raw bytes available in `in` (0 at the end). */
static size_t src_raw_fill(source *s) {
  if (s->in_off < s->in_len) return s->in_len - s->in_off;
  s->in_off = 0;
  s->in_len = src_raw_read(s, s->in, WARC_IN);
  return s->in_len;
}

static void src_warn(const source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void src_warn(const source *s, const char *fmt, ...) {
  if (!s->log) return;
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_msg(s->log, LOG_WARN, "%s: %s", s->name, msg);
}

/* Starts the gzip member that begins at raw offset `at`, or the first one
 * after it (bytes between members are passed over, with a warning unless
 * they are the rest of a damaged member); eof if there is none. */
static void src_start_member(source *s, uint64_t at, bool after_damage) {
  src_raw_seek(s, at);
  s->off = s->len = 0;
  s->base = 0;
  for (;;) {
    size_t have = s->in_len - s->in_off;
    if (have < 3) {
      memmove(s->in, s->in + s->in_off, have);
      s->in_off = 0;
      s->in_len = have;
      size_t n = src_raw_read(s, s->in + have, WARC_IN - have);
      s->in_len += n;
      if (n) continue;
      if (s->in_len && !after_damage) src_warn(s, "bytes %" PRIu64 " to the end are not a gzip member: ignored", at);
      s->in_off = s->in_len;
      s->member_end = s->eof = true;
      s->z_live = false;
      return;
    }
    const unsigned char *p = s->in + s->in_off, *hit = NULL;
    for (const unsigned char *q = p; q + 2 < s->in + s->in_len; q++)
      if (q[0] == 0x1f && q[1] == 0x8b && q[2] == 8) {
        hit = q;
        break;
      }
    if (hit) {
      s->in_off += (size_t)(hit - p);
      break;
    }
    s->in_off = s->in_len - 2;  /* a magic may begin in the last two */
  }
  uint64_t found = src_raw_at(s);
  if (found != at && !after_damage) src_warn(s, "bytes %" PRIu64 " to %" PRIu64 " are not a gzip member: passed over", at, found);
  s->member = found;
  s->member_end = false;
  if (!s->z_init) {
    memset(&s->z, 0, sizeof s->z);
    if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
      s->member_end = s->eof = true;
      return;
    }
    s->z_init = true;
  } else {
    inflateReset(&s->z);
  }
  s->z_live = true;
}

/* More bytes of the current member at out[len]; 0 at its end. */
static size_t src_more(source *s) {
  if (s->member_end || s->eof) return 0;
  size_t room = WARC_OUT - s->len;
  if (!room) return 0;
  if (!s->gz) {
    size_t n = src_raw_read(s, s->out + s->len, room);
    s->len += n;
    if (!n) s->member_end = s->eof = true;
    return n;
  }
  s->z.next_out = s->out + s->len;
  s->z.avail_out = (uInt)room;
  while (s->z.avail_out == room) {
    if (!src_raw_fill(s)) {
      s->member_end = s->eof = true;  /* the member cut short: the record layer tells */
      break;
    }
    s->z.next_in = s->in + s->in_off;
    s->z.avail_in = (uInt)(s->in_len - s->in_off);
    int rc = inflate(&s->z, Z_NO_FLUSH);
    s->in_off = s->in_len - s->z.avail_in;
    if (rc == Z_STREAM_END) {
      s->member_end = true;
      s->z_live = false;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      src_warn(s, "damaged gzip member at byte %" PRIu64 " (%s): going on at the next member", s->member,
               s->z.msg ? s->z.msg : "inflate failed");
      s->breaks++;
      src_start_member(s, s->member + 1, true);  /* what is left of this one goes too */
      return 0;
    }
  }
  size_t n = room - s->z.avail_out;
  s->len += n;
  return n;
}

/* The member that follows the current one, which is used up. */
static void src_next_member(source *s) {
  if (!s->gz || s->eof) {
    s->eof = true;
    return;
  }
  src_start_member(s, src_raw_at(s), false);
}

/* Makes at least `need` bytes available at out[off] if the member has
 * them (fewer at its end). When none are left, goes on to the next member
 * if `cross`. Returns the bytes available: 0 at the end of the input (or,
 * without cross, of the member). */
static size_t src_avail_to(source *s, size_t need, bool cross) {
  if (need > WARC_OUT) need = WARC_OUT;
  for (;;) {
    if (s->len - s->off >= need) return s->len - s->off;
    if (s->off == s->len || WARC_OUT - s->off < need) {
      memmove(s->out, s->out + s->off, s->len - s->off);
      s->len -= s->off;
      s->base += s->off;
      s->off = 0;
    }
    unsigned breaks = s->breaks;
    if (src_more(s)) continue;
    if (s->breaks != breaks) continue;  /* a new member after damage */
    if (s->len > s->off || s->eof || !cross) return s->len - s->off;
    src_next_member(s);
  }
}

static size_t src_avail(source *s, size_t need) { return src_avail_to(s, need, true); }

static warc_pos src_pos(const source *s) { return (warc_pos){s->gz ? s->member : 0, s->base + s->off}; }

/* Opens a source on a file (path) or memory; -1 with errno if the file
 * cannot be opened. */
static int src_open(source *s, const char *name, const char *path, const void *mem, size_t mem_len,
                    const logger *log) {
  memset(s, 0, sizeof *s);
  s->name = name;
  s->log = log;
  s->in = malloc(WARC_IN);
  s->out = malloc(WARC_OUT);
  if (!s->in || !s->out) {
    free(s->in);
    free(s->out);
    errno = ENOMEM;
    return -1;
  }
  if (path) {
    if (!(s->f = fopen(path, "rb"))) {
      int e = errno;
      free(s->in);
      free(s->out);
      errno = e;
      return -1;
    }
  } else {
    s->mem = mem;
    s->mem_len = mem_len;
  }
  if (src_raw_fill(s) >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
    s->gz = true;
    src_start_member(s, 0, false);
  } else {
    src_raw_seek(s, 0);
  }
  return 0;
}

static void src_close(source *s) {
  if (s->f) fclose(s->f);
  if (s->z_init) inflateEnd(&s->z);
  free(s->in);
  free(s->out);
  memset(s, 0, sizeof *s);
}

/* Goes to pos: -1 if it is past the end. */
static int src_seek(source *s, warc_pos pos) {
  s->breaks = 0;
  s->eof = s->member_end = false;
  s->off = s->len = 0;
  if (!s->gz) {
    src_raw_seek(s, pos.skip);
    s->base = pos.skip;
    if (!s->f && pos.skip > s->mem_len) return -1;
    return 0;
  }
  src_start_member(s, pos.member, false);
  if (s->eof || s->member != pos.member) return -1;
  for (uint64_t left = pos.skip; left;) {
    size_t n = src_avail(s, 1);
    if (!n || s->member != pos.member) return -1;
    size_t take = n < left ? n : (size_t)left;
    s->off += take;
    left -= take;
  }
  return 0;
}

/* One line (LF included, if it has one) at *line, valid until the source
 * is next used; 0 at the end of the input, -1 for one longer than the
 * buffer. */
static int src_line(source *s, const char **line, size_t *len) {
  size_t have = src_avail(s, 1);
  if (!have) return 0;
  for (;;) {
    const unsigned char *start = s->out + s->off;
    const unsigned char *nl = memchr(start, '\n', have);
    if (nl) {
      *line = (const char *)start;
      *len = (size_t)(nl - start) + 1;
      s->off += *len;
      return 1;
    }
    if (have >= WARC_OUT) return -1;
    size_t more = src_avail(s, have + 1);
    if (more <= have) {  /* the member or input ends without a LF */
      *line = (const char *)s->out + s->off;
      *len = more;
      s->off += more;
      return 1;
    }
    have = more;
  }
}

/* Passes over bytes up to the next line that starts "WARC/" (or a member
 * that does), this one too if line_start; false at the end of the input. */
static bool src_resync(source *s, bool line_start) {
  if (line_start && src_avail(s, 5) >= 5 && memcmp(s->out + s->off, "WARC/", 5) == 0) return true;
  for (;;) {
    size_t have = src_avail(s, 6);
    if (!have) return false;
    const unsigned char *p = s->out + s->off;
    if (s->gz && s->base + s->off == 0 && have >= 5 && memcmp(p, "WARC/", 5) == 0) return true;
    for (size_t i = 0; i + 6 <= have; i++) {
      if (p[i] == '\n' && memcmp(p + i + 1, "WARC/", 5) == 0) {
        s->off += i + 1;
        return true;
      }
    }
    /* Keep the last five: a match may begin there. */
    if (have > 5) s->off += have - 5;
    else s->off += have;  /* the member's end: what is left cannot be a match */
  }
}

/* ---- the HTTP message in a block ----------------------------------------------- */

typedef enum { HTTP_HEAD, HTTP_BODY, HTTP_RAW, HTTP_FAILED } http_state;
typedef enum { CHUNK_SIZE, CHUNK_EXT, CHUNK_DATA, CHUNK_DATA_END, CHUNK_TRAILER, CHUNK_DONE } chunk_state;

typedef struct http_parse {
  http_state state;
  buf head;                 /* the message's head, until its blank line */
  long status;
  headers_collector headers;
  bool chunked;
  chunk_state chunk;
  uint64_t chunk_left;
  int chunk_digits;
  bool trailer_line_empty;
  decoder *dec;
  buf body;
  size_t max_body;
  char err[300];
} http_parse;

static void http_init(http_parse *h, bool raw, size_t max_body) {
  memset(h, 0, sizeof *h);
  h->state = raw ? HTTP_RAW : HTTP_HEAD;
  h->max_body = max_body;
  headers_init(&h->headers, WARC_MAX_HEADERS, WARC_MAX_HEAD);
}

static void http_free(http_parse *h) {
  buf_free(&h->head);
  buf_free(&h->body);
  headers_clear(&h->headers);
  decoder_free(h->dec);
  h->dec = NULL;
}

__attribute__((format(printf, 2, 3))) static bool http_fail(http_parse *h, const char *fmt, ...) {
  if (h->state == HTTP_FAILED) return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(h->err, sizeof h->err, fmt, ap);
  va_end(ap);
  h->state = HTTP_FAILED;
  return false;
}

static bool http_keep(void *ud, const char *data, size_t len) {
  http_parse *h = ud;
  if (h->max_body && h->body.len + len > h->max_body)
    return http_fail(h, "its body is larger than max_body (%zu bytes)", h->max_body);
  buf_append(&h->body, data, len);
  return !h->body.failed || http_fail(h, "out of memory");
}

/* Body bytes as transferred, chunked coding undone: through the
 * Content-Encoding decoder, if any, into the body. */
static bool http_payload(http_parse *h, const char *data, size_t len) {
  if (!len) return true;
  if (!h->dec) return http_keep(h, data, len);
  char err[200];
  decode_result rc = decoder_feed(h->dec, data, len, http_keep, h, err, sizeof err);
  if (rc == DECODE_ERROR) return http_fail(h, "Content-Encoding: %s", err);
  return rc == DECODE_OK;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool http_chunked(http_parse *h, const char *p, size_t len) {
  const char *end = p + len;
  while (p < end) {
    switch (h->chunk) {
    case CHUNK_SIZE: {
      int d = hex_digit(*p);
      if (d >= 0) {
        if (++h->chunk_digits > 15) return http_fail(h, "a chunk size is too large");
        h->chunk_left = h->chunk_left * 16 + (uint64_t)d;
        p++;
      } else if (!h->chunk_digits) {
        return http_fail(h, "bad chunked transfer coding (no chunk size)");
      } else {
        h->chunk = CHUNK_EXT;
      }
      break;
    }
    case CHUNK_EXT:  /* ";ext" and the CRLF */
      if (*p++ == '\n') {
        h->chunk = h->chunk_left ? CHUNK_DATA : CHUNK_TRAILER;
        h->trailer_line_empty = true;
      }
      break;
    case CHUNK_DATA: {
      size_t take = (uint64_t)(end - p) < h->chunk_left ? (size_t)(end - p) : (size_t)h->chunk_left;
      if (!http_payload(h, p, take)) return false;
      p += take;
      h->chunk_left -= take;
      if (!h->chunk_left) h->chunk = CHUNK_DATA_END;
      break;
    }
    case CHUNK_DATA_END:
      if (*p == '\n') {
        h->chunk = CHUNK_SIZE;
        h->chunk_digits = 0;
      } else if (*p != '\r') {
        return http_fail(h, "bad chunked transfer coding (no CRLF after a chunk)");
      }
      p++;
      break;
    case CHUNK_TRAILER:
      if (*p == '\n') {
        if (h->trailer_line_empty) h->chunk = CHUNK_DONE;
        h->trailer_line_empty = true;
      } else if (*p != '\r') {
        h->trailer_line_empty = false;
      }
      p++;
      break;
    case CHUNK_DONE:
      return true;  /* what follows the last chunk is ignored */
    }
  }
  return true;
}

static bool http_body(http_parse *h, const char *p, size_t len) {
  return h->chunked ? http_chunked(h, p, len) : http_payload(h, p, len);
}

/* The head is whole (head_len bytes of h->head): its status and headers;
 * what came after it is body. */
static bool http_head_done(http_parse *h, size_t head_len) {
  const char *p = buf_str(&h->head), *end = p + head_len;
  if (head_len < 12 || memcmp(p, "HTTP/", 5) != 0) {
    size_t n = strcspn(p, "\r\n");
    return http_fail(h, "no HTTP status line (it begins '%.*s')", (int)(n > 40 ? 40 : n), p);
  }
  const char *sp = memchr(p, ' ', (size_t)(end - p));
  if (!sp || end - sp < 4 || sp[1] < '1' || sp[1] > '9' || sp[2] < '0' || sp[2] > '9' || sp[3] < '0' ||
      sp[3] > '9' || (end - sp > 4 && sp[4] != ' ' && sp[4] != '\r' && sp[4] != '\n'))
    return http_fail(h, "a bad HTTP status line");
  long status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
  for (const char *line = p; line < end;) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t n = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
    if (!headers_line(&h->headers, line, n))
      return http_fail(h, h->headers.status == HEADERS_NO_MEMORY ? "out of memory" : "too many HTTP headers");
    line += n;
  }
  size_t rest = h->head.len - head_len;
  char *after = malloc(rest + 1);
  if (!after) return http_fail(h, "out of memory");
  memcpy(after, buf_str(&h->head) + head_len, rest);
  buf_reset(&h->head);
  if (status >= 100 && status < 200) {
    /* An interim response: the final one follows. */
    headers_clear(&h->headers);
    buf_append(&h->head, after, rest);
    free(after);
    return !h->head.failed || http_fail(h, "out of memory");
  }
  h->status = status;
  const char *te = headers_find(&h->headers, "transfer-encoding");
  for (const char *t = te; t && *t && !h->chunked; t++) h->chunked = strncasecmp(t, "chunked", 7) == 0;
  char err[200];
  if (decoder_new(headers_find(&h->headers, "content-encoding"), &h->dec, err, sizeof err) != 0) {
    free(after);
    return http_fail(h, "%s", err);
  }
  h->state = HTTP_BODY;
  bool ok = http_body(h, after, rest);
  free(after);
  return ok;
}

/* Where the head ends in b (after its blank line), or 0. */
static size_t head_end(const buf *b, size_t from) {
  const char *p = buf_str(b);
  for (size_t i = from; i < b->len; i++) {
    if (p[i] != '\n') continue;
    if (i + 1 < b->len && p[i + 1] == '\n') return i + 2;
    if (i + 2 < b->len && p[i + 1] == '\r' && p[i + 2] == '\n') return i + 3;
  }
  return 0;
}

static void http_feed(http_parse *h, const char *p, size_t len) {
  switch (h->state) {
  case HTTP_RAW:
    http_keep(h, p, len);
    return;
  case HTTP_BODY:
    http_body(h, p, len);
    return;
  case HTTP_FAILED:
    return;
  case HTTP_HEAD:
    break;
  }
  /* A little at a time: the bytes after the head are copied once more. */
  while (len && h->state == HTTP_HEAD) {
    size_t from = h->head.len > 3 ? h->head.len - 3 : 0;
    size_t take = len < 4096 ? len : 4096;
    buf_append(&h->head, p, take);
    if (h->head.failed) {
      http_fail(h, "out of memory");
      return;
    }
    p += take;
    len -= take;
    size_t end;
    while (h->state == HTTP_HEAD && (end = head_end(&h->head, from))) {
      if (!http_head_done(h, end)) return;
      from = 0;  /* after an interim response, the next head */
    }
    if (h->state == HTTP_HEAD && h->head.len >= WARC_MAX_HEAD) {
      http_fail(h, "its HTTP head is over %d bytes", WARC_MAX_HEAD);
      return;
    }
  }
  if (len) http_feed(h, p, len);
}

/* The block is over: 0, or -1 with the reason in h->err. */
static int http_finish(http_parse *h) {
  if (h->state == HTTP_HEAD && h->head.len) {
    /* A head without its blank line: a message without a body. */
    buf_append(&h->head, "\r\n\r\n", 4);
    http_head_done(h, h->head.len);
  }
  if (h->state == HTTP_HEAD) return http_fail(h, "an empty HTTP message"), -1;
  if (h->state == HTTP_FAILED) return -1;
  if (h->chunked && h->chunk != CHUNK_DONE)
    return http_fail(h, "its chunked body is cut short"), -1;
  char err[200];
  if (h->dec && decoder_finish(h->dec, err, sizeof err) != 0)
    return http_fail(h, "Content-Encoding: %s", err), -1;
  return 0;
}

/* ---- the revisit index ----------------------------------------------------------- */

typedef struct index_entry {
  uint64_t key;     /* 0: free */
  uint64_t file;
  warc_pos pos;
} index_entry;

static uint64_t index_key(char kind, const char *a, const char *b) {
  uint64_t h = 1469598103934665603ull;
  h = (h ^ (unsigned char)kind) * 1099511628211ull;
  for (const char *p = a; p && *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (const char *p = b; p && *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return h ? h : 1;
}

/* ---- the reader ------------------------------------------------------------------ */

struct warc_reader {
  char **paths;
  size_t n;
  const void *mem;
  size_t mem_len;
  char *mem_name;
  size_t file;          /* the one being read */
  bool open;            /* src is that file's */
  source src;
  warc_options opt;
  index_entry *index;
  size_t index_cap, index_n;
  bool index_full_warned;
  warc_stats stats;
  uint64_t bytes_done;  /* of the files before this one */
  uint64_t breaks_done; /* their damaged gzip members */
};

static const char *reader_name(const warc_reader *r, size_t file) { return r->paths ? r->paths[file] : r->mem_name; }

static void index_put(warc_reader *r, uint64_t key, size_t file, warc_pos pos) {
  size_t max = r->opt.max_index ? r->opt.max_index : WARC_INDEX_DEFAULT;
  if (r->index_n >= max) {
    if (!r->index_full_warned && r->opt.log)
      log_msg(r->opt.log, LOG_WARN, "%s: over %zu keys of records kept for revisits: revisits of the records "
              "after this one are not resolved", reader_name(r, file), max);
    r->index_full_warned = true;
    return;
  }
  if (r->index_n * 4 >= r->index_cap * 3) {
    size_t cap = r->index_cap ? r->index_cap * 2 : 1024;
    index_entry *grown = calloc(cap, sizeof *grown);
    if (!grown) return;
    for (size_t i = 0; i < r->index_cap; i++) {
      if (!r->index[i].key) continue;
      size_t j = r->index[i].key & (cap - 1);
      while (grown[j].key) j = (j + 1) & (cap - 1);
      grown[j] = r->index[i];
    }
    free(r->index);
    r->index = grown;
    r->index_cap = cap;
  }
  size_t j = key & (r->index_cap - 1);
  while (r->index[j].key && r->index[j].key != key) j = (j + 1) & (r->index_cap - 1);
  if (!r->index[j].key) r->index_n++;
  r->index[j] = (index_entry){key, file, pos};
}

static const index_entry *index_get(const warc_reader *r, uint64_t key) {
  if (!r->index_cap) return NULL;
  for (size_t j = key & (r->index_cap - 1); r->index[j].key; j = (j + 1) & (r->index_cap - 1))
    if (r->index[j].key == key) return &r->index[j];
  return NULL;
}

static void where_text(const source *s, warc_pos pos, char *out, size_t len) {
  if (!s->gz) snprintf(out, len, "byte %" PRIu64, pos.skip);
  else if (!pos.skip) snprintf(out, len, "byte %" PRIu64, pos.member);
  else snprintf(out, len, "byte %" PRIu64 " (gzip member), %" PRIu64 " bytes into it", pos.member, pos.skip);
}

__attribute__((format(printf, 4, 5))) static void record_warn(warc_reader *r, const source *s, warc_pos pos,
                                                              const char *fmt, ...) {
  if (!r->opt.log) return;
  char where[120], msg[600];
  where_text(s, pos, where, sizeof where);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_msg(r->opt.log, LOG_WARN, "%s: record at %s: %s", s->name, where, msg);
}

/* A WARC-Target-URI as archives write it: in angle brackets (WARC 1.0's
 * grammar), with spaces around it or in it (encoded). NULL if empty or
 * out of memory. */
static char *clean_uri(const char *v, bool *had_space) {
  *had_space = false;
  while (*v == ' ' || *v == '\t') v++;
  size_t n = strlen(v);
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
  if (n >= 2 && v[0] == '<' && v[n - 1] == '>') v++, n -= 2;
  if (!n) return NULL;
  size_t spaces = 0;
  for (size_t i = 0; i < n; i++) spaces += v[i] == ' ';
  char *out = malloc(n + 2 * spaces + 1), *o = out;
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (v[i] == ' ') memcpy(o, "%20", 3), o += 3;
    else *o++ = v[i];
  }
  *o = '\0';
  *had_space = spaces > 0;
  return out;
}

static char *strip_brackets(const char *v) {
  if (!v) return NULL;
  while (*v == ' ') v++;
  size_t n = strlen(v);
  while (n && v[n - 1] == ' ') n--;
  if (n >= 2 && v[0] == '<' && v[n - 1] == '>') v++, n -= 2;
  return strndup(v, n);
}

/* After a block: its CRLF CRLF (LF LF too), which it takes; the end of
 * its gzip member or of the file will do as well. False if something else
 * follows: the block's Content-Length lied. */
static bool record_end(source *s) {
  size_t have = src_avail_to(s, 4, false);
  const unsigned char *p = s->out + s->off;
  size_t n = 0;
  while (n < have && n < 4 && (p[n] == '\r' || p[n] == '\n')) n++;
  if ((n == 4 && memcmp(p, "\r\n\r\n", 4) == 0) || (n >= 2 && memcmp(p, "\n\n", 2) == 0)) {
    s->off += n == 4 && p[0] == '\r' ? 4 : 2;
    return true;
  }
  if (n == have && (s->member_end || s->eof)) {
    s->off += n;
    return true;
  }
  return false;
}

typedef enum { READ_RECORD, READ_OTHER, READ_SKIPPED, READ_END, READ_NOMEM } read_result;

typedef struct record {
  warc_pos pos;
  char *type, *uri, *id, *date, *digest;
  char *refers_to, *refers_uri, *refers_date;
  char *ctype;          /* its block's Content-Type */
  fetch_response *res;  /* response and resource records; revisits' own head */
} record;

static void record_clear(record *rec) {
  free(rec->type), free(rec->uri), free(rec->id), free(rec->date), free(rec->digest);
  free(rec->refers_to), free(rec->refers_uri), free(rec->refers_date), free(rec->ctype);
  fetch_response_free(rec->res);
  memset(rec, 0, sizeof *rec);
}

static char *header_dup(const headers_collector *c, const char *name) {
  const char *v = headers_find(c, name);
  return v ? strdup(v) : NULL;
}

/* Reads the next record of s into rec. READ_RECORD: a response, resource
 * or revisit record with its message in rec->res; READ_OTHER: another
 * type, passed over; READ_SKIPPED: a damaged record, warned of; READ_END:
 * the end of the input (an ARC file's too). */
static read_result read_record(warc_reader *r, source *s, record *rec) {
  memset(rec, 0, sizeof *rec);
  unsigned breaks = s->breaks;
  const char *line;
  size_t len;
  int got;
  for (;;) {
    src_avail(s, 1);  /* past the end of a member: where the next one begins */
    rec->pos = src_pos(s);
    got = src_line(s, &line, &len);
    if (got <= 0) break;
    if (!(len == 1 || (len == 2 && line[0] == '\r'))) break;
  }
  if (got == 0) return READ_END;
  bool at_start = rec->pos.member == 0 && rec->pos.skip == 0;
  if (got < 0 || len < 5 || memcmp(line, "WARC/", 5) != 0) {
    if (got > 0 && at_start && len >= 11 && memcmp(line, "filedesc://", 11) == 0) {
      record_warn(r, s, rec->pos, "an ARC file, not WARC: not read");
      return READ_END;
    }
    size_t n = got < 0 ? 0 : strcspn(line, "\r\n") < len ? strcspn(line, "\r\n") : len;
    record_warn(r, s, rec->pos, "not a WARC record (it begins '%.*s'): looking for the next one",
                (int)(n > 40 ? 40 : n), got < 0 ? "" : line);
    r->stats.skipped++;
    if (!src_resync(s, got > 0 && line[len - 1] == '\n')) return READ_END;
    return READ_SKIPPED;
  }
  r->stats.records++;
  headers_collector h;
  headers_init(&h, WARC_MAX_HEADERS, WARC_MAX_HEAD);
  bool ended = false;
  while ((got = src_line(s, &line, &len)) > 0) {
    if (len == 1 || (len == 2 && line[0] == '\r')) {
      ended = true;
      break;
    }
    if (!headers_line(&h, line, len)) break;
  }
  if (!ended) {
    const char *why = got == 0 || s->eof ? "cut short: the file ends in its WARC headers"
                      : h.status == HEADERS_NO_MEMORY ? "out of memory"
                                                      : "its WARC headers are too long";
    record_warn(r, s, rec->pos, "%s: skipped", why);
    headers_clear(&h);
    r->stats.skipped++;
    if (got == 0) return READ_END;
    return src_resync(s, true) ? READ_SKIPPED : READ_END;
  }
  if (s->breaks != breaks) {  /* counted as the member's */
    record_warn(r, s, rec->pos, "in a damaged gzip member: skipped");
    headers_clear(&h);
    return READ_OTHER;
  }
  const char *cl = headers_find(&h, "content-length");
  char *cl_end = NULL;
  errno = 0;
  unsigned long long length = cl ? strtoull(cl, &cl_end, 10) : 0;
  if (!cl || cl_end == cl || *cl_end || errno || cl[0] == '-') {
    record_warn(r, s, rec->pos, "%s Content-Length: skipped", cl ? "a bad" : "no");
    headers_clear(&h);
    r->stats.skipped++;
    return src_resync(s, true) ? READ_SKIPPED : READ_END;
  }
  rec->type = header_dup(&h, "warc-type");
  for (char *p = rec->type; p && *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
  const char *type = rec->type ? rec->type : "";
  bool response = strcmp(type, "response") == 0, resource = strcmp(type, "resource") == 0,
       revisit = strcmp(type, "revisit") == 0;
  bool wanted = response || resource || revisit;
  const char *target = headers_find(&h, "warc-target-uri");
  bool had_space = false;
  if (wanted && target) rec->uri = clean_uri(target, &had_space);
  const char *ctype = rec->ctype = header_dup(&h, "content-type");
  bool http = ctype && strncasecmp(ctype, "application/http", 16) == 0;
  if (wanted) {
    rec->id = strip_brackets(headers_find(&h, "warc-record-id"));
    rec->date = header_dup(&h, "warc-date");
    rec->digest = header_dup(&h, "warc-payload-digest");
    rec->refers_to = strip_brackets(headers_find(&h, "warc-refers-to"));
    rec->refers_uri = strip_brackets(headers_find(&h, "warc-refers-to-target-uri"));
    rec->refers_date = header_dup(&h, "warc-refers-to-date");
  }
  headers_clear(&h);
  const char *problem = NULL;
  if (wanted && !rec->uri) problem = "no WARC-Target-URI";
  else if (response && !http && ctype && strncasecmp(ctype, "message/http", 12) != 0)
    problem = "not an HTTP response";
  if (wanted && had_space && !problem) record_warn(r, s, rec->pos, "spaces in its WARC-Target-URI: read as %s", rec->uri);

  warc_pos block = src_pos(s);
  http_parse hp;
  bool parse = (response || resource) && !problem;
  if (parse) http_init(&hp, resource && !http, r->opt.max_body);
  uint64_t left = length;
  while (left) {
    size_t n = src_avail(s, 1);
    if (!n || s->breaks != breaks) break;
    size_t take = n < left ? n : (size_t)left;
    if (parse) http_feed(&hp, (const char *)s->out + s->off, take);
    s->off += take;
    left -= take;
  }
  read_result result = READ_SKIPPED;
  if (s->breaks != breaks) {
    /* The source warned of the member (and counts it); the record goes
     * with it, and the next begins the member it went on at. */
    record_warn(r, s, rec->pos, "in a damaged gzip member: skipped");
    result = READ_OTHER;
  } else if (left) {
    record_warn(r, s, rec->pos, "cut short: the file ends after %llu of its %llu bytes: skipped",
                length - (unsigned long long)left, length);
    result = READ_END;
  } else if (!record_end(s)) {
    /* The next record may begin anywhere after these headers: they are
     * read again, unless that means inflating more than WARC_RESEEK_MAX
     * from the start of a member (a file in one member: each lie would
     * cost the file up to here), where the search goes on from here. */
    bool back = !s->gz || block.skip <= WARC_RESEEK_MAX;
    record_warn(r, s, rec->pos, "its Content-Length (%llu) does not end it where the next record begins: "
                "skipped%s", length, back ? "" : " (and what it spans: the file is one long gzip member)");
    if ((back && src_seek(s, block) != 0) || !src_resync(s, true)) result = READ_END;
  } else if (problem) {
    record_warn(r, s, rec->pos, "%s (%s): skipped", problem, type);
  } else if (revisit) {
    result = READ_RECORD;
  } else if (!parse) {
    result = READ_OTHER;
  } else if (http_finish(&hp) != 0) {
    record_warn(r, s, rec->pos, "%s %s: %s: skipped", type, rec->uri, hp.err);
  } else if (!(rec->res = calloc(1, sizeof *rec->res)) || !(rec->res->url = strdup(rec->uri))) {
    result = READ_NOMEM;
  } else {
    fetch_response *res = rec->res;
    res->status = hp.state == HTTP_RAW ? 200 : hp.status;
    res->body = hp.body;
    hp.body = (buf)BUF_INIT;
    if (hp.state == HTTP_RAW) {
      fetch_parse_content_type(ctype, &res->content_type, &res->charset);
    } else {
      headers_move(&hp.headers, res);
      fetch_parse_content_type(fetch_header_get(res, "content-type"), &res->content_type, &res->charset);
    }
    result = READ_RECORD;
  }
  if (parse) http_free(&hp);
  if (result == READ_SKIPPED || (result == READ_END && left)) r->stats.skipped++;
  return result;
}

/* The record a revisit points to, read again from where it was: its
 * message, or NULL (warned of). */
static fetch_response *resolve_revisit(warc_reader *r, record *rec, bool *nomem) {
  const index_entry *e = NULL;
  if (rec->refers_to) e = index_get(r, index_key('i', rec->refers_to, NULL));
  if (!e && rec->refers_uri && rec->refers_date) e = index_get(r, index_key('u', rec->refers_uri, rec->refers_date));
  if (!e && rec->digest) e = index_get(r, index_key('d', rec->digest, NULL));
  if (!e) {
    record_warn(r, &r->src, rec->pos, "revisit of %s: the record it points to is not in the input (before it): skipped",
                rec->refers_uri ? rec->refers_uri : rec->uri);
    r->stats.skipped++;
    return NULL;
  }
  source s;
  size_t file = (size_t)e->file;
  if (src_open(&s, reader_name(r, file), r->paths ? r->paths[file] : NULL, r->mem, r->mem_len, r->opt.log) != 0) {
    *nomem = errno == ENOMEM;
    return NULL;
  }
  record orig;
  fetch_response *res = NULL;
  if (src_seek(&s, e->pos) == 0 && read_record(r, &s, &orig) == READ_RECORD) {
    r->stats.records--;  /* counted when first read */
    res = orig.res;
    orig.res = NULL;
    free(res->url);
    res->url = rec->uri;
    rec->uri = NULL;
    record_clear(&orig);
  } else {
    record_warn(r, &r->src, rec->pos, "revisit of %s: the record it points to cannot be read again: skipped", rec->uri);
    r->stats.skipped++;
  }
  src_close(&s);
  return res;
}

static warc_reader *reader_new(const warc_options *opt) {
  warc_reader *r = calloc(1, sizeof *r);
  if (r && opt) r->opt = *opt;
  return r;
}

warc_reader *warc_open_files(const char *const *paths, size_t n, const warc_options *opt, char *err, size_t errlen) {
  warc_reader *r = reader_new(opt);
  if (r && !(r->paths = calloc(n ? n : 1, sizeof *r->paths))) {
    free(r);
    r = NULL;
  }
  for (size_t i = 0; r && i < n; i++) {
    if (!(r->paths[r->n++] = strdup(paths[i]))) {
      warc_close(r);
      r = NULL;
    }
  }
  if (!r) snprintf(err, errlen, "out of memory");
  return r;
}

warc_reader *warc_open_memory(const void *data, size_t len, const char *name, const warc_options *opt, char *err,
                              size_t errlen) {
  warc_reader *r = reader_new(opt);
  if (r && !(r->mem_name = strdup(name ? name : "memory"))) {
    free(r);
    r = NULL;
  }
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  r->mem = data ? data : "";
  r->mem_len = len;
  r->n = 1;
  return r;
}

static void reader_close_file(warc_reader *r) {
  if (!r->open) return;
  r->bytes_done += r->src.raw_pos;
  r->breaks_done += r->src.breaks;
  src_close(&r->src);
  r->open = false;
}

/* Opens file r->file if it is not: false if it cannot be (warned of). */
static int reader_open_file(warc_reader *r) {
  if (r->open) return 1;
  const char *name = reader_name(r, r->file);
  if (src_open(&r->src, name, r->paths ? name : NULL, r->mem, r->mem_len, r->opt.log) != 0) {
    if (errno == ENOMEM) return -1;
    if (r->opt.log) log_msg(r->opt.log, LOG_WARN, "%s: cannot open: %s", name, strerror(errno));
    return 0;
  }
  r->open = true;
  return 1;
}

int warc_seek(warc_reader *r, size_t file, warc_pos pos, char *err, size_t errlen) {
  reader_close_file(r);
  if (file == r->n && !pos.member && !pos.skip) {  /* past the last: all read */
    r->file = file;
    return 0;
  }
  if (file >= r->n) {
    snprintf(err, errlen, "no WARC file number %zu (there are %zu)", file + 1, r->n);
    return -1;
  }
  r->file = file;
  int opened = reader_open_file(r);
  if (opened <= 0) {
    snprintf(err, errlen, "%s: cannot open: %s", reader_name(r, file), opened < 0 ? "out of memory" : strerror(errno));
    return -1;
  }
  if (src_seek(&r->src, pos) != 0) {
    snprintf(err, errlen, "%s: no record at byte %" PRIu64 "+%" PRIu64 " (the file changed?)", reader_name(r, file),
             pos.member, pos.skip);
    return -1;
  }
  return 0;
}

int warc_next(warc_reader *r, fetch_response **out, char *err, size_t errlen) {
  *out = NULL;
  while (r->file < r->n) {
    int opened = reader_open_file(r);
    if (opened < 0) break;
    if (opened == 0) {
      r->file++;
      continue;
    }
    record rec;
    read_result got = read_record(r, &r->src, &rec);
    if (got == READ_NOMEM) break;
    if (got == READ_END) {
      record_clear(&rec);
      reader_close_file(r);
      r->file++;
      continue;
    }
    if (got != READ_RECORD) {
      record_clear(&rec);
      continue;
    }
    if (strcmp(rec.type, "revisit") == 0) {
      bool nomem = false;
      fetch_response *res = resolve_revisit(r, &rec, &nomem);
      if (nomem) {
        record_clear(&rec);
        break;
      }
      if (res) {
        r->stats.responses++;
        *out = res;
      }
      record_clear(&rec);
      if (res) {
        src_avail(&r->src, 1);
        return 1;
      }
      continue;
    }
    if (rec.id) index_put(r, index_key('i', rec.id, NULL), r->file, rec.pos);
    if (rec.date) index_put(r, index_key('u', rec.uri, rec.date), r->file, rec.pos);
    if (rec.digest) index_put(r, index_key('d', rec.digest, NULL), r->file, rec.pos);
    *out = rec.res;
    rec.res = NULL;
    record_clear(&rec);
    r->stats.responses++;
    src_avail(&r->src, 1);  /* so that warc_where names the next record's member */
    return 1;
  }
  if (r->file < r->n) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

void warc_where(const warc_reader *r, size_t *file, warc_pos *pos) {
  *file = r->file;
  *pos = r->open ? src_pos(&r->src) : (warc_pos){0, 0};
}

const char *warc_file_name(const warc_reader *r, size_t file) { return file < r->n ? reader_name(r, file) : NULL; }

warc_stats warc_get_stats(const warc_reader *r) {
  warc_stats st = r->stats;
  st.bytes = r->bytes_done + (r->open ? src_raw_at(&r->src) : 0);
  st.skipped += r->breaks_done + (r->open ? r->src.breaks : 0);  /* a damaged member is a record lost, or more */
  return st;
}

void warc_close(warc_reader *r) {
  if (!r) return;
  reader_close_file(r);
  for (size_t i = 0; r->paths && i < r->n; i++) free(r->paths[i]);
  free(r->paths);
  free(r->mem_name);
  free(r->index);
  free(r);
}
