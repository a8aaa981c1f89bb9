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
--
-- With options.warc_in (files) or warc_data (WARC records in a string),
-- the pages come from web archives instead of the network (glean.warc):
-- each archived response a rule handles goes to that rule as a fetched
-- one would, in the archive's order, one at a time; links are not
-- followed. A state file then keeps the file and offset reached.
local glean = require "glean"
local sched = require "glean.sched"
local page_mt = require "glean.page"
local sandbox = require "glean.sandbox"
local urls = require "glean.urls"

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
  state_commit = 1,      -- with a state file: seconds between commits (0: after every page)
}

-- With a state file, a commit also comes after this many pages, however
-- fast they come: what a kill makes the crawl redo stays small.
local COMMIT_PAGES = 1000

-- The options both adapters (settings) and callers (command line, API) may set.
local OPTION_TYPES = {
  depth = "number", concurrency = "number", per_host = "number", delay = "number",
  timeout = "number", retries = "number", max_queued = "number", max_body = "number",
  robots = "boolean", cookies = "boolean", user_agent = "string", progress = "number",
  grace = "number", mirrors = "table", tracking = "table", stats_file = "string", cacert = "string",
  urls = "table", allow_subdomains = "boolean", deadline = "number", connect_timeout = "number",
  on_error = "function",  -- on_error(url, message) for each page that failed (the embedding API's)
  memory_limit = "number", time_limit = "number", time_limit_seconds = "number", -- adapter code's limits (glean.sandbox)
  out = "table", format = "string", table = "string", fsync = "string", -- where records go (glean.sink)
  state = "string", state_commit = "number",  -- the crawl state file (--state)
  frontier = "string",                        -- the crawl state shared in Redis (--frontier)
  warc_in = "table", warc_data = "string",    -- pages from WARC files, or from WARC records in memory
  cache = "string", cache_mode = "string", offline = "boolean",  -- the HTTP cache (--cache)
  warc_out = "string", warc_max_size = "number",  -- every exchange into WARC files (--warc-out)
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
  out = "caller", format = "caller", table = "caller", fsync = "caller",
  state = "caller", state_commit = "caller", frontier = "caller", warc_in = "caller", warc_data = "caller",
  cache = "caller", cache_mode = "caller", offline = "caller",
  warc_out = "caller", warc_max_size = "caller",
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

local host_of, origin_of, path_of, target_of = urls.host_of, urls.origin_of, urls.path_of, urls.target_of

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
    if rule.refresh ~= nil and (type(rule.refresh) ~= "number" or rule.refresh < 0) then
      error(at .. ".refresh must be a number of seconds (pages it handles are fetched again when older)", 0)
    end
    if rule.charset ~= nil and (type(rule.charset) ~= "string" or not glean.charset(rule.charset)) then
      error(("%s.charset: unknown charset '%s' (not a label of the WHATWG Encoding Standard)"):format(at, tostring(rule.charset)), 0)
    end
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
  if adapter.fields ~= nil then
    if type(adapter.fields) ~= "table" or #adapter.fields == 0 then
      error(where .. ": 'fields' must be a list of field names (the columns of CSV and SQLite output, in order)", 0)
    end
    local seen = {}
    for i, name in ipairs(adapter.fields) do
      if type(name) ~= "string" or name == "" then error(("%s: fields[%d] must be a field name (a string)"):format(where, i), 0) end
      if seen[name] then error(("%s: fields[%d]: '%s' is listed twice"):format(where, i, name), 0) end
      seen[name] = true
    end
  end
  if adapter.key ~= nil then
    if type(adapter.key) ~= "string" or adapter.key == "" then error(where .. ": 'key' must be the name of a field (the record's identity)", 0) end
    local listed = adapter.fields == nil
    for _, name in ipairs(adapter.fields or {}) do listed = listed or name == adapter.key end
    if not listed then error(("%s: key '%s' is not one of the fields"):format(where, adapter.key), 0) end
  end
  if adapter.settings ~= nil then
    if type(adapter.settings) ~= "table" then error(where .. ": 'settings' must be a table", 0) end
    check_options(adapter.settings, where .. ": settings")
    -- It would run in the crawl's own code, outside the adapter's limits,
    -- whatever the trust.
    if adapter.settings.on_error ~= nil then error(where .. ": settings: 'on_error' is the caller's option, not an adapter's", 0) end
  end
end

-- The rule that handles url's page, and its index (the URL's tag in the
-- frontier, by which a state file knows which pages to refresh).
local function rule_for(adapter, url)
  local path = path_of(url)
  for i, rule in ipairs(adapter.pages) do
    if rule.path then
      if path:find(rule.path) then return rule, i end
    elseif rule.match(url) then
      return rule, i
    end
  end
end

-- Whose crawl a state file holds: the adapter's name, else its file's.
local function adapter_name(adapter, where)
  return adapter.name or where:match("([^/]*)%.lua$") or where
end

-- The counts of stats a resumed crawl carries on (the rest are its own).
local COUNTS = {"pages", "records", "failed", "handler_errors", "fetch_errors", "http_errors",
                "robots_skipped", "bytes", "elapsed", "requests", "retries", "warc_records", "warc_skipped"}

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

-- The crawl's outputs (settings.out): a Sink for each file, and whether
-- stdout ("-") is one of them. Without out, records go to the runtime's
-- own sink alone.
local function open_outputs(adapter, settings)
  local sinks, stdout = {}, false
  local opts = {
    format = settings.format, fields = adapter.fields, key = adapter.key, fsync = settings.fsync,
    table = settings.table or adapter.name,
  }
  for _, path in ipairs(settings.out) do
    if path == "-" then
      stdout = true
    else
      local ok, s = pcall(glean.sink, path, opts)
      if not ok then
        for _, open in ipairs(sinks) do open:close() end
        error(s, 0)
      end
      sinks[#sinks + 1] = s
    end
  end
  return sinks, stdout
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
  if settings.cache_mode and not settings.cache then
    error("cache_mode (--cache-mode) needs a cache file: --cache PATH", 0)
  end

  -- The limits first: the engine sizes what its workers may parse by the
  -- memory limit (lfetch.c).
  local restore_limits = sandbox.for_crawl(adapter, options, log.warn)
  local made, engine = pcall(glean.engine, {
    concurrency = settings.concurrency, per_host = settings.per_host, delay = settings.delay,
    timeout = settings.timeout, retries = settings.retries, max_body = settings.max_body,
    cookies = settings.cookies, user_agent = settings.user_agent, cacert = settings.cacert,
    mirrors = settings.mirrors, deadline = settings.deadline, connect_timeout = settings.connect_timeout,
    cache = settings.cache, cache_mode = settings.cache_mode, offline = settings.offline,
    warc_out = settings.warc_out, warc_max_size = settings.warc_max_size,
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
  local outputs = {}
  local _ <close> = setmetatable({}, {__close = function()
    glean.use_engine(previous_engine)
    engine:close()
    restore_limits()
    glean.set_outputs()
    for _, s in ipairs(outputs) do pcall(s.close, s) end
  end})
  if settings.out then
    local stdout
    outputs, stdout = open_outputs(adapter, settings)
    glean.set_outputs(outputs, stdout)
  end
  -- Batches end by time as well as by count, also while no record comes.
  local last_flush = now()
  local function flush_outputs()
    last_flush = now()
    for _, s in ipairs(outputs) do s:flush() end
  end
  local made_frontier, frontier = pcall(glean.frontier, {
    max_depth = settings.depth, max_queued = settings.max_queued, tracking = settings.tracking,
    allow_subdomains = settings.allow_subdomains,
    state = settings.state, frontier = settings.frontier,
    adapter = (settings.state or settings.frontier) and adapter_name(adapter, where),
  })
  if not made_frontier then error((tostring(frontier):gsub("^%[glean%][^:]*:%d+: ", "")), 0) end
  -- A state file is let go of however the crawl ends: an error undoes
  -- what was not committed, as a kill would.
  local _ <close> = setmetatable({}, {__close = function() frontier:close() end})
  local state = settings.state ~= nil or settings.frontier ~= nil
  -- Shared with other processes (Redis): the sinks and stats are each
  -- worker's own (its stats kept in Redis under its name, not resumed);
  -- pages in hand are leased, the leases renewed by every commit.
  local shared = settings.frontier ~= nil
  local records = state and require "glean.records"

  local warc = settings.warc_in ~= nil or settings.warc_data ~= nil
  local seeds = settings.urls and #settings.urls > 0 and settings.urls or adapter.start_urls or {}
  if warc then seeds = {} end
  if warc and shared then error("--frontier: WARC input (--warc-in) is not crawled through a shared frontier", 0) end
  if #seeds == 0 and not warc then error(where .. ": no URLs to crawl (give some, or set start_urls)", 0) end
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
  -- A resumed crawl: its outputs back to what the state committed (the
  -- records of pages not marked done then go, to be written again), and
  -- its stats where they were.
  local base = {elapsed = 0, requests = 0, retries = 0, warc_records = 0, warc_skipped = 0}
  if state and not shared then
    local positions = frontier:get("sinks")
    if positions then records.rewind(glean.json.decode(positions)) end
    local kept = frontier:get("stats")
    if kept then
      kept = glean.json.decode(kept)
      for _, k in ipairs(COUNTS) do
        if base[k] then base[k] = kept[k] or 0 else stats[k] = kept[k] or 0 end
      end
      stats.started = kept.started or stats.started
      for k, v in pairs(kept.dropped or {}) do stats.dropped[k] = v end
    end
  end
  if state then
    for i, rule in ipairs(adapter.pages) do
      if rule.refresh then
        local n = frontier:refresh(i, rule.refresh)
        if n > 0 then log.info(("refresh: %d pages of pages[%d] are older than %gs"):format(n, i, rule.refresh)) end
      end
    end
  end
  local t0 = now()
  -- Pages of earlier runs (the stats count the whole crawl): the progress
  -- line's rate is this run's.
  local pages_before = stats.pages
  local in_flight = 0
  -- Handlers not yet finished: this crawl's own count, so that handlers
  -- another crawl left waiting (it failed) cannot keep this one going.
  local handlers = 0
  local full_warned = false
  local agent = settings.user_agent:match("^[%w_-]+") or "glean"
  local robots = {}        -- origin -> Robots, or a list of pages waiting for it
  local interrupted_at     -- when the first Ctrl-C came

  -- dropped: where refusals are counted (a page's own, until it is done).
  local function add(url, depth, referer, tag, dropped)
    if not url then return end
    local status = frontier:add(url, depth, tag)
    if status == "added" or status == "seen" then return end
    dropped[status] = (dropped[status] or 0) + 1
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
  local function follow(url, depth, referer, dropped)
    if url and adapter.canonical then url = glean.url.canonical(url, adapter.canonical) end
    if not url then return end
    local rule, tag = sandbox.call(rule_for, adapter, url)
    if rule then add(url, depth, referer, tag, dropped or stats.dropped) end
  end

  for _, url in ipairs(seeds) do
    -- Stopped already (glean_cancel before the crawl): rule_for is the
    -- adapter's code, which would fail at once; the loop stops the crawl.
    if glean.interrupts and glean.interrupts() >= 2 then break end
    if type(url) ~= "string" then error(where .. ": start URLs must be strings", 0) end
    local _, tag = sandbox.call(rule_for, adapter, url)
    local status = frontier:add(url, 0, tag or 0)
    if status == "bad URL" then error(("not a crawlable URL: %s"):format(url), 0) end
  end

  -- WARC input: the reader, where a resumed run goes on from (the state
  -- keeps the file list, and the file and offset reached).
  local reader, warc_files
  if warc then
    local opened
    if settings.warc_data then
      opened, reader = pcall(glean.warc_string, settings.warc_data, "WARC data", {max_body = settings.max_body})
      warc_files = {"WARC data"}
    else
      opened, reader, warc_files = pcall(glean.warc, settings.warc_in, {max_body = settings.max_body})
    end
    if not opened then error((tostring(reader):gsub("^%[glean%][^:]*:%d+: ", "")), 0) end
    -- The files of the runs before must begin the list: files added
    -- after them (a glob that matches more) are read after them.
    local kept = state and frontier:get("warc")
    if kept then
      kept = glean.json.decode(kept)
      for i, name in ipairs(kept.files) do
        if warc_files[i] ~= name then
          error(("--state: WARC file %d of the crawl was %s, now %s"):format(i, name, warc_files[i] or "none"), 0)
        end
      end
      local ok, err = pcall(reader.seek, reader, kept)
      if not ok then error(("--state: %s"):format(err), 0) end
    end
  end
  local _ <close> = setmetatable({}, {__close = function() if reader then reader:close() end end})

  -- The stats as of now, whole crawl (all its runs).
  local function totals()
    if reader then
      local ws = reader:stats()
      stats.warc_records, stats.warc_skipped = base.warc_records + ws.records, base.warc_skipped + ws.skipped
    end
    local fs = engine:stats()
    stats.elapsed = base.elapsed + now() - t0
    stats.requests, stats.retries = base.requests + fs.requests, base.retries + fs.retries
    -- This run's (a resumed crawl's earlier runs not counted).
    stats.fetch_error_kinds = glean.json.object(fs.errors)
    if settings.cache then
      stats.cache_hits, stats.cache_revalidated = fs.cache_hits, fs.cache_revalidated
      stats.cache_stored, stats.cache_errors = fs.cache_stored, fs.cache_errors
    end
    return stats
  end

  -- Each page handed out ends here once (unless the crawl stops first):
  -- with a state file, it is marked done, failed or skipped, to be
  -- committed with the records it gave.
  local finished = 0
  local function finish(url, mark)
    finished = finished + 1
    if state and not warc then frontier:done(url, mark) end
  end

  -- A commit: the sinks flushed, then in one transaction the pages done
  -- since the last, the URLs they queued, the stats, and where each sink
  -- stands. A kill at any point leaves the last commit whole.
  local last_commit, committed = now(), 0
  local function commit()
    records.flush()
    if not shared then frontier:put("sinks", glean.json.encode(records.positions())) end
    frontier:put("stats", glean.json.encode(totals()))
    if reader then
      local at = reader:where()
      at.files, at.name = warc_files, nil
      frontier:put("warc", glean.json.encode(at))
    end
    frontier:commit()
    last_commit, committed = now(), finished
  end
  if state then commit() end

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

  local handle
  local function on_response(resp, url, depth, rule)
    in_flight = in_flight - 1
    if resp.error then
      -- A fetch the crawl itself called off when told to stop is no failure
      -- of the page (nor its end: a state file keeps it queued).
      if resp.error_kind ~= "cancelled" then
        stats.fetch_errors = stats.fetch_errors + 1
        stats.failed = stats.failed + 1
        log.warn(("fetch failed (%s): %s"):format(resp.error_kind, resp.error))
        failed(url, resp.error)
        finish(url, "failed")
      end
      resp:close()
      return
    end
    -- A redirect to a page queued or handled under its own URL: handled
    -- there, not twice.
    if resp.url ~= url and frontier:mark_seen(resp.url, url) == "seen" then
      log.debug(("%s redirects to %s, already seen: skipped"):format(url, resp.url))
      resp:close()
      finish(url, "skipped")
      return
    end
    log.debug(("fetched %d %s"):format(resp.status, url))
    handle(resp, url, depth, rule, function(link, dropped) follow(link, depth + 1, url, dropped) end)
  end

  -- A response (fetched, or from an archive) to its rule: an HTTP error
  -- fails the page; else its page goes to the rule's handlers.
  -- follow_link(url, dropped) takes the links the page follows.
  function handle(resp, url, depth, rule, follow_link)
    if resp.status >= 400 then
      stats.pages = stats.pages + 1
      stats.bytes = stats.bytes + resp.size
      stats.http_errors = stats.http_errors + 1
      log.warn(("HTTP %d: %s"):format(resp.status, url))
      failed(url, ("HTTP %d"):format(resp.status))
      resp:close()
      finish(url, "failed")
      return
    end
    -- The page counts once it is done: a commit in between must not count
    -- a page that a kill then has redone. So do the URLs it had refused.
    local size, dropped = resp.size, {}
    -- The page is where the request ended up, after any redirect.
    local page = page_mt.new(resp, resp.url, depth, function(link) follow_link(link, dropped) end, nil, rule.charset)
    handlers = handlers + 1
    local guard = sandbox.guard()
    sched.spawn_guarded(guard, run_page, function(ok, err)
      handlers = handlers - 1
      -- Not page:close(): the handler may have replaced that.
      page_mt.close(page)
      stats.pages = stats.pages + 1
      stats.bytes = stats.bytes + size
      for k, v in pairs(dropped) do stats.dropped[k] = (stats.dropped[k] or 0) + v end
      if not ok then
        err = guard.explain(err)
        stats.handler_errors = stats.handler_errors + 1
        stats.failed = stats.failed + 1
        log.error(("handler failed for %s: %s"):format(url, tostring(err)))
        failed(url, tostring(err))
      end
      finish(url, ok and "done" or "failed")
    end, page, rule)
  end

  local function submit(url, depth, rule)
    in_flight = in_flight + 1
    -- A rule's charset parses on the Lua thread (page:doc): the worker
    -- would parse in the charset the page announced.
    local id = engine:submit({url = url, html = not rule.charset})
    sched.on(engine, id, function(resp) on_response(resp, url, depth, rule) end)
  end

  local function use_robots(origin, rules)
    robots[origin] = rules
    local delay = rules:crawl_delay()
    if delay and delay > settings.delay then engine:set_host_delay(host_of(origin), delay) end
  end

  local function robots_skip(url)
    stats.robots_skipped = stats.robots_skipped + 1
    log.debug("robots.txt disallows " .. url)
    finish(url, "skipped")
  end

  local function robots_ready(origin, resp)
    local waiting = robots[origin]
    -- Unreachable means all disallowed (RFC 9309), which would otherwise
    -- look like a site without pages (a certificate not trusted, say).
    if resp.error and resp.error_kind ~= "cancelled" then
      log.warn(resp.error .. " (robots.txt unreachable: the site's pages are skipped)")
    end
    local unreachable = resp.error
    local status, body = unreachable and 0 or resp.status, unreachable and "" or resp.body
    local rules = glean.robots(status, body, agent)
    resp:close()
    use_robots(origin, rules)
    -- A state file keeps the rules fetched (not an unreachable robots.txt:
    -- the next run tries again), once the sitemaps they name have given
    -- their URLs: a kill before would lose those.
    local sitemaps = adapter.sitemap and rules:sitemaps() or {}
    local pending = #sitemaps
    local function keep()
      if state and not unreachable then frontier:put("robots " .. origin, status .. "\n" .. body) end
    end
    if pending == 0 then keep() end
    if adapter.sitemap then
      for _, sm in ipairs(sitemaps) do
        local id = engine:submit({url = sm})
        sched.on(engine, id, function(r)
          pending = pending - 1
          if pending == 0 and not r.error then keep() end
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
      else robots_skip(item[1]) end
    end
  end

  local function start(url, depth)
    local rule = sandbox.call(rule_for, adapter, url)
    if not rule then
      log.warn("no page rule matches " .. url .. ": skipped")
      return finish(url, "skipped")
    end
    if not settings.robots then return submit(url, depth, rule) end
    local origin = origin_of(url)
    local rules = robots[origin]
    local kept = rules == nil and state and frontier:get("robots " .. origin)
    if kept then
      local status, body = kept:match("^(%d+)\n(.*)$")
      rules = glean.robots(tonumber(status), body, agent)
      use_robots(origin, rules)
    end
    if rules == nil then
      robots[origin] = {{url, depth, rule}}
      local id = engine:submit({url = origin .. "/robots.txt", retries = 1})
      sched.on(engine, id, function(resp) robots_ready(origin, resp) end)
    elseif type(rules) == "table" then
      rules[#rules + 1] = {url, depth, rule}
    elseif rules:allowed(target_of(url)) then
      submit(url, depth, rule)
    else
      robots_skip(url)
    end
  end

  -- Progress: a live line on a terminal, periodic plain lines otherwise.
  local tty = glean.log.to_terminal()
  local every = settings.progress or (tty and 1 or 10)
  local last_report = now()
  local function progress(final)
    local elapsed = now() - t0
    local line = ("pages %d | queued %d | in flight %d | %.1f pages/s | errors %d | %.1f MB"):format(
      stats.pages, frontier:queued(), in_flight, (stats.pages - pages_before) / math.max(elapsed, 1e-9), stats.failed,
      stats.bytes / 1e6)
    if tty then
      io.stderr:write("\r\27[K", line, final and "\n" or "")
    elseif every > 0 or final then
      log.info(line)
    end
  end

  -- The next archived response to its rule, if one handles it: false once
  -- the archives are read. Redirects are not pages (a crawl follows them).
  local warc_done = false
  local function warc_take()
    local resp = reader:next()
    if not resp then return false end
    local url = resp.url
    if resp.error then  -- over the memory limit
      stats.failed = stats.failed + 1
      log.warn(resp.error)
      failed(url, resp.error)
      resp:close()
      finish(url, "failed")
      return true
    end
    local rule = sandbox.call(rule_for, adapter, url)
    if not rule or (resp.status >= 300 and resp.status < 400) then
      log.debug(("%s %d %s: skipped"):format(rule and "redirect" or "no page rule for", resp.status, url))
      resp:close()
      return true
    end
    handle(resp, url, 0, rule, function() end)
    return true
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
    if warc then
      -- One record at a time: the position a commit keeps is then past
      -- only pages done. A handler that waits on glean.fetch holds the
      -- next one back.
      local taken = 0
      while not interrupted_at and not warc_done and handlers == 0 and taken < 100 do
        warc_done = not warc_take()
        taken = taken + 1
      end
    elseif not interrupted_at then
      while in_flight < window do
        local url, depth = frontier:next()
        if not url then break end
        start(url, depth)
      end
    end
    local pending = (not warc or handlers > 0 or engine:pending() > 0) and sched.step(engine, 50) or 0
    if #outputs > 0 and now() - last_flush >= 1 then flush_outputs() end
    if state and (finished > committed or shared)
        and (finished - committed >= COMMIT_PAGES or now() - last_commit >= settings.state_commit) then
      commit()
    end
    if every > 0 and now() - last_report >= every then
      last_report = now()
      progress(false)
    end
    if pending == 0 and handlers == 0 and (interrupted_at or (frontier:queued() == 0 and (not warc or warc_done))) then
      break
    end
  end
  engine:cancel()
  while sched.step(engine, 0) > 0 do end
  flush_outputs()

  totals()
  stats.pages_per_second = stats.pages / math.max(stats.elapsed, 1e-9)
  -- A signal that came while a handler ran, the last one, was not seen
  -- by the loop, which then found nothing left to do.
  stats.interrupted = interrupted_at ~= nil or (glean.interrupts ~= nil and glean.interrupts() > 0)
  if state then commit() end
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
crawl.open_outputs = open_outputs
crawl.check_adapter = check_adapter

return crawl
