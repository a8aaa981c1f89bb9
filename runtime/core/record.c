/* record.c — a record's top-level fields (see record.h). */
#include "record.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *p, *end;
  record *r;
} record_reader;

static void record_skip_space(record_reader *rd) {
  while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\t' || *rd->p == '\n' || *rd->p == '\r')) rd->p++;
}

static int record_hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

static void record_put_utf8(buf *b, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) { u[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
  }
  buf_append(b, u, n);
}

/* Decodes the string at rd->p (its opening quote) onto r->text, with a NUL
 * after it; *off is where it starts there. */
static int record_string(record_reader *rd, size_t *off, size_t *len) {
  buf *b = &rd->r->text;
  *off = b->len;
  rd->p++;
  while (rd->p < rd->end && *rd->p != '"') {
    const char *run = rd->p;
    while (rd->p < rd->end && *rd->p != '"' && *rd->p != '\\') rd->p++;
    buf_append(b, run, (size_t)(rd->p - run));
    if (rd->p >= rd->end || *rd->p == '"') break;
    if (rd->end - rd->p < 2) return -1;
    char c = rd->p[1];
    rd->p += 2;
    const char *plain = strchr("\"\\/bfnrt", c);
    if (c && plain) {
      buf_putc(b, "\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"]);
    } else if (c == 'u') {
      unsigned cp, lo;
      if (rd->end - rd->p < 4 || record_hex4(rd->p, &cp)) return -1;
      rd->p += 4;
      if (cp >= 0xD800 && cp < 0xDC00) {
        if (rd->end - rd->p < 6 || rd->p[0] != '\\' || rd->p[1] != 'u' || record_hex4(rd->p + 2, &lo) ||
            lo < 0xDC00 || lo > 0xDFFF)
          return -1;
        rd->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp < 0xE000) {
        return -1;
      }
      record_put_utf8(b, cp);
    } else {
      return -1;
    }
  }
  if (rd->p >= rd->end) return -1;
  rd->p++;
  *len = b->len - *off;
  buf_putc(b, '\0');
  return b->failed ? -1 : 0;
}

/* Past a nested array or object, strings minded; the text is the
 * encoder's, so brackets are only counted. */
static int record_skip_nested(record_reader *rd) {
  int depth = 0;
  while (rd->p < rd->end) {
    char c = *rd->p++;
    if (c == '"') {
      while (rd->p < rd->end && *rd->p != '"') rd->p += *rd->p == '\\' ? 2 : 1;
      if (rd->p >= rd->end) return -1;
      rd->p++;
    } else if (c == '[' || c == '{') {
      depth++;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) return 0;
    }
  }
  return -1;
}

static int record_is_number(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr("-+.0123456789eE", s[i])) return 0;
  return 1;
}

static int record_fail(record *r, char *err, size_t errlen, const char *what, size_t at) {
  r->n = 0;
  snprintf(err, errlen, "a record must be a JSON object: %s at byte %zu", what, at + 1);
  return -1;
}

int record_parse(record *r, const char *json, size_t len, char *err, size_t errlen) {
  record_reader rd = {json, json + len, r};
  r->n = 0;
  buf_reset(&r->text);
  record_skip_space(&rd);
  if (rd.p >= rd.end || *rd.p != '{') return record_fail(r, err, errlen, "no '{'", (size_t)(rd.p - json));
  rd.p++;
  record_skip_space(&rd);
  if (rd.p < rd.end && *rd.p == '}') rd.p++;
  else for (;;) {
    record_skip_space(&rd);
    if (rd.p >= rd.end || *rd.p != '"') return record_fail(r, err, errlen, "a key expected", (size_t)(rd.p - json));
    if (r->n == r->cap) {
      size_t cap = r->cap ? r->cap * 2 : 16;
      record_field *f = realloc(r->fields, cap * sizeof *f);
      if (!f) return record_fail(r, err, errlen, "out of memory", 0);
      r->fields = f;
      r->cap = cap;
    }
    record_field *f = &r->fields[r->n];
    size_t koff, klen;
    if (record_string(&rd, &koff, &klen) != 0) return record_fail(r, err, errlen, "bad key", (size_t)(rd.p - json));
    if (memchr(r->text.data + koff, '\0', klen)) return record_fail(r, err, errlen, "NUL in a key", (size_t)(rd.p - json));
    f->key = (const char *)(uintptr_t)koff;
    record_skip_space(&rd);
    if (rd.p >= rd.end || *rd.p != ':') return record_fail(r, err, errlen, "':' expected", (size_t)(rd.p - json));
    rd.p++;
    record_skip_space(&rd);
    if (rd.p >= rd.end) return record_fail(r, err, errlen, "a value expected", (size_t)(rd.p - json));
    const char *start = rd.p;
    char c = *rd.p;
    if (c == '"') {
      size_t voff;
      if (record_string(&rd, &voff, &f->len) != 0) return record_fail(r, err, errlen, "bad string", (size_t)(rd.p - json));
      f->kind = RECORD_STRING;
      f->value = (const char *)(uintptr_t)voff;
    } else {
      if (c == '[' || c == '{') {
        if (record_skip_nested(&rd) != 0) return record_fail(r, err, errlen, "unclosed value", (size_t)(start - json));
        f->kind = RECORD_NESTED;
      } else {
        while (rd.p < rd.end && strchr("-+.0123456789eEtruefalsn", *rd.p) && *rd.p) rd.p++;
        size_t n = (size_t)(rd.p - start);
        if (n == 4 && !memcmp(start, "null", 4)) f->kind = RECORD_NULL;
        else if (n == 4 && !memcmp(start, "true", 4)) f->kind = RECORD_TRUE;
        else if (n == 5 && !memcmp(start, "false", 5)) f->kind = RECORD_FALSE;
        else if (n && record_is_number(start, n)) f->kind = RECORD_NUMBER;
        else return record_fail(r, err, errlen, "bad value", (size_t)(start - json));
      }
      f->value = start;
      f->len = (size_t)(rd.p - start);
    }
    r->n++;
    record_skip_space(&rd);
    if (rd.p < rd.end && *rd.p == ',') { rd.p++; continue; }
    if (rd.p < rd.end && *rd.p == '}') { rd.p++; break; }
    return record_fail(r, err, errlen, "',' or '}' expected", (size_t)(rd.p - json));
  }
  record_skip_space(&rd);
  if (rd.p != rd.end) return record_fail(r, err, errlen, "text after the object", (size_t)(rd.p - json));
  if (r->text.failed) return record_fail(r, err, errlen, "out of memory", 0);
  /* Keys and strings were offsets into r->text while it could move. */
  for (size_t i = 0; i < r->n; i++) {
    record_field *f = &r->fields[i];
    f->key = r->text.data + (uintptr_t)f->key;
    if (f->kind == RECORD_STRING) f->value = r->text.data + (uintptr_t)f->value;
  }
  return 0;
}

const record_field *record_get(const record *r, const char *key) {
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->fields[i].key, key) == 0) return &r->fields[i];
  return NULL;
}

void record_free(record *r) {
  free(r->fields);
  buf_free(&r->text);
  r->fields = NULL;
  r->n = r->cap = 0;
}
