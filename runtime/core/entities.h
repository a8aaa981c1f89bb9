/* entities.h — HTML character references in a string decoded as Python's
 * html.unescape does (named references of HTML5, the legacy ones without
 * ";", numeric ones with the HTML standard's replacements). For text that
 * comes out of a parsed page still escaped: meta content written with
 * "&amp;nbsp;", JSON-LD strings holding "&#8217;". */
#ifndef GLEAN_ENTITIES_H
#define GLEAN_ENTITIES_H

#include <stddef.h>

/* Writes s (len bytes, UTF-8) with its character references decoded to out
 * and returns the length written. A reference never grows by more than a
 * fifth ("&nLt;" is 5 bytes, its value 6), so out must hold
 * ENTITIES_OUT_MAX(len) bytes. Bytes that are not references are copied as
 * they are, invalid UTF-8 included. */
#define ENTITIES_OUT_MAX(len) ((len) + (len) / 4 + 4)
size_t entities_unescape(const char *s, size_t len, char *out);

#endif
