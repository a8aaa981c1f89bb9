/* lpattern.c — Lua's patterns for adapter code: string.find, match, gmatch
 * and gsub, with every step of the matcher charged to the budget of the
 * adapter call in progress (llimits.c). The count hook that enforces that
 * budget only runs between Lua instructions, and Lua's own matcher can
 * backtrack for minutes inside one: ("a"):rep(1500):find(".-.-.-b").
 *
 * lpattern_open replaces the four in the state's string table (the string
 * metatable's __index too, and what the sandbox copies for adapters) with
 * wrappers that run Lua's own function when no adapter call is active, so
 * the runtime's code and plain scripts keep its speed, and this matcher
 * when one is. gmatch always returns this file's iterator, which looks at
 * each call: it may be made outside an adapter call and run inside one.
 *
 * The matcher follows the reference manual (§6.4.1) and gives exactly Lua
 * 5.4's results and errors, including when they come: a malformed item is
 * only an error once matching reaches it, and "pattern too complex" counts
 * nested matcher calls where Lua's does (captures, '?' that matched, each
 * try of '*', '+' and '-'). tests/spec/pattern_spec.lua compares the two. */
#include <ctype.h>
#include <lualib.h>
#include <string.h>

#include "lglean.h"

#define LPATTERN_MAXCAPTURES 32 /* Lua's LUA_MAXCAPTURES */
#define LPATTERN_MAXDEPTH 200   /* Lua's MAXCCALLS: nested matcher calls */
/* Steps between two charges to the budget; a step is about one Lua
 * instruction's work, and bulk byte work (memcmp, memchr) counts one step
 * per LGLEAN_STEP_BYTES bytes. */
#define LPATTERN_TICK 1000

#define LPATTERN_OPEN (-1)     /* capture length: not closed yet */
#define LPATTERN_POSITION (-2) /* capture length: a position capture, () */

typedef struct lpattern {
  lua_State *L;
  const char *src, *src_end;
  const char *pat_end;
  int depth; /* nested matcher calls left */
  int level; /* captures begun */
  lua_Integer ticks; /* steps left before the next charge */
  struct {
    const char *init;
    ptrdiff_t len;
  } cap[LPATTERN_MAXCAPTURES];
} lpattern;

static void lpattern_init(lpattern *ms, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
  ms->L = L;
  ms->src = s;
  ms->src_end = s + ls;
  ms->pat_end = p + lp;
  ms->depth = LPATTERN_MAXDEPTH;
  ms->level = 0;
  ms->ticks = LPATTERN_TICK;
}

/* Charges the steps taken since the last charge (raising once the budget
 * is spent); also at the end of every call, so that many short calls
 * count too. */
static void lpattern_charge(lpattern *ms) {
  lua_Integer spent = LPATTERN_TICK - ms->ticks;
  ms->ticks = LPATTERN_TICK;
  llimits_spend(ms->L, spent);
}

static inline void lpattern_step(lpattern *ms, lua_Integer n) {
  if ((ms->ticks -= n) <= 0) lpattern_charge(ms);
}

/* ---- single characters ----------------------------------------------------- */

/* Whether c is in class %cl (a letter for a ctype class, upper case for its
 * complement; any other cl stands for itself). */
static int lpattern_class(int c, int cl) {
  int in;
  switch (tolower(cl)) {
  case 'a': in = isalpha(c); break;
  case 'c': in = iscntrl(c); break;
  case 'd': in = isdigit(c); break;
  case 'g': in = isgraph(c); break;
  case 'l': in = islower(c); break;
  case 'p': in = ispunct(c); break;
  case 's': in = isspace(c); break;
  case 'u': in = isupper(c); break;
  case 'w': in = isalnum(c); break;
  case 'x': in = isxdigit(c); break;
  case 'z': in = c == 0; break; /* deprecated, but Lua 5.4 still has it */
  default: return cl == c;
  }
  return isupper(cl) ? !in : in != 0;
}

/* Whether c is in the set [...] from p (its '[') to last (its ']'). A '-'
 * makes a range only between two characters before the ']'; an escape
 * takes the character after it whatever it is. */
static int lpattern_set(int c, const char *p, const char *last) {
  int in = 1;
  if (*++p == '^') {
    in = 0;
    p++;
  }
  for (; p < last; p++) {
    if (*p == '%') {
      p++;
      if (lpattern_class(c, (unsigned char)*p)) return in;
    } else if (p[1] == '-' && p + 2 < last) {
      if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return in;
      p += 2;
    } else if ((unsigned char)*p == c) {
      return in;
    }
  }
  return !in;
}

/* Where the single character class at p ends. Lua finds a set's ']' by
 * skipping the first character (so "[]]" holds ']') and escaped ones. */
static const char *lpattern_class_end(lpattern *ms, const char *p) {
  const char *end = ms->pat_end;
  switch (*p++) {
  case '%':
    if (p == end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
    return p + 1;
  case '[': {
    const char *set = p;
    if (p < end && *p == '^') p++;
    for (;;) {
      if (p == end) luaL_error(ms->L, "malformed pattern (missing ']')");
      if (*p++ == '%' && p < end) p++;
      if (p < end && *p == ']') break;
    }
    /* A long set costs its length at every item the matcher reaches. */
    lpattern_step(ms, (p - set) / LGLEAN_STEP_BYTES);
    return p + 1;
  }
  default:
    return p;
  }
}

/* Whether the class from p to ep matches the character at s. */
static inline int lpattern_single(lpattern *ms, const char *s, const char *p, const char *ep) {
  if (s >= ms->src_end) return 0;
  int c = (unsigned char)*s;
  switch (*p) {
  case '.': return 1;
  case '%': return lpattern_class(c, (unsigned char)p[1]);
  case '[':
    lpattern_step(ms, (ep - p) / LGLEAN_STEP_BYTES);
    return lpattern_set(c, p, ep - 1);
  default: return (unsigned char)*p == c;
  }
}

/* ---- the matcher ----------------------------------------------------------- */

static const char *lpattern_do(lpattern *ms, const char *s, const char *p);

/* How many characters from s the class p..ep matches in a row. */
static ptrdiff_t lpattern_span(lpattern *ms, const char *s, const char *p, const char *ep) {
  const char *t = s;
  if (*p == '.') {
    t = ms->src_end;
  } else if (ep == p + 1) {
    while (t < ms->src_end && *t == *p) t++;
  } else {
    while (lpattern_single(ms, t, p, ep)) t++;
  }
  lpattern_step(ms, (t - s) / LGLEAN_STEP_BYTES);
  return t - s;
}

/* Class p..ep repeated as often as possible from s, then the rest of the
 * pattern after the quantifier at ep; backs off one at a time. */
static const char *lpattern_greedy(lpattern *ms, const char *s, const char *p, const char *ep) {
  for (ptrdiff_t n = lpattern_span(ms, s, p, ep); n >= 0; n--) {
    const char *e = lpattern_do(ms, s + n, ep + 1);
    if (e) return e;
  }
  return NULL;
}

/* Class p..ep repeated as few times as possible from s. */
static const char *lpattern_lazy(lpattern *ms, const char *s, const char *p, const char *ep) {
  for (;;) {
    const char *e = lpattern_do(ms, s, ep + 1);
    if (e) return e;
    if (!lpattern_single(ms, s, p, ep)) return NULL;
    s++;
  }
}

static const char *lpattern_open_capture(lpattern *ms, const char *s, const char *p, ptrdiff_t what) {
  int l = ms->level;
  if (l >= LPATTERN_MAXCAPTURES) luaL_error(ms->L, "too many captures");
  ms->cap[l].init = s;
  ms->cap[l].len = what;
  ms->level = l + 1;
  const char *e = lpattern_do(ms, s, p);
  if (!e) ms->level--;
  return e;
}

/* Closes the innermost capture still open. */
static const char *lpattern_close_capture(lpattern *ms, const char *s, const char *p) {
  int l = ms->level - 1;
  while (l >= 0 && ms->cap[l].len != LPATTERN_OPEN) l--;
  if (l < 0) luaL_error(ms->L, "invalid pattern capture");
  ms->cap[l].len = s - ms->cap[l].init;
  const char *e = lpattern_do(ms, s, p);
  if (!e) ms->cap[l].len = LPATTERN_OPEN;
  return e;
}

/* %1 to %9 (and %0, always an error): the text of a closed capture again.
 * A position capture's text never matches. */
static const char *lpattern_backref(lpattern *ms, const char *s, int digit) {
  int l = digit - '1';
  if (l < 0 || l >= ms->level || ms->cap[l].len == LPATTERN_OPEN)
    luaL_error(ms->L, "invalid capture index %%%d", l + 1);
  ptrdiff_t len = ms->cap[l].len;
  if (len == LPATTERN_POSITION || ms->src_end - s < len) return NULL;
  lpattern_step(ms, len / LGLEAN_STEP_BYTES);
  return memcmp(ms->cap[l].init, s, (size_t)len) == 0 ? s + len : NULL;
}

/* %bxy at s, p at x. */
static const char *lpattern_balance(lpattern *ms, const char *s, const char *p) {
  if (p + 1 >= ms->pat_end) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
  if (s >= ms->src_end || *s != p[0]) return NULL;
  const char *t = s;
  int open = 1;
  while (++t < ms->src_end) {
    if (*t == p[1]) {
      if (--open == 0) break;
    } else if (*t == p[0]) {
      open++;
    }
  }
  lpattern_step(ms, t - s);
  return t < ms->src_end ? t + 1 : NULL;
}

/* %f[set] at s, p at the '['. The characters before the subject and at its
 * end count as '\0'. */
static int lpattern_frontier(lpattern *ms, const char *s, const char *p, const char *ep) {
  int before = s == ms->src ? 0 : (unsigned char)s[-1];
  int at = s < ms->src_end ? (unsigned char)*s : 0;
  lpattern_step(ms, 2 * (ep - p) / LGLEAN_STEP_BYTES);
  return !lpattern_set(before, p, ep - 1) && lpattern_set(at, p, ep - 1);
}

/* Where the pattern from p (to its end) matches the subject from s, or
 * NULL. Items go one after another in this loop; what may have to be
 * undone (a capture, a quantifier's choice) goes one call deeper. */
static const char *lpattern_do(lpattern *ms, const char *s, const char *p) {
  if (ms->depth-- == 0) luaL_error(ms->L, "pattern too complex");
  const char *end = ms->pat_end;
  for (;;) {
    lpattern_step(ms, 1);
    if (p == end) break;
    switch (*p) {
    case '(':
      if (p + 1 < end && p[1] == ')') s = lpattern_open_capture(ms, s, p + 2, LPATTERN_POSITION);
      else s = lpattern_open_capture(ms, s, p + 1, LPATTERN_OPEN);
      goto done;
    case ')':
      s = lpattern_close_capture(ms, s, p + 1);
      goto done;
    case '$':
      if (p + 1 != end) break; /* a '$' anywhere else is itself */
      if (s != ms->src_end) s = NULL;
      goto done;
    case '%':
      if (p + 1 == end) break; /* lpattern_class_end reports it */
      switch (p[1]) {
      case 'b':
        s = lpattern_balance(ms, s, p + 2);
        if (!s) goto done;
        p += 4;
        continue;
      case 'f': {
        p += 2;
        if (p == end || *p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
        const char *ep = lpattern_class_end(ms, p);
        if (!lpattern_frontier(ms, s, p, ep)) {
          s = NULL;
          goto done;
        }
        p = ep;
        continue;
      }
      case '0': case '1': case '2': case '3': case '4':
      case '5': case '6': case '7': case '8': case '9':
        s = lpattern_backref(ms, s, p[1]);
        if (!s) goto done;
        p += 2;
        continue;
      }
      break;
    }
    /* A single character class, and its quantifier if any. */
    const char *ep = lpattern_class_end(ms, p);
    int q = ep < end ? *ep : '\0';
    if (!lpattern_single(ms, s, p, ep)) {
      if (q == '*' || q == '?' || q == '-') { /* zero of them will do */
        p = ep + 1;
        continue;
      }
      s = NULL;
      goto done;
    }
    switch (q) {
    case '?': {
      const char *e = lpattern_do(ms, s + 1, ep + 1);
      if (e) {
        s = e;
        goto done;
      }
      p = ep + 1;
      continue;
    }
    case '+': s = lpattern_greedy(ms, s + 1, p, ep); goto done;
    case '*': s = lpattern_greedy(ms, s, p, ep); goto done;
    case '-': s = lpattern_lazy(ms, s, p, ep); goto done;
    default:
      s++;
      p = ep;
      continue;
    }
  }
done:
  ms->depth++;
  return s;
}

/* ---- results --------------------------------------------------------------- */

/* Pushes capture i of the match s..e (the whole match when the pattern has
 * none and i is 0). */
static void lpattern_push_capture(lpattern *ms, int i, const char *s, const char *e) {
  if (i >= ms->level) {
    if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(ms->L, s, (size_t)(e - s));
    return;
  }
  ptrdiff_t len = ms->cap[i].len;
  if (len == LPATTERN_OPEN) luaL_error(ms->L, "unfinished capture");
  if (len == LPATTERN_POSITION) lua_pushinteger(ms->L, ms->cap[i].init - ms->src + 1);
  else lua_pushlstring(ms->L, ms->cap[i].init, (size_t)len);
}

/* Pushes the captures of the match s..e, or the whole match if it has
 * none and s is not NULL (find wants none then); returns how many. */
static int lpattern_push_captures(lpattern *ms, const char *s, const char *e) {
  int n = ms->level == 0 && s ? 1 : ms->level;
  luaL_checkstack(ms->L, n, "too many captures");
  for (int i = 0; i < n; i++) lpattern_push_capture(ms, i, s, e);
  return n;
}

/* The 1-based position init stands for in a subject of len bytes:
 * negative ones count from the end, and before the start is the start. */
static size_t lpattern_position(lua_Integer init, size_t len) {
  if (init > 0) return (size_t)init;
  if (init == 0 || init < -(lua_Integer)len) return 1;
  return len - (size_t)-init + 1;
}

/* Whether find may take p as plain text. */
static int lpattern_is_plain(const char *p, size_t lp) {
  for (size_t i = 0; i < lp; i++)
    if (memchr("^$*+?.([%-", p[i], 10)) return 0;
  return 1;
}

/* Where p first occurs in s..end, or NULL. */
static const char *lpattern_search(lpattern *ms, const char *s, const char *p, size_t lp) {
  if (lp == 0) return s;
  const char *end = ms->src_end;
  while ((size_t)(end - s) >= lp) {
    const char *hit = memchr(s, *p, (size_t)(end - s) - lp + 1);
    if (!hit) break;
    lpattern_step(ms, 1 + (hit - s + (ptrdiff_t)lp) / LGLEAN_STEP_BYTES);
    if (memcmp(hit + 1, p + 1, lp - 1) == 0) return hit;
    s = hit + 1;
  }
  return NULL;
}

/* ---- the functions --------------------------------------------------------- */

static int lpattern_find_aux(lua_State *L, int find) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = lpattern_position(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  lpattern ms;
  lpattern_init(&ms, L, s, ls, p, lp);
  int n = 0;
  if (find && (lua_toboolean(L, 4) || lpattern_is_plain(p, lp))) {
    const char *hit = lpattern_search(&ms, s + init, p, lp);
    if (hit) {
      lua_pushinteger(L, hit - s + 1);
      lua_pushinteger(L, (lua_Integer)(hit - s + lp));
      n = 2;
    }
  } else {
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
      p++;
      lp--;
    }
    const char *from = s + init;
    do {
      ms.level = 0;
      const char *e = lpattern_do(&ms, from, p);
      if (e) {
        if (find) {
          lua_pushinteger(L, from - s + 1);
          lua_pushinteger(L, e - s);
          n = 2 + lpattern_push_captures(&ms, NULL, NULL);
        } else {
          n = lpattern_push_captures(&ms, from, e);
        }
        break;
      }
    } while (from++ < ms.src_end && !anchor);
  }
  lpattern_charge(&ms);
  if (n == 0) luaL_pushfail(L);
  return n ? n : 1;
}

/* Where a gmatch iterator is: the offset to go on from, and the end of the
 * last match (-1: none yet), which a match may not end at again (the rule
 * of 5.4 that keeps an empty match from following a match). */
typedef struct lpattern_gmatch {
  size_t from;
  ptrdiff_t last;
} lpattern_gmatch;

/* The iterator: upvalues subject, pattern, lpattern_gmatch. */
static int lpattern_gmatch_next(lua_State *L) {
  size_t ls, lp;
  const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
  lpattern_gmatch *g = lua_touserdata(L, lua_upvalueindex(3));
  lpattern ms;
  lpattern_init(&ms, L, s, ls, p, lp);
  int n = 0;
  for (const char *from = s + g->from; from <= ms.src_end; from++) {
    ms.level = 0;
    const char *e = lpattern_do(&ms, from, p);
    if (e && e - s != g->last) {
      g->from = (size_t)(e - s);
      g->last = e - s;
      n = lpattern_push_captures(&ms, from, e);
      break;
    }
  }
  lpattern_charge(&ms);
  return n;
}

/* string.gmatch: this iterator whether or not an adapter call is active
 * (see the top comment). A '^' is no anchor here, as in Lua. */
static int lpattern_gmatch_new(lua_State *L) {
  size_t ls;
  luaL_checklstring(L, 1, &ls);
  luaL_checkstring(L, 2);
  size_t init = lpattern_position(luaL_optinteger(L, 3, 1), ls) - 1;
  lua_settop(L, 2);
  lpattern_gmatch *g = lua_newuserdatauv(L, sizeof *g, 0);
  g->from = init > ls ? ls + 1 : init;
  g->last = -1;
  lua_pushcclosure(L, lpattern_gmatch_next, 3);
  return 1;
}

/* Appends gsub's replacement string (argument 3) for the match s..e. */
static void lpattern_add_string(lpattern *ms, luaL_Buffer *b, const char *s, const char *e) {
  lua_State *L = ms->L;
  size_t l;
  const char *r = lua_tolstring(L, 3, &l);
  const char *rend = r + l;
  lpattern_step(ms, (ptrdiff_t)l / LGLEAN_STEP_BYTES);
  for (;;) {
    const char *esc = memchr(r, '%', (size_t)(rend - r));
    if (!esc) break;
    luaL_addlstring(b, r, (size_t)(esc - r));
    int c = esc + 1 < rend ? (unsigned char)esc[1] : '\0';
    if (c == '%') {
      luaL_addchar(b, '%');
    } else if (c == '0') {
      luaL_addlstring(b, s, (size_t)(e - s));
    } else if (isdigit(c)) {
      int i = c - '1';
      if (i >= 0 && i < ms->level && ms->cap[i].len >= 0) {
        luaL_addlstring(b, ms->cap[i].init, (size_t)ms->cap[i].len);
      } else { /* a position, the whole match (%1 without captures), or an error */
        lpattern_push_capture(ms, i, s, e);
        luaL_addvalue(b);
      }
    } else {
      luaL_error(L, "invalid use of '%%' in replacement string");
    }
    r = esc + 2;
  }
  luaL_addlstring(b, r, (size_t)(rend - r));
}

/* Appends the replacement for the match s..e; returns whether it changed
 * the text (a false or nil from a table or function keeps the match). */
static int lpattern_add_value(lpattern *ms, luaL_Buffer *b, const char *s, const char *e, int tr) {
  lua_State *L = ms->L;
  if (tr == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int n = lpattern_push_captures(ms, s, e);
    lua_call(L, n, 1);
  } else if (tr == LUA_TTABLE) {
    lpattern_push_capture(ms, 0, s, e);
    lua_gettable(L, 3);
  } else {
    lpattern_add_string(ms, b, s, e);
    return 1;
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s, (size_t)(e - s));
    return 0;
  }
  if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return 1;
}

static int lpattern_gsub_charged(lua_State *L) {
  size_t ls, lp;
  const char *src = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  int tr = lua_type(L, 3);
  lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
  luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
                   "string/function/table");
  int anchor = lp > 0 && *p == '^';
  if (anchor) {
    p++;
    lp--;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lpattern ms;
  lpattern_init(&ms, L, src, ls, p, lp);
  const char *last = NULL;
  lua_Integer n = 0;
  int changed = 0;
  while (n < max) {
    ms.level = 0;
    const char *e = lpattern_do(&ms, src, p);
    if (e && e != last) {
      n++;
      changed |= lpattern_add_value(&ms, &b, src, e, tr);
      src = last = e;
    } else if (src < ms.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  lpattern_charge(&ms);
  if (changed) {
    luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
    luaL_pushresult(&b);
  } else {
    lua_pushvalue(L, 1);
  }
  lua_pushinteger(L, n);
  return 2;
}

/* ---- the wrappers ---------------------------------------------------------- */

/* Lua's own function (upvalue 1, a C function without upvalues, so it can
 * run in this call's frame: its errors name the function as Lua's do)
 * outside adapter calls; fn inside them. */
static int lpattern_dispatch(lua_State *L, lua_CFunction fn) {
  if (!llimits_limited(L)) return lua_tocfunction(L, lua_upvalueindex(1))(L);
  return fn(L);
}

static int lpattern_find_charged(lua_State *L) { return lpattern_find_aux(L, 1); }
static int lpattern_match_charged(lua_State *L) { return lpattern_find_aux(L, 0); }

static int lpattern_find(lua_State *L) { return lpattern_dispatch(L, lpattern_find_charged); }
static int lpattern_match(lua_State *L) { return lpattern_dispatch(L, lpattern_match_charged); }
static int lpattern_gsub(lua_State *L) { return lpattern_dispatch(L, lpattern_gsub_charged); }

void lpattern_open(lua_State *L) {
  /* gmatch's upvalue (Lua's gmatch) goes unused: it never runs Lua's. */
  static const luaL_Reg wrappers[] = {
    {"find", lpattern_find}, {"match", lpattern_match}, {"gsub", lpattern_gsub}, {"gmatch", lpattern_gmatch_new},
    {NULL, NULL},
  };
  lglean_wrap_lib(L, LUA_STRLIBNAME, wrappers);
}
