-- glean.crawl — the crawl loop: from seeds through the frontier (C), the
-- fetch engine (C, libcurl multi; pages parsed on its worker threads), the
-- site's robots.txt, to the adapter's handlers, each run as a coroutine so
-- that glean.fetch inside a handler yields instead of blocking the crawl.
--
-- An adapter is a table (see README "Write your own adapter"):
--   name, start_urls, allowed_hosts, settings, sitemap (bool), canonical,
--   pages = { {path = "LUA PATTERN" | match = function(url), follow = CSS |
--              {CSS, ...} | function(page), parse = function(page)}, ... }
-- A URL is fetched only if its path matches one of the pages' rules; the
-- first rule that matches handles it.
local glean = require "glean"
local sched = require "glean.sched"
local page_mt = require "glean.page"
local sandbox = require "glean.sandbox"

local crawl = {}

local DEFAULTS = {
  depth = -1,            -- link hops from the seeds; -1: no limit
  concurrency = 32,      -- requests in flight, all hosts
  per_host = 8,          -- requests in flight to one host
  delay = 0,             -- seconds between requests to one host
  timeout = 60,
  retries = 2,
  max_queued = 1000000,  -- URLs waiting in the frontier
  max_body = 32 * 1024 * 1024,
  robots = true,         -- obey robots.txt
  cookies = true,
  user_agent = "glean/" .. glean.version,
  progress = nil,        -- seconds between progress lines; nil: 1 on a terminal, 10 otherwise
  grace = 5,             -- seconds in-flight pages get to finish after Ctrl-C
}

-- The options both adapters (settings) and callers (command line, API) may set.
local OPTION_TYPES = {
  depth = "number", concurrency = "number", per_host = "number", delay = "number",
  timeout = "number", retries = "number", max_queued = "number", max_body = "number",
  robots = "boolean", cookies = "boolean", user_agent = "string", progress = "number",
  grace = "number", mirrors = "table", tracking = "table", stats_file = "string", cacert = "string",
  urls = "table", allow_subdomains = "boolean", deadline = "number", connect_timeout = "number",
  on_error = "function",  -- on_error(url, message) for each page that failed (the embedding API's)
  memory_limit = "number", time_limit = "number", time_limit_seconds = "number", -- adapter code's limits (glean.sandbox)
}

-- What an adapter loaded without trust may do with an option in its
-- settings (the rest it may set freely): "lower" ones it may lower, not
-- raise (they cap what the crawl takes of the host: connections, memory,
-- time), "caller" ones not set at all (the host's files, network, URLs
-- and display). robots it may turn on, not off. The caller's options win
-- over every setting anyway. memory_limit and time_limit are
-- glean.sandbox's (lowered only, too).
local ADAPTER_MAY = {
  concurrency = "lower", per_host = "lower", timeout = "lower", retries = "lower", max_queued = "lower",
  max_body = "lower", grace = "lower",
  stats_file = "caller", urls = "caller", mirrors = "caller", progress = "caller", on_error = "caller",
}

-- Options that count things: a fraction would be refused further down,
-- in a message that names no option.
local WHOLE = {depth = true, concurrency = true, per_host = true, retries = true, max_queued = true}

local function check_options(t, where)
  for k, v in pairs(t) do
    local want = OPTION_TYPES[k]
    if not want then error(("%s: unknown option '%s'"):format(where, tostring(k)), 0) end
    if type(v) ~= want then
      error(("%s: option '%s' must be a %s, got %s"):format(where, k, want, type(v)), 0)
    end
    if WHOLE[k] and v ~= math.floor(v) then
      error(("%s: option '%s' must be a whole number, got %s"):format(where, k, v), 0)
    end
    if (k == "memory_limit" or k == "time_limit" or k == "time_limit_seconds") and v < 0 then
      error(("%s: option '%s' must not be negative, got %s"):format(where, k, v), 0)
    end
  end
end

local function host_of(url)
  return url:match("^%a[%w+.-]*://([^/?#:]+)")
end

local function origin_of(url)
  return url:match("^(%a[%w+.-]*://[^/?#]+)")
end

-- The path alone: rules match paths, so a link that carries a query (say
-- tracking parameters) still finds its rule.
local function path_of(url)
  return url:match("^%a[%w+.-]*://[^/?#]*(/[^?#]*)") or "/"
end

-- The path and query, as robots.txt rules are matched.
local function target_of(url)
  return url:match("^%a[%w+.-]*://[^/?#]*(/[^#]*)") or "/"
end

-- Checks an adapter table and compiles its page rules.
local function check_adapter(adapter, where)
  if type(adapter) ~= "table" then error(("%s: an adapter must be a table, got %s"):format(where, type(adapter)), 0) end
  if adapter.name ~= nil and type(adapter.name) ~= "string" then error(where .. ": 'name' must be a string", 0) end
  if type(adapter.pages) ~= "table" or #adapter.pages == 0 then
    error(where .. ": 'pages' must be a list of page rules ({path = ..., parse = ..., follow = ...})", 0)
  end
  for i, rule in ipairs(adapter.pages) do
    local at = ("%s: pages[%d]"):format(where, i)
    if type(rule) ~= "table" then error(at .. " must be a table", 0) end
    if (rule.path == nil) == (rule.match == nil) then error(at .. " needs exactly one of 'path' (a Lua pattern) or 'match' (a function)", 0) end
    if rule.path ~= nil then
      if type(rule.path) ~= "string" then error(at .. ".path must be a string", 0) end
      local ok, err = pcall(string.find, "", rule.path)
      if not ok then error(("%s.path is not a valid Lua pattern: %s"):format(at, err), 0) end
    elseif type(rule.match) ~= "function" then
      error(at .. ".match must be a function", 0)
    end
    if rule.parse ~= nil and type(rule.parse) ~= "function" then error(at .. ".parse must be a function", 0) end
    local f = rule.follow
    if f ~= nil and type(f) ~= "string" and type(f) ~= "function" and type(f) ~= "table" then
      error(at .. ".follow must be a selector, a list of selectors or a function", 0)
    end
  end
  if adapter.canonical ~= nil and type(adapter.canonical) ~= "table" then
    error(where .. ": 'canonical' must be a table of glean.url.canonical options", 0)
  end
  for _, key in ipairs({"start_urls", "allowed_hosts"}) do
    if adapter[key] ~= nil and type(adapter[key]) ~= "table" then error(("%s: '%s' must be a list"):format(where, key), 0) end
  end
  if adapter.settings ~= nil then
    if type(adapter.settings) ~= "table" then error(where .. ": 'settings' must be a table", 0) end
    check_options(adapter.settings, where .. ": settings")
    -- It would run in the crawl's own code, outside the adapter's limits,
    -- whatever the trust.
    if adapter.settings.on_error ~= nil then error(where .. ": settings: 'on_error' is the caller's option, not an adapter's", 0) end
  end
end

local function rule_for(adapter, url)
  local path = path_of(url)
  for _, rule in ipairs(adapter.pages) do
    if rule.path then
      if path:find(rule.path) then return rule end
    elseif rule.match(url) then
      return rule
    end
  end
end

local function now()
  return glean.clock()
end

-- Emits what a parse handler returned: a record, a list of records, or nil.
local function emit_result(result, emit)
  if type(result) == "table" then
    if result[1] ~= nil and type(result[1]) == "table" then
      for _, record in ipairs(result) do emit(record) end
    elseif next(result) ~= nil then
      emit(result)
    end
  elseif result ~= nil then
    error(("parse returned a %s; return a record table, a list of records, or nil"):format(type(result)), 0)
  end
end

-- The adapter's settings the crawl takes, the caller's options not
-- counted: all of a trusted adapter's; of another, what ADAPTER_MAY lets
-- it set (warn(message) tells of the rest, ignored). A file they name
-- (cacert) lies in the adapter's folder, relative to it as its modules are
-- (one given in the options is the caller's: from where it runs).
local function adapter_settings(adapter, options, warn)
  local out = {}
  local restricted = sandbox.restricted(adapter)
  for k, v in pairs(adapter.settings or {}) do
    local may = restricted and options[k] == nil and ADAPTER_MAY[k]
    if may == "caller" then
      warn(("settings.%s is the caller's option, not an adapter's: ignored (--trust lifts this)"):format(k))
    elseif may == "lower" and v > DEFAULTS[k] then
      warn(("settings.%s = %s is over the crawl's %s: ignored (an adapter may lower it, not raise it;"
        .. " --trust lifts this)"):format(k, v, DEFAULTS[k]))
    elseif restricted and k == "robots" and v == false and options.robots == nil then
      warn("settings.robots = false: only the caller may have robots.txt ignored (--ignore-robots): ignored")
    else
      out[k] = v
    end
  end
  if type(out.cacert) == "string" and options.cacert == nil then
    out.cacert = sandbox.adapter_file(adapter, "settings.cacert", out.cacert)
  end
  return out
end

-- Runs a crawl. Returns its stats table (see README); stats.failed counts
-- pages whose fetch or handler failed.
function crawl.run(adapter, options)
  options = options or {}
  local where = adapter and adapter._source or "adapter"
  check_adapter(adapter, where)
  check_options(options, "crawl options")
  local log = glean.log
  local settings = {}
  for k, v in pairs(DEFAULTS) do settings[k] = v end
  for k, v in pairs(adapter_settings(adapter, options, log.warn)) do settings[k] = v end
  for k, v in pairs(options) do settings[k] = v end

  -- The limits first: the engine sizes what its workers may parse by the
  -- memory limit (lfetch.c).
  local restore_limits = sandbox.for_crawl(adapter, options, log.warn)
  local made, engine = pcall(glean.engine, {
    concurrency = settings.concurrency, per_host = settings.per_host, delay = settings.delay,
    timeout = settings.timeout, retries = settings.retries, max_body = settings.max_body,
    cookies = settings.cookies, user_agent = settings.user_agent, cacert = settings.cacert,
    mirrors = settings.mirrors, deadline = settings.deadline, connect_timeout = settings.connect_timeout,
  })
  -- A bad mirror is the caller's mistake: say so without glean's own line.
  if not made then
    restore_limits()
    error((tostring(engine):gsub("^%[glean%][^:]*:%d+: ", "")), 0)
  end
  local previous_engine = glean.use_engine(engine)
  -- Whichever way the crawl ends (an error too), glean.fetch gets its
  -- engine back, this one's connections and threads go, and the runtime's
  -- limits are its own again.
  local _ <close> = setmetatable({}, {__close = function()
    glean.use_engine(previous_engine)
    engine:close()
    restore_limits()
  end})
  local frontier = glean.frontier({
    max_depth = settings.depth, max_queued = settings.max_queued, tracking = settings.tracking,
    allow_subdomains = settings.allow_subdomains,
  })

  local seeds = settings.urls and #settings.urls > 0 and settings.urls or adapter.start_urls or {}
  if #seeds == 0 then error(where .. ": no URLs to crawl (give some, or set start_urls)", 0) end
  for _, host in ipairs(adapter.allowed_hosts or {}) do frontier:allow_host(host) end
  for _, url in ipairs(adapter.start_urls or {}) do
    if host_of(url) then frontier:allow_host(host_of(url)) end
  end
  -- Hosts of the URLs given on the command line are allowed too, so a site
  -- can be crawled from a copy served on 127.0.0.1.
  for _, url in ipairs(settings.urls or {}) do
    if host_of(url) then frontier:allow_host(host_of(url)) end
  end

  local stats = {
    pages = 0, records = 0, failed = 0, handler_errors = 0, fetch_errors = 0, http_errors = 0,
    robots_skipped = 0, dropped = glean.json.object({}), bytes = 0, started = os.date("!%Y-%m-%dT%H:%M:%SZ"),
  }
  local t0 = now()
  local in_flight = 0
  -- Handlers not yet finished: this crawl's own count, so that handlers
  -- another crawl left waiting (it failed) cannot keep this one going.
  local handlers = 0
  local full_warned = false
  local agent = settings.user_agent:match("^[%w_-]+") or "glean"
  local robots = {}        -- origin -> Robots, or a list of pages waiting for it
  local interrupted_at     -- when the first Ctrl-C came

  local function add(url, depth, referer)
    if not url then return end
    local status = frontier:add(url, depth)
    if status == "added" or status == "seen" then return end
    stats.dropped[status] = (stats.dropped[status] or 0) + 1
    if status == "full" and not full_warned then
      full_warned = true
      log.warn(("frontier full (max_queued=%d): dropping URLs such as %s; raise max_queued"):format(settings.max_queued, url))
    elseif status == "bad URL" then
      log.debug(("not a crawlable URL: %s (linked from %s)"):format(url, referer))
    end
  end

  -- A URL is worth queuing when some rule would handle its page. The
  -- adapter's `canonical` options (see glean.url.canonical) say which
  -- differences between links do not matter on its site, such as http
  -- against https.
  local function follow(url, depth, referer)
    if url and adapter.canonical then url = glean.url.canonical(url, adapter.canonical) end
    if url and sandbox.call(rule_for, adapter, url) then add(url, depth, referer) end
  end

  for _, url in ipairs(seeds) do
    if type(url) ~= "string" then error(where .. ": start URLs must be strings", 0) end
    local status = frontier:add(url, 0, 0)
    if status == "bad URL" then error(("not a crawlable URL: %s"):format(url), 0) end
  end

  local function emit(record)
    glean.emit(record)
    stats.records = stats.records + 1
  end

  local function failed(url, message)
    if settings.on_error then settings.on_error(url, message) end
  end

  local function follow_links(page, f)
    if type(f) == "function" then
      for _, link in ipairs(f(page) or {}) do page:follow(link) end
    else
      page:follow_links(f)
    end
  end

  -- Links, then the record, each whatever becomes of the other: a page
  -- whose parse fails still leads to the others, and one whose follow
  -- fails still gives its record (and then fails, with follow's error).
  local function run_page(page, rule)
    local followed, err = true, nil
    if rule.follow ~= nil then followed, err = xpcall(follow_links, sandbox.traceback, page, rule.follow) end
    if rule.parse then emit_result(rule.parse(page), emit) end
    if not followed then error(err, 0) end
  end

  local function on_response(resp, url, depth, rule)
    in_flight = in_flight - 1
    if resp.error then
      -- A fetch the crawl itself called off when told to stop is no failure of the page.
      if resp.error_kind ~= "cancelled" then
        stats.fetch_errors = stats.fetch_errors + 1
        stats.failed = stats.failed + 1
        log.warn(("fetch failed (%s): %s"):format(resp.error_kind, resp.error))
        failed(url, resp.error)
      end
      resp:close()
      return
    end
    -- A redirect to a page queued or handled under its own URL: handled
    -- there, not twice.
    if resp.url ~= url and frontier:mark_seen(resp.url) == "seen" then
      log.debug(("%s redirects to %s, already seen: skipped"):format(url, resp.url))
      resp:close()
      return
    end
    stats.pages = stats.pages + 1
    stats.bytes = stats.bytes + resp.size
    log.debug(("fetched %d %s"):format(resp.status, url))
    if resp.status >= 400 then
      stats.http_errors = stats.http_errors + 1
      log.warn(("HTTP %d: %s"):format(resp.status, url))
      failed(url, ("HTTP %d"):format(resp.status))
      resp:close()
      return
    end
    -- The page is where the request ended up, after any redirect.
    local page = page_mt.new(resp, resp.url, depth, function(link) follow(link, depth + 1, url) end)
    handlers = handlers + 1
    local guard = sandbox.guard()
    sched.spawn_guarded(guard, run_page, function(ok, err)
      handlers = handlers - 1
      -- Not page:close(): the handler may have replaced that.
      page_mt.close(page)
      if not ok then
        err = guard.explain(err)
        stats.handler_errors = stats.handler_errors + 1
        stats.failed = stats.failed + 1
        log.error(("handler failed for %s: %s"):format(url, tostring(err)))
        failed(url, tostring(err))
      end
    end, page, rule)
  end

  local function submit(url, depth, rule)
    in_flight = in_flight + 1
    local id = engine:submit({url = url, html = true})
    sched.on(engine, id, function(resp) on_response(resp, url, depth, rule) end)
  end

  local function robots_ready(origin, resp)
    local waiting = robots[origin]
    -- Unreachable means all disallowed (RFC 9309), which would otherwise
    -- look like a site without pages (a certificate not trusted, say).
    if resp.error and resp.error_kind ~= "cancelled" then
      log.warn(resp.error .. " (robots.txt unreachable: the site's pages are skipped)")
    end
    local rules = glean.robots(resp.error and 0 or resp.status, resp.error and "" or resp.body, agent)
    resp:close()
    robots[origin] = rules
    local delay = rules:crawl_delay()
    if delay and delay > settings.delay then engine:set_host_delay(host_of(origin), delay) end
    if adapter.sitemap then
      for _, sm in ipairs(rules:sitemaps()) do
        local id = engine:submit({url = sm})
        sched.on(engine, id, function(r)
          if not r.error and r.status < 400 then
            local urls, kind = glean.sitemap(r.body)
            for _, u in ipairs(urls) do
              if kind == "index" then
                log.debug("sitemap index entries are not followed: " .. u)
              else
                follow(u, 1, sm)
              end
            end
          end
          r:close()
        end)
      end
    end
    for _, item in ipairs(waiting) do
      -- After Ctrl-C only pages already in flight finish; these were not.
      -- The count is read live: the interrupt may have come during this
      -- very turn of the loop, before the loop itself has seen it.
      if interrupted_at or (glean.interrupts and glean.interrupts() > 0) then break end
      if rules:allowed(target_of(item[1])) then submit(item[1], item[2], item[3])
      else
        stats.robots_skipped = stats.robots_skipped + 1
        log.debug("robots.txt disallows " .. item[1])
      end
    end
  end

  local function start(url, depth)
    local rule = sandbox.call(rule_for, adapter, url)
    if not rule then
      log.warn("no page rule matches " .. url .. ": skipped")
      return
    end
    if not settings.robots then return submit(url, depth, rule) end
    local origin = origin_of(url)
    local rules = robots[origin]
    if rules == nil then
      robots[origin] = {{url, depth, rule}}
      local id = engine:submit({url = origin .. "/robots.txt", retries = 1})
      sched.on(engine, id, function(resp) robots_ready(origin, resp) end)
    elseif type(rules) == "table" then
      rules[#rules + 1] = {url, depth, rule}
    elseif rules:allowed(target_of(url)) then
      submit(url, depth, rule)
    else
      stats.robots_skipped = stats.robots_skipped + 1
      log.debug("robots.txt disallows " .. url)
    end
  end

  -- Progress: a live line on a terminal, periodic plain lines otherwise.
  local tty = glean.log.to_terminal()
  local every = settings.progress or (tty and 1 or 10)
  local last_report = now()
  local function progress(final)
    local elapsed = now() - t0
    local line = ("pages %d | queued %d | in flight %d | %.1f pages/s | errors %d | %.1f MB"):format(
      stats.pages, frontier:queued(), in_flight, stats.pages / math.max(elapsed, 1e-9), stats.failed, stats.bytes / 1e6)
    if tty then
      io.stderr:write("\r\27[K", line, final and "\n" or "")
    elseif every > 0 or final then
      log.info(line)
    end
  end

  local window = settings.concurrency * 2
  while true do
    local interrupts = glean.interrupts and glean.interrupts() or 0
    if interrupts >= 2 then
      log.warn(interrupted_at and "interrupted again: stopping now" or "stopping now")
      interrupted_at = interrupted_at or now()
      engine:cancel()
      break
    elseif interrupts == 1 and not interrupted_at then
      interrupted_at = now()
      log.warn(("interrupted: finishing pages in flight (up to %gs; Ctrl-C again to stop now)"):format(settings.grace))
    end
    if interrupted_at and now() - interrupted_at > settings.grace then
      engine:cancel()
    end
    if not interrupted_at then
      while in_flight < window do
        local url, depth = frontier:next()
        if not url then break end
        start(url, depth)
      end
    end
    local pending = sched.step(engine, 50)
    if every > 0 and now() - last_report >= every then
      last_report = now()
      progress(false)
    end
    if pending == 0 and handlers == 0 and (interrupted_at or frontier:queued() == 0) then break end
  end
  engine:cancel()
  while sched.step(engine, 0) > 0 do end

  stats.elapsed = now() - t0
  stats.pages_per_second = stats.pages / math.max(stats.elapsed, 1e-9)
  -- A signal that came while a handler ran, the last one, was not seen
  -- by the loop, which then found nothing left to do.
  stats.interrupted = interrupted_at ~= nil or (glean.interrupts ~= nil and glean.interrupts() > 0)
  local fs = engine:stats()
  stats.requests, stats.retries = fs.requests, fs.retries
  progress(true)
  if settings.stats_file then
    local f, err = io.open(settings.stats_file, "w")
    if not f then error("cannot write stats: " .. err, 0) end
    f:write(glean.json.encode(stats), "\n")
    f:close()
  end
  return stats
end

crawl.rule_for = rule_for
crawl.emit_result = emit_result
crawl.check_adapter = check_adapter

return crawl
