/* fuzz_warc.c — libFuzzer target for the WARC reader (warc_read.h): on any
 * bytes (plain or gzip, whole or damaged), reading ends, every response it
 * gives has a URL, a status and a body within max_body, and the counts
 * agree with what was given; nothing leaks. Corpus: corpus/warc/. */
#include <stdint.h>
#include <stdlib.h>

#include "warc_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_BODY (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  warc_options opt = {.max_body = FUZZ_MAX_BODY};
  char err[200];
  warc_reader *r = warc_open_memory(data, size, "fuzz", &opt, err, sizeof err);
  if (!r) abort();
  uint64_t given = 0;
  fetch_response *res;
  int got;
  while ((got = warc_next(r, &res, err, sizeof err)) == 1) {
    if (!res->url || res->status < 100 || res->status > 999 || res->body.len > FUZZ_MAX_BODY) abort();
    given++;
    fetch_response_free(res);
  }
  if (got != 0) abort();
  warc_stats st = warc_get_stats(r);
  if (st.responses != given || st.responses > st.records) abort();
  warc_close(r);
  return 0;
}
