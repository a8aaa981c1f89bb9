-- glean.sandbox — what adapter code may do, and how much of the runtime it
-- may take. An adapter (a site's Lua file, loaded by `glean run` or the
-- embedding API through sandbox.load) gets, unless trusted (--trust, the
-- API's "trust" option):
--   * the safe parts of the standard library: no os.execute, os.exit,
--     os.remove, io.popen, io.open but for reading, package, debug, load of
--     binary chunks, __gc metamethods (they run outside any limit), nor
--     metatables it did not set itself (the runtime's own would let it
--     reach code that runs outside its limits);
--   * require of "glean" (its own copy of the library table) and of the
--     modules in its own folder only;
-- and its code (main chunk, match functions, handlers) runs under the
-- runtime's limits (glean.limits, in C): a memory cap on the runtime's Lua
-- memory and a time budget per call, in Lua instructions and in seconds. A script run directly
-- (`glean SCRIPT.lua`) is the user's own program: none of this applies to
-- it, only to the handlers of the crawls it starts.
local glean = require "glean"
local limits = require "glean.limits"

local sandbox = {}

local MB = 1024 * 1024

-- The runtime's settings: glean run's and the embedding API's options of
-- the same names (glean.cli's set_option) change them.
local settings = {
  trust = false,
  memory_limit = 1024,      -- MB of Lua memory for the runtime while adapter code runs; 0: none
  time_limit = 1000000000,  -- Lua instructions per call of adapter code; 0: none
  time_limit_seconds = 30,  -- seconds of wall time per call of adapter code; 0: none
}

local restricted = setmetatable({}, {__mode = "k"}) -- adapters loaded without trust

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

-- Error objects become strings while the adapter's limits hold (a
-- __tostring is its code too).
local function as_string(err)
  if type(err) == "string" then return err end
  return tostring(err)
end

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

local function refuse(what)
  error(what .. " is not allowed in an adapter (--trust lifts this)", 3)
end

local function restricted_env(dir)
  local env = {}
  for _, name in ipairs(SAFE_GLOBALS) do env[name] = _G[name] end
  env.xpcall = metered_xpcall
  env.print = _G.print -- the embedding API's goes to the log
  env._G = env
  for _, lib in ipairs({"string", "table", "math", "utf8", "coroutine"}) do env[lib] = copy(_G[lib]) end
  env.os = {}
  for _, name in ipairs(SAFE_OS) do env.os[name] = os[name] end
  env.io = {
    type = io.type,
    lines = io.lines,
    open = function(path, mode)
      if mode ~= nil and mode ~= "r" and mode ~= "rb" then refuse(("io.open with mode '%s'"):format(tostring(mode))) end
      return io.open(path, mode)
    end,
  }
  -- Text chunks only, with the adapter's globals unless told otherwise.
  local function text_mode(fn, mode)
    if mode ~= nil and mode ~= "t" then refuse(("%s with mode '%s' (binary chunks)"):format(fn, tostring(mode))) end
  end
  env.load = function(chunk, name, mode, chunk_env)
    text_mode("load", mode)
    return load(chunk, name, "t", chunk_env == nil and env or chunk_env)
  end
  env.loadfile = function(file, mode, chunk_env)
    text_mode("loadfile", mode)
    return loadfile(file, "t", chunk_env == nil and env or chunk_env)
  end
  env.dofile = function(file)
    return assert(loadfile(file, "t", env))()
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
    -- A walk of the whole heap in one instruction: charged as what it
    -- touches (an instruction per 64 bytes), which reads the clock too.
    local results = table.pack(collectgarbage(opt, ...))
    limits.spend(math.floor(collectgarbage("count") * 16))
    return table.unpack(results, 1, results.n)
  end

  local lib = copy(glean)
  env.glean = lib
  local loaded = {}
  local path = dir and (dir .. "/?.lua;" .. dir .. "/?/init.lua")
  env.require = function(name)
    if name == "glean" then return lib end
    if type(name) ~= "string" then error(("bad argument #1 to 'require' (string expected, got %s)"):format(type(name)), 2) end
    if loaded[name] ~= nil then return loaded[name] end
    local file = path and package.searchpath(name, path)
    if not file then
      error(("module '%s' not found: an adapter may require \"glean\" and the modules in its own folder%s"
        .. " (--trust lifts this)"):format(name, dir and " (" .. dir .. ")" or ""), 2)
    end
    local chunk, err = loadfile(file, "t", env)
    if not chunk then error(err, 2) end
    local result = chunk(name, file)
    if result == nil then result = true end
    loaded[name] = result
    return result
  end
  return env
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
  local env = trusted and setmetatable({xpcall = metered_xpcall}, {__index = _G}) or restricted_env(dir)
  local chunk, err = make_chunk(env)
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
  if not trusted then restricted[adapter] = true end
  adapter._source = name
  adapter._dir = dir
  return adapter
end

return sandbox
