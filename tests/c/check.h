/* check.h — the tiny harness the C unit tests share: CHECK records a failure
 * with file and line and goes on; check_summary prints the closing line
 * ("N passed, N failed") and returns the exit status. */
#ifndef GLEAN_CHECK_H
#define GLEAN_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) \
  do { \
    if (cond) check_passed++; \
    else { check_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
  } while (0)

#define CHECK_STR(got, want) \
  do { \
    const char *got_ = (got), *want_ = (want); \
    if (got_ && want_ && strcmp(got_, want_) == 0) check_passed++; \
    else { check_failed++; fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
                                   got_ ? got_ : "(null)", want_ ? want_ : "(null)"); } \
  } while (0)

static inline int check_summary(void) {
  printf("%d passed, %d failed\n", check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
