/* lglean.h — what the Lua binding files share: the per-state runtime (logger,
 * record sink, waits for the network) and each part's registration
 * function. */
#ifndef GLEAN_LGLEAN_H
#define GLEAN_LGLEAN_H

#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <stdbool.h>

#include "log.h"
#include "mem.h"
#include "sink.h"

struct fetch_engine;

typedef struct lglean_runtime {
  logger log;
  sink *records;        /* the runtime's own: stdout's, or the host's callback */
  bool records_stdout;  /* records is stdout's (not the host's) */
  /* Where glean.emit writes (records among them, or not): borrowed from
   * the Sinks a crawl opened (glean.set_outputs). */
  sink **sinks;
  size_t nsinks;
  /* So that another thread can cut short this state's waits for the
   * network (lglean_wakeup): the engine it is blocked in, if any, and a
   * wakeup that came while it was not. */
  pthread_mutex_t wait_lock;
  struct fetch_engine *waiting;
  bool wake_pending;
  mem_allocator mem;  /* see lglean_mem */
} lglean_runtime;

/* The state's allocator, for the core's allocations made on this state's
 * behalf (buffers, parsed documents, frontiers): what they hold counts
 * against the memory limit, and while adapter code runs they are refused
 * past it, as Lua's own are. Valid while the state is. */
const mem_allocator *lglean_mem(lua_State *L);

/* Pushes b's contents as a string and frees b; raises "not enough memory"
 * if building b failed. */
struct buf;
void lglean_push_buf(lua_State *L, struct buf *b);

/* The runtime of this Lua state (created by luaopen_glean). */
lglean_runtime *lglean_get(lua_State *L);

/* Makes s the state's record sink, closing the one it had (stdout's at
 * first); the runtime owns s from then on. */
void lglean_set_records(lglean_runtime *rt, sink *s);

/* Makes emit write to the n sinks of list (borrowed: the caller keeps them
 * until it sets others), records first if with_records; list NULL: records
 * alone. Returns -1 out of memory. */
int lglean_set_outputs(lglean_runtime *rt, sink *const *list, size_t n, bool with_records);
/* A sink being closed leaves the outputs. */
void lglean_remove_sink(lglean_runtime *rt, sink *s);
/* Where emit writes now, in order (for crawl state: their positions). */
sink **lglean_sinks(lglean_runtime *rt, size_t *n);

/* Makes glean.records (the crawl state's hold on the record sinks)
 * requirable (lrecords.c). */
void lrecords_open(lua_State *L);

/* Any thread: makes the state's wait for the network (fetch_run) return
 * now, or its next wait return at once if it is not waiting. */
void lglean_wakeup(lglean_runtime *rt);

/* Around each fetch_run (lfetch.c): returns the timeout to use (0 after a
 * wakeup that came early). */
int lglean_wait_begin(lglean_runtime *rt, struct fetch_engine *e, int timeout_ms);
void lglean_wait_end(lglean_runtime *rt);

/* A Document in two steps, so that raising (out of memory) cannot lose a
 * tree: ldom_push_document pushes an empty one, ldom_set_document gives it
 * dom, which it owns from then on even if that call raises (over the
 * memory limit: "not enough memory"). See ldom.c. */
struct dom_doc;
struct ldom_doc;
struct ldom_doc *ldom_push_document(lua_State *L);
void ldom_set_document(lua_State *L, struct ldom_doc *d, struct dom_doc *dom, const char *url);

/* Bytes the state holds outside Lua's heap (parsed documents), counted
 * against its memory limit (llimits.c). lglean_charge returns -1, charging
 * nothing, when adapter code is running and they would take the state past
 * the limit. */
int lglean_charge(lua_State *L, size_t bytes);
void lglean_uncharge(lua_State *L, size_t bytes);
/* The memory limit in bytes (0: none), and what the state may still take
 * under it (SIZE_MAX: no limit): for what the core holds for it outside
 * adapter code, where the limit refuses nothing (responses in flight). */
size_t lglean_limit(lua_State *L);
size_t lglean_room(lua_State *L);

/* Wraps the state's allocator (once) and makes glean.limits requirable. */
void llimits_open(lua_State *L);

/* For C code that can run long without running a Lua instruction, which
 * the budget's count hook would not see (lpattern.c, lcharged.c, ldom.c,
 * ljson.c, lregex.c): whether a call of adapter code is in progress, and n
 * instructions' worth of work taken off its budget, raising the hook's
 * "time limit exceeded" error once it has run out or its seconds have
 * passed (nothing outside adapter calls). */
bool llimits_limited(lua_State *L);
void llimits_spend(lua_State *L, lua_Integer n);
/* Bytes of such C work (copied, scanned, decoded) charged as one
 * instruction: about what a Lua instruction costs, so that the instruction
 * limit bounds wall time whatever a call does. */
#define LGLEAN_STEP_BYTES 16
/* For C code that cannot raise where it is (the selector engine, between
 * its steps): whether the adapter call in progress has run out of seconds
 * or was interrupted; llimits_spend then raises its error. */
bool llimits_expired(lua_State *L);
/* For C code that bounds its own work (the selector engine's step budget):
 * what the adapter call in progress may still spend, or -1 outside one. */
lua_Integer llimits_left(lua_State *L);
/* Whether an adapter call is in progress under a time limit (instructions
 * or seconds): the limits an adapter may not raise then hold. */
bool llimits_timed(lua_State *L);
/* The embedding API's glean_cancel: llimits_get_interrupt, on the state's
 * thread, gives the state's limits (NULL: none). From any thread then,
 * llimits_cancel(m, true) ends the adapter code running and any that
 * starts later as glean_lua_interrupt does, with the error "cancelled";
 * llimits_cancel(m, false) lets adapter code run again. Both return
 * whether it was set before; llimits_cancelled says whether it is. One
 * atomic, so a cancel racing the end of a call is never half taken. */
typedef struct llimits llimits;
llimits *llimits_get_interrupt(lua_State *L);
bool llimits_cancel(llimits *m, bool on);
bool llimits_cancelled(llimits *m);
/* Replaces Lua's own functions in the loaded library lib (string, table)
 * with wrappers, each a C closure whose upvalue 1 is the function it
 * replaces (for when no adapter call is active). Functions that are not
 * Lua's own (already wrapped, or a host's replacement) stay. */
void lglean_wrap_lib(lua_State *L, const char *lib, const luaL_Reg *wrappers);

/* Makes the state's string.find, match, gmatch and gsub charge their
 * matching to that budget in adapter calls (once; lpattern.c). */
void lpattern_open(lua_State *L);

/* Makes the state's string.rep and the table functions that loop charge
 * their steps to that budget in adapter calls (once; lcharged.c). */
void lcharged_open(lua_State *L);

/* Makes glean.path (realpath for the sandbox's folder checks) requirable. */
void lpath_open(lua_State *L);

/* Makes glean.chunk (the check of compiled adapter code for what Debian's
 * Lua miscompiles) requirable (lchunk.c). */
void lchunk_open(lua_State *L);

/* Makes name an internal module (package.preload, not in the glean table
 * adapters get): a table of funcs, which must be static. */
void lglean_preload(lua_State *L, const char *name, const luaL_Reg *funcs);

/* Each adds its functions to the glean table at the top of the stack. */
void ldom_open(lua_State *L);
/* glean.re (lregex.c): regular expressions, PCRE2. */
void lregex_open(lua_State *L);
void llog_open(lua_State *L);
void lfetch_open(lua_State *L);
void lcrawl_open(lua_State *L);
/* glean.warc (lwarc.c): WARC archives read as responses. */
void lwarc_open(lua_State *L);
/* Pushes a Response (lfetch.c) for a response made outside the engine (a
 * WARC record's): it owns res from then on, charged to the memory limit
 * as a fetched one is. */
struct fetch_response;
void lfetch_push_owned(lua_State *L, struct fetch_response *res);
void ltime_open(lua_State *L);
void lsink_open(lua_State *L);

#endif
