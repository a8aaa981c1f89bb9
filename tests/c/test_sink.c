/* test_sink.c — the core's file sinks: CSV quoting and cells (comma,
 * quote, CR, LF, white space at the ends, empty string against null,
 * UTF-8, nested values), its header across reopenings, position and
 * rewind; SQLite's upsert and value types (read back through libsqlite3). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sink.h"

static char dir[] = "/tmp/glean-test-sink-XXXXXX";

static char *slurp(const char *path) {
  static char text[8192];
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f) fclose(f);
  text[n] = '\0';
  return text;
}

static int put(sink *s, const char *json, char *err) {
  return s->write(s, json, strlen(json), err, 256);
}

static void test_csv(void) {
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/a.csv", dir);
  const char *fields[] = {"url", "v", NULL};
  sink_options o = {.fields = fields};
  sink *s = sink_csv_open(path, &o, err, sizeof err);
  CHECK(s != NULL);
  CHECK(put(s, "{\"url\":\"a,b\",\"v\":\"say \\\"hi\\\"\"}", err) == 0);
  CHECK(put(s, "{\"url\":\"cr\\rlf\\n\",\"v\":\" lead\"}", err) == 0);
  CHECK(put(s, "{\"url\":\"trail \",\"v\":\"\"}", err) == 0);
  CHECK(put(s, "{\"url\":\"null\",\"v\":null}", err) == 0);
  CHECK(put(s, "{\"url\":\"missing\"}", err) == 0);
  CHECK(put(s, "{\"url\":\"caf\\u00e9 \\ud83d\\ude00\",\"v\":[1,{\"k\":\"x,y\"}]}", err) == 0);
  CHECK(put(s, "{\"url\":\"n\",\"v\":-1.5e3}", err) == 0);
  CHECK(put(s, "{\"url\":\"b\",\"v\":true}", err) == 0);
  long long before = s->position(s);
  CHECK(put(s, "{\"url\":\"x\",\"extra\":1}", err) == -1);
  CHECK(strstr(err, "field 'extra' is not a column") != NULL);
  CHECK(put(s, "[1]", err) == -1);
  CHECK(strstr(err, "a record must be a JSON object") != NULL);
  CHECK(s->position(s) == before);
  s->close(s);
  CHECK_STR(slurp(path),
            "url,v\r\n"
            "\"a,b\",\"say \"\"hi\"\"\"\r\n"
            "\"cr\rlf\n\",\" lead\"\r\n"
            "\"trail \",\"\"\r\n"
            "null,\r\n"
            "missing,\r\n"
            "caf\xc3\xa9 \xf0\x9f\x98\x80,\"[1,{\"\"k\"\":\"\"x,y\"\"}]\"\r\n"
            "n,-1.5e3\r\n"
            "b,true\r\n");

  /* Opened again: the header is not written twice; without fields the
   * file's header gives the columns; other fields are refused. */
  s = sink_csv_open(path, NULL, err, sizeof err);
  CHECK(s != NULL);
  long long end = s->position(s);
  CHECK(put(s, "{\"v\":2,\"url\":\"again\"}", err) == 0);
  CHECK(s->rewind(s, end, err, sizeof err) == 0);
  CHECK(put(s, "{\"v\":3,\"url\":\"again\"}", err) == 0);
  s->close(s);
  CHECK(strstr(slurp(path), "b,true\r\nagain,3\r\n") != NULL);
  CHECK(strstr(slurp(path), "again,2") == NULL);
  const char *other[] = {"v", "url", NULL};
  sink_options o2 = {.fields = other};
  CHECK(sink_csv_open(path, &o2, err, sizeof err) == NULL);
  CHECK(strstr(err, "its header (url, v) does not match the fields (v, url)") != NULL);

  /* Without fields: the first record's keys, sorted; back to 0, the header
   * comes again with the next row. */
  snprintf(path, sizeof path, "%s/b.csv", dir);
  s = sink_csv_open(path, NULL, err, sizeof err);
  CHECK(put(s, "{\"z\":1,\"a\":2}", err) == 0);
  CHECK(s->rewind(s, 0, err, sizeof err) == 0);
  CHECK(put(s, "{\"b\":1}", err) == 0);
  s->close(s);
  CHECK_STR(slurp(path), "b\r\n1\r\n");
}

static void test_sqlite(void) {
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/r.sqlite", dir);
  sink_options o = {.table = "my \"table\"", .fsync = SINK_FSYNC_NEVER};
  sink *s = sink_sqlite_open(path, &o, err, sizeof err);
  CHECK(s != NULL);
  CHECK(s->position == NULL && s->rewind == NULL);
  CHECK(put(s, "{\"b\":true,\"f\":1.5,\"i\":9007199254740993,\"n\":null,\"nest\":{\"a\":[1]},\"s\":\"caf\\u00e9\",\"url\":\"u1\"}", err) == 0);
  CHECK(put(s, "{\"i\":2,\"s\":\"second\",\"url\":\"u1\"}", err) == 0);
  CHECK(put(s, "{\"i\":3,\"url\":\"u2\"}", err) == 0);
  CHECK(put(s, "{\"i\":4}", err) == -1);
  CHECK(strstr(err, "the record has no 'url' (its key)") != NULL);
  CHECK(put(s, "{\"url\":\"u3\",\"other\":1}", err) == -1);
  CHECK(strstr(err, "field 'other' is not a column") != NULL);
  CHECK(s->flush(s, err, sizeof err) == 0);
  s->close(s);
  sqlite3 *db;
  CHECK(sqlite3_open(path, &db) == SQLITE_OK);
  sqlite3_stmt *st;
  CHECK(sqlite3_prepare_v2(db, "SELECT count(*), group_concat(typeof(i)) FROM \"my \"\"table\"\"\"", -1, &st, NULL) == SQLITE_OK);
  CHECK(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 2);
  CHECK_STR((const char *)sqlite3_column_text(st, 1), "integer,integer");
  sqlite3_finalize(st);
  s = sink_sqlite_open(path, &o, err, sizeof err); /* again: the table is there */
  CHECK(s != NULL);
  CHECK(put(s, "{\"b\":false,\"f\":2.5,\"i\":9007199254740993,\"nest\":[\"x\"],\"s\":\"\",\"url\":\"u1\"}", err) == 0);
  s->close(s);
  CHECK(sqlite3_prepare_v2(db, "SELECT b, typeof(b), f, typeof(f), i, nest, s, typeof(n) FROM \"my \"\"table\"\"\" WHERE url = 'u1'", -1, &st, NULL) == SQLITE_OK);
  CHECK(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 0);
  CHECK_STR((const char *)sqlite3_column_text(st, 1), "integer");
  CHECK(sqlite3_column_double(st, 2) == 2.5);
  CHECK_STR((const char *)sqlite3_column_text(st, 3), "real");
  CHECK(sqlite3_column_int64(st, 4) == 9007199254740993LL);
  CHECK_STR((const char *)sqlite3_column_text(st, 5), "[\"x\"]");
  CHECK_STR((const char *)sqlite3_column_text(st, 6), "");
  CHECK_STR((const char *)sqlite3_column_text(st, 7), "null");
  CHECK(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);

  const char *fields[] = {"url", "missing", NULL};
  sink_options o2 = {.table = "my \"table\"", .fields = fields};
  CHECK(sink_sqlite_open(path, &o2, err, sizeof err) == NULL);
  CHECK(strstr(err, "has no column 'missing'") != NULL);
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  test_csv();
  test_sqlite();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return check_summary();
}
