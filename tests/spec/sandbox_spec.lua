-- The sandbox adapters run in (glean.sandbox): what the standard library
-- gives them with and without trust, what they may require, and the memory
-- and time limits their code runs under, through `glean run` (a
-- subprocess), through what the embedding API calls (in-process), and
-- against adapters that try to get around them. Sites are directories
-- served through --mirror: no network, no server.
local glean = require "glean"
local cli = require "glean.cli"
local sandbox = require "glean.sandbox"
local support = require "support"

local ORIGIN = "https://sandbox.test"

describe("the sandbox", function()
  local dir, site, mirror

  local function write(path, text)
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    return path
  end

  local function exists(path)
    local f = io.open(path, "r")
    if f then f:close() end
    return f ~= nil
  end

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. support.quote(dir .. "/site") .. " " .. support.quote(dir .. "/lib")))
    site = dir .. "/site"
    mirror = ORIGIN .. "=" .. site
    for _, name in ipairs({"index.html", "loop", "hog", "docs", "one", "two", "three"}) do
      write(site .. "/" .. name, ("<title>%s</title><h1>%s</h1>"):format(name, name))
    end
  end)

  teardown(function()
    os.execute("rm -rf " .. support.quote(dir))
  end)

  -- `glean run` of an adapter's source (in a folder of its own, with a
  -- helper.lua module beside it) under a hang guard: exit code (nil: it
  -- hung), records by URL, stderr.
  local function run(source, args)
    local argv = {"--mirror", mirror}
    for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
    local code, out, err, folder = support.run_adapter(source, argv, {prepare = function(folder)
      write(folder .. "/helper.lua", "return {answer = 42}")
    end, guard = 60})
    os.execute("rm -rf " .. support.quote(folder))
    local by_url = {}
    for _, r in ipairs(support.records(out)) do by_url[r.url or "?"] = r end
    return code, by_url, err
  end

  -- An adapter that tries each thing an untrusted one must not do, at load
  -- and in a handler, and reports what happened as one record (of the home
  -- page): its source, given its folder (it reads its helper.lua). `target`
  -- is a file it tries to create.
  local function probe_adapter(target)
    return function(folder) return ([==[
      local glean = require "glean"
      local function try(f)
        local ok, err = pcall(f)
        return ok and "allowed" or "refused: " .. tostring(err)
      end
      local function probes()
        return {
          ["os.execute"] = try(function() assert(os.execute("true")) end),
          ["os.exit"] = try(function() assert(os.exit ~= nil, "no os.exit") end),
          ["os.remove"] = try(function() assert(os.remove ~= nil, "no os.remove") end),
          ["io.popen"] = try(function() assert(io.popen("true")):close() end),
          ["io.open for writing"] = try(function() assert(io.open(%q, "w")):close() end),
          ["io.open for reading"] = try(function() assert(io.open(%q, "r")):close() end),
          ["package.loadlib"] = try(function() assert(package.loadlib("libc.so.6", "puts")) end),
          ["debug"] = try(function() assert(debug.getinfo(1)) end),
          ["binary chunk"] = try(function() assert(load(string.dump(function() return 1 end)))() end),
          ["text chunk"] = try(function() assert(load("return 1")() == 1) end),
          ["require lfs"] = try(function() return require "lfs" end),
          ["require helper"] = try(function() assert(require("helper").answer == 42) end),
          ["require glean"] = try(function() assert(require("glean").json.encode({1}) == "[1]") end),
          ["__gc"] = try(function() setmetatable({}, {__gc = function() end}) end),
          ["glean.session"] = try(function() glean.session{workers = 1}:close() end),
        }
      end
      local at_load = probes()
      return {
        start_urls = {%q},
        pages = {{path = "^/$", parse = function(page)
          return {url = page.url, at_load = at_load, in_handler = probes()}
        end}},
      }
    ]==]):format(target, folder .. "/helper.lua", ORIGIN .. "/") end
  end

  describe("an adapter run by glean run", function()
    local FORBIDDEN = {"os.execute", "os.exit", "os.remove", "io.popen", "io.open for writing", "package.loadlib",
                       "debug", "binary chunk", "require lfs", "__gc", "glean.session"}
    local ALLOWED = {"io.open for reading", "text chunk", "require helper", "require glean"}

    it("gets no os.execute, io.popen, writing io.open, package.loadlib, debug, binary chunks, nor modules from outside its folder", function()
      local target = dir .. "/written-by-sandboxed"
      local code, records, err = run(probe_adapter(target))
      assert.equal(0, code, err)
      local r = assert(records[ORIGIN .. "/"], err)
      for _, when in ipairs({"at_load", "in_handler"}) do
        for _, name in ipairs(FORBIDDEN) do
          assert.matches("^refused", r[when][name], 1, false, when .. " " .. name)
        end
        for _, name in ipairs(ALLOWED) do
          assert.equal("allowed", r[when][name], when .. " " .. name)
        end
      end
      assert.is_false(exists(target))
      -- the refusals say what and why
      assert.matches("not allowed in an adapter %(%-%-trust lifts this%)", r.at_load["io.open for writing"])
      assert.matches("attempt to load a binary chunk", r.at_load["binary chunk"])
      assert.matches("module 'lfs' not found: an adapter may require \"glean\" and the modules in its own folder",
                     r.at_load["require lfs"])
    end)

    it("is refused code that Lua 5.4.4 miscompiles (t[a == b] on an upvalue), naming the line", function()
      -- Run, the indexing would read the register's last value: one of the
      -- runtime's (a function after glean.json.encode).
      local miscompiled = "local t = {[true] = 1}\nlocal function f(a, b) return t[a == b] end\n"
      local code, _, err = run(miscompiled .. "return {pages = {{path = '.', parse = function() return {v = f(1, 1)} end}}}")
      assert.equal(2, code)
      assert.truthy(err:find("adapter.lua:2: Lua 5.4.4 compiles an upvalue indexed by a comparison", 1, true), err)
      assert.truthy(err:find("local k = a == b; t[k]", 1, true), err)

      local source = ([==[
        local glean = require "glean"
        local function try(f)
          local ok, err = pcall(f)
          return ok and "allowed" or "refused: " .. tostring(err)
        end
        local t = {[true] = "yes"}
        local function g(a, b) local k = a == b; return t[k] end
        return {start_urls = {%q}, pages = {{path = "^/$", parse = function(page)
          return {url = page.url, fixed = g(1, 1),
                  module = try(function() require "miscompiled" end),
                  load = try(function() assert(load(%q)) end)}
        end}}}
      ]==]):format(ORIGIN .. "/", miscompiled)
      local out, folder
      code, out, err, folder = support.run_adapter(source, {"--mirror", mirror}, {prepare = function(folder)
        write(folder .. "/miscompiled.lua", "\n" .. miscompiled)
      end, guard = 60})
      os.execute("rm -rf " .. support.quote(folder))
      assert.equal(0, code, err)
      local r = support.records(out)[1]
      assert.equal("yes", r.fixed)
      assert.matches("^refused: .*miscompiled%.lua:3: Lua 5%.4%.4 compiles", r.module)
      assert.matches("^refused: .*:2: Lua 5%.4%.4 compiles", r.load)
    end)

    it("gets the full standard library with --trust", function()
      local target = dir .. "/written-by-trusted"
      local code, records, err = run(probe_adapter(target), {"--trust"})
      assert.equal(0, code, err)
      local r = assert(records[ORIGIN .. "/"], err)
      local has_lfs = support.run({"-e", "require 'lfs'"}) == 0
      for _, when in ipairs({"at_load", "in_handler"}) do
        for _, name in ipairs(FORBIDDEN) do
          if name ~= "require lfs" or has_lfs then assert.equal("allowed", r[when][name], when .. " " .. name) end
        end
        for _, name in ipairs(ALLOWED) do assert.equal("allowed", r[when][name], when .. " " .. name) end
      end
      assert.is_true(exists(target))
    end)

    it("may not raise its own limits in its settings unless trusted", function()
      local source = ([[
        return {
          start_urls = {%q},
          settings = {memory_limit = 0, time_limit = 1e12},
          pages = {{path = "/", parse = function(page) local i = 0 while true do i = i + 1 end end}},
        }
      ]]):format(ORIGIN .. "/loop")
      local path = write(dir .. "/greedy.lua", source)
      -- the command line's limit wins over the adapter's setting anyway
      local code, _, err = run(source, {"--time-limit", "1e6"})
      assert.equal(1, code, err)
      assert.matches("settings.memory_limit = 0 is over the runtime's 1024: ignored", err)
      assert.matches("time limit exceeded: more than 1000000 Lua instructions", err)
      -- in-process, with the runtime's own limit lowered
      local warnings, failures = {}, {}
      local warn = glean.log.warn
      glean.log.warn = function(msg) warnings[#warnings + 1] = msg end
      local function crawl_with(adapter)
        sandbox.set("time_limit", 1e6)
        local ok, stats = pcall(glean.crawl, adapter, {mirrors = {mirror}, robots = false, progress = 0,
          on_error = function(url, message) failures[url] = message end})
        sandbox.set("time_limit", 1e9)
        return ok, stats
      end
      local ok, stats = crawl_with(assert(cli.load_adapter(path)))
      glean.log.warn = warn
      assert.is_true(ok, stats)
      assert.equal(1, stats.failed)
      assert.matches("settings.time_limit = 1e%+12 is over the runtime's 1e%+06: ignored", table.concat(warnings, "\n"))
      assert.matches("^time limit exceeded: more than 1000000 Lua", failures[ORIGIN .. "/loop"])
      -- trusted, the adapter's settings hold (2e6 shows it: 1e12 would take long)
      sandbox.set("trust", true)
      local trusted = assert(cli.load_adapter(path))
      sandbox.set("trust", false)
      trusted.settings.time_limit = 2e6
      ok, stats = crawl_with(trusted)
      assert.is_true(ok, stats)
      assert.matches("^time limit exceeded: more than 2000000 Lua", failures[ORIGIN .. "/loop"])
    end)

    it("may lower its limits in its settings", function()
      local source = ([[
        return {
          start_urls = {%q},
          settings = {time_limit = 1e5},
          pages = {{path = "/", parse = function(page) local i = 0 while true do i = i + 1 end end}},
        }
      ]]):format(ORIGIN .. "/loop")
      local code, _, err = run(source)
      assert.equal(1, code, err)
      assert.matches("time limit exceeded: more than 100000 Lua instructions", err)
    end)

    it("refuses bad limits", function()
      local source = probe_adapter(dir .. "/unused")
      for _, args in ipairs({{"--memory-limit", "lots"}, {"--time-limit", "-1"}, {"--memory-limit", "inf"}}) do
        local code, _, err = run(source, args)
        assert.equal(2, code, table.concat(args, " "))
        assert.matches("^glean: ", err)
      end
    end)
  end)

  describe("open files", function()
    -- The file both adapters open, in their folder.
    before_each(function() write(dir .. "/helper.lua", "return {}") end)

    it("an adapter holding 1000 files at load still crawls its pages", function()
      local server = support.serve_dir(site)
      local path = write(dir .. "/hoard.lua", ([[
        KEEP = {}
        local refused
        for i = 1, 1000 do
          local f, err = io.open("helper.lua")
          if not f then refused = err break end
          KEEP[i] = f
        end
        return {
          start_urls = {%q, %q, %q},
          pages = {{path = "/", parse = function(page) return {url = page.url, kept = #KEEP, refused = refused} end}},
        }
      ]]):format(server.base .. "/one", server.base .. "/two", server.base .. "/three"))
      -- Few descriptors, as on a busy host: 1000 files would be all of them.
      local code, out, err = support.run({"run", path, "--progress", "0", "--ignore-robots"}, nil, "ulimit -n 256")
      server.stop()
      assert.equal(0, code, err)
      local records = support.records(out)
      assert.equal(3, #records, err)
      for _, r in ipairs(records) do
        assert.equal(64, r.kept)
        assert.equal("io.open of 'helper.lua': too many open files: an adapter may hold 64 at once", r.refused)
      end
    end)

    it("frees the slot of a file closed, read to its end by io.lines, or dropped", function()
      local adapter = assert(cli.load_adapter(write(dir .. "/slots.lua", [[
        local function fill()
          local got = {}
          for i = 1, 100 do
            local f = io.open("helper.lua")
            if not f then break end
            got[i] = f
          end
          return got
        end
        local t = {}
        local files = fill()
        t.first = #files
        t.refused = select(2, io.open("helper.lua"))
        t.lines_refused = select(2, pcall(io.lines, "helper.lua"))
        for _, f in ipairs(files) do f:close() end
        t.after_close = #fill() -- and dropped at once
        t.after_drop = #fill()
        local iters = {}
        for i = 1, 64 do iters[i] = io.lines("helper.lua") end
        t.lines_held = select(2, io.open("helper.lua"))
        for _, it in ipairs(iters) do for _ in it do end end
        t.after_lines = #fill()
        return {pages = {}, result = t}
      ]])))
      local t = adapter.result
      assert.equal(64, t.first)
      assert.matches("too many open files: an adapter may hold 64 at once", t.refused)
      assert.matches("io.lines of 'helper.lua': too many open files: an adapter may hold 64 at once", t.lines_refused)
      assert.equal(64, t.after_close)
      assert.equal(64, t.after_drop)
      assert.matches("too many open files", t.lines_held)
      assert.equal(64, t.after_lines)
    end)
  end)

  describe("a script run directly", function()
    it("keeps the full standard library", function()
      local script = write(dir .. "/script.lua", [[
        assert(os.execute("true"))
        assert(io.popen("true")):close()
        local path = os.tmpname()
        assert(io.open(path, "w")):close()
        assert(os.remove(path))
        assert(type(package.loadlib) == "function" and type(debug.getinfo) == "function")
        assert(load(string.dump(function() return 7 end))() == 7)
        setmetatable({}, {__gc = function() end})
        assert(getmetatable("").__index == string)
        print("full")
      ]])
      local code, out, err = support.run({script})
      assert.equal(0, code, err)
      assert.equal("full\n", out)
    end)
  end)

  describe("limits", function()
    -- An adapter with an endless loop on one page and an endless allocation
    -- on another; the others are fine.
    local ADAPTER = ([[
      return {
        start_urls = {%q, %q, %q, %q, %q},
        pages = {
          {path = "^/loop$", parse = function(page) local n = 0 while true do n = n + 1 end end},
          {path = "^/hog$", parse = function(page)
            local hoard, block = {}, ("x"):rep(4096) -- rep outside: its 4096 steps a time count
            while true do hoard[#hoard + 1] = block .. #hoard end
          end},
          {path = "/", parse = function(page) return {url = page.url, title = page:text("h1")} end},
        },
      }
    ]]):format(ORIGIN .. "/one", ORIGIN .. "/loop", ORIGIN .. "/hog", ORIGIN .. "/two", ORIGIN .. "/three")

    it("fail the page of an endless loop and of an endless allocation; the crawl completes", function()
      local code, records, err = run(ADAPTER, {"--memory-limit", "64", "--time-limit", "1e7", "--ignore-robots"})
      assert.equal(1, code, err)
      for _, name in ipairs({"one", "two", "three"}) do
        assert.equal(name, (records[ORIGIN .. "/" .. name] or {}).title, err)
      end
      assert.is_nil(records[ORIGIN .. "/loop"])
      assert.is_nil(records[ORIGIN .. "/hog"])
      assert.matches("handler failed for " .. ORIGIN:gsub("%p", "%%%0") .. "/loop: time limit exceeded: more than 10000000 Lua instructions in one call %(time%-limit%)", err)
      assert.matches("stack traceback:\n\t[^\n]*/adapter.lua:4:", err) -- where the loop was
      assert.matches("handler failed for " .. ORIGIN:gsub("%p", "%%%0") .. "/hog: memory limit exceeded: the runtime's Lua memory would pass 64 MB %(memory%-limit%)", err)
    end)

    it("apply in-process too, to glean.crawl's handlers, with the failures reported per page", function()
      local adapter = assert(cli.load_adapter(write(dir .. "/limits-here.lua", ADAPTER)))
      local failures, records = {}, {}
      local saved = glean.emit
      glean.emit = function(r) records[r.url] = r end
      local ok, stats = pcall(glean.crawl, adapter, {
        mirrors = {mirror}, robots = false, progress = 0, memory_limit = 64, time_limit = 1e7,
        on_error = function(url, message) failures[url] = message end,
      })
      glean.emit = saved
      assert.is_true(ok, stats)
      assert.equal(2, stats.failed)
      assert.equal(3, stats.records)
      assert.matches("^time limit exceeded", failures[ORIGIN .. "/loop"])
      assert.matches("^memory limit exceeded", failures[ORIGIN .. "/hog"])
      assert.equal("two", records[ORIGIN .. "/two"].title)
      -- the runtime's own limits are back, and it is well
      assert.equal(1024, sandbox.get("memory_limit"))
      assert.equal(1e9, sandbox.get("time_limit"))
      assert.equal("[1]", glean.json.encode({1}))
    end)

    it("count the documents a handler keeps", function()
      local source = ([[
        local glean = require "glean"
        local page_text = ("<div><p>paragraph</p></div>"):rep(10000)
        return {
          start_urls = {%q, %q},
          pages = {
            {path = "^/docs$", parse = function(page)
              local docs = {}
              while true do docs[#docs + 1] = glean.html(page_text) end
            end},
            {path = "/", parse = function(page) return {url = page.url} end},
          },
        }
      ]]):format(ORIGIN .. "/docs", ORIGIN .. "/one")
      local code, records, err = run(source, {"--memory-limit", "100", "--ignore-robots"})
      assert.equal(1, code, err)
      assert.matches("/docs: memory limit exceeded: the runtime's Lua memory would pass 100 MB", err)
      assert.is_table(records[ORIGIN .. "/one"])
    end)

    it("hold the adapter's main chunk and match functions", function()
      local code, _, err = run("while true do end", {"--time-limit", "1e6"})
      assert.equal(2, code)
      assert.matches("time limit exceeded: more than 1000000 Lua instructions", err)
      local source = ([[
        return {start_urls = {%q}, pages = {{match = function(url) while true do end end}}}
      ]]):format(ORIGIN .. "/one")
      code, _, err = run(source, {"--time-limit", "1e6", "--ignore-robots"})
      assert.equal(2, code)
      assert.matches("time limit exceeded: more than 1000000 Lua instructions", err)
    end)

    it("hold sandbox.xpcall, as the embedding API runs a handler on a document it has", function()
      sandbox.set("time_limit", 1e6)
      local ok, err = sandbox.xpcall(function() while true do end end, debug.traceback)
      sandbox.set("time_limit", 1e9)
      assert.is_false(ok)
      assert.matches("^time limit exceeded: more than 1000000 Lua instructions", err)
      sandbox.set("memory_limit", 32)
      ok, err = sandbox.xpcall(function() local t = {} while true do t[#t + 1] = {} end end, debug.traceback)
      sandbox.set("memory_limit", 1024)
      assert.is_false(ok)
      assert.equal("memory limit exceeded: the runtime's Lua memory would pass 32 MB (memory-limit)", err)
      assert.same({true, 3}, {sandbox.xpcall(function(a, b) return a + b end, debug.traceback, 1, 2)})
    end)
  end)

  describe("through what the embedding API calls", function()
    it("loads adapters from source restricted, and trusted once trust is set", function()
      local source = [[return {pages = {{path = "/"}}, env = {os_execute = os.execute, debug = debug, io_popen = io.popen}}]]
      local adapter = assert(cli.load_adapter_source(source, "api-adapter"))
      assert.same({}, adapter.env)
      local options = {}
      assert(cli.set_option(options, "trust", nil))
      adapter = assert(cli.load_adapter_source(source, "api-adapter"))
      assert(cli.set_option(options, "trust", "false"))
      assert.is_function(adapter.env.os_execute)
      assert.is_table(adapter.env.debug)
      assert.is_false(sandbox.get("trust"))
      -- no folder: only glean may be required
      local ok, err = cli.load_adapter_source([[return require "helper"]], "api-adapter")
      assert.is_nil(ok)
      assert.matches("module 'helper' not found", err)
    end)

    it("sets the limits by the command line's names", function()
      local options = {}
      assert(cli.set_option(options, "memory-limit", "512"))
      assert(cli.set_option(options, "time-limit", "2e9"))
      assert.equal(512, sandbox.get("memory_limit"))
      assert.equal(2e9, sandbox.get("time_limit"))
      assert.same({memory_limit = 512, time_limit = 2e9}, options)
      assert(cli.set_option(options, "memory-limit", "1024"))
      assert(cli.set_option(options, "time-limit", "1e9"))
      assert.is_nil((cli.set_option(options, "memory-limit", "-5")))
    end)
  end)

  describe("against an adapter that tries to get around it", function()
    -- Each page's handler tries one way out; all must fail their page
    -- promptly (or do no harm) and the crawl must end.
    local TRICKS = {
      -- a pcall that swallows the time limit's error, again and again
      swallow = "while true do pcall(function() while true do end end) end",
      -- the work spread over coroutines, each under the budget
      spread = "while true do coroutine.wrap(function() for i = 1, 5000 do end end)() end",
      -- a to-be-closed variable whose __close loops, then a yield nobody resumes
      close = "local x <close> = setmetatable({}, {__close = function() while true do end end}); coroutine.yield()",
      -- a pattern that backtracks for minutes in one call of Lua's matcher,
      -- again and again under a pcall
      pattern = [[for _ = 1, 1e9 do pcall(string.find, ("a"):rep(3000), ".-.-.-b") end]],
      -- a selector whose matching is quadratic in the page, all in one
      -- call of the selector engine, again and again under a pcall
      selector = [[
        local doc = glean.html(("<p>"):rep(30000))
        for _ = 1, 1e9 do pcall(doc.select, doc, ":has(~ b)") end
      ]],
      -- an error object whose __tostring loops (the crawl prints errors)
      tostring = "error(setmetatable({}, {__tostring = function() while true do end end}))",
      -- the library the crawl uses, and the page it closes afterwards
      library = [[
        glean.clock = function() while true do end end
        glean.log.error = function() while true do end end
        require("glean").json.encode = function() while true do end end
        page.close = function() while true do end end
        page._doc = {close = function() while true do end end}
        assert(getmetatable("") == nil, "the string metatable is visible")
        assert(getmetatable(page) == nil, "the page metatable is visible")
        assert(getmetatable(glean.json.object({})) == nil, "the json metatables are visible")
        error("library tricks done")
      ]],
    }

    it("keeps each trick to its page", function()
      local names, urls, rules = {}, {}, {}
      for name, body in pairs(TRICKS) do
        names[#names + 1] = name
        write(site .. "/" .. name, "<h1>" .. name .. "</h1>")
        urls[#urls + 1] = ("%q"):format(ORIGIN .. "/" .. name)
        rules[#rules + 1] = ("{path = %q, parse = function(page) %s end}"):format("^/" .. name .. "$", body)
      end
      urls[#urls + 1] = ("%q"):format(ORIGIN .. "/one")
      rules[#rules + 1] = [[{path = "/", parse = function(page) return {url = page.url} end}]]
      local source = (("local glean = require 'glean'\nreturn {start_urls = {%s}, pages = {%s}}")
        :format(table.concat(urls, ", "), table.concat(rules, ",\n")))
      local started = glean.clock()
      local code, records, err = run(source, {"--time-limit", "1e7", "--ignore-robots"})
      assert.equal(1, code, err)
      assert.is_table(records[ORIGIN .. "/one"], err)
      assert.is_true(glean.clock() - started < 60, "the tricks took too long")
      for _, name in ipairs(names) do
        assert.matches("handler failed for " .. ORIGIN:gsub("%p", "%%%0") .. "/" .. name .. ": ", err)
      end
      assert.matches("/library: [^\n]*library tricks done", err)
      assert.matches("/close: time limit exceeded", err)
      assert.matches("/swallow: time limit exceeded", err)
      assert.matches("/spread: [^\n]*time limit exceeded", err)
      assert.matches("/tostring: time limit exceeded", err)
      assert.matches("/pattern: time limit exceeded: more than 10000000 Lua instructions", err)
      assert.matches("/selector: time limit exceeded: more than 10000000 Lua instructions", err)
    end)
  end)
end)
