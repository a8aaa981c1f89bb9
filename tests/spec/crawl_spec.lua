-- The crawl: `glean run ADAPTER URL...` as a subprocess and glean.crawl()
-- in-process, over sites that tests/server/testserver.py generates on
-- 127.0.0.1 (each under a made-up origin mirrored to the server, which
-- counts every request per path and the most it served at once). Adapters
-- are small files written here. Time is only ever bounded from below.
local glean = require "glean"
local support = require "support"

describe("the crawl", function()
  local server, dir

  setup(function()
    server = support.server()
    dir = support.tempdir()
  end)

  teardown(function()
    server:stop()
    os.execute("rm -rf " .. support.quote(dir))
  end)

  -- Writes an adapter file; returns its path.
  local function adapter(name, text) return support.write(dir, name, text) end

  -- A fresh generated site on the server: its origin and its --mirror value.
  local function site(name, config)
    assert.equal("configured", server:post("/config/" .. name, glean.json.encode(glean.json.object(config or {}))))
    return "http://" .. name, ("http://%s=%s/v/%s"):format(name, server.base, name)
  end

  local function served(name)
    return server:json("/stats/" .. name)
  end

  -- `glean run` to the end: exit code, records, stderr, stats.
  local run = support.run_crawl

  local function urls_of(records)
    local list = {}
    for i, r in ipairs(records) do list[i] = r.url end
    table.sort(list)
    return list
  end

  local function sorted_keys(t)
    local list = {}
    for k in pairs(t) do list[#list + 1] = k end
    table.sort(list)
    return list
  end

  local function count(text, needle)
    local n, at = 0, 1
    while true do
      local i, j = text:find(needle, at, true)
      if not i then return n end
      n, at = n + 1, j + 1
    end
  end

  local SITE_ADAPTER = [[
    return {
      pages = {
        {path = "^/site/%d+/$", follow = "a[href]", parse = function(page)
          return {url = page.url, title = page:text("h1")}
        end},
      },
    }
  ]]

  -- Chain pages link to the next, back to the first, and to a private page.
  local CHAIN_ADAPTER = [[
    local function record(page) return {url = page.url} end
    return {
      pages = {
        {path = "^/chain/%d+/$", follow = "a[href]", parse = record},
        {path = "^/private/%d+/$", parse = record},
      },
    }
  ]]

  describe("glean run", function()
    it("visits every page of a 3000-page site once, within the per-host limit", function()
      local origin, mirror = site("gen.test", {pages = 3000})
      local code, records, err, stats = run({adapter("site.lua", SITE_ADAPTER), origin .. "/site/0/",
        "--mirror", mirror, "--per-host", "4"})
      assert.equal(0, code, err)
      -- Every page once, under the site's own URLs, canonical.
      assert.equal(3000, #records)
      local by_url = {}
      for _, r in ipairs(records) do
        assert.is_nil(by_url[r.url], "twice: " .. r.url)
        by_url[r.url] = r
      end
      for n = 0, 2999 do
        local r = by_url[("%s/site/%d/"):format(origin, n)]
        assert.truthy(r, "missing page " .. n)
        assert.equal("site " .. n, r.title)
      end
      -- The server saw each page (whatever query it was linked with) once:
      -- tracking parameters, fragments, host case, relative, absolute and
      -- protocol-relative forms all deduplicated.
      local seen = served("gen.test")
      assert.equal(3001, #sorted_keys(seen.hits))
      for path, n in pairs(seen.hits) do assert.equal(1, n, path) end
      assert.equal(1, seen.hits["/robots.txt"])
      assert.is_true(seen.peak <= 4, "peak " .. seen.peak)
      assert.is_true(seen.peak >= 2, "peak " .. seen.peak)
      -- Each page's link to another host was dropped, not fetched.
      assert.same({offsite = 3000}, stats.dropped)
      assert.equal(3000, stats.pages)
      assert.equal(3000, stats.records)
      assert.equal(0, stats.failed)
      assert.equal(0, stats.fetch_errors)
      assert.equal(3001, stats.requests)
    end)

    it("fetches offsite links when their host is allowed", function()
      -- The same site, with 127.0.0.2 (where nothing listens) allowed: each
      -- page's offsite link is fetched, and fails to connect.
      local origin, mirror = site("allow.test", {pages = 3})
      local path = adapter("allow.lua", ([[
        local a = dofile(%q)
        a.allowed_hosts = {"allow.test", "127.0.0.2"}
        return a
      ]]):format(adapter("site3.lua", SITE_ADAPTER)))
      local code, records, err, stats = run({path, origin .. "/site/0/", "--mirror", mirror,
        "--ignore-robots", "--retries", "0"})
      assert.equal(1, code, err)
      assert.equal(3, #records)
      assert.equal(3, stats.fetch_errors)
      assert.equal(3, stats.failed)
      assert.equal(3, count(err, "fetch failed (connect): http://127.0.0.2:"))
      assert.same({}, stats.dropped)
    end)

    it("--depth 0 handles only the given URLs, in whatever spelling", function()
      local origin, mirror = site("depth0.test")
      local code, records, err, stats = run({adapter("chain.lua", CHAIN_ADAPTER),
        origin .. "/chain/0/", "HTTP://DEPTH0.test/chain/0/?utm_source=x#top", origin .. "/chain/5/",
        "--mirror", mirror, "--depth", "0"})
      assert.equal(0, code, err)
      assert.same({origin .. "/chain/0/", origin .. "/chain/5/"}, urls_of(records))
      assert.same({"/chain/0/", "/chain/5/", "/robots.txt"}, sorted_keys(served("depth0.test").hits))
      assert.same({["too deep"] = 6}, stats.dropped)
    end)

    it("--depth N follows links at most N hops", function()
      local origin, mirror = site("depth2.test")
      local code, records, err = run({adapter("chain.lua", CHAIN_ADAPTER), origin .. "/chain/0/",
        "--mirror", mirror, "--depth=2"})
      assert.equal(0, code, err)
      local want = {"/chain/0/", "/chain/1/", "/chain/2/", "/private/0/", "/private/1/"}
      local urls = {}
      for i, p in ipairs(want) do urls[i] = origin .. p end
      table.sort(urls)
      assert.same(urls, urls_of(records))
      want[#want + 1] = "/robots.txt"
      table.sort(want)
      assert.same(want, sorted_keys(served("depth2.test").hits))
    end)

    it("--mirror ORIGIN=http://127.0.0.1:PORT: site URLs, pages from the server, its robots.txt and Crawl-delay", function()
      -- The server's own robots.txt: Crawl-delay 0.25, /private/ disallowed.
      assert.equal("configured", server:post("/config/_", '{"chain": 4}'))
      local t0 = glean.clock()
      local code, records, err, stats = run({adapter("chain.lua", CHAIN_ADAPTER), "http://plain.test/chain/0/",
        "--mirror", "http://plain.test=" .. server.base})
      local elapsed = glean.clock() - t0
      assert.equal(0, code, err)
      assert.same({"http://plain.test/chain/0/", "http://plain.test/chain/1/", "http://plain.test/chain/2/",
        "http://plain.test/chain/3/"}, urls_of(records))
      local seen = served("_")
      assert.same({"/chain/0/", "/chain/1/", "/chain/2/", "/chain/3/"}, sorted_keys(seen.hits))
      assert.equal(4, stats.robots_skipped)
      -- Four pages after robots.txt, 0.25 s apart at least.
      assert.is_true(elapsed >= 0.75, "took " .. elapsed)
    end)

    it("--ignore-robots fetches what robots.txt disallows, without asking for it", function()
      assert.equal("configured", server:post("/config/_", '{"chain": 4}'))
      local code, records, err, stats = run({adapter("chain.lua", CHAIN_ADAPTER), "http://plain.test/chain/0/",
        "--mirror", "http://plain.test=" .. server.base, "--ignore-robots"})
      assert.equal(0, code, err)
      assert.equal(8, #records)
      assert.equal(0, stats.robots_skipped)
      assert.equal(8, stats.requests)
      assert.same({"/chain/0/", "/chain/1/", "/chain/2/", "/chain/3/", "/private/0/", "/private/1/",
        "/private/2/", "/private/3/"}, sorted_keys(served("_").hits))
    end)

    it("handles a page reached through a redirect once", function()
      -- /moved/N/ redirects to /chain/N/, which /chain/N-1/ links to.
      assert.equal("configured", server:post("/config/_", '{"chain": 3}'))
      local path = adapter("moved.lua", [[
        return {pages = {{path = "^/%a+/%d+/$", follow = "a[href]", parse = function(page)
          return {url = page.url, final = page.response.url}
        end}}}
      ]])
      local code, records, err, stats = run({path, "http://mv.test/chain/0/", "http://mv.test/moved/1/",
        "http://mv.test/moved/2/", "--mirror", "http://mv.test=" .. server.base, "--ignore-robots"})
      assert.equal(0, code, err)
      local finals = {}
      for i, r in ipairs(records) do finals[i] = r.final end
      table.sort(finals)
      local want = {}
      for i, p in ipairs({"/chain/0/", "/chain/1/", "/chain/2/", "/private/0/", "/private/1/", "/private/2/"}) do
        want[i] = "http://mv.test" .. p
      end
      assert.same(want, finals)
      assert.equal(6, stats.pages)
    end)

    it("--delay spaces the requests to a host", function()
      local origin, mirror = site("delay.test", {chain = 4})
      local t0 = glean.clock()
      local code, records, err = run({adapter("chain.lua", CHAIN_ADAPTER), origin .. "/chain/0/",
        "--mirror", mirror, "--ignore-robots", "--delay", "0.3", "--depth", "3"})
      local elapsed = glean.clock() - t0
      assert.equal(0, code, err)
      assert.equal(7, #records)
      -- Seven pages, at least 0.3 s between one start and the next.
      assert.is_true(elapsed >= 1.8, "took " .. elapsed)
    end)

    it("obeys the robots.txt group of its own user agent", function()
      local robots = "User-agent: glean\nDisallow: /chain/2/\n\nUser-agent: *\nDisallow: /\n"
      local origin, mirror = site("robots.test", {robots = robots})
      local path = adapter("chain.lua", CHAIN_ADAPTER)
      local code, records, err, stats = run({path, origin .. "/chain/0/", "--mirror", mirror})
      assert.equal(0, code, err)
      assert.same({origin .. "/chain/0/", origin .. "/chain/1/", origin .. "/private/0/", origin .. "/private/1/"},
        urls_of(records))
      assert.equal(1, stats.robots_skipped)
      assert.is_nil(served("robots.test").hits["/chain/2/"])

      origin, mirror = site("robots.test", {robots = robots})
      code, records, err, stats = run({path, origin .. "/chain/0/", "--mirror", mirror, "--user-agent", "other/1.0"})
      assert.equal(0, code, err)
      assert.same({}, records)
      assert.equal(1, stats.robots_skipped)
      assert.same({"/robots.txt"}, sorted_keys(served("robots.test").hits))
    end)

    it("--mirror ORIGIN=DIR: the Coins2Day snapshot gives the 13 expected records", function()
      local code, records, err = run({"sites/coins2day.lua",
        "--mirror", "https://coins2day.com=tests/fixtures/coins2day/site"})
      assert.equal(0, code, err)
      local expected = support.records(support.slurp("tests/fixtures/coins2day/site/EXPECTED.jsonl"))
      assert.equal(13, #expected)
      local by_url = {}
      for _, r in ipairs(records) do by_url[r.url] = r end
      assert.equal(13, #records)
      for _, want in ipairs(expected) do
        assert.same(want, by_url[want.url], want.url)
      end
    end)

    it("logs a handler error with the URL and a traceback, goes on, and exits 1", function()
      local origin, mirror = site("err.test", {chain = 6})
      local path = adapter("err.lua", [[
        local function record(page) return {url = page.url} end
        local function explode(page)
          if page.url:find("/private/1/", 1, true) then error("cannot parse this") end
          return record(page)
        end
        return {
          pages = {
            {path = "^/chain/%d+/$", follow = "a[href]", parse = record},
            {path = "^/private/%d+/$", parse = explode},
          },
        }
      ]])
      local code, records, err, stats = run({path, origin .. "/chain/0/", "--mirror", mirror})
      assert.equal(1, code, err)
      assert.equal(11, #records)
      assert.truthy(err:find("handler failed for " .. origin .. "/private/1/: " .. path .. ":3: cannot parse this", 1, true), err)
      assert.truthy(err:find("stack traceback:", 1, true), err)
      assert.truthy(err:find(path .. ":3: in ", 1, true), err)
      assert.equal(1, stats.handler_errors)
      assert.equal(1, stats.failed)
      assert.equal(12, stats.pages)
      assert.equal(11, stats.records)
    end)

    it("follows the links of a page whose parse fails", function()
      local origin, mirror = site("errlinks.test", {chain = 6})
      local path = adapter("errlinks.lua", [[
        local function record(page) return {url = page.url} end
        return {
          pages = {
            {path = "^/chain/%d+/$", follow = "a[href]", parse = function(page)
              if page.url:find("/chain/2/", 1, true) then error("cannot parse this") end
              return record(page)
            end},
            {path = "^/private/%d+/$", parse = record},
          },
        }
      ]])
      local code, records, err, stats = run({path, origin .. "/chain/0/", "--mirror", mirror})
      assert.equal(1, code, err)
      assert.equal(12, stats.pages)
      assert.equal(11, #records)
      assert.equal(1, stats.handler_errors)
    end)

    it("keeps the record of a page whose follow fails", function()
      local origin, mirror = site("errfollow.test", {chain = 6})
      local path = adapter("errfollow.lua", [[
        return {
          pages = {
            {path = "^/chain/%d+/$", parse = function(page) return {url = page.url} end,
             follow = function(page)
               if page.url:find("/chain/2/", 1, true) then error("cannot follow this") end
               return {page:attr("a[href]", "href")}
             end},
          },
        }
      ]])
      local code, records, err, stats = run({path, origin .. "/chain/0/", "--mirror", mirror})
      assert.equal(1, code, err)
      assert.truthy(err:find("handler failed for " .. origin .. "/chain/2/: " .. path .. ":5: cannot follow this", 1, true), err)
      assert.equal(3, #records)
      assert.equal(3, stats.pages)
      assert.equal(1, stats.handler_errors)
    end)

    it("exits 0 when every page was handled, HTTP errors included; 1 on a fetch error", function()
      local origin, mirror = site("status.test", {chain = 2, hold_ms = 3000})
      local path = adapter("chain.lua", CHAIN_ADAPTER)
      local code, records, err, stats = run({path, origin .. "/chain/0/", origin .. "/chain/9/", "--mirror", mirror})
      assert.equal(0, code, err)
      assert.equal(4, #records)
      assert.equal(1, stats.http_errors)
      assert.equal(0, stats.failed)
      assert.truthy(err:find("HTTP 404: " .. origin .. "/chain/9/", 1, true), err)

      local hold = adapter("hold.lua", [[return {pages = {{path = "^/hold/", parse = function(page) return {url = page.url} end}}}]])
      code, records, err, stats = run({hold, origin .. "/hold/0/", "--mirror", mirror, "--timeout", "0.5", "--retries", "0"})
      assert.equal(1, code, err)
      assert.same({}, records)
      assert.equal(1, stats.fetch_errors)
      assert.equal(1, stats.failed)
      assert.truthy(err:find("fetch failed (timeout): " .. origin .. "/hold/0/", 1, true), err)
    end)

    it("--stats writes the final counts as one JSON object", function()
      local origin, mirror = site("stats.test", {chain = 3})
      local file = os.tmpname()
      local code, _, err = support.run({"run", adapter("chain.lua", CHAIN_ADAPTER), origin .. "/chain/0/",
        "--mirror", mirror, "--stats", file})
      assert.equal(0, code, err)
      local text = support.slurp(file)
      os.remove(file)
      assert.matches("^{.*}\n$", text)
      assert.truthy(text:find('"dropped":{}', 1, true), text)
      local stats = glean.json.decode(text)
      assert.equal(6, stats.pages)
      assert.equal(6, stats.records)
      assert.equal(0, stats.failed)
      assert.is_false(stats.interrupted)
      assert.equal("number", type(stats.elapsed))
    end)

    it("says clearly when max_queued drops URLs", function()
      local origin, mirror = site("full.test", {pages = 300})
      local code, records, err, stats = run({adapter("site.lua", SITE_ADAPTER), origin .. "/site/0/",
        "--mirror", mirror, "--max-queued", "5"})
      assert.equal(0, code, err)
      assert.equal(1, count(err, "frontier full (max_queued=5): dropping URLs such as "), err)
      assert.truthy(err:find("raise max_queued", 1, true), err)
      assert.is_true(stats.dropped.full > 0)
      assert.equal(#records, stats.pages)
    end)

    describe("Ctrl-C", function()
      local HOLD = [[
        local pad = string.rep("x", 100000)
        return {
          settings = %s,
          pages = {{path = "^/hold/%%d+/$", follow = "a[href]", parse = function(page)
            return {url = page.url, pad = pad}
          end}},
        }
      ]]

      it("lets pages in flight finish, prints the stats, exits 130 with whole records", function()
        local origin, mirror = site("int.test", {hold_ms = 2000})
        local proc = support.spawn({"run", adapter("int.lua", HOLD:format("{}")), origin .. "/hold/0/",
          "--mirror", mirror, "--progress", "0"})
        -- Wait for /hold/0/ to be handled and its links to be in flight.
        local in_flight = support.wait_for(function()
          local hits = served("int.test").hits
          return hits["/hold/1/"] and hits["/hold/2/"]
        end)
        assert.is_true(in_flight)
        proc:signal("INT")
        local code, out, err = proc:wait()
        assert.equal(130, code, err)
        assert.truthy(err:find("interrupted: finishing pages in flight", 1, true), err)
        assert.matches("pages %d+ | queued %d+ | in flight 0", err)
        local records = support.records(out)
        for _, r in ipairs(records) do assert.equal(100000, #r.pad) end
        -- Every page the server was asked for was handled, and no more
        -- were asked for once the pages in flight were done.
        local fetched = {}
        for p in pairs(served("int.test").hits) do
          if p ~= "/robots.txt" then fetched[#fetched + 1] = origin .. p end
        end
        table.sort(fetched)
        assert.same(fetched, urls_of(records))
        assert.is_true(#records >= 3 and #records < 15, #records .. " records")
      end)

      it("starts no page that was waiting for robots.txt", function()
        local origin, mirror = site("int3.test", {robots_ms = 1500})
        local proc = support.spawn({"run", adapter("int3.lua", HOLD:format("{}")), origin .. "/hold/0/",
          "--mirror", mirror, "--progress", "0"})
        assert.is_true(support.wait_for(function() return served("int3.test").hits["/robots.txt"] ~= nil end))
        proc:signal("INT")
        local code, out, err = proc:wait()
        assert.equal(130, code, err)
        assert.equal("", out)
        assert.same({"/robots.txt"}, sorted_keys(served("int3.test").hits))
      end)

      it("SIGTERM does what Ctrl-C does, and the exit status says it: 143", function()
        local origin, mirror = site("term.test", {robots_ms = 1500})
        local proc = support.spawn({"run", adapter("term.lua", HOLD:format("{}")), origin .. "/hold/0/",
          "--mirror", mirror, "--progress", "0"})
        assert.is_true(support.wait_for(function() return served("term.test").hits["/robots.txt"] ~= nil end))
        proc:signal("TERM")
        local code, out, err = proc:wait()
        assert.equal(143, code, err)
        assert.truthy(err:find("interrupted: finishing pages in flight", 1, true), err)
        assert.equal("", out)
      end)

      it("a second Ctrl-C stops at once, without waiting for pages in flight", function()
        local origin, mirror = site("int2.test", {hold_ms = 30000})
        local proc = support.spawn({"run", adapter("int2.lua", HOLD:format("{grace = 1000}")), origin .. "/hold/0/",
          "--mirror", mirror, "--progress", "0"})
        assert.is_true(support.wait_for(function() return served("int2.test").hits["/hold/0/"] ~= nil end))
        proc:signal("INT")
        support.sleep(0.2)
        proc:signal("INT")
        local code, out, err = proc:wait()
        assert.equal(130, code, err)
        -- /hold/0/ was never answered in time, so never handled.
        assert.equal("", out)
        assert.truthy(err:find("interrupted again: stopping now", 1, true), err)
        assert.matches("pages 0 | queued 0 | in flight 0", err)
      end)
    end)

    describe("adapter errors exit 2 with one line naming the file", function()
      local cases = {
        {"not a table", "return 42\n", ": an adapter must return a table, got number"},
        {"no pages", "return {name = 'x'}\n", ": 'pages' must be a list of page rules"},
        {"a bad pattern", "return {pages = {{path = '(', parse = print}}}\n", ": pages[1].path is not a valid Lua pattern"},
        {"a rule without path or match", "return {pages = {{parse = print}}}\n", ": pages[1] needs exactly one of 'path'"},
        {"a parse that is not a function", "return {pages = {{path = '^/', parse = 'x'}}}\n", ": pages[1].parse must be a function"},
        {"an unknown setting", "return {settings = {speed = 1}, pages = {{path = '^/'}}}\n", ": settings: unknown option 'speed'"},
        {"a syntax error", "return {pages = {\n", ":2: unexpected symbol near <eof>"},
      }
      for i, c in ipairs(cases) do
        it(c[1], function()
          local path = adapter("bad" .. i .. ".lua", c[2])
          local code, out, err = support.run({"run", path, "http://bad.test/"})
          assert.equal(2, code)
          assert.equal("", out)
          assert.truthy(err:find("^glean: " .. path:gsub("%p", "%%%0") .. c[3]:gsub("%p", "%%%0")), err)
          assert.equal(1, count(err, "\n"), err)
        end)
      end

      it("a missing file", function()
        local code, out, err = support.run({"run", dir .. "/missing.lua", "http://bad.test/"})
        assert.equal(2, code)
        assert.equal("", out)
        assert.equal("glean: cannot find adapter '" .. dir .. "/missing.lua'\n", err)
      end)

      it("and so do a mirror directory that does not exist and a fractional --depth", function()
        local path = adapter("chain.lua", CHAIN_ADAPTER)
        local code, out, err = support.run({"run", path, "http://bad.test/chain/0/", "--mirror", "http://bad.test=" .. dir .. "/none"})
        assert.equal(2, code)
        assert.equal("", out)
        assert.equal("glean: engine: mirror location is not a directory: " .. dir .. "/none\n", err)
        code, out, err = support.run({"run", path, "http://bad.test/chain/0/", "--depth", "1.5"})
        assert.equal(2, code)
        assert.equal("", out)
        assert.equal("glean: crawl options: option 'depth' must be a whole number, got 1.5\n", err)
      end)

      it("a start URL that cannot be crawled", function()
        local path = adapter("chain.lua", CHAIN_ADAPTER)
        local code, out, err = support.run({"run", path, "not a url"})
        assert.equal(2, code)
        assert.equal("", out)
        assert.equal("glean: not a crawlable URL: not a url\n", err)
      end)
    end)
  end)

  describe("glean.crawl in-process", function()
    local level

    setup(function()
      level = glean.log.level()
      glean.log.set_level("warn")
    end)

    teardown(function()
      glean.log.set_level(level)
    end)

    it("crawls with the adapter and options given, and returns the stats", function()
      local origin, mirror = site("inproc.test", {pages = 200})
      local seen = {}
      local engine = glean.current_engine()
      local stats = glean.crawl({
        allowed_hosts = {"inproc.test"},
        pages = {{path = "^/site/%d+/$", follow = "a[href]", parse = function(page)
          assert.is_true(coroutine.isyieldable())
          seen[#seen + 1] = page.url
        end}},
      }, {urls = {origin .. "/site/0/"}, mirrors = {mirror}, per_host = 3, progress = 0})
      assert.equal(200, stats.pages)
      assert.equal(0, stats.failed)
      assert.equal(0, stats.records)
      assert.equal(200, #seen)
      local hits = served("inproc.test")
      assert.equal(201, #sorted_keys(hits.hits))
      for p, n in pairs(hits.hits) do assert.equal(1, n, p) end
      assert.is_true(hits.peak <= 3, "peak " .. hits.peak)
      -- glean.fetch has its engine back.
      assert.equal(engine, glean.current_engine())
    end)

    it("runs handlers as coroutines: their glean.fetch calls overlap", function()
      local origin, mirror = site("hf.test")
      local seeds, fetched = {}, {}
      for n = 0, 7 do seeds[#seeds + 1] = ("%s/chain/%d/"):format(origin, n) end
      local stats = glean.crawl({
        pages = {{path = "^/chain/%d+/$", parse = function(page)
          local n = page.url:match("(%d+)/$")
          local resp = assert(glean.fetch(server:url("/count/crawl-hf/" .. n)))
          local more = glean.fetch_all({server:url("/count/crawl-hf/a" .. n), server:url("/count/crawl-hf/b" .. n)})
          fetched[#fetched + 1] = resp.body .. more[1].body .. more[2].body
        end}},
      }, {urls = seeds, mirrors = {mirror}, depth = 0, robots = false, progress = 0})
      assert.equal(8, stats.pages)
      assert.equal(0, stats.failed)
      assert.equal(8, #fetched)
      for _, f in ipairs(fetched) do assert.equal("countedcountedcounted", f) end
      local peak = tonumber(server:get("/peak/crawl-hf"))
      assert.is_true(peak > 1, "peak " .. peak)
    end)

    it("lets a handler's glean.fetch return while another handler's still waits", function()
      -- The first handler to run fetches a slow page, then opens a gate;
      -- the second waits at the gate. Only if each glean.fetch yields to
      -- the crawl (rather than running the loop under its own frame, with
      -- the other handler nested inside) can the first get past its fetch
      -- while the second is waiting. The second page comes 0.2 s after the
      -- first, while the first handler is in its fetch.
      local origin, mirror = site("gate.test", {hold_ms = 200})
      local roles, results = {}, {}
      local stats = glean.crawl({
        pages = {{path = "^/%a+/%d+/$", parse = function(page)
          roles[#roles + 1] = page.url
          if #roles == 1 then
            assert(glean.fetch(server:url("/slow?bytes=5&ms=100")))
            results.opener = assert(glean.fetch(server:url("/gate/crawl/open"))).body
          else
            results.waiter = assert(glean.fetch(server:url("/gate/crawl/wait"))).body
          end
        end}},
      }, {urls = {origin .. "/chain/0/", origin .. "/hold/0/"}, mirrors = {mirror}, depth = 0, robots = false,
          progress = 0})
      assert.equal(0, stats.failed)
      assert.equal(2, #roles)
      assert.same({opener = "open", waiter = "opened"}, results)
    end)

    it("keeps cookies between a crawl's requests unless told not to", function()
      local origin, mirror = site("cookie.test")
      local function crawl_cookies(cookies)
        local got
        glean.crawl({
          pages = {{path = "^/chain/0/$", parse = function()
            assert(glean.fetch(server:url("/cookie/set?crawl=1")))
            got = assert(glean.fetch(server:url("/cookie/echo"))).body
          end}},
        }, {urls = {origin .. "/chain/0/"}, mirrors = {mirror}, robots = false, progress = 0, cookies = cookies})
        return got
      end
      assert.equal("crawl=1", crawl_cookies(true))
      assert.equal("", crawl_cookies(false))
    end)

    it("is not kept going by the handlers of a crawl that failed", function()
      -- The first crawl fails on its seventh seed while handlers of the first
      -- six wait in glean.fetch; the second must still end. In a subprocess:
      -- if it does not, the test fails instead of hanging.
      local origin, mirror = site("left.test")
      local script = adapter("left.lua", ([[
        local origin, mirror, slow = ...
        glean.log.set_level("off")
        local seeds = {}
        for n = 0, 5 do seeds[#seeds + 1] = origin .. "/chain/" .. n .. "/" end
        seeds[#seeds + 1] = origin .. "/chain/boom/"
        local adapter = {pages = {{match = function(url)
          if url:find("boom") then error("no rule for " .. url, 0) end
          return true
        end, parse = function() glean.fetch(slow) end}}}
        local options = {urls = seeds, mirrors = {mirror}, concurrency = 2, depth = 0, robots = false, progress = 0}
        print(pcall(glean.crawl, adapter, options))
        options.urls = {origin .. "/chain/0/"}
        print(glean.crawl({pages = {{path = "^/chain/"}}}, options).pages)
      ]]))
      local proc = support.spawn({script, origin, mirror, server:url("/slow?bytes=3&ms=300")})
      local code, out, err = proc:wait(60)
      assert.equal(0, code, err)
      assert.equal("false\tno rule for " .. origin .. "/chain/boom/\n1\n", out)
    end)

    it("gives glean.fetch its engine back when the crawl fails", function()
      local engine = glean.current_engine()
      local ok, err = pcall(glean.crawl, {pages = {{path = "^/"}}}, {})
      assert.is_false(ok)
      assert.equal("adapter: no URLs to crawl (give some, or set start_urls)", err)
      assert.equal(engine, glean.current_engine())
      ok, err = pcall(glean.crawl, {pages = {{path = "^/"}}}, {urls = {"ftp://x.test/"}})
      assert.is_false(ok)
      assert.equal("not a crawlable URL: ftp://x.test/", err)
      assert.equal(engine, glean.current_engine())
    end)
  end)
end)
