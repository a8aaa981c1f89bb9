/* warc_write.c — the WARC/1.1 writer (see warc_write.h). SHA-1 comes from
 * OpenSSL's libcrypto: the fastest SHA-1 Debian packages (SHA-NI and AVX2
 * code paths), and already in the process, since Debian's libcurl links
 * it. The gzip members come from ISA-L's igzip rather than zlib: on the
 * Coins2Day pages (164 KB) zlib's fastest level takes 1.4-2.3 ms a page,
 * more than the whole crawl's CPU per page without a WARC, and igzip's
 * level 1 0.3 ms for the same size (44 KB); libdeflate's level 1, 0.8. */
#include "warc_write.h"

#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "sink_file.h"

/* The UUID text of a WARC-Record-ID: "<urn:uuid:" 36 ">". */
#define WARC_ID_LEN 47

struct warc_writer {
  char *prefix;            /* path without its extension ... */
  const char *ext;         /* ... which is ".warc.gz" or ".warc" */
  bool gzip;
  uint64_t max_size;
  char *software;
  unsigned next;           /* the number the next file tries first */
  sink_file file;          /* the file being written (fd -1 when none) */
  uint64_t size;           /* its bytes */
  unsigned exchanges;      /* exchanges in it */
  char info_id[WARC_ID_LEN + 1];  /* its warcinfo record's */
  EVP_MD *sha1;
  EVP_MD_CTX *block, *payload;
  struct isal_zstream z;
  unsigned char *z_level;  /* igzip's level 1 buffer */
  buf head;                /* the records' headers, being built */
  unsigned char *out;      /* an exchange's records, gzipped */
  size_t out_len, out_cap;
  unsigned char random[256];
  size_t random_left;
};

/* ---- small pieces ----------------------------------------------------- */

/* The file being written now (or the path's stem), for messages. */
static const char *warc_write_file(const warc_writer *w) { return w->file.name ? w->file.name : w->prefix; }

/* A version 4 UUID as a WARC-Record-ID, into out (WARC_ID_LEN + 1). */
static int warc_new_id(warc_writer *w, char *out) {
  if (w->random_left < 16) {
    /* A batch at a time: one getrandom(2) for sixteen IDs. */
    if (getrandom(w->random, sizeof w->random, 0) != (ssize_t)sizeof w->random) return -1;
    w->random_left = sizeof w->random;
  }
  unsigned char *u = w->random + sizeof w->random - w->random_left;
  w->random_left -= 16;
  u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
  u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
  snprintf(out, WARC_ID_LEN + 1,
           "<urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x>", u[0], u[1], u[2], u[3],
           u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  return 0;
}

/* WARC-Date, with microseconds as WARC/1.1 allows: 2026-12-08T02:31:01.123456Z. */
static void warc_date(double t, char *out, size_t outlen) {
  time_t secs = (time_t)t;
  long us = (long)((t - (double)secs) * 1e6);
  if (us < 0) us = 0;
  if (us > 999999) us = 999999;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char day[32];
  strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, outlen, "%s.%06ldZ", day, us);
}

/* "sha1:" and the digest in base32 (RFC 4648, 32 letters for 20 bytes). */
static void warc_digest_text(const unsigned char md[20], char out[38]) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  memcpy(out, "sha1:", 5);
  char *p = out + 5;
  for (int i = 0; i < 20; i += 5) {
    uint64_t v = 0;
    for (int k = 0; k < 5; k++) v = v << 8 | md[i + k];
    for (int k = 7; k >= 0; k--) *p++ = alphabet[(v >> (5 * k)) & 31];
  }
  *p = '\0';
}

/* The block's and the payload's digests: the block is head then payload. */
static int warc_digests(warc_writer *w, const char *head, size_t head_len, const char *payload, size_t payload_len,
                        char block_text[38], char payload_text[38]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (!EVP_DigestInit_ex2(w->block, w->sha1, NULL) || !EVP_DigestUpdate(w->block, head, head_len) ||
      !EVP_DigestUpdate(w->block, payload, payload_len) || !EVP_DigestFinal_ex(w->block, md, &n) || n != 20)
    return -1;
  warc_digest_text(md, block_text);
  if (!EVP_DigestInit_ex2(w->payload, w->sha1, NULL) || !EVP_DigestUpdate(w->payload, payload, payload_len) ||
      !EVP_DigestFinal_ex(w->payload, md, &n) || n != 20)
    return -1;
  warc_digest_text(md, payload_text);
  return 0;
}

/* Appends "Name: value\r\n" to the record header being built. */
static void warc_field(buf *b, const char *name, const char *value) {
  buf_puts(b, name);
  buf_puts(b, ": ");
  buf_puts(b, value);
  buf_puts(b, "\r\n");
}

/* Makes room for at least room more bytes in w->out. */
static int warc_out_room(warc_writer *w, size_t room) {
  if (w->out_cap - w->out_len >= room) return 0;
  size_t cap = w->out_cap * 2 > w->out_len + room ? w->out_cap * 2 : w->out_len + room;
  unsigned char *grown = realloc(w->out, cap);
  if (!grown) return -1;
  w->out = grown;
  w->out_cap = cap;
  return 0;
}

/* Appends a gzip member of the parts to w->out. */
static int warc_gzip(warc_writer *w, const struct iovec *parts, int n) {
  struct isal_zstream *z = &w->z;
  isal_deflate_init(z);
  z->level = 1;
  z->level_buf = w->z_level;
  z->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
  z->gzip_flag = IGZIP_GZIP;
  z->flush = NO_FLUSH;
  for (int i = 0; i < n; i++) {
    /* igzip counts in 32 bits: a part goes in slices of at most 1 GiB. */
    const unsigned char *p = parts[i].iov_base;
    size_t left = parts[i].iov_len;
    do {
      size_t slice = left < ((size_t)1 << 30) ? left : (size_t)1 << 30;
      z->next_in = (uint8_t *)p;
      z->avail_in = (uint32_t)slice;
      p += slice;
      left -= slice;
      z->end_of_stream = i == n - 1 && !left;
      /* Room for the slice as it is and some: stored blocks at worst. */
      do {
        if (warc_out_room(w, z->avail_in + z->avail_in / 8 + 1024) != 0) return -1;
        z->next_out = w->out + w->out_len;
        uint32_t room = (uint32_t)(w->out_cap - w->out_len < UINT32_MAX ? w->out_cap - w->out_len : UINT32_MAX);
        z->avail_out = room;
        if (isal_deflate(z) != COMP_OK) return -1;
        w->out_len += room - z->avail_out;
      } while (z->avail_in || (z->end_of_stream && z->internal_state.state != ZSTATE_END));
    } while (left);
  }
  return 0;
}

/* ---- records ---------------------------------------------------------- */

typedef struct warc_record {
  const char *type;           /* WARC-Type */
  const char *content_type;
  const char *id, *concurrent;
  const char *url, *ip, *date, *truncated, *filename;
  const char *block_head;     /* the block: head, then payload */
  size_t block_head_len;
  const char *payload;
  size_t payload_len;
  bool digests;
} warc_record;

/* Appends the record's header to w->head. */
static int warc_header(warc_writer *w, const warc_record *r) {
  buf *h = &w->head;
  buf_puts(h, "WARC/1.1\r\n");
  warc_field(h, "WARC-Type", r->type);
  warc_field(h, "WARC-Record-ID", r->id);
  warc_field(h, "WARC-Date", r->date);
  if (r->filename) warc_field(h, "WARC-Filename", r->filename);
  else warc_field(h, "WARC-Warcinfo-ID", w->info_id);
  if (r->url) warc_field(h, "WARC-Target-URI", r->url);
  if (r->ip && *r->ip) warc_field(h, "WARC-IP-Address", r->ip);
  if (r->concurrent) warc_field(h, "WARC-Concurrent-To", r->concurrent);
  if (r->digests) {
    char block[38], payload[38];
    if (warc_digests(w, r->block_head, r->block_head_len, r->payload, r->payload_len, block, payload) != 0) return -1;
    warc_field(h, "WARC-Block-Digest", block);
    warc_field(h, "WARC-Payload-Digest", payload);
  }
  if (r->truncated) warc_field(h, "WARC-Truncated", r->truncated);
  warc_field(h, "Content-Type", r->content_type);
  char len[32];
  snprintf(len, sizeof len, "%zu", r->block_head_len + r->payload_len);
  warc_field(h, "Content-Length", len);
  buf_puts(h, "\r\n");
  return h->failed ? -1 : 0;
}

#define WARC_PARTS 4  /* iovecs per record: header, block head, payload, end */

/* The record as iovecs into parts: its header (at head in w->head), the
 * block's head and payload, and the two CRLFs that end a record. */
static void warc_parts(const warc_writer *w, const warc_record *r, size_t head, struct iovec *parts) {
  static const char end[] = "\r\n\r\n";
  parts[0] = (struct iovec){w->head.data + head, w->head.len - head};
  parts[1] = (struct iovec){(void *)r->block_head, r->block_head_len};
  parts[2] = (struct iovec){(void *)r->payload, r->payload_len};
  parts[3] = (struct iovec){(void *)end, 4};
}

/* Builds the records into v (n * WARC_PARTS iovecs): each its own gzip
 * member in w->out (then v[0] holds them all), or plain. Returns how many
 * iovecs, or -1 with a message. */
static int warc_build(warc_writer *w, const warc_record *const *recs, int n, struct iovec *v, char *err,
                      size_t errlen) {
  size_t heads[2];
  buf_reset(&w->head);
  w->out_len = 0;
  for (int i = 0; i < n; i++) {
    heads[i] = w->head.len;
    if (warc_header(w, recs[i]) != 0) {
      snprintf(err, errlen, "%s: out of memory building a record", warc_write_file(w));
      return -1;
    }
  }
  /* The headers are all in place: w->head no longer moves. */
  for (int i = 0; i < n; i++) {
    warc_parts(w, recs[i], heads[i], v + i * WARC_PARTS);
    v[i * WARC_PARTS].iov_len = (i + 1 < n ? heads[i + 1] : w->head.len) - heads[i];
    if (w->gzip && warc_gzip(w, v + i * WARC_PARTS, WARC_PARTS) != 0) {
      snprintf(err, errlen, "%s: cannot compress a record (out of memory)", warc_write_file(w));
      return -1;
    }
  }
  if (!w->gzip) return n * WARC_PARTS;
  v[0] = (struct iovec){w->out, w->out_len};
  return 1;
}

static size_t warc_size(const struct iovec *v, int n) {
  size_t total = 0;
  for (int i = 0; i < n; i++) total += v[i].iov_len;
  return total;
}

/* Writes what warc_build made, as one write. */
static int warc_put(warc_writer *w, struct iovec *v, int n, char *err, size_t errlen) {
  size_t total = warc_size(v, n);
  if (sink_file_write(&w->file, v, n, err, errlen) != 0) return -1;
  w->size += total;
  return 0;
}

/* ---- files ------------------------------------------------------------ */

static void warc_close_file(warc_writer *w) {
  if (w->file.fd < 0) return;
  fdatasync(w->file.fd);
  close(w->file.fd);
  sink_file_close(&w->file);
  w->file.fd = -1;
}

static int warc_info(warc_writer *w, const char *name, char *err, size_t errlen) {
  char date[40];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  warc_date((double)ts.tv_sec + (double)ts.tv_nsec / 1e9, date, sizeof date);
  if (warc_new_id(w, w->info_id) != 0) {
    snprintf(err, errlen, "%s: no random bytes for a record ID: %s", name, strerror(errno));
    return -1;
  }
  buf fields = BUF_INIT;
  warc_field(&fields, "software", w->software);
  warc_field(&fields, "format", "WARC File Format 1.1");
  warc_field(&fields, "conformsTo", "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/");
  if (fields.failed) {
    buf_free(&fields);
    snprintf(err, errlen, "%s: out of memory", name);
    return -1;
  }
  const char *slash = strrchr(name, '/');
  warc_record r = {.type = "warcinfo", .content_type = "application/warc-fields", .id = w->info_id, .date = date,
                   .filename = slash ? slash + 1 : name, .block_head = fields.data, .block_head_len = fields.len,
                   .payload = "", .digests = false};
  const warc_record *recs[] = {&r};
  struct iovec v[WARC_PARTS];
  int nv = warc_build(w, recs, 1, v, err, errlen);
  int rc = nv < 0 ? -1 : warc_put(w, v, nv, err, errlen);
  buf_free(&fields);
  return rc;
}

/* Creates the next numbered file that does not exist yet, and starts it
 * with its warcinfo record. */
static int warc_open_file(warc_writer *w, char *err, size_t errlen) {
  buf name = BUF_INIT;
  int fd = -1;
  for (;; w->next++) {
    buf_reset(&name);
    char num[16];
    snprintf(num, sizeof num, "-%05u", w->next);
    buf_puts(&name, w->prefix);
    buf_puts(&name, num);
    buf_puts(&name, w->ext);
    if (name.failed) {
      snprintf(err, errlen, "%s%s: out of memory", w->prefix, w->ext);
      buf_free(&name);
      return -1;
    }
    fd = open(name.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST) break;
  }
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot create: %s", name.data, strerror(errno));
    buf_free(&name);
    return -1;
  }
  w->next++;
  sink_file_fd(&w->file, fd, name.data);
  w->size = 0;
  w->exchanges = 0;
  int rc = w->file.name ? warc_info(w, name.data, err, errlen) : -1;
  if (!w->file.name) snprintf(err, errlen, "%s: out of memory", name.data);
  buf_free(&name);
  if (rc != 0) warc_close_file(w);
  return rc;
}

warc_writer *warc_write_open(const char *path, uint64_t max_size, const char *software, char *err, size_t errlen) {
  size_t n = strlen(path);
  const char *ext = n > 8 && strcmp(path + n - 8, ".warc.gz") == 0 ? ".warc.gz"
                    : n > 5 && strcmp(path + n - 5, ".warc") == 0  ? ".warc"
                                                                   : NULL;
  if (!ext) {
    snprintf(err, errlen, "%s: a WARC file's name must end in .warc.gz (compressed) or .warc", path);
    return NULL;
  }
  warc_writer *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  w->file.fd = -1;
  w->ext = ext;
  w->gzip = strcmp(ext, ".warc.gz") == 0;
  w->max_size = max_size;
  w->prefix = strndup(path, n - strlen(ext));
  w->software = strdup(software ? software : "glean");
  w->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
  w->block = EVP_MD_CTX_new();
  w->payload = EVP_MD_CTX_new();
  if (!w->prefix || !w->software || !w->sha1 || !w->block || !w->payload) {
    snprintf(err, errlen, "%s: out of memory (or no SHA-1 in libcrypto)", path);
    warc_write_close(w);
    return NULL;
  }
  /* Level 1: a crawl's pages go by at hundreds a second; level 3 takes
   * nearly twice the CPU for 4% less size. */
  if (w->gzip && !(w->z_level = malloc(ISAL_DEF_LVL1_DEFAULT))) {
    snprintf(err, errlen, "%s: out of memory", path);
    warc_write_close(w);
    return NULL;
  }
  if (warc_open_file(w, err, errlen) != 0) {
    warc_write_close(w);
    return NULL;
  }
  return w;
}

/* Builds the exchange's two records into v, naming the current file's
 * warcinfo; returns how many iovecs, or -1. */
static int warc_build_exchange(warc_writer *w, const warc_exchange *x, struct iovec *v, char *err, size_t errlen) {
  char req_id[WARC_ID_LEN + 1], res_id[WARC_ID_LEN + 1], date[40];
  if (warc_new_id(w, req_id) != 0 || warc_new_id(w, res_id) != 0) {
    snprintf(err, errlen, "%s: no random bytes for a record ID: %s", warc_write_file(w), strerror(errno));
    return -1;
  }
  warc_date(x->time, date, sizeof date);
  warc_record req = {.type = "request", .content_type = "application/http;msgtype=request", .id = req_id,
                     .concurrent = res_id, .url = x->url, .ip = x->ip, .date = date, .block_head = x->req_head,
                     .block_head_len = x->req_head_len, .payload = x->req_body ? x->req_body : "",
                     .payload_len = x->req_body_len, .digests = true};
  warc_record res = {.type = "response", .content_type = "application/http;msgtype=response", .id = res_id,
                     .concurrent = req_id, .url = x->url, .ip = x->ip, .date = date, .truncated = x->truncated,
                     .block_head = x->res_head, .block_head_len = x->res_head_len,
                     .payload = x->res_body ? x->res_body : "", .payload_len = x->res_body_len, .digests = true};
  const warc_record *recs[] = {&req, &res};
  return warc_build(w, recs, 2, v, err, errlen);
}

int warc_write_exchange(warc_writer *w, const warc_exchange *x, char *err, size_t errlen) {
  if (w->file.fd < 0 && warc_open_file(w, err, errlen) != 0) return -1;
  struct iovec v[2 * WARC_PARTS];
  int nv = warc_build_exchange(w, x, v, err, errlen);
  if (nv >= 0 && w->max_size && w->exchanges && w->size + warc_size(v, nv) > w->max_size) {
    /* Full: on to the next file, whose warcinfo the records name. */
    warc_close_file(w);
    if (warc_open_file(w, err, errlen) != 0) return -1;
    nv = warc_build_exchange(w, x, v, err, errlen);
  }
  if (nv < 0 || warc_put(w, v, nv, err, errlen) != 0) return -1;
  w->exchanges++;
  return 0;
}

void warc_write_close(warc_writer *w) {
  if (!w) return;
  warc_close_file(w);
  free(w->z_level);
  EVP_MD_CTX_free(w->block);
  EVP_MD_CTX_free(w->payload);
  EVP_MD_free(w->sha1);
  buf_free(&w->head);
  free(w->out);
  free(w->prefix);
  free(w->software);
  free(w);
}
