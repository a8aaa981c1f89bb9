/* entities.c — character reference decoding (entities.h), after Python's
 * html.unescape: a reference is "&#" digits, "&#x" hex digits (";"
 * optional) or "&" and up to 32 characters that are not white space or
 * "<&#;", with an optional ";". A name not in the table decodes its longest
 * legacy prefix ("&ampx" is "&x"), as the HTML standard's tokenizer does in
 * text. The table is entities_table.h, generated from Python's own. */
#include "entities.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "entities_table.h"

/* The longest legacy name (no ";"): "frac12", "middot", ... */
#define ENTITIES_LEGACY_MAX 6
/* Python's limit on the characters of a name (its regex's {1,32}). */
#define ENTITIES_NAME_MAX 32

static int entities_cmp(const char *name, size_t n, const char *ref) {
  size_t m = strlen(ref);
  int c = memcmp(name, ref, n < m ? n : m);
  if (c) return c;
  return n < m ? -1 : n > m;
}

static const char *entities_find(const char *name, size_t n) {
  size_t lo = 0, hi = ENTITIES_COUNT;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = entities_cmp(name, n, entities_table[mid].name);
    if (c == 0) return entities_table[mid].value;
    if (c < 0) hi = mid;
    else lo = mid + 1;
  }
  return NULL;
}

static size_t entities_put_utf8(uint32_t cp, char *out) {
  unsigned char *o = (unsigned char *)out;
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | cp >> 6);
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | cp >> 18);
  o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
  o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* What the HTML standard puts for references to 0x80-0x9F: the
 * windows-1252 characters (0 where windows-1252 has none: the control
 * itself stays). */
static const uint16_t entities_c1[32] = {
  0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
  0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

/* The code point of a numeric reference, as Python decodes it. */
static size_t entities_numeric(uint32_t cp, char *out) {
  if (cp == 0) return entities_put_utf8(0xFFFD, out);
  if (cp >= 0x80 && cp <= 0x9F) return entities_put_utf8(entities_c1[cp - 0x80] ? entities_c1[cp - 0x80] : cp, out);
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return entities_put_utf8(0xFFFD, out);
  /* Noncharacters and controls (but tab, LF, FF, CR) decode to nothing. */
  if ((cp >= 0x1 && cp <= 0x8) || cp == 0xB || (cp >= 0xE && cp <= 0x1F) || cp == 0x7F ||
      (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
    return 0;
  return entities_put_utf8(cp, out);
}

static bool entities_is_name_byte(unsigned char c) {
  return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' && c != ';';
}

static int entities_digit(unsigned char c, bool hex) {
  if (c >= '0' && c <= '9') return c - '0';
  if (!hex) return -1;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A numeric reference at s[i] ("&#..."): its decoding written to out, and
 * the bytes it took in *used; 0 used if it is none. */
static size_t entities_try_numeric(const char *s, size_t len, size_t i, char *out, size_t *used) {
  size_t j = i + 2;
  bool hex = j < len && (s[j] == 'x' || s[j] == 'X');
  if (hex) j++;
  size_t start = j;
  uint32_t cp = 0;
  int d;
  while (j < len && (d = entities_digit((unsigned char)s[j], hex)) >= 0) {
    /* Past 0x10FFFF any value decodes the same (U+FFFD): stop growing. */
    if (cp <= 0x10FFFF) cp = cp * (hex ? 16 : 10) + (uint32_t)d;
    j++;
  }
  if (j == start) {
    *used = 0;
    return 0;
  }
  if (j < len && s[j] == ';') j++;
  *used = j - i;
  return entities_numeric(cp, out);
}

/* A named reference at s[i] ("&name"): as entities_try_numeric. */
static size_t entities_try_named(const char *s, size_t len, size_t i, char *out, size_t *used) {
  size_t j = i + 1, chars = 0;
  while (j < len && chars < ENTITIES_NAME_MAX && entities_is_name_byte((unsigned char)s[j])) {
    if (((unsigned char)s[j] & 0xC0) != 0x80) chars++;
    j++;
    /* The rest of a UTF-8 character goes with its first byte. */
    while (j < len && ((unsigned char)s[j] & 0xC0) == 0x80) j++;
  }
  size_t n = j - (i + 1);
  *used = 0;
  if (n == 0) return 0;
  if (j < len && s[j] == ';') n++;
  const char *name = s + i + 1, *value = entities_find(name, n);
  size_t take = n;
  /* Else the longest legacy name it starts with (two characters at least). */
  if (!value)
    for (take = n - 1 < ENTITIES_LEGACY_MAX ? n - 1 : ENTITIES_LEGACY_MAX; take >= 2; take--)
      if ((value = entities_find(name, take))) break;
  if (!value) return 0;
  size_t vlen = strlen(value);
  memcpy(out, value, vlen);
  *used = 1 + take;
  return vlen;
}

size_t entities_unescape(const char *s, size_t len, char *out) {
  size_t o = 0, i = 0;
  while (i < len) {
    const char *amp = memchr(s + i, '&', len - i);
    size_t plain = amp ? (size_t)(amp - (s + i)) : len - i;
    memcpy(out + o, s + i, plain);
    o += plain;
    i += plain;
    if (i == len) break;
    size_t used = 0;
    size_t w = i + 1 < len && s[i + 1] == '#' ? entities_try_numeric(s, len, i, out + o, &used)
                                              : entities_try_named(s, len, i, out + o, &used);
    if (used) {
      o += w;
      i += used;
    } else {
      out[o++] = '&';
      i++;
    }
  }
  return o;
}
