/* text.h — text of nodes as scrapers want it: textContent (descendant text in
 * document order) and whitespace normalisation. */
#ifndef GLEAN_TEXT_H
#define GLEAN_TEXT_H

#include <gumbo.h>

#include "buf.h"

/* Appends the DOM textContent of n (its own text for text nodes and
 * comments; for elements and documents all descendant text, not entering
 * template contents). Iterative: safe on any depth. Returns the count of
 * nodes it visited (the work, which the text need not show). */
size_t text_content(const GumboNode *n, buf *out);

/* Collapses every run of white space (ASCII white space, U+00A0 and the
 * other Unicode space separators) to one space and trims both ends, in
 * place. Returns the new length. */
size_t text_squash(char *s, size_t len);

#endif
