/* llimits.c — how much adapter code may take: a memory cap and an
 * instruction budget. Both hold only while adapter code runs (the sandbox,
 * runtime/lua/glean/sandbox.lua, and the scheduler switch them on around
 * it), so the crawl's own bookkeeping is never refused.
 *
 * Memory: luaopen_glean wraps the state's allocator in one that counts the
 * bytes the state holds, plus what parsed documents are charged
 * (lglean_charge), so every state that loads glean gets it: the command's,
 * the embedding API's, and a stock lua5.4's through glean.so. While adapter
 * code runs, growth past the cap is refused; Lua then collects garbage and,
 * if that is not enough, raises "not enough memory" in the adapter code.
 *
 * Time: a count hook on the threads adapter code runs in takes the
 * instructions they run off the budget of the call in progress; past it the
 * hook raises an error, and raises it again at every instruction after, so
 * a pcall in the adapter cannot swallow it for good. Threads that adapter
 * code creates inherit the hook. C code that can run long inside one
 * instruction takes its work off the same budget (llimits_spend: Lua's
 * patterns, lpattern.c; selector matching, ldom.c).
 *
 * The Lua side is the internal module glean.limits (package.preload):
 *   cap([bytes]) -> previous cap (0: none)       active() -> boolean
 *   pcall(budget, msgh, fn, ...) -> left, refused, ok, ...   (running thread; msgh may be nil)
 *   resume(co, budget, left, ...) -> left, refused, ok, ...
 *   close(co, budget, left) -> left, refused, ok, err
 *   traceback(msg) -> msg as a string, with a traceback (a message handler)
 *   trace() -> the first traceback made after the last call ran out, or nil
 * left is what the call left of its budget (<= 0: it ran out), refused
 * whether the cap refused memory meanwhile. trace() is there because the
 * error raised again after the first is raised where no handler adds a
 * traceback (the coroutine's own body, once the handler's pcall is done). */
#include <stdbool.h>
#include <string.h>

#include "lglean.h"

#define LLIMITS_KEY "glean.Limits"
/* Instructions between two runs of the hook: its cost, against how far a
 * call may overrun its budget. */
#define LLIMITS_STEP 1000

typedef struct llimits {
  lua_Alloc f;         /* the allocator wrapped, and its data */
  void *ud;
  size_t used;         /* bytes the state holds, plus the charges */
  size_t cap;          /* 0: none */
  bool active;         /* adapter code is running: cap and budget hold */
  bool refused;        /* the cap refused something since the call began */
  lua_Integer left;    /* instructions the running call may still take */
  lua_Integer budget;  /* what it started with (for the message) */
  char trace[2048];    /* see trace() */
} llimits;

/* The state of a call in progress, saved while another runs inside it. */
typedef struct llimits_call {
  bool active, refused;
  lua_Integer left, budget;
} llimits_call;

static void *llimits_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  llimits *m = ud;
  size_t old = ptr ? osize : 0; /* without a block, osize is a type tag */
  if (nsize > old && m->active && m->cap && m->used - old + nsize > m->cap) {
    m->refused = true;
    return NULL;
  }
  void *p = m->f(m->ud, ptr, osize, nsize);
  if (p || nsize == 0) m->used = m->used - old + nsize;
  return p;
}

static llimits *llimits_of(lua_State *L) {
  void *ud;
  return lua_getallocf(L, &ud) == llimits_alloc ? ud : NULL;
}

int lglean_charge(lua_State *L, size_t bytes) {
  llimits *m = llimits_of(L);
  if (!m) return 0;
  if (m->active && m->cap && (bytes > m->cap || m->used > m->cap - bytes)) {
    m->refused = true;
    return -1;
  }
  m->used += bytes;
  return 0;
}

void lglean_uncharge(lua_State *L, size_t bytes) {
  llimits *m = llimits_of(L);
  if (m) m->used -= bytes < m->used ? bytes : m->used;
}

/* ---- the budget ------------------------------------------------------------ */

static void llimits_hook(lua_State *L, lua_Debug *ar);

/* The one place the budget runs out: from the hook and from llimits_spend.
 * The thread's hook then runs at every instruction, so the error comes
 * back at once after a pcall that caught it. */
static void llimits_exceeded(lua_State *L, llimits *m) {
  if (lua_gethook(L) == llimits_hook && lua_gethookcount(L) != 1) lua_sethook(L, llimits_hook, LUA_MASKCOUNT, 1);
  lua_pushfstring(L, "time limit exceeded: more than %I Lua instructions in one call (time-limit)", m->budget);
  lua_error(L);
}

bool llimits_limited(lua_State *L) {
  llimits *m = llimits_of(L);
  return m && m->active;
}

void llimits_spend(lua_State *L, lua_Integer n) {
  llimits *m = llimits_of(L);
  if (m && m->active && (m->left -= n) <= 0) llimits_exceeded(L, m);
}

lua_Integer llimits_left(lua_State *L) {
  llimits *m = llimits_of(L);
  return m && m->active ? (m->left > 0 ? m->left : 0) : -1;
}

static void llimits_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  llimits *m = llimits_of(L);
  int count = lua_gethookcount(L);
  if (!m || !m->active) {
    if (count != LLIMITS_STEP) lua_sethook(L, llimits_hook, LUA_MASKCOUNT, LLIMITS_STEP);
    return;
  }
  m->left -= count;
  if (m->left > 0) {
    if (count != LLIMITS_STEP) lua_sethook(L, llimits_hook, LUA_MASKCOUNT, LLIMITS_STEP);
    return;
  }
  llimits_exceeded(L, m);
}

/* Keeps a thread's count if the hook is already there: a coroutine that ran
 * out stays out. */
static void llimits_install(lua_State *co) {
  if (lua_gethook(co) != llimits_hook) lua_sethook(co, llimits_hook, LUA_MASKCOUNT, LLIMITS_STEP);
}

static llimits *llimits_check(lua_State *L) {
  llimits *m = llimits_of(L);
  if (!m) luaL_error(L, "glean.limits: the state's allocator is not glean's");
  return m;
}

static llimits_call llimits_begin(llimits *m, lua_Integer budget, lua_Integer left) {
  llimits_call saved = {m->active, m->refused, m->left, m->budget};
  m->active = true;
  m->refused = false;
  m->left = left;
  m->budget = budget;
  m->trace[0] = '\0';
  return saved;
}

/* Ends the call begun with llimits_begin and pushes left, refused. */
static void llimits_end(lua_State *L, llimits *m, llimits_call saved) {
  lua_Integer left = m->left;
  bool refused = m->refused;
  m->active = saved.active;
  m->refused = saved.refused;
  m->left = saved.left;
  m->budget = saved.budget;
  lua_pushinteger(L, left);
  lua_pushboolean(L, refused);
}

/* Moves the results of a resume (or the error object) from co to L,
 * after the left, refused pair; returns the count pushed on L. */
static int llimits_results(lua_State *L, lua_State *co, int status, int nres) {
  if (status != LUA_OK && status != LUA_YIELD) {
    lua_pushboolean(L, 0);
    lua_xmove(co, L, 1);
    return 4;
  }
  luaL_checkstack(L, nres + 1, "too many results to resume");
  lua_pushboolean(L, 1);
  lua_xmove(co, L, nres);
  return nres + 3;
}

/* limits.pcall(budget, msgh, fn, ...) on the running thread, whose own hook
 * (a debugger's) comes back afterwards. Not yieldable: the calls it guards
 * (an adapter's main chunk, a match function, a handler run outside the
 * scheduler) do not yield. */
static int llimits_pcall(lua_State *L) {
  llimits *m = llimits_check(L);
  lua_Integer budget = luaL_checkinteger(L, 1);
  luaL_checkany(L, 3);
  lua_Hook hook = lua_gethook(L);
  int mask = lua_gethookmask(L), count = lua_gethookcount(L);
  llimits_install(L);
  llimits_call saved = llimits_begin(m, budget, budget);
  int status = lua_pcall(L, lua_gettop(L) - 3, LUA_MULTRET, lua_isnil(L, 2) ? 0 : 2);
  lua_sethook(L, hook, mask, count);
  int nres = lua_gettop(L) - 2;
  luaL_checkstack(L, 3, "too many results");
  llimits_end(L, m, saved);
  lua_pushboolean(L, status == LUA_OK);
  lua_rotate(L, 3, 3);
  return nres + 3;
}

static lua_State *llimits_check_thread(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co != NULL, 1, "thread");
  return co;
}

/* limits.resume(co, budget, left, ...): coroutine.resume under the budget. */
static int llimits_resume(lua_State *L) {
  llimits *m = llimits_check(L);
  lua_State *co = llimits_check_thread(L);
  lua_Integer budget = luaL_checkinteger(L, 2), left = luaL_checkinteger(L, 3);
  int narg = lua_gettop(L) - 3;
  if (lua_status(co) == LUA_OK && lua_gettop(co) == 0) return luaL_error(L, "cannot resume dead coroutine");
  if (!lua_checkstack(co, narg)) return luaL_error(L, "too many arguments to resume");
  lua_xmove(L, co, narg);
  llimits_install(co);
  llimits_call saved = llimits_begin(m, budget, left);
  int nres;
  int status = lua_resume(co, L, narg, &nres);
  llimits_end(L, m, saved);
  return llimits_results(L, co, status, nres);
}

/* limits.close(co, budget, left): coroutine.close under the budget (its
 * pending to-be-closed variables run the adapter's code). */
static int llimits_close(lua_State *L) {
  llimits *m = llimits_check(L);
  lua_State *co = llimits_check_thread(L);
  lua_Integer budget = luaL_checkinteger(L, 2), left = luaL_checkinteger(L, 3);
  llimits_install(co);
  llimits_call saved = llimits_begin(m, budget, left);
#if LUA_VERSION_RELEASE_NUM >= 50406
  int status = lua_closethread(co, L);
#else
  int status = lua_resetthread(co);
#endif
  llimits_end(L, m, saved);
  return llimits_results(L, co, status, 0);
}

/* A message handler: what debug.traceback does, but the error object is
 * made a string here too (its __tostring is the adapter's code, and must
 * run under the budget, not later in the crawl's). */
static int llimits_traceback(lua_State *L) {
  luaL_traceback(L, L, luaL_tolstring(L, 1, NULL), 1);
  llimits *m = llimits_of(L);
  if (m && m->active && m->left <= 0 && !m->trace[0]) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len >= sizeof m->trace) len = sizeof m->trace - 1;
    memcpy(m->trace, s, len);
    m->trace[len] = '\0';
  }
  return 1;
}

static int llimits_trace(lua_State *L) {
  llimits *m = llimits_of(L);
  if (m && m->trace[0]) lua_pushstring(L, m->trace);
  else lua_pushnil(L);
  return 1;
}

static int llimits_cap(lua_State *L) {
  llimits *m = llimits_check(L);
  lua_pushinteger(L, (lua_Integer)m->cap);
  if (!lua_isnoneornil(L, 1)) {
    lua_Integer cap = luaL_checkinteger(L, 1);
    luaL_argcheck(L, cap >= 0, 1, "must not be negative");
    m->cap = (size_t)cap;
  }
  return 1;
}

static int llimits_active(lua_State *L) {
  lua_pushboolean(L, llimits_check(L)->active);
  return 1;
}

static int llimits_module(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"cap", llimits_cap}, {"active", llimits_active}, {"pcall", llimits_pcall}, {"resume", llimits_resume},
    {"close", llimits_close}, {"traceback", llimits_traceback}, {"trace", llimits_trace}, {NULL, NULL},
  };
  luaL_newlib(L, funcs);
  return 1;
}

/* Lua closes the state with frees after every finalizer has run: the
 * wrapped allocator takes them, as the limits' memory goes with this
 * userdata. */
static int llimits_gc(lua_State *L) {
  llimits *m = lua_touserdata(L, 1);
  if (llimits_of(L) == m) lua_setallocf(L, m->f, m->ud);
  return 0;
}

void llimits_open(lua_State *L) {
  if (!llimits_of(L)) {
    llimits *m = lua_newuserdatauv(L, sizeof *m, 0);
    memset(m, 0, sizeof *m);
    lua_newtable(L);
    lua_pushcfunction(L, llimits_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, LLIMITS_KEY);
    /* Lua's own count of what the state holds, so the blocks allocated
     * before the wrap are freed from the count too. */
    m->used = (size_t)lua_gc(L, LUA_GCCOUNT) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB);
    m->f = lua_getallocf(L, &m->ud);
    lua_setallocf(L, llimits_alloc, m);
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, llimits_module);
  lua_setfield(L, -2, "glean.limits");
  lua_pop(L, 1);
}
