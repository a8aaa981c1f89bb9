/* serialize.h — HTML serialisation of nodes, as the HTML spec's fragment
 * serialisation algorithm (what outerHTML / innerHTML return). */
#ifndef GLEAN_SERIALIZE_H
#define GLEAN_SERIALIZE_H

#include <gumbo.h>
#include <stdbool.h>

#include "buf.h"

/* Appends the markup of n itself (outer) or of its children only (inner).
 * For the document node, outer includes the doctype. Iterative. */
void serialize_node(const GumboNode *n, bool outer, buf *out);

#endif
