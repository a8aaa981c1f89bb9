-- WARC output: `glean run ... --warc-out PATH` against tests/server/testserver.py
-- on 127.0.0.1, each file then read record by record by an independent
-- reader (tests/tools/warc_check.py, Python's standard library: gzip
-- members, WARC headers, SHA-1/base32 digests recomputed, Concurrent-To
-- links, the HTTP messages parsed and their chunking and gzip undone).
local glean = require "glean"
local support = require "support"

local TEXT = string.rep("The quick brown fox jumps over the lazy dog. ", 20)

describe("--warc-out", function()
  local server, dir

  setup(function()
    server = support.server()
    dir = support.tempdir()
  end)

  teardown(function()
    server:stop()
    os.execute("rm -rf " .. support.quote(dir))
  end)

  local function adapter(urls)
    local list = {}
    for i, u in ipairs(urls) do list[i] = ("%q"):format(u) end
    return ([[return {name = "w", start_urls = {%s},
      pages = {{path = "^/", follow = "a", parse = function(page) return {url = page.url} end}}}]]):format(
      table.concat(list, ", "))
  end

  -- The WARC files whose names start with prefix, sorted.
  local function files(prefix)
    local out = {}
    for name in support.capture("ls " .. support.quote(dir) .. " 2>/dev/null"):gmatch("[^\n]+") do
      if name:sub(1, #prefix) == prefix then out[#out + 1] = dir .. "/" .. name end
    end
    table.sort(out)
    return out
  end

  -- What the independent reader makes of the files.
  local function check(list)
    local args = {}
    for i, f in ipairs(list) do args[i] = support.quote(f) end
    local out = support.capture("python3 tests/tools/warc_check.py " .. table.concat(args, " "))
    return glean.json.decode(out)
  end

  local function responses(doc)
    local out = {}
    for _, r in ipairs(doc.records) do
      if r.type == "response" then out[r.uri] = r end
    end
    return out
  end

  for _, ext in ipairs({".warc.gz", ".warc"}) do
    it("writes a warcinfo, then a request and a response for each exchange, as sent and received (" .. ext .. ")", function()
      local base = server.base
      local urls = {base .. "/hello", base .. "/gzip", base .. "/big-chunked?n=5000", base .. "/redirect/2",
        base .. "/status/404"}
      local name = ext == ".warc" and "plain" or "gzipped"
      local code, out, err = support.run_adapter(adapter(urls),
        {"--depth", "0", "--ignore-robots", "--warc-out", dir .. "/" .. name .. ext})
      assert.equal(0, code, err)
      assert.equal(4, #support.records(out))
      local list = files(name)
      assert.same({dir .. "/" .. name .. "-00000" .. ext}, list)
      local doc = check(list)
      assert.same({}, doc.errors)
      assert.equal("warcinfo", doc.records[1].type)
      assert.truthy(doc.records[1].info:find("software: glean/", 1, true))
      -- Each request is followed by its response, which names it.
      for i = 2, #doc.records, 2 do
        local req, res = doc.records[i], doc.records[i + 1]
        assert.equal("request", req.type)
        assert.equal("response", res.type)
        assert.equal(res.id, req.concurrent)
        assert.equal("127.0.0.1", res.ip)
      end
      local got = responses(doc)
      assert.equal(200, got[base .. "/hello"].status)
      assert.equal("HTTP/1.1 200 OK", got[base .. "/hello"].start)
      assert.equal("<!doctype html><title>hello</title><p>hello, glean</p>\n", got[base .. "/hello"].body)
      -- The body as transferred: still gzip (the reader undid it), still chunked.
      assert.equal("gzip", got[base .. "/gzip"].headers["content-encoding"])
      assert.equal(TEXT, got[base .. "/gzip"].body)
      assert.is_true(got[base .. "/gzip"].payload_len < #TEXT)
      local chunked = got[base .. "/big-chunked?n=5000"]
      assert.equal("chunked", chunked.headers["transfer-encoding"])
      assert.equal(5000, chunked.body_len)
      assert.is_true(chunked.payload_len > 5000)
      -- A redirect chain libcurl follows: an exchange per hop.
      assert.equal(302, got[base .. "/redirect/2"].status)
      assert.equal(302, got[base .. "/redirect/1"].status)
      assert.equal("final", got[base .. "/final"].body)
      assert.equal(404, got[base .. "/status/404"].status)
      local req
      for _, r in ipairs(doc.records) do
        if r.type == "request" and r.uri == base .. "/hello" then req = r end
      end
      assert.equal("GET /hello HTTP/1.1", req.start)
      assert.equal("127.0.0.1:" .. server.port, req.headers.host)
    end)
  end

  it("records a response cut short with what came, marked WARC-Truncated", function()
    local code, _, err = support.run_adapter(adapter({server.base .. "/h/short", server.base .. "/bomb"}),
      {"--ignore-robots", "--warc-out", dir .. "/short.warc.gz"})
    assert.equal(1, code, err)
    local doc = check(files("short"))
    assert.same({}, doc.errors)
    local got = responses(doc)
    local short = got[server.base .. "/h/short"]
    assert.equal("disconnect", short.truncated)
    assert.equal("1000", short.headers["content-length"])
    assert.equal(10, short.payload_len)
    -- Its gzip decodes past max_body (32 MiB): the transfer stops there.
    local bomb = got[server.base .. "/bomb"]
    assert.equal("length", bomb.truncated)
    assert.is_true(bomb.payload_len > 0)
    assert.is_true(bomb.body_len >= 32 * 1024 * 1024)
  end)

  it("is the caller's: an untrusted adapter's settings.warc_out is ignored", function()
    local src = adapter({server.base .. "/hello"}):gsub("^return {", ("return {settings = {warc_out = %q},"):format(
      dir .. "/sneaky.warc.gz"))
    local code, _, err = support.run_adapter(src, {"--ignore-robots"})
    assert.equal(0, code, err)
    assert.truthy(err:find("settings.warc_out is the caller's option", 1, true), err)
    assert.same({}, files("sneaky"))
  end)

  it("names the site's URLs when a base-URL mirror serves them", function()
    assert.equal("configured", server:post("/config/wm", '{"pages": 5, "sleep_ms": 0}'))
    local code, _, err = support.run_adapter(adapter({"http://site.test/site/0/"}),
      {"--mirror", "http://site.test=" .. server.base .. "/v/wm", "--ignore-robots", "--warc-out",
       dir .. "/mirror.warc.gz"})
    assert.equal(0, code, err)
    local doc = check(files("mirror"))
    assert.same({}, doc.errors)
    local got = responses(doc)
    for n = 0, 4 do
      assert.equal(200, got[("http://site.test/site/%d/"):format(n)].status)
    end
  end)

  it("starts a new file for each run, never writing into another's", function()
    local src = adapter({server.base .. "/hello"})
    for _ = 1, 2 do
      local code, _, err = support.run_adapter(src, {"--ignore-robots", "--warc-out", dir .. "/again.warc.gz"})
      assert.equal(0, code, err)
    end
    local list = files("again")
    assert.same({dir .. "/again-00000.warc.gz", dir .. "/again-00001.warc.gz"}, list)
    local doc = check(list)
    assert.same({}, doc.errors)
    assert.same({3, 3}, {doc.files[1].records, doc.files[2].records})
  end)

  it("rotates files by size (--warc-max-size), each whole, none past the size", function()
    assert.equal("configured", server:post("/config/rot", '{"pages": 40, "sleep_ms": 0}'))
    local code, out, err = support.run_adapter(adapter({"http://rot.test/site/0/"}),
      {"--mirror", "http://rot.test=" .. server.base .. "/v/rot", "--ignore-robots", "--warc-max-size", "8K",
       "--warc-out", dir .. "/rot.warc.gz"})
    assert.equal(0, code, err)
    assert.equal(40, #support.records(out))
    local list = files("rot")
    assert.is_true(#list >= 3, #list .. " files")
    local doc = check(list)
    assert.same({}, doc.errors)
    local pages = 0
    for _, f in ipairs(doc.files) do
      assert.is_true(f.size <= 8192, f.name .. ": " .. f.size .. " bytes")
      assert.equal(1, f.records % 2)  -- a warcinfo and whole exchanges
    end
    for uri in pairs(responses(doc)) do
      if uri:find("^http://rot%.test/site/%d+/$") then pages = pages + 1 end
    end
    assert.equal(40, pages)
  end)

  it("leaves only whole records when the crawl is killed (SIGKILL)", function()
    assert.equal("configured", server:post("/config/kill", '{"pages": 3000, "sleep_ms": 2}'))
    local path = dir .. "/kill.warc.gz"
    local src = support.tempfile(adapter({"http://kill.test/site/0/"}), ".lua")
    local proc = support.spawn({"run", src, "--mirror", "http://kill.test=" .. server.base .. "/v/kill",
      "--ignore-robots", "--progress", "0", "--warc-out", path})
    local file = dir .. "/kill-00000.warc.gz"
    assert.is_true(support.wait_for(function()
      local f = io.open(file, "rb")
      local size = f and f:seek("end") or 0
      if f then f:close() end
      return size > 100000
    end))
    proc:signal("KILL")
    proc:wait()
    os.remove(src)
    local doc = check({file})
    assert.same({}, doc.errors)
    assert.is_true(doc.files[1].records > 100)
  end)

  it("refuses a name that is not .warc.gz or .warc, and a size that is not one", function()
    local code, _, err = support.run_adapter(adapter({server.base .. "/hello"}), {"--warc-out", dir .. "/out.txt"})
    assert.equal(2, code)
    assert.truthy(err:find(dir .. "/out.txt: a WARC file's name must end in .warc.gz", 1, true), err)
    code, _, err = support.run_adapter(adapter({server.base .. "/hello"}),
      {"--warc-out", dir .. "/x.warc", "--warc-max-size", "lots"})
    assert.equal(2, code)
    assert.truthy(err:find("--warc-max-size needs a size", 1, true), err)
  end)

  it("is an engine option for scripts: glean.engine{warc_out = PATH}", function()
    local path = dir .. "/script.warc"
    local eng = glean.engine({warc_out = path})
    assert.truthy(eng:submit({url = server.base .. "/final"}))
    while eng:run(100) > 0 do end
    eng:close()
    local doc = check(files("script"))
    assert.same({}, doc.errors)
    assert.equal("final", responses(doc)[server.base .. "/final"].body)
  end)
end)
