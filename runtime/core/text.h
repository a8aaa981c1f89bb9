/* text.h — text of nodes as scrapers want it: textContent (descendant text in
 * document order), a reader's text (the HTML standard's innerText, without
 * CSS), and whitespace normalisation. */
#ifndef GLEAN_TEXT_H
#define GLEAN_TEXT_H

#include <gumbo.h>
#include <stdbool.h>

#include "buf.h"

/* Elements whose text is left out, with all in them: fn(el, ud) says which
 * (NULL fn: none). fn may also end the walk early by setting *stop. */
typedef struct text_skip {
  bool (*fn)(const GumboNode *el, void *ud);
  void *ud;
  bool stop;  /* set by fn: the walk ends now (the text so far is kept) */
} text_skip;

/* Appends the DOM textContent of n (its own text for text nodes and
 * comments; for elements and documents all descendant text, not entering
 * template contents), leaving out what skip says (NULL: nothing).
 * Iterative: safe on any depth. Returns the count of nodes it visited (the
 * work, which the text need not show). */
size_t text_content(const GumboNode *n, text_skip *skip, buf *out);

/* Appends the text of n as a reader sees it, after the HTML standard's
 * innerText with the user agent's default styles standing in for CSS:
 * elements shown by default as blocks (p, div, li, h1, ...) on lines of
 * their own (a blank line around a p), a line for each <br> and each table
 * row, a tab between table cells; what is not rendered left out (script,
 * style, template, noscript, head, title, elements with the hidden
 * attribute, a closed dialog, ...); white space collapsed within lines
 * (ASCII white space and U+00A0, as text_squash), kept in pre, textarea,
 * listing and plaintext; no white space at the ends. one_line: lines joined
 * by one space. Returns the count of nodes visited. */
size_t text_inner(const GumboNode *n, text_skip *skip, bool one_line, buf *out);

/* Collapses every run of white space (what HTML calls ASCII white space:
 * space, tab, LF, FF, CR; and U+00A0 NO-BREAK SPACE) to one space and trims
 * both ends, in place. Other spaces (U+3000, U+202F, ...) stay as they
 * are: they are part of how a language writes. Returns the new length. */
size_t text_squash(char *s, size_t len);

#endif
