-- glean.sched — the scheduler behind glean.fetch: OpenResty's cosocket model
-- on the fetch engine. Code running in a coroutine the scheduler owns calls
-- await(), which yields; the loop (step) resumes it when the engine has
-- delivered every response it waits for. Code outside such a coroutine (a
-- plain script) drives the loop itself until its responses arrive, and
-- whatever else completes meanwhile goes where it belongs.
local sched = {}

local owned = setmetatable({}, {__mode = "k"})  -- coroutine -> exit callback
local waiting = setmetatable({}, {__mode = "k"}) -- engine -> {[id] = waiter}

local function waiters_of(engine)
  local w = waiting[engine]
  if not w then
    w = {}
    waiting[engine] = w
  end
  return w
end

local awaiting = setmetatable({}, {__mode = "k"}) -- coroutine blocked in await -> its waiter
local guards = setmetatable({}, {__mode = "k"})   -- coroutine -> its guard (spawn_guarded)

local function finish(co, ok, ...)
  local status = coroutine.status(co)
  if status == "suspended" and not awaiting[co] then
    -- It yielded by itself: nothing would ever resume it, so end it now
    -- rather than leave the loop waiting for it.
    local guard = guards[co]
    if guard then guard.close(co) else coroutine.close(co) end
    local on_exit = owned[co]
    owned[co] = nil
    if on_exit then on_exit(false, "coroutine.yield outside glean.fetch: nothing would resume it") end
    return
  end
  if status == "dead" then
    local on_exit = owned[co]
    owned[co] = nil
    if on_exit then on_exit(ok, ...) end
  end
end

local running -- the owned coroutine being run, if any

local function resumed(co, outer, ...)
  running = outer
  return finish(co, ...)
end

-- Resumes an owned coroutine; reports its end (ok, results or error with
-- traceback) to the exit callback given to spawn.
local function resume(co, ...)
  local guard = guards[co]
  local outer = running
  running = co
  resumed(co, outer, (guard and guard.resume or coroutine.resume)(co, ...))
end

-- Starts fn(...) in an owned coroutine and runs it to its first wait.
-- on_exit(ok, ...) is called when it ends: ok false with a message that
-- carries a traceback when it raised.
function sched.spawn(fn, on_exit, ...)
  return sched.spawn_guarded(nil, fn, on_exit, ...)
end

-- The same, with every run of the coroutine (and its closing) through the
-- guard's resume(co, ...) and close(co), which work as coroutine.resume and
-- coroutine.close do, and its traceback as the message handler: how
-- glean.sandbox holds handlers to their limits.
function sched.spawn_guarded(guard, fn, on_exit, ...)
  local traceback = guard and guard.traceback or debug.traceback
  local co = coroutine.create(function(...)
    return xpcall(fn, traceback, ...)
  end)
  guards[co] = guard
  owned[co] = function(ok, pcall_ok, ...)
    if on_exit then
      if ok then on_exit(pcall_ok, ...) else on_exit(false, pcall_ok) end
    end
  end
  resume(co, ...)
  return co
end

-- Calls fn(response) when the engine delivers request id (instead of a
-- coroutine waiting for it).
function sched.on(engine, id, fn)
  waiters_of(engine)[id] = fn
end

-- Resumes the coroutine that waits for waiter's responses, now all in.
-- One that other code resumed or closed meanwhile (only a trusted adapter
-- can) is not resumed again; if it has ended, it ends as a failure.
local function wake(waiter)
  local co = waiter.co
  if awaiting[co] == waiter then
    awaiting[co] = nil
    if coroutine.status(co) == "suspended" then return resume(co, waiter.results) end
  end
  for _, resp in pairs(waiter.results) do resp:close() end
  local on_exit = coroutine.status(co) == "dead" and owned[co]
  if on_exit then
    owned[co] = nil
    on_exit(false, "the handler's coroutine was resumed or closed by other code while it waited in glean.fetch")
  end
end

-- Hands each delivered response to whoever waits for it.
local function dispatch(engine, done)
  if not done then return end
  local w = waiters_of(engine)
  for id, resp in pairs(done) do
    local waiter = w[id]
    w[id] = nil
    if type(waiter) == "function" then
      waiter(resp)
    elseif waiter then
      waiter.results[waiter.slot[id]] = resp
      waiter.left = waiter.left - 1
      if waiter.left == 0 and waiter.co then wake(waiter) end
    else
      resp:close() -- nobody asked for it (its waiter was cancelled)
    end
  end
end

-- One turn: runs the engine up to timeout_ms and dispatches what finished.
-- Returns the count of requests pending after that (what was dispatched
-- may have submitted more).
function sched.step(engine, timeout_ms)
  local _, done = engine:run(timeout_ms)
  if not done then return engine:pending() end
  dispatch(engine, done)
  return engine:pending()
end

-- Submits the requests to the engine and waits for their responses;
-- returns them in order. A wait that cannot be is refused before anything
-- is submitted, so a refused request never reaches the network.
function sched.await(engine, requests)
  local co, main = coroutine.running()
  if #requests == 0 then return {} end
  local mine = not main and owned[co] ~= nil
  if mine and not coroutine.isyieldable() then
    -- The yield would fail once the waiter is set, and the response later
    -- resume a coroutine that has moved on.
    error("glean.fetch cannot wait inside a callback of a C function (string.gsub, table.sort, a"
      .. " metamethod, pcall of one...): call it outside", 3)
  end
  if not mine and running then
    -- In a coroutine a handler made: driving the loop from here would run
    -- the other pages' handlers inside this one.
    error("glean.fetch cannot wait inside a coroutine the handler made (coroutine.create or wrap): only"
      .. " the handler's own coroutine may wait for responses; call glean.fetch from the handler itself,"
      .. " or glean.fetch_all for several requests at once", 3)
  end
  local ids = {}
  for i, r in ipairs(requests) do ids[i] = engine:submit(r) end
  local waiter = {results = {}, slot = {}, left = #ids, co = co}
  local w = waiters_of(engine)
  for i, id in ipairs(ids) do
    waiter.slot[id] = i
    w[id] = waiter
  end
  if mine then
    awaiting[co] = waiter
    local results = coroutine.yield()
    if awaiting[co] == waiter then
      -- Resumed by other code than the loop: the responses go nowhere.
      awaiting[co] = nil
      error("glean.fetch was resumed before its responses came (only the crawl may resume a handler)", 3)
    end
    return results
  end
  -- Not in a scheduler's coroutine: drive the loop here until done.
  waiter.co = nil
  while waiter.left > 0 do
    sched.step(engine, 100)
  end
  return waiter.results
end

-- Whether co is a coroutine the scheduler runs (a crawl's handler).
function sched.owns(co)
  return owned[co] ~= nil
end

return sched
