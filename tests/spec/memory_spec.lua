-- What the memory limit counts: the C memory adapter code makes the runtime
-- allocate (parsed trees as Gumbo builds them, JSON decode trees, the text
-- of a record being emitted, compiled selectors, frontiers, robots rules,
-- the backtracking of regular expressions), not only Lua's own. Each case
-- runs in a handler of a real `glean run --memory-limit 32` crawl of a site
-- served on 127.0.0.1, under /usr/bin/time for the process's peak resident
-- memory: before, these peaked at 200 to 340 MB.
local support = require "support"

local MEMORY_LIMIT = 32
local PEAK_KB = 150 * 1024  -- generous for a 32 MB limit, far below what they took

local CASES = {
  html = [[glean.html(("<br>"):rep(1e6))]],
  json = [[glean.json.decode("[" .. ("0,"):rep(4e6) .. "0]")]],
  emit = [[
    local s = ("x"):rep(8e6)
    local record = {url = page.url}
    for i = 1, 20 do record["k" .. i] = s end
    do return record end]],
  frontier = [[
    local f = glean.frontier{}
    for i = 1, 3e6 do f:add("http://x.test/" .. i, 0) end]],
  robots = [[
    local body = "User-agent: *\n" .. ("Disallow: /private/*/x$\n"):rep(20000)
    local kept = {}
    for i = 1, 200 do kept[i] = glean.robots(200, body, "glean") end]],
  -- PCRE2's backtracking frames: a frame per repeat of the group, 340 MB
  regex = [[glean.re.match(("a"):rep(1e6), "^(a|b)*$")]],
}

describe("the memory limit", function()
  local dir, server

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. support.quote(dir .. "/site")))
    for _, name in ipairs({"one", "two", "case"}) do
      local f = assert(io.open(dir .. "/site/" .. name, "w"))
      f:write(("<title>%s</title><h1>%s</h1>"):format(name, name))
      f:close()
    end
    -- Bodies for the responses a handler holds: 8 MB each.
    local f = assert(io.open(dir .. "/site/big", "w"))
    f:write(("x"):rep(8e6))
    f:close()
    server = support.serve_dir(dir .. "/site")
  end)

  teardown(function()
    server.stop()
    os.execute("rm -rf " .. support.quote(dir))
  end)

  -- `glean run` of an adapter whose /case handler runs body: exit code,
  -- records by URL, stderr, peak RSS in KB.
  -- option: one more of glean run's arguments (--trust: a trusted adapter may make frontiers).
  local function crawl(body, options)
    local source = ([[
      local glean = require "glean"
      return {
        start_urls = {%q, %q, %q},
        pages = {
          {path = "^/case$", parse = function(page)
            %s
            return {url = page.url}
          end},
          {path = "/", parse = function(page) return {url = page.url, title = page:text("h1")} end},
        },
      }
    ]]):format(server.base .. "/case", server.base .. "/one", server.base .. "/two", body)
    local code, out, err, folder, kb = support.run_adapter(source,
      {"--memory-limit", tostring(MEMORY_LIMIT), "--ignore-robots", options}, {guard = 120, peak = true})
    os.execute("rm -rf " .. support.quote(folder))
    local records = {}
    for _, r in ipairs(support.records(out)) do records[r.url] = r end
    return code, records, err, kb
  end

  local function pattern(s) return (s:gsub("%p", "%%%0")) end

  for _, name in ipairs({"html", "json", "emit", "frontier", "robots", "regex"}) do
    it("counts what " .. name .. " allocates in C: the page fails, the others give records", function()
      local code, records, err, kb = crawl(CASES[name], name == "frontier" and "--trust" or nil)
      assert.equal(1, code, err)
      assert.matches("handler failed for " .. pattern(server.base .. "/case") ..
        ": memory limit exceeded: the runtime's Lua memory would pass 32 MB %(memory%-limit%)", err)
      assert.is_nil(records[server.base .. "/case"])
      assert.equal("one", (records[server.base .. "/one"] or {}).title, err)
      assert.equal("two", (records[server.base .. "/two"] or {}).title, err)
      assert.is_number(kb, err)
      assert.is_true(kb < PEAK_KB, ("peak RSS %d KB"):format(kb))
    end)
  end

  it("counts the responses a handler holds: 30 bodies of 8 MB, never read, stay under the limit", function()
    -- Before, the bodies lived in C buffers nobody counted: 240 MB.
    local code, records, err, kb = crawl([[
      local reqs = {}
      for i = 1, 30 do reqs[i] = page.url:gsub("/case$", "/big?" .. i) end
      local held, refused = glean.fetch_all(reqs), {}
      for _, r in ipairs(held) do
        if r.error then refused[#refused + 1] = r.error_kind .. " " .. r.error end
      end
      do return {url = page.url, refused = refused, held = #held - #refused} end]])
    assert.equal(0, code, err)
    local r = records[server.base .. "/case"]
    assert.is_table(r, err)
    assert.is_true(r.held >= 1 and #r.refused >= 1, err)
    assert.matches("^memory " .. pattern(server.base) .. "/big%?%d+: memory limit exceeded: its body would pass the %d+ " ..
      "bytes left for it %(memory%-limit%)$", r.refused[1])
    assert.equal("one", (records[server.base .. "/one"] or {}).title, err)
    assert.is_true(kb < PEAK_KB, ("peak RSS %d KB"):format(kb))
  end)

  it("gives the memory back when a held response is closed", function()
    local code, records, err = crawl([[
      local url = page.url:gsub("/case$", "/big")
      for i = 1, 20 do
        local r = assert(glean.fetch(url))
        assert(r.size == 8e6)
        r:close()
      end]])
    assert.equal(0, code, err)
    assert.is_table(records[server.base .. "/case"], err)
  end)

  it("fails glean.fetch of a body that would pass the limit, naming the URL", function()
    local code, records, err = crawl([[
      local kept, message, kind = {}
      for i = 1, 10 do
        local r, m, k = glean.fetch((page.url:gsub("/case$", "/big?" .. i)))
        if not r then message, kind = m, k break end
        kept[i] = r
      end
      do return {url = page.url, message = message, kind = kind, kept = #kept} end]])
    assert.equal(0, code, err)
    local r = records[server.base .. "/case"]
    assert.is_table(r, err)
    assert.equal("memory", r.kind, err)
    assert.is_true(r.kept <= 4, err)  -- 4 x 8 MB fit in 32 MiB
    assert.matches("^" .. pattern(server.base) .. "/big%?%d+: memory limit exceeded", r.message)
  end)

  it("keeps the selector cache bounded: 25 selectors of 64 KB leave no pile behind", function()
    local code, records, err, kb = crawl([[
      local doc = page:doc()
      for i = 1, 25 do doc:select(("p,"):rep(32000) .. "p" .. i) end]])
    assert.equal(0, code, err)
    for _, path in ipairs({"/case", "/one", "/two"}) do assert.is_table(records[server.base .. path], err) end
    assert.is_true(kb < PEAK_KB, ("peak RSS %d KB"):format(kb))
  end)

  it("lets a handler parse document after document it drops, within the limit", function()
    -- Lua's collector does not see the trees' memory; the parse collects
    -- garbage before it gives up.
    -- 2 to 3 s of CPU: the seconds limit lifted, as a loaded machine
    -- (ctest -j2, ASan) can stretch that past its 10.
    local code, records, err = crawl([[
      local text = ("<div><p>paragraph</p></div>"):rep(20000)
      for i = 1, 40 do assert(#glean.html(text):select("p") == 20000) end]], "--time-limit-seconds=0")
    assert.equal(0, code, err)
    assert.is_table(records[server.base .. "/case"], err)
  end)
end)
