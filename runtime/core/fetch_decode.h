/* fetch_decode.h — undoes a response's Content-Encoding (gzip, deflate, br,
 * zstd, and chains of them) as the body arrives, and tells a stream that
 * ends before its end marker from a whole one. libcurl's own decoders (in
 * 7.88) hand a cut-short stream over as a good body; these do not.
 * Internal to the fetch engine. */
#ifndef GLEAN_FETCH_DECODE_H
#define GLEAN_FETCH_DECODE_H

#include <stdbool.h>
#include <stddef.h>

/* What fetch_decode asks for, and advertises in Accept-Encoding. */
#define DECODE_ACCEPT "gzip, deflate, br, zstd"

typedef struct decoder decoder;

/* Takes decoded bytes; false stops the decoding (decoder_feed then
 * returns DECODE_STOPPED). */
typedef bool (*decode_sink)(void *ud, const char *data, size_t len);

typedef enum { DECODE_OK, DECODE_ERROR, DECODE_STOPPED } decode_result;

/* A decoder for a Content-Encoding value (its codings in the order they
 * were applied); NULL in *out for none or "identity". -1 with a message in
 * err for a coding it does not know, or out of memory. */
int decoder_new(const char *content_encoding, decoder **out, char *err, size_t errlen);
decode_result decoder_feed(decoder *d, const char *data, size_t len, decode_sink sink, void *ud, char *err,
                           size_t errlen);
/* At the body's end: -1 with a message if a stream is not complete. */
int decoder_finish(decoder *d, char *err, size_t errlen);
void decoder_free(decoder *d);

#endif
