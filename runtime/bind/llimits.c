/* llimits.c — how much adapter code may take: a memory cap and a time
 * budget. Both hold only while adapter code runs (the sandbox,
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
 * Time: a meter (limits.meter) holds what one handler call may take, in
 * Lua instructions and in seconds of wall time while it runs; every run of
 * adapter code goes through one. A count hook on the threads adapter code
 * runs in takes the instructions they run off it and reads the clock; past
 * either limit the hook raises an error, and raises it again at every
 * instruction after, so a pcall in the adapter cannot swallow it for good.
 * Threads that adapter code creates inherit the hook. The hook runs every
 * LLIMITS_STEP instructions, and more often when instructions turn slow
 * (a string compare or a table insert can take milliseconds), so the clock
 * is read about every LLIMITS_SLICE_NS whatever the instructions cost.
 * Work done inside one instruction counts too: bytes the allocator hands
 * out (a `..` of big strings), one instruction per LLIMITS_BYTES, and C
 * code that loops (Lua's patterns, lpattern.c; selector matching and
 * parsing, ldom.c; json encoding, ljson.c; the table and string functions
 * that loop, lcharged.c; regular expressions, lregex.c) charges its steps
 * through llimits_spend, which reads the clock too. A second Ctrl-C or SIGTERM (glean_lua_interrupt)
 * and the embedding API's glean_cancel (llimits_cancel, from any thread)
 * end adapter code the same way: they set the interrupt, an atomic that
 * the hook and llimits_spend read, and that stays set (every adapter call
 * after fails at once) until llimits_cancel clears it.
 *
 * The Lua side is the internal module glean.limits (package.preload):
 *   cap([bytes]) -> previous cap (0: none)       active() -> boolean
 *   meter(instructions, seconds) -> a meter (0: no limit of that kind)
 *   pcall(meter, msgh, fn, ...) -> ok, ...   (running thread; msgh may be nil)
 *   resume(meter, co, ...) -> ok, ...        close(meter, co) -> ok, err
 *   spend(n) -> nothing: n instructions' worth taken off the call in progress
 *   spent() -> whether the call in progress has run out (or was interrupted)
 *   message(err) -> err as a string, cut to LLIMITS_MESSAGE_MAX bytes
 *   traceback(msg) -> message(msg), with a traceback (a message handler)
 *   meter:out() -> nil, or the message for the limit it ran out of, with
 *     the traceback of where (the first one made after it ran out)
 *   meter:left() -> the instructions it has left (math.maxinteger: no limit)
 *   meter:refused() -> whether the memory cap refused its calls something
 * The traceback is kept because the error raised again after the first is
 * raised where no handler adds one (the coroutine's own body, once the
 * handler's pcall is done). */
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "glean.h"
#include "lglean.h"

#define LLIMITS_KEY "glean.Limits"
#define LLIMITS_METER "glean.Meter"
/* Instructions between two runs of the hook: its cost, against how far a
 * call may overrun its budget. */
#define LLIMITS_STEP 1000
/* How often the hook should read the clock at most: when LLIMITS_STEP
 * instructions take longer, it runs more often. */
#define LLIMITS_SLICE_NS 10000000
/* Bytes allocated for an instruction's worth of work, and how many are
 * gathered before they are charged. */
#define LLIMITS_BYTES 64
#define LLIMITS_ALLOC_CHUNK 65536

/* Which limit a meter ran out of. */
enum { LLIMITS_IN, LLIMITS_INSTRUCTIONS, LLIMITS_SECONDS, LLIMITS_INTERRUPTED, LLIMITS_CANCELLED };

typedef struct llimits_meter {
  lua_Integer budget, left; /* instructions; budget 0: no limit */
  double seconds;           /* 0: no limit */
  int64_t left_ns;          /* of the seconds, between runs */
  bool refused;             /* the cap refused one of its runs something */
  int out;
  char trace[2048];         /* see meter:out() */
} llimits_meter;

struct llimits {
  lua_Alloc f;                       /* the allocator wrapped, and its data */
  void *ud;
  size_t used;                       /* bytes the state holds, plus the charges */
  size_t cap;                        /* 0: none */
  llimits_meter *meter;              /* the running call's; NULL: no adapter code runs */
  lua_State *thread;                 /* the thread it runs (see llimits_soon) */
  int64_t deadline;                  /* monotonic ns; INT64_MAX: none */
  int64_t checked;                   /* when the hook last read the clock */
  size_t allocated;                  /* bytes allocated, not charged yet */
  /* 0, LLIMITS_INTERRUPTED or LLIMITS_CANCELLED: set by a signal handler
   * or another thread, so lock-free (async-signal-safe) and atomic. */
  atomic_int interrupted;
};
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler sets the interrupt");

/* The state of a call in progress, saved while another runs inside it. */
typedef struct llimits_call {
  llimits_meter *meter;
  lua_State *thread;
  int64_t deadline;
} llimits_call;

static void llimits_take(llimits_meter *c, lua_Integer n) {
  if (c->budget && n > 0) c->left = n >= c->left ? 0 : c->left - n;
}

static int64_t llimits_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void llimits_hook(lua_State *L, lua_Debug *ar);

/* From the allocator, which cannot raise: when the call has gone a slice
 * without the hook, the hook runs at the thread's next instruction. Lua
 * documents lua_sethook as safe to call at any moment (lua.c calls it from
 * a signal handler). Threads the adapter made are not known here: theirs
 * runs every LLIMITS_STEP instructions at most, and the guarded thread's
 * right after they return. */
static void llimits_soon(llimits *m) {
  if (llimits_now() - m->checked > LLIMITS_SLICE_NS && lua_gethook(m->thread) == llimits_hook)
    lua_sethook(m->thread, llimits_hook, LUA_MASKCOUNT, 1);
}

static void *llimits_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  llimits *m = ud;
  size_t old = ptr ? osize : 0; /* without a block, osize is a type tag */
  if (nsize > old && m->meter) {
    if (m->cap && m->used - old + nsize > m->cap) {
      /* Lua collects all garbage before it gives up: a walk of the heap. */
      m->meter->refused = true;
      llimits_take(m->meter, (lua_Integer)(m->used / LLIMITS_BYTES));
      llimits_soon(m);
      return NULL;
    }
    /* Charged at the next run of the hook: an allocator cannot raise. */
    if ((m->allocated += nsize - old) >= LLIMITS_ALLOC_CHUNK) {
      llimits_take(m->meter, (lua_Integer)(m->allocated / LLIMITS_BYTES));
      m->allocated %= LLIMITS_BYTES;
      llimits_soon(m);
    }
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
  if (m->meter && m->cap && (bytes > m->cap || m->used > m->cap - bytes)) {
    m->meter->refused = true;
    return -1;
  }
  m->used += bytes;
  return 0;
}

size_t lglean_limit(lua_State *L) {
  llimits *m = llimits_of(L);
  return m ? m->cap : 0;
}

size_t lglean_room(lua_State *L) {
  llimits *m = llimits_of(L);
  if (!m || !m->cap) return SIZE_MAX;
  return m->used < m->cap ? m->cap - m->used : 0;
}

void lglean_uncharge(lua_State *L, size_t bytes) {
  llimits *m = llimits_of(L);
  if (m) m->used -= bytes < m->used ? bytes : m->used;
}

/* ---- the budget ------------------------------------------------------------ */

/* Pushes the message for the limit c ran out of. */
static const char *llimits_push_message(lua_State *L, const llimits_meter *c) {
  switch (c->out) {
  case LLIMITS_INSTRUCTIONS:
    return lua_pushfstring(L, "time limit exceeded: more than %I Lua instructions in one call (time-limit)", c->budget);
  case LLIMITS_SECONDS:
    if (c->seconds == (double)(lua_Integer)c->seconds)
      return lua_pushfstring(L, "time limit exceeded: more than %I seconds in one call (time-limit-seconds)",
                             (lua_Integer)c->seconds);
    return lua_pushfstring(L, "time limit exceeded: more than %f seconds in one call (time-limit-seconds)", c->seconds);
  case LLIMITS_CANCELLED:
    return lua_pushliteral(L, "cancelled: the host called glean_cancel");
  default:
    return lua_pushliteral(L, "interrupted: stopping now (a second Ctrl-C or SIGTERM)");
  }
}

/* Whether the running call has run out, marking its meter if so. */
static bool llimits_over(llimits *m, int64_t now) {
  llimits_meter *c = m->meter;
  if (!c->out) {
    int why = atomic_load_explicit(&m->interrupted, memory_order_relaxed);
    if (why) c->out = why;
    else if (c->budget && c->left <= 0) c->out = LLIMITS_INSTRUCTIONS;
    else if (now >= m->deadline) c->out = LLIMITS_SECONDS;
  }
  return c->out != LLIMITS_IN;
}

/* The one place a call's time runs out: from the hook and from
 * llimits_spend. The thread's hook then runs at every instruction, so the
 * error comes back at once after a pcall that caught it. */
static void llimits_exceeded(lua_State *L, llimits *m) {
  if (lua_gethook(L) == llimits_hook && lua_gethookcount(L) != 1) lua_sethook(L, llimits_hook, LUA_MASKCOUNT, 1);
  llimits_push_message(L, m->meter);
  lua_error(L);
}

bool llimits_limited(lua_State *L) {
  llimits *m = llimits_of(L);
  return m && m->meter;
}

/* Reads the clock only when the call has a deadline. */
static bool llimits_over_now(llimits *m) { return llimits_over(m, m->deadline == INT64_MAX ? 0 : llimits_now()); }

void llimits_spend(lua_State *L, lua_Integer n) {
  llimits *m = llimits_of(L);
  if (!m || !m->meter) return;
  llimits_take(m->meter, n);
  if (llimits_over_now(m)) llimits_exceeded(L, m);
}

bool llimits_expired(lua_State *L) {
  llimits *m = llimits_of(L);
  return m && m->meter && llimits_over_now(m);
}

lua_Integer llimits_left(lua_State *L) {
  llimits *m = llimits_of(L);
  if (!m || !m->meter) return -1;
  if (!m->meter->budget) return LUA_MAXINTEGER;
  return m->meter->left > 0 ? m->meter->left : 0;
}

bool llimits_timed(lua_State *L) {
  llimits *m = llimits_of(L);
  return m && m->meter && (m->meter->budget || m->deadline != INT64_MAX);
}

void glean_lua_interrupt(lua_State *L) {
  llimits *m = llimits_of(L);
  if (m) atomic_store_explicit(&m->interrupted, LLIMITS_INTERRUPTED, memory_order_relaxed);
}

llimits *llimits_get_interrupt(lua_State *L) { return llimits_of(L); }

bool llimits_cancel(llimits *m, bool on) {
  return atomic_exchange_explicit(&m->interrupted, on ? LLIMITS_CANCELLED : 0, memory_order_relaxed) != 0;
}

bool llimits_cancelled(llimits *m) { return atomic_load_explicit(&m->interrupted, memory_order_relaxed) != 0; }

static void llimits_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  llimits *m = llimits_of(L);
  int count = lua_gethookcount(L), next = LLIMITS_STEP;
  if (m && m->meter) {
    llimits_take(m->meter, count);
    int64_t now = llimits_now(), took = now - m->checked;
    m->checked = now;
    if (llimits_over(m, now)) llimits_exceeded(L, m);
    /* Slow instructions: read the clock sooner next time. */
    if (took > LLIMITS_SLICE_NS) next = (int)((int64_t)count * LLIMITS_SLICE_NS / took);
    else if (count < LLIMITS_STEP / 2) next = count * 2;
    if (next < 1) next = 1;
  }
  if (next != count) lua_sethook(L, llimits_hook, LUA_MASKCOUNT, next);
}

/* Keeps a thread's count if the hook is already there: a coroutine that ran
 * out stays out. */
static void llimits_install(lua_State *co) {
  if (lua_gethook(co) != llimits_hook) lua_sethook(co, llimits_hook, LUA_MASKCOUNT, LLIMITS_STEP);
}

static llimits *llimits_get(lua_State *L) {
  llimits *m = llimits_of(L);
  if (!m) luaL_error(L, "glean.limits: the state's allocator is not glean's");
  return m;
}

static llimits_meter *llimits_check_meter(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LLIMITS_METER);
}

/* limits.meter(instructions, seconds) */
static int llimits_meter_new(lua_State *L) {
  lua_Integer budget = luaL_checkinteger(L, 1);
  lua_Number seconds = luaL_checknumber(L, 2);
  luaL_argcheck(L, budget >= 0, 1, "must not be negative");
  luaL_argcheck(L, seconds >= 0 && seconds < 1e9, 2, "must be from 0 to 1e9");
  llimits_meter *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  c->budget = budget;
  c->left = budget ? budget : LUA_MAXINTEGER;
  c->seconds = seconds;
  c->left_ns = (int64_t)(seconds * 1e9);
  luaL_setmetatable(L, LLIMITS_METER);
  return 1;
}

static llimits_call llimits_begin(llimits *m, llimits_meter *c, lua_State *thread) {
  llimits_call saved = {m->meter, m->thread, m->deadline};
  int64_t now = llimits_now();
  m->meter = c;
  m->thread = thread;
  m->deadline = c->seconds == 0 ? INT64_MAX : now + c->left_ns;
  m->checked = now;
  m->allocated = 0;
  return saved;
}

static void llimits_end(llimits *m, llimits_call saved) {
  llimits_meter *c = m->meter;
  if (c->seconds != 0) c->left_ns = m->deadline - llimits_now();
  m->meter = saved.meter;
  m->thread = saved.thread;
  m->deadline = saved.deadline;
}

/* Moves the results of a resume (or the error object) from co to L;
 * returns the count pushed on L. */
static int llimits_results(lua_State *L, lua_State *co, int status, int nres) {
  if (status != LUA_OK && status != LUA_YIELD) {
    lua_pushboolean(L, 0);
    lua_xmove(co, L, 1);
    return 2;
  }
  luaL_checkstack(L, nres + 1, "too many results to resume");
  lua_pushboolean(L, 1);
  lua_xmove(co, L, nres);
  return nres + 1;
}

/* limits.pcall(meter, msgh, fn, ...) on the running thread, whose own hook
 * (a debugger's) comes back afterwards. Not yieldable: the calls it guards
 * (an adapter's main chunk, a match function, a handler run outside the
 * scheduler) do not yield. */
static int llimits_pcall(lua_State *L) {
  llimits *m = llimits_get(L);
  llimits_meter *c = llimits_check_meter(L, 1);
  luaL_checkany(L, 3);
  lua_Hook hook = lua_gethook(L);
  int mask = lua_gethookmask(L), count = lua_gethookcount(L);
  llimits_install(L);
  llimits_call saved = llimits_begin(m, c, L);
  int status = lua_pcall(L, lua_gettop(L) - 3, LUA_MULTRET, lua_isnil(L, 2) ? 0 : 2);
  llimits_end(m, saved);
  lua_sethook(L, hook, mask, count);
  luaL_checkstack(L, 1, "too many results");
  lua_pushboolean(L, status == LUA_OK);
  lua_replace(L, 2);
  return lua_gettop(L) - 1;
}

static lua_State *llimits_check_thread(lua_State *L, int idx) {
  lua_State *co = lua_tothread(L, idx);
  luaL_argexpected(L, co != NULL, idx, "thread");
  return co;
}

/* limits.resume(meter, co, ...): coroutine.resume on the meter. */
static int llimits_resume(lua_State *L) {
  llimits *m = llimits_get(L);
  llimits_meter *c = llimits_check_meter(L, 1);
  lua_State *co = llimits_check_thread(L, 2);
  int narg = lua_gettop(L) - 2;
  if (lua_status(co) == LUA_OK && lua_gettop(co) == 0) return luaL_error(L, "cannot resume dead coroutine");
  if (!lua_checkstack(co, narg)) return luaL_error(L, "too many arguments to resume");
  lua_xmove(L, co, narg);
  llimits_install(co);
  llimits_call saved = llimits_begin(m, c, co);
  int nres;
  int status = lua_resume(co, L, narg, &nres);
  llimits_end(m, saved);
  return llimits_results(L, co, status, nres);
}

/* limits.close(meter, co): coroutine.close on the meter (its pending
 * to-be-closed variables run the adapter's code). */
static int llimits_close(lua_State *L) {
  llimits *m = llimits_get(L);
  llimits_meter *c = llimits_check_meter(L, 1);
  lua_State *co = llimits_check_thread(L, 2);
  llimits_install(co);
  llimits_call saved = llimits_begin(m, c, co);
#if LUA_VERSION_RELEASE_NUM >= 50406
  int status = lua_closethread(co, L);
#else
  int status = lua_resetthread(co);
#endif
  llimits_end(m, saved);
  return llimits_results(L, co, status, 0);
}

/* limits.spend(n): n instructions' worth of work done in one (the
 * sandbox's collectgarbage). */
static int llimits_lua_spend(lua_State *L) {
  llimits_spend(L, luaL_checkinteger(L, 1));
  return 0;
}

static int llimits_spent(lua_State *L) {
  llimits *m = llimits_get(L);
  lua_pushboolean(L, m->meter && m->meter->out);
  return 1;
}

/* The most of an error message kept: an adapter's error may be any size
 * (a page's text in it), and every copy of it on its way to the log, the
 * stats and the embedding callback would cost as much. */
#define LLIMITS_MESSAGE_MAX 8192

/* Pushes the value at idx as a string (luaL_tolstring), cut to
 * LLIMITS_MESSAGE_MAX bytes with a note of how much was left out. */
static const char *llimits_push_error(lua_State *L, int idx) {
  size_t len;
  const char *s = luaL_tolstring(L, idx, &len);
  if (len <= LLIMITS_MESSAGE_MAX) return s;
  size_t keep = LLIMITS_MESSAGE_MAX;
  while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) keep--;  /* not inside a UTF-8 sequence */
  const char *cut = lua_pushfstring(L, "%s ... (%I bytes more)", lua_pushlstring(L, s, keep), (lua_Integer)(len - keep));
  lua_replace(L, -3);
  lua_pop(L, 1);
  return cut;
}

static int llimits_message(lua_State *L) {
  llimits_push_error(L, 1);
  return 1;
}

/* A message handler: what debug.traceback does, but the error object is
 * made a string here too (its __tostring is the adapter's code, and must
 * run under the budget, not later in the crawl's), and cut. */
static int llimits_traceback(lua_State *L) {
  luaL_traceback(L, L, llimits_push_error(L, 1), 1);
  llimits *m = llimits_of(L);
  llimits_meter *c = m ? m->meter : NULL;
  if (c && c->out && !c->trace[0]) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len >= sizeof c->trace) len = sizeof c->trace - 1;
    memcpy(c->trace, s, len);
    c->trace[len] = '\0';
  }
  return 1;
}

static int llimits_meter_out(lua_State *L) {
  llimits_meter *c = llimits_check_meter(L, 1);
  if (!c->out) lua_pushnil(L);
  else if (c->trace[0]) lua_pushstring(L, c->trace);
  else llimits_push_message(L, c);
  return 1;
}

static int llimits_meter_left(lua_State *L) {
  lua_pushinteger(L, llimits_check_meter(L, 1)->left);
  return 1;
}

static int llimits_meter_refused(lua_State *L) {
  lua_pushboolean(L, llimits_check_meter(L, 1)->refused);
  return 1;
}

static int llimits_cap(lua_State *L) {
  llimits *m = llimits_get(L);
  lua_pushinteger(L, (lua_Integer)m->cap);
  if (!lua_isnoneornil(L, 1)) {
    lua_Integer cap = luaL_checkinteger(L, 1);
    luaL_argcheck(L, cap >= 0, 1, "must not be negative");
    m->cap = (size_t)cap;
  }
  return 1;
}

static int llimits_active(lua_State *L) {
  lua_pushboolean(L, llimits_get(L)->meter != NULL);
  return 1;
}

static int llimits_module(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"cap", llimits_cap}, {"active", llimits_active}, {"meter", llimits_meter_new}, {"pcall", llimits_pcall},
    {"resume", llimits_resume}, {"close", llimits_close}, {"spend", llimits_lua_spend}, {"spent", llimits_spent},
    {"message", llimits_message}, {"traceback", llimits_traceback}, {NULL, NULL},
  };
  static const luaL_Reg meter_methods[] = {
    {"out", llimits_meter_out}, {"left", llimits_meter_left}, {"refused", llimits_meter_refused}, {NULL, NULL},
  };
  if (luaL_newmetatable(L, LLIMITS_METER)) {
    luaL_newlib(L, meter_methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
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
    atomic_init(&m->interrupted, 0);
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
