/* record.h — a record's top-level fields read from its JSON text (what the
 * sinks receive, see sink.h), without building a tree: each member's key,
 * its kind, and its value (a string decoded, anything else as the JSON text
 * it is: numbers keep their digits, nested values stay JSON). */
#ifndef GLEAN_RECORD_H
#define GLEAN_RECORD_H

#include <stddef.h>

#include "buf.h"

typedef enum { RECORD_NULL, RECORD_FALSE, RECORD_TRUE, RECORD_NUMBER, RECORD_STRING, RECORD_NESTED } record_kind;

typedef struct record_field {
  const char *key;    /* decoded, NUL-terminated */
  record_kind kind;
  const char *value;  /* a string's UTF-8, else the value's JSON text */
  size_t len;
} record_field;

typedef struct record {
  record_field *fields;
  size_t n, cap;
  buf text;           /* the decoded keys and strings */
} record;

/* Reads one JSON object. Returns 0, or -1 with a message in err (the record
 * is then empty). r is reused from call to call; record_free frees it. */
int record_parse(record *r, const char *json, size_t len, char *err, size_t errlen);
const record_field *record_get(const record *r, const char *key);
void record_free(record *r);

#endif
