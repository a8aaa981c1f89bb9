/* select.h — CSS selectors: compiling selector lists once and matching them
 * against parsed documents with the semantics of the DOM's querySelectorAll
 * (Selectors Level 4 as Chromium implements it, including what it rejects). */
#ifndef GLEAN_SELECT_H
#define GLEAN_SELECT_H

#include <gumbo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"

typedef struct sel_list sel_list;  /* a compiled selector list; immutable, shareable */

#define SEL_MAX_LEN (64 * 1024)   /* longest selector source, in bytes */
#define SEL_MAX_NESTING 32        /* deepest nesting of selector arguments (:is, :not, :has, ...) */
#define SEL_MAX_COMPOUNDS 256     /* most compound selectors in one complex selector */

/* Compiles; on error returns NULL and writes a message naming the position
 * (1-based character offset) and what was expected, e.g.
 * "unexpected '>' at position 5". The list and the compiler's working
 * memory come from mem (NULL: malloc), which must outlive the list. */
sel_list *sel_compile(const char *src, size_t len, const mem_allocator *mem, char *err, size_t errlen);
void sel_free(sel_list *s);
size_t sel_size(const sel_list *s);  /* bytes the compiled list holds */

/* Both matching calls take a budget (NULL: none). One step is one element
 * tried against one compound selector. A selector such as ":has(~ b)"
 * tries every later sibling for every element, so a page can make one call
 * take time quadratic in its size; and a caller may have a clock to keep
 * too, so every SEL_STOP_STEPS steps the call asks stop(ud) whether to go
 * on (stop NULL: never). When the steps run out or stop says true, the call
 * stops where it is, leaves steps 0, and its answer is to be thrown away.
 * Otherwise steps is what is left. */
#define SEL_STOP_STEPS 4096
typedef struct sel_budget {
  uint64_t steps;
  bool (*stop)(void *ud);
  void *ud;
} sel_budget;

/* Does element `el` match? `scope` is the :scope element (or the document
 * node / NULL when querying from the document, making :scope the root). */
bool sel_matches(const sel_list *s, const GumboNode *el, const GumboNode *scope, sel_budget *budget);

/* querySelectorAll: calls `found` for each matching element that is a
 * descendant of `root` (root itself excluded), in document order, each once;
 * stops early when `found` returns false. Returns the number of calls. */
size_t sel_select(const sel_list *s, const GumboNode *root, bool (*found)(GumboNode *el, void *ud), void *ud,
                  sel_budget *budget);

#endif
