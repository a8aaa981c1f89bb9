-- glean.cli — the subcommands of the glean command that are written in Lua:
--   glean run ADAPTER [URL...] [options]   crawl with a site adapter
--   glean shell URL|FILE                   a REPL with the page loaded
--   glean test ADAPTER --expect FILE       an adapter's records against FILE's
--   glean state PATH                       what a crawl state file holds
--   glean status PATH|redis://HOST:PORT/NAME  a crawl's progress, from either
-- Each returns the process exit status.
local glean = require "glean"
local sandbox = require "glean.sandbox"

local cli = {}

local RUN_USAGE = [[
usage: glean run ADAPTER [URL...] [options]
       glean run ADAPTER --warc-in FILE... [options]

Crawls with ADAPTER (a Lua file returning an adapter table, or the name of
one in sites/) from the URLs given, else from the adapter's start_urls.
Records go to stdout as JSON lines (or to the --out files); progress and
errors to stderr.

options:
  --out PATH            write the records to PATH: .jsonl (JSON Lines), .csv or
                        .sqlite / .db, appended to (SQLite: upserted on the key);
                        - is stdout (the default); repeatable: several at once
  --format FORMAT       jsonl, csv or sqlite, whatever the --out extensions
  --table NAME          the SQLite table (default: the adapter's name)
  --fsync POLICY        never, batch (default: at the end of each batch of 500
                        records or 1 s) or always (each record): what survives
                        a power loss; a killed glean loses nothing written
  --warc-in FILE...     run over the responses archived in these WARC files (.warc,
                        .warc.gz; globs are expanded) instead of the network: each
                        one a page rule handles goes to its parse, links are not
                        followed; damaged records are warned of (file and byte
                        offset) and passed over; with --state a run goes on at the
                        file and offset reached
  --depth N             follow links at most N hops from the start URLs (0: only them)
  --mirror ORIGIN=LOC   serve URLs under ORIGIN from LOC (a base URL or a directory);
                        repeatable
  --ignore-robots       do not obey robots.txt
  --concurrency N       pages in progress: fetching, or fetched and waiting to be
                        parsed (default 32)
  --per-host N          requests in flight to one host (default 8)
  --delay SECONDS       least time between requests to one host (default 0)
  --timeout SECONDS     per try of a request (default 60)
  --connect-timeout SECONDS  per connection attempt (default 10)
  --deadline SECONDS    per request, all its tries and waits (default: none)
  --retries N           tries after the first, for GET and other idempotent
                        requests, on 408, 429, 500, 502, 503, 504, 522, 524 and
                        network errors that may pass (default 2)
  --max-queued N        cap on URLs waiting to be crawled (default 1000000)
  --user-agent STRING   (default glean/VERSION)
  --cacert FILE         verify https servers with the CA certificates in FILE (PEM),
                        as curl's --cacert does
  --no-cookies          do not keep cookies between requests
  --stats FILE          write the final stats as JSON to FILE
  --state PATH          keep the crawl's state (queue, seen URLs, pages done, robots.txt
                        rules, stats) in the SQLite file PATH, committed every second:
                        run again with the same arguments after any stop (Ctrl-C, kill,
                        crash) and the crawl goes on where it was; run a finished one
                        again and it fetches only pages whose rule has `refresh` and are
                        older than that. Records to a file (>> FILE) come exactly once
                        across the runs; to a pipe or a terminal, at least once (the
                        pages of the last second before a kill come again)
  --state-commit SECONDS  time between commits of the state (default 1; 0: after
                        every page)
  --frontier redis://[[USER]:PASS@]HOST[:PORT]/NAME[?lease=S&wait=S]
                        share the crawl's state (queue, seen URLs, pages done,
                        robots.txt rules) in Redis under keys NAME:*, so that any
                        number of glean run processes with the same adapter and
                        frontier crawl it together; each page is leased (S seconds,
                        default 60) until its records are written, so a worker that
                        dies loses nothing (its pages are fetched again). Password
                        also from REDISCLI_AUTH; Redis lost mid-crawl: retries for
                        wait seconds (default 60), then exits 2
  --cache PATH          keep every response (GET and HEAD; final URL, status,
                        headers, body, redirects) in the SQLite file PATH, and
                        answer later requests from it (several runs may share it)
  --cache-mode MODE     fresh (default): RFC 9111 rules: a fresh entry answers
                        (Cache-Control max-age, Expires, Age; without them 10% of
                        the time since Last-Modified, at most a day), a stale one
                        is revalidated (If-None-Match / If-Modified-Since; a 304
                        answers with the entry); always: any entry answers,
                        however old (replaying a recorded site); refresh: every
                        request goes out and its response is stored. In always
                        and refresh, no-store responses are kept too
  --offline             nothing goes to the network: requests are answered from
                        the --cache (any entry, however old) or fail with the
                        fetch error kind offline (stats: fetch_error_kinds);
                        directory mirrors still serve
  --warc-out PATH       record every HTTP exchange (request and response, as sent
                        and received) in WARC/1.1 files: PATH is NAME.warc.gz (a gzip
                        member per record) or NAME.warc, written as NAME-00000.warc.gz,
                        NAME-00001.warc.gz, ... (a run starts a new file after the
                        highest there)
  --warc-max-size SIZE  start the next WARC file before one passes SIZE bytes
                        (K, M, G suffixes: powers of 1024; default 1G; 0: never)
  --progress SECONDS    time between progress lines (0: none)
  --log-level LEVEL     debug, info, warn, error or off (default info)
  --trust               run the adapter with the full standard library (default: a
                        sandbox without os.execute, io.popen, writing files, ...)
  --memory-limit MB     memory the runtime may reach while adapter code runs;
                        a handler past it fails its page (default 1024; 0: none)
  --time-limit N        Lua instructions one handler call may run (5e7 to 2e8 take a
                        second); past it the page fails (default 1e9; 0: none)
  --time-limit-seconds S
                        seconds one handler call may run (waits for the network
                        not counted); past them the page fails (default 10; 0: none)

exit status: 0 all pages handled, 1 some page failed (fetch or handler
error), 2 usage or adapter error, 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM).
]]

local function usage_error(msg, command)
  io.stderr:write("glean: ", msg, "\n(see glean ", command or "run", " --help)\n")
  return 2
end

-- glean run's options by name (without the dashes): the kind of value each
-- takes and the crawl option it sets.
local OPTIONS = {
  depth = {"number", "depth"}, concurrency = {"number", "concurrency"}, ["per-host"] = {"number", "per_host"},
  delay = {"number", "delay"}, timeout = {"number", "timeout"}, retries = {"number", "retries"},
  deadline = {"number", "deadline"}, ["connect-timeout"] = {"number", "connect_timeout"},
  ["max-queued"] = {"number", "max_queued"}, progress = {"number", "progress"},
  ["ignore-robots"] = {"flag", "robots"}, ["no-cookies"] = {"flag", "cookies"},
  ["user-agent"] = {"string", "user_agent"}, stats = {"string", "stats_file"},
  mirror = {"mirror", "mirrors"}, ["log-level"] = {"level"}, cacert = {"string", "cacert"},
  trust = {"trust"}, ["memory-limit"] = {"limit", "memory_limit"}, ["time-limit"] = {"limit", "time_limit"},
  ["time-limit-seconds"] = {"limit", "time_limit_seconds"},
  out = {"out", "out"}, format = {"choice", "format", {jsonl = true, csv = true, sqlite = true}},
  table = {"string", "table"}, fsync = {"choice", "fsync", {never = true, batch = true, always = true}},
  state = {"string", "state"}, frontier = {"string", "frontier"}, ["state-commit"] = {"number", "state_commit"},
  ["warc-in"] = {"out", "warc_in"},
  cache = {"string", "cache"}, ["cache-mode"] = {"choice", "cache_mode", {fresh = true, always = true, refresh = true}},
  offline = {"switch", "offline"},
  ["warc-out"] = {"string", "warc_out"}, ["warc-max-size"] = {"size", "warc_max_size"},
}

-- Kinds of option that take no value: a flag turns its setting off, a
-- switch on.
local FLAG = {flag = true, switch = true, trust = true}

-- Applies glean run's option NAME with VALUE to a crawl options table: the
-- one reading of these options, for the command line and the embedding API
-- (glean_set_option). A flag takes nil or "true" (the API may say "false"
-- to undo it); mirror adds to a list; log-level sets the runtime's logger;
-- trust and the limits set the runtime's (glean.sandbox: adapters loaded
-- and handlers run from then on), the limits the crawl's too.
-- Returns true, or nil and a message.
function cli.set_option(options, name, value)
  local spec, flag = OPTIONS[name], "--" .. name
  if not spec then return nil, ("unknown option '%s'"):format(flag) end
  local kind, key = spec[1], spec[2]
  if FLAG[kind] then
    if value ~= nil and value ~= "true" and value ~= "false" then
      return nil, ("%s takes no value (or true / false), got '%s'"):format(flag, value)
    end
    if kind == "trust" then sandbox.set("trust", value ~= "false")
    elseif kind == "switch" then options[key] = value ~= "false"
    else options[key] = value == "false" end
    return true
  end
  if value == nil then return nil, ("option %s needs a value"):format(flag) end
  if kind == "limit" then
    local n = tonumber(value)
    if not n or n < 0 or n == math.huge then
      return nil, ("%s needs a number (0: no limit), got '%s'"):format(flag, value)
    end
    options[key] = n
    sandbox.set(key, n)
  elseif kind == "number" then
    local n = tonumber(value)
    if not n or n < 0 then return nil, ("%s needs a number, got '%s'"):format(flag, value) end
    options[key] = n
  elseif kind == "size" then
    local digits, unit = value:match("^(%d+%.?%d*)([KkMmGg]?)$")
    if not digits then return nil, ("%s needs a size in bytes (K, M or G suffix), got '%s'"):format(flag, value) end
    options[key] = math.floor(tonumber(digits) * 1024 ^ (({k = 1, m = 2, g = 3})[unit:lower()] or 0))
  elseif kind == "string" then
    options[key] = value
  elseif kind == "out" then
    options[key] = options[key] or {}
    table.insert(options[key], value)
  elseif kind == "choice" then
    if not spec[3][value] then
      local names = {}
      for k in pairs(spec[3]) do names[#names + 1] = k end
      table.sort(names)
      return nil, ("%s must be %s, got '%s'"):format(flag, table.concat(names, ", "), value)
    end
    options[key] = value
  elseif kind == "mirror" then
    if not value:find("^.+=.+$") then return nil, ("--mirror needs ORIGIN=LOCATION, got '%s'"):format(value) end
    options[key] = options[key] or {}
    table.insert(options[key], value)
  elseif not pcall(glean.log.set_level, value) then
    return nil, ("unknown log level '%s' (debug, info, warn, error, off)"):format(value)
  end
  return true
end

-- Resolves an adapter argument: a path, or a name in sites/.
local function adapter_path(name)
  local f = io.open(name, "r")
  if f then f:close() return name end
  if not name:find("[/.]") then
    local candidate = "sites/" .. name .. ".lua"
    f = io.open(candidate, "r")
    if f then f:close() return candidate end
  end
  return nil
end

-- Both load through glean.sandbox (the adapter's environment, its limits,
-- trust); its own globals stay its own.

-- Loads an adapter file, whose folder holds the modules it may require;
-- returns the adapter, or nil and a message.
function cli.load_adapter(path)
  return sandbox.load(function(env) return loadfile(path, "t", env) end, path, path:match("^(.*)/[^/]*$") or ".")
end

-- Loads an adapter from its source text (the embedding API's).
function cli.load_adapter_source(source, name)
  return sandbox.load(function(env) return load(source, "=" .. name, "t", env) end, name, nil)
end

-- Reads glean run's arguments (with extra, options of the subcommand's
-- own by name: "flag" or "string", into own); returns the crawl options,
-- the adapter, own; or nil and the exit status (after --help: usage
-- printed; after a mistake: said on stderr).
local function parse_run_args(args, command, usage, extra)
  local options, own = {urls = {}}, {}
  local adapter_arg
  local i = 1
  while i <= #args do
    local a = args[i]
    local function value()
      i = i + 1
      if args[i] == nil then error(("option %s needs a value"):format(a), 0) end
      return args[i]
    end
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    if name then
      a = name
      table.insert(args, i + 1, inline)
    end
    if a == "--help" or a == "-h" then
      io.stdout:write(usage)
      return nil, 0
    elseif extra and extra[a:sub(3)] then
      own[a:sub(3)] = extra[a:sub(3)] == "flag" or value()
    elseif a:sub(1, 2) == "--" then
      local spec = OPTIONS[a:sub(3)]
      if not spec then return nil, usage_error(("unknown option '%s'"):format(a), command) end
      local ok, err = cli.set_option(options, a:sub(3), not FLAG[spec[1]] and value() or nil)
      if not ok then return nil, usage_error(err, command) end
      -- --warc-in FILE...: the files a shell glob gave, up to the next option.
      while a == "--warc-in" and args[i + 1] and args[i + 1]:sub(1, 1) ~= "-" do
        i = i + 1
        cli.set_option(options, "warc-in", args[i])
      end
    elseif not adapter_arg then
      adapter_arg = a
    else
      options.urls[#options.urls + 1] = a
    end
    i = i + 1
  end
  if not adapter_arg then return nil, usage_error(command .. " needs an ADAPTER", command) end
  if options.warc_in and #options.urls > 0 then
    return nil, usage_error("URLs and --warc-in do not go together: the pages come from the archives", command)
  end
  local path = adapter_path(adapter_arg)
  if not path then
    -- One line, like the other adapter errors: the usage hint would not help.
    local also = adapter_arg:find("[/.]") and "" or (" (no such file, nor sites/%s.lua)"):format(adapter_arg)
    io.stderr:write(("glean: cannot find adapter '%s'%s\n"):format(adapter_arg, also))
    return nil, 2
  end
  local adapter, err = cli.load_adapter(path)
  if not adapter then
    io.stderr:write("glean: ", err, "\n")
    return nil, 2
  end
  return options, adapter, own
end

-- Runs the crawl; returns its stats, or nil and the exit status (an error
-- said on stderr, or the signal that interrupted it).
local function crawl(adapter, options)
  local ok, stats = pcall(glean.crawl, adapter, options)
  if not ok then
    io.stderr:write("glean: ", tostring(stats), "\n")
    return nil, 2
  end
  if stats.interrupted then
    local signal = glean.interrupts and select(2, glean.interrupts()) or 0
    return nil, 128 + (signal ~= 0 and signal or 2)
  end
  return stats
end

function cli.run(args)
  local options, adapter = parse_run_args(args, "run", RUN_USAGE)
  if not options then return adapter end
  local stats, status = crawl(adapter, options)
  if not stats then return status end
  return stats.failed > 0 and 1 or 0
end

local TEST_USAGE = [[
usage: glean test ADAPTER [URL...] --expect FILE [--update] [glean run's options]

Runs ADAPTER as glean run does over a recording of its site (--cache PATH,
replayed offline; --warc-in FILE...; or a saved copy, --mirror ORIGIN=DIR)
and compares the records with those in FILE (JSON
Lines), matched by the adapter's key (default: url), field by field (as
JSON: key order does not matter). Prints each record that differs (the
field, expected and got), those missing and those extra, then a summary.

options:
  --expect FILE         the records the adapter should emit
  --update              write the records emitted to FILE instead (sorted by key),
                        after looking at the diff
  and glean run's (glean run --help); records go to the comparison, and to
  --out files if given

exit status: 0 the records are as expected (or --update wrote them), 1 they
differ, 2 usage or adapter error, 130/143 interrupted.
]]

-- glean test: an adapter's records against the expected ones.
function cli.test(args)
  local options, adapter, own = parse_run_args(args, "test", TEST_USAGE, {expect = "string", update = "flag"})
  if not options then return adapter end
  if not own.expect then return usage_error("test needs --expect FILE", "test") end
  if options.format then return usage_error("--format has no use in glean test (its records are compared as JSON)", "test") end
  -- A test replays its recording: nothing goes to the network.
  if options.cache then options.offline = true end
  local expect = require "glean.expect"
  local expected
  local existing = io.open(own.expect)
  if existing then existing:close() end
  if not own.update or existing then
    local ok, err = pcall(expect.read, own.expect)
    if not ok then
      io.stderr:write("glean: ", err, "\n")
      return 2
    end
    expected = err
  end
  local base = os.tmpname()
  os.remove(base)
  local got_path = base .. ".jsonl"
  options.out = options.out or {}
  table.insert(options.out, got_path)
  local stats, status = crawl(adapter, options)
  local got = stats and expect.read(got_path)
  os.remove(got_path)
  if not stats then return status end
  local records = {}
  for i, e in ipairs(got) do records[i] = e.record end
  local key = adapter.key or "url"
  if stats.failed > 0 then
    io.stderr:write(("glean: note: %d pages failed (see the log above)\n"):format(stats.failed))
  end
  if own.update then
    local ok, err = pcall(expect.write, own.expect, records, key)
    if not ok then
      io.stderr:write("glean: ", err, "\n")
      return 2
    end
    if expected then io.stdout:write(expect.format(expect.compare(expected, records, key), own.expect)) end
    io.stdout:write(("wrote %d records to %s\n"):format(#records, own.expect))
    return 0
  end
  local report = expect.compare(expected, records, key)
  io.stdout:write(expect.format(report, own.expect))
  return report.equal and 0 or 1
end

local STATE_USAGE = "usage: glean state PATH   (what the crawl state file PATH holds)\n"

-- glean state PATH: what a state file holds, for people (its stats as of
-- the last commit).
function cli.state(args)
  local path = args[1]
  if not path or path == "--help" or path == "-h" then
    io[path and "stdout" or "stderr"]:write(STATE_USAGE)
    return path and 0 or 2
  end
  local ok, st = pcall(glean.frontier, {state = path, readonly = true})
  if not ok then
    io.stderr:write("glean: ", (tostring(st):gsub("^%[glean%][^:]*:%d+: ", "")), "\n")
    return 2
  end
  local out = io.stdout
  out:write(("state file %s, adapter %s\n"):format(path, st:get("adapter")))
  out:write(("created %s, last run %s\n"):format(st:get("created") or "?", st:get("last_run") or "?"))
  local hosts, all = st:hosts(), {queued = 0, done = 0, failed = 0, skipped = 0, seen = 0}
  for _, h in ipairs(hosts) do
    for k in pairs(all) do all[k] = all[k] + h[k] end
  end
  local function counts(c)
    return ("queued %d  done %d  failed %d  skipped %d  seen %d"):format(c.queued, c.done, c.failed, c.skipped, c.seen)
  end
  out:write("all hosts: ", counts(all), "\n")
  for _, h in ipairs(hosts) do out:write("  ", h.host, ": ", counts(h), "\n") end
  local stats = st:get("stats")
  if stats then
    stats = glean.json.decode(stats)
    out:write(("stats (last commit): pages %d, records %d, failed %d, %.1f s since %s\n"):format(
      stats.pages or 0, stats.records or 0, stats.failed or 0, stats.elapsed or 0, stats.started or "?"))
  end
  local warc = st:get("warc")
  if warc then
    warc = glean.json.decode(warc)
    local files = warc.files or {}
    if warc.file > #files then
      out:write(("WARC input: all %d files read\n"):format(#files))
    else
      -- member:skip, as warc_read.h has it: a file not compressed is 0:offset.
      out:write(("WARC input: file %d of %d (%s), next record at %d:%d (gzip member : bytes into it)\n"):format(
        warc.file, #files, files[warc.file], warc.member, warc.skip))
    end
  end
  st:close()
  return 0
end

local STATUS_USAGE = "usage: glean status PATH|redis://HOST:PORT/NAME   (a crawl's progress)\n"

-- glean status redis://HOST:PORT/NAME: a shared crawl's counters, per host;
-- glean status PATH: glean state's.
function cli.status(args)
  local where = args[1]
  if not where or where == "--help" or where == "-h" then
    io[where and "stdout" or "stderr"]:write(STATUS_USAGE)
    return where and 0 or 2
  end
  if not where:find("^rediss?://") then return cli.state(args) end
  local ok, st = pcall(glean.frontier, {frontier = where})
  if not ok then
    io.stderr:write("glean: ", (tostring(st):gsub("^%[glean%][^:]*:%d+: ", "")), "\n")
    return 2
  end
  local hosts, all = st:hosts(), {queued = 0, leased = 0, done = 0, failed = 0, skipped = 0, seen = 0}
  for _, h in ipairs(hosts) do
    for k in pairs(all) do all[k] = all[k] + h[k] end
  end
  table.sort(hosts, function(a, b) return a.host < b.host end)
  -- Queued counts the pages waiting, leased those handed out and not done.
  local function counts(c)
    return ("queued %d  leased %d  done %d  failed %d  skipped %d  seen %d"):format(
      c.queued, c.leased, c.done, c.failed, c.skipped, c.seen)
  end
  io.stdout:write(("frontier %s\n"):format(where:gsub("//[^@/]*@", "//")))
  io.stdout:write("all hosts: ", counts(all), "\n")
  for _, h in ipairs(hosts) do io.stdout:write("  ", h.host, ": ", counts(h), "\n") end
  -- Each worker's heartbeat is its last commit (every --state-commit s).
  local workers = st:workers()
  table.sort(workers, function(a, b) return a.worker < b.worker end)
  io.stdout:write(("workers: %d\n"):format(#workers))
  for _, w in ipairs(workers) do
    local s = w.stats and glean.json.decode(w.stats) or {}
    io.stdout:write(("  %s: last commit %d s ago, pages %d, records %d, failed %d%s\n"):format(
      w.worker, w.age, s.pages or 0, s.records or 0, s.failed or 0, s.pages_per_second and " (finished)" or ""))
  end
  st:close()
  return 0
end

local SHELL_HELP = [[
glean shell: the page is in `page`, as an adapter's handler gets it, its
document in `doc` (and the response, if fetched, in `resp`).
Try: page:text("h1"), page:texts("p"), page.url, doc:select_one("a"):absurl()
Each line is evaluated; expressions print their values. Ctrl-D quits.
]]

-- glean shell URL|FILE: a REPL with the page loaded, as a handler gets it.
function cli.shell(args)
  local page = require "glean.page"
  local target = args[1]
  if not target or target == "--help" or target == "-h" then
    io.stderr:write("usage: glean shell URL|FILE\n")
    return target and 0 or 2
  end
  local env = setmetatable({glean = glean}, {__index = _G})
  if target:find("^%a[%w+.-]*://") then
    local resp, err = glean.fetch(target)
    if not resp then
      io.stderr:write("glean: ", err, "\n")
      return 1
    end
    env.resp, env.doc = resp, resp:html()
    env.page = page.new(resp, resp.url, 0, function() end,
                        {url = resp.url, body = resp.body, html = function() return env.doc end, close = function() end})
  else
    local f, err = io.open(target, "rb")
    if not f then
      io.stderr:write("glean: cannot open '", target, "': ", err, "\n")
      return 2
    end
    local bytes = f:read("a")
    f:close()
    env.doc = glean.html(bytes, {url = "file://" .. target})
    env.page = page.of_document(env.doc, env.doc.url, "text/html", bytes)
  end
  local interactive = glean.isatty("stdin")
  if interactive then io.stderr:write(SHELL_HELP) end
  local function show(ok, ...)
    if not ok then
      io.stdout:write("error: ", tostring((...)), "\n")
      return
    end
    local out = {}
    for k = 1, select("#", ...) do
      local v = select(k, ...)
      if type(v) == "table" then
        local items = {}
        for n, item in ipairs(v) do
          items[n] = tostring(item)
          if n == 20 then items[n + 1] = ("... (%d in all)"):format(#v) break end
        end
        out[k] = "{" .. table.concat(items, ", ") .. "}"
      else
        out[k] = tostring(v)
      end
    end
    if #out > 0 then io.stdout:write(table.concat(out, "\t"), "\n") end
  end
  while true do
    if interactive then io.stderr:write("glean> ") end
    local line = io.read("L")
    if not line then break end
    local chunk = load("return " .. line, "=shell", "t", env) or load(line, "=shell", "t", env)
    if not chunk then
      local _, err = load(line, "=shell", "t", env)
      io.stdout:write("error: ", err, "\n")
    else
      show(pcall(chunk))
    end
    io.stdout:flush()
  end
  return 0
end

return cli
