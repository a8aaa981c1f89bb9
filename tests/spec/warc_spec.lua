-- WARC input (glean run --warc-in): a WARC that GNU wget wrote against the
-- test server (a chunked and a gzip-encoded page among its responses) gives
-- the records a live crawl of the same pages gives; revisits resolve to
-- the record they point to; a 100 MB archive is read in constant memory; every kind of damage real archives have, made
-- here, is one warning naming the file and byte offset while the records
-- around it still come; a run SIGKILLed at random moments and resumed with
-- --state writes each record once.
local support = require "support"
local quote = support.quote

-- One WARC record: the version line, the headers given (Content-Length
-- added unless given), the block, and the CRLF CRLF after it.
local function record(headers, block)
  local out = {"WARC/1.1\r\n"}
  local has_length = false
  for _, h in ipairs(headers) do
    out[#out + 1] = h .. "\r\n"
    has_length = has_length or h:lower():find("^content%-length:") ~= nil
  end
  if not has_length then out[#out + 1] = ("Content-Length: %d\r\n"):format(#block) end
  out[#out + 1] = "\r\n" .. block .. "\r\n\r\n"
  return table.concat(out)
end

local function html(title) return ("<!doctype html><title>%s</title><h1>%s</h1>"):format(title, title) end

local function http(body, extra)
  return ("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n%sContent-Length: %d\r\n\r\n%s"):format(
    extra or "", #body, body)
end

-- A response record for https://example.com/PATH with an h1 of TITLE.
local function response(path, title, extra)
  return record({"WARC-Type: response", "WARC-Target-URI: https://example.com/" .. path,
                 "WARC-Date: 2026-01-01T00:00:00Z", "WARC-Record-ID: <urn:uuid:" .. title .. ">",
                 "Content-Type: application/http; msgtype=response"}, http(html(title), extra))
end

local ADAPTER = [[
return {
  name = "warc",
  pages = {{match = function(url) return url:find("^https?://") ~= nil end,
            parse = function(page) return {url = page.url, h1 = page:text("h1"), p = page:text("p"), status = page.status} end}},
}
]]

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

-- Each of the parts its own gzip member, concatenated.
local function gzip_members(parts)
  local out = {}
  for _, part in ipairs(parts) do
    local tmp = support.tempfile(part)
    out[#out + 1] = support.capture("gzip -c " .. quote(tmp))
    os.remove(tmp)
  end
  return out
end

local function run(files, args)
  local argv = {"--warc-in"}
  for _, f in ipairs(files) do argv[#argv + 1] = f end
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  local code, out, err, dir = support.run_adapter(ADAPTER, argv)
  os.execute("rm -rf " .. quote(dir))
  return code, support.records(out or ""), err
end

local function h1s(records)
  local out = {}
  for _, r in ipairs(records) do out[#out + 1] = r.h1 end
  return out
end

describe("glean run --warc-in", function()
  local dir
  setup(function()
    dir = support.tempdir()
  end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  describe("over a WARC written by GNU wget", function()
    local server
    setup(function() server = support.server() end)
    teardown(function() server:stop() end)

    it("gives the records a live crawl of the same pages gives", function()
      local paths = {"/hello", "/warc/chunked", "/warc/gzip", "/charset/latin1"}
      local urls = {}
      for i, p in ipairs(paths) do urls[i] = server:url(p) end
      local warc = dir .. "/wget"
      -- Not under the sanitizers' LD_PRELOAD (scripts/test --sanitize):
      -- wget deadlocks in ASan's allocator at start.
      local cmd = "env -u LD_PRELOAD wget -q --warc-file=" .. quote(warc) .. " -O /dev/null"
      for _, u in ipairs(urls) do cmd = cmd .. " " .. quote(u) end
      assert(os.execute(cmd), "wget failed")
      -- What wget stored is the message as sent: chunked, and gzip.
      local raw = support.capture("zcat " .. quote(warc .. ".warc.gz"))
      assert.truthy(raw:find("Transfer-Encoding: chunked", 1, true))
      assert.truthy(raw:find("Content-Encoding: gzip", 1, true))

      local code, got, err = run({warc .. ".warc.gz"})
      assert.equal(0, code, err)
      local byurl = {}
      for _, r in ipairs(got) do byurl[r.url] = r end
      assert.equal("chunked page", byurl[urls[2]].h1)
      assert.equal("café", byurl[urls[2]].p)
      assert.equal("gzip page", byurl[urls[3]].h1)
      assert.equal("café", byurl[urls[4]].p)  -- ISO-8859-1, by the archived Content-Type
      assert.equal(#paths, #got)
      -- wget's own metadata and resource records are no page of a rule.
      local live_code, live_out, live_err, live_dir = support.run_adapter(ADAPTER,
        {urls[1], urls[2], urls[3], urls[4], "--depth", "0"})
      os.execute("rm -rf " .. quote(live_dir))
      assert.equal(0, live_code, live_err)
      local live = support.records(live_out)
      table.sort(live, function(a, b) return a.url < b.url end)
      table.sort(got, function(a, b) return a.url < b.url end)
      assert.same(live, got)
    end)
  end)

  it("reads plain and gzip files, globs, and resolves revisits", function()
    local a = response("a", "first") .. response("b", "second")
    local g = dir .. "/glob"
    assert(os.execute("mkdir -p " .. quote(g)))
    write(g .. "/one.warc", a)
    local revisit = record({"WARC-Type: revisit", "WARC-Target-URI: https://example.com/a-again",
                            "WARC-Refers-To: <urn:uuid:first>",
                            "WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
                            "Content-Type: application/http; msgtype=response"},
                           "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n")
    local by_uri = record({"WARC-Type: revisit", "WARC-Target-URI: https://example.com/b-again",
                           "WARC-Refers-To-Target-URI: <https://example.com/b>",
                           "WARC-Refers-To-Date: 2026-01-01T00:00:00Z"}, "")
    local lost = record({"WARC-Type: revisit", "WARC-Target-URI: https://example.com/lost",
                         "WARC-Refers-To: <urn:uuid:nowhere>"}, "")
    write(g .. "/two.warc.gz", table.concat(gzip_members({revisit, by_uri, lost, response("c", "third")})))
    local code, got, err = run({g .. "/*.warc*"})
    assert.equal(0, code, err)
    assert.same({"first", "second", "first", "second", "third"}, h1s(got))  -- one.warc, then two.warc.gz
    assert.equal("https://example.com/a-again", got[3].url)
    assert.equal("https://example.com/b-again", got[4].url)
    assert.truthy(err:find("two.warc.gz: record at byte %d+: revisit of https://example.com/lost: the record it points to is not in the input"), err)
  end)

  describe("over damaged archives", function()
    -- Records before and after the damage come; the warning names the file
    -- and the byte where the damaged record begins.
    local function check(name, data, message, want)
      local path = dir .. "/" .. name
      write(path, data)
      local code, got, err = run({path})
      assert.equal(0, code, err)
      assert.same(want or {"before", "after"}, h1s(got))
      local at = path .. ": " .. (message.at and ("record at byte " .. message.at .. ": ") or "")
      local found = false
      for line in err:gmatch("[^\n]+") do
        found = found or (line:find(at, 1, true) and line:find(message[1], 1, true)) ~= nil
      end
      assert.is_true(found, err)
    end

    local before, after = response("x", "before"), response("y", "after")

    it("WARC-Target-URI in angle brackets or with spaces", function()
      local spaced = record({"WARC-Type: response", "WARC-Target-URI:   <https://example.com/a b>  ",
                             "Content-Type: application/http; msgtype=response"}, http(html("spaced")))
      check("spaces.warc", before .. spaced .. after,
            {"spaces in its WARC-Target-URI: read as https://example.com/a%20b", at = #before},
            {"before", "spaced", "after"})
    end)

    it("a truncated file", function()
      local cut = response("z", "cut")
      check("cut.warc", before .. after .. cut:sub(1, #cut - 40),
            {"cut short: the file ends after", at = #before + #after})
    end)

    it("a truncated .warc.gz", function()
      local parts = gzip_members({before, after, response("z", "cut")})
      parts[3] = parts[3]:sub(1, #parts[3] // 2)
      check("cut.warc.gz", table.concat(parts), {"cut short", at = #parts[1] + #parts[2]})
    end)

    it("a damaged gzip member", function()
      local parts = gzip_members({before, response("z", "damaged"), after})
      local m = parts[2]
      parts[2] = m:sub(1, 20) .. ("\255"):rep(#m - 28) .. m:sub(-8)
      check("damaged.warc.gz", table.concat(parts), {"damaged gzip member at byte " .. #parts[1]})
    end)

    it("a Content-Length that says too little", function()
      local short = response("z", "short"):gsub("Content%-Length: (%d+)\r\n\r\nHTTP",
        function(n) return ("Content-Length: %d\r\n\r\nHTTP"):format(n - 30) end, 1)
      check("short.warc", before .. short .. after, {"its Content-Length", at = #before})
    end)

    it("a Content-Length that says too much", function()
      local long = response("z", "long"):gsub("Content%-Length: (%d+)\r\n\r\nHTTP",
        function(n) return ("Content-Length: %d\r\n\r\nHTTP"):format(n + 100) end, 1)
      check("long.warc", before .. long .. after, {"its Content-Length", at = #before})
    end)

    it("a Content-Length that lies in a .warc.gz", function()
      local long = response("z", "long"):gsub("Content%-Length: (%d+)\r\n\r\nHTTP",
        function(n) return ("Content-Length: %d\r\n\r\nHTTP"):format(n + 100) end, 1)
      local parts = gzip_members({before, long, after})
      check("long.warc.gz", table.concat(parts), {"its Content-Length", at = #parts[1]})
    end)

    it("an HTTP response without a status line", function()
      local bare = record({"WARC-Type: response", "WARC-Target-URI: https://example.com/bare",
                           "Content-Type: application/http; msgtype=response"},
                          "Content-Type: text/html\r\n\r\n" .. html("bare"))
      check("bare.warc", before .. bare .. after, {"no HTTP status line", at = #before})
    end)

    it("a record not of HTTP", function()
      local dns = record({"WARC-Type: response", "WARC-Target-URI: dns:example.com", "Content-Type: text/dns"},
                         "20260101000000\nexample.com. 300 IN A 93.184.216.34\n")
      check("dns.warc", before .. dns .. after, {"not an HTTP response", at = #before})
    end)

    it("garbage between records", function()
      check("garbage.warc", before .. "this is not a record\r\n\r\n" .. after,
            {"not a WARC record (it begins 'this is not a record')", at = #before})
    end)

    it("an ARC file", function()
      local arc = "filedesc://x.arc 0.0.0.0 20260101000000 text/plain 76\n1 0 Archive\n" ..
                  "URL IP-address Archive-date Content-type Archive-length\n\n"
      check("old.arc", arc .. before, {"an ARC file, not WARC", at = 0}, {})
    end)

    it("the run goes on to the next file after a damaged one", function()
      write(dir .. "/bad.warc", "WARC/1.1\r\nContent-Length: 99999\r\n\r\nshort")
      write(dir .. "/good.warc", after)
      local code, got, err = run({dir .. "/bad.warc", dir .. "/good.warc"})
      assert.equal(0, code, err)
      assert.same({"after"}, h1s(got))
      assert.truthy(err:find("bad.warc: record at byte 0: cut short", 1, true), err)
    end)
  end)

  it("reads a 100 MB archive once, in constant memory", function()
    local warc = dir .. "/big.warc.gz"
    assert(os.execute(("python3 -c %s %s"):format(quote([[
import gzip, sys
body = b"<p>" + b"x" * 100000 + b"</p>"
http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
with open(sys.argv[1], "wb") as f:
    for i in range(1000):
        rec = (b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: https://example.com/%d\r\n"
               b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n" % (i, len(http)))
        f.write(gzip.compress(rec + http + b"\r\n\r\n", 1))
]]), quote(warc))))
    local count = [[
return {name = "count", pages = {{match = function() return true end,
  parse = function(page) return page.url:match("/999$") and {size = page.response.size} or nil end}}}
]]
    local code, out, err, adir, kb = support.run_adapter(count, {"--warc-in", warc}, {peak = true, guard = 120})
    os.execute("rm -rf " .. quote(adir))
    assert.equal(0, code, err)
    assert.same({{size = 100007}}, support.records(out))
    -- The runtime alone is about 10 MB; the archive inflates to 100 MB.
    assert.is_true(kb < 40 * 1024, ("peak RSS %d KB"):format(kb))
  end)

  it("with --state, a finished run reads nothing again, and files added after it are read alone", function()
    local s = dir .. "/again"
    assert(os.execute("mkdir -p " .. quote(s)))
    write(s .. "/1.warc", response("a", "one"))
    local state, out = s .. "/state.db", s .. "/out.jsonl"
    local function records() return h1s(support.records(support.slurp(out))) end
    local code, _, err = run({s .. "/1.warc"}, {"--state", state, "--out", out})
    assert.equal(0, code, err)
    assert.same({"one"}, records())
    code, _, err = run({s .. "/1.warc"}, {"--state", state, "--out", out})
    assert.equal(0, code, err)
    assert.same({"one"}, records())
    write(s .. "/2.warc", response("b", "two"))
    code, _, err = run({s .. "/*.warc"}, {"--state", state, "--out", out})
    assert.equal(0, code, err)
    assert.same({"one", "two"}, records())
    code, _, err = run({s .. "/2.warc"}, {"--state", state, "--out", out})
    assert.equal(2, code)
    assert.truthy(err:find("WARC file 1 of the crawl was " .. s .. "/1.warc, now " .. s .. "/2.warc", 1, true), err)
  end)

  it("SIGKILLed at random moments and resumed with --state, writes each record once", function()
    local parts = {}
    for i = 1, 400 do parts[i] = response("p" .. i, "page " .. i) end
    local warc = dir .. "/many.warc.gz"
    write(warc, table.concat(gzip_members({table.concat(parts, "", 1, 200)})) ..
                table.concat(gzip_members({table.concat(parts, "", 201, 400)})))
    -- Slow pages (a few ms each), so that kills land mid-run.
    local slow = [[
return {
  name = "slow",
  pages = {{match = function() return true end, parse = function(page)
    local t = os.clock() + 0.005
    while os.clock() < t do end
    return {url = page.url, h1 = page:text("h1")}
  end}},
}
]]
    local adir = dir .. "/slow"
    assert(os.execute("mkdir -p " .. quote(adir)))
    write(adir .. "/adapter.lua", slow)
    local out, state = dir .. "/out.jsonl", dir .. "/state.db"
    local args = {"run", adir .. "/adapter.lua", "--warc-in", warc, "--state", state, "--out", out,
                  "--state-commit", "0", "--progress", "0"}
    local kills, seed = 0, 7
    for _ = 1, 40 do
      local proc = support.spawn(args)
      if kills < 5 then
        seed = (seed * 1103515245 + 12345) % 2147483648
        support.sleep(("%.2f"):format(0.2 + 0.3 * seed / 2147483648))
      end
      if kills < 5 and not proc:done() then
        proc:signal("KILL")
        assert.is_not_nil(proc:wait(30), "a killed run did not end")
        kills = kills + 1
      else
        local code, _, err = proc:wait(60)
        assert.equal(0, code, err)
        break
      end
    end
    assert.is_true(kills >= 3, kills)
    local got = support.records(support.slurp(out))
    assert.equal(400, #got)
    local seen = {}
    for _, r in ipairs(got) do
      assert.is_nil(seen[r.url], r.url .. " twice")
      seen[r.url] = true
    end
  end)
end)
