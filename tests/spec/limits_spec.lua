-- The time budget of adapter code against the ways around it (glean.limits,
-- llimits.c and lcharged.c), and the second Ctrl-C or SIGTERM against a
-- handler stuck in one long C call, through `glean run` crawls (real
-- processes, real signals) of a site served from a directory through
-- --mirror. Every crawl runs under a hang guard: a glean that has to be
-- killed fails the test.
local support = require "support"

local ORIGIN = "https://limits.test"
local GUARD = 60 -- seconds before a crawl counts as hung

describe("the time budget", function()
  local dir, site

  local function write(path, text)
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    return path
  end

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    site = dir .. "/site"
    assert(os.execute("mkdir -p " .. support.quote(site)))
  end)

  teardown(function()
    os.execute("rm -rf " .. support.quote(dir))
  end)

  -- The source of an adapter with a page per case, each handled by its
  -- body, and a page /ok that gives a record; header may set its `settings`.
  local function adapter(cases, header)
    local urls, rules = {}, {}
    for case, body in pairs(cases) do
      write(site .. "/" .. case, "<h1>" .. case .. "</h1>")
      urls[#urls + 1] = ("%q"):format(ORIGIN .. "/" .. case)
      rules[#rules + 1] = ("{path = %q, parse = function(page) %s end}"):format("^/" .. case .. "$", body)
    end
    write(site .. "/ok", "<h1>ok</h1>")
    urls[#urls + 1] = ("%q"):format(ORIGIN .. "/ok")
    rules[#rules + 1] = [[{path = "^/ok$", parse = function(page) return {url = page.url} end}]]
    return ("local glean = require 'glean'\n%s\n"
      .. "return {settings = settings, start_urls = {%s}, pages = {%s}}")
      :format(header or "", table.concat(urls, ", "), table.concat(rules, ",\n"))
  end

  -- `glean run` under the hang guard: exit code (nil: it hung), records
  -- by URL, stderr.
  local function crawl(source, args)
    local argv = {"--mirror", ORIGIN .. "=" .. site, "--ignore-robots"}
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    local code, out, err, folder = support.run_adapter(source, argv, {guard = GUARD})
    os.execute("rm -rf " .. support.quote(folder))
    local by_url = {}
    for _, r in ipairs(support.records(out)) do by_url[r.url] = r end
    return code, by_url, err
  end

  local function failure(err, case)
    return err:match("handler failed for " .. (ORIGIN .. "/" .. case):gsub("%p", "%%%0") .. ": ([^\n]*)")
  end

  local INSTRUCTIONS = "time limit exceeded: more than 10000000 Lua instructions in one call (time-limit)"

  -- Each escapes a budget of 1e7 instructions today: it hangs, or runs for
  -- minutes.
  local CHARGED = {
    -- the message handler of an error raised in the count hook runs with
    -- the hook off
    xpcall = "xpcall(function() while true do end end, function() while true do end end)",
    -- one C call each, which runs no Lua instruction
    rep = "return string.rep('x', 1 << 40)",
    concat = "table.concat(setmetatable({}, {__index = table.concat}), '', 1, 1 << 62)",
    move = "table.move(setmetatable({}, {__index = table.concat}), 1, 1 << 62, 2, setmetatable({}, {__newindex = rawequal}))",
    insert = "table.insert(setmetatable({}, {__len = function() return 1 << 62 end}), 1, 'x')",
    sort = "table.sort(setmetatable({}, {__len = function() return (1 << 31) - 2 end, __index = rawlen}))",
    -- work that grows with the data, a few instructions each
    concat_op = "local s = ('x'):rep(1 << 22); while true do local t = s .. s end",
    text = [[
      local doc = glean.html(("<p><b></b><i>x</i></p>"):rep(40000))
      while true do local t = doc:text() end
    ]],
    memory = [[
      local keep = {}
      for i = 1, 4e5 do keep[i] = {} end
      while true do pcall(function() local t = {} while true do t[#t + 1] = {} end end) end
    ]],
    json = "local t = {} for _ = 1, 30 do t = {t, t} end glean.json.encode(t)",
    unescape = "local s = ('&amp;'):rep(1 << 20) while true do local t = glean.text.unescape(s) end",
    squash = "local s = (' x '):rep(1 << 20) while true do local t = glean.text.squash(s) end",
    collect = "local keep = {} for i = 1, 2e5 do keep[i] = {} end while true do collectgarbage() end",
    -- a regular expression that backtracks 2^40 times: PCRE2's match limit
    -- comes from the budget
    regex = [[glean.re.match(("a"):rep(40) .. "b", "(a+)+$")]],
    regex_gsub = [[glean.re.gsub(("a"):rep(40) .. "b", "x|(a+)+$", function() end)]],
    -- the same compiled to machine code (its second use)
    regex_jit = [[local r = glean.re.compile("(a+)+$") r:find("b") r:find(("a"):rep(40) .. "b")]],
  }

  it("charges the C work an adapter can make loop, and names the limit and the URL", function()
    local code, records, err = crawl(adapter(CHARGED), {"--time-limit", "1e7", "--memory-limit", "256"})
    assert.is_not_nil(code, "glean hung: " .. err)
    assert.equal(1, code, err)
    assert.is_table(records[ORIGIN .. "/ok"], err)
    for case in pairs(CHARGED) do
      assert.equal(INSTRUCTIONS, failure(err, case), case .. ":\n" .. err)
    end
  end)

  it("lets an empty string.rep be, and refuses raising the parser's bounds", function()
    local code, records, err = crawl(adapter({
      empty = "return {url = page.url, n = #string.rep('', math.maxinteger)}",
      deep = "glean.html(('<div>'):rep(1e5), {max_depth = 1 << 30})",
    }), {"--time-limit", "1e7"})
    assert.is_not_nil(code, "glean hung: " .. err)
    assert.equal(0, records[ORIGIN .. "/empty"].n, err)
    assert.matches("html: max_bytes, max_depth and max_attributes may not be raised", failure(err, "deep"))
  end)

  it("holds wall time too: a second limit, which slow instructions cannot pass", function()
    local SLOW = {
      -- 1e6 float keys that hash alike: each insert walks all the others
      floats = "local t = {} for k = 1, 1e6 do t[(0.75 + k * 2^-52) * 2^40] = true end",
      -- a compare of two long strings is one instruction
      compare = [[
        local a, b = ("x"):rep(1 << 26), ("x"):rep(1 << 26)
        local same = 0
        for _ = 1, 1e9 do if a == b then same = same + 1 end end
      ]],
      xpcall = "xpcall(function() while true do end end, function() while true do end end)",
      -- one selector call, quadratic in a wide page, with no instruction limit
      select = [[glean.html(("<p></p>"):rep(100000)):select("p:has(~ b)")]],
      -- one regular expression call, with no instruction limit
      regex = [[glean.re.compile("(a+)+$"):find(("a"):rep(40) .. "b")]],
    }
    local code, records, err = crawl(adapter(SLOW), {"--time-limit", "0", "--time-limit-seconds", "1"})
    assert.is_not_nil(code, "glean hung: " .. err)
    assert.equal(1, code, err)
    assert.is_table(records[ORIGIN .. "/ok"], err)
    for case in pairs(SLOW) do
      assert.equal("time limit exceeded: more than 1 seconds in one call (time-limit-seconds)", failure(err, case),
        case .. ":\n" .. err)
    end
  end)

  it("takes the seconds limit from the adapter's settings, lower only", function()
    local lower = adapter({loop = "while true do end"},
      "local settings = {time_limit = 0, time_limit_seconds = 1}")
    local code, _, err = crawl(lower, {})
    assert.is_not_nil(code, "glean hung: " .. err)
    assert.equal("time limit exceeded: more than 1 seconds in one call (time-limit-seconds)", failure(err, "loop"), err)
    local higher = adapter({loop = "while true do end"},
      "local settings = {time_limit = 1e7, time_limit_seconds = 100}")
    code, _, err = crawl(higher, {})
    assert.is_not_nil(code, "glean hung: " .. err)
    assert.matches("settings.time_limit_seconds = 100 is over the runtime's 10: ignored", err, 1, true)
    assert.equal(INSTRUCTIONS, failure(err, "loop"), err)
  end)
end)

describe("a second SIGTERM", function()
  local dir, site

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    site = dir .. "/site"
    assert(os.execute("mkdir -p " .. support.quote(site)))
    for _, name in ipairs({"first", "stuck"}) do
      local f = assert(io.open(site .. "/" .. name, "w"))
      f:write("<h1>", name, "</h1>")
      f:close()
    end
  end)

  teardown(function()
    os.execute("rm -rf " .. support.quote(dir))
  end)

  -- A trusted adapter without time limits: /first emits a big record and
  -- leads to /stuck, whose handler runs `stuck` for ever.
  local function stuck_in(name, stuck)
    local path = support.tempfile(([[
      local glean = require "glean"
      return {
        start_urls = {"https://sig.test/first"},
        pages = {
          {path = "^/first$", parse = function(page)
            glean.emit({url = page.url, pad = ("y"):rep(100000)})
            page:follow("/stuck")
          end},
          {path = "^/stuck$", parse = function(page) %s end},
        },
      }
    ]]):format(stuck), "-" .. name .. ".lua")
    local proc = support.spawn({"run", path, "--mirror", "https://sig.test=" .. site, "--progress", "0",
      "--ignore-robots", "--trust", "--time-limit", "0", "--time-limit-seconds", "0"})
    assert.is_true(support.wait_for(function() return #proc:output() > 100000 end, GUARD))
    support.sleep(0.5) -- into the stuck handler
    proc:signal("TERM")
    support.sleep(0.2)
    proc:signal("TERM")
    local code, out, err = proc:wait(15)
    os.remove(path)
    assert.is_not_nil(code, "glean did not stop: " .. err)
    assert.equal(143, code, err)
    local records = support.records(out)
    assert.equal(1, #records, out)
    assert.equal(100000, #records[1].pad)
    return err
  end

  it("stops a handler stuck in a pattern match", function()
    local err = stuck_in("pattern", [[(("a"):rep(60)):find(".-.-.-.-.-.-.-.-.-.-b")]])
    assert.matches("handler failed for https://sig.test/stuck: interrupted: stopping now", err)
  end)

  it("stops a handler stuck in a Lua loop", function()
    stuck_in("loop", "while true do end")
  end)

  it("stops a handler stuck in a parse it cannot interrupt", function()
    stuck_in("parse", [[glean.html(("<div>"):rep(2e5), {max_depth = 1 << 30})]])
  end)
end)
