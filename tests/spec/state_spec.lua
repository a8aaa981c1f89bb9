-- Resumable crawls (--state): a crawl SIGKILLed at random moments and
-- restarted until it ends gives exactly one uninterrupted crawl's records in
-- each kind of --out file; a finished crawl fetches nothing again; refresh =
-- SECONDS refetches listings and only the new articles; glean state prints a
-- state file and refuses the ones it must not touch.
local glean = require "glean"
local support = require "support"
local quote = support.quote

local sh, sql = support.capture, support.sql

local function readable(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- One record as a line of text, whatever the sink made of its types.
local function row(url, title, n)
  n = tonumber(n)
  return ("%s\t%s\t%s"):format(url, title, tostring(math.tointeger(n) or n))
end

local function sorted(list)
  table.sort(list)
  return list
end

local function jsonl_rows(path)
  local out = {}
  for _, r in ipairs(support.records(support.slurp(path))) do out[#out + 1] = row(r.url, r.title, r.n) end
  return sorted(out)
end

-- The CSV file's data rows as python3's csv module reads them; fails on a
-- header other than exactly one at the top, a row of another width, or a
-- last row cut.
local function csv_rows(path)
  local doc = glean.json.decode(sh(("python3 -c %s %s"):format(quote(
    "import csv, io, json, sys\n" ..
    "text = open(sys.argv[1], newline='', encoding='utf-8').read()\n" ..
    "print(json.dumps({'rows': list(csv.reader(io.StringIO(text, newline=''))),\n" ..
    "                  'whole': text == '' or text.endswith('\\n')}))"), quote(path))))
  assert(doc.whole, path .. ": the last row is cut")
  assert.same({"url", "title", "n"}, doc.rows[1])
  local out = {}
  for i = 2, #doc.rows do
    local r = doc.rows[i]
    assert(#r == 3, ("%s: row %d has %d cells"):format(path, i, #r))
    out[#out + 1] = row(r[1], r[2], r[3])
  end
  return sorted(out)
end

local function sqlite_rows(path)
  assert.equal("ok\n", sql(path, "PRAGMA integrity_check"))
  local out = {}
  for line in sql(path, "SELECT url, title, n FROM gen"):gmatch("[^\n]+") do
    local url, title, n = line:match("^(.-)|(.-)|(.*)$")
    out[#out + 1] = row(url, title, n)
  end
  return sorted(out)
end

local ADAPTER = [[
  local function record(page)
    return {url = page.url, title = page:text("h1"), n = tonumber(page.url:match("(%d+)/$"))}
  end
  return {
    name = "gen",
    fields = {"url", "title", "n"},
    pages = {
      {path = "^/hold/%d+/$", parse = record},
      {path = "^/%l+/%d+/$", follow = "a[href]", parse = record},
    },
  }
]]

describe("resumable crawls (--state)", function()
  local server, dir, adapter, origin, mirror, reference

  -- Seeds: the generated site, a redirect (/moved/2/ to /chain/2/), a 404
  -- and a slow page (/hold/1/, 3 s), behind a slow robots.txt (3 s).
  local function crawl_args(extra)
    local argv = {"run", adapter, origin .. "/site/0/", origin .. "/moved/2/", origin .. "/nope/1/",
      origin .. "/hold/1/", "--mirror", mirror, "--progress", "0"}
    for _, a in ipairs(extra) do argv[#argv + 1] = a end
    return argv
  end

  local function stats() return server:json("/stats/st.test") end
  local function hits(path) return stats().hits[path] or 0 end

  setup(function()
    server = support.server()
    dir = support.tempdir()
    adapter = dir .. "/gen.lua"
    local f = assert(io.open(adapter, "w"))
    f:write(ADAPTER)
    f:close()
    assert.equal("configured", server:post("/config/st.test", glean.json.encode({
      pages = 3000, chain = 5, sleep_ms = 1, hold_ms = 3000, robots_ms = 3000,
      robots = "User-agent: *\nDisallow: /private/\n"})))
    origin, mirror = "http://st.test", ("http://st.test=%s/v/st.test"):format(server.base)
    local out = dir .. "/reference.jsonl"
    local code, stdout, err = support.spawn(crawl_args({"--out", out})):wait(60)
    assert.equal(0, code, err)
    assert.equal("", stdout)
    reference = jsonl_rows(out)
    -- The site, the redirect's target and the slow page; not the 404.
    assert.is_true(#reference > 3000, #reference)
    local all = table.concat(reference, "\n")
    assert.truthy(all:find("/chain/2/\tchain 2\t2", 1, true))
    assert.truthy(all:find("/hold/1/\thold 1\t1", 1, true))
  end)

  teardown(function()
    server:stop()
    os.execute("rm -rf " .. quote(dir))
  end)

  -- Kills the crawl with SIGKILL during robots.txt, during the slow page,
  -- then at random moments, restarting it with the same arguments each time
  -- until it exits 0. Returns the number of kills.
  local function crawl_killed(args, seed)
    local rng_state = seed
    local function random() -- a small LCG: the same kills on every machine
      rng_state = (rng_state * 1103515245 + 12345) % 2147483648
      return rng_state / 2147483648
    end
    local kills, runs = 0, 0
    while true do
      runs = runs + 1
      assert(runs <= 30, "the crawl never finished")
      local robots, hold = hits("/robots.txt"), hits("/hold/1/")
      local proc = support.spawn(crawl_args(args))
      local moment
      if kills == 0 then
        -- robots.txt takes 3 s (room for a slow poll of the server on a loaded
        -- machine, under ASan): kill when its request is in the server.
        assert.is_true(support.wait_for(function() return hits("/robots.txt") > robots end, 30))
        moment = "robots.txt"
      elseif kills == 1 then
        -- /hold/1/ takes 3 s: kill when its request has come.
        assert.is_true(support.wait_for(function() return hits("/hold/1/") > hold or proc:done() end, 30))
        moment = "the slow page"
      elseif kills < 6 then
        support.sleep(("%.2f"):format(0.1 + 0.4 * random()))
        moment = "a random moment"
      end
      if moment and not proc:done() then
        proc:signal("KILL")
        local code = proc:wait(30)
        assert.is_not_nil(code, "a killed crawl did not end")
        if code ~= 0 then kills = kills + 1 end
      else
        local code, stdout, err = proc:wait(60)
        assert.equal(0, code, err)
        assert.equal("", stdout)
        return kills
      end
    end
  end

  for _, case in ipairs({
    {name = "JSON Lines", file = "out.jsonl", rows = jsonl_rows, args = {"--state-commit", "0"}},
    -- Commits every second (the default), and a second output beside it.
    {name = "CSV", file = "out.csv", rows = csv_rows, args = {}, second = "second.jsonl"},
    {name = "SQLite", file = "out.sqlite", rows = sqlite_rows, args = {"--state-commit", "0"}},
  }) do
    it("SIGKILLed at random moments and restarted until it ends, it writes one crawl's records to " .. case.name,
      function()
        local out, state = dir .. "/" .. case.file, dir .. "/" .. case.file .. ".state"
        local args = {"--state", state, "--out", out}
        for _, a in ipairs(case.args) do args[#args + 1] = a end
        local second = case.second and dir .. "/" .. case.second
        if second then table.move({"--out", second}, 1, 2, #args + 1, args) end
        local kills = crawl_killed(args, #case.file)
        assert.is_true(kills >= 5, kills)
        assert.same(reference, case.rows(out))
        if second then assert.same(reference, jsonl_rows(second)) end
        -- 2. Run again, it fetches nothing it has handled.
        local before, bytes = stats().requests, readable(out)
        local code, stdout, err = support.spawn(crawl_args(args)):wait(60)
        assert.equal(0, code, err)
        assert.equal("", stdout)
        assert.equal(before, stats().requests)
        -- The stats count all runs; the progress line's rate is this run's.
        assert.truthy(err:find("| 0.0 pages/s |", 1, true), err)
        assert.same(reference, case.rows(out))
        if case.file ~= "out.sqlite" then assert.equal(bytes, readable(out)) end
      end)
  end
end)

describe("incremental crawls (refresh)", function()
  local dir

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. quote(dir) .. " " .. quote(dir .. "/www")))
  end)

  teardown(function()
    os.execute("rm -rf " .. quote(dir))
  end)

  local function write(path, text)
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    return path
  end

  local function listing(n)
    local links = {}
    for i = 1, n do links[#links + 1] = ('<a href="/a%d.html">article %d</a>'):format(i, i) end
    write(dir .. "/www/index.html", "<!doctype html><title>news</title>" .. table.concat(links))
    for i = 1, n do write(("%s/www/a%d.html"):format(dir, i), ("<!doctype html><h1>article %d</h1>"):format(i)) end
  end

  local NEWS = [[
    return {
      name = "news",
      pages = {
        {path = "^/$", follow = "a[href]", refresh = 1},
        {path = "^/a%d+%.html$", parse = function(page) return {url = page.url, title = page:text("h1")} end},
      },
    }
  ]]

  it("a rule with refresh = 1 fetches the listing again and only the articles it has not seen", function()
    listing(2)
    local www = support.serve_dir(dir .. "/www")
    local adapter = write(dir .. "/news.lua", NEWS)
    local state, out = dir .. "/news.state", dir .. "/news.jsonl"
    local function run()
      local before = #www.requests()
      local code, stdout, err = support.spawn({"run", adapter, www.base .. "/", "--state", state, "--out", out,
        "--progress", "0"}):wait(30)
      assert.equal(0, code, err)
      assert.equal("", stdout)
      local paths = {}
      for i = before + 1, #www.requests() do paths[#paths + 1] = www.requests()[i] end
      return sorted(paths)
    end
    local ok, err = pcall(function()
      assert.same({"/", "/a1.html", "/a2.html", "/robots.txt"}, run())
      listing(4)
      support.sleep(1.2)
      assert.same({"/", "/a3.html", "/a4.html"}, run())
      local titles = {}
      for _, r in ipairs(support.records(support.slurp(out))) do titles[#titles + 1] = r.title end
      assert.same({"article 1", "article 2", "article 3", "article 4"}, sorted(titles))
    end)
    www.stop()
    assert(ok, err)
  end)
end)

describe("glean state", function()
  local dir, www, state

  local function write(path, text)
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    return path
  end

  -- Runs glean; the state file must be as it was, byte for byte.
  local function refused(args, path, pattern)
    local before = support.slurp(path)
    local code, out, err = support.run(args)
    assert.equal(2, code, table.concat(args, " ") .. ": " .. err .. out)
    assert.equal("", out)
    assert.truthy(err:find(path, 1, true), err)
    assert.truthy(err:find(pattern, 1, true), err)
    assert.equal(1, select(2, err:gsub("\n", "\n")), "not one line: " .. err)
    assert.is_true(before == support.slurp(path), path .. " was changed")
  end

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. quote(dir) .. " " .. quote(dir .. "/www")))
    write(dir .. "/www/index.html", '<a href="/a1.html">1</a><a href="/a2.html">2</a><a href="/gone.html">x</a>')
    write(dir .. "/www/a1.html", "<h1>one</h1>")
    write(dir .. "/www/a2.html", "<h1>two</h1>")
    www = support.serve_dir(dir .. "/www")
    write(dir .. "/news.lua", [[
      return {name = "news", pages = {
        {path = "^/$", follow = "a[href]"},
        {path = "^/.*%.html$", parse = function(page) return {url = page.url, title = page:text("h1")} end},
      }}
    ]])
    write(dir .. "/other.lua", [[return {name = "other", pages = {{path = "^/", follow = "a[href]"}}}]])
    state = dir .. "/news.state"
    local code, _, err = support.run({"run", dir .. "/news.lua", www.base .. "/", "--state", state,
      "--out", dir .. "/news.jsonl", "--progress", "0"})
    assert.is_true(code == 0 or code == 1, err)
  end)

  teardown(function()
    www.stop()
    os.execute("rm -rf " .. quote(dir))
  end)

  -- A copy of the finished crawl's state file, changed by fn(path).
  local function copy(name, fn)
    local path = dir .. "/" .. name
    write(path, support.slurp(state))
    if fn then fn(path) end
    return path
  end

  it("prints queued, done, failed, per host and when it last ran", function()
    local code, out, err = support.run({"state", state})
    assert.equal(0, code, err)
    assert.truthy(out:find("adapter news", 1, true), out)
    assert.truthy(out:find("last run 20%d%d%-%d%d%-%d%dT"), out)
    assert.truthy(out:find("all hosts: queued 0  done 3  failed 1", 1, true), out)
    assert.truthy(out:find("\n  127.0.0.1: queued 0  done 3  failed 1", 1, true), out)
    -- Looking leaves nothing behind (a read-only SQLite connection would
    -- leave the WAL's -wal and -shm files).
    for _, side in ipairs({"-wal", "-shm"}) do
      local f = io.open(state .. side)
      if f then f:close() end
      assert.is_nil(f, state .. side .. " left behind")
    end
  end)

  it("refuses another adapter's state, a file that is not SQLite, a damaged one and a newer format", function()
    local run = {"run", dir .. "/news.lua", www.base .. "/", "--progress", "0", "--state"}
    local function both(path, pattern)
      refused({"state", path}, path, pattern)
      local argv = {table.unpack(run)}
      argv[#argv + 1] = path
      refused(argv, path, pattern)
    end
    refused({"run", dir .. "/other.lua", www.base .. "/", "--state", state}, state,
      "the state of adapter 'news', not of 'other'")
    both(write(dir .. "/text.state", "not a database at all\n"), "not a glean state file, or a damaged one")
    local size = #support.slurp(state)
    both(copy("cut.state", function(p) write(p, support.slurp(state):sub(1, size // 2)) end), "damaged")
    both(copy("scribbled.state", function(p)
      local s = support.slurp(state)
      write(p, s:sub(1, 4096) .. ("\255"):rep(4096) .. s:sub(2 * 4096 + 1)) -- page 2
    end), "damaged")
    both(copy("newer.state", function(p) sql(p, "UPDATE meta SET value = '3' WHERE key = 'format'") end),
      "format 3, written by a newer glean (this glean reads format 2)")
    both(copy("ownerless.state", function(p) sql(p, "DELETE FROM meta WHERE key = 'adapter'") end),
      "not a glean state file")
    local records = dir .. "/records.sqlite"
    sql(records, "CREATE TABLE news(url TEXT UNIQUE, title TEXT)")
    both(records, "a SQLite file, but not a glean state file")
  end)
end)
