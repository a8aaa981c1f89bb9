/* prescan.h — one pass over a document's (UTF-8) bytes ahead of Gumbo. It
 * follows the WHATWG tokenizer's states far enough to find where the bodies
 * of <script> and <style> elements are, so dom.c can hand Gumbo the markup
 * alone (with a placeholder per body) and attach the bodies to the tree
 * afterwards; the same pass estimates the element nesting depth for the
 * depth guard, and counts attributes for the attribute guard. The prescan only proposes: dom.c checks every placeholder in
 * Gumbo's tree and parses the original bytes on any mismatch, so a wrong
 * guess here costs time, never correctness. Also here: the placeholders
 * (nonce, shortened document) and the input normalization Gumbo applies to
 * raw text, which attached bodies must get too. */
#ifndef GLEAN_PRESCAN_H
#define GLEAN_PRESCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef enum { PRESCAN_SCRIPT, PRESCAN_STYLE } prescan_kind;

typedef struct prescan_body {
  size_t start, len;  /* the body's bytes in the scanned text */
  prescan_kind kind;
} prescan_body;

typedef struct prescan_result {
  long depth;             /* estimated deepest nesting; the scan stops once past the limit */
  prescan_body *bodies;   /* in document order; malloc'ed, NULL when none */
  size_t n, cap;
  size_t skipped;         /* total length of the bodies */
  bool failed;            /* out of memory: bodies is incomplete (what is there is valid) */
  size_t attrs;           /* most attributes written in one tag (the attribute guard) */
} prescan_result;

#define PRESCAN_RESULT_INIT {0, NULL, 0, 0, 0, false, 0}

/* Scans text. Records the bodies of script (those that never enter the
 * tokenizer's escaped states, i.e. contain no "<!--") and style elements
 * that are at least min_body bytes long; min_body 0 records none (depth
 * only). Stops counting once the depth passes max_depth. */
void prescan_scan(const char *text, size_t len, long max_depth, size_t min_body, prescan_result *out);
void prescan_free(prescan_result *r);

/* A placeholder is the nonce followed by the body's index in 8 lower-case
 * hex digits: letters and digits only, so the tokenizer passes it through
 * any raw-text state unchanged and it is never white space. */
#define PRESCAN_NONCE_LEN 16
#define PRESCAN_PLACEHOLDER_LEN (PRESCAN_NONCE_LEN + 8)

/* Fills nonce with PRESCAN_NONCE_LEN random letters and digits. */
void prescan_nonce(char nonce[PRESCAN_NONCE_LEN]);

/* Writes text with every body of r replaced by its placeholder into out
 * (reset first). Returns 0 if the nonce occurs in the result exactly at the
 * placeholders, 1 if it occurs anywhere else (use another nonce or parse the
 * original), -1 when out of memory. */
int prescan_shorten(const char *text, size_t len, const prescan_result *r, const char *nonce, buf *out);

/* The index the placeholder s (NUL-terminated) names, or -1 if s is not
 * exactly a placeholder with this nonce. */
long prescan_placeholder_index(const char *s, const char *nonce);

/* A raw-text body as Gumbo stores it: CR LF and CR become LF, NUL and the
 * code points Gumbo's decoder rejects (C0 controls other than tab, LF, FF
 * and CR; DEL and C1 controls; noncharacters) become U+FFFD. The input must
 * be valid UTF-8 cut at character boundaries. prescan_text_size returns the
 * normalized length and sets *same when it is the input unchanged and
 * *space when it is all white space (Gumbo then makes a whitespace node);
 * prescan_text_copy writes it (size bytes, no terminator). */
size_t prescan_text_size(const char *s, size_t len, bool *same, bool *space);
void prescan_text_copy(const char *s, size_t len, char *dst);

#endif
