/* encoding.h — character encodings as the web uses them: the WHATWG
 * Encoding Standard's labels and decoders (every supported encoding decoded
 * to UTF-8, errors replaced by U+FFFD) and the HTML encoding sniffing
 * algorithm (BOM, transport charset, <meta> prescan, UTF-8 detection). */
#ifndef GLEAN_ENCODING_H
#define GLEAN_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Canonical WHATWG encoding name for a label ("latin1" -> "windows-1252",
 * "utf8" -> "UTF-8", "sjis" -> "Shift_JIS"), or NULL if the label is
 * unknown. Labels are matched ASCII-case-insensitively after trimming ASCII
 * whitespace. The returned string is static. */
const char *enc_lookup(const char *label, size_t len);

/* The HTML encoding sniffing algorithm for a whole document available at
 * once: a BOM (UTF-8, UTF-16LE/BE) first, then the transport-layer charset
 * label (may be NULL; unknown labels are ignored), then HTML's prescan of
 * the first 1024 bytes for <meta charset> / <meta http-equiv="Content-Type"
 * content="...charset=..."> (and, failing that, an <?xml encoding=...?>
 * declaration; a UTF-16 charset found there means UTF-8, a meta's
 * x-user-defined means windows-1252), then UTF-8 if the whole input is valid
 * UTF-8, else windows-1252. Returns the canonical name and sets *bom_len (if bom_len is
 * not NULL) to the number of BOM bytes to skip before decoding (0 if none). */
const char *enc_sniff(const char *bytes, size_t len, const char *transport_label, size_t *bom_len);

/* Decodes bytes in `encoding` (a canonical name; any label is accepted too)
 * and appends the UTF-8 result to out, as the WHATWG decoders do in
 * replacement mode: every invalid or unmappable sequence becomes U+FFFD and
 * decoding goes on. A BOM is not stripped here: skip enc_sniff's bom_len
 * first. Returns 0, or -1 if the encoding is unknown or unsupported on this
 * system (the message for it is up to the caller); an allocation failure
 * shows as out->failed, as for every buf. */
int enc_decode(const char *bytes, size_t len, const char *encoding, buf *out);

/* Whether s is well-formed UTF-8 (no overlongs, surrogates or code points
 * past U+10FFFF), in which case enc_decode to UTF-8 would copy it as is. */
bool enc_valid_utf8(const char *s, size_t len);

#endif
