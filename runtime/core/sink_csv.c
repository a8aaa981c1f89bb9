/* sink_csv.c — the CSV sink (see sink.h): columns, the header row (written
 * once, checked against a file that has one), and rows, each one write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "record.h"
#include "sink_file.h"

typedef struct {
  sink base;
  sink_file file;
  char **columns;     /* NULL until known (from the fields, the file or the first record) */
  size_t ncolumns;
  bool from_fields;   /* the columns outlive a rewind to the start */
  bool header_out;    /* the file holds the header */
  record rec;
  buf row;
} sink_csv;

static void sink_csv_free_columns(sink_csv *c) {
  for (size_t i = 0; i < c->ncolumns; i++) free(c->columns[i]);
  free(c->columns);
  c->columns = NULL;
  c->ncolumns = 0;
}

static int sink_csv_set_columns(sink_csv *c, const char *const *names, size_t n) {
  sink_csv_free_columns(c);
  c->columns = calloc(n ? n : 1, sizeof *c->columns);
  if (!c->columns) return -1;
  for (size_t i = 0; i < n; i++) {
    if (!(c->columns[i] = strdup(names[i]))) return -1;
    c->ncolumns++;
  }
  return 0;
}

/* RFC 4180's quoting, needed for a comma, a quote, CR or LF; also for white
 * space at either end (readers that trim would lose it) and for the empty
 * string (an empty cell is null). */
static void sink_csv_cell(buf *b, const char *s, size_t len) {
  bool quote = len == 0 || s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t';
  for (size_t i = 0; i < len && !quote; i++)
    quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
  if (!quote) {
    buf_append(b, s, len);
    return;
  }
  buf_putc(b, '"');
  for (const char *q; len && (q = memchr(s, '"', len)); len -= (size_t)(q + 1 - s), s = q + 1) {
    buf_append(b, s, (size_t)(q + 1 - s));
    buf_putc(b, '"');
  }
  buf_append(b, s, len);
  buf_putc(b, '"');
}

static void sink_csv_header(sink_csv *c, buf *b) {
  for (size_t i = 0; i < c->ncolumns; i++) {
    if (i) buf_putc(b, ',');
    sink_csv_cell(b, c->columns[i], strlen(c->columns[i]));
  }
  buf_append(b, "\r\n", 2);
}

/* The first row of text (a header written by this sink or another): its
 * cells, or -1 when it is not one whole row. */
static int sink_csv_parse_header(const char *p, size_t len, char ***out, size_t *n) {
  buf cell = BUF_INIT;
  char **cells = NULL;
  size_t count = 0, i = 0;
  int rc = -1;
  for (;;) {
    buf_reset(&cell);
    if (i < len && p[i] == '"') {
      for (i++;; i++) {
        if (i >= len) goto done;
        if (p[i] == '"') {
          if (i + 1 < len && p[i + 1] == '"') { buf_putc(&cell, '"'); i++; }
          else { i++; break; }
        } else {
          buf_putc(&cell, p[i]);
        }
      }
    } else {
      size_t s = i;
      while (i < len && p[i] != ',' && p[i] != '\r' && p[i] != '\n' && p[i] != '"') i++;
      buf_append(&cell, p + s, i - s);
    }
    char **grown = realloc(cells, (count + 1) * sizeof *cells);
    if (!grown) goto done;
    cells = grown;
    cells[count++] = strdup(buf_str(&cell));
    if (i < len && p[i] == ',') { i++; continue; }
    if (i + 1 < len && p[i] == '\r' && p[i + 1] == '\n') break;
    if (i < len && p[i] == '\n') break;
    goto done;
  }
  rc = 0;
done:
  buf_free(&cell);
  if (rc != 0) {
    for (size_t k = 0; k < count; k++) free(cells[k]);
    free(cells);
    return -1;
  }
  *out = cells;
  *n = count;
  return 0;
}

static void sink_csv_list(buf *b, char *const *names, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i) buf_puts(b, ", ");
    buf_puts(b, names[i]);
  }
}

/* A file that holds something starts with its header: the fields must be
 * its columns, in order; without fields, its columns are the sink's. */
static int sink_csv_read_header(sink_csv *c, off_t size, char *err, size_t errlen) {
  size_t want = size > 65536 ? 65536 : (size_t)size;
  char *text = malloc(want);
  if (!text) return snprintf(err, errlen, "%s: out of memory", c->file.name), -1;
  ssize_t got = pread(c->file.fd, text, want, 0);
  char **cells = NULL;
  size_t n = 0;
  int bad = got <= 0 || sink_csv_parse_header(text, (size_t)got, &cells, &n) != 0;
  free(text);
  if (bad) {
    snprintf(err, errlen, "%s: the file does not start with a CSV header row", c->file.name);
    return -1;
  }
  int rc = 0;
  if (c->columns) {
    bool same = n == c->ncolumns;
    for (size_t i = 0; same && i < n; i++) same = strcmp(cells[i], c->columns[i]) == 0;
    if (!same) {
      buf b = BUF_INIT;
      sink_csv_list(&b, cells, n);
      buf_puts(&b, ") does not match the fields (");
      sink_csv_list(&b, c->columns, c->ncolumns);
      snprintf(err, errlen, "%s: its header (%s): another file, or fields = {...} in the order of its header",
               c->file.name, buf_str(&b));
      buf_free(&b);
      rc = -1;
    }
    for (size_t i = 0; i < n; i++) free(cells[i]);
    free(cells);
  } else {
    c->columns = cells;
    c->ncolumns = n;
  }
  c->header_out = rc == 0;
  return rc;
}

static int sink_csv_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int sink_csv_write(sink *s, const char *json, size_t len, char *err, size_t errlen) {
  sink_csv *c = (sink_csv *)s;
  char why[160];
  if (record_parse(&c->rec, json, len, why, sizeof why) != 0) {
    snprintf(err, errlen, "%s: %s", c->file.name, why);
    return -1;
  }
  if (!c->columns) {
    const char **keys = malloc((c->rec.n ? c->rec.n : 1) * sizeof *keys);
    if (!keys) return snprintf(err, errlen, "%s: out of memory", c->file.name), -1;
    for (size_t i = 0; i < c->rec.n; i++) keys[i] = c->rec.fields[i].key;
    qsort(keys, c->rec.n, sizeof *keys, sink_csv_cmp);
    int rc = sink_csv_set_columns(c, keys, c->rec.n);
    free(keys);
    if (rc != 0) return snprintf(err, errlen, "%s: out of memory", c->file.name), -1;
  }
  for (size_t i = 0; i < c->rec.n; i++) {
    size_t k = 0;
    while (k < c->ncolumns && strcmp(c->columns[k], c->rec.fields[i].key) != 0) k++;
    if (k == c->ncolumns) {
      buf b = BUF_INIT;
      sink_csv_list(&b, c->columns, c->ncolumns);
      snprintf(err, errlen, "%s: the record's field '%s' is not a column (columns: %s)", c->file.name,
               c->rec.fields[i].key, buf_str(&b));
      buf_free(&b);
      return -1;
    }
  }
  buf_reset(&c->row);
  bool header = !c->header_out;
  if (header) sink_csv_header(c, &c->row);
  for (size_t k = 0; k < c->ncolumns; k++) {
    if (k) buf_putc(&c->row, ',');
    const record_field *f = record_get(&c->rec, c->columns[k]);
    if (!f || f->kind == RECORD_NULL) continue;
    if (f->kind == RECORD_STRING || f->kind == RECORD_NESTED) sink_csv_cell(&c->row, f->value, f->len);
    else buf_append(&c->row, f->value, f->len);
  }
  buf_append(&c->row, "\r\n", 2);
  if (c->row.failed) return snprintf(err, errlen, "%s: out of memory", c->file.name), -1;
  struct iovec iov = {c->row.data, c->row.len};
  if (sink_file_write(&c->file, &iov, 1, err, errlen) != 0) return -1;
  c->header_out = true;
  return 0;
}

static int sink_csv_flush(sink *s, char *err, size_t errlen) {
  return sink_file_flush(&((sink_csv *)s)->file, err, errlen);
}

static long long sink_csv_position(sink *s) { return sink_file_position(&((sink_csv *)s)->file); }

/* Back to the start, the header goes too: the next row brings it back. */
static int sink_csv_rewind(sink *s, long long pos, char *err, size_t errlen) {
  sink_csv *c = (sink_csv *)s;
  if (sink_file_rewind(&c->file, pos, err, errlen) != 0) return -1;
  if (pos == 0) {
    c->header_out = false;
    if (!c->from_fields) sink_csv_free_columns(c);
  }
  return 0;
}

static void sink_csv_close(sink *s) {
  sink_csv *c = (sink_csv *)s;
  sink_file_close(&c->file);
  sink_csv_free_columns(c);
  record_free(&c->rec);
  buf_free(&c->row);
  free(c);
}

sink *sink_csv_open(const char *path, const sink_options *o, char *err, size_t errlen) {
  sink_csv *c = calloc(1, sizeof *c);
  if (!c) return snprintf(err, errlen, "%s: out of memory", path), NULL;
  c->base.write = sink_csv_write;
  c->base.flush = sink_csv_flush;
  c->base.position = sink_csv_position;
  c->base.rewind = sink_csv_rewind;
  c->base.close = sink_csv_close;
  if (sink_file_open(&c->file, path, o, err, errlen) != 0) {
    free(c);
    return NULL;
  }
  if (o && o->fields) {
    size_t n = 0;
    while (o->fields[n]) n++;
    if (sink_csv_set_columns(c, o->fields, n) != 0) {
      snprintf(err, errlen, "%s: out of memory", path);
      sink_csv_close(&c->base);
      return NULL;
    }
    c->from_fields = true;
  }
  off_t size = lseek(c->file.fd, 0, SEEK_END);
  if (size > 0 && sink_csv_read_header(c, size, err, errlen) != 0) {
    sink_csv_close(&c->base);
    return NULL;
  }
  return &c->base;
}
