/* fetch_decode.c — Content-Encoding decoders (see fetch_decode.h): zlib for
 * gzip and deflate (zlib-wrapped, or raw as some servers send it), the
 * brotli and zstd libraries for br and zstd. A chain runs innermost coding
 * last: each stage's output feeds the next. */
#include "fetch_decode.h"

#include <brotli/decode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

#define DECODE_MAX_STAGES 4

typedef enum { CODING_GZIP, CODING_DEFLATE, CODING_BR, CODING_ZSTD } coding;

static const char *const coding_names[] = {"gzip", "deflate", "br", "zstd"};

typedef struct stage {
  coding kind;
  bool started, done;   /* done: its end marker came */
  bool raw_tried;       /* deflate: restarted as raw deflate */
  z_stream z;
  BrotliDecoderState *br;
  ZSTD_DStream *zs;
} stage;

struct decoder {
  stage stages[DECODE_MAX_STAGES];  /* in decoding order */
  int n;
  decode_sink sink;
  void *ud;
  char *err;
  size_t errlen;
};

static bool stage_init(stage *s) {
  switch (s->kind) {
  case CODING_GZIP:
  case CODING_DEFLATE:
    s->started = inflateInit2(&s->z, s->kind == CODING_GZIP ? 15 + 16 : 15) == Z_OK;
    break;
  case CODING_BR:
    s->started = (s->br = BrotliDecoderCreateInstance(NULL, NULL, NULL)) != NULL;
    break;
  case CODING_ZSTD:
    s->started = (s->zs = ZSTD_createDStream()) != NULL && !ZSTD_isError(ZSTD_initDStream(s->zs));
    break;
  }
  return s->started;
}

static void stage_free(stage *s) {
  if (s->started && (s->kind == CODING_GZIP || s->kind == CODING_DEFLATE)) inflateEnd(&s->z);
  if (s->br) BrotliDecoderDestroyInstance(s->br);
  if (s->zs) ZSTD_freeDStream(s->zs);
  s->started = false;
  s->br = NULL;
  s->zs = NULL;
}

int decoder_new(const char *value, decoder **out, char *err, size_t errlen) {
  *out = NULL;
  coding found[DECODE_MAX_STAGES];
  int n = 0;
  for (const char *p = value ? value : ""; *p;) {
    p += strspn(p, " \t,");
    size_t len = strcspn(p, " \t,");
    if (!len) break;
    int k = -1;
    if ((len == 4 && strncasecmp(p, "gzip", 4) == 0) || (len == 6 && strncasecmp(p, "x-gzip", 6) == 0)) k = CODING_GZIP;
    else if (len == 7 && strncasecmp(p, "deflate", 7) == 0) k = CODING_DEFLATE;
    else if (len == 2 && strncasecmp(p, "br", 2) == 0) k = CODING_BR;
    else if (len == 4 && strncasecmp(p, "zstd", 4) == 0) k = CODING_ZSTD;
    else if (!(len == 8 && strncasecmp(p, "identity", 8) == 0)) {
      snprintf(err, errlen, "unsupported Content-Encoding %.*s", (int)(len > 40 ? 40 : len), p);
      return -1;
    }
    if (k >= 0 && n == DECODE_MAX_STAGES) {
      snprintf(err, errlen, "more than %d codings in Content-Encoding", DECODE_MAX_STAGES);
      return -1;
    }
    if (k >= 0) found[n++] = (coding)k;
    p += len;
  }
  if (!n) return 0;
  decoder *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  d->n = n;
  for (int i = 0; i < n; i++) {
    d->stages[i].kind = found[n - 1 - i];  /* the last applied is undone first */
    if (!stage_init(&d->stages[i])) {
      decoder_free(d);
      snprintf(err, errlen, "out of memory");
      return -1;
    }
  }
  *out = d;
  return 0;
}

static decode_result decoder_pass(decoder *d, int i, const char *data, size_t len);

static decode_result stage_fail(decoder *d, const stage *s, const char *why) {
  snprintf(d->err, d->errlen, "damaged %s stream: %s", coding_names[s->kind], why);
  return DECODE_ERROR;
}

/* Output of stage i: on to stage i + 1, or to the sink. */
static decode_result decoder_emit(decoder *d, int i, const char *data, size_t len) {
  if (!len) return DECODE_OK;
  if (i + 1 < d->n) return decoder_pass(d, i + 1, data, len);
  return d->sink(d->ud, data, len) ? DECODE_OK : DECODE_STOPPED;
}

static decode_result stage_zlib(decoder *d, int i, const unsigned char *in, size_t len) {
  stage *s = &d->stages[i];
  unsigned char out[16384];
  s->z.next_in = (unsigned char *)in;
  s->z.avail_in = (uInt)len;
  while (s->z.avail_in && !s->done) {
    s->z.next_out = out;
    s->z.avail_out = sizeof out;
    int rc = inflate(&s->z, Z_NO_FLUSH);
    if (rc == Z_DATA_ERROR && s->kind == CODING_DEFLATE && !s->raw_tried && s->z.total_out == 0) {
      /* "deflate" sent as raw deflate, without the zlib wrapper. */
      s->raw_tried = true;
      if (inflateReset2(&s->z, -15) != Z_OK) return stage_fail(d, s, "cannot restart");
      s->z.next_in = (unsigned char *)in;
      s->z.avail_in = (uInt)len;
      continue;
    }
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return stage_fail(d, s, s->z.msg ? s->z.msg : "bad data");
    decode_result r = decoder_emit(d, i, (const char *)out, sizeof out - s->z.avail_out);
    if (r != DECODE_OK) return r;
    if (rc == Z_STREAM_END) s->done = true;  /* anything after the end is ignored, as libcurl does */
    else if (rc == Z_BUF_ERROR) break;
  }
  return DECODE_OK;
}

static decode_result stage_brotli(decoder *d, int i, const unsigned char *in, size_t len) {
  stage *s = &d->stages[i];
  unsigned char out[16384];
  while (!s->done) {
    unsigned char *next_out = out;
    size_t avail_out = sizeof out;
    BrotliDecoderResult rc = BrotliDecoderDecompressStream(s->br, &len, &in, &avail_out, &next_out, NULL);
    if (rc == BROTLI_DECODER_RESULT_ERROR)
      return stage_fail(d, s, BrotliDecoderErrorString(BrotliDecoderGetErrorCode(s->br)));
    decode_result r = decoder_emit(d, i, (const char *)out, sizeof out - avail_out);
    if (r != DECODE_OK) return r;
    if (rc == BROTLI_DECODER_RESULT_SUCCESS) s->done = true;
    else if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) break;
  }
  return DECODE_OK;
}

static decode_result stage_zstd(decoder *d, int i, const unsigned char *in, size_t len) {
  stage *s = &d->stages[i];
  unsigned char out[16384];
  ZSTD_inBuffer ib = {in, len, 0};
  for (;;) {
    ZSTD_outBuffer ob = {out, sizeof out, 0};
    size_t rc = ZSTD_decompressStream(s->zs, &ob, &ib);
    if (ZSTD_isError(rc)) return stage_fail(d, s, ZSTD_getErrorName(rc));
    decode_result r = decoder_emit(d, i, (const char *)out, ob.pos);
    if (r != DECODE_OK) return r;
    /* 0: a frame is complete and flushed (another may follow). */
    s->done = rc == 0;
    if (ib.pos == ib.size && ob.pos < ob.size) break;
  }
  return DECODE_OK;
}

static decode_result decoder_pass(decoder *d, int i, const char *data, size_t len) {
  stage *s = &d->stages[i];
  const unsigned char *in = (const unsigned char *)data;
  switch (s->kind) {
  case CODING_GZIP:
  case CODING_DEFLATE:
    return stage_zlib(d, i, in, len);
  case CODING_BR:
    return stage_brotli(d, i, in, len);
  case CODING_ZSTD:
    return stage_zstd(d, i, in, len);
  }
  return DECODE_ERROR;
}

decode_result decoder_feed(decoder *d, const char *data, size_t len, decode_sink sink, void *ud, char *err,
                           size_t errlen) {
  d->sink = sink;
  d->ud = ud;
  d->err = err;
  d->errlen = errlen;
  return decoder_pass(d, 0, data, len);
}

int decoder_finish(decoder *d, char *err, size_t errlen) {
  for (int i = 0; i < d->n; i++)
    if (!d->stages[i].done) {
      snprintf(err, errlen, "%s stream ends early (the body is cut short)", coding_names[d->stages[i].kind]);
      return -1;
    }
  return 0;
}

void decoder_free(decoder *d) {
  if (!d) return;
  for (int i = 0; i < d->n; i++) stage_free(&d->stages[i]);
  free(d);
}
