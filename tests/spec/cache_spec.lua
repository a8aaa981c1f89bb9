-- The HTTP cache and offline replay: `glean run --cache` recording a site
-- that tests/server/testserver.py serves on 127.0.0.1, `--offline`
-- replaying it with the server stopped, revalidation with 304s, the cache
-- modes, and glean.engine / glean.session with the cache in-process. The
-- server counts every request, so each check sees whether the network was
-- used.
local glean = require "glean"
local support = require "support"

describe("the HTTP cache", function()
  local server, dir

  setup(function()
    server = support.server()
    dir = support.tempdir()
  end)

  teardown(function()
    server:stop()
    os.execute("rm -rf " .. support.quote(dir))
  end)

  local function adapter(name, text) return support.write(dir, name, text) end

  -- `glean run` to the end: exit code, records, stderr, stats.
  local run = support.run_crawl

  local function by_url(records)
    table.sort(records, function(a, b) return a.url < b.url end)
    return records
  end

  local SITE_ADAPTER = [[
    return {
      pages = {
        {path = "^/site/%d+/$", follow = "a[href]", parse = function(page)
          return {url = page.url, title = page:text("h1"), status = page.status}
        end},
      },
    }
  ]]

  -- A generated site on srv under a made-up origin: origin, --mirror value.
  local function site(srv, name, config)
    assert.equal("configured", srv:post("/config/" .. name, glean.json.encode(config)))
    return "http://" .. name, ("http://%s=%s/v/%s"):format(name, srv.base, name)
  end

  it("--cache records a crawl that --offline replays with the server stopped, robots.txt included", function()
    local own = support.server()  -- stopped halfway
    local origin, mirror = site(own, "replay.test", {pages = 40, robots = "User-agent: *\nDisallow: /site/3/\n"})
    local cache, path = dir .. "/replay.cache", adapter("site.lua", SITE_ADAPTER)
    local code, live, err, stats = run({path, origin .. "/site/0/", "--mirror", mirror, "--cache", cache})
    assert.equal(0, code, err)
    assert.equal(39, #live)  -- all but /site/3/, which robots.txt disallows
    assert.equal(1, stats.robots_skipped)
    assert.equal(40, stats.cache_stored)  -- the pages and robots.txt
    assert.equal(0, stats.cache_hits)
    local hits = own:json("/stats/replay.test").hits
    own:stop()
    assert.equal(1, hits["/robots.txt"])

    -- No server, no mirror: the cache alone.
    local live_again
    code, live_again, err, stats = run({path, origin .. "/site/0/", "--cache", cache, "--offline"})
    assert.equal(0, code, err)
    assert.same(by_url(live), by_url(live_again))
    assert.equal(1, stats.robots_skipped)
    assert.equal(40, stats.cache_hits)
    assert.equal(0, stats.fetch_errors)
    assert.same({}, stats.fetch_error_kinds)
  end)

  it("--offline fails the pages not in the cache with the error kind offline, counted in the stats", function()
    local origin, mirror = site(server, "partial.test", {pages = 40})
    local cache, path = dir .. "/partial.cache", adapter("site.lua", SITE_ADAPTER)
    local code, recorded, err = run({path, origin .. "/site/0/", "--mirror", mirror, "--cache", cache, "--depth", "0"})
    assert.equal(0, code, err)
    assert.equal(1, #recorded)
    local before = server:json("/stats/partial.test").requests
    local replayed, stats
    code, replayed, err, stats = run({path, origin .. "/site/0/", "--mirror", mirror, "--cache", cache,
      "--offline", "--depth", "1"})
    assert.equal(1, code, err)  -- some page failed
    assert.equal(before, server:json("/stats/partial.test").requests)  -- not even through the mirror
    assert.equal(1, #replayed)
    assert.is_true(stats.fetch_errors > 0)
    assert.equal(stats.fetch_errors, stats.fetch_error_kinds.offline)
    assert.matches("fetch failed %(offline%): http://partial%.test/site/%d+/: offline, and not in the cache", err)
  end)

  it("is shared by crawls running at once, each replayed whole after", function()
    local cache, path = dir .. "/shared.cache", adapter("site.lua", SITE_ADAPTER)
    local procs, live = {}, {}
    for i = 1, 3 do
      local origin, mirror = site(server, "shared" .. i .. ".test", {pages = 150})
      procs[i] = support.spawn({"run", path, origin .. "/site/0/", "--mirror", mirror, "--cache", cache,
        "--progress", "0"})
    end
    for i = 1, 3 do
      local code, out, err = procs[i]:wait()
      assert.equal(0, code, err)
      live[i] = support.records(out)
      assert.equal(150, #live[i])
    end
    for i = 1, 3 do
      local code, replayed, err, stats = run({path, ("http://shared%d.test/site/0/"):format(i), "--cache", cache,
        "--offline"})
      assert.equal(0, code, err)
      assert.same(by_url(live[i]), by_url(replayed))
      assert.equal(0, stats.cache_errors)
    end
  end)

  local BODY_ADAPTER = [[
    return {
      pages = {
        {path = "^/c/", parse = function(page)
          return {url = page.url, body = page.response.body, served = page.response.headers["x-served"]}
        end},
      },
    }
  ]]

  local function served(kind, key)
    return server:json(("/c/count/%s/%s"):format(kind, key))
  end

  it("revalidates a stale entry: the server's 304 answers with the stored page", function()
    local cache, path = dir .. "/etag.cache", adapter("body.lua", BODY_ADAPTER)
    local url = server:url("/c/etag/run")
    local code, first, err = run({path, url, "--cache", cache})
    assert.equal(0, code, err)
    assert.equal("etag run 1", first[1].body)
    local second, stats
    code, second, err, stats = run({path, url, "--cache", cache})
    assert.equal(0, code, err)
    assert.equal("etag run 1", second[1].body)  -- the stored body ...
    assert.equal("2", second[1].served)         -- ... with the 304's headers
    assert.same({requests = 2, not_modified = 1}, served("etag", "run"))
    assert.equal(1, stats.cache_revalidated)
  end)

  it("--cache-mode always answers from any entry, --cache-mode refresh always fetches", function()
    local cache, path = dir .. "/always.cache", adapter("body.lua", BODY_ADAPTER)
    local url = server:url("/c/etag/always")
    assert.equal(0, (run({path, url, "--cache", cache})))
    local code, records, err, stats = run({path, url, "--cache", cache, "--cache-mode", "always"})
    assert.equal(0, code, err)
    assert.equal("etag always 1", records[1].body)
    assert.same({requests = 1, not_modified = 0}, served("etag", "always"))
    assert.equal(2, stats.cache_hits)  -- the page and robots.txt
    code, records, err = run({path, url, "--cache", cache, "--cache-mode", "refresh"})
    assert.equal(0, code, err)
    assert.equal("etag always 2", records[1].body)
    assert.same({requests = 2, not_modified = 0}, served("etag", "always"))
    code, _, err = run({path, url, "--cache", cache, "--cache-mode", "sometimes"})
    assert.equal(2, code)
    assert.matches("%-%-cache%-mode must be always, fresh, refresh, got 'sometimes'", err)
    code, _, err = run({path, url, "--cache-mode", "always"})
    assert.equal(2, code)
    assert.matches("needs a cache file: %-%-cache PATH", err)
  end)

  it("answers glean.fetch in a handler from the cache too", function()
    local cache = dir .. "/handler.cache"
    local path = adapter("fetching.lua", ([[
      return {
        pages = {
          {path = "^/c/fresh/", parse = function(page)
            local extra = assert(glean.fetch(%q))
            return {url = page.url, body = page.response.body, extra = extra.body}
          end},
        },
      }
    ]]):format(server:url("/c/fresh/extra")))
    local url = server:url("/c/fresh/page")
    local code, live, err = run({path, url, "--cache", cache})
    assert.equal(0, code, err)
    assert.same({{url = url, body = "fresh page 1", extra = "fresh extra 1"}}, live)
    local replayed
    code, replayed, err = run({path, url, "--cache", cache, "--offline"})
    assert.equal(0, code, err)
    assert.same(live, replayed)
    assert.same({requests = 1, not_modified = 0}, served("fresh", "extra"))
  end)

  it("reads a cache of 100,000 entries entry by entry, never loading it", function()
    local cache = dir .. "/big.cache"
    local url = server:url("/c/fresh/bound")
    local args = {url, "--cache", cache, "--offline"}
    local code, _, err = run({adapter("body.lua", BODY_ADAPTER), url, "--cache", cache})
    assert.equal(0, code, err)
    local out, small_kb, folder
    code, out, err, folder, small_kb = support.run_adapter(BODY_ADAPTER, args, {peak = true})
    os.execute("rm -rf " .. support.quote(folder))
    assert.equal(0, code, err)
    -- 100,000 more entries of 1 KB each, written as glean writes them.
    assert.equal("", support.sql(cache, [[
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
      INSERT INTO glean_cache SELECT 'GET http://filler.test/' || i || '/', '', '', 'http://filler.test/' || i || '/',
        200, x'', 0, '1.1', 0, 0, randomblob(1024) FROM n]]))
    assert.equal("100002\n", support.sql(cache, "SELECT count(*) FROM glean_cache"))
    local big_kb
    code, out, err, folder, big_kb = support.run_adapter(BODY_ADAPTER, args, {peak = true})
    os.execute("rm -rf " .. support.quote(folder))
    assert.equal(0, code, err)
    assert.equal("fresh bound 1", support.records(out)[1].body)
    -- The file grew by over 100 MB; the run's peak, by less than 16.
    assert.is_true(big_kb - small_kb < 16 * 1024, ("peak %d KB, %d KB before"):format(big_kb, small_kb))
  end)

  it("says which cache file is bad", function()
    local bad = support.tempfile(("not a database, "):rep(20))
    local code, _, err = run({adapter("site.lua", SITE_ADAPTER), server:url("/site/0/"), "--cache", bad})
    assert.equal(2, code)
    assert.matches("cache " .. bad:gsub("%p", "%%%0") .. ": ", err)
    os.remove(bad)
    -- Another program's SQLite file is left as it was.
    local other = dir .. "/records.db"
    assert.equal("", support.sql(other, "CREATE TABLE records (url TEXT)"))
    code, _, err = run({adapter("site.lua", SITE_ADAPTER), server:url("/site/0/"), "--cache", other})
    assert.equal(2, code)
    assert.matches("a database with other tables than a glean cache's", err)
    assert.equal("records\n", support.sql(other, "SELECT name FROM sqlite_master"))
    assert.equal("delete\n", support.sql(other, "PRAGMA journal_mode"))
  end)

  describe("in-process", function()
    it("glean.engine and glean.session take cache, cache_mode and offline", function()
      local cache = dir .. "/session.cache"
      local s = glean.session({cache = cache, robots = false})
      assert.equal("fresh session 1", s:fetch(server:url("/c/fresh/session")).body)
      assert.equal("fresh session 1", s:fetch(server:url("/c/fresh/session")).body)
      local st = s:stats()
      assert.equal(1, st.cache_hits)
      assert.equal(1, st.cache_stored)
      s:close()
      local offline = glean.session({cache = cache, offline = true, robots = false})
      assert.equal("fresh session 1", offline:fetch(server:url("/c/fresh/session")).body)
      local resp, msg, kind = offline:fetch(server:url("/c/fresh/elsewhere"))
      assert.is_nil(resp)
      assert.equal("offline", kind)
      assert.matches("/c/fresh/elsewhere: offline", msg)
      assert.equal(1, offline:stats().errors.offline)
      offline:close()
      assert.same({requests = 1, not_modified = 0}, served("fresh", "session"))
      assert.same({requests = 0, not_modified = 0}, served("fresh", "elsewhere"))
      assert.has_error(function() glean.engine({cache_mode = "never"}) end,
        "bad option 'cache_mode' (fresh, always or refresh expected, got 'never')")
    end)

    it("a plain script's glean.fetch through an engine with the cache", function()
      local cache = dir .. "/script.cache"
      local engine = glean.engine({cache = cache, cache_mode = "always"})
      local previous = glean.use_engine(engine)
      local ok, err = pcall(function()
        assert.equal("etag script 1", glean.fetch(server:url("/c/etag/script")).body)
        assert.equal("etag script 1", glean.fetch(server:url("/c/etag/script")).body)
      end)
      glean.use_engine(previous)
      engine:close()
      assert(ok, err)
      assert.same({requests = 1, not_modified = 0}, served("etag", "script"))
    end)
  end)
end)
