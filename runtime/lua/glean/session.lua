-- glean.session — a crawl's politeness for plain scripts: an engine of its
-- own (per-host concurrency, delay between requests to a host, and the
-- other engine options) and robots.txt obeyed per origin, Crawl-delay
-- included, as glean run does. Built on the engine and the scheduler, not
-- on the crawl:
--   local s = glean.session{per_host = 2, delay = 1, robots = true}
--   local resp, err, kind = s:fetch(url [, opts])   -- kind "robots" if disallowed
--   local list = s:fetch_all{url1, {url = url2, ...}}
--   s:close()
local glean = require "glean"
local sched = require "glean.sched"
local urls = require "glean.urls"
local response = require "glean.response"

local Session = {}
Session.__index = Session

-- The crawl's defaults (glean/crawl.lua), the engine's own otherwise.
local DEFAULTS = {concurrency = 32, per_host = 8, delay = 0, robots = true}

local function new(options)
  if options ~= nil and type(options) ~= "table" then
    error(("bad argument #1 to 'session' (table expected, got %s)"):format(type(options)), 3)
  end
  local engine_options = {}
  for k, v in pairs(DEFAULTS) do engine_options[k] = v end
  for k, v in pairs(options or {}) do engine_options[k] = v end
  local robots = engine_options.robots
  if type(robots) ~= "boolean" then
    error(("bad option 'robots' (boolean expected, got %s)"):format(type(robots)), 3)
  end
  engine_options.robots = nil
  local self = setmetatable({
    engine = glean.engine(engine_options),
    robots = robots,
    delay = engine_options.delay,
    agent = engine_options.user_agent or ("glean/" .. glean.version),
    rules = {},  -- origin -> Robots, or the list of callbacks waiting for it
    unreachable = {},  -- origin -> why its robots.txt could not be had
  }, Session)
  return self
end

-- Calls fn(rules) once the origin's robots.txt is known (unreachable: all
-- disallowed, RFC 9309), fetching it on first use.
function Session:with_rules(origin, fn)
  local rules = self.rules[origin]
  if getmetatable(rules) then return fn(rules) end
  if rules then
    rules[#rules + 1] = fn
    return
  end
  self.rules[origin] = {fn}
  local id = self.engine:submit({url = origin .. "/robots.txt", retries = 1})
  sched.on(self.engine, id, function(resp)
    local waiting = self.rules[origin]
    -- Unreachable means all disallowed (RFC 9309), as in a crawl.
    if resp.error then self.unreachable[origin] = resp.error end
    local parsed = glean.robots(resp.error and 0 or resp.status, resp.error and "" or resp.body, self.agent)
    resp:close()
    self.rules[origin] = parsed
    local delay = parsed:crawl_delay()
    if delay and delay > self.delay then self.engine:set_host_delay(urls.host_of(origin), delay) end
    for _, waiter in ipairs(waiting) do waiter(parsed) end
  end)
end

-- A stand-in for the response robots.txt kept from being fetched.
local function disallowed(url, unreachable)
  local why = unreachable and ("robots.txt unreachable (" .. unreachable .. "), so all disallowed")
    or "robots.txt disallows it"
  return {url = url, ok = false, status = 0, error = url .. ": " .. why, error_kind = "robots", close = function() end}
end

-- What robots.txt rules match: the path and query the request will have.
local function request_target(req)
  local target = urls.target_of(req.url)
  if type(req.query) == "table" then
    local qs = glean.urlencode(req.query)
    if qs ~= "" then target = target .. (target:find("?", 1, true) and "&" or "?") .. qs end
  end
  return target
end

local function request_of(r, opts, what)
  if type(r) == "string" then
    local req = {}
    for k, v in pairs(opts or {}) do req[k] = v end
    req.url = r
    return req
  end
  if type(r) ~= "table" or type(r.url) ~= "string" then
    error(("bad argument to '%s' (URL or request table expected, got %s)"):format(what, type(r)), 3)
  end
  return r
end

-- Responses to the requests, in order, each fetched once robots.txt
-- allows it; the session's engine runs here until all are in.
function Session:run(requests)
  if not self.engine then error("session is closed", 3) end
  local results, left = {}, #requests
  for i, req in ipairs(requests) do
    local function go(rules)
      if rules and not rules:allowed(request_target(req)) then
        results[i] = disallowed(req.url, self.unreachable[urls.origin_of(req.url)])
        left = left - 1
        return
      end
      local id = self.engine:submit(req)
      sched.on(self.engine, id, function(resp)
        results[i] = resp
        left = left - 1
      end)
    end
    local origin = self.robots and urls.origin_of(req.url)
    if origin then self:with_rules(origin, go) else go(nil) end
  end
  while left > 0 do sched.step(self.engine, 100) end
  return results
end

-- s:fetch(url [, opts]) -> response, or nil, message, kind (as glean.fetch;
-- kind "robots" when robots.txt disallows the URL).
function Session:fetch(url, opts)
  return response.results(self:run({request_of(url, opts, "fetch")})[1])
end

-- s:fetch_all(requests) -> responses in input order (as glean.fetch_all);
-- one robots.txt disallows is a table with ok = false, error and
-- error_kind = "robots".
function Session:fetch_all(requests)
  if type(requests) ~= "table" then
    error(("bad argument #1 to 'fetch_all' (table expected, got %s)"):format(type(requests)), 2)
  end
  local list = {}
  for i, r in ipairs(requests) do list[i] = request_of(r, nil, "fetch_all") end
  return self:run(list)
end

function Session:stats() return self.engine:stats() end

function Session:close()
  if self.engine then self.engine:close() end
  self.engine = nil
end
Session.__close = Session.close

return {new = new}
