/* lchunk.c — glean.chunk, the runtime's internal module (package.preload)
 * that looks at compiled adapter code before it runs, for what the Lua it
 * runs on compiles wrongly.
 *   check(fn) -> nil, or line, message: the first place in fn (a Lua
 *                function) or the functions it defines that was miscompiled
 *
 * Lua 5.4.0 to 5.4.7 compile an upvalue indexed by a bare comparison,
 * `t[a == b]` or `t[a == b] = v` with t an upvalue, into code that loads t
 * into a register only when the comparison is false (luaK_exp2val does not
 * discharge a VJMP key before luaK_indexed puts the upvalue in a register;
 * 5.4.8 fixed it). When it is true the code indexes, or assigns to,
 * whatever the register last held: nil, or a value the runtime's own code
 * left in that stack slot (a function, a Document, a table of the crawl's),
 * which an adapter must never reach. Debian 12's Lua is 5.4.4, so such code
 * is refused when it is loaded, with the line and the way around it.
 *
 * The code is read from lua_dump's output (the format of ldump.c), as the
 * public API gives no other way to a function's instructions. Anything
 * other than the format this was written for is let through unchecked: the
 * check is for one known bug, not a verifier. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "lglean.h"

/* Lua 5.4's opcodes (lopcodes.h) in the shape of the miscompiled code. */
enum { LCHUNK_LFALSESKIP = 6, LCHUNK_LOADTRUE = 7, LCHUNK_GETUPVAL = 9, LCHUNK_JMP = 56 };
#define LCHUNK_OP(i) ((i) & 0x7f)
#define LCHUNK_A(i) (((i) >> 7) & 0xff)
#define LCHUNK_SJ(i) ((long)(((i) >> 7) & 0x1ffffff) - 0xffffff)

typedef struct lchunk_reader {
  const unsigned char *p, *end;
  bool bad;  /* not the format expected: stop, and let the code through */
  long line; /* the first miscompiled line found (0: none; -1: no line info) */
} lchunk_reader;

static const unsigned char *lchunk_take(lchunk_reader *r, size_t n) {
  if (r->bad || (size_t)(r->end - r->p) < n) {
    r->bad = true;
    return NULL;
  }
  const unsigned char *at = r->p;
  r->p += n;
  return at;
}

/* ldump.c's dumpSize: 7 bits a byte, most significant first, the last
 * byte marked by its high bit. */
static size_t lchunk_size(lchunk_reader *r) {
  size_t x = 0;
  for (int n = 0; n < 10; n++) {
    const unsigned char *b = lchunk_take(r, 1);
    if (!b) return 0;
    x = (x << 7) | (*b & 0x7f);
    if (*b & 0x80) return x;
  }
  r->bad = true;
  return 0;
}

static void lchunk_skip_string(lchunk_reader *r) {
  size_t n = lchunk_size(r);
  if (n > 0) lchunk_take(r, n - 1);
}

static uint32_t lchunk_instruction(const unsigned char *code, size_t pc) {
  uint32_t i;
  memcpy(&i, code + 4 * pc, sizeof i);
  return i;
}

/* The pc of the first miscompiled indexing in code, or -1: a jump taken
 * when the comparison holds, over the upvalue's load, to the LOADTRUE that
 * makes the key true. */
static long lchunk_find(const unsigned char *code, size_t n) {
  for (size_t pc = 1; pc + 2 < n; pc++) {
    uint32_t jmp = lchunk_instruction(code, pc - 1), load = lchunk_instruction(code, pc);
    uint32_t skip = lchunk_instruction(code, pc + 1), set = lchunk_instruction(code, pc + 2);
    if (LCHUNK_OP(load) == LCHUNK_GETUPVAL && LCHUNK_OP(jmp) == LCHUNK_JMP &&
        LCHUNK_SJ(jmp) == 2 && LCHUNK_OP(skip) == LCHUNK_LFALSESKIP &&
        LCHUNK_OP(set) == LCHUNK_LOADTRUE && LCHUNK_A(skip) == LCHUNK_A(set))
      return (long)pc;
  }
  return -1;
}

/* One function (ldump.c's dumpFunction) and those it defines. */
static void lchunk_function(lchunk_reader *r, int depth) {
  if (depth > 200) {  /* the parser's own nesting limit is lower */
    r->bad = true;
    return;
  }
  lchunk_skip_string(r);                 /* source */
  long linedefined = (long)lchunk_size(r);
  lchunk_size(r);                        /* lastlinedefined */
  lchunk_take(r, 3);                     /* numparams, is_vararg, maxstacksize */
  size_t ncode = lchunk_size(r);
  if (ncode > (size_t)(r->end - r->p) / 4) {
    r->bad = true;
    return;
  }
  const unsigned char *code = lchunk_take(r, 4 * ncode);
  size_t nk = lchunk_size(r);
  for (size_t i = 0; i < nk && !r->bad; i++) {
    const unsigned char *tag = lchunk_take(r, 1);
    if (!tag) return;
    switch (*tag) {
    case 0: case 1: case 17: break;        /* nil, false, true */
    case 3: case 19: lchunk_take(r, 8); break;  /* integer, float */
    case 4: case 20: lchunk_skip_string(r); break;
    default: r->bad = true;
    }
  }
  size_t nup = lchunk_size(r);
  if (nup > (size_t)(r->end - r->p) / 3) {
    r->bad = true;
    return;
  }
  lchunk_take(r, 3 * nup);
  size_t nprotos = lchunk_size(r);
  for (size_t i = 0; i < nprotos && !r->bad; i++) lchunk_function(r, depth + 1);
  size_t nlines = lchunk_size(r);
  const unsigned char *lineinfo = lchunk_take(r, nlines);
  size_t nabs = lchunk_size(r);
  long base_pc = -1, base_line = linedefined;
  long found = code ? lchunk_find(code, ncode) : -1;
  for (size_t i = 0; i < nabs && !r->bad; i++) {
    long pc = (long)lchunk_size(r), line = (long)lchunk_size(r);
    if (found >= 0 && pc <= found) base_pc = pc, base_line = line;
  }
  size_t nloc = lchunk_size(r);
  for (size_t i = 0; i < nloc && !r->bad; i++) {
    lchunk_skip_string(r);
    lchunk_size(r);
    lchunk_size(r);
  }
  size_t nupnames = lchunk_size(r);
  for (size_t i = 0; i < nupnames && !r->bad; i++) lchunk_skip_string(r);
  if (r->bad || found < 0 || r->line != 0) return;
  if (nlines != ncode) {
    r->line = -1;
    return;
  }
  /* ldebug.c's luaG_getfuncline: from the last absolute line at or before
   * the pc, add the per-instruction deltas. */
  for (long pc = base_pc + 1; pc <= found; pc++) base_line += (signed char)lineinfo[pc];
  r->line = base_line;
}

static int lchunk_write(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  buf *b = ud;
  buf_append(b, p, n);
  return b->failed;
}

static int lchunk_check(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (lua_iscfunction(L, 1)) return 0;
  lua_settop(L, 1);
  buf dump = BUF_INIT;
  int failed = lua_dump(L, lchunk_write, &dump, 0);
  lchunk_reader r = {(const unsigned char *)dump.data, (const unsigned char *)dump.data + dump.len, false, 0};
  /* ldump.c's header: signature, version 5.4, format 0, LUAC_DATA, the
   * sizes of Instruction, lua_Integer and lua_Number, LUAC_INT, LUAC_NUM;
   * then the main function's count of upvalues. */
  static const unsigned char header[] = {0x1b, 'L', 'u', 'a', 0x54, 0, 0x19, 0x93, '\r', '\n', 0x1a, '\n', 4, 8, 8};
  const unsigned char *h = failed ? NULL : lchunk_take(&r, sizeof header + 16 + 1);
  if (h && memcmp(h, header, sizeof header) == 0) lchunk_function(&r, 0);
  buf_free(&dump);
  if (r.bad || r.line == 0) return 0;
  if (r.line > 0) lua_pushinteger(L, r.line);
  else lua_pushliteral(L, "?");
  lua_pushliteral(L, LUA_RELEASE " compiles an upvalue indexed by a comparison (t[a == b], t[a ~= b] = v) wrongly: "
                     "it would read or write whatever was last in a register; put the key in a local first "
                     "(local k = a == b; t[k]) or make t a local of the function (README: known issues)");
  return 2;
}

void lchunk_open(lua_State *L) {
  static const luaL_Reg funcs[] = {{"check", lchunk_check}, {NULL, NULL}};
  lglean_preload(L, "glean.chunk", funcs);
}
