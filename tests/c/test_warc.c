/* test_warc.c — the WARC reader's positions and limits, which the specs
 * (tests/spec/warc_spec.lua) reach only through glean run: warc_where and
 * warc_seek land on the same record in a plain file, in one gzip member per
 * record and inside a gzip member of several records; a body past max_body
 * is passed over with a warning; revisits past max_index are not resolved,
 * said once; a Content-Length that lies deep in a one-member file does not
 * make the reader inflate it again from the start. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "warc_read.h"

static char warnings[8192];

static void note(void *ud, log_level level, const char *msg) {
  (void)ud;
  if (level != LOG_WARN) return;
  size_t n = strlen(warnings);
  snprintf(warnings + n, sizeof warnings - n, "%s\n", msg);
}

static const logger LOG = {LOG_DEBUG, note, NULL};

static size_t record(char *out, size_t cap, const char *type, int i, const char *extra, const char *body) {
  size_t room = strlen(body) + 100;
  char *http = malloc(room);
  int hlen = snprintf(http, room, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n%s", body);
  int n = snprintf(out, cap,
                   "WARC/1.1\r\nWARC-Type: %s\r\nWARC-Target-URI: https://x.test/%d\r\n"
                   "WARC-Record-ID: <urn:x:%d>\r\n%sContent-Length: %d\r\n\r\n%s\r\n\r\n",
                   type, i, i, extra, hlen, http);
  free(http);
  return (size_t)n;
}

/* gzip of len bytes at data appended to out. */
static size_t gzip_member(unsigned char *out, size_t cap, const char *data, size_t len) {
  z_stream z = {0};
  deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  z.next_in = (unsigned char *)data;
  z.avail_in = (uInt)len;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  deflate(&z, Z_FINISH);
  size_t n = cap - z.avail_out;
  deflateEnd(&z);
  return n;
}

static warc_reader *open_mem(const void *data, size_t len, size_t max_body, size_t max_index) {
  warc_options o = {.max_body = max_body, .max_index = max_index, .log = &LOG};
  char err[100];
  warc_reader *r = warc_open_memory(data, len, "mem", &o, err, sizeof err);
  CHECK(r != NULL);
  return r;
}

/* Reads the next response: its URL's number, or -1 at the end. */
static int next_number(warc_reader *r) {
  fetch_response *res;
  char err[100];
  if (warc_next(r, &res, err, sizeof err) != 1) return -1;
  int n = atoi(strrchr(res->url, '/') + 1);
  fetch_response_free(res);
  return n;
}

/* Record 1 read, its position taken, and a new reader sent there gives 2, 3. */
static void check_resume(const void *data, size_t len) {
  warc_reader *r = open_mem(data, len, 0, 0);
  CHECK(next_number(r) == 0);
  CHECK(next_number(r) == 1);
  size_t file;
  warc_pos pos;
  warc_where(r, &file, &pos);
  warc_close(r);
  r = open_mem(data, len, 0, 0);
  char err[200];
  CHECK(warc_seek(r, file, pos, err, sizeof err) == 0);
  CHECK(next_number(r) == 2);
  CHECK(next_number(r) == 3);
  CHECK(next_number(r) == -1);
  warc_where(r, &file, &pos);
  CHECK(file == 1);
  CHECK(warc_seek(r, file, pos, err, sizeof err) == 0);  /* past the end: all read */
  CHECK(next_number(r) == -1);
  CHECK(warc_seek(r, 2, pos, err, sizeof err) != 0);
  warc_close(r);
}

static void test_positions(void) {
  static char plain[8192];
  static unsigned char members[8192], one[8192], two[8192];
  size_t len = 0, mlen = 0;
  size_t starts[5];
  for (int i = 0; i < 4; i++) {
    starts[i] = len;
    len += record(plain + len, sizeof plain - len, "response", i, "", "<p>x</p>");
    mlen += gzip_member(members + mlen, sizeof members - mlen, plain + starts[i], len - starts[i]);
  }
  starts[4] = len;
  check_resume(plain, len);
  check_resume(members, mlen);
  /* One member for all: positions inside it. */
  check_resume(one, gzip_member(one, sizeof one, plain, len));
  /* Two members of two records each: the second's records at skip 0 and inside. */
  size_t a = gzip_member(two, sizeof two, plain, starts[2]);
  size_t b = gzip_member(two + a, sizeof two - a, plain + starts[2], len - starts[2]);
  check_resume(two, a + b);
  CHECK(warnings[0] == '\0');
}

static void test_limits(void) {
  static char data[8192];
  size_t len = record(data, sizeof data, "response", 0, "", "<p>small</p>");
  len += record(data + len, sizeof data - len, "response", 1, "", "<p>this body is over the limit</p>");
  len += record(data + len, sizeof data - len, "response", 2, "", "<p>ok</p>");
  len += record(data + len, sizeof data - len, "revisit", 3, "WARC-Refers-To: <urn:x:0>\r\n", "");
  len += record(data + len, sizeof data - len, "revisit", 4, "WARC-Refers-To: <urn:x:2>\r\n", "");
  /* Room for the keys of record 0 only (its ID), then no more. */
  warc_reader *r = open_mem(data, len, 20, 1);
  CHECK(next_number(r) == 0);
  CHECK(next_number(r) == 2);
  CHECK(next_number(r) == 3);  /* record 0's content under the revisit's URL */
  CHECK(next_number(r) == -1);
  warc_stats st = warc_get_stats(r);
  CHECK(st.records == 5);
  CHECK(st.responses == 3);
  CHECK(st.skipped == 2);
  warc_close(r);
  CHECK(strstr(warnings, "mem: record at byte") && strstr(warnings, "larger than max_body (20 bytes)"));
  CHECK(strstr(warnings, "over 1 keys of records kept for revisits"));
  CHECK(strstr(warnings, "revisit of https://x.test/4: the record it points to is not in the input"));
}

/* A Content-Length that lies deep in a file of one gzip member: the search
 * for the next record goes on from the block's end instead of inflating
 * the file again from its start. */
static void test_long_member(void) {
  size_t cap = 20u << 20, len = 0;
  char *plain = malloc(cap), *big = malloc((1u << 20) + 1);
  memset(big, 'x', 1u << 20);
  big[1u << 20] = '\0';
  for (int i = 0; i < 17; i++) len += record(plain + len, cap - len, "response", i, "", big);
  size_t lie = len;
  len += record(plain + len, cap - len, "response", 17, "", "<p>lies</p>");
  char *cl = strstr(plain + lie, "Content-Length: ");
  cl[16] = (char)(cl[16] - 1);  /* one digit less: too short */
  len += record(plain + len, cap - len, "response", 18, "", "<p>after</p>");
  unsigned char *gz = malloc(cap);
  size_t n = gzip_member(gz, cap, plain, len);
  warnings[0] = '\0';
  warc_reader *r = open_mem(gz, n, 0, 0);
  int last = 0;
  for (int got; (got = next_number(r)) >= 0;) last = got;
  CHECK(last == 18);
  CHECK(strstr(warnings, "skipped (and what it spans: the file is one long gzip member)") != NULL);
  warc_close(r);
  free(plain), free(big), free(gz);
}

int main(void) {
  test_positions();
  test_limits();
  test_long_member();
  return check_summary();
}
