/* test_warc_write.c — the WARC writer on real files: the numbered names
 * (taking the first free number, never an existing file), rotation (an
 * exchange that would pass the size starts the next file, one larger than
 * the size gets a file of its own), the digests of a known block, one gzip
 * member per record (read back through zlib), and the names it refuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "warc_write.h"

static char dir[] = "/tmp/glean-test-warc-XXXXXX";

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The file's gzip members decoded, each one whole; how many, or -1. */
static int members(const char *path, char *text, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  static unsigned char data[1 << 20];
  size_t n = fread(data, 1, sizeof data, f), at = 0, len = 0;
  fclose(f);
  int count = 0;
  while (at < n) {
    z_stream z = {0};
    if (inflateInit2(&z, 31) != Z_OK) return -1;
    z.next_in = data + at;
    z.avail_in = (uInt)(n - at);
    z.next_out = (Bytef *)text + len;
    z.avail_out = (uInt)(cap - len - 1);
    int rc = inflate(&z, Z_FINISH);
    len = cap - 1 - z.avail_out;
    at = n - z.avail_in;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) return -1;  /* one member ends here */
    count++;
  }
  text[len] = '\0';
  return count;
}

static warc_exchange exchange(const char *url, const char *body) {
  static const char req[] = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
  static char head[128];
  snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", strlen(body));
  return (warc_exchange){.url = url, .ip = "127.0.0.1", .time = 1765000000.25, .req_head = req,
                         .req_head_len = strlen(req), .res_head = head, .res_head_len = strlen(head),
                         .res_body = body, .res_body_len = strlen(body)};
}

static void test_records(void) {
  char path[128], first[160], second[160], err[512];
  snprintf(path, sizeof path, "%s/a.warc.gz", dir);
  snprintf(first, sizeof first, "%s/a-00000.warc.gz", dir);
  snprintf(second, sizeof second, "%s/a-00001.warc.gz", dir);
  warc_writer *w = warc_write_open(path, 0, "test/1", err, sizeof err);
  CHECK(w != NULL);
  warc_exchange x = exchange("http://a.test/", "hello");
  CHECK(warc_write_exchange(w, &x, err, sizeof err) == 0);
  warc_write_close(w);
  static char text[1 << 20];
  CHECK(members(first, text, sizeof text) == 3);  /* warcinfo, request, response */
  CHECK(strstr(text, "software: test/1\r\n") != NULL);
  CHECK(strstr(text, "WARC-Date: 2025-12-06T05:46:40.250000Z\r\n") != NULL);
  /* sha1("hello") in base32; the request's empty payload's. */
  CHECK(strstr(text, "WARC-Payload-Digest: sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N\r\n") != NULL);
  CHECK(strstr(text, "WARC-Payload-Digest: sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\r\n") != NULL);
  CHECK(strstr(text, "\r\n\r\nhello\r\n\r\n") != NULL);
  /* A second writer of the same path never touches the first's file. */
  long size = file_size(first);
  w = warc_write_open(path, 0, "test/1", err, sizeof err);
  CHECK(w != NULL);
  warc_write_close(w);
  CHECK(file_size(first) == size);
  CHECK(file_size(second) > 0);
  unlink(first);
  unlink(second);
}

static void test_rotation(void) {
  char path[128], name[160], err[512];
  snprintf(path, sizeof path, "%s/r.warc", dir);
  warc_writer *w = warc_write_open(path, 3000, "test/1", err, sizeof err);
  CHECK(w != NULL);
  static char big[4000];
  memset(big, 'x', sizeof big - 1);
  warc_exchange small = exchange("http://a.test/s", "small"), large = exchange("http://a.test/l", big);
  for (int i = 0; i < 3; i++) CHECK(warc_write_exchange(w, &small, err, sizeof err) == 0);
  CHECK(warc_write_exchange(w, &large, err, sizeof err) == 0);
  CHECK(warc_write_exchange(w, &small, err, sizeof err) == 0);
  warc_write_close(w);
  /* A warcinfo and a small exchange take about 1,500 bytes, another small
   * one 1,100: file 0 holds two, file 1 the third (the large one would
   * pass the size), file 2 the large one alone (past the size: no file
   * is too small for an exchange), file 3 the last small one. */
  long sizes[5];
  for (int i = 0; i < 5; i++) {
    snprintf(name, sizeof name, "%s/r-%05d.warc", dir, i);
    sizes[i] = file_size(name);
    unlink(name);
  }
  CHECK(sizes[0] > 2000 && sizes[0] <= 3000);
  CHECK(sizes[1] > 0 && sizes[1] < 2000);
  CHECK(sizes[2] > 4000);
  CHECK(sizes[3] == sizes[1]);
  CHECK(sizes[4] == -1);
}

static void test_refused(void) {
  char path[128], err[512];
  snprintf(path, sizeof path, "%s/out.txt", dir);
  CHECK(warc_write_open(path, 0, "test/1", err, sizeof err) == NULL);
  CHECK(strstr(err, "out.txt: a WARC file's name must end in .warc.gz") != NULL);
  snprintf(path, sizeof path, "%s/missing/x.warc", dir);
  CHECK(warc_write_open(path, 0, "test/1", err, sizeof err) == NULL);
  CHECK(strstr(err, "missing/x-00000.warc: cannot create: No such file or directory") != NULL);
}

int main(void) {
  if (!mkdtemp(dir)) return 2;
  test_records();
  test_rotation();
  test_refused();
  rmdir(dir);
  return check_summary();
}
