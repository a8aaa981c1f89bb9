/* lregex.c — glean.re: regular expressions (PCRE2, libpcre2-8) for Lua,
 * with the alternation, classes, named groups and flags that Lua's
 * patterns lack: match, find, gmatch, gsub and split, as functions of a
 * pattern and as methods of a compiled Regex (glean.re.compile).
 *
 * Patterns and subjects are UTF-8, with Unicode properties for \w, \d, \b
 * and case folding (PCRE2_UTF | PCRE2_UCP; flag "a" keeps those ASCII).
 * A subject that is not UTF-8 is an error naming the byte, checked once per
 * call (and once per gmatch iterator), not at every match of a loop.
 *
 * Compiled patterns are cached per Lua state by pattern and flags, bounded
 * as ldom.c bounds its compiled selectors: a full cache is emptied, and its
 * patterns freed at once unless something outside the cache may hold them
 * (a Regex that glean.re.compile returned, a gmatch iterator) or a call is
 * using them (a finalizer that runs while a call allocates may empty the
 * cache, and so may a gsub's replacement function); those the garbage
 * collector frees.
 *
 * Everything PCRE2 allocates (compiled patterns, match data, the frames of
 * its backtracking) goes through the state's allocator (lglean_mem), so it
 * counts against the memory limit and is refused past it in adapter calls:
 * PCRE2 then fails with "no memory", raised as Lua's "not enough memory".
 *
 * Time: inside an adapter call under a time limit, a match runs with
 * PCRE2's match limit (its count of backtracking steps) at first
 * LREGEX_FIRST_STEPS plus two a byte of subject, doubled at each retry
 * after the limit stopped it, and each stopped try is charged to the call's
 * budget (llimits_spend, which reads the clock): a catastrophic pattern
 * fails its call with the budget's "time limit exceeded" error, as a loop
 * does, after at most twice the work the budget allows. A match that needs
 * no retry is charged a step per LGLEAN_STEP_BYTES bytes of subject it went
 * over; one after retries, the limit of the try before too. Outside adapter
 * calls PCRE2's own default limit holds.
 *
 * A pattern is compiled to machine code too (PCRE2's JIT, where it works)
 * once it is used again or on a long subject (JIT compiling costs more than
 * a short match: patterns made up in a loop would pay it each time). The
 * JIT honours the match limit; its code's size is charged to the memory
 * limit (lglean_charge) while the pattern lives, and to the cache's bytes.
 * A match that needs more than the JIT's stack runs again in PCRE2's
 * interpreter, whose frames are on the counted heap. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lglean.h"

#define LREGEX_REGEX "glean.Regex"
#define LREGEX_MATCH "glean.RegexMatch"
#define LREGEX_CONTEXTS "glean.regex_contexts"
#define LREGEX_CACHE "glean.regex_cache"
#define LREGEX_CACHE_SIZE "glean.regex_cache_size"
/* The cache's bounds, whatever the memory limit: entries, bytes of
 * compiled patterns, and the largest one it keeps. */
#define LREGEX_CACHE_MAX 1024
#define LREGEX_CACHE_BYTES ((size_t)4 << 20)
#define LREGEX_CACHE_ONE (LREGEX_CACHE_BYTES / 4)
/* PCRE2's match limit for the first try in adapter calls, and outside
 * them (PCRE2's default). */
#define LREGEX_FIRST_STEPS 10000u
#define LREGEX_DEFAULT_STEPS 10000000u
/* A subject this long has a pattern compiled to machine code at once. */
#define LREGEX_JIT_BYTES 16384
/* Bytes of subject a match goes over for a step of the budget. */

/* The state's PCRE2 contexts, made with its allocator. */
typedef struct lregex_contexts {
  pcre2_general_context *general;
  pcre2_compile_context *compile;
  pcre2_match_context *match;
} lregex_contexts;

typedef struct lregex {
  pcre2_code *code; /* NULL once freed */
  uint32_t groups;  /* capture groups */
  size_t bytes;     /* compiled size, machine code included */
  size_t jit;       /* of which machine code, charged to the memory limit */
  unsigned uses;    /* matches run, up to the JIT's */
  bool held;        /* something beside the cache may refer to it */
  unsigned busy;    /* calls using it now (one that raised stays counted) */
} lregex;

/* A match data block, freed by __gc if a call raises while it holds one. */
typedef struct lregex_match {
  pcre2_match_data *md;
} lregex_match;

/* Where a loop of matches over a subject is (gmatch, gsub, split). */
typedef struct lregex_iter {
  size_t off;   /* where the next match may start */
  bool empty;   /* the last match was empty, and ended at off */
  bool checked; /* the subject was found to be UTF-8 */
  bool done;
} lregex_iter;

/* ---- memory ---------------------------------------------------------------- */

/* PCRE2 frees without a size, the state's allocator wants one: a header
 * before each block keeps it. */
typedef union lregex_header {
  size_t size;
  max_align_t align;
} lregex_header;

static void *lregex_alloc(size_t size, void *ud) {
  if (size > SIZE_MAX - sizeof(lregex_header)) return NULL;
  lregex_header *h = mem_alloc(ud, size + sizeof *h);
  if (!h) return NULL;
  h->size = size + sizeof *h;
  return h + 1;
}

static void lregex_free(void *p, void *ud) {
  if (!p) return;
  lregex_header *h = (lregex_header *)p - 1;
  mem_free(ud, h, h->size);
}

static lregex_contexts *lregex_get_contexts(lua_State *L) {
  lglean_mem(L); /* the allocator it points to, read again (see lglean_mem) */
  lua_getfield(L, LUA_REGISTRYINDEX, LREGEX_CONTEXTS);
  lregex_contexts *c = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return c;
}

static int lregex_contexts_gc(lua_State *L) {
  lregex_contexts *c = lua_touserdata(L, 1);
  pcre2_match_context_free(c->match);
  pcre2_compile_context_free(c->compile);
  pcre2_general_context_free(c->general);
  c->match = NULL, c->compile = NULL, c->general = NULL;
  return 0;
}

static int lregex_nomem(lua_State *L) {
  lua_pushliteral(L, "not enough memory");
  return lua_error(L);
}

/* ---- compiling ------------------------------------------------------------- */

static void lregex_release(lua_State *L, lregex *re) {
  pcre2_code_free(re->code);
  re->code = NULL;
  lglean_uncharge(L, re->jit);
  re->jit = 0;
}

static int lregex_gc(lua_State *L) {
  lregex_release(L, lua_touserdata(L, 1));
  return 0;
}

/* Flags as a string of letters, to PCRE2's options. */
static uint32_t lregex_options(lua_State *L, const char *fname, const char *flags) {
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C;
  for (const char *f = flags; *f; f++) {
    switch (*f) {
    case 'i': opts |= PCRE2_CASELESS; break;
    case 'm': opts |= PCRE2_MULTILINE; break;
    case 's': opts |= PCRE2_DOTALL; break;
    case 'x': opts |= PCRE2_EXTENDED; break;
    case 'n': opts |= PCRE2_NO_AUTO_CAPTURE; break;
    case 'a': opts &= ~PCRE2_UCP; break;
    default:
      luaL_error(L, "%s: unknown flag '%c' in \"%s\" (flags are i, m, s, x, n and a)", fname, *f, flags);
    }
  }
  return opts;
}

/* Frees every cached pattern nothing else may hold now and starts an empty
 * cache: the garbage collector, which does not see their memory, might not
 * free them for a long time. */
static void lregex_cache_clear(lua_State *L, size_t *size) {
  lua_getfield(L, LUA_REGISTRYINDEX, LREGEX_CACHE);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lregex *re = lua_touserdata(L, -1);
    if (!re->held && !re->busy) lregex_release(L, re);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LREGEX_CACHE);
  size[0] = size[1] = 0;
}

/* Pushes the compiled pattern for the string at pat with the flags at
 * flags_idx (a string or nil), from the cache if it is there. Its user
 * values are the pattern and the flags. */
static lregex *lregex_compile(lua_State *L, int pat, int flags_idx, const char *fname) {
  size_t len;
  const char *p = luaL_checklstring(L, pat, &len);
  const char *flags = luaL_optstring(L, flags_idx, "");
  pat = lua_absindex(L, pat);
  uint32_t opts = lregex_options(L, fname, flags);
  lua_getfield(L, LUA_REGISTRYINDEX, LREGEX_CACHE);
  int cache = lua_gettop(L), key = cache + 1;
  lua_pushfstring(L, "%d/", (int)opts);
  lua_pushvalue(L, pat);
  lua_concat(L, 2);
  lua_pushvalue(L, key);
  /* Freed: the cache was emptied by a finalizer while this looked it up. */
  if (lua_rawget(L, cache) == LUA_TUSERDATA && ((lregex *)lua_touserdata(L, -1))->code) {
    lregex *re = lua_touserdata(L, -1);
    lua_replace(L, cache);
    lua_settop(L, cache);
    return re; /* still referenced by the cache table in the registry */
  }
  lua_pop(L, 1);
  lregex_contexts *c = lregex_get_contexts(L);
  lregex *re = lua_newuserdatauv(L, sizeof *re, 2);
  memset(re, 0, sizeof *re);
  luaL_setmetatable(L, LREGEX_REGEX);
  lua_pushvalue(L, pat);
  lua_setiuservalue(L, -2, 1);
  lua_pushstring(L, flags);
  lua_setiuservalue(L, -2, 2);
  llimits_spend(L, (lua_Integer)(len / LGLEAN_STEP_BYTES));
  int err;
  PCRE2_SIZE at;
  re->code = pcre2_compile((PCRE2_SPTR)p, len, opts, &err, &at, c->compile);
  if (!re->code) {
    if (err == PCRE2_ERROR_HEAP_FAILED) lregex_nomem(L);
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    luaL_error(L, "%s: bad pattern \"%s\": %s at offset %d", fname, p, (const char *)msg, (int)at);
  }
  pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->groups);
  pcre2_pattern_info(re->code, PCRE2_INFO_SIZE, &re->bytes);
  if (re->bytes <= LREGEX_CACHE_ONE) { /* a bigger one is the garbage collector's */
    lua_getfield(L, LUA_REGISTRYINDEX, LREGEX_CACHE_SIZE);
    size_t *size = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (size[0] >= LREGEX_CACHE_MAX || size[1] + re->bytes > LREGEX_CACHE_BYTES) {
      lregex_cache_clear(L, size);
      lua_getfield(L, LUA_REGISTRYINDEX, LREGEX_CACHE);
      lua_replace(L, cache);
    }
    re->busy++;
    lua_pushvalue(L, key);
    lua_pushvalue(L, key + 1);
    lua_rawset(L, cache);
    re->busy--;
    size[0]++;
    size[1] += re->bytes;
  }
  lua_replace(L, cache);
  lua_settop(L, cache);
  return re;
}

static lregex *lregex_check(lua_State *L, int idx) {
  lregex *re = luaL_checkudata(L, idx, LREGEX_REGEX);
  if (!re->code) luaL_error(L, "regex was freed"); /* cannot happen: held ones are never freed early */
  return re;
}

/* The pattern of a glean.re function: a Regex (then no flags), or a string
 * and flags; pushes the Regex. */
static lregex *lregex_arg(lua_State *L, int pat, int flags_idx, const char *fname) {
  if (lua_type(L, pat) == LUA_TUSERDATA) {
    lregex *re = lregex_check(L, pat);
    luaL_argcheck(L, lua_isnoneornil(L, flags_idx), flags_idx, "flags come with the pattern compiled");
    lua_pushvalue(L, pat);
    return re;
  }
  return lregex_compile(L, pat, flags_idx, fname);
}

/* ---- matching -------------------------------------------------------------- */

static void lregex_match_free(lregex_match *m) {
  pcre2_match_data_free(m->md);
  m->md = NULL;
}

static int lregex_match_gc(lua_State *L) {
  lregex_match_free(lua_touserdata(L, 1));
  return 0;
}

/* Pushes a match data block for re. */
static lregex_match *lregex_push_match(lua_State *L, const lregex *re) {
  lregex_contexts *c = lregex_get_contexts(L);
  lregex_match *m = lua_newuserdatauv(L, sizeof *m, 0);
  m->md = NULL;
  luaL_setmetatable(L, LREGEX_MATCH);
  if (!(m->md = pcre2_match_data_create_from_pattern(re->code, c->general))) lregex_nomem(L);
  return m;
}

/* Raises the error for PCRE2's code rc from a match of re, at off of s. */
static int lregex_fail(lua_State *L, lregex_match *m, int rc, const char *fname, int re_idx, size_t off) {
  size_t bad = pcre2_get_startchar(m->md);
  lregex_match_free(m);
  if (rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_HEAPLIMIT) return lregex_nomem(L);
  lua_getiuservalue(L, re_idx, 1);
  const char *pattern = lua_tostring(L, -1);
  PCRE2_UCHAR msg[256];
  pcre2_get_error_message(rc, msg, sizeof msg);
  if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
    return luaL_error(L, "%s: subject is not valid UTF-8 at byte %d (%s)", fname, (int)bad + 1, (const char *)msg);
  if (rc == PCRE2_ERROR_BADUTFOFFSET)
    return luaL_error(L, "%s: init %d is inside a UTF-8 character", fname, (int)off + 1);
  return luaL_error(L, "%s: pattern \"%s\": %s", fname, pattern, (const char *)msg);
}

/* Compiles re to machine code on its second use, or its first on a long
 * subject (see the top of this file). */
static void lregex_jit(lua_State *L, lregex *re, size_t len) {
  if (re->uses > 1 || (re->uses++ == 0 && len < LREGEX_JIT_BYTES)) return;
  re->uses = 2;
  size_t jit = 0;
  if (pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0) pcre2_pattern_info(re->code, PCRE2_INFO_JITSIZE, &jit);
  if (lglean_charge(L, jit) != 0) lregex_nomem(L); /* the code is freed by __gc */
  re->jit = jit;
  re->bytes += jit;
  lua_getfield(L, LUA_REGISTRYINDEX, LREGEX_CACHE_SIZE);
  ((size_t *)lua_touserdata(L, -1))[1] += jit;
  lua_pop(L, 1);
}

/* One match of re (at re_idx) in s from off with PCRE2 options opts, under
 * the budget (see the top of this file): > 0 a match, 0 none; raises on
 * anything else. */
static int lregex_exec(lua_State *L, lregex *re, int re_idx, lregex_match *m, const char *s, size_t len, size_t off,
                       uint32_t opts, const char *fname) {
  lregex_jit(L, re, len);
  lregex_contexts *c = lregex_get_contexts(L);
  bool timed = llimits_timed(L);
  /* A first try long enough for a scan of the subject without backtracking
   * (the limit counts a step per starting place too). */
  size_t first = LREGEX_FIRST_STEPS + 2 * (len - off);
  uint32_t steps = !timed ? LREGEX_DEFAULT_STEPS : first > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)first;
  uint32_t before = 0;
  int rc;
  for (;;) {
    lua_Integer left = timed ? llimits_left(L) : LUA_MAXINTEGER;
    if ((lua_Integer)steps > left) steps = left > 0 ? (uint32_t)left : 1;
    pcre2_set_match_limit(c->match, steps);
    rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, off, opts, m->md, c->match);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      opts |= PCRE2_NO_JIT;
      continue;
    }
    if (rc != PCRE2_ERROR_MATCHLIMIT || !timed) break;
    /* Stopped by the limit: charged, which raises once the budget is out
     * (the match data is freed first, its frames may be big). */
    if ((lua_Integer)steps >= left || llimits_expired(L)) lregex_match_free(m);
    llimits_spend(L, (lua_Integer)steps);
    before = steps;
    steps = steps > UINT32_MAX / 2 ? UINT32_MAX : steps * 2;
  }
  if (rc == PCRE2_ERROR_NOMATCH) rc = 0;
  else if (rc < 0) lregex_fail(L, m, rc, fname, re_idx, off);
  size_t end = rc > 0 ? pcre2_get_ovector_pointer(m->md)[1] : len;
  llimits_spend(L, (lua_Integer)before + (lua_Integer)((end > off ? end - off : 0) / LGLEAN_STEP_BYTES));
  return rc;
}

/* Pushes a piece of s from the ovector pair i, or false for a group that
 * did not take part in the match. */
static void lregex_push_group(lua_State *L, const char *s, const PCRE2_SIZE *ov, uint32_t i) {
  if (ov[2 * i] == PCRE2_UNSET) lua_pushboolean(L, 0);
  else lua_pushlstring(L, s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
}

/* Pushes what a match gives, as string.match does: the captures, or the
 * whole match when the pattern has none; returns how many. */
static int lregex_push_captures(lua_State *L, const lregex *re, const lregex_match *m, const char *s) {
  const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
  if (re->groups == 0) {
    lregex_push_group(L, s, ov, 0);
    return 1;
  }
  luaL_checkstack(L, (int)re->groups, "too many captures");
  for (uint32_t i = 1; i <= re->groups; i++) lregex_push_group(L, s, ov, i);
  return (int)re->groups;
}

/* Pushes a table of the captures: by number, and by name for named groups
 * (of several groups with one name, (?J), the one that took part). */
static void lregex_push_table(lua_State *L, const lregex *re, const lregex_match *m, const char *s) {
  const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
  uint32_t names, entry;
  PCRE2_SPTR table;
  pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &names);
  pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
  pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
  lua_createtable(L, (int)re->groups, (int)names);
  for (uint32_t i = 1; i <= re->groups; i++) {
    lregex_push_group(L, s, ov, i);
    lua_rawseti(L, -2, i);
  }
  for (uint32_t k = 0; k < names; k++, table += entry) {
    uint32_t group = (uint32_t)table[0] << 8 | table[1];
    const char *name = (const char *)table + 2;
    if (lua_getfield(L, -1, name) == LUA_TSTRING) {
      lua_pop(L, 1);
      continue;
    }
    lua_pop(L, 1);
    lregex_push_group(L, s, ov, group);
    lua_setfield(L, -2, name);
  }
}

/* Lua's string.find rule for init: negative counts from the end; past the
 * end gives len + 1 (no match, unless the pattern matches empty there). */
static size_t lregex_init(lua_State *L, int idx, size_t len) {
  lua_Integer pos = luaL_optinteger(L, idx, 1);
  if (pos > 0) return (size_t)pos - 1 > len ? len + 1 : (size_t)pos - 1;
  if (pos == 0 || pos < -(lua_Integer)len) return 0;
  return len - (size_t)-pos;
}

/* The next match of a loop over s: > 0 a match, 0 none left. After an empty
 * match, the next one may not be empty at the same place (then the loop
 * moves a character on), as in Perl and Python. */
static int lregex_next(lua_State *L, lregex *re, int re_idx, lregex_match *m, const char *s, size_t len,
                       lregex_iter *it, const char *fname) {
  while (!it->done && it->off <= len) {
    uint32_t opts = it->checked ? PCRE2_NO_UTF_CHECK : 0;
    if (it->empty) opts |= PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED;
    int rc = lregex_exec(L, re, re_idx, m, s, len, it->off, opts, fname);
    it->checked = true;
    if (rc > 0) {
      const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
      it->empty = ov[0] == ov[1];
      it->off = ov[1];
      return rc;
    }
    if (!it->empty) break;
    it->empty = false;
    if (it->off++ < len)
      while (it->off < len && ((unsigned char)s[it->off] & 0xC0) == 0x80) it->off++;
  }
  it->done = true;
  return 0;
}

/* ---- the functions --------------------------------------------------------- */

/* Each takes the subject at s_idx, the Regex at re_idx (pushed by the
 * caller) and its other arguments from arg on; fname names it in errors. */

/* The one match of match and find, from init at arg: NULL (and nil
 * pushed) without one; with one, the Regex is busy until the caller is
 * done. */
static lregex_match *lregex_once(lua_State *L, int s_idx, int re_idx, int arg, const char *fname, const char **s) {
  size_t len;
  *s = luaL_checklstring(L, s_idx, &len);
  lregex *re = lua_touserdata(L, re_idx);
  size_t off = lregex_init(L, arg, len);
  if (off <= len) {
    re->busy++;
    lregex_match *m = lregex_push_match(L, re);
    if (lregex_exec(L, re, re_idx, m, *s, len, off, 0, fname)) return m;
    lregex_match_free(m);
    re->busy--;
  }
  lua_pushnil(L);
  return NULL;
}

/* match(s, init) -> the captures (or the whole match), or nil */
static int lregex_do_match(lua_State *L, int s_idx, int re_idx, int arg, const char *fname) {
  const char *s;
  lregex_match *m = lregex_once(L, s_idx, re_idx, arg, fname, &s);
  if (!m) return 1;
  lregex *re = lua_touserdata(L, re_idx);
  int n = lregex_push_captures(L, re, m, s);
  re->busy--;
  lregex_match_free(m);
  return n;
}

/* find(s, init) -> start, end, captures (a table), or nil */
static int lregex_do_find(lua_State *L, int s_idx, int re_idx, int arg, const char *fname) {
  const char *s;
  lregex_match *m = lregex_once(L, s_idx, re_idx, arg, fname, &s);
  if (!m) return 1;
  const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
  lua_pushinteger(L, (lua_Integer)ov[0] + 1);
  lua_pushinteger(L, (lua_Integer)ov[1]);
  lregex *re = lua_touserdata(L, re_idx);
  lregex_push_table(L, re, m, s);
  re->busy--;
  lregex_match_free(m);
  return 3;
}

/* The gmatch iterator: upvalues the subject, the Regex, its match data and
 * where it is (an lregex_iter). */
static int lregex_gmatch_next(lua_State *L) {
  size_t len;
  const char *s = lua_tolstring(L, lua_upvalueindex(1), &len);
  lregex *re = lua_touserdata(L, lua_upvalueindex(2));
  lregex_match *m = lua_touserdata(L, lua_upvalueindex(3));
  lregex_iter *it = lua_touserdata(L, lua_upvalueindex(4));
  if (it->done) return 0;
  if (!m->md) { /* freed by an error of an earlier call */
    lregex_contexts *c = lregex_get_contexts(L);
    if (!(m->md = pcre2_match_data_create_from_pattern(re->code, c->general))) lregex_nomem(L);
  }
  if (!lregex_next(L, re, lua_upvalueindex(2), m, s, len, it, "gmatch")) {
    lregex_match_free(m);
    return 0;
  }
  return lregex_push_captures(L, re, m, s);
}

/* gmatch(s) -> an iterator of the matches' captures (or whole matches) */
static int lregex_do_gmatch(lua_State *L, int s_idx, int re_idx) {
  luaL_checkstring(L, s_idx);
  lregex *re = lua_touserdata(L, re_idx);
  re->held = true; /* the iterator keeps it */
  lua_pushvalue(L, s_idx);
  lua_pushvalue(L, re_idx);
  lregex_push_match(L, re);
  lregex_iter *it = lua_newuserdatauv(L, sizeof *it, 0);
  memset(it, 0, sizeof *it);
  lua_pushcclosure(L, lregex_gmatch_next, 4);
  return 1;
}

/* Adds the expansion of the replacement template t for a match to b: $0 to
 * $99 and ${n} are groups by number, ${name} by name, $$ a dollar; a group
 * that did not take part adds nothing. With b NULL, only checks t (before
 * matching, so that a bad template fails even without a match). */
static void lregex_expand(lua_State *L, luaL_Buffer *b, const lregex *re, const lregex_match *m, const char *s,
                          const char *t, size_t tlen, const char *fname) {
  for (size_t i = 0; i < tlen; i++) {
    if (t[i] != '$') {
      if (b) luaL_addchar(b, t[i]);
      continue;
    }
    const char *ref = t + i + 1, *end = ref;
    if (i + 1 < tlen && t[i + 1] == '$') {
      if (b) luaL_addchar(b, '$');
      i++;
      continue;
    }
    bool braced = i + 1 < tlen && t[i + 1] == '{';
    if (braced) {
      ref++;
      end = memchr(ref, '}', tlen - (size_t)(ref - t));
      if (!end) luaL_error(L, "%s: replacement \"%s\": '${' without '}' at byte %d", fname, t, (int)i + 1);
    } else {
      while (end < t + tlen && end - ref < 2 && *end >= '0' && *end <= '9') end++;
      if (end == ref) luaL_error(L, "%s: replacement \"%s\": '$' at byte %d is not $n, ${name} or $$", fname, t,
                   (int)i + 1);
    }
    size_t n = (size_t)(end - ref);
    int group = -1;
    if (n > 0 && strspn(ref, "0123456789") >= n) {
      for (size_t k = 0; k < n && k < 6; k++) group = (group < 0 ? 0 : group * 10) + (ref[k] - '0');
      if (n >= 6) group = -1;
    } else if (n > 0) {
      char name[64];
      if (n < sizeof name) {
        memcpy(name, ref, n);
        name[n] = '\0';
        group = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)name);
        if (group == PCRE2_ERROR_NOUNIQUESUBSTRING) { /* (?J): the one that took part */
          PCRE2_SPTR first, last;
          uint32_t entry;
          pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
          pcre2_substring_nametable_scan(re->code, (PCRE2_SPTR)name, &first, &last);
          group = (int)((uint32_t)first[0] << 8 | first[1]);
          const PCRE2_SIZE *ov = m ? pcre2_get_ovector_pointer(m->md) : NULL;
          for (PCRE2_SPTR e = first; ov && e <= last; e += entry) {
            uint32_t g = (uint32_t)e[0] << 8 | e[1];
            if (ov[2 * g] != PCRE2_UNSET) {
              group = (int)g;
              break;
            }
          }
        }
      }
    }
    if (group < 0 || group > (int)re->groups)
      luaL_error(L, "%s: replacement \"%s\" refers to group '%s' at byte %d, which the pattern does not have", fname, t,
                 lua_pushlstring(L, ref, n), (int)i + 1);
    if (b) {
      const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
      if (ov[2 * group] != PCRE2_UNSET) luaL_addlstring(b, s + ov[2 * group], ov[2 * group + 1] - ov[2 * group]);
    }
    i = (size_t)(end - t) - (braced ? 0 : 1);
  }
}

/* Adds the replacement of a match by repl (at r_idx: a template, a table
 * indexed by the first capture or the whole match, or a function of the
 * captures; false or nil from those keeps the match) to b. */
static void lregex_replace(lua_State *L, luaL_Buffer *b, int r_idx, const lregex *re, const lregex_match *m,
                           const char *s, const char *fname) {
  const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
  if (lua_type(L, r_idx) == LUA_TSTRING) {
    size_t tlen;
    const char *t = lua_tolstring(L, r_idx, &tlen);
    lregex_expand(L, b, re, m, s, t, tlen, fname);
    return;
  }
  if (lua_type(L, r_idx) == LUA_TFUNCTION) {
    lua_pushvalue(L, r_idx);
    int n = lregex_push_captures(L, re, m, s);
    lua_call(L, n, 1);
  } else {
    lregex_push_captures(L, re, m, s);
    lua_settop(L, lua_gettop(L) - (re->groups > 1 ? (int)re->groups - 1 : 0));
    lua_gettable(L, r_idx);
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s + ov[0], ov[1] - ov[0]);
  } else if (!lua_isstring(L, -1)) {
    luaL_error(L, "%s: invalid replacement value (a %s)", fname, luaL_typename(L, -1));
  } else {
    luaL_addvalue(b);
  }
}

/* gsub(s, repl, n) -> s with (the first n) matches replaced, how many */
static int lregex_do_gsub(lua_State *L, int s_idx, int re_idx, int arg, const char *fname) {
  size_t len;
  const char *s = luaL_checklstring(L, s_idx, &len);
  lregex *re = lua_touserdata(L, re_idx);
  re->busy++;
  int r_idx = arg;
  int rt = lua_type(L, r_idx);
  luaL_argexpected(L, rt == LUA_TSTRING || rt == LUA_TNUMBER || rt == LUA_TTABLE || rt == LUA_TFUNCTION, r_idx,
                   "string/function/table");
  lua_Integer max = luaL_optinteger(L, arg + 1, LUA_MAXINTEGER);
  if (rt == LUA_TNUMBER) {
    lua_tostring(L, r_idx); /* a template, as string.gsub takes one */
    rt = LUA_TSTRING;
  }
  if (rt == LUA_TSTRING) {
    size_t tlen;
    const char *t = lua_tolstring(L, r_idx, &tlen);
    lregex_expand(L, NULL, re, NULL, s, t, tlen, fname);
  }
  lregex_match *m = lregex_push_match(L, re);
  lregex_iter it = {0};
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  size_t copied = 0;
  lua_Integer count = 0;
  while (count < max && lregex_next(L, re, re_idx, m, s, len, &it, fname)) {
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
    luaL_addlstring(&b, s + copied, ov[0] - copied);
    lregex_replace(L, &b, r_idx, re, m, s, fname);
    copied = ov[1];
    count++;
  }
  re->busy--;
  luaL_addlstring(&b, s + copied, len - copied);
  luaL_pushresult(&b);
  lua_pushinteger(L, count);
  return 2;
}

/* split(s, n) -> the pieces of s between the (first n) matches */
static int lregex_do_split(lua_State *L, int s_idx, int re_idx, int arg, const char *fname) {
  size_t len;
  const char *s = luaL_checklstring(L, s_idx, &len);
  lregex *re = lua_touserdata(L, re_idx);
  lua_Integer max = luaL_optinteger(L, arg, LUA_MAXINTEGER);
  re->busy++;
  lregex_match *m = lregex_push_match(L, re);
  lregex_iter it = {0};
  lua_newtable(L);
  size_t from = 0;
  lua_Integer n = 0;
  while (n < max && lregex_next(L, re, re_idx, m, s, len, &it, fname)) {
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
    lua_pushlstring(L, s + from, ov[0] - from);
    lua_rawseti(L, -2, ++n);
    from = ov[1];
  }
  re->busy--;
  lua_pushlstring(L, s + from, len - from);
  lua_rawseti(L, -2, n + 1);
  return 1;
}

/* glean.re.NAME(s, pattern [, flags], ...): the pattern is argument 2, its
 * flags 3, pushed as a Regex at 4 + the function's own arguments. */
static int lregex_fn_match(lua_State *L) {
  lua_settop(L, 4);
  lregex_arg(L, 2, 3, "glean.re.match");
  return lregex_do_match(L, 1, 5, 4, "glean.re.match");
}

static int lregex_fn_find(lua_State *L) {
  lua_settop(L, 4);
  lregex_arg(L, 2, 3, "glean.re.find");
  return lregex_do_find(L, 1, 5, 4, "glean.re.find");
}

static int lregex_fn_gmatch(lua_State *L) {
  lua_settop(L, 3);
  lregex_arg(L, 2, 3, "glean.re.gmatch");
  return lregex_do_gmatch(L, 1, 4);
}

/* gsub(s, pattern, repl [, flags [, n]]) */
static int lregex_fn_gsub(lua_State *L) {
  lua_settop(L, 5);
  lregex_arg(L, 2, 4, "glean.re.gsub");
  lua_pushvalue(L, 3);
  lua_pushvalue(L, 5);
  return lregex_do_gsub(L, 1, 6, 7, "glean.re.gsub");
}

static int lregex_fn_split(lua_State *L) {
  lua_settop(L, 4);
  lregex_arg(L, 2, 3, "glean.re.split");
  return lregex_do_split(L, 1, 5, 4, "glean.re.split");
}

/* glean.re.compile(pattern [, flags]) -> Regex */
static int lregex_fn_compile(lua_State *L) {
  lua_settop(L, 2);
  lregex *re = lregex_compile(L, 1, 2, "glean.re.compile");
  re->held = true;
  return 1;
}

/* Regex methods: the Regex is argument 1. */
static int lregex_m_match(lua_State *L) {
  lregex_check(L, 1);
  return lregex_do_match(L, 2, 1, 3, "Regex:match");
}

static int lregex_m_find(lua_State *L) {
  lregex_check(L, 1);
  return lregex_do_find(L, 2, 1, 3, "Regex:find");
}

static int lregex_m_gmatch(lua_State *L) {
  lregex_check(L, 1);
  return lregex_do_gmatch(L, 2, 1);
}

static int lregex_m_gsub(lua_State *L) {
  lregex_check(L, 1);
  return lregex_do_gsub(L, 2, 1, 3, "Regex:gsub");
}

static int lregex_m_split(lua_State *L) {
  lregex_check(L, 1);
  return lregex_do_split(L, 2, 1, 3, "Regex:split");
}

/* regex.pattern, regex.flags, regex.groups (how many), and the methods
 * (upvalue 1). */
static int lregex_index(lua_State *L) {
  lregex *re = lregex_check(L, 1);
  const char *key = luaL_checkstring(L, 2);
  if (strcmp(key, "pattern") == 0) lua_getiuservalue(L, 1, 1);
  else if (strcmp(key, "flags") == 0) lua_getiuservalue(L, 1, 2);
  else if (strcmp(key, "groups") == 0) lua_pushinteger(L, re->groups);
  else lua_getfield(L, lua_upvalueindex(1), key);
  return 1;
}

static int lregex_tostring(lua_State *L) {
  lregex_check(L, 1);
  lua_getiuservalue(L, 1, 1);
  lua_getiuservalue(L, 1, 2);
  lua_pushfstring(L, "glean.Regex(\"%s\", \"%s\")", lua_tostring(L, -2), lua_tostring(L, -1));
  return 1;
}

void lregex_open(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"match", lregex_m_match}, {"find", lregex_m_find}, {"gmatch", lregex_m_gmatch},
    {"gsub", lregex_m_gsub},   {"split", lregex_m_split}, {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {
    {"match", lregex_fn_match}, {"find", lregex_fn_find},   {"gmatch", lregex_fn_gmatch},
    {"gsub", lregex_fn_gsub},   {"split", lregex_fn_split}, {"compile", lregex_fn_compile}, {NULL, NULL},
  };
  if (luaL_newmetatable(L, LREGEX_REGEX)) {
    luaL_newlib(L, methods);
    lua_pushcclosure(L, lregex_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, lregex_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, lregex_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, LREGEX_MATCH)) {
    lua_pushcfunction(L, lregex_match_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);

  if (lua_getfield(L, LUA_REGISTRYINDEX, LREGEX_CONTEXTS) == LUA_TNIL) {
    lregex_contexts *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    lua_newtable(L);
    lua_pushcfunction(L, lregex_contexts_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, LREGEX_CONTEXTS);
    c->general = pcre2_general_context_create(lregex_alloc, lregex_free, (void *)lglean_mem(L));
    if (c->general) c->compile = pcre2_compile_context_create(c->general);
    if (c->general) c->match = pcre2_match_context_create(c->general);
    if (!c->compile || !c->match) luaL_error(L, "glean.re: not enough memory");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LREGEX_CACHE);
    size_t *size = lua_newuserdatauv(L, 2 * sizeof *size, 0);
    size[0] = size[1] = 0;
    lua_setfield(L, LUA_REGISTRYINDEX, LREGEX_CACHE_SIZE);
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  lua_setfield(L, -2, "re");
}
