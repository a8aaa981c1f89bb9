-- The sandbox's promise (README "Adapters cannot hurt the host", issue 10),
-- one attack class per test: a real `glean run` of a small untrusted
-- adapter over a local server, whose page /p/3 attacks. Each test checks
-- that the attacked page fails with its URL and the rule, that the other
-- pages give their records, that stdout is JSON lines only and that nothing
-- outside the adapter's folder was read or written. tests/hostile/ is the
-- broad suite; this is the readable statement.
local support = require "support"

describe("an untrusted adapter", function()
  local site, server, outside, token

  setup(function()
    site = os.tmpname(); os.remove(site)
    outside = os.tmpname(); os.remove(outside)
    assert(os.execute("mkdir -p " .. support.quote(site .. "/p") .. " " .. support.quote(outside)))
    for n = 1, 4 do
      local f = assert(io.open(("%s/p/%d.html"):format(site, n), "w"))
      f:write(("<h1>Page %d</h1>"):format(n)); f:close()
    end
    local f = assert(io.open(site .. "/big.txt", "w")); f:write(("x"):rep(100000)); f:close()
    token = ("secret-%d-%d"):format(os.time(), math.random(1 << 30))
    f = assert(io.open(outside .. "/secret.txt", "w")); f:write(token, "\n"); f:close()
    f = assert(io.open(outside .. "/outside.lua", "w")); f:write(("return %q"):format(token)); f:close()
    server = support.serve_dir(site)
  end)

  teardown(function()
    server.stop()
    os.execute("rm -rf " .. support.quote(site) .. " " .. support.quote(outside))
  end)

  -- An adapter whose page 3 runs attack (Lua source, with BASE, SECRET and
  -- OUTSIDE defined) and whose other pages give {url = ...}; header runs first.
  local function adapter(attack, header)
    return ([[
local glean = require "glean"
local BASE, SECRET, OUTSIDE = %q, %q, %q
%s
local urls = {}
for n = 1, 4 do urls[n] = BASE .. "/p/" .. n .. ".html" end
return {start_urls = urls, settings = settings, pages = {
  {path = "^/p/3%%.html$", parse = function(page) %s; return {url = page.url, attacked = true} end},
  {path = "^/p/%%d%%.html$", parse = function(page) return {url = page.url} end},
}}
]]):format(server.base, outside .. "/secret.txt", outside, header or "", attack)
  end

  -- Runs it; checks what holds for every attack; returns stderr.
  local function contained(attack, opts)
    opts = opts or {}
    local code, out, err, dir = support.run_adapter(adapter(attack, opts.header), opts.args,
      {prepare = opts.prepare})
    os.execute("rm -rf " .. support.quote(dir))
    assert.is_not_nil(code, "glean hung: " .. err)
    local urls = {}
    for _, r in ipairs(support.records(out)) do urls[#urls + 1] = r.url end
    table.sort(urls)
    local want = {}
    for n = 1, 4 do
      if n ~= 3 or opts.all then want[#want + 1] = server.base .. "/p/" .. n .. ".html" end
    end
    assert.same(want, urls)
    assert.is_nil(err:find(token, 1, true), "the secret leaked")
    assert.is_nil(out:find(token, 1, true), "the secret leaked")
    if not opts.all then
      assert.equal(1, code)
      local url = server.base .. "/p/3.html"
      assert.truthy(err:find("handler failed for " .. url, 1, true), err)
      assert.truthy(err:find(opts.rule, 1, true), "no '" .. opts.rule .. "' in: " .. err)
    end
    return err
  end

  local function leak(expr) return ("local v = %s; error('read: ' .. tostring(v))"):format(expr) end

  it("writes no file: settings.stats_file is the caller's, a nested glean.crawl does not exist", function()
    local canary = outside .. "/canary"
    local err = contained("", {all = true, header = ("settings = {stats_file = %q}"):format(canary)})
    assert.truthy(err:find("settings.stats_file is the caller's option", 1, true), err)
    contained(("glean.crawl({pages = {{path = '.'}}}, {stats_file = %q, time_limit = 0})"):format(canary),
      {rule = "glean.crawl"})
    assert.is_nil(io.open(canary), "the canary was written")
  end)

  it("reads nothing outside its folder: absolute paths, '..', symlinks, io.lines, dofile, loadfile", function()
    local rule = "outside the adapter's folder"
    contained(leak("io.open(SECRET):read('a')"), {rule = rule})
    contained(leak("io.open('../' .. SECRET:match('[^/]+/[^/]+$')):read('a')"), {rule = rule})
    contained(leak("io.lines(SECRET)()"), {rule = rule})
    contained(leak("dofile(SECRET)"), {rule = rule})
    contained(leak("loadfile(OUTSIDE .. '/secret.txt')"), {rule = rule})
    -- An archive anywhere is the caller's input (glean run --warc-in), not the adapter's.
    contained("glean.warc({SECRET}):next()", {rule = "glean.warc (archives are the caller's input"})
    contained(leak("io.open('link/secret.txt'):read('a')"), {rule = rule,
      prepare = function(dir) assert(os.execute(("ln -s %s %s/link"):format(support.quote(outside), support.quote(dir)))) end})
  end)

  it("requires only modules in its folder (no ';' templates, no symlinks out)", function()
    contained(leak("require('x;' .. OUTSIDE .. '/outside')"), {rule = "module 'x;"})
  end)

  it("does not read the host's stdin: io.lines(), dofile(), /dev/stdin, /proc/self/fd/0", function()
    contained(leak("io.lines()()"), {rule = "the host's stdin"})
    contained(leak("dofile()"), {rule = "the host's stdin"})
    contained(leak("io.open('/dev/stdin'):read('a')"), {rule = "outside the adapter's folder"})
    contained(leak("io.open('/proc/self/fd/0'):read('a')"), {rule = "outside the adapter's folder"})
  end)

  it("cannot reach the crawl's engine, make engines, sessions or frontiers", function()
    contained("glean.current_engine():close()", {rule = "glean.current_engine"})
    contained("glean.use_engine(nil)", {rule = "glean.use_engine"})
    contained("for _ = 1, 3 do glean.engine({workers = 1000}) end", {rule = "glean.engine"})
    contained("glean.frontier({})", {rule = "glean.frontier"})
    contained("glean.session({}):fetch(BASE .. '/p/1.html')",
      {rule = "glean.session (it runs an engine of its own"})
  end)

  it("cannot replace the runtime's code, silence the log or print into stdout", function()
    contained("pcall(function() page.__index.close = function() while true do end end end)", {all = true})
    contained("glean.log.set_level('off')", {rule = "glean.log.set_level"})
    contained("print('not json'); error('printed')", {rule = "printed"})
  end)

  it("logs its errors escaped and cut: terminal escapes and huge messages", function()
    local err = contained("error('\\27]2;pwned\\7' .. ('x'):rep(10000000))", {rule = "\\027]2;pwned"})
    assert.is_nil(err:find("\27", 1, true), "a raw escape reached the log")
    assert.truthy(#err < 1e6, "the log took " .. #err .. " bytes")
  end)

  it("cannot wait for a fetch where it would break the crawl; the refused request is never sent", function()
    contained("pcall(string.gsub, 'a', 'a', function() glean.fetch(BASE .. '/gsub') end); error('gsub')",
      {rule = "gsub"})
    contained("coroutine.wrap(function() assert(glean.fetch(BASE .. '/wrap')) end)()",
      {rule = "inside a coroutine the handler made"})
    for _, path in ipairs(server.requests()) do
      assert.is_nil(path:find("^/gsub") or path:find("^/wrap"), "a refused request reached the server: " .. path)
    end
  end)

  it("cannot raise the crawl's limits in a request's options", function()
    contained(leak("(function() local r, e = glean.fetch(BASE .. '/big.txt', {max_body = 1e9})"
      .. " return r and ('got ' .. #r.body) or e end)()"),
      {header = "settings = {max_body = 1000}", rule = "body larger than 1000 bytes"})
  end)

  it("does not keep running past a nested crawl's limits", function()
    contained("glean.crawl({pages = {{path = '.', parse = function() while true do end end}}},"
      .. " {urls = {BASE .. '/p/1.html'}, time_limit = 0, memory_limit = 0})", {rule = "glean.crawl"})
  end)
end)
