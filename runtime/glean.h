/* glean.h — the public interface of libglean, the Lua-scriptable scraping
 * runtime: the only header an embedding program includes (pkg-config glean;
 * link -lglean). This header is the reference for the embedding API.
 *
 * A runtime (glean_runtime) is one Lua interpreter with the glean library,
 * an adapter (a site's Lua file, as `glean run` takes), crawl options, and a
 * log. The host gives it documents it already has (glean_extract) or start
 * URLs (glean_crawl); records come back through a callback as JSON text.
 *
 *   glean_runtime *rt = glean_new();
 *   glean_load_adapter(rt, "sites/coins2day.lua");
 *   glean_callbacks cb = {.record = store, .error = complain, .ud = db};
 *   if (glean_extract(rt, url, html, len, "text/html", &cb) != GLEAN_OK) ...glean_errmsg(rt)...
 *   glean_destroy(rt);
 *
 * Threads. A runtime is used by one thread at a time (any thread, but never
 * two at once); runtimes are independent of each other, so many run in
 * parallel threads, one each. The exception is glean_cancel, which any
 * thread may call at any time while the runtime exists. Callbacks run on
 * the thread that made the call, before it returns; from a callback, only
 * glean_cancel, glean_errmsg and glean_stats may be called on the same
 * runtime (the calls that run Lua return GLEAN_EBUSY). The library keeps
 * no global mutable state beyond libcurl's one-time global initialization,
 * made under pthread_once by the first crawl (or handler's glean.fetch); a
 * host that uses libcurl too calls curl_global_init itself before it
 * starts threads, as libcurl asks.
 *
 * Errors. Calls that can fail return GLEAN_OK (0) or a negative
 * glean_status; glean_errmsg(rt) then says what went wrong, in words fit
 * for a log. Pages that fail are also reported, with their URL, to the
 * error callback.
 *
 * Output. Nothing is written to stdout (an adapter's `print` goes to the
 * log). Diagnostics go to the log: lines "glean: LEVEL: message" on stderr
 * unless the host installs its own handler (glean_set_log). The initial
 * level is info, or GLEAN_LOG_LEVEL's if set; option "log-level" sets it. */
#ifndef GLEAN_H
#define GLEAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lua_State;

typedef struct glean_runtime glean_runtime;

typedef enum glean_status {
  GLEAN_OK = 0,
  GLEAN_ENOMEM = -1,      /* out of memory */
  GLEAN_EINVAL = -2,      /* a bad argument: a NULL, an unknown option, a bad value */
  GLEAN_EBUSY = -3,       /* called from inside one of the runtime's callbacks */
  GLEAN_ENOADAPTER = -4,  /* no adapter loaded yet */
  GLEAN_EADAPTER = -5,    /* the adapter could not be read, failed to run, or is not valid */
  GLEAN_ENORULE = -6,     /* no page rule of the adapter matches the URL: nothing was done */
  GLEAN_EPAGE = -7,       /* a page failed (bad document, handler error, record refused);
                             for a crawl: at least one page failed, the others were handled */
  GLEAN_ECRAWL = -8,      /* the crawl could not run (no URLs, a bad option, a stats file) */
  GLEAN_ECANCELLED = -9,  /* the call stopped at glean_cancel */
} glean_status;

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *glean_version(void);

/* A new runtime with default options and no adapter, or NULL if out of
 * memory. */
glean_runtime *glean_new(void);

/* Frees the runtime. Not while another thread may call glean_cancel on it,
 * and not from its callbacks. NULL is ignored. */
void glean_destroy(glean_runtime *rt);

/* What the last call that failed on rt said. Valid until the next call on
 * rt; "" if none failed. */
const char *glean_errmsg(const glean_runtime *rt);

/* ---- options and the log ------------------------------------------------ */

/* Sets an option of `glean run` by its command-line name without the
 * dashes, the value as text: "depth" "2", "mirror" "https://a.com=DIR"
 * (repeatable: each call adds one), "ignore-robots" NULL, "concurrency",
 * "per-host", "delay", "timeout", "retries", "max-queued", "user-agent",
 * "cacert" (a PEM file of CA certificates to verify https servers with, as
 * curl's --cacert), "no-cookies", "out" (a file for the records of crawls
 * and of glean_extract calls besides the record callback, .jsonl, .csv or
 * .sqlite/.db: repeatable; glean_extract keeps its files open across calls
 * and flushes them a second apart, closing them when the options change and
 * in glean_destroy),
 * "format", "table", "fsync" (see README "Where records go"), "stats" (a file for each crawl's final
 * stats), "progress", "log-level" (debug, info, warn, error, off), "cache"
 * (a SQLite file that keeps every response and answers later requests from
 * it), "cache-mode" (fresh: RFC 9111 freshness and revalidation; always: any
 * entry answers; refresh: every request goes out and is stored), "offline"
 * (nothing goes to the network: what the cache lacks fails, error kind
 * offline; see README "Recording a site: the HTTP cache"), "warc-out" (record
 * every HTTP exchange in WARC files: NAME.warc.gz or NAME.warc, written as
 * NAME-00000.warc.gz, ...) and "warc-max-size" (bytes per WARC file, K/M/G
 * suffixes: default 1G; see README "Recording the crawl"), and what
 * adapter code may do: "trust" (adapters loaded after it get the full Lua
 * standard library; without it, no os.execute, io.popen, writing files,
 * package.loadlib, debug or binary chunks, and require only of glean and of
 * modules in the adapter's folder), "memory-limit" (MB of Lua memory the
 * runtime may reach while adapter code runs: default 1024), "time-limit"
 * (Lua instructions one handler call may run: default 1e9, about 10 s) and
 * "time-limit-seconds" (its wall time: default 10); 0 for no limit. A handler past a limit fails its page, in glean_extract as
 * in a crawl, with an error naming the limit, and the runtime goes on. A
 * flag (ignore-robots, no-cookies, offline, trust) takes NULL or "true", and "false"
 * to clear it. Options apply to the crawls and extractions that follow
 * (trust to the adapters loaded after it); log-level at once. GLEAN_EINVAL
 * for an unknown name or a bad value. */
glean_status glean_set_option(glean_runtime *rt, const char *name, const char *value);

typedef enum glean_log_level {
  GLEAN_LOG_DEBUG,
  GLEAN_LOG_INFO,
  GLEAN_LOG_WARN,
  GLEAN_LOG_ERROR,
} glean_log_level;

typedef void (*glean_log_fn)(void *ud, glean_log_level level, const char *message);

/* Sends the runtime's log messages (those at or above its level) to fn
 * instead of stderr; fn NULL goes back to stderr. */
void glean_set_log(glean_runtime *rt, glean_log_fn fn, void *ud);

/* ---- adapters ------------------------------------------------------------ */

/* Loads the adapter in the Lua file at path (its folder goes on the module
 * path for the helpers it requires), replacing any loaded before.
 * GLEAN_EADAPTER if it cannot be read, raises an error or is not a valid
 * adapter, GLEAN_ECANCELLED if glean_cancel ended its main chunk; the one
 * loaded before, if any, stays. */
glean_status glean_load_adapter(glean_runtime *rt, const char *path);

/* The same from source text; name stands for the file in messages. */
glean_status glean_load_adapter_string(glean_runtime *rt, const char *source, size_t len,
                                       const char *name);

/* ---- records ------------------------------------------------------------- */

/* One record: a JSON object (keys sorted, no newline), len bytes and
 * NUL-terminated, valid during the call. Returns 0 to take it; anything
 * else refuses it, and the page fails (GLEAN_EPAGE; the error callback
 * hears "emit: refused by the host"). */
typedef int (*glean_record_fn)(void *ud, const char *json, size_t len);

/* A page that failed: its URL and why (a handler's error comes with its Lua
 * traceback). In a crawl: a fetch that failed, an HTTP error status, or a
 * handler error; the crawl goes on. */
typedef void (*glean_error_fn)(void *ud, const char *url, const char *message);

typedef struct glean_callbacks {
  glean_record_fn record;  /* NULL: records are dropped */
  glean_error_fn error;    /* NULL: failures are only returned (and, in a crawl, logged) */
  void *ud;                /* passed to both */
} glean_callbacks;

/* Runs the adapter's page rule for url (the first whose path pattern or
 * match function takes it) on a document the host already has: bytes, len
 * bytes long, of the given Content-Type (its charset parameter, if any, is
 * the encoding announced; NULL: none, the document's own declarations or
 * UTF-8 detection decide). Records go to cb->record. Returns GLEAN_OK (the
 * rule ran, perhaps with no record), GLEAN_ENORULE, GLEAN_EPAGE (the error
 * callback was told too; the runtime stays usable), GLEAN_ECANCELLED (the
 * same, the page stopped by glean_cancel), GLEAN_ENOADAPTER. */
glean_status glean_extract(glean_runtime *rt, const char *url, const void *bytes, size_t len,
                           const char *content_type, const glean_callbacks *cb);

/* Crawls from the n URLs given (n 0: the adapter's start_urls) as
 * `glean run` does, with the options set; records and failed pages go to
 * the callbacks as they come. Returns when the crawl is done: GLEAN_OK,
 * GLEAN_EPAGE (some pages failed), GLEAN_ECANCELLED (glean_cancel),
 * GLEAN_ECRAWL, GLEAN_ENOADAPTER. */
glean_status glean_crawl(glean_runtime *rt, const char *const *urls, size_t n, const glean_callbacks *cb);

/* Runs the adapter over the responses archived in the WARC file at path
 * (.warc or .warc.gz, one gzip member per record or one for all) as `glean
 * run --warc-in` does, with the options set: each response (or resource)
 * record a page rule handles goes to its parse with the archived status,
 * headers and body (chunked coding and Content-Encoding undone, the charset
 * of the archived Content-Type), revisits as the record they point to;
 * links are not followed. Records and failed pages go to the callbacks as
 * in glean_crawl, which it returns as; damaged records are warnings in the
 * log (file and byte offset), passed over. GLEAN_ECRAWL if the file cannot
 * be opened. The stats (glean_stats) are a crawl's, with warc_records and
 * warc_skipped. */
glean_status glean_extract_warc(glean_runtime *rt, const char *path, const glean_callbacks *cb);

/* The same over len bytes of WARC records at data (one copy is made while
 * the call runs). */
glean_status glean_extract_warc_memory(glean_runtime *rt, const void *data, size_t len, const glean_callbacks *cb);

/* Any thread, any time while rt exists: the glean_crawl or glean_extract
 * running in rt stops promptly and cleanly and returns GLEAN_ECANCELLED;
 * if none is running, the next one does so at once. The call it stopped
 * spends the request (one that comes as a call ends may be taken by it or
 * by the next). A crawl drops its requests in flight; records already
 * emitted stay whole, the stats are final. The adapter code running (a
 * handler, a page rule) ends as at its time limit, with the error
 * "cancelled: the host called glean_cancel", and its page fails (the
 * error callback hears of it): a loop in Lua within a few instructions, a
 * C call that counts its work (selectors, patterns, the string and table
 * functions, JSON, text) at its next check of the budget; a C call that
 * does not (a parse; table.move through C metamethods with the time limits
 * off) ends first. An adapter's main chunk still running in
 * glean_load_adapter ends too (GLEAN_ECANCELLED). glean_set_option is not
 * affected. */
void glean_cancel(glean_runtime *rt);

/* The runtime's counts since glean_new, as a JSON object:
 *   {"crawl":STATS,"crawls":N,"documents":N,"errors":N,"records":N}
 * the last crawl's stats as `glean run --stats` writes them (pages,
 * records, failed, elapsed, interrupted, ...; null before the first
 * crawl), crawls run, documents given to glean_extract, failed pages
 * reported, and records delivered (taken by the record callback, or
 * dropped for want of one). Valid until the next call on rt; NULL if out
 * of memory. */
const char *glean_stats(glean_runtime *rt);

/* ---- Lua ----------------------------------------------------------------- */

/* Opens the glean Lua library into L and pushes its table: what
 * `require "glean"` returns (glean.so does this for a stock Lua 5.4). */
int luaopen_glean(struct lua_State *L);

/* Async-signal-safe (for a signal handler): ends the adapter code running
 * in L, and any that starts in it later, as a time limit does, with the
 * error "interrupted: stopping now"; a crawl's handler fails its page. The
 * glean command calls it on a second Ctrl-C or SIGTERM. */
void glean_lua_interrupt(struct lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
