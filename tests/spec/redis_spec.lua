-- A crawl shared in Redis (--frontier redis://): three workers on one
-- generated site, one SIGKILLed mid-crawl; together they write every page's
-- record, Redis counts every page done, and only the killed worker's leased
-- pages are fetched twice. Redis unreachable at the start, or lost
-- mid-crawl: a clear error and exit 2. A real redis-server on 127.0.0.1,
-- started here on a free port in a temp dir, without persistence.
local glean = require "glean"
local support = require "support"
local quote, sh = support.quote, support.capture

local ADAPTER = [[
  return {
    name = "gen",
    fields = {"url", "title"},
    pages = {
      {path = "^/site/%d+/$", follow = "a[href]", parse = function(page)
        return {url = page.url, title = page:text("h1")}
      end},
    },
  }
]]

local PAGES = 1500

local function free_port()
  return tonumber(sh("python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0));"
    .. " print(s.getsockname()[1])'"))
end

-- Starts redis-server in dir (on port, else a free one; with aof, every
-- write in its append-only file before the reply); returns its port and a
-- function that SIGKILLs it.
local function redis_server(dir, port, aof, password)
  port = port or free_port()
  assert(os.execute(("redis-server --port %d --bind 127.0.0.1 --save '' --appendonly %s --appendfsync always"
    .. " --dir %s --daemonize yes --pidfile %s/redis.pid --logfile %s/redis.log%s"):format(
    port, aof and "yes" or "no", quote(dir), quote(dir), quote(dir), password and " --requirepass " .. password or "")))
  -- Up once it answers (NOAUTH: it answers too).
  local function up() return sh(("redis-cli -p %d ping 2>&1"):format(port)):find("PONG\n") or false end
  local function answers() return up() or sh(("redis-cli -p %d ping 2>&1"):format(port)):find("NOAUTH") end
  assert.is_true(support.wait_for(function() return answers() and true end, 10))
  local function stop()
    os.execute(("kill -KILL $(cat %s/redis.pid) 2>/dev/null; rm -f %s/redis.pid"):format(quote(dir), quote(dir)))
    -- Gone once nothing answers there.
    assert.is_true(support.wait_for(function() return not answers() end, 10))
  end
  return port, stop
end

-- The records of a --out file, a last line cut by a kill left out.
local function urls(path)
  local text = support.slurp(path) or ""
  text = text:match("^(.*\n)") or ""
  local out = {}
  for _, r in ipairs(support.records(text)) do out[#out + 1] = r.url end
  return out
end

describe("a crawl shared in Redis (--frontier)", function()
  local server, dir, adapter, port, stop_redis

  setup(function()
    server = support.server()
    dir = support.tempdir()
    adapter = support.write(dir, "gen.lua", ADAPTER)
    port, stop_redis = redis_server(dir)
  end)

  teardown(function()
    stop_redis()
    server:stop()
    os.execute("rm -rf " .. quote(dir))
  end)

  local function run_args(frontier, out)
    return {"run", adapter, "http://rd.test/site/0/", "--mirror", ("http://rd.test=%s/v/rd.test"):format(server.base),
      "--frontier", frontier, "--out", out, "--concurrency", "4", "--progress", "0"}
  end

  it("three workers, one SIGKILLed: every page's record, all done, refetched only what the dead one held", function()
    assert.equal("configured", server:post("/config/rd.test", glean.json.encode({pages = PAGES, sleep_ms = 5})))
    local frontier = ("redis://127.0.0.1:%d/crawl1?lease=2"):format(port)
    local workers, outs = {}, {}
    for i = 1, 3 do
      outs[i] = dir .. "/out" .. i .. ".jsonl"
      workers[i] = support.spawn(run_args(frontier, outs[i]))
    end
    -- Mid-crawl: a third of the pages fetched.
    assert.is_true(support.wait_for(function() return server:json("/stats/rd.test").requests >= PAGES / 3 end, 30))
    workers[1]:signal("KILL")
    -- What the dead worker held is still leased (2 s) now, with the live
    -- workers' pages.
    local leased = {}
    for entry in sh(("redis-cli -p %d zrange crawl1:leased 0 -1"):format(port)):gmatch("[^\n]+") do
      leased[entry:match("([^\t]+)$")] = true
    end
    assert.is_not_nil(workers[1]:wait(10))
    for i = 2, 3 do
      local code, _, err = workers[i]:wait(60)
      assert.equal(0, code, err)
    end
    -- The union of the outputs: every page, nothing else.
    local union, n = {}, 0
    for i = 1, 3 do
      for _, u in ipairs(urls(outs[i])) do
        if not union[u] then n = n + 1 end
        union[u] = true
      end
    end
    for p = 0, PAGES - 1 do assert.is_true(union[("http://rd.test/site/%d/"):format(p)], p) end
    assert.equal(PAGES, n)
    -- Redis: all done, nothing queued or leased.
    local code, status = support.run({"status", ("redis://127.0.0.1:%d/crawl1"):format(port)})
    assert.equal(0, code)
    assert.truthy(status:find(("all hosts: queued 0  leased 0  done %d  failed 0"):format(PAGES), 1, true), status)
    -- Each worker's stats under its name: the two that finished say so,
    -- and their pages with the dead one's make the crawl's (and more).
    assert.truthy(status:find("workers: 3\n", 1, true), status)
    local finished, pages = 0, 0
    for n, fin in status:gmatch(":%d+: last commit %d+ s ago, pages (%d+), records %d+, failed 0([^\n]*)") do
      pages = pages + tonumber(n)
      if fin == " (finished)" then finished = finished + 1 end
    end
    assert.equal(2, finished, status)
    assert.is_true(pages >= PAGES - 8 * 3, status)
    -- Fetched once each, but for pages the dead worker held (at-least-once).
    local twice = 0
    for path, hits in pairs(server:json("/stats/rd.test").hits) do
      if path:find("^/site/") then
        if hits > 1 then
          twice = twice + 1
          assert.is_true(leased["http://rd.test" .. path], path .. " fetched twice, not leased by the dead worker")
          assert.equal(2, hits, path)
        end
      end
    end
    assert.is_true(twice >= 1, "the killed worker held no page")
  end)

  it("a second crawl of a finished one fetches nothing: seeds are added once", function()
    local before = server:json("/stats/rd.test").requests
    local code, _, err = support.spawn(run_args(("redis://127.0.0.1:%d/crawl1"):format(port), dir .. "/again.jsonl")):wait(30)
    assert.equal(0, code, err)
    assert.equal(0, #urls(dir .. "/again.jsonl"))
    assert.equal(before, server:json("/stats/rd.test").requests)
  end)

  it("glean status PATH prints a --state file, as glean state does", function()
    assert.equal("configured", server:post("/config/sf.test", glean.json.encode({pages = 5})))
    local state = dir .. "/small.state"
    local code, _, err = support.run({"run", adapter, "http://sf.test/site/0/", "--mirror",
      ("http://sf.test=%s/v/sf.test"):format(server.base), "--state", state, "--out", dir .. "/small.jsonl", "--progress", "0"})
    assert.equal(0, code, err)
    local out
    code, out = support.run({"status", state})
    assert.equal(0, code)
    assert.truthy(out:find("all hosts: queued 0  done 5  failed 0", 1, true), out)
  end)

  it("takes Redis's password from the URL or REDISCLI_AUTH, and says when it is missing", function()
    local sub = dir .. "/auth"
    assert(os.execute("mkdir " .. quote(sub)))
    local aport, stop = redis_server(sub, nil, false, "s3cret")
    local code, out, err = support.run({"status", ("redis://127.0.0.1:%d/a"):format(aport)})
    assert.equal(2, code)
    assert.truthy(err:find("NOAUTH", 1, true), err)
    code, out, err = support.run({"status", ("redis://:s3cret@127.0.0.1:%d/a"):format(aport)})
    assert.equal(0, code, err)
    assert.falsy(out:find("s3cret", 1, true), out)  -- not printed
    code, out, err = support.run({"status", ("redis://127.0.0.1:%d/a"):format(aport)}, nil, "export REDISCLI_AUTH=s3cret")
    assert.equal(0, code, err)
    assert.truthy(out:find("all hosts: queued 0", 1, true), out)
    stop()
  end)

  it("refuses a Redis it cannot reach at the start, and rediss://, with exit 2", function()
    local code, _, err = support.spawn(run_args(("redis://127.0.0.1:%d/x"):format(free_port()), dir .. "/x.jsonl")):wait(30)
    assert.equal(2, code)
    assert.truthy(err:find("cannot connect", 1, true), err)
    code, _, err = support.spawn(run_args("rediss://127.0.0.1:1/x", dir .. "/x.jsonl")):wait(30)
    assert.equal(2, code)
    assert.truthy(err:find("TLS", 1, true), err)
  end)

  it("Redis restarted mid-crawl (its append-only file kept): the worker says so, waits, and finishes every page", function()
    local sub = dir .. "/restart"
    assert(os.execute("mkdir " .. quote(sub)))
    local rport, stop = redis_server(sub, nil, true)
    assert.equal("configured", server:post("/config/rd.test", glean.json.encode({pages = PAGES, sleep_ms = 5})))
    local out = sub .. "/out.jsonl"
    local w = support.spawn(run_args(("redis://127.0.0.1:%d/re?wait=30"):format(rport), out))
    assert.is_true(support.wait_for(function() return server:json("/stats/rd.test").requests >= PAGES / 3 end, 30))
    stop()
    support.sleep(0.5)
    local _, stop_again = redis_server(sub, rport, true)
    local code, _, err = w:wait(60)
    stop_again()
    assert.equal(0, code, err)
    assert.truthy(err:find("Redis lost", 1, true), err)
    assert.truthy(err:find("reconnected", 1, true), err)
    local seen = {}
    for _, u in ipairs(urls(out)) do seen[u] = true end
    for p = 0, PAGES - 1 do assert.is_true(seen[("http://rd.test/site/%d/"):format(p)], p) end
  end)

  it("lost mid-crawl: says so, retries for wait seconds, then exits 2", function()
    local sub = dir .. "/lost"
    assert(os.execute("mkdir " .. quote(sub)))
    local lport, stop = redis_server(sub)
    assert.equal("configured", server:post("/config/rd.test", glean.json.encode({pages = PAGES, sleep_ms = 20})))
    local w = support.spawn(run_args(("redis://127.0.0.1:%d/lost?wait=1"):format(lport), sub .. "/out.jsonl"))
    assert.is_true(support.wait_for(function() return server:json("/stats/rd.test").requests >= 50 end, 30))
    stop()
    local code, _, err = w:wait(30)
    assert.equal(2, code)
    assert.truthy(err:find("Redis lost", 1, true), err)
    assert.truthy(err:find("gave up after", 1, true), err)
  end)
end)
