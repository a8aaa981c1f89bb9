/* encoding.c — character encodings (see encoding.h). Owns the WHATWG label
 * table, the HTML encoding sniffing algorithm with its <meta> prescan, and
 * the decoders to UTF-8: UTF-8, UTF-16 and the structure of every legacy
 * multi-byte encoding are written out here so that errors are handled as the
 * Encoding Standard says; glibc's iconv only supplies the code-point tables,
 * corrected where they differ from the Standard's indexes. Nothing here keeps
 * state between calls, so it is safe from any thread. */
#include "encoding.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

typedef enum enc_kind {
  ENC_UTF8,
  ENC_SINGLE,     /* one byte, one code point: a 128-entry table for 0x80-0xFF */
  ENC_MULTI,      /* see enc_mb */
  ENC_EUCJP,
  ENC_ISO2022JP,
  ENC_UTF16LE,
  ENC_UTF16BE,
  ENC_REPLACEMENT,
} enc_kind;

/* The byte structure of each legacy multi-byte decoder. */
typedef enum enc_mb { MB_NONE, MB_GB18030, MB_BIG5, MB_EUC_JP, MB_SHIFT_JIS, MB_EUC_KR } enc_mb;

enum {
  E_UTF8, E_IBM866, E_ISO8859_2, E_ISO8859_3, E_ISO8859_4, E_ISO8859_5, E_ISO8859_6, E_ISO8859_7,
  E_ISO8859_8, E_ISO8859_8I, E_ISO8859_10, E_ISO8859_13, E_ISO8859_14, E_ISO8859_15, E_ISO8859_16,
  E_KOI8R, E_KOI8U, E_MACINTOSH, E_WIN874, E_WIN1250, E_WIN1251, E_WIN1252, E_WIN1253, E_WIN1254,
  E_WIN1255, E_WIN1256, E_WIN1257, E_WIN1258, E_XMACCYRILLIC, E_GBK, E_GB18030, E_BIG5, E_EUCJP,
  E_ISO2022JP, E_SHIFTJIS, E_EUCKR, E_REPLACEMENT, E_UTF16BE, E_UTF16LE, E_XUSERDEFINED, E_COUNT
};

typedef struct enc_info {
  const char *name;    /* canonical WHATWG name */
  const char *iconv;   /* glibc charset holding the code points, NULL if none is needed */
  unsigned char kind;  /* enc_kind */
  unsigned char mb;    /* ENC_MULTI: the structure of its decoder */
  bool c1;             /* single-byte: bytes 0x80-0x9F glibc leaves undefined are C1 controls */
} enc_info;

/* glibc names where WHATWG's definition differs from the charset of the same
 * name: WHATWG's Shift_JIS is Microsoft's CP932, EUC-KR is CP949 (UHC), GBK
 * decodes as gb18030, Big5 includes HKSCS, ISO-8859-8-I is ISO-8859-8 read in
 * logical order. EUC-JP and ISO-2022-JP look JIS X 0208 up in CP932 too.
 * windows-1252 and x-user-defined are built in. */
static const enc_info enc_infos[E_COUNT] = {
  [E_UTF8] = {"UTF-8", NULL, ENC_UTF8, MB_NONE, false},
  [E_IBM866] = {"IBM866", "IBM866", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_2] = {"ISO-8859-2", "ISO-8859-2", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_3] = {"ISO-8859-3", "ISO-8859-3", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_4] = {"ISO-8859-4", "ISO-8859-4", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_5] = {"ISO-8859-5", "ISO-8859-5", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_6] = {"ISO-8859-6", "ISO-8859-6", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_7] = {"ISO-8859-7", "ISO-8859-7", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_8] = {"ISO-8859-8", "ISO-8859-8", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_8I] = {"ISO-8859-8-I", "ISO-8859-8", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_10] = {"ISO-8859-10", "ISO-8859-10", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_13] = {"ISO-8859-13", "ISO-8859-13", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_14] = {"ISO-8859-14", "ISO-8859-14", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_15] = {"ISO-8859-15", "ISO-8859-15", ENC_SINGLE, MB_NONE, false},
  [E_ISO8859_16] = {"ISO-8859-16", "ISO-8859-16", ENC_SINGLE, MB_NONE, false},
  [E_KOI8R] = {"KOI8-R", "KOI8-R", ENC_SINGLE, MB_NONE, false},
  [E_KOI8U] = {"KOI8-U", "KOI8-U", ENC_SINGLE, MB_NONE, false},
  [E_MACINTOSH] = {"macintosh", "MACINTOSH", ENC_SINGLE, MB_NONE, false},
  [E_WIN874] = {"windows-874", "CP874", ENC_SINGLE, MB_NONE, true},
  [E_WIN1250] = {"windows-1250", "CP1250", ENC_SINGLE, MB_NONE, true},
  [E_WIN1251] = {"windows-1251", "CP1251", ENC_SINGLE, MB_NONE, true},
  [E_WIN1252] = {"windows-1252", NULL, ENC_SINGLE, MB_NONE, false},
  [E_WIN1253] = {"windows-1253", "CP1253", ENC_SINGLE, MB_NONE, true},
  [E_WIN1254] = {"windows-1254", "CP1254", ENC_SINGLE, MB_NONE, true},
  [E_WIN1255] = {"windows-1255", "CP1255", ENC_SINGLE, MB_NONE, true},
  [E_WIN1256] = {"windows-1256", "CP1256", ENC_SINGLE, MB_NONE, true},
  [E_WIN1257] = {"windows-1257", "CP1257", ENC_SINGLE, MB_NONE, true},
  [E_WIN1258] = {"windows-1258", "CP1258", ENC_SINGLE, MB_NONE, true},
  [E_XMACCYRILLIC] = {"x-mac-cyrillic", "MAC-CYRILLIC", ENC_SINGLE, MB_NONE, false},
  [E_GBK] = {"GBK", "GB18030", ENC_MULTI, MB_GB18030, false},
  [E_GB18030] = {"gb18030", "GB18030", ENC_MULTI, MB_GB18030, false},
  [E_BIG5] = {"Big5", "BIG5-HKSCS", ENC_MULTI, MB_BIG5, false},
  [E_EUCJP] = {"EUC-JP", "WINDOWS-31J", ENC_EUCJP, MB_NONE, false},
  [E_ISO2022JP] = {"ISO-2022-JP", "WINDOWS-31J", ENC_ISO2022JP, MB_NONE, false},
  [E_SHIFTJIS] = {"Shift_JIS", "WINDOWS-31J", ENC_MULTI, MB_SHIFT_JIS, false},
  [E_EUCKR] = {"EUC-KR", "CP949", ENC_MULTI, MB_EUC_KR, false},
  [E_REPLACEMENT] = {"replacement", NULL, ENC_REPLACEMENT, MB_NONE, false},
  [E_UTF16BE] = {"UTF-16BE", NULL, ENC_UTF16BE, MB_NONE, false},
  [E_UTF16LE] = {"UTF-16LE", NULL, ENC_UTF16LE, MB_NONE, false},
  [E_XUSERDEFINED] = {"x-user-defined", NULL, ENC_SINGLE, MB_NONE, false},
};

/* The Encoding Standard's "Names and labels" table. */
static const struct enc_label {
  const char *label;
  unsigned char enc;
} enc_labels[] = {
  {"unicode-1-1-utf-8", E_UTF8}, {"unicode11utf8", E_UTF8}, {"unicode20utf8", E_UTF8},
  {"utf-8", E_UTF8}, {"utf8", E_UTF8}, {"x-unicode20utf8", E_UTF8},
  {"866", E_IBM866}, {"cp866", E_IBM866}, {"csibm866", E_IBM866}, {"ibm866", E_IBM866},
  {"csisolatin2", E_ISO8859_2}, {"iso-8859-2", E_ISO8859_2}, {"iso-ir-101", E_ISO8859_2},
  {"iso8859-2", E_ISO8859_2}, {"iso88592", E_ISO8859_2}, {"iso_8859-2", E_ISO8859_2},
  {"iso_8859-2:1987", E_ISO8859_2}, {"l2", E_ISO8859_2}, {"latin2", E_ISO8859_2},
  {"csisolatin3", E_ISO8859_3}, {"iso-8859-3", E_ISO8859_3}, {"iso-ir-109", E_ISO8859_3},
  {"iso8859-3", E_ISO8859_3}, {"iso88593", E_ISO8859_3}, {"iso_8859-3", E_ISO8859_3},
  {"iso_8859-3:1988", E_ISO8859_3}, {"l3", E_ISO8859_3}, {"latin3", E_ISO8859_3},
  {"csisolatin4", E_ISO8859_4}, {"iso-8859-4", E_ISO8859_4}, {"iso-ir-110", E_ISO8859_4},
  {"iso8859-4", E_ISO8859_4}, {"iso88594", E_ISO8859_4}, {"iso_8859-4", E_ISO8859_4},
  {"iso_8859-4:1988", E_ISO8859_4}, {"l4", E_ISO8859_4}, {"latin4", E_ISO8859_4},
  {"csisolatincyrillic", E_ISO8859_5}, {"cyrillic", E_ISO8859_5}, {"iso-8859-5", E_ISO8859_5},
  {"iso-ir-144", E_ISO8859_5}, {"iso8859-5", E_ISO8859_5}, {"iso88595", E_ISO8859_5},
  {"iso_8859-5", E_ISO8859_5}, {"iso_8859-5:1988", E_ISO8859_5},
  {"arabic", E_ISO8859_6}, {"asmo-708", E_ISO8859_6}, {"csiso88596e", E_ISO8859_6},
  {"csiso88596i", E_ISO8859_6}, {"csisolatinarabic", E_ISO8859_6}, {"ecma-114", E_ISO8859_6},
  {"iso-8859-6", E_ISO8859_6}, {"iso-8859-6-e", E_ISO8859_6}, {"iso-8859-6-i", E_ISO8859_6},
  {"iso-ir-127", E_ISO8859_6}, {"iso8859-6", E_ISO8859_6}, {"iso88596", E_ISO8859_6},
  {"iso_8859-6", E_ISO8859_6}, {"iso_8859-6:1987", E_ISO8859_6},
  {"csisolatingreek", E_ISO8859_7}, {"ecma-118", E_ISO8859_7}, {"elot_928", E_ISO8859_7},
  {"greek", E_ISO8859_7}, {"greek8", E_ISO8859_7}, {"iso-8859-7", E_ISO8859_7},
  {"iso-ir-126", E_ISO8859_7}, {"iso8859-7", E_ISO8859_7}, {"iso88597", E_ISO8859_7},
  {"iso_8859-7", E_ISO8859_7}, {"iso_8859-7:1987", E_ISO8859_7}, {"sun_eu_greek", E_ISO8859_7},
  {"csiso88598e", E_ISO8859_8}, {"csisolatinhebrew", E_ISO8859_8}, {"hebrew", E_ISO8859_8},
  {"iso-8859-8", E_ISO8859_8}, {"iso-8859-8-e", E_ISO8859_8}, {"iso-ir-138", E_ISO8859_8},
  {"iso8859-8", E_ISO8859_8}, {"iso88598", E_ISO8859_8}, {"iso_8859-8", E_ISO8859_8},
  {"iso_8859-8:1988", E_ISO8859_8}, {"visual", E_ISO8859_8},
  {"csiso88598i", E_ISO8859_8I}, {"iso-8859-8-i", E_ISO8859_8I}, {"logical", E_ISO8859_8I},
  {"csisolatin6", E_ISO8859_10}, {"iso-8859-10", E_ISO8859_10}, {"iso-ir-157", E_ISO8859_10},
  {"iso8859-10", E_ISO8859_10}, {"iso885910", E_ISO8859_10}, {"l6", E_ISO8859_10},
  {"latin6", E_ISO8859_10},
  {"iso-8859-13", E_ISO8859_13}, {"iso8859-13", E_ISO8859_13}, {"iso885913", E_ISO8859_13},
  {"iso-8859-14", E_ISO8859_14}, {"iso8859-14", E_ISO8859_14}, {"iso885914", E_ISO8859_14},
  {"csisolatin9", E_ISO8859_15}, {"iso-8859-15", E_ISO8859_15}, {"iso8859-15", E_ISO8859_15},
  {"iso885915", E_ISO8859_15}, {"iso_8859-15", E_ISO8859_15}, {"l9", E_ISO8859_15},
  {"iso-8859-16", E_ISO8859_16},
  {"cskoi8r", E_KOI8R}, {"koi", E_KOI8R}, {"koi8", E_KOI8R}, {"koi8-r", E_KOI8R}, {"koi8_r", E_KOI8R},
  {"koi8-ru", E_KOI8U}, {"koi8-u", E_KOI8U},
  {"csmacintosh", E_MACINTOSH}, {"mac", E_MACINTOSH}, {"macintosh", E_MACINTOSH},
  {"x-mac-roman", E_MACINTOSH},
  {"dos-874", E_WIN874}, {"iso-8859-11", E_WIN874}, {"iso8859-11", E_WIN874},
  {"iso885911", E_WIN874}, {"tis-620", E_WIN874}, {"windows-874", E_WIN874},
  {"cp1250", E_WIN1250}, {"windows-1250", E_WIN1250}, {"x-cp1250", E_WIN1250},
  {"cp1251", E_WIN1251}, {"windows-1251", E_WIN1251}, {"x-cp1251", E_WIN1251},
  {"ansi_x3.4-1968", E_WIN1252}, {"ascii", E_WIN1252}, {"cp1252", E_WIN1252},
  {"cp819", E_WIN1252}, {"csisolatin1", E_WIN1252}, {"ibm819", E_WIN1252},
  {"iso-8859-1", E_WIN1252}, {"iso-ir-100", E_WIN1252}, {"iso8859-1", E_WIN1252},
  {"iso88591", E_WIN1252}, {"iso_8859-1", E_WIN1252}, {"iso_8859-1:1987", E_WIN1252},
  {"l1", E_WIN1252}, {"latin1", E_WIN1252}, {"us-ascii", E_WIN1252},
  {"windows-1252", E_WIN1252}, {"x-cp1252", E_WIN1252},
  {"cp1253", E_WIN1253}, {"windows-1253", E_WIN1253}, {"x-cp1253", E_WIN1253},
  {"cp1254", E_WIN1254}, {"csisolatin5", E_WIN1254}, {"iso-8859-9", E_WIN1254},
  {"iso-ir-148", E_WIN1254}, {"iso8859-9", E_WIN1254}, {"iso88599", E_WIN1254},
  {"iso_8859-9", E_WIN1254}, {"iso_8859-9:1989", E_WIN1254}, {"l5", E_WIN1254},
  {"latin5", E_WIN1254}, {"windows-1254", E_WIN1254}, {"x-cp1254", E_WIN1254},
  {"cp1255", E_WIN1255}, {"windows-1255", E_WIN1255}, {"x-cp1255", E_WIN1255},
  {"cp1256", E_WIN1256}, {"windows-1256", E_WIN1256}, {"x-cp1256", E_WIN1256},
  {"cp1257", E_WIN1257}, {"windows-1257", E_WIN1257}, {"x-cp1257", E_WIN1257},
  {"cp1258", E_WIN1258}, {"windows-1258", E_WIN1258}, {"x-cp1258", E_WIN1258},
  {"x-mac-cyrillic", E_XMACCYRILLIC}, {"x-mac-ukrainian", E_XMACCYRILLIC},
  {"chinese", E_GBK}, {"csgb2312", E_GBK}, {"csiso58gb231280", E_GBK}, {"gb2312", E_GBK},
  {"gb_2312", E_GBK}, {"gb_2312-80", E_GBK}, {"gbk", E_GBK}, {"iso-ir-58", E_GBK}, {"x-gbk", E_GBK},
  {"gb18030", E_GB18030},
  {"big5", E_BIG5}, {"big5-hkscs", E_BIG5}, {"cn-big5", E_BIG5}, {"csbig5", E_BIG5},
  {"x-x-big5", E_BIG5},
  {"cseucpkdfmtjapanese", E_EUCJP}, {"euc-jp", E_EUCJP}, {"x-euc-jp", E_EUCJP},
  {"csiso2022jp", E_ISO2022JP}, {"iso-2022-jp", E_ISO2022JP},
  {"csshiftjis", E_SHIFTJIS}, {"ms932", E_SHIFTJIS}, {"ms_kanji", E_SHIFTJIS},
  {"shift-jis", E_SHIFTJIS}, {"shift_jis", E_SHIFTJIS}, {"sjis", E_SHIFTJIS},
  {"windows-31j", E_SHIFTJIS}, {"x-sjis", E_SHIFTJIS},
  {"cseuckr", E_EUCKR}, {"csksc56011987", E_EUCKR}, {"euc-kr", E_EUCKR}, {"iso-ir-149", E_EUCKR},
  {"korean", E_EUCKR}, {"ks_c_5601-1987", E_EUCKR}, {"ks_c_5601-1989", E_EUCKR},
  {"ksc5601", E_EUCKR}, {"ksc_5601", E_EUCKR}, {"windows-949", E_EUCKR},
  {"csiso2022kr", E_REPLACEMENT}, {"hz-gb-2312", E_REPLACEMENT}, {"iso-2022-cn", E_REPLACEMENT},
  {"iso-2022-cn-ext", E_REPLACEMENT}, {"iso-2022-kr", E_REPLACEMENT}, {"replacement", E_REPLACEMENT},
  {"unicodefffe", E_UTF16BE}, {"utf-16be", E_UTF16BE},
  {"csunicode", E_UTF16LE}, {"iso-10646-ucs-2", E_UTF16LE}, {"ucs-2", E_UTF16LE},
  {"unicode", E_UTF16LE}, {"unicodefeff", E_UTF16LE}, {"utf-16", E_UTF16LE}, {"utf-16le", E_UTF16LE},
  {"x-user-defined", E_XUSERDEFINED},
};

static bool enc_is_space(unsigned char c) {
  return c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x20;
}

static unsigned char enc_lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 0x20 : c; }

/* lower is already lower case. */
static bool enc_ieq(const char *lower, const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)lower[i] != enc_lower((unsigned char)s[i])) return false;
  return true;
}

/* "Get an encoding": index into enc_infos, or -1. */
static int enc_find(const char *label, size_t len) {
  if (!label) return -1;
  while (len && enc_is_space((unsigned char)label[0])) label++, len--;
  while (len && enc_is_space((unsigned char)label[len - 1])) len--;
  for (size_t k = 0; k < sizeof enc_labels / sizeof enc_labels[0]; k++)
    if (strlen(enc_labels[k].label) == len && enc_ieq(enc_labels[k].label, label, len)) return enc_labels[k].enc;
  return -1;
}

const char *enc_lookup(const char *label, size_t len) {
  int e = enc_find(label, len);
  return e < 0 ? NULL : enc_infos[e].name;
}

/* ---- UTF-8 ---------------------------------------------------------- */

/* Index of the first non-ASCII byte at or after i. */
static size_t enc_skip_ascii(const unsigned char *p, size_t i, size_t len) {
  while (len - i >= 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    if (w & UINT64_C(0x8080808080808080)) break;
    i += 8;
  }
  while (i < len && p[i] < 0x80) i++;
  return i;
}

/* The well-formed sequence at p (p[0] >= 0x80, n >= 1 bytes left): returns
 * its length, or 0 with *bad set to the bytes WHATWG's decoder turns into one
 * U+FFFD (the maximal subpart of an ill-formed sequence, or everything left
 * when the input ends inside a sequence). */
static size_t enc_utf8_step(const unsigned char *p, size_t n, size_t *bad) {
  unsigned char b = p[0], lo = 0x80, hi = 0xBF;
  size_t need;
  if (b >= 0xC2 && b <= 0xDF) need = 1;
  else if (b >= 0xE0 && b <= 0xEF) {
    need = 2;
    if (b == 0xE0) lo = 0xA0;       /* overlong */
    else if (b == 0xED) hi = 0x9F;  /* surrogates */
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 3;
    if (b == 0xF0) lo = 0x90;       /* overlong */
    else if (b == 0xF4) hi = 0x8F;  /* past U+10FFFF */
  } else {
    *bad = 1;
    return 0;
  }
  for (size_t k = 1; k <= need; k++) {
    if (k == n || p[k] < lo || p[k] > hi) {
      *bad = k;
      return 0;
    }
    lo = 0x80, hi = 0xBF;
  }
  return need + 1;
}

bool enc_valid_utf8(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, bad, n;
  while ((i = enc_skip_ascii(p, i, len)) < len) {
    if (!(n = enc_utf8_step(p + i, len - i, &bad))) return false;
    i += n;
  }
  return true;
}

/* ---- output --------------------------------------------------------- */

/* Decoders write code points through a chunk on the stack rather than one
 * buf_append each. */
typedef struct enc_sink {
  buf *out;
  size_t n;
  char chunk[4096];
} enc_sink;

static void enc_flush(enc_sink *s) {
  if (s->n) buf_append(s->out, s->chunk, s->n);
  s->n = 0;
}

static void enc_emit(enc_sink *s, uint32_t cp) {
  if (sizeof s->chunk - s->n < 4) enc_flush(s);
  char *d = s->chunk + s->n;
  if (cp < 0x80) {
    d[0] = (char)cp;
    s->n += 1;
  } else if (cp < 0x800) {
    d[0] = (char)(0xC0 | cp >> 6);
    d[1] = (char)(0x80 | (cp & 0x3F));
    s->n += 2;
  } else if (cp < 0x10000) {
    d[0] = (char)(0xE0 | cp >> 12);
    d[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    d[2] = (char)(0x80 | (cp & 0x3F));
    s->n += 3;
  } else {
    d[0] = (char)(0xF0 | cp >> 18);
    d[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    d[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    s->n += 4;
  }
}

static void enc_emit_bytes(enc_sink *s, const unsigned char *p, size_t n) {
  if (!n) return;
  if (sizeof s->chunk - s->n < n) {
    enc_flush(s);
    if (n > sizeof s->chunk) {
      buf_append(s->out, p, n);
      return;
    }
  }
  memcpy(s->chunk + s->n, p, n);
  s->n += n;
}

/* ---- UTF-8, UTF-16 -------------------------------------------------- */

static void enc_decode_utf8(enc_sink *s, const unsigned char *p, size_t len) {
  size_t i = 0, start = 0, bad, n;
  while ((i = enc_skip_ascii(p, i, len)) < len) {
    if ((n = enc_utf8_step(p + i, len - i, &bad))) {
      i += n;
      continue;
    }
    enc_emit_bytes(s, p + start, i - start);
    enc_emit(s, 0xFFFD);
    start = i += bad;
  }
  enc_emit_bytes(s, p + start, len - start);
}

static void enc_decode_utf16(enc_sink *s, const unsigned char *p, size_t len, bool be) {
  uint32_t lead = 0;  /* a lead surrogate waiting for its trail */
  size_t i = 0;
  for (; len - i >= 2; i += 2) {
    uint32_t cu = be ? (uint32_t)p[i] << 8 | p[i + 1] : (uint32_t)p[i + 1] << 8 | p[i];
    if (lead) {
      uint32_t l = lead;
      lead = 0;
      if (cu >= 0xDC00 && cu <= 0xDFFF) {
        enc_emit(s, 0x10000 + ((l - 0xD800) << 10) + (cu - 0xDC00));
        continue;
      }
      enc_emit(s, 0xFFFD);  /* the unit that broke the pair still counts on its own */
    }
    if (cu >= 0xD800 && cu <= 0xDBFF) lead = cu;
    else if (cu >= 0xDC00 && cu <= 0xDFFF) enc_emit(s, 0xFFFD);
    else enc_emit(s, cu);
  }
  if (lead || i < len) enc_emit(s, 0xFFFD);
}

/* ---- single-byte encodings ------------------------------------------ */

static const uint16_t enc_win1252_c1[32] = {
  0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
  0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* Where the WHATWG index differs from glibc's table, beyond the C1 rule. */
static const struct {
  unsigned char enc, byte;
  uint16_t cp;
} enc_single_fixes[] = {
  {E_KOI8U, 0xAE, 0x045E}, {E_KOI8U, 0xBE, 0x040E},        /* KOI8-RU's Belarusian letters */
  {E_MACINTOSH, 0xC6, 0x2206}, {E_MACINTOSH, 0xF0, 0xF8FF},  /* Apple's mapping, not glibc's */
  {E_WIN1255, 0xCA, 0x05BA},
  {E_XMACCYRILLIC, 0xFF, 0x20AC},
};

/* The code points of bytes 0x80-0xFF, 0 where the byte is an error.
 * windows-1252 is the fallback of every sniff, so it does not depend on
 * iconv's modules being installed. */
static bool enc_single_table(int e, uint16_t table[128]) {
  if (e == E_WIN1252 || e == E_XUSERDEFINED) {
    for (int b = 0; b < 128; b++)
      table[b] = e == E_XUSERDEFINED ? (uint16_t)(0xF780 + b) : b < 32 ? enc_win1252_c1[b] : (uint16_t)(0x80 + b);
    return true;
  }
  iconv_t cd = iconv_open("UTF-32LE", enc_infos[e].iconv);
  if (cd == (iconv_t)-1) return false;
  for (int b = 0; b < 128; b++) {
    char byte = (char)(0x80 + b), *in = &byte;
    unsigned char u[16];
    char *out = (char *)u;
    size_t inleft = 1, outleft = sizeof u;
    bool ok = iconv(cd, &in, &inleft, &out, &outleft) != (size_t)-1;
    /* glibc's CP1255 and CP1258 hold a letter back in case a combining mark
     * follows; the flush lets it out. */
    ok = ok && iconv(cd, NULL, NULL, &out, &outleft) != (size_t)-1;
    table[b] = ok && outleft == sizeof u - 4 && !u[2] && !u[3] ? (uint16_t)(u[0] | u[1] << 8) : 0;
    if (!table[b] && b < 32 && enc_infos[e].c1) table[b] = (uint16_t)(0x80 + b);
  }
  iconv_close(cd);
  for (size_t k = 0; k < sizeof enc_single_fixes / sizeof enc_single_fixes[0]; k++)
    if (enc_single_fixes[k].enc == e) table[enc_single_fixes[k].byte - 0x80] = enc_single_fixes[k].cp;
  return true;
}

static void enc_decode_single(enc_sink *s, const unsigned char *p, size_t len, const uint16_t table[128]) {
  size_t i = 0, start = 0;
  while ((i = enc_skip_ascii(p, i, len)) < len) {
    enc_emit_bytes(s, p + start, i - start);
    uint16_t cp = table[p[i] - 0x80];
    enc_emit(s, cp ? cp : 0xFFFD);
    start = ++i;
  }
  enc_emit_bytes(s, p + start, len - start);
}

/* ---- legacy multi-byte encodings ------------------------------------ */

/* What the WHATWG decoder makes of the sequence at p (p[0] >= 0x80). */
typedef struct enc_seq {
  enum { SEQ_LOOKUP, SEQ_CHAR, SEQ_ERROR, SEQ_TRUNCATED } act;
  unsigned char len;   /* bytes consumed (LOOKUP, CHAR, ERROR) */
  unsigned char miss;  /* LOOKUP: bytes consumed if the index has no code point */
  uint32_t cp;         /* CHAR */
} enc_seq;

static enc_seq enc_seq_make(int act, unsigned char len, unsigned char miss, uint32_t cp) {
  enc_seq q = {act, len, miss, cp};
  return q;
}

/* A pair whose second byte fails: WHATWG gives that byte back to the input
 * when it is ASCII, so markup after a stray lead byte survives. */
static enc_seq enc_seq_pair(bool valid, unsigned char trail) {
  unsigned char miss = trail < 0x80 ? 1 : 2;
  return valid ? enc_seq_make(SEQ_LOOKUP, 2, miss, 0) : enc_seq_make(SEQ_ERROR, miss, 0, 0);
}

static bool enc_in(unsigned char b, unsigned char lo, unsigned char hi) { return b >= lo && b <= hi; }

typedef struct enc_fix {
  uint32_t bytes, cp;
} enc_fix;

/* Where WHATWG's index Big5 differs from glibc's BIG5-HKSCS: Microsoft's
 * mappings of some Big5 punctuation, and HKSCS characters glibc lacks. The
 * control pictures at 0xA3C0-0xA3E0 are left to enc_mb_seq. Sorted. */
static const enc_fix enc_big5_fixes[] = {
  {0x8E69, 0x7BB8}, {0x8E6F, 0x7C06}, {0x8E7E, 0x7CCE}, {0x8EAB, 0x7DD2}, {0x8EB4, 0x7E1D}, {0x8ECD, 0x8005},
  {0x8ED0, 0x8028}, {0x8F57, 0x83C1}, {0x8F69, 0x84A8}, {0x8F6E, 0x840F}, {0x8FCB, 0x89A6}, {0x8FCC, 0x89A9},
  {0x8FFE, 0x8D77}, {0x906D, 0x90FD}, {0x907A, 0x92B9}, {0x90DC, 0x975C}, {0x90F1, 0x97FF}, {0x91BF, 0x9F16},
  {0x9244, 0x8503}, {0x92AF, 0x5159}, {0x92B0, 0x515B}, {0x92B1, 0x515D}, {0x92B2, 0x515E}, {0x92C8, 0x936E},
  {0x92D1, 0x7479}, {0x9447, 0x6D67}, {0x94CA, 0x799B}, {0x95D9, 0x9097}, {0x9644, 0x975D}, {0x96ED, 0x701E},
  {0x96FC, 0x5B28}, {0x9B76, 0x7201}, {0x9B78, 0x77D7}, {0x9B7B, 0x7E87}, {0x9BC6, 0x99D6}, {0x9BDE, 0x91D4},
  {0x9BEC, 0x60DE}, {0x9BF6, 0x6FB6}, {0x9C42, 0x8F36}, {0x9C53, 0x4FBB}, {0x9C62, 0x71DF}, {0x9C68, 0x9104},
  {0x9C6B, 0x9DF0}, {0x9C77, 0x83CF}, {0x9CBC, 0x5C10}, {0x9CBD, 0x79E3}, {0x9CD0, 0x5A67}, {0x9D57, 0x8F0B},
  {0x9D5A, 0x7B51}, {0x9DC4, 0x62D0}, {0x9EA9, 0x6062}, {0x9EEF, 0x75F9}, {0x9EFD, 0x6C4A}, {0x9F60, 0x9B2E},
  {0x9F66, 0x9F17}, {0x9FCB, 0x50ED}, {0x9FD8, 0x5F0C}, {0xA063, 0x880F}, {0xA077, 0x62CE}, {0xA0D5, 0x7468},
  {0xA0DF, 0x7162}, {0xA0E4, 0x7250}, {0xA145, 0x2027}, {0xA14E, 0xFE51}, {0xA15A, 0x2574}, {0xA1C2, 0xAF},
  {0xA1C3, 0xFFE3}, {0xA1C5, 0x2CD}, {0xA1E3, 0xFF5E}, {0xA1F2, 0x2295}, {0xA1F3, 0x2299}, {0xA1FE, 0xFF0F},
  {0xA240, 0xFF3C}, {0xA241, 0x2215}, {0xA242, 0xFE68}, {0xA244, 0xFFE5}, {0xA246, 0xFFE0}, {0xA247, 0xFFE1},
  {0xA2CC, 0x5341}, {0xA2CE, 0x5345}, {0xA3E1, 0x20AC}, {0xC6CF, 0x5EF4}, {0xC6D3, 0x65E0}, {0xC6D5, 0x7676},
  {0xC6D7, 0x96B6}, {0xC6DE, 0x3003}, {0xC6DF, 0x4EDD}, {0xFA5F, 0x5029}, {0xFA66, 0x507D}, {0xFABD, 0x5305},
  {0xFAC5, 0x5344}, {0xFAD5, 0x537F}, {0xFB48, 0x5605}, {0xFBB8, 0x5A77}, {0xFBF3, 0x5E75}, {0xFBF9, 0x5ED0},
  {0xFC4F, 0x5F58}, {0xFC6C, 0x60A4}, {0xFCB9, 0x6490}, {0xFCE2, 0x6674}, {0xFCF1, 0x675E}, {0xFDB7, 0x6C9C},
  {0xFDB8, 0x6E1D}, {0xFDBB, 0x6E2F}, {0xFDF1, 0x716E}, {0xFE52, 0x732A}, {0xFE6F, 0x745C}, {0xFEAA, 0x74E9},
  {0xFEDD, 0x7809}
};

/* Where WHATWG's gb18030 indexes (aligned with GB18030-2022) differ from
 * glibc's GB18030: 0xA3A0 is U+3000, six characters stay in the private use
 * area, and the four-byte forms GB18030-2022 freed go to the private use
 * area. Sorted. */
static const enc_fix enc_gb18030_fixes[] = {
  {0xA3A0, 0x3000}, {0xFE51, 0xE816}, {0xFE52, 0xE817}, {0xFE53, 0xE818}, {0xFE6C, 0xE831},
  {0xFE76, 0xE83B}, {0xFE91, 0xE855},
  {0x82359037, 0xE81E}, {0x82359038, 0xE826}, {0x82359039, 0xE82B}, {0x82359130, 0xE82C},
  {0x82359131, 0xE832}, {0x82359132, 0xE843}, {0x82359133, 0xE854}, {0x82359134, 0xE864},
  {0x84318236, 0xE78D}, {0x84318237, 0xE78F}, {0x84318238, 0xE78E}, {0x84318239, 0xE790},
  {0x84318330, 0xE791}, {0x84318331, 0xE792}, {0x84318332, 0xE793}, {0x84318333, 0xE794},
  {0x84318334, 0xE795}, {0x84318335, 0xE796},
};

/* A LOOKUP of the sequence at p, or the CHAR a fix table gives it. */
static enc_seq enc_seq_lookup(const enc_fix *fixes, size_t nfixes, const unsigned char *p, unsigned char len,
                              unsigned char miss) {
  uint32_t key = 0;
  for (unsigned char k = 0; k < len; k++) key = key << 8 | p[k];
  size_t lo = 0, hi = nfixes;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (fixes[mid].bytes == key) return enc_seq_make(SEQ_CHAR, len, 0, fixes[mid].cp);
    if (fixes[mid].bytes < key) lo = mid + 1;
    else hi = mid;
  }
  return enc_seq_make(SEQ_LOOKUP, len, miss, 0);
}

#define ENC_FIXES(t) t, sizeof t / sizeof t[0]

/* The byte structure of the Encoding Standard's decoders: which bytes form
 * one index lookup, and how many an error consumes. The lookup itself is
 * left to iconv. */
static enc_seq enc_mb_seq(int mb, const unsigned char *p, size_t n) {
  unsigned char b = p[0];
  switch (mb) {
  case MB_GB18030:
    if (b == 0x80) return enc_seq_make(SEQ_CHAR, 1, 0, 0x20AC);
    if (b == 0xFF) return enc_seq_make(SEQ_ERROR, 1, 0, 0);
    if (n < 2) break;
    if (enc_in(p[1], 0x30, 0x39)) {  /* four-byte form */
      if (n < 3) break;
      if (!enc_in(p[2], 0x81, 0xFE)) return enc_seq_make(SEQ_ERROR, 1, 0, 0);
      if (n < 4) break;
      if (!enc_in(p[3], 0x30, 0x39)) return enc_seq_make(SEQ_ERROR, 1, 0, 0);
      return enc_seq_lookup(ENC_FIXES(enc_gb18030_fixes), p, 4, 4);
    }
    if (!enc_in(p[1], 0x40, 0x7E) && !enc_in(p[1], 0x80, 0xFE)) return enc_seq_pair(false, p[1]);
    return enc_seq_lookup(ENC_FIXES(enc_gb18030_fixes), p, 2, p[1] < 0x80 ? 1 : 2);
  case MB_BIG5:
    if (b == 0x80 || b == 0xFF) return enc_seq_make(SEQ_ERROR, 1, 0, 0);
    if (n < 2) break;
    if (!enc_in(p[1], 0x40, 0x7E) && !enc_in(p[1], 0xA1, 0xFE)) return enc_seq_pair(false, p[1]);
    if (b == 0xA3 && enc_in(p[1], 0xC0, 0xE0))  /* control pictures */
      return enc_seq_make(SEQ_CHAR, 2, 0, p[1] == 0xE0 ? 0x2421 : 0x2400 - 0xC0 + p[1]);
    return enc_seq_lookup(ENC_FIXES(enc_big5_fixes), p, 2, p[1] < 0x80 ? 1 : 2);
  case MB_EUC_JP:
    if (b == 0x8E) {
      if (n < 2) break;
      return enc_in(p[1], 0xA1, 0xDF) ? enc_seq_make(SEQ_CHAR, 2, 0, 0xFF61 - 0xA1 + p[1]) : enc_seq_pair(false, p[1]);
    }
    if (b == 0x8F) {  /* JIS X 0212 */
      if (n < 2) break;
      if (!enc_in(p[1], 0xA1, 0xFE)) return enc_seq_pair(false, p[1]);
      if (n < 3) break;
      if (!enc_in(p[2], 0xA1, 0xFE)) return enc_seq_make(SEQ_ERROR, p[2] < 0x80 ? 2 : 3, 0, 0);
      return enc_seq_make(SEQ_LOOKUP, 3, 3, 0);
    }
    if (!enc_in(b, 0xA1, 0xFE)) return enc_seq_make(SEQ_ERROR, 1, 0, 0);
    if (n < 2) break;
    return enc_seq_pair(enc_in(p[1], 0xA1, 0xFE), p[1]);
  case MB_SHIFT_JIS:
    if (b == 0x80) return enc_seq_make(SEQ_CHAR, 1, 0, 0x80);
    if (enc_in(b, 0xA1, 0xDF)) return enc_seq_make(SEQ_CHAR, 1, 0, 0xFF61 - 0xA1 + b);
    if (!enc_in(b, 0x81, 0x9F) && !enc_in(b, 0xE0, 0xFC)) return enc_seq_make(SEQ_ERROR, 1, 0, 0);
    if (n < 2) break;
    if (enc_in(p[1], 0x40, 0x7E) || enc_in(p[1], 0x80, 0xFC)) {
      unsigned pointer = (b - (b < 0xA0 ? 0x81u : 0xC1u)) * 188 + p[1] - (p[1] < 0x7F ? 0x40u : 0x41u);
      if (pointer >= 8836 && pointer <= 10715)  /* user-defined area */
        return enc_seq_make(SEQ_CHAR, 2, 0, 0xE000 - 8836 + pointer);
      return enc_seq_pair(true, p[1]);
    }
    return enc_seq_pair(false, p[1]);
  case MB_EUC_KR:
    if (b == 0x80 || b == 0xFF) return enc_seq_make(SEQ_ERROR, 1, 0, 0);
    if (n < 2) break;
    return enc_seq_pair(enc_in(p[1], 0x41, 0xFE), p[1]);
  }
  return enc_seq_make(SEQ_TRUNCATED, 0, 0, 0);
}

/* Runs iconv on exactly p[0..n) into the sink; false, with nothing kept, if
 * it fails anywhere. */
static bool enc_iconv_exact(enc_sink *s, iconv_t cd, const unsigned char *p, size_t n) {
  if (sizeof s->chunk - s->n < 64) enc_flush(s);
  char *in = (char *)p, *out = s->chunk + s->n;
  size_t inleft = n, outleft = sizeof s->chunk - s->n;
  if (iconv(cd, &in, &inleft, &out, &outleft) == (size_t)-1 || inleft) return false;
  s->n = sizeof s->chunk - outleft;
  return true;
}

/* Converts p[0..len), ASCII and sequences enc_mb_seq sent to lookup, with
 * cd; a sequence glibc has no code point for is an error, consuming all of
 * it when whole is set and WHATWG's amount otherwise. */
static void enc_mb_lookup(enc_sink *s, iconv_t cd, int mb, bool whole, const unsigned char *p, size_t len) {
  size_t i = 0;
  while (i < len) {
    if (sizeof s->chunk - s->n < 64) enc_flush(s);
    char *in = (char *)p + i, *out = s->chunk + s->n;
    size_t inleft = len - i, outleft = sizeof s->chunk - s->n;
    if (iconv(cd, &in, &inleft, &out, &outleft) != (size_t)-1 || errno == E2BIG) {
      s->n = sizeof s->chunk - outleft;
      i = len - inleft;
      continue;
    }
    /* glibc does not always stop at the start of the sequence it rejects
     * (its UHC decoder steps past unmapped KS X 1001 pairs first), so this
     * call's output is dropped and its input redone one sequence at a time,
     * up to and including the failing one. */
    for (;;) {
      size_t n = 1, miss = 1;
      if (p[i] >= 0x80) {
        enc_seq seq = enc_mb_seq(mb, p + i, len - i);
        n = seq.len, miss = whole ? seq.len : seq.miss;
      }
      if (!enc_iconv_exact(s, cd, p + i, n)) {
        enc_emit(s, 0xFFFD);
        i += miss;
        break;
      }
      if ((i += n) == len) break;
    }
  }
  /* Lets out anything a converter held back in case more input followed. */
  if (sizeof s->chunk - s->n < 64) enc_flush(s);
  char *out = s->chunk + s->n;
  size_t outleft = sizeof s->chunk - s->n;
  iconv(cd, NULL, NULL, &out, &outleft);
  s->n = sizeof s->chunk - outleft;
}

static void enc_decode_multi(enc_sink *s, iconv_t cd, int mb, const unsigned char *p, size_t len) {
  size_t i = 0, start = 0;
  while ((i = enc_skip_ascii(p, i, len)) < len) {
    enc_seq seq = enc_mb_seq(mb, p + i, len - i);
    if (seq.act == SEQ_LOOKUP) {
      i += seq.len;
      continue;
    }
    enc_mb_lookup(s, cd, mb, false, p + start, i - start);
    enc_emit(s, seq.act == SEQ_CHAR ? seq.cp : 0xFFFD);
    start = i = seq.act == SEQ_TRUNCATED ? len : i + seq.len;
  }
  enc_mb_lookup(s, cd, mb, false, p + start, len - start);
}

/* Text on its way to WINDOWS-31J: ASCII and JIS X 0208 characters as
 * Shift_JIS bytes. WHATWG's index jis0208 is Microsoft's CP932 table, which
 * glibc's EUC-JP lacks in part (NEC and IBM rows, some punctuation). */
typedef struct enc_jis {
  iconv_t cd;
  size_t n;
  unsigned char bytes[1024];
} enc_jis;

static void enc_jis_flush(enc_sink *s, enc_jis *j) {
  enc_mb_lookup(s, j->cd, MB_SHIFT_JIS, true, j->bytes, j->n);
  j->n = 0;
}

static void enc_jis_ascii(enc_sink *s, enc_jis *j, const unsigned char *p, size_t n) {
  while (n) {
    if (j->n == sizeof j->bytes) enc_jis_flush(s, j);
    size_t k = sizeof j->bytes - j->n < n ? sizeof j->bytes - j->n : n;
    memcpy(j->bytes + j->n, p, k);
    j->n += k, p += k, n -= k;
  }
}

/* pointer: row * 94 + cell, below 8836. */
static void enc_jis_pair(enc_sink *s, enc_jis *j, unsigned pointer) {
  if (sizeof j->bytes - j->n < 2) enc_jis_flush(s, j);
  unsigned lead = pointer / 188, trail = pointer % 188;
  j->bytes[j->n++] = (unsigned char)(lead + (lead < 0x1F ? 0x81 : 0xC1));
  j->bytes[j->n++] = (unsigned char)(trail + (trail < 0x3F ? 0x40 : 0x41));
}

/* EUC-JP: JIS X 0208 through enc_jis, JIS X 0212 through glibc's EUC-JP
 * (cd0212), which matches WHATWG's index jis0212. */
static void enc_decode_eucjp(enc_sink *s, enc_jis *j, iconv_t cd0212, const unsigned char *p, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t ascii = enc_skip_ascii(p, i, len);
    if (ascii > i) {
      enc_jis_ascii(s, j, p + i, ascii - i);
      i = ascii;
      continue;
    }
    enc_seq seq = enc_mb_seq(MB_EUC_JP, p + i, len - i);
    if (seq.act == SEQ_LOOKUP && seq.len == 2) {
      enc_jis_pair(s, j, (p[i] - 0xA1u) * 94 + p[i + 1] - 0xA1u);
      i += 2;
      continue;
    }
    enc_jis_flush(s, j);
    if (seq.act == SEQ_LOOKUP) enc_mb_lookup(s, cd0212, MB_EUC_JP, true, p + i, seq.len);
    else enc_emit(s, seq.act == SEQ_CHAR ? seq.cp : 0xFFFD);
    i = seq.act == SEQ_TRUNCATED ? len : i + seq.len;
  }
  enc_jis_flush(s, j);
}

/* The Encoding Standard's ISO-2022-JP decoder, escape by escape (glibc's has
 * no katakana set and other error rules). */
static void enc_decode_iso2022jp(enc_sink *s, enc_jis *j, const unsigned char *p, size_t len) {
  enum { J_ASCII, J_ROMAN, J_KATAKANA, J_LEAD, J_TRAIL, J_ESCAPE_START, J_ESCAPE };
  int state = J_ASCII, output_state = J_ASCII;
  bool output_flag = false;  /* an escape just switched sets: a second one in a row is an error */
  unsigned char lead = 0;
  size_t i = 0;
  for (;;) {
    int c = i < len ? p[i] : -1;  /* -1: end of input */
    uint32_t cp = UINT32_MAX;     /* nothing to emit */
    switch (state) {
    case J_ASCII: case J_ROMAN: case J_KATAKANA: case J_LEAD:
      if (c < 0) {
        enc_jis_flush(s, j);
        return;
      }
      i++;
      if (c == 0x1B) {
        state = J_ESCAPE_START;
        break;
      }
      output_flag = false;
      if (state == J_LEAD) {
        if (enc_in((unsigned char)c, 0x21, 0x7E)) lead = (unsigned char)c, state = J_TRAIL;
        else cp = 0xFFFD;
      } else if (state == J_KATAKANA) cp = enc_in((unsigned char)c, 0x21, 0x5F) ? 0xFF61 - 0x21 + (uint32_t)c : 0xFFFD;
      else if (c >= 0x80 || c == 0x0E || c == 0x0F) cp = 0xFFFD;
      else if (state == J_ROMAN && c == 0x5C) cp = 0xA5;
      else if (state == J_ROMAN && c == 0x7E) cp = 0x203E;
      else cp = (uint32_t)c;
      break;
    case J_TRAIL:
      state = J_LEAD;
      if (c >= 0) i++;
      if (c == 0x1B) state = J_ESCAPE_START, cp = 0xFFFD;
      else if (c >= 0x21 && c <= 0x7E) enc_jis_pair(s, j, (lead - 0x21u) * 94 + (unsigned)c - 0x21u);
      else cp = 0xFFFD;
      break;
    case J_ESCAPE_START:
      if (c == 0x24 || c == 0x28) {
        lead = (unsigned char)c, state = J_ESCAPE, i++;
        break;
      }
      output_flag = false, state = output_state, cp = 0xFFFD;  /* c is read again in that state */
      break;
    case J_ESCAPE: {
      int next = -1;
      if (lead == 0x28 && c == 0x42) next = J_ASCII;
      else if (lead == 0x28 && c == 0x4A) next = J_ROMAN;
      else if (lead == 0x28 && c == 0x49) next = J_KATAKANA;
      else if (lead == 0x24 && (c == 0x40 || c == 0x42)) next = J_LEAD;
      if (next >= 0) {
        i++;
        state = output_state = next;
        if (output_flag) cp = 0xFFFD;
        output_flag = true;
      } else {
        i--;  /* the lead byte is read again, then c */
        output_flag = false, state = output_state, cp = 0xFFFD;
      }
      break;
    }
    }
    if (cp != UINT32_MAX) {
      enc_jis_flush(s, j);
      enc_emit(s, cp);
    }
  }
}

int enc_decode(const char *bytes, size_t len, const char *encoding, buf *out) {
  int e = encoding ? enc_find(encoding, strlen(encoding)) : -1;
  if (e < 0) return -1;
  const enc_info *info = &enc_infos[e];
  const unsigned char *p = (const unsigned char *)bytes;
  uint16_t table[128];
  iconv_t cd = (iconv_t)-1, cd0212 = (iconv_t)-1;
  if (info->kind == ENC_SINGLE && !enc_single_table(e, table)) return -1;
  if (info->kind == ENC_MULTI || info->kind == ENC_EUCJP || info->kind == ENC_ISO2022JP) {
    if ((cd = iconv_open("UTF-8", info->iconv)) == (iconv_t)-1) return -1;
    if (info->kind == ENC_EUCJP && (cd0212 = iconv_open("UTF-8", "EUC-JP")) == (iconv_t)-1) {
      iconv_close(cd);
      return -1;
    }
  }
  enc_sink s;
  s.out = out;
  s.n = 0;
  enc_jis j;
  j.cd = cd;
  j.n = 0;
  if (len) {
    switch (info->kind) {
    case ENC_UTF8: enc_decode_utf8(&s, p, len); break;
    case ENC_SINGLE: enc_decode_single(&s, p, len, table); break;
    case ENC_MULTI: enc_decode_multi(&s, cd, info->mb, p, len); break;
    case ENC_EUCJP: enc_decode_eucjp(&s, &j, cd0212, p, len); break;
    case ENC_ISO2022JP: enc_decode_iso2022jp(&s, &j, p, len); break;
    case ENC_UTF16LE: enc_decode_utf16(&s, p, len, false); break;
    case ENC_UTF16BE: enc_decode_utf16(&s, p, len, true); break;
    case ENC_REPLACEMENT: enc_emit(&s, 0xFFFD); break;
    }
  }
  enc_flush(&s);
  if (cd != (iconv_t)-1) iconv_close(cd);
  if (cd0212 != (iconv_t)-1) iconv_close(cd0212);
  return 0;
}

/* ---- sniffing ------------------------------------------------------- */

#define ENC_PRESCAN_MAX 1024

/* The prescan's cursor over the first ENC_PRESCAN_MAX bytes; reading at or
 * past len is the spec's "runs out of bytes", which aborts the prescan. */
typedef struct enc_scan {
  const unsigned char *p;
  size_t len, pos;
} enc_scan;

typedef struct enc_attr {
  size_t name_len, value_len;
  char name[ENC_PRESCAN_MAX], value[ENC_PRESCAN_MAX];
} enc_attr;

enum { ATTR_FOUND, ATTR_NONE, ATTR_EOF };

static void enc_attr_push(char *dst, size_t *n, unsigned char c) {
  if (*n < ENC_PRESCAN_MAX) dst[(*n)++] = (char)enc_lower(c);
}

/* Skips ASCII whitespace from s->pos; false if the bytes run out. */
static bool enc_scan_spaces(enc_scan *s) {
  while (s->pos < s->len && enc_is_space(s->p[s->pos])) s->pos++;
  return s->pos < s->len;
}

/* HTML's "get an attribute". Names and values come out lower-cased. */
static int enc_get_attr(enc_scan *s, enc_attr *a) {
  a->name_len = a->value_len = 0;
  while (s->pos < s->len && (enc_is_space(s->p[s->pos]) || s->p[s->pos] == '/')) s->pos++;
  if (s->pos >= s->len) return ATTR_EOF;
  if (s->p[s->pos] == '>') return ATTR_NONE;
  for (;; s->pos++) {  /* name */
    if (s->pos >= s->len) return ATTR_EOF;
    unsigned char c = s->p[s->pos];
    if (c == '=' && a->name_len) break;
    if (enc_is_space(c)) {
      if (!enc_scan_spaces(s)) return ATTR_EOF;
      if (s->p[s->pos] != '=') return ATTR_FOUND;
      break;
    }
    if (c == '/' || c == '>') return ATTR_FOUND;
    enc_attr_push(a->name, &a->name_len, c);
  }
  s->pos++;  /* past '=' */
  if (!enc_scan_spaces(s)) return ATTR_EOF;
  unsigned char q = s->p[s->pos];
  if (q == '"' || q == '\'') {
    for (s->pos++;; s->pos++) {
      if (s->pos >= s->len) return ATTR_EOF;
      if (s->p[s->pos] == q) {
        s->pos++;
        return ATTR_FOUND;
      }
      enc_attr_push(a->value, &a->value_len, s->p[s->pos]);
    }
  }
  if (q == '>') return ATTR_FOUND;
  for (;; s->pos++) {
    if (s->pos >= s->len) return ATTR_EOF;
    unsigned char c = s->p[s->pos];
    if (enc_is_space(c) || c == '>') return ATTR_FOUND;
    enc_attr_push(a->value, &a->value_len, c);
  }
}

static bool enc_attr_is(const char *s, size_t len, const char *word) {
  return len == strlen(word) && memcmp(s, word, len) == 0;
}

/* HTML's "algorithm for extracting a character encoding from a meta
 * element" on a content attribute: index into enc_infos, or -1. */
static int enc_meta_content(const char *s, size_t n) {
  size_t i = 0;
  for (;;) {
    while (i + 7 <= n && !enc_ieq("charset", s + i, 7)) i++;
    if (i + 7 > n) return -1;
    i += 7;
    while (i < n && enc_is_space((unsigned char)s[i])) i++;
    if (i < n && s[i] == '=') break;
  }
  i++;
  while (i < n && enc_is_space((unsigned char)s[i])) i++;
  if (i >= n) return -1;
  if (s[i] == '"' || s[i] == '\'') {
    const char *end = memchr(s + i + 1, s[i], n - i - 1);
    return end ? enc_find(s + i + 1, (size_t)(end - (s + i + 1))) : -1;
  }
  size_t j = i;
  while (j < n && !enc_is_space((unsigned char)s[j]) && s[j] != ';') j++;
  return enc_find(s + i, j - i);
}

enum { META_NONE = -1, META_EOF = -2 };

/* The prescan's <meta> steps, s->pos just past "<meta": an encoding index,
 * META_NONE to go on scanning, or META_EOF. */
static int enc_prescan_meta(enc_scan *s, enc_attr *a) {
  enum { CHARSET_NULL = -1, CHARSET_FAILURE = -2 };
  bool got_pragma = false, seen_http_equiv = false, seen_content = false, seen_charset = false;
  int need_pragma = -1;  /* null, false, true */
  int charset = CHARSET_NULL, r;
  /* A repeated attribute is ignored; only these three names matter. */
  while ((r = enc_get_attr(s, a)) == ATTR_FOUND) {
    if (enc_attr_is(a->name, a->name_len, "http-equiv") && !seen_http_equiv) {
      seen_http_equiv = true;
      if (enc_attr_is(a->value, a->value_len, "content-type")) got_pragma = true;
    } else if (enc_attr_is(a->name, a->name_len, "content") && !seen_content) {
      seen_content = true;
      int e = enc_meta_content(a->value, a->value_len);
      if (e >= 0 && charset == CHARSET_NULL) charset = e, need_pragma = 1;
    } else if (enc_attr_is(a->name, a->name_len, "charset") && !seen_charset) {
      seen_charset = true;
      int e = enc_find(a->value, a->value_len);
      charset = e >= 0 ? e : CHARSET_FAILURE;
      need_pragma = 0;
    }
  }
  if (r == ATTR_EOF) return META_EOF;
  if (need_pragma < 0 || (need_pragma && !got_pragma) || charset < 0) return META_NONE;
  if (charset == E_UTF16LE || charset == E_UTF16BE) return E_UTF8;
  if (charset == E_XUSERDEFINED) return E_WIN1252;
  return charset;
}

/* HTML's "get an XML encoding", for a prescan that found nothing. The
 * declaration is taken to end at its first '>'. */
static int enc_xml_encoding(const unsigned char *p, size_t n) {
  if (n < 5 || memcmp(p, "<?xml", 5) != 0) return -1;
  const unsigned char *gt = memchr(p, '>', n);
  if (!gt) return -1;
  size_t end = (size_t)(gt - p), i = 5;
  while (i + 8 <= end && memcmp(p + i, "encoding", 8) != 0) i++;
  if (i + 8 > end) return -1;
  for (i += 8; i < end && p[i] <= 0x20; i++) {}
  if (i >= end || p[i] != '=') return -1;
  for (i++; i < end && p[i] <= 0x20; i++) {}
  if (i >= end || (p[i] != '"' && p[i] != '\'')) return -1;
  const unsigned char *close = memchr(p + i + 1, p[i], end - i - 1);
  if (!close) return -1;
  for (const unsigned char *c = p + i + 1; c < close; c++)
    if (*c <= 0x20) return -1;
  int e = enc_find((const char *)p + i + 1, (size_t)(close - (p + i + 1)));
  return e == E_UTF16LE || e == E_UTF16BE ? E_UTF8 : e;
}

static bool enc_is_alpha(unsigned char c) { return enc_in(enc_lower(c), 'a', 'z'); }

/* HTML's "prescan a byte stream to determine its encoding" over p[0..n). */
static int enc_prescan(const unsigned char *p, size_t n) {
  if (n >= 6 && memcmp(p, "<\0?\0x\0", 6) == 0) return E_UTF16LE;
  if (n >= 6 && memcmp(p, "\0<\0?\0x", 6) == 0) return E_UTF16BE;
  enc_scan s = {p, n, 0};
  enc_attr a;
  while (s.pos < n) {
    const unsigned char *c = p + s.pos;
    size_t rest = n - s.pos;
    if (c[0] != '<' || rest < 2) {
      s.pos++;
      continue;
    }
    if (rest >= 4 && memcmp(c, "<!--", 4) == 0) {
      /* the '>' of the first "-->", whose dashes may be those of "<!--" */
      size_t j = 4;
      while (j < rest && !(c[j] == '>' && c[j - 1] == '-' && c[j - 2] == '-')) j++;
      if (j == rest) break;
      s.pos += j + 1;
    } else if (rest >= 6 && enc_ieq("meta", (const char *)c + 1, 4) && (enc_is_space(c[5]) || c[5] == '/')) {
      s.pos += 5;
      int r = enc_prescan_meta(&s, &a);
      if (r == META_EOF) break;
      if (r >= 0) return r;
      s.pos++;
    } else if (enc_is_alpha(c[1]) || (c[1] == '/' && rest >= 3 && enc_is_alpha(c[2]))) {
      while (s.pos < n && !enc_is_space(p[s.pos]) && p[s.pos] != '>') s.pos++;
      int r;
      while ((r = enc_get_attr(&s, &a)) == ATTR_FOUND) {}
      if (r == ATTR_EOF) break;
      s.pos++;
    } else if (c[1] == '!' || c[1] == '/' || c[1] == '?') {
      const unsigned char *gt = memchr(c + 1, '>', rest - 1);
      if (!gt) break;
      s.pos = (size_t)(gt - p) + 1;
    } else {
      s.pos++;
    }
  }
  return enc_xml_encoding(p, n);
}

const char *enc_sniff(const char *bytes, size_t len, const char *transport_label, size_t *bom_len) {
  const unsigned char *p = (const unsigned char *)bytes;
  size_t bom = 0;
  int e = -1;
  if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) e = E_UTF8, bom = 3;
  else if (len >= 2 && p[0] == 0xFE && p[1] == 0xFF) e = E_UTF16BE, bom = 2;
  else if (len >= 2 && p[0] == 0xFF && p[1] == 0xFE) e = E_UTF16LE, bom = 2;
  if (bom_len) *bom_len = bom;
  if (e < 0 && transport_label) e = enc_find(transport_label, strlen(transport_label));
  if (e < 0) e = enc_prescan(p, len < ENC_PRESCAN_MAX ? len : ENC_PRESCAN_MAX);
  if (e < 0) e = enc_valid_utf8(bytes, len) ? E_UTF8 : E_WIN1252;
  return enc_infos[e].name;
}
