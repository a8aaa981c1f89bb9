/* ljson.c — glean.json (see ljson.h). Owns how Lua values map to JSON and
 * back: which tables are arrays and which objects, the null sentinel, the
 * number and string rules, canonical output (sorted keys, no whitespace) and
 * error messages that say where in a value the problem is.
 *
 * Lua -> JSON:
 *   nil, json.null          null
 *   boolean                 true / false
 *   integer                 1, -7 (all 64 bits)
 *   float                   shortest text that reads back as the same float,
 *                           always with a '.' or an exponent: 1.0 encodes as
 *                           "1.0" and so decodes as a float again. NaN and
 *                           infinities are errors.
 *   string                  must be UTF-8; '"', '\' and control characters
 *                           escaped (\n style where JSON has one, else \u00XX)
 *   table with keys 1..n    array
 *   other table             object; integer keys become their decimal text,
 *                           other non-string keys are errors
 *   empty table             [] (lists are the usual empty thing in a record);
 *                           json.object(t) makes it {}
 * A metatable field __jsontype = "array" or "object" overrides the choice.
 * Tables are read raw: no metamethod runs while encoding.
 *
 * JSON -> Lua: the reverse. null becomes json.null, so arrays keep their
 * length and objects their keys. A number written as an integer that fits
 * in 64 bits becomes an integer, any other number a float (Lua's own rule
 * for numerals); one past the largest float is refused. Decoded arrays and objects carry the array / object mark,
 * so decode("{}") encodes back as {}. Of duplicate keys the last wins. */
#include "ljson.h"
#include "lglean.h"

#include <cJSON.h>
#include <float.h>
#include <lauxlib.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lglean.h"

#define LJSON_ARRAY "glean.json.array"
#define LJSON_OBJECT "glean.json.object"
#define LJSON_BUFFER "glean.json.Buffer"
#define LJSON_TREE "glean.json.Tree"

/* Bytes of a string encode writes for a step of adapter code's time budget
 * (llimits.c); a table of n members is n steps and its depth, so that one
 * shared table met 2^30 times costs what 2^30 tables would. */
#define LJSON_STEP_BYTES 64

/* Deepest nesting encode writes: what we write, cJSON can read back. */
#define LJSON_MAX_DEPTH CJSON_NESTING_LIMIT

/* Error paths longer than this many steps show only their ends. */
#define LJSON_PATH_ENDS 8

/* Length of the well-formed UTF-8 sequence at p (n > 0 bytes available),
 * or 0. Overlong forms, surrogates and code points past U+10FFFF are not
 * well-formed (RFC 3629). */
static size_t utf8_len(const unsigned char *p, size_t n) {
  unsigned char lo = 0x80, hi = 0xBF;
  size_t len;
  if (p[0] < 0x80) return 1;
  if (p[0] < 0xC2) return 0;
  if (p[0] < 0xE0) {
    len = 2;
  } else if (p[0] < 0xF0) {
    len = 3;
    if (p[0] == 0xE0) lo = 0xA0;
    else if (p[0] == 0xED) hi = 0x9F;
  } else if (p[0] < 0xF5) {
    len = 4;
    if (p[0] == 0xF0) lo = 0x90;
    else if (p[0] == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return len;
}

/* ---- encoding ---------------------------------------------------------- */

/* A table on the way from the top-level value to the value being encoded,
 * and which of its members that is. Each lives in an encode_table frame;
 * cycle checks and error messages walk the chain upwards. */
typedef struct step {
  const struct step *up;
  const void *table;
  int level;            /* 1 for the top-level table */
  const char *key;      /* the member's string key, or NULL: integer key */
  size_t keylen;
  lua_Integer index;
} step;

static int is_name(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')))
      return 0;
  }
  return len > 0;
}

static void add_step(luaL_Buffer *B, const step *s) {
  if (!s->key) {
    char num[32];
    snprintf(num, sizeof num, "[" LUA_INTEGER_FMT "]", (LUAI_UACINT)s->index);
    luaL_addstring(B, num);
  } else if (is_name(s->key, s->keylen)) {
    luaL_addchar(B, '.');
    luaL_addlstring(B, s->key, s->keylen);
  } else {
    luaL_addstring(B, "[\"");
    for (size_t i = 0; i < s->keylen; i++) {
      unsigned char c = (unsigned char)s->key[i];
      if (c < 0x20) {
        char esc[8];
        snprintf(esc, sizeof esc, "\\%u", c);
        luaL_addstring(B, esc);
      } else {
        if (c == '"' || c == '\\') luaL_addchar(B, '\\');
        luaL_addchar(B, (char)c);
      }
    }
    luaL_addstring(B, "\"]");
  }
}

static void add_path(luaL_Buffer *B, const step *s, int total) {
  if (!s) return;
  add_path(B, s->up, total);
  if (s->level <= LJSON_PATH_ENDS || s->level > total - LJSON_PATH_ENDS) {
    add_step(B, s);
  } else if (s->level == LJSON_PATH_ENDS + 1) {
    char gap[32];
    snprintf(gap, sizeof gap, "<%d levels>", total - 2 * LJSON_PATH_ENDS);
    luaL_addstring(B, gap);
  }
}

/* Pushes where `at` points, written as Lua would index the top-level value
 * (".tags[3]"), and returns it for an error message. Callers must have made
 * their other stack indices absolute: this pushes. */
static const char *push_path(lua_State *L, const step *at) {
  luaL_Buffer B;
  if (!at) return lua_pushliteral(L, "top level");
  luaL_buffinit(L, &B);
  add_path(&B, at, at->level);
  luaL_pushresult(&B);
  return lua_tostring(L, -1);
}

static void put_escape(buf *out, unsigned char c) {
  static const char hex[] = "0123456789abcdef";
  char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
  switch (c) {
    case '"': buf_append(out, "\\\"", 2); break;
    case '\\': buf_append(out, "\\\\", 2); break;
    case '\b': buf_append(out, "\\b", 2); break;
    case '\f': buf_append(out, "\\f", 2); break;
    case '\n': buf_append(out, "\\n", 2); break;
    case '\r': buf_append(out, "\\r", 2); break;
    case '\t': buf_append(out, "\\t", 2); break;
    default: buf_append(out, esc, sizeof esc); break;
  }
}

/* Writes s as a JSON string. Returns 0, or the 1-based offset of the first
 * byte that is not UTF-8 (out then holds a partial string). */
static size_t put_string(buf *out, const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, done = 0;
  buf_putc(out, '"');
  while (i < len) {
    if (p[i] >= 0x80) {
      size_t n = utf8_len(p + i, len - i);
      if (!n) return i + 1;
      i += n;
    } else if (p[i] < 0x20 || p[i] == '"' || p[i] == '\\') {
      buf_append(out, s + done, i - done);
      put_escape(out, p[i]);
      done = ++i;
    } else {
      i++;
    }
  }
  buf_append(out, s + done, len - done);
  buf_putc(out, '"');
  return 0;
}

static void put_number(lua_State *L, buf *out, int idx, const step *at) {
  char s[48];
  if (lua_isinteger(L, idx)) {
    snprintf(s, sizeof s, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
  } else {
    double x = (double)lua_tonumber(L, idx);
    if (isnan(x)) luaL_error(L, "json.encode: cannot encode NaN at %s", push_path(L, at));
    if (isinf(x)) luaL_error(L, "json.encode: cannot encode %s at %s", x > 0 ? "inf" : "-inf", push_path(L, at));
    /* The fewest significant digits that read back as x (more digits only
     * make that easier; 17 always do). Decimals of 15 digits lie further
     * apart than a normal double's ulp, so at most one of them, the one
     * %.15g writes, reads back as x, and no shorter one can unless it is
     * that one. Subnormals have fewer bits, so try them from 1. */
    for (int digits = fabs(x) < DBL_MIN ? 1 : 15; digits <= 17; digits++) {
      snprintf(s, sizeof s, "%.*g", digits, x);
      if (strtod(s, NULL) == x) break;
    }
    /* printf writes the locale's decimal point; JSON wants '.'. */
    char point = localeconv()->decimal_point[0];
    for (char *c = s; *c; c++)
      if (*c == point) *c = '.';
    /* Keep floats floats across a round trip: "1" would decode as 1. */
    if (!strpbrk(s, ".e")) strcat(s, ".0");
  }
  buf_puts(out, s);
}

/* A table's own choice of encoding, from its metatable's __jsontype. */
enum { AS_ANY, AS_ARRAY, AS_OBJECT };

static int table_mark(lua_State *L, int t, const step *at) {
  int mark = AS_ANY;
  if (luaL_getmetafield(L, t, "__jsontype") == LUA_TNIL) return mark;
  if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "array") == 0) mark = AS_ARRAY;
  else if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "object") == 0) mark = AS_OBJECT;
  else luaL_error(L, "json.encode: __jsontype must be \"array\" or \"object\" at %s", push_path(L, at));
  lua_pop(L, 1);
  return mark;
}

/* An object member's key, collected for sorting. */
typedef struct jkey {
  const char *s;        /* a string key (kept alive by the table), or NULL */
  size_t len;
  lua_Integer i;        /* an integer key, written as digits */
  char digits[24];
} jkey;

static const char *key_text(const jkey *k) { return k->s ? k->s : k->digits; }

/* Byte order, so output does not depend on the locale. */
static int key_cmp(const void *a, const void *b) {
  const jkey *x = a, *y = b;
  int c = memcmp(key_text(x), key_text(y), x->len < y->len ? x->len : y->len);
  return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void encode_value(lua_State *L, int idx, buf *out, const step *at);

static void encode_array(lua_State *L, int t, lua_Integer n, buf *out, step *s) {
  buf_putc(out, '[');
  for (lua_Integer i = 1; i <= n; i++) {
    if (i > 1) buf_putc(out, ',');
    s->index = i;
    lua_rawgeti(L, t, i);
    encode_value(L, lua_gettop(L), out, s);
    lua_pop(L, 1);
  }
  buf_putc(out, ']');
}

static void encode_object(lua_State *L, int t, lua_Integer n, buf *out, step *s) {
  jkey *keys = lua_newuserdatauv(L, (size_t)n * sizeof *keys, 0);
  lua_Integer k = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    jkey *key = &keys[k++];
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      key->s = lua_tolstring(L, -1, &key->len);
    } else if (lua_isinteger(L, -1)) {
      key->s = NULL;
      key->i = lua_tointeger(L, -1);
      key->len = (size_t)snprintf(key->digits, sizeof key->digits, LUA_INTEGER_FMT, (LUAI_UACINT)key->i);
    } else {
      const char *type = lua_type(L, -1) == LUA_TNUMBER ? "float" : luaL_typename(L, -1);
      luaL_error(L, "json.encode: table key must be a string or integer, got %s at %s", type, push_path(L, s->up));
    }
  }
  qsort(keys, (size_t)n, sizeof *keys, key_cmp);
  for (lua_Integer i = 1; i < n; i++)
    if (key_cmp(&keys[i - 1], &keys[i]) == 0)
      luaL_error(L, "json.encode: key \"%s\" is both a string and an integer at %s", key_text(&keys[i]),
                 push_path(L, s->up));
  buf_putc(out, '{');
  for (lua_Integer i = 0; i < n; i++) {
    const jkey *key = &keys[i];
    if (i > 0) buf_putc(out, ',');
    size_t bad = put_string(out, key_text(key), key->len);
    if (bad) luaL_error(L, "json.encode: invalid UTF-8 in key at %s (byte %I)", push_path(L, s->up), (lua_Integer)bad);
    buf_putc(out, ':');
    s->key = key->s;
    s->keylen = key->len;
    if (key->s) {
      lua_pushlstring(L, key->s, key->len);
      lua_rawget(L, t);
    } else {
      s->index = key->i;
      lua_rawgeti(L, t, key->i);
    }
    encode_value(L, lua_gettop(L), out, s);
    lua_pop(L, 1);
  }
  buf_putc(out, '}');
  lua_pop(L, 1);
}

/* Recursive, but never deeper than LJSON_MAX_DEPTH tables. */
static void encode_table(lua_State *L, int t, buf *out, const step *at) {
  step s = {at, lua_topointer(L, t), at ? at->level + 1 : 1, NULL, 0, 0};
  for (const step *a = at; a; a = a->up)
    if (a->table == s.table) luaL_error(L, "json.encode: cycle at %s", push_path(L, at));
  if (s.level > LJSON_MAX_DEPTH)
    luaL_error(L, "json.encode: nesting deeper than %d at %s", LJSON_MAX_DEPTH, push_path(L, at));
  luaL_checkstack(L, 8, "json.encode nesting");
  int mark = table_mark(L, t, at);

  /* An array has keys 1..n exactly: n keys, all integers in 1..n. */
  lua_Integer n = 0, max = 0;
  int sequence = 1;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    n++;
    if (sequence && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
      if (lua_tointeger(L, -1) > max) max = lua_tointeger(L, -1);
    } else {
      sequence = 0;
    }
  }
  sequence = sequence && max == n;
  llimits_spend(L, n + s.level); /* the cycle check walks s.level steps */

  if (mark == AS_ARRAY && !sequence)
    luaL_error(L, "json.encode: table marked as array has keys other than 1..n at %s", push_path(L, at));
  if (sequence && mark != AS_OBJECT) encode_array(L, t, n, out, &s);
  else encode_object(L, t, n, out, &s);
}

static void encode_value(lua_State *L, int idx, buf *out, const step *at) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      buf_puts(out, "null");
      break;
    case LUA_TBOOLEAN:
      buf_puts(out, lua_toboolean(L, idx) ? "true" : "false");
      break;
    case LUA_TNUMBER:
      put_number(L, out, idx, at);
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      if (len >= LJSON_STEP_BYTES) llimits_spend(L, (lua_Integer)(len / LJSON_STEP_BYTES));
      size_t bad = put_string(out, s, len);
      if (bad) luaL_error(L, "json.encode: invalid UTF-8 in string at %s (byte %I)", push_path(L, at), (lua_Integer)bad);
      break;
    }
    case LUA_TTABLE:
      encode_table(L, idx, out, at);
      break;
    default:
      if (lua_islightuserdata(L, idx) && lua_touserdata(L, idx) == NULL) buf_puts(out, "null");
      else luaL_error(L, "json.encode: cannot encode %s at %s", luaL_typename(L, idx), push_path(L, at));
      break;
  }
}

int ljson_encode(lua_State *L, int idx, buf *out) {
  encode_value(L, lua_absindex(L, idx), out, NULL);
  if (out->failed) luaL_error(L, "json.encode: not enough memory past %I bytes of JSON text", (lua_Integer)out->len);
  return 0;
}

/* ---- decoding ---------------------------------------------------------- */

/* Index just past the string literal that starts at s[i] (a '"'), or end. */
static size_t skip_string(const char *s, size_t end, size_t i) {
  for (i++; i < end && s[i] != '"'; i++)
    if (s[i] == '\\') i++;
  return i < end ? i + 1 : end;
}

/* cJSON keeps strings NUL-terminated, so a raw NUL or a \u0000 escape would
 * silently cut a string short: refuse them, and anything not UTF-8. */
static void check_input(lua_State *L, const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    if (p[i] >= 0x80) {
      size_t n = utf8_len(p + i, len - i);
      if (!n) luaL_error(L, "json.decode: invalid UTF-8 at byte %I", (lua_Integer)i + 1);
      i += n;
    } else if (p[i] == '\0') {
      luaL_error(L, "json.decode: invalid JSON at byte %I (NUL byte)", (lua_Integer)i + 1);
    } else if (p[i] == '\\') {
      /* Backslashes only occur inside strings (else cJSON refuses the
       * text), so an odd run of them escapes what follows. */
      size_t j = i;
      while (j < len && p[j] == '\\') j++;
      if ((j - i) % 2 == 1 && len - j >= 5 && memcmp(s + j, "u0000", 5) == 0)
        luaL_error(L, "json.decode: \\u0000 in a string is not supported (byte %I)", (lua_Integer)j);
      i = j;
    } else {
      i++;
    }
  }
}

/* What cJSON's tree of the valid JSON text s can take at most: a node per
 * value (there are at most one more than the commas and opening brackets
 * outside strings) and a block per string, key or value, no longer than
 * its literal. cJSON allocates through hooks that are global to the
 * process (cJSON_InitHooks), so this, not a count of its allocations, is
 * what a decode is charged while the tree lives. */
#define LJSON_BLOCK_OVERHEAD 32  /* malloc's header and rounding, generously */
static size_t tree_cost(const char *s, size_t len) {
  size_t nodes = 1, strings = 0;
  for (size_t i = 0; i < len;) {
    if (s[i] == '"') {
      i = skip_string(s, len, i);
      strings++;
      continue;
    }
    if (s[i] == ',' || s[i] == '[' || s[i] == '{') nodes++;
    i++;
  }
  return nodes * (sizeof(cJSON) + LJSON_BLOCK_OVERHEAD) + strings * LJSON_BLOCK_OVERHEAD + len;
}

/* cJSON reports its nesting limit as a plain failure at the bracket that
 * would go one level too deep; tell that apart for a clearer message. */
static int too_deep(const char *s, size_t pos) {
  int depth = 0;
  if (s[pos] != '[' && s[pos] != '{') return 0;
  for (size_t i = 0; i < pos;) {
    if (s[i] == '"') {
      i = skip_string(s, pos, i);
    } else {
      if (s[i] == '[' || s[i] == '{') depth++;
      else if (s[i] == ']' || s[i] == '}') depth--;
      i++;
    }
  }
  return depth >= CJSON_NESTING_LIMIT;
}

typedef struct decoder {
  const char *s;
  size_t len;
  size_t next;          /* where to look for the next number token */
  int array_mt, object_mt;
} decoder;

/* cJSON keeps a number only as a double, which would round integers past
 * 2^53. Its tree holds values in text order and the text is valid JSON, so
 * the k-th number in the tree is the k-th number token outside strings:
 * read that token again and let Lua convert it. */
static void push_number(lua_State *L, decoder *d) {
  const char *s = d->s;
  size_t i = d->next, start;
  char token[64];  /* cJSON refuses longer numbers */
  while (i < d->len && s[i] != '-' && !(s[i] >= '0' && s[i] <= '9'))
    i = s[i] == '"' ? skip_string(s, d->len, i) : i + 1;
  start = i;
  while (i < d->len && strchr("+-.0123456789Ee", s[i])) i++;
  d->next = i;
  if (i > start && i - start < sizeof token) {
    memcpy(token, s + start, i - start);
    token[i - start] = '\0';
    if (lua_stringtonumber(L, token)) {
      /* 1e400 reads as infinity, which no JSON text can be (encode refuses it). */
      if (!lua_isinteger(L, -1) && isinf(lua_tonumber(L, -1)))
        luaL_error(L, "json.decode: number out of range at byte %I", (lua_Integer)start + 1);
      return;
    }
  }
  luaL_error(L, "json.decode: internal error: lost track of numbers at byte %I", (lua_Integer)start + 1);
}

/* Recursive, but cJSON nests no deeper than CJSON_NESTING_LIMIT. */
static void push_tree(lua_State *L, const cJSON *item, decoder *d) {
  luaL_checkstack(L, 4, "json.decode nesting");
  switch (item->type & 0xFF) {
    case cJSON_NULL:
      lua_pushlightuserdata(L, NULL);
      break;
    case cJSON_False:
      lua_pushboolean(L, 0);
      break;
    case cJSON_True:
      lua_pushboolean(L, 1);
      break;
    case cJSON_Number:
      push_number(L, d);
      break;
    case cJSON_Array: {
      lua_Integer i = 0;
      lua_createtable(L, cJSON_GetArraySize(item), 0);
      for (const cJSON *c = item->child; c; c = c->next) {
        push_tree(L, c, d);
        lua_rawseti(L, -2, ++i);
      }
      lua_pushvalue(L, d->array_mt);
      lua_setmetatable(L, -2);
      break;
    }
    case cJSON_Object:
      lua_createtable(L, 0, cJSON_GetArraySize(item));
      for (const cJSON *c = item->child; c; c = c->next) {
        lua_pushstring(L, c->string);
        push_tree(L, c, d);
        lua_rawset(L, -3);
      }
      lua_pushvalue(L, d->object_mt);
      lua_setmetatable(L, -2);
      break;
    default: /* cJSON_String: the parser makes no other types */
      lua_pushstring(L, item->valuestring);
      break;
  }
}

/* ---- the library ------------------------------------------------------- */

/* __close of the encode buffer and of the cJSON tree: both are freed when
 * the call ends, also when it ends in an error. */
static int buffer_close(lua_State *L) {
  buf_free(luaL_checkudata(L, 1, LJSON_BUFFER));
  return 0;
}

/* A decode's cJSON tree, and what the memory limit was charged for it. */
typedef struct ljson_tree {
  cJSON *root;
  size_t charged;
} ljson_tree;

static int tree_close(lua_State *L) {
  ljson_tree *tree = luaL_checkudata(L, 1, LJSON_TREE);
  cJSON_Delete(tree->root);
  tree->root = NULL;
  lglean_uncharge(L, tree->charged);
  tree->charged = 0;
  return 0;
}

/* The buffer's memory is the state's (lglean_mem): an 8 MB string under 20
 * keys is 160 MB of text, refused past the memory limit. */
buf *ljson_push_buffer(lua_State *L) {
  const mem_allocator *mem = lglean_mem(L);
  buf *out = lua_newuserdatauv(L, sizeof *out, 0);
  *out = (buf)BUF_WITH(mem);
  luaL_setmetatable(L, LJSON_BUFFER);
  lua_toclose(L, -1);
  return out;
}

static int json_encode(lua_State *L) {
  luaL_checkany(L, 1);
  buf *out = ljson_push_buffer(L);
  ljson_encode(L, 1, out);
  lua_pushlstring(L, buf_str(out), out->len);
  return 1;
}

static int json_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  const char *end = s;
  decoder d = {s, len, 0, 0, 0};
  check_input(L, s, len);
  ljson_tree *tree = lua_newuserdatauv(L, sizeof *tree, 0);
  tree->root = NULL;
  tree->charged = 0;
  luaL_setmetatable(L, LJSON_TREE);
  lua_toclose(L, -1);
  size_t cost = tree_cost(s, len);
  if (lglean_charge(L, cost) != 0) {
    lua_gc(L, LUA_GCCOLLECT); /* as Lua does before it refuses */
    if (lglean_charge(L, cost) != 0)
      return luaL_error(L, "json.decode: not enough memory for the tree of %I bytes of JSON text", (lua_Integer)len);
  }
  tree->charged = cost;
  /* Taking in the NUL that ends every Lua string is how cJSON checks that
   * nothing follows the value; the position comes back through end rather
   * than cJSON's global error pointer, which other threads may overwrite. */
  tree->root = cJSON_ParseWithLengthOpts(s, len + 1, &end, 1);
  if (!tree->root) {
    size_t pos = (size_t)(end - s);
    if (too_deep(s, pos))
      return luaL_error(L, "json.decode: nesting deeper than %d at byte %I", CJSON_NESTING_LIMIT, (lua_Integer)pos + 1);
    return luaL_error(L, "json.decode: invalid JSON at byte %I", (lua_Integer)pos + 1);
  }
  luaL_getmetatable(L, LJSON_ARRAY);
  d.array_mt = lua_gettop(L);
  luaL_getmetatable(L, LJSON_OBJECT);
  d.object_mt = lua_gettop(L);
  push_tree(L, tree->root, &d);
  return 1;
}

/* Marks t so that it encodes as an array / object even when empty. Only a
 * mark replaces a mark: any other metatable belongs to someone else. */
static int mark_table(lua_State *L, const char *mark) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  if (lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, LJSON_ARRAY);
    luaL_getmetatable(L, LJSON_OBJECT);
    if (!lua_rawequal(L, 2, 3) && !lua_rawequal(L, 2, 4)) return luaL_argerror(L, 1, "table already has a metatable");
    lua_settop(L, 1);
  }
  luaL_setmetatable(L, mark);
  return 1;
}

static int json_array(lua_State *L) { return mark_table(L, LJSON_ARRAY); }

static int json_object(lua_State *L) { return mark_table(L, LJSON_OBJECT); }

static const luaL_Reg json_funcs[] = {
  {"encode", json_encode},
  {"decode", json_decode},
  {"array", json_array},
  {"object", json_object},
  {"null", NULL},
  {NULL, NULL},
};

int luaopen_glean_json(lua_State *L) {
  luaL_newmetatable(L, LJSON_ARRAY);
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__jsontype");
  luaL_newmetatable(L, LJSON_OBJECT);
  lua_pushliteral(L, "object");
  lua_setfield(L, -2, "__jsontype");
  luaL_newmetatable(L, LJSON_BUFFER);
  lua_pushcfunction(L, buffer_close);
  lua_setfield(L, -2, "__close");
  luaL_newmetatable(L, LJSON_TREE);
  lua_pushcfunction(L, tree_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 4);
  luaL_newlib(L, json_funcs);
  /* A light userdata NULL: one value per process, as lua-cjson's null is. */
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  return 1;
}
