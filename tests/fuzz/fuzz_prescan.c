/* fuzz_prescan.c — libFuzzer target for the parse fast path: on any bytes, a
 * full parse and the fast path (the prescan's bodies, naive ones, perturbed
 * ones) must give identical trees (tests/fuzz/prescan_check.h). Built and
 * run by scripts/fuzz; findings go to tests/fuzz/corpus/prescan/,
 * which test_prescan replays. */
#include <stdint.h>
#include <stdlib.h>

#include "prescan_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (check_document("fuzz input", (const char *)data, size, NULL, NULL) != 0) abort();
  return 0;
}
