/* sink_sqlite.c — the SQLite sink (see sink.h): the table and its columns,
 * records as upserts on the key, batches committed by count and by time. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "record.h"
#include "sink_file.h"

typedef struct {
  sink base;
  sqlite3 *db;
  sqlite3_stmt *upsert;  /* NULL until the columns are known */
  char *path, *table, *key;
  char **columns;
  size_t ncolumns;
  bool in_batch;
  sink_fsync fsync;
  unsigned batch_records, pending;
  double batch_seconds, batch_start;
  record rec;
} sink_sqlite;

static int sink_sqlite_fail(sink_sqlite *q, char *err, size_t errlen, const char *what) {
  snprintf(err, errlen, "%s: %s: %s", q->path, what, sqlite3_errmsg(q->db));
  return -1;
}

/* An identifier in double quotes, quotes doubled: any adapter name or
 * field is a valid one. */
static void sink_sqlite_ident(buf *b, const char *name) {
  buf_putc(b, '"');
  for (const char *p = name; *p; p++) {
    if (*p == '"') buf_putc(b, '"');
    buf_putc(b, *p);
  }
  buf_putc(b, '"');
}

static int sink_sqlite_exec(sink_sqlite *q, const char *sql, char *err, size_t errlen) {
  if (sqlite3_exec(q->db, sql, NULL, NULL, NULL) != SQLITE_OK) return sink_sqlite_fail(q, err, errlen, sql);
  return 0;
}

static int sink_sqlite_add_column(sink_sqlite *q, const char *name) {
  char **grown = realloc(q->columns, (q->ncolumns + 1) * sizeof *grown);
  if (!grown) return -1;
  q->columns = grown;
  if (!(q->columns[q->ncolumns] = strdup(name))) return -1;
  q->ncolumns++;
  return 0;
}

static long sink_sqlite_column(const sink_sqlite *q, const char *name) {
  for (size_t i = 0; i < q->ncolumns; i++)
    if (strcmp(q->columns[i], name) == 0) return (long)i;
  return -1;
}

/* The table's columns if it exists (0 if it does not). */
static int sink_sqlite_existing(sink_sqlite *q, char ***cols, size_t *n, char *err, size_t errlen) {
  buf sql = BUF_INIT;
  buf_puts(&sql, "PRAGMA table_info(");
  sink_sqlite_ident(&sql, q->table);
  buf_putc(&sql, ')');
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(q->db, buf_str(&sql), -1, &st, NULL);
  buf_free(&sql);
  if (rc != SQLITE_OK) return sink_sqlite_fail(q, err, errlen, "reading the table");
  *cols = NULL;
  *n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    char **grown = realloc(*cols, (*n + 1) * sizeof *grown);
    if (!grown) break;
    *cols = grown;
    (*cols)[(*n)++] = strdup((const char *)sqlite3_column_text(st, 1));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return sink_sqlite_fail(q, err, errlen, "reading the table");
  return 0;
}

/* Makes the table if needed (one column per field, the key UNIQUE) and the
 * upsert statement, once the columns are known. */
static int sink_sqlite_prepare(sink_sqlite *q, bool create, char *err, size_t errlen) {
  if (sink_sqlite_column(q, q->key) < 0) {
    snprintf(err, errlen, "%s: the key '%s' is not among the fields (key = \"...\" names one of them)", q->path, q->key);
    return -1;
  }
  buf sql = BUF_INIT;
  if (create) {
    buf_puts(&sql, "CREATE TABLE IF NOT EXISTS ");
    sink_sqlite_ident(&sql, q->table);
    buf_putc(&sql, '(');
    for (size_t i = 0; i < q->ncolumns; i++) {
      if (i) buf_putc(&sql, ',');
      sink_sqlite_ident(&sql, q->columns[i]);
      if (strcmp(q->columns[i], q->key) == 0) buf_puts(&sql, " UNIQUE");
    }
    buf_putc(&sql, ')');
    if (sink_sqlite_exec(q, buf_str(&sql), err, errlen) != 0) return buf_free(&sql), -1;
    buf_reset(&sql);
  }
  buf_puts(&sql, "INSERT INTO ");
  sink_sqlite_ident(&sql, q->table);
  buf_putc(&sql, '(');
  for (size_t i = 0; i < q->ncolumns; i++) {
    if (i) buf_putc(&sql, ',');
    sink_sqlite_ident(&sql, q->columns[i]);
  }
  buf_puts(&sql, ") VALUES (");
  for (size_t i = 0; i < q->ncolumns; i++) buf_puts(&sql, i ? ",?" : "?");
  buf_puts(&sql, ") ON CONFLICT(");
  sink_sqlite_ident(&sql, q->key);
  buf_puts(&sql, ") DO ");
  if (q->ncolumns == 1) buf_puts(&sql, "NOTHING");
  else {
    buf_puts(&sql, "UPDATE SET ");
    bool first = true;
    for (size_t i = 0; i < q->ncolumns; i++) {
      if (strcmp(q->columns[i], q->key) == 0) continue;
      if (!first) buf_putc(&sql, ',');
      first = false;
      sink_sqlite_ident(&sql, q->columns[i]);
      buf_puts(&sql, "=excluded.");
      sink_sqlite_ident(&sql, q->columns[i]);
    }
  }
  int rc = sql.failed ? SQLITE_NOMEM : sqlite3_prepare_v2(q->db, buf_str(&sql), -1, &q->upsert, NULL);
  buf_free(&sql);
  if (rc != SQLITE_OK) {
    char what[300];
    snprintf(what, sizeof what, "table \"%s\" cannot take upserts on '%s' (made by another program?)", q->table, q->key);
    return sink_sqlite_fail(q, err, errlen, what);
  }
  return 0;
}

static int sink_sqlite_commit(sink_sqlite *q, char *err, size_t errlen) {
  if (!q->in_batch) return 0;
  if (sink_sqlite_exec(q, "COMMIT", err, errlen) != 0) return -1;
  q->in_batch = false;
  q->pending = 0;
  return 0;
}

static int sink_sqlite_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void sink_sqlite_bind(sqlite3_stmt *st, int i, const record_field *f) {
  if (!f || f->kind == RECORD_NULL) {
    sqlite3_bind_null(st, i);
  } else if (f->kind == RECORD_TRUE || f->kind == RECORD_FALSE) {
    sqlite3_bind_int(st, i, f->kind == RECORD_TRUE);
  } else if (f->kind == RECORD_NUMBER) {
    char text[64];
    size_t n = f->len < sizeof text - 1 ? f->len : sizeof text - 1;
    memcpy(text, f->value, n);
    text[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end == '\0' && errno == 0) sqlite3_bind_int64(st, i, v);
    else sqlite3_bind_double(st, i, strtod(text, NULL));
  } else {
    sqlite3_bind_text(st, i, f->value, (int)f->len, SQLITE_STATIC);
  }
}

static int sink_sqlite_write(sink *s, const char *json, size_t len, char *err, size_t errlen) {
  sink_sqlite *q = (sink_sqlite *)s;
  char why[160];
  if (record_parse(&q->rec, json, len, why, sizeof why) != 0) {
    snprintf(err, errlen, "%s: %s", q->path, why);
    return -1;
  }
  if (!q->upsert) {
    const char **keys = malloc((q->rec.n ? q->rec.n : 1) * sizeof *keys);
    if (!keys) return snprintf(err, errlen, "%s: out of memory", q->path), -1;
    for (size_t i = 0; i < q->rec.n; i++) keys[i] = q->rec.fields[i].key;
    qsort(keys, q->rec.n, sizeof *keys, sink_sqlite_cmp);
    int rc = 0;
    for (size_t i = 0; i < q->rec.n && rc == 0; i++) rc = sink_sqlite_add_column(q, keys[i]);
    free(keys);
    if (rc != 0) return snprintf(err, errlen, "%s: out of memory", q->path), -1;
    if (sink_sqlite_prepare(q, true, err, errlen) != 0) return -1;
  }
  for (size_t i = 0; i < q->rec.n; i++)
    if (sink_sqlite_column(q, q->rec.fields[i].key) < 0) {
      snprintf(err, errlen, "%s: the record's field '%s' is not a column of table \"%s\"", q->path,
               q->rec.fields[i].key, q->table);
      return -1;
    }
  const record_field *key = record_get(&q->rec, q->key);
  if (!key || key->kind == RECORD_NULL) {
    snprintf(err, errlen, "%s: the record has no '%s' (its key)", q->path, q->key);
    return -1;
  }
  if (!q->in_batch) {
    if (sink_sqlite_exec(q, "BEGIN", err, errlen) != 0) return -1;
    q->in_batch = true;
    q->batch_start = sink_now();
  }
  for (size_t i = 0; i < q->ncolumns; i++) sink_sqlite_bind(q->upsert, (int)i + 1, record_get(&q->rec, q->columns[i]));
  int rc = sqlite3_step(q->upsert);
  sqlite3_reset(q->upsert);
  sqlite3_clear_bindings(q->upsert);
  if (rc != SQLITE_DONE) return sink_sqlite_fail(q, err, errlen, "writing a record");
  q->pending++;
  if (q->fsync == SINK_FSYNC_ALWAYS || q->pending >= q->batch_records || sink_now() - q->batch_start >= q->batch_seconds)
    return sink_sqlite_commit(q, err, errlen);
  return 0;
}

static int sink_sqlite_flush(sink *s, char *err, size_t errlen) {
  return sink_sqlite_commit((sink_sqlite *)s, err, errlen);
}

static void sink_sqlite_close(sink *s) {
  sink_sqlite *q = (sink_sqlite *)s;
  char err[16];
  if (q->db) sink_sqlite_commit(q, err, sizeof err);
  sqlite3_finalize(q->upsert);
  sqlite3_close(q->db);
  for (size_t i = 0; i < q->ncolumns; i++) free(q->columns[i]);
  free(q->columns);
  free(q->path);
  free(q->table);
  free(q->key);
  record_free(&q->rec);
  free(q);
}

sink *sink_sqlite_open(const char *path, const sink_options *o, char *err, size_t errlen) {
  sink_sqlite *q = calloc(1, sizeof *q);
  if (!q) return snprintf(err, errlen, "%s: out of memory", path), NULL;
  q->base.write = sink_sqlite_write;
  q->base.flush = sink_sqlite_flush;
  q->base.close = sink_sqlite_close;
  q->fsync = o ? o->fsync : SINK_FSYNC_BATCH;
  q->batch_records = o && o->batch_records ? o->batch_records : SINK_BATCH_RECORDS;
  q->batch_seconds = o && o->batch_seconds > 0 ? o->batch_seconds : SINK_BATCH_SECONDS;
  q->path = strdup(path);
  q->table = strdup(o && o->table ? o->table : "records");
  q->key = strdup(o && o->key ? o->key : "url");
  if (!q->path || !q->table || !q->key) {
    snprintf(err, errlen, "%s: out of memory", path);
    sink_sqlite_close(&q->base);
    return NULL;
  }
  if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    sink_sqlite_fail(q, err, errlen, "cannot open");
    sink_sqlite_close(&q->base);
    return NULL;
  }
  sqlite3_busy_timeout(q->db, 5000);
  const char *sync = q->fsync == SINK_FSYNC_NEVER ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=FULL";
  char **cols = NULL;
  size_t n = 0;
  sqlite3_stmt *st = NULL;
  /* Readers in other processes read while it writes: WAL. */
  int bad = sqlite3_prepare_v2(q->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0;
  sqlite3_finalize(st);
  if (bad) {
    sink_sqlite_fail(q, err, errlen, "not a SQLite database that can be written in WAL mode");
    sink_sqlite_close(&q->base);
    return NULL;
  }
  if (sink_sqlite_exec(q, sync, err, errlen) != 0 || sink_sqlite_existing(q, &cols, &n, err, errlen) != 0) {
    sink_sqlite_close(&q->base);
    return NULL;
  }
  int rc = 0;
  bool exists = n > 0;
  if (o && o->fields) {
    for (size_t i = 0; o->fields[i] && rc == 0; i++) {
      bool found = !exists;
      for (size_t k = 0; k < n && !found; k++) found = strcmp(cols[k], o->fields[i]) == 0;
      if (!found) {
        snprintf(err, errlen, "%s: table \"%s\" has no column '%s' (another adapter's table? --table names another)",
                 path, q->table, o->fields[i]);
        rc = -1;
      } else if (sink_sqlite_add_column(q, o->fields[i]) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
      }
    }
  } else {
    for (size_t k = 0; k < n && rc == 0; k++)
      if (sink_sqlite_add_column(q, cols[k]) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
      }
  }
  for (size_t k = 0; k < n; k++) free(cols[k]);
  free(cols);
  if (rc == 0 && q->ncolumns) rc = sink_sqlite_prepare(q, !exists, err, errlen);
  if (rc != 0) {
    sink_sqlite_close(&q->base);
    return NULL;
  }
  return &q->base;
}
