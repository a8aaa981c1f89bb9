-- glean.sandbox — what adapter code may do, and how much of the runtime it
-- may take. An adapter (a site's Lua file, loaded by `glean run` or the
-- embedding API through sandbox.load) gets, unless trusted (--trust, the
-- API's "trust" option):
--   * the safe parts of the standard library: no os.execute, os.exit,
--     os.remove, io.popen, io.open but for reading, package, debug, load of
--     binary chunks, __gc metamethods (they run outside any limit), nor
--     metatables it did not set itself (the runtime's own would let it
--     reach code that runs outside its limits), nor more than 64 files
--     open at once (descriptors are the crawl's sockets too);
--   * require of "glean" (its own copy of the library table) and of the
--     modules in its own folder only;
-- and its code (main chunk, match functions, handlers) runs under the
-- runtime's limits (glean.limits, in C): a memory cap on the runtime's Lua
-- memory and a time budget per call, in Lua instructions and in seconds. A script run directly
-- (`glean SCRIPT.lua`) is the user's own program: none of this applies to
-- it, only to the handlers of the crawls it starts.
local glean = require "glean"
local limits = require "glean.limits"
local chunk_check = require("glean.chunk").check
local fs = require "glean.path"
local sched = require "glean.sched"

local sandbox = {}

local MB = 1024 * 1024

-- The runtime's settings: glean run's and the embedding API's options of
-- the same names (glean.cli's set_option) change them.
local settings = {
  trust = false,
  memory_limit = 1024,      -- MB of Lua memory for the runtime while adapter code runs; 0: none
  time_limit = 1000000000,  -- Lua instructions per call of adapter code; 0: none
  time_limit_seconds = 10,  -- seconds of wall time per call of adapter code; 0: none
}

-- Adapters loaded without trust -> what checks the files they read.
local restricted = setmetatable({}, {__mode = "k"})

local function set(name, value)
  settings[name] = value
  if name == "memory_limit" then limits.cap(math.floor(value * MB)) end
end
set("memory_limit", settings.memory_limit)

-- name: "trust" (boolean), "memory_limit" (MB), "time_limit"
-- (instructions) or "time_limit_seconds"; numbers not negative, 0 for no
-- limit.
sandbox.set = set
function sandbox.get(name) return settings[name] end

-- What one call of adapter code may take (all the runs of a handler's
-- coroutine share one).
local function meter()
  return limits.meter(math.floor(settings.time_limit), settings.time_limit_seconds)
end

-- The message for adapter code that failed with err on meter m: the limit
-- it ran out of (with a traceback, if one was made), if any.
local function explain(err, m)
  local out = m:out()
  if out then return out end
  if m:refused() and type(err) == "string"
      and (err:find("not enough memory", 1, true) or err:find("error in error handling", 1, true)) then
    -- What the failed call held is garbage now: give it back at once.
    collectgarbage()
    return ("memory limit exceeded: the runtime's Lua memory would pass %g MB (memory-limit)"):format(settings.memory_limit)
  end
  return err
end

local function finish(m, ok, ...)
  if ok then return true, ... end
  return false, explain((...), m)
end

-- xpcall(fn, msgh, ...) as adapter code: under the runtime's limits (a
-- fresh budget), or as a plain xpcall inside adapter code already under
-- them. A limit that was hit is named in the error. Not for code that
-- yields (see sandbox.guard).
function sandbox.xpcall(fn, msgh, ...)
  if limits.active() then return xpcall(fn, msgh, ...) end
  local m = meter()
  return finish(m, limits.pcall(m, msgh, fn, ...))
end

-- xpcall for adapter code: Lua runs the message handler of an error raised
-- in the limits' count hook with the hook off, where a handler that loops
-- would never end; past a limit, the error goes through unhandled.
local function metered_xpcall(fn, msgh, ...)
  if type(msgh) ~= "function" then return xpcall(fn, msgh, ...) end
  return xpcall(fn, function(err)
    if limits.spent() then return err end
    return msgh(err)
  end, ...)
end

local function reraise(ok, ...)
  if not ok then error((...), 0) end
  return ...
end

-- Error objects become strings, cut to a bounded size, while the
-- adapter's limits hold (a __tostring is its code too).
local as_string = limits.message

-- fn(...) as adapter code (see sandbox.xpcall); an error propagates as it
-- was raised (made a string).
function sandbox.call(fn, ...)
  if limits.active() then return fn(...) end
  return reraise(sandbox.xpcall(fn, as_string, ...))
end

-- A message handler for adapter code: the error as a string, made under
-- its limits (a __tostring is the adapter's code too), and a traceback.
sandbox.traceback = limits.traceback

-- A guard for a coroutine that runs adapter code (glean.sched's
-- spawn_guarded): all its runs take from one budget, and explain(err)
-- names the limit it hit, if any.
function sandbox.guard()
  local m = meter()
  local guard = {traceback = limits.traceback}
  function guard.resume(co, ...) return limits.resume(m, co, ...) end
  function guard.close(co) return limits.close(m, co) end
  function guard.explain(err) return explain(err, m) end
  return guard
end

-- For a crawl's duration: its options' memory_limit, time_limit and
-- time_limit_seconds, else
-- its adapter's settings, else the runtime's. An adapter loaded without
-- trust may ask for less than the runtime allows, not more (warn(message)
-- says so). Returns the function that puts the runtime's back.
function sandbox.for_crawl(adapter, options, warn)
  local saved = {
    memory_limit = settings.memory_limit, time_limit = settings.time_limit,
    time_limit_seconds = settings.time_limit_seconds,
  }
  local function cap(x) return x == 0 and math.huge or x end
  for key in pairs(saved) do
    local value = options[key]
    local asked = adapter.settings and adapter.settings[key]
    if value == nil and asked ~= nil then
      if restricted[adapter] and cap(asked) > cap(settings[key]) then
        warn(("settings.%s = %g is over the runtime's %g: ignored (raise the runtime's, or trust the adapter)")
          :format(key, asked, settings[key]))
      else
        value = asked
      end
    end
    if value ~= nil then set(key, value) end
  end
  return function()
    for key, value in pairs(saved) do set(key, value) end
  end
end

-- ---- the restricted environment ---------------------------------------------

local SAFE_GLOBALS = {
  "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen", "rawset",
  "select", "tonumber", "tostring", "type", "xpcall", "_VERSION",
}
local SAFE_OS = {"clock", "date", "difftime", "getenv", "time"}
local SAFE_GC = {collect = true, count = true, step = true, isrunning = true}

-- Tables are copied (their functions shared), so that what an adapter
-- changes in them stays its own: the runtime's code uses the originals.
local function copy(t, seen)
  seen = seen or {}
  if seen[t] then return seen[t] end
  local c = {}
  seen[t] = c
  for k, v in pairs(t) do c[k] = type(v) == "table" and copy(v, seen) or v end
  return c
end

local function refusal(what)
  return what .. " is not allowed in an adapter (--trust lifts this)"
end

local function refuse(what)
  error(refusal(what), 3)
end

-- ---- files: an adapter reads in its own folder only ---------------------------

-- file(fn, path, level) for what reads files in an adapter loaded from
-- folder dir (fn names it in messages): path (absolute, or relative to the
-- folder) as the file to open if it lies in the folder once symlinks and
-- ".." are resolved, else an error at level (as error's) naming the rule.
-- No path (the host's stdin) is refused too.
local function in_folder(dir)
  local root = dir and fs.real(dir)
  local function inside(real)
    return real and (root == "/" or real == root or real:sub(1, #root + 1) == root .. "/")
  end
  return function(fn, path, level)
    level = level == 0 and 0 or level + 1
    if path == nil then error(refusal(fn .. " without a file name (the host's stdin)"), level) end
    if type(path) ~= "string" then
      error(("bad argument #1 to '%s' (string expected, got %s)"):format(fn, type(path)), level)
    end
    if not root then error(refusal(("%s of '%s' (an adapter without a folder reads no files)"):format(fn, path)), level) end
    local abs = path:find("^/") and path or root .. "/" .. path
    local real = fs.real(abs)
    -- A file that is not there is the opener's to report, if its folder is inside.
    if inside(real or fs.real(abs:match("^(.*)/[^/]*$") or "/")) then return real or abs end
    error(refusal(("%s of '%s', outside the adapter's folder (%s),"):format(fn, path, root)), level)
  end
end

-- A full collection in one instruction, as adapter code: charged as what
-- it walks (an instruction per 64 bytes of the heap), which reads the
-- clock too.
local function collect_charged(opt, ...)
  local results = table.pack(collectgarbage(opt, ...))
  limits.spend(math.floor(collectgarbage("count") * 16))
  return table.unpack(results, 1, results.n)
end

-- Each open file takes a descriptor, and a crawl out of descriptors opens
-- no socket: every page would fail. An adapter holds at most MAX_OPEN at
-- once. files_held() -> room(fn, path), which says whether one more may be
-- opened (else nil and a message naming the limit), and hold(file), which
-- counts a file just opened. The files are weak keys: one the adapter
-- dropped is closed by the collector, and counted no more.
local MAX_OPEN = 64

local function files_held()
  local held, n = setmetatable({}, {__mode = "k"}), 0
  local function recount()
    n = 0
    for f in pairs(held) do
      -- a file the collector closed stays a key until the next collection
      if io.type(f) == "file" then n = n + 1 else held[f] = nil end
    end
  end
  local function room(fn, path)
    if n < MAX_OPEN then return true end
    recount()
    if n < MAX_OPEN then return true end
    collect_charged("collect")
    recount()
    if n < MAX_OPEN then return true end
    return nil, ("%s of '%s': too many open files: an adapter may hold %d at once"):format(fn, path, MAX_OPEN)
  end
  local function hold(f)
    if io.type(f) == "file" and not held[f] then
      held[f] = true
      n = n + 1
    end
  end
  return room, hold
end

-- ---- the library: what of glean an adapter gets ------------------------------

-- Not the crawl's machinery: an adapter fetches with glean.fetch, through
-- the crawl's engine and under the crawl's limits, and starts no crawl,
-- engine (a session is one), or frontier of its own.
local NOT_FOR_ADAPTERS = {
  engine = "glean.engine (an adapter fetches with glean.fetch, through the crawl's engine)",
  current_engine = "glean.current_engine (the crawl's engine is the crawl's)",
  use_engine = "glean.use_engine (the crawl's engine is the crawl's)",
  frontier = "glean.frontier (the crawl's own)",
  crawl = "glean.crawl (a crawl inside an adapter would escape the crawl's limits)",
  session = "glean.session (it runs an engine of its own and blocks the crawl's loop; the crawl's own"
    .. " per-host politeness applies to glean.fetch)",
  set_outputs = "glean.set_outputs (where records go is the caller's)",
  warc = "glean.warc (archives are the caller's input: glean run --warc-in; it would read files outside the"
    .. " adapter's folder)",
  warc_string = "glean.warc_string (archives are the caller's input: glean run --warc-in)",
}

-- Request options only the caller sets: where requests go, what they trust.
local CALLER_REQUEST = {proxy = "a proxy", cacert = "CA certificates"}

-- Request options that override the crawl's limits, by what an adapter
-- may do with them: "none" ones (0 there means no limit) and "most" ones
-- it may lower, "floor" ones (a speed under which a try fails) raise.
local REQUEST_LIMITS = {
  timeout = "none", connect_timeout = "none", deadline = "none", low_speed_time = "none",
  max_body = "most", max_redirects = "most", retries = "most", low_speed_limit = "floor",
}

local function library()
  local lib = copy(glean)
  for name, what in pairs(NOT_FOR_ADAPTERS) do
    lib[name] = function() refuse(what) end
  end
  -- Adapters write no files: not there at all, so that one can tell.
  lib.sink = nil
  lib.log.set_level = function() refuse("glean.log.set_level (the host's log is the host's)") end
  -- A copy of req with no caller's option and no limit over the engine's
  -- (the crawl's): an adapter may ask for less, not more.
  local function checked(req)
    if type(req) ~= "table" then return req end
    for key, what in pairs(CALLER_REQUEST) do
      if req[key] ~= nil then error(refusal(("glean.fetch option '%s' (%s: the caller's)"):format(key, what)), 3) end
    end
    local out, limit = {}, glean.current_engine():limits()
    for k, v in pairs(req) do out[k] = v end
    for key, how in pairs(REQUEST_LIMITS) do
      local v, cap = out[key], limit[key]
      if type(v) == "number" then
        if how == "floor" then
          if v < cap then out[key] = cap end
        elseif cap > 0 and (v > cap or (how == "none" and v == 0)) then
          out[key] = cap
        end
      end
    end
    return out
  end
  lib.fetch = function(url, opts)
    return glean.fetch(checked(url), checked(opts))
  end
  lib.fetch_all = function(requests)
    if type(requests) ~= "table" then return glean.fetch_all(requests) end
    local list = {}
    for i, r in ipairs(requests) do list[i] = checked(r) end
    return glean.fetch_all(list)
  end
  return lib
end

-- A compiled chunk (load's results), refused with the place and the way
-- around it where Debian's Lua compiles it wrongly (glean.chunk).
local function checked_code(fn, err)
  if not fn then return fn, err end
  local line, why = chunk_check(fn)
  if line then return nil, ("%s:%s: %s"):format(debug.getinfo(fn, "S").short_src, line, why) end
  return fn
end

local function restricted_env(dir)
  local env = {}
  for _, name in ipairs(SAFE_GLOBALS) do env[name] = _G[name] end
  env.xpcall = metered_xpcall
  env._G = env
  for _, lib in ipairs({"string", "table", "math", "utf8", "coroutine"}) do env[lib] = copy(_G[lib]) end
  env.os = {}
  for _, name in ipairs(SAFE_OS) do env.os[name] = os[name] end
  local file = in_folder(dir)
  local room, hold = files_held()
  -- io.lines raises where io.open returns nil: each keeps its own way of failing.
  local function lines(iter, state, init, f)
    hold(f)
    return iter, state, init, f
  end
  env.io = {
    type = io.type,
    lines = function(path, ...)
      local real = file("io.lines", path, 2)
      local ok, err = room("io.lines", path)
      if not ok then error(err, 2) end
      return lines(io.lines(real, ...))
    end,
    open = function(path, mode)
      if mode ~= nil and mode ~= "r" and mode ~= "rb" then refuse(("io.open with mode '%s'"):format(tostring(mode))) end
      local real = file("io.open", path, 2)
      local ok, err = room("io.open", path)
      if not ok then return nil, err end
      local f, why, code = io.open(real, mode)
      hold(f)
      return f, why, code
    end,
  }
  -- Text chunks only, with the adapter's globals unless told otherwise.
  local function text_mode(fn, mode)
    if mode ~= nil and mode ~= "t" then refuse(("%s with mode '%s' (binary chunks)"):format(fn, tostring(mode))) end
  end
  env.load = function(chunk, name, mode, chunk_env)
    text_mode("load", mode)
    return checked_code(load(chunk, name, "t", chunk_env == nil and env or chunk_env))
  end
  env.loadfile = function(path, mode, chunk_env)
    text_mode("loadfile", mode)
    return checked_code(loadfile(file("loadfile", path, 2), "t", chunk_env == nil and env or chunk_env))
  end
  env.dofile = function(path)
    return assert(checked_code(loadfile(file("dofile", path, 2), "t", env)))()
  end
  local own = setmetatable({}, {__mode = "k"}) -- metatables the adapter set
  env.setmetatable = function(t, mt)
    if type(mt) == "table" and rawget(mt, "__gc") ~= nil then refuse("a __gc metamethod") end
    setmetatable(t, mt)
    if mt ~= nil then own[mt] = true end
    return t
  end
  env.getmetatable = function(v)
    local mt = getmetatable(v)
    if own[mt] then return mt end
    return nil
  end
  env.collectgarbage = function(opt, ...)
    opt = opt or "collect"
    if not SAFE_GC[opt] then refuse(("collectgarbage('%s')"):format(tostring(opt))) end
    if opt ~= "collect" and opt ~= "step" then return collectgarbage(opt, ...) end
    return collect_charged(opt, ...)
  end

  local lib = library()
  env.glean = lib
  env.print = function(...) lib.log.info(...) end -- stdout carries the records
  local resume, close = env.coroutine.resume, env.coroutine.close
  env.coroutine.resume = function(co, ...)
    if sched.owns(co) then refuse("coroutine.resume of a page's handler (only the crawl resumes it)") end
    return resume(co, ...)
  end
  env.coroutine.close = function(co)
    if sched.owns(co) then refuse("coroutine.close of a page's handler (only the crawl ends it)") end
    return close(co)
  end
  local loaded = {}
  local path = dir and (dir .. "/?.lua;" .. dir .. "/?/init.lua")
  env.require = function(name)
    if name == "glean" then return lib end
    if type(name) ~= "string" then error(("bad argument #1 to 'require' (string expected, got %s)"):format(type(name)), 2) end
    if loaded[name] ~= nil then return loaded[name] end
    -- A name is dotted words: package.searchpath would take a ';' for the
    -- end of a template, and a '/' or '..' would climb out of the folder.
    local found = path and name:find("^[%w_-][%w_.-]*$") and not name:find("%.%.") and not name:find("%.$")
      and package.searchpath(name, path)
    if not found then
      error(("module '%s' not found: an adapter may require \"glean\" and the modules in its own folder%s"
        .. " (--trust lifts this)"):format(name, dir and " (" .. dir .. ")" or ""), 2)
    end
    local chunk, err = checked_code(loadfile(file("require", found, 1), "t", env))
    if not chunk then error(err, 2) end
    local result = chunk(name, found)
    if result == nil then result = true end
    loaded[name] = result
    return result
  end
  return env, file
end

-- The adapter's table as plain tables (read raw, metatables left behind),
-- so that the runtime reading it later runs none of the adapter's code.
local function plain(v, seen)
  if type(v) ~= "table" then return v end
  if seen[v] then return seen[v] end
  local t = {}
  seen[v] = t
  local k, x = next(v)
  while k ~= nil do
    t[plain(k, seen)] = plain(x, seen)
    k, x = next(v, k)
  end
  return t
end

-- Loads an adapter: make_chunk(env) loads its main chunk (as text) with
-- env as its globals; name stands for it in messages; dir, if any, is its
-- folder (where its modules are). The chunk runs under the runtime's
-- limits, restricted unless the runtime trusts adapters. Returns the
-- adapter table, or nil and a message.
function sandbox.load(make_chunk, name, dir)
  local trusted = settings.trust
  local env, file
  if trusted then env = setmetatable({xpcall = metered_xpcall}, {__index = _G}) else env, file = restricted_env(dir) end
  local chunk, err = checked_code(make_chunk(env))
  if not chunk then return nil, err end
  local saved = package.path
  if trusted and dir then package.path = dir .. "/?.lua;" .. saved end
  local ok, adapter = sandbox.xpcall(function()
    local result = chunk()
    if not trusted then result = plain(result, {}) end
    return result
  end, limits.traceback)
  package.path = saved
  if not ok then return nil, adapter end
  if type(adapter) ~= "table" then
    return nil, ("%s: an adapter must return a table, got %s"):format(name, type(adapter))
  end
  if not trusted then restricted[adapter] = file end
  adapter._source = name
  adapter._dir = dir
  return adapter
end

-- Whether adapter was loaded without trust (glean.crawl's rules for its
-- settings hold then).
function sandbox.restricted(adapter)
  return restricted[adapter] ~= nil
end

-- A file an adapter's settings name (what: the setting, for messages): in
-- its folder, as its modules are (relative to it); one loaded without
-- trust may name no file outside it.
function sandbox.adapter_file(adapter, what, path)
  local file = restricted[adapter]
  if file then return file(what, path, 0) end
  if adapter._dir and not path:find("^/") then return adapter._dir .. "/" .. path end
  return path
end

return sandbox
