/* lfetch.c — the fetch engine for Lua: Engine and Response userdata.
 *
 * This is the low layer under glean.fetch / glean.fetch_all (in
 * runtime/lua/glean/init.lua), which make Lua code that looks blocking
 * yield to the scheduler while the engine works:
 *   local eng = glean.engine({concurrency = 32, mirrors = {...}})
 *   local eng = glean.engine({cache = "site.cache", cache_mode = "always", offline = true})
 *   local id = eng:submit({url = u, html = true})
 *   local pending, done = eng:run(100)   -- done: {[id] = Response, ...}
 * Completion callbacks only queue the C response; Lua objects are made
 * after fetch_run returns, so no Lua error can unwind through libcurl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "dom.h"
#include "fetch.h"
#include "lglean.h"
#include "ljson.h"

#define LFETCH_ENGINE "glean.Engine"
#define LFETCH_RESPONSE "glean.Response"

typedef struct lfetch_engine {
  fetch_engine *eng;
  logger log;
  fetch_response **done;  /* delivered by fetch_run, not yet given to Lua */
  size_t n_done, cap_done;
  lua_State *L;           /* the state's main thread, for body_room */
  size_t parse_max;       /* see lfetch_parse_after (0: no bound) */
} lfetch_engine;

/* What the worker thread made of an HTML body. */
typedef struct lfetch_parsed {
  dom_doc *doc;
  char err[200];
} lfetch_parsed;

typedef struct lfetch_response {
  fetch_response *res;   /* NULL once closed */
  size_t charged;        /* what it holds, counted against the memory limit */
} lfetch_response;

/* ---- options ---------------------------------------------------------------- */

static int lfetch_opt(lua_State *L, int t, const char *key, int type, const char *what) {
  int got = lua_getfield(L, t, key);
  if (got == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (got != type) luaL_error(L, "bad option '%s' (%s expected, got %s)", key, what, luaL_typename(L, -1));
  return 1; /* value left on the stack */
}

static lua_Number lfetch_opt_number(lua_State *L, int t, const char *key, lua_Number dflt) {
  if (!lfetch_opt(L, t, key, LUA_TNUMBER, "number")) return dflt;
  lua_Number n = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (n < 0) luaL_error(L, "bad option '%s' (must not be negative)", key);
  return n;
}

static int lfetch_opt_bool(lua_State *L, int t, const char *key, int dflt) {
  if (!lfetch_opt(L, t, key, LUA_TBOOLEAN, "boolean")) return dflt;
  int b = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return b;
}

/* Strings stay referenced by the options table for the call's duration. */
static const char *lfetch_opt_string(lua_State *L, int t, const char *key) {
  if (!lfetch_opt(L, t, key, LUA_TSTRING, "string")) return NULL;
  const char *s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

/* cache_mode = "fresh" | "always" | "refresh" (fetch.h's fetch_cache_mode). */
static fetch_cache_mode lfetch_opt_cache_mode(lua_State *L, int t) {
  static const char *const modes[] = {"fresh", "always", "refresh"};
  const char *mode = lfetch_opt_string(L, t, "cache_mode");
  if (!mode) return FETCH_CACHE_FRESH;
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
    if (strcmp(mode, modes[i]) == 0) return (fetch_cache_mode)i;
  return (fetch_cache_mode)luaL_error(L, "bad option 'cache_mode' (fresh, always or refresh expected, got '%s')", mode);
}

/* retry_errors = {"dns", "timeout", ...}: the kinds retried, as a mask. */
static unsigned lfetch_opt_kinds(lua_State *L, int t, const char *key, unsigned dflt) {
  if (!lfetch_opt(L, t, key, LUA_TTABLE, "table")) return dflt;
  unsigned mask = 0;
  lua_Integer n = luaL_len(L, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    const char *name = lua_tostring(L, -1);
    int k = FETCH_OK + 1;
    for (; name && k < FETCH_ERROR_KINDS; k++)
      if (strcmp(name, fetch_error_name((fetch_error)k)) == 0) break;
    if (!name || k == FETCH_ERROR_KINDS)
      luaL_error(L, "bad option '%s' (error kinds expected, got '%s')", key, name ? name : luaL_typename(L, -1));
    mask |= 1u << k;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return mask;
}

/* retry_statuses = {429, 503, ...} into out (at most max); returns how
 * many, or -1 if the option is absent. */
static int lfetch_opt_statuses(lua_State *L, int t, const char *key, int *out, int max) {
  if (!lfetch_opt(L, t, key, LUA_TTABLE, "table")) return -1;
  lua_Integer n = luaL_len(L, -1);
  if (n > max) luaL_error(L, "bad option '%s' (at most %d statuses)", key, max);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    int isnum;
    lua_Integer status = lua_tointegerx(L, -1, &isnum);
    if (!isnum || status < 100 || status > 599) luaL_error(L, "bad option '%s' (HTTP statuses 100-599 expected)", key);
    out[i - 1] = (int)status;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return (int)n;
}

static int lfetch_ms(lua_Number seconds) {
  double ms = seconds * 1000.0;
  return ms > 2e9 ? 2000000000 : (int)ms;
}

/* ---- engine ----------------------------------------------------------------- */

static lfetch_engine *lfetch_check_engine(lua_State *L, int idx) {
  lfetch_engine *le = luaL_checkudata(L, idx, LFETCH_ENGINE);
  if (!le->eng) luaL_error(L, "engine is closed");
  return le;
}

static void lfetch_on_done(fetch_response *res, void *ud) {
  lfetch_engine *le = ud;
  if (le->n_done == le->cap_done) {
    size_t cap = le->cap_done ? le->cap_done * 2 : 64;
    fetch_response **grown = realloc(le->done, cap * sizeof *grown);
    if (!grown) {
      /* Nowhere to keep it: the waiting coroutine gets a cancelled reply. */
      res->error = FETCH_CANCELLED;
      fetch_response_free(res);
      return;
    }
    le->done = grown;
    le->cap_done = cap;
  }
  le->done[le->n_done++] = res;
}

static void lfetch_free_parsed(void *p) {
  lfetch_parsed *parsed = p;
  dom_free(parsed->doc);
  free(parsed);
}

static bool lfetch_is_html(const char *type) {
  return !type || strcmp(type, "text/html") == 0 || strcmp(type, "application/xhtml+xml") == 0;
}

/* Worker thread: parse HTML bodies so the Lua thread never waits on Gumbo.
 * A tree built here is charged to the memory limit only when it reaches
 * the handler, so the workers could build as many big ones at once as
 * there are workers, outside any bound. So a body past parse_max is left
 * to resp:html(), which parses it on the Lua thread counted as it grows
 * (and refused past the limit). parse_max is limit / (16 x workers): a
 * tree takes a few times its HTML, so what all workers build at once stays
 * well under the limit, while the pages of a usual crawl (tens of KB, or
 * a few hundred under a 32 MB limit) keep being parsed off the Lua thread,
 * which is what makes a crawl fast. The waiting alternative (a shared
 * budget workers charge as the tree grows) would need Gumbo's allocations
 * counted across threads, and would stall workers behind one big page. */
static void lfetch_parse_after(fetch_response *res, void *ud) {
  const lfetch_engine *le = ud;
  if (res->error != FETCH_OK || !lfetch_is_html(res->content_type)) return;
  if (le->parse_max && res->body.len > le->parse_max) return;
  lfetch_parsed *parsed = calloc(1, sizeof *parsed);
  if (!parsed) return;
  dom_options opts = {.charset = res->charset};
  parsed->doc = dom_parse(buf_str(&res->body), res->body.len, &opts, parsed->err, sizeof parsed->err);
  res->result = parsed;
  res->free_result = lfetch_free_parsed;
}

/* The engine's body_room: what the state may still take under its memory
 * limit, the bodies of responses in flight included (each is charged when
 * it reaches Lua: lfetch_run). Garbage counts until it is collected, so a
 * response that would pass the limit first gets a full collection. Only
 * the runtime's finalizers can run in it: the sandbox refuses __gc. */
static size_t lfetch_body_room(void *ud, size_t want) {
  lua_State *L = ud;
  size_t room = lglean_room(L);
  if (want > room) {
    lua_gc(L, LUA_GCCOLLECT);
    room = lglean_room(L);
  }
  return room;
}

/* Reads mirrors given as {["https://a.com"] = "DIR_OR_URL"} or as a list of
 * "ORIGIN=LOCATION" strings (as on the command line). */
static size_t lfetch_read_mirrors(lua_State *L, int t, fetch_mirror *out, size_t max) {
  size_t n = 0;
  if (!lfetch_opt(L, t, "mirrors", LUA_TTABLE, "table")) return 0;
  int m = lua_gettop(L);
  lua_newtable(L); /* keeps the origins cut out of "ORIGIN=LOCATION" alive */
  int anchor = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, m)) {
    if (n == max) luaL_error(L, "bad option 'mirrors' (at most %d)", (int)max);
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
      out[n].origin = lua_tostring(L, -2);
      out[n].location = lua_tostring(L, -1);
    } else if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TSTRING) {
      const char *spec = lua_tostring(L, -1);
      const char *eq = strchr(spec, '=');
      if (!eq || eq == spec || !eq[1]) luaL_error(L, "bad mirror '%s' (ORIGIN=LOCATION expected)", spec);
      lua_pushlstring(L, spec, (size_t)(eq - spec));
      out[n].origin = lua_tostring(L, -1);
      lua_rawseti(L, anchor, (lua_Integer)n + 1);
      out[n].location = eq + 1;
    } else {
      luaL_error(L, "bad option 'mirrors' (origin = location pairs or 'ORIGIN=LOCATION' strings expected)");
    }
    n++;
    lua_pop(L, 1);
  }
  return n; /* the mirrors and anchor tables stay on the stack */
}

/* glean.engine([opts]) -> Engine */
static int lfetch_engine_new(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  fetch_config cfg;
  fetch_config_defaults(&cfg);
  cfg.max_in_flight = (int)lfetch_opt_number(L, 1, "concurrency", cfg.max_in_flight);
  cfg.max_per_host = (int)lfetch_opt_number(L, 1, "per_host", cfg.max_per_host);
  cfg.host_delay_ms = lfetch_ms(lfetch_opt_number(L, 1, "delay", cfg.host_delay_ms / 1000.0));
  cfg.connect_timeout_ms = lfetch_ms(lfetch_opt_number(L, 1, "connect_timeout", cfg.connect_timeout_ms / 1000.0));
  cfg.timeout_ms = lfetch_ms(lfetch_opt_number(L, 1, "timeout", cfg.timeout_ms / 1000.0));
  cfg.deadline_ms = lfetch_ms(lfetch_opt_number(L, 1, "deadline", cfg.deadline_ms / 1000.0));
  cfg.low_speed_limit = (long)lfetch_opt_number(L, 1, "low_speed_limit", (lua_Number)cfg.low_speed_limit);
  cfg.low_speed_time = (long)lfetch_opt_number(L, 1, "low_speed_time", (lua_Number)cfg.low_speed_time);
  cfg.max_headers = (size_t)lfetch_opt_number(L, 1, "max_headers", (lua_Number)cfg.max_headers);
  cfg.max_header_bytes = (size_t)lfetch_opt_number(L, 1, "max_header_bytes", (lua_Number)cfg.max_header_bytes);
  cfg.max_queued_body = (size_t)lfetch_opt_number(L, 1, "max_queued_body", (lua_Number)cfg.max_queued_body);
  cfg.max_body = (size_t)lfetch_opt_number(L, 1, "max_body", (lua_Number)cfg.max_body);
  cfg.max_redirects = (int)lfetch_opt_number(L, 1, "max_redirects", cfg.max_redirects);
  cfg.follow_redirects = lfetch_opt_bool(L, 1, "redirects", cfg.follow_redirects);
  cfg.retries = (int)lfetch_opt_number(L, 1, "retries", cfg.retries);
  cfg.backoff_ms = lfetch_ms(lfetch_opt_number(L, 1, "backoff", cfg.backoff_ms / 1000.0));
  cfg.backoff_max_ms = lfetch_ms(lfetch_opt_number(L, 1, "backoff_max", cfg.backoff_max_ms / 1000.0));
  cfg.retry_errors = lfetch_opt_kinds(L, 1, "retry_errors", cfg.retry_errors);
  int statuses[500];
  int n_statuses = lfetch_opt_statuses(L, 1, "retry_statuses", statuses, 500);
  if (n_statuses >= 0) {
    cfg.retry_statuses = statuses;
    cfg.n_retry_statuses = (size_t)n_statuses;
  }
  cfg.cookies = lfetch_opt_bool(L, 1, "cookies", cfg.cookies);
  cfg.allow_file = lfetch_opt_bool(L, 1, "allow_file", cfg.allow_file);
  cfg.workers = (int)lfetch_opt_number(L, 1, "workers", cfg.workers);
  const char *ua = lfetch_opt_string(L, 1, "user_agent");
  if (ua) cfg.user_agent = ua;
  const char *proxy = lfetch_opt_string(L, 1, "proxy");
  if (proxy) cfg.proxy = proxy;
  cfg.cacert = lfetch_opt_string(L, 1, "cacert");
  cfg.cache = lfetch_opt_string(L, 1, "cache");
  cfg.cache_mode = lfetch_opt_cache_mode(L, 1);
  cfg.offline = lfetch_opt_bool(L, 1, "offline", cfg.offline);
  cfg.warc_out = lfetch_opt_string(L, 1, "warc_out");
  cfg.warc_max_size = (uint64_t)lfetch_opt_number(L, 1, "warc_max_size", (lua_Number)cfg.warc_max_size);
  if (cfg.max_in_flight < 1 || cfg.max_per_host < 1) luaL_error(L, "bad option: concurrency and per_host must be at least 1");
  fetch_mirror mirrors[64];
  cfg.n_mirrors = lfetch_read_mirrors(L, 1, mirrors, sizeof mirrors / sizeof *mirrors);
  cfg.mirrors = mirrors;

  lfetch_engine *le = lua_newuserdatauv(L, sizeof *le, 0);
  memset(le, 0, sizeof *le);
  luaL_setmetatable(L, LFETCH_ENGINE);
  le->log = lglean_get(L)->log;
  cfg.log = &le->log;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  le->L = lua_tothread(L, -1);
  lua_pop(L, 1);
  cfg.body_room = lfetch_body_room;
  cfg.body_room_ud = le->L;
  long workers = cfg.workers > 0 ? cfg.workers : sysconf(_SC_NPROCESSORS_ONLN);
  le->parse_max = lglean_limit(L) / (16 * (size_t)(workers > 0 ? workers : 1));
  if (lglean_limit(L) && !le->parse_max) le->parse_max = 1;
  char err[256];
  le->eng = fetch_new(&cfg, err, sizeof err);
  if (!le->eng) return luaL_error(L, "engine: %s", err);
  return 1;
}

static void lfetch_drop_done(lfetch_engine *le) {
  for (size_t i = 0; i < le->n_done; i++) fetch_response_free(le->done[i]);
  le->n_done = 0;
}

static int lfetch_engine_close(lua_State *L) {
  lfetch_engine *le = luaL_checkudata(L, 1, LFETCH_ENGINE);
  if (le->eng) fetch_free(le->eng);
  le->eng = NULL;
  lfetch_drop_done(le);
  free(le->done);
  le->done = NULL;
  le->cap_done = 0;
  return 0;
}

/* Builds a URL with query parameters appended (opts.query = {k = v, ...}),
 * sorted by key so requests are reproducible. */
static const char *lfetch_url_with_query(lua_State *L, int req, const char *url) {
  if (!lfetch_opt(L, req, "query", LUA_TTABLE, "table")) return url;
  int q = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "glean");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "urlencode");
  lua_pushvalue(L, q);
  lua_call(L, 1, 1);
  const char *qs = lua_tostring(L, -1);
  /* The parameters go before a fragment, after any query already there. */
  size_t end = strcspn(url, "#");
  const char *sep = memchr(url, '?', end) ? "&" : "?";
  if (!*qs) sep = "";
  lua_pushlstring(L, url, end);
  lua_pushfstring(L, "%s%s%s%s", lua_tostring(L, -1), sep, qs, url + end);
  lua_replace(L, q);
  lua_settop(L, q);
  return lua_tostring(L, q); /* anchored at q until the call returns */
}

/* eng:submit(request) -> id. request: url, method, headers, query, body |
 * form | json, timeout, connect_timeout, deadline, low_speed_limit,
 * low_speed_time, redirects, max_redirects, max_body, retries, idempotent,
 * proxy, user_agent, cacert, html (parse the body on a worker thread). */
static int lfetch_submit(lua_State *L) {
  lfetch_engine *le = lfetch_check_engine(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *url = lfetch_opt_string(L, 2, "url");
  if (!url) return luaL_error(L, "bad request (url expected)");
  url = lfetch_url_with_query(L, 2, url);

  fetch_request req;
  fetch_request_init(&req, url);
  req.method = lfetch_opt_string(L, 2, "method");
  req.proxy = lfetch_opt_string(L, 2, "proxy");
  req.user_agent = lfetch_opt_string(L, 2, "user_agent");
  req.cacert = lfetch_opt_string(L, 2, "cacert");
  /* Numbers as the engine's options are read: a negative one is refused,
   * not taken for "the engine's" (or, for max_body, for no limit at all). */
  lua_Number n;
  if ((n = lfetch_opt_number(L, 2, "timeout", -1)) >= 0) req.timeout_ms = lfetch_ms(n);
  if ((n = lfetch_opt_number(L, 2, "connect_timeout", -1)) >= 0) req.connect_timeout_ms = lfetch_ms(n);
  if ((n = lfetch_opt_number(L, 2, "deadline", -1)) >= 0) req.deadline_ms = lfetch_ms(n);
  if ((n = lfetch_opt_number(L, 2, "low_speed_limit", -1)) >= 0) req.low_speed_limit = (long)n;
  if ((n = lfetch_opt_number(L, 2, "low_speed_time", -1)) >= 0) req.low_speed_time = (long)n;
  if (lfetch_opt(L, 2, "idempotent", LUA_TBOOLEAN, "boolean")) req.idempotent = lua_toboolean(L, -1), lua_pop(L, 1);
  if (lfetch_opt(L, 2, "redirects", LUA_TBOOLEAN, "boolean")) req.follow_redirects = lua_toboolean(L, -1), lua_pop(L, 1);
  if ((n = lfetch_opt_number(L, 2, "max_redirects", -1)) >= 0) req.max_redirects = (int)n;
  if ((n = lfetch_opt_number(L, 2, "retries", -1)) >= 0) req.retries = (int)n;
  if ((n = lfetch_opt_number(L, 2, "max_body", -1)) >= 0) req.max_body = (size_t)n;

  /* Headers: {["Name"] = "value"} or {"Name: value", ...}; kept alive on the stack. */
  const char *headers[128];
  size_t nh = 0;
  const char *body_type = NULL;
  if (lfetch_opt(L, 2, "body", LUA_TSTRING, "string")) {
    req.body = lua_tolstring(L, -1, &req.body_len);
  } else if (lfetch_opt(L, 2, "form", LUA_TTABLE, "table")) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "glean");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "urlencode");
    lua_pushvalue(L, -3);
    lua_call(L, 1, 1);
    req.body = lua_tolstring(L, -1, &req.body_len);
    body_type = "Content-Type: application/x-www-form-urlencoded";
  } else if (lua_getfield(L, 2, "json") != LUA_TNIL) {
    buf *json = ljson_push_buffer(L);
    ljson_encode(L, -2, json);
    lua_pushlstring(L, buf_str(json), json->len);
    req.body = lua_tolstring(L, -1, &req.body_len);
    body_type = "Content-Type: application/json";
  }
  bool has_type = false;
  if (lfetch_opt(L, 2, "headers", LUA_TTABLE, "table")) {
    int h = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, h)) {
      if (nh == sizeof headers / sizeof *headers - 1) return luaL_error(L, "bad request (more than 127 headers)");
      if (!lua_isstring(L, -1)) return luaL_error(L, "bad request (header values must be strings)");
      if (lua_type(L, -2) == LUA_TSTRING) {
        const char *value = lua_tostring(L, -1);
        lua_pushfstring(L, "%s: %s", lua_tostring(L, -2), value);
        lua_remove(L, -2);
      } else if (lua_type(L, -2) != LUA_TNUMBER) {
        return luaL_error(L, "bad request (headers must be name = value pairs or 'Name: value' strings)");
      }
      headers[nh] = lua_tostring(L, -1);
      if (strncasecmp(headers[nh], "content-type:", 13) == 0) has_type = true;
      nh++;
      lua_insert(L, h); /* anchor below the table being iterated */
      h++;
    }
  }
  /* The caller's Content-Type wins: two would reach the server. */
  if (body_type && !has_type) headers[nh++] = body_type;
  /* A body means POST unless a method is named (GET would send it too). */
  if (req.body && !req.method) req.method = "POST";
  req.headers = headers;
  req.n_headers = nh;
  if (lfetch_opt_bool(L, 2, "html", 0)) req.after = lfetch_parse_after;
  req.done = lfetch_on_done;
  req.ud = le;
  uint64_t id = fetch_submit(le->eng, &req);
  if (!id) return luaL_error(L, "fetch: out of memory");
  lua_pushinteger(L, (lua_Integer)id);
  return 1;
}

static lfetch_response *lfetch_push_response(lua_State *L);

/* The tree a worker parsed for res, if any. */
static dom_doc *lfetch_parsed_doc(const fetch_response *res) {
  const lfetch_parsed *parsed = res->free_result == lfetch_free_parsed ? res->result : NULL;
  return parsed ? parsed->doc : NULL;
}

/* What a response holds in C: its body, headers and strings, and the tree
 * a worker parsed. */
static size_t lfetch_held(const fetch_response *res) {
  dom_doc *doc = lfetch_parsed_doc(res);
  size_t n = sizeof *res + res->body.len + res->n_headers * sizeof *res->headers + (doc ? dom_size(doc) : 0);
  for (size_t i = 0; i < res->n_headers; i++) n += strlen(res->headers[i].name) + strlen(res->headers[i].value) + 2;
  return n;
}

/* A response counts against the memory limit from when Lua holds it until
 * it is closed or collected. Where the limit refuses it (adapter code runs
 * eng:run), the response becomes the memory-limit error, naming the URL. */
static void lfetch_charge(lua_State *L, fetch_response *res, lfetch_response *lr) {
  size_t held = lfetch_held(res);
  if (lglean_charge(L, held) == 0) {
    lr->charged = held;
    return;
  }
  size_t len = strlen(res->url) + 200;
  char *message = malloc(len);
  if (!message) luaL_error(L, "not enough memory"); /* the response stays the engine's */
  snprintf(message, len, "%s: memory limit exceeded: its body and headers would pass the %zu bytes left (memory-limit)",
           res->url, lglean_room(L));
  buf_free(&res->body);
  if (res->result && res->free_result) res->free_result(res->result);
  res->result = NULL;
  free(res->message);
  res->message = message;
  res->error = FETCH_MEMORY;
  lr->charged = 0;
}

/* eng:run([timeout_ms]) -> pending, {[id] = Response, ...} or nil */
static int lfetch_run(lua_State *L) {
  lfetch_engine *le = lfetch_check_engine(L, 1);
  int timeout = (int)luaL_optinteger(L, 2, 100);
  lglean_runtime *rt = lglean_get(L);
  int pending = fetch_run(le->eng, lglean_wait_begin(rt, le->eng, timeout < 0 ? 0 : timeout));
  lglean_wait_end(rt);
  if (pending < 0) return luaL_error(L, "engine:run called from inside a fetch callback");
  lua_pushinteger(L, pending);
  if (!le->n_done) {
    lua_pushnil(L);
    return 2;
  }
  lua_createtable(L, 0, (int)le->n_done);
  luaL_checkstack(L, 4, NULL);
  /* A response stays the engine's until its userdata holds it: raising
   * (out of memory) loses none. */
  while (le->n_done) {
    fetch_response *res = le->done[le->n_done - 1];
    lua_pushinteger(L, (lua_Integer)res->id);
    lfetch_response *lr = lfetch_push_response(L);
    lfetch_charge(L, res, lr);
    lr->res = res;
    le->n_done--;
    lua_rawset(L, -3);
  }
  return 2;
}

static int lfetch_pending(lua_State *L) {
  lfetch_engine *le = lfetch_check_engine(L, 1);
  lua_pushinteger(L, (lua_Integer)(fetch_pending(le->eng) + le->n_done));
  return 1;
}

static int lfetch_cancel(lua_State *L) {
  fetch_cancel(lfetch_check_engine(L, 1)->eng);
  return 0;
}

static int lfetch_wakeup(lua_State *L) {
  fetch_wakeup(lfetch_check_engine(L, 1)->eng);
  return 0;
}

/* eng:set_host_delay(host, seconds) (nil seconds: the engine's default) */
static int lfetch_set_host_delay(lua_State *L) {
  lfetch_engine *le = lfetch_check_engine(L, 1);
  const char *host = luaL_checkstring(L, 2);
  int ms = lua_isnoneornil(L, 3) ? -1 : lfetch_ms(luaL_checknumber(L, 3));
  if (fetch_set_host_delay(le->eng, host, ms) != 0) return luaL_error(L, "set_host_delay: out of memory");
  return 0;
}

static int lfetch_stats(lua_State *L) {
  lfetch_engine *le = lfetch_check_engine(L, 1);
  fetch_stats st;
  fetch_stats_get(le->eng, &st);
  lua_createtable(L, 0, 14);
  lua_pushinteger(L, (lua_Integer)st.requests), lua_setfield(L, -2, "requests");
  lua_pushinteger(L, (lua_Integer)st.responses), lua_setfield(L, -2, "responses");
  lua_pushinteger(L, (lua_Integer)st.retries), lua_setfield(L, -2, "retries");
  lua_pushinteger(L, (lua_Integer)st.bytes), lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, (lua_Integer)st.queued), lua_setfield(L, -2, "queued");
  lua_pushinteger(L, (lua_Integer)st.in_flight), lua_setfield(L, -2, "in_flight");
  lua_pushinteger(L, (lua_Integer)st.peak_in_flight), lua_setfield(L, -2, "peak_in_flight");
  lua_pushinteger(L, (lua_Integer)st.cache_hits), lua_setfield(L, -2, "cache_hits");
  lua_pushinteger(L, (lua_Integer)st.cache_revalidated), lua_setfield(L, -2, "cache_revalidated");
  lua_pushinteger(L, (lua_Integer)st.cache_stored), lua_setfield(L, -2, "cache_stored");
  lua_pushinteger(L, (lua_Integer)st.cache_errors), lua_setfield(L, -2, "cache_errors");
  lua_newtable(L);
  for (int k = FETCH_OK + 1; k < FETCH_ERROR_KINDS; k++) {
    if (!st.errors[k]) continue;
    lua_pushinteger(L, (lua_Integer)st.errors[k]);
    lua_setfield(L, -2, fetch_error_name((fetch_error)k));
  }
  lua_setfield(L, -2, "errors");
  return 1;
}

/* eng:limits() -> what a request's options override, as they are named
 * there (seconds, bytes, counts): timeout, connect_timeout, deadline,
 * low_speed_limit, low_speed_time, max_body, max_redirects, retries. */
static int lfetch_limits(lua_State *L) {
  const fetch_config *c = fetch_config_of(lfetch_check_engine(L, 1)->eng);
  lua_createtable(L, 0, 8);
  lua_pushnumber(L, c->timeout_ms / 1000.0), lua_setfield(L, -2, "timeout");
  lua_pushnumber(L, c->connect_timeout_ms / 1000.0), lua_setfield(L, -2, "connect_timeout");
  lua_pushnumber(L, c->deadline_ms / 1000.0), lua_setfield(L, -2, "deadline");
  lua_pushinteger(L, c->low_speed_limit), lua_setfield(L, -2, "low_speed_limit");
  lua_pushinteger(L, c->low_speed_time), lua_setfield(L, -2, "low_speed_time");
  lua_pushinteger(L, (lua_Integer)c->max_body), lua_setfield(L, -2, "max_body");
  lua_pushinteger(L, c->max_redirects), lua_setfield(L, -2, "max_redirects");
  lua_pushinteger(L, c->retries), lua_setfield(L, -2, "retries");
  return 1;
}

/* ---- responses -------------------------------------------------------------- */

/* An empty Response: the caller gives it its fetch_response. */
static lfetch_response *lfetch_push_response(lua_State *L) {
  lfetch_response *lr = lua_newuserdatauv(L, sizeof *lr, 1);
  lr->res = NULL;
  lr->charged = 0;
  luaL_setmetatable(L, LFETCH_RESPONSE);
  lua_newtable(L); /* cache of the fields made on demand */
  lua_setiuservalue(L, -2, 1);
  return lr;
}

void lfetch_push_owned(lua_State *L, fetch_response *res) {
  lfetch_response *lr = lfetch_push_response(L);
  lr->res = res;
  lfetch_charge(L, res, lr);
}

static lfetch_response *lfetch_check_response(lua_State *L, int idx) {
  lfetch_response *lr = luaL_checkudata(L, idx, LFETCH_RESPONSE);
  if (!lr->res) luaL_error(L, "response is closed");
  return lr;
}

static int lfetch_response_close(lua_State *L) {
  lfetch_response *lr = luaL_checkudata(L, 1, LFETCH_RESPONSE);
  if (lr->res) fetch_response_free(lr->res);
  lr->res = NULL;
  lglean_uncharge(L, lr->charged);
  lr->charged = 0;
  return 0;
}

/* resp:html() -> Document (parsed once: on a worker if the request asked,
 * else now; with the response URL as base and the HTTP charset). */
static int lfetch_html(lua_State *L) {
  lfetch_response *lr = lfetch_check_response(L, 1);
  fetch_response *res = lr->res;
  lua_getiuservalue(L, 1, 1);
  if (lua_getfield(L, -1, "html") != LUA_TNIL) return 1;
  lua_pop(L, 1);
  lfetch_parsed *parsed = res->result;
  if (parsed && !parsed->doc) return luaL_error(L, "html: %s (%s)", parsed->err, res->url);
  /* Made before the tree changes hands (see ldom_push_document). */
  struct ldom_doc *d = ldom_push_document(L);
  dom_doc *doc;
  if (parsed) {
    doc = parsed->doc;
    parsed->doc = NULL;
    /* The Document charges the tree from here on. */
    size_t tree = dom_size(doc);
    tree = tree < lr->charged ? tree : lr->charged;
    lglean_uncharge(L, tree);
    lr->charged -= tree;
    /* What a second call says if the Document lets the tree go (over the
     * memory limit) before the cache below holds it. */
    snprintf(parsed->err, sizeof parsed->err, "the parsed document was dropped");
  } else {
    char err[256];
    dom_options opts = {.charset = res->charset, .mem = lglean_mem(L)}; /* counted as it is built */
    doc = dom_parse(buf_str(&res->body), res->body.len, &opts, err, sizeof err);
    if (!doc) return luaL_error(L, "html: %s (%s)", err, res->url);
  }
  ldom_set_document(L, d, doc, res->url);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "html");
  return 1;
}

static void lfetch_push_headers(lua_State *L, const fetch_response *res) {
  /* name -> value; a repeated header's values are joined with ", " except
   * set-cookie, whose values are kept as a list (they may contain commas).
   * Each name's values are gathered in a list first and joined once: joined
   * as they came, N repeats would copy N^2 / 2 values. */
  lua_createtable(L, 0, (int)res->n_headers);
  lua_createtable(L, 0, 0); /* name -> list of its values */
  for (size_t i = 0; i < res->n_headers; i++) {
    const fetch_header *h = &res->headers[i];
    if (lua_getfield(L, -1, h->name) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, h->name);
    }
    lua_pushstring(L, h->value);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    int list = lua_gettop(L);
    if (strcmp(lua_tostring(L, -2), "set-cookie") != 0) {
      lua_Integer n = (lua_Integer)lua_rawlen(L, list);
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (lua_Integer k = 1; k <= n; k++) {
        if (k > 1) luaL_addlstring(&b, ", ", 2);
        lua_rawgeti(L, list, k);
        luaL_addvalue(&b);
      }
      luaL_pushresult(&b);
      lua_remove(L, list);
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -5);  /* headers[name] = value, below lists, name */
  }
  lua_pop(L, 1);
}

static int lfetch_response_index(lua_State *L) {
  lfetch_response *lr = luaL_checkudata(L, 1, LFETCH_RESPONSE);
  const char *key = luaL_checkstring(L, 2);
  lua_getmetatable(L, 1);
  if (lua_getfield(L, -1, key) != LUA_TNIL) return 1; /* a method */
  if (!lr->res) return luaL_error(L, "response is closed");
  const fetch_response *res = lr->res;
  lua_getiuservalue(L, 1, 1);
  if (lua_getfield(L, -1, key) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  if (strcmp(key, "status") == 0) lua_pushinteger(L, res->status);
  else if (strcmp(key, "ok") == 0) lua_pushboolean(L, res->error == FETCH_OK && res->status >= 200 && res->status < 300);
  else if (strcmp(key, "url") == 0) lua_pushstring(L, res->url);
  else if (strcmp(key, "body") == 0) lua_pushlstring(L, buf_str(&res->body), res->body.len);
  else if (strcmp(key, "size") == 0) lua_pushinteger(L, (lua_Integer)res->body.len); /* without copying the body */
  else if (strcmp(key, "headers") == 0) lfetch_push_headers(L, res);
  else if (strcmp(key, "content_type") == 0) lua_pushstring(L, res->content_type);
  else if (strcmp(key, "charset") == 0) lua_pushstring(L, res->charset);
  else if (strcmp(key, "http_version") == 0) lua_pushstring(L, res->http_version);
  else if (strcmp(key, "redirects") == 0) lua_pushinteger(L, res->redirects);
  else if (strcmp(key, "tries") == 0) lua_pushinteger(L, res->tries);
  else if (strcmp(key, "error") == 0) res->error == FETCH_OK ? lua_pushnil(L) : (void)lua_pushstring(L, res->message);
  else if (strcmp(key, "error_kind") == 0) res->error == FETCH_OK ? lua_pushnil(L) : (void)lua_pushstring(L, fetch_error_name(res->error));
  else if (strcmp(key, "timings") == 0) {
    lua_createtable(L, 0, 5);
    lua_pushnumber(L, res->timings.dns), lua_setfield(L, -2, "dns");
    lua_pushnumber(L, res->timings.connect), lua_setfield(L, -2, "connect");
    lua_pushnumber(L, res->timings.tls), lua_setfield(L, -2, "tls");
    lua_pushnumber(L, res->timings.first_byte), lua_setfield(L, -2, "first_byte");
    lua_pushnumber(L, res->timings.total), lua_setfield(L, -2, "total");
  } else {
    lua_pushnil(L);
    return 1;
  }
  /* Tables and the body are made once per response. */
  if (lua_type(L, -1) == LUA_TTABLE || strcmp(key, "body") == 0) {
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, key);
  }
  return 1;
}

static int lfetch_response_tostring(lua_State *L) {
  lfetch_response *lr = luaL_checkudata(L, 1, LFETCH_RESPONSE);
  if (!lr->res) lua_pushliteral(L, "glean.Response (closed)");
  else lua_pushfstring(L, "glean.Response %d %s", (int)lr->res->status, lr->res->url);
  return 1;
}

static int lfetch_header(lua_State *L) {
  lfetch_response *lr = lfetch_check_response(L, 1);
  lua_pushstring(L, fetch_header_get(lr->res, luaL_checkstring(L, 2)));
  return 1;
}

void lfetch_open(lua_State *L) {
  static const luaL_Reg engine_methods[] = {
    {"submit", lfetch_submit}, {"run", lfetch_run}, {"pending", lfetch_pending},
    {"cancel", lfetch_cancel}, {"wakeup", lfetch_wakeup}, {"set_host_delay", lfetch_set_host_delay},
    {"stats", lfetch_stats}, {"limits", lfetch_limits}, {"close", lfetch_engine_close}, {NULL, NULL},
  };
  luaL_newmetatable(L, LFETCH_ENGINE);
  luaL_newlib(L, engine_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, lfetch_engine_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, lfetch_engine_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);

  static const luaL_Reg response_methods[] = {
    {"html", lfetch_html}, {"header", lfetch_header}, {"close", lfetch_response_close},
    {"__index", lfetch_response_index}, {"__gc", lfetch_response_close},
    {"__close", lfetch_response_close}, {"__tostring", lfetch_response_tostring}, {NULL, NULL},
  };
  luaL_newmetatable(L, LFETCH_RESPONSE);
  luaL_setfuncs(L, response_methods, 0);
  lua_pop(L, 1);

  lua_pushcfunction(L, lfetch_engine_new);
  lua_setfield(L, -2, "engine");
}
