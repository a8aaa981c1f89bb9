-- glean test: an adapter's records over a recorded site compared with an
-- expected JSON Lines file, by key and field by field; --update; the
-- exit statuses; expected files that are not JSON Lines.
local glean = require "glean"
local support = require "support"

local SITE = "tests/fixtures/coins2day/site"
local EXPECTED = SITE .. "/EXPECTED.jsonl"
local RECORDED = {"--mirror", "https://coins2day.com=" .. SITE, "--progress", "0"}

local function glean_test(adapter, expected, ...)
  local args = {"test", adapter, "--expect", expected}
  for _, a in ipairs(RECORDED) do args[#args + 1] = a end
  for _, a in ipairs({...}) do args[#args + 1] = a end
  return support.run(args)
end

local function lines_of(path)
  local list = {}
  for line in support.slurp(path):gmatch("[^\n]+") do list[#list + 1] = glean.json.decode(line) end
  return list
end

local function write_lines(records)
  local parts = {}
  for i, r in ipairs(records) do parts[i] = glean.json.encode(r) end
  return support.tempfile(table.concat(parts, "\n") .. "\n", ".jsonl")
end

describe("glean test", function()
  it("exits 0 when the records are those expected, in any order and key order", function()
    local records = lines_of(EXPECTED)
    local reversed = {}
    for i = #records, 1, -1 do reversed[#reversed + 1] = records[i] end
    local path = write_lines(reversed)
    local code, out, err = glean_test("sites/coins2day.lua", path)
    os.remove(path)
    assert.equal(0, code, out .. err)
    assert.equal(("ok: %d records as expected\n"):format(#records), out)
  end)

  it("names each record and field that differs, what is missing and what is extra; exits 1", function()
    local records = lines_of(EXPECTED)
    local changed, dropped = records[1], table.remove(records, 2)
    local real_title = changed.title
    changed.title = "Not the title"
    changed.tags = {"a", "b"}
    records[#records + 1] = {url = "https://coins2day.com/never/", title = "x"}
    local path = write_lines(records)
    local code, out = glean_test("sites/coins2day.lua", path)
    os.remove(path)
    assert.equal(1, code, out)
    assert.truthy(out:find(("record url = %s (%s:1) differs:\n"):format(changed.url, path), 1, true), out)
    assert.truthy(out:find('  title:\n    expected "Not the title"\n    got      ' .. glean.json.encode(real_title), 1, true), out)
    assert.truthy(out:find('  tags:\n    expected ["a","b"]\n    got      (none)', 1, true), out)
    assert.truthy(out:find("missing record url = https://coins2day.com/never/\n", 1, true), out)
    assert.truthy(out:find("extra record url = " .. dropped.url .. "\n", 1, true), out)
    assert.truthy(out:find(("FAILED: %d expected, %d got: 1 differ, 1 missing, 1 extra"):format(#records, #records), 1, true), out)
  end)

  it("--update writes what the adapter emits, sorted by key, and the next run agrees", function()
    local path = os.tmpname() .. ".jsonl"
    local code, out, err = glean_test("sites/coins2day.lua", path, "--update")
    assert.equal(0, code, err)
    local want = lines_of(EXPECTED)
    assert.truthy(out:find(("wrote %d records to %s"):format(#want, path), 1, true), out)
    local got = lines_of(path)
    assert.equal(#want, #got)
    for i = 2, #got do assert.truthy(got[i - 1].url < got[i].url, "not sorted by url") end
    local by_url = {}
    for _, r in ipairs(want) do by_url[r.url] = glean.json.encode(r) end
    for _, r in ipairs(got) do assert.equal(by_url[r.url], glean.json.encode(r)) end
    code, out = glean_test("sites/coins2day.lua", path)
    os.remove(path)
    assert.equal(0, code, out)
  end)

  it("compares by the adapter's key and reports a record emitted twice", function()
    local adapter = support.tempfile([[
      return {key = "id", fields = {"id", "n"}, pages = {{path = ".", parse = function(page)
        return {{id = "same", n = 1}, {id = "same", n = 2}, {id = page.url, n = 3}}
      end}}}
    ]], ".lua")
    local path = write_lines({{id = "same", n = 1}, {id = "https://coins2day.com/", n = 3}})
    local code, out = support.run({"test", adapter, "https://coins2day.com/", "--depth", "0", "--expect", path,
      "--mirror", "https://coins2day.com=" .. SITE, "--progress", "0", "--ignore-robots"})
    os.remove(adapter)
    os.remove(path)
    assert.equal(1, code, out)
    assert.truthy(out:find("emitted record id = same 2 times", 1, true), out)
    assert.is_nil(out:find("differs", 1, true), out)
  end)

  it("replays a site recorded once (a WARC and a cache glean wrote) into the live crawl's records, offline", function()
    local dir = support.tempdir()
    local server = support.serve_dir(SITE)
    local code, live, err = support.run({"run", "sites/coins2day.lua", "--mirror", "https://coins2day.com=" .. server.base,
      "--progress", "0", "--warc-out", dir .. "/site.warc.gz", "--cache", dir .. "/site.cache", "--cache-mode", "always"})
    local fetched = #server.requests()
    server.stop() -- from here on, nothing answers
    assert.equal(0, code, err)
    assert.truthy(fetched > 13, "the live crawl fetched " .. fetched .. " pages")
    local live_file = dir .. "/live.jsonl"
    local f = assert(io.open(live_file, "w"))
    f:write(live)
    f:close()
    -- The live crawl is the Coins2Day adapter's expected records ...
    code, out = glean_test("sites/coins2day.lua", live_file)
    assert.equal(0, code, out)
    -- ... and each recording gives them again with no server: the WARC
    -- (read by glean's reader) and the cache (glean test replays it offline).
    local out
    code, out, err = support.run({"test", "sites/coins2day.lua", "--warc-in", dir .. "/site-00000.warc.gz",
      "--expect", live_file, "--progress", "0"})
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("ok: 13 records as expected", 1, true), out)
    code, out, err = support.run({"test", "sites/coins2day.lua", "--cache", dir .. "/site.cache",
      "--expect", EXPECTED, "--progress", "0"})
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("ok: 13 records as expected", 1, true), out)
    -- A page the recording lacks fails offline, and says so, not a network error.
    code, out, err = support.run({"test", "sites/coins2day.lua", "https://coins2day.com/2017/01/13/not-recorded/", "--depth", "0",
      "--cache", dir .. "/site.cache", "--expect", EXPECTED, "--progress", "0"})
    assert.equal(1, code, out .. err)
    assert.truthy(err:find("offline", 1, true), err)
    os.execute("rm -rf " .. support.quote(dir))
  end)

  it("refuses what it cannot compare, naming the file and line; exits 2", function()
    local bad = support.tempfile('{"url": "a"}\n[1, 2]\n', ".jsonl")
    local code, _, err = glean_test("sites/coins2day.lua", bad)
    os.remove(bad)
    assert.equal(2, code)
    assert.truthy(err:find(bad .. ":2: not a JSON object", 1, true), err)

    code, _, err = glean_test("sites/coins2day.lua", "/nonexistent/expected.jsonl")
    assert.equal(2, code)
    assert.truthy(err:find("cannot read '/nonexistent/expected.jsonl'", 1, true), err)

    code, _, err = support.run({"test", "sites/coins2day.lua"})
    assert.equal(2, code)
    assert.truthy(err:find("test needs --expect FILE", 1, true), err)
    assert.truthy(err:find("see glean test --help", 1, true), err)
  end)
end)
