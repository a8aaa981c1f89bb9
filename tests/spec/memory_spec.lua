-- What the memory limit counts: the C memory adapter code makes the runtime
-- allocate (parsed trees as Gumbo builds them, JSON decode trees, the text
-- of a record being emitted, compiled selectors, frontiers, robots rules),
-- not only Lua's own. Each case runs in a handler of a real `glean run
-- --memory-limit 32` crawl of a site served on 127.0.0.1, under
-- /usr/bin/time for the process's peak resident memory: before, these
-- peaked at 200 to 340 MB.
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

  for _, name in ipairs({"html", "json", "emit", "frontier", "robots"}) do
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
    local code, records, err = crawl([[
      local text = ("<div><p>paragraph</p></div>"):rep(20000)
      for i = 1, 40 do assert(#glean.html(text):select("p") == 20000) end]])
    assert.equal(0, code, err)
    assert.is_table(records[server.base .. "/case"], err)
  end)
end)
