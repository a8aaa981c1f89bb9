-- The pattern matcher adapter code runs (runtime/bind/lpattern.c): the same
-- results and errors as Lua's own string.find, match, gmatch and gsub on
-- generated cases; the time limit's error, soon, where Lua's would run for
-- minutes; and Lua's own functions outside adapter calls.

-- Lua's own, taken before glean replaces them.
local stock = {find = string.find, match = string.match, gmatch = string.gmatch, gsub = string.gsub}

require "glean"
local cli = require "glean.cli"
local limits = require "glean.limits"
local sandbox = require "glean.sandbox"

local HUGE = math.maxinteger

-- f(...) as adapter code (under a budget it will not reach).
local function as_adapter(f, ...)
  local meter = limits.meter(HUGE, 0)
  local ok, result = limits.pcall(meter, nil, f, ...)
  assert(ok and not meter:out(), result)
  return result
end

-- ---- the cases --------------------------------------------------------------

local SUBJECT_CHARS = {"a", "a", "a", "b", "b", "c", "(", ")", " ", "1", "%", ".", "]", "-", "\0", "A", "\n"}

local ATOMS = {
  "a", "a", "b", "b", "c", " ", ".", ".", "1", "\0", "]", "^", "*",
  "%a", "%d", "%s", "%w", "%p", "%x", "%u", "%l", "%c", "%g", "%z",
  "%A", "%D", "%S", "%W", "%P", "%L", "%.", "%%", "%(", "%)", "%]", "%-", "%\0", "%q",
  "[ab]", "[^a]", "[a-c]", "[%d]", "[]]", "[^]]", "[a-]", "[%a_]", "[b-a]", "[a%-z]", "[^%s]", "[%]]",
  "[a-%%]", "[-a]", "[%a-z]", "[()]", "[^%a%d]", "[.]", "[\0-b]",
}
local QUANTIFIERS = {"", "", "", "", "*", "+", "-", "?"}
local SPECIALS = {
  "()", "%b()", "%bab", "%baa", "%b((", "%f[%w]", "%f[^a]", "%f[a]", "%f[%z]", "%f[^%z]",
  "%1", "%1", "%2", "%3", "%0", "$", "^", "(", ")",
}
-- Malformed, or only an error in some places.
local BROKEN = {"[", "[a", "[^", "%", "[%", "[%]", "%b", "%bx", "%f", "%fa", "%f%w", "%9", "(", ")", "[a-"}

local function pick(t) return t[math.random(#t)] end

local function subject()
  local t = {}
  for i = 1, math.random(0, 10) do t[i] = pick(SUBJECT_CHARS) end
  return table.concat(t)
end

local function items(depth)
  local t = {}
  for i = 1, math.random(0, 5) do
    local r = math.random()
    if r < 0.65 then
      t[i] = pick(ATOMS) .. pick(QUANTIFIERS)
    elseif r < 0.8 and depth < 3 then
      t[i] = "(" .. items(depth + 1) .. ")"
    elseif r < 0.97 then
      t[i] = pick(SPECIALS)
    else
      t[i] = pick(BROKEN)
    end
  end
  return table.concat(t)
end

local function pattern()
  local p = items(1)
  if math.random() < 0.2 then p = "^" .. p end
  if math.random() < 0.15 then p = p .. "$" end
  if math.random() < 0.05 then p = p .. pick(BROKEN) end
  return p
end

local INITS = {0, 1, 2, 3, -1, -2, -3, 5, 11, 12, -11, -12, 100, -100, HUGE, math.mininteger}
local function init()
  if math.random() < 0.5 then return nil end
  return pick(INITS)
end

-- Replacements for gsub: strings, a number, tables and functions whose
-- values cover false, nil, numbers and invalid ones; the functions log
-- their arguments.
local REPL_STRINGS = {"x", "%0", "%1", "<%1|%2>", "%%", "%", "a%", "%x", "%3", "", "%1%1", "[%0]", "%\0", 7}
local REPL_TABLE = {a = "A", b = false, c = 12, ab = "AB", [1] = "one", [2] = true, [3] = {}, [""] = "E", aa = 1.5}
local function repl_function(log)
  return function(...)
    local args = table.pack(...)
    for i = 1, args.n do args[i] = math.type(args[i]) or args[i] end -- positions as integers
    log[#log + 1] = args
    local key = tostring((...))
    local choice = #key % 5
    if key == "c" then return {} end
    if choice == 0 then return nil end
    if choice == 1 then return "<" .. key .. ">" end
    if choice == 2 then return false end
    if choice == 3 then return #key end
    return ...
  end
end
local MAX_N = {0, 1, 2, -1, 2.5, "1"}

-- One value as text that tells types apart (3 and 3.0, "3" and 3).
local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) == "number" then return math.type(v) .. ":" .. tostring(v) end
  if type(v) == "table" then
    local t = {}
    for i = 1, v.n or #v do t[i] = show(v[i]) end
    return "{" .. table.concat(t, ", ") .. "}"
  end
  return tostring(v)
end

-- Every case calls fn (one of the string functions) here, in one place, so
-- errors carry the same position. It returns pcall's results, packed.
local function run(case, fn)
  if case.kind == "gmatch" then
    return table.pack(pcall(function()
      local it = fn(case.s, case.p, case.init)
      local all = {}
      for _ = 1, 50 do
        local r = table.pack(it())
        if r.n == 0 or r[1] == nil then break end
        all[#all + 1] = r
      end
      return all
    end))
  end
  local repl = case.repl
  local log
  if repl == "function" then
    log = {}
    repl = repl_function(log)
  elseif repl == "table" then
    repl = REPL_TABLE
  end
  local r
  if case.kind == "gsub" then
    r = table.pack(pcall(function() return fn(case.s, case.p, repl, case.n) end))
  else
    r = table.pack(pcall(function() return fn(case.s, case.p, case.init, case.plain) end))
  end
  r[#r + 1] = log -- the replacement function's calls
  return r
end

local function cases(count)
  local all = {}
  local function add(kind, s, p, extra)
    local case = {kind = kind, s = s, p = p}
    for k, v in pairs(extra or {}) do case[k] = v end
    all[#all + 1] = case
  end
  for _ = 1, count do
    local p = pattern()
    for _ = 1, 2 do
      local s = subject()
      add("find", s, p, {init = init(), plain = math.random() < 0.1 or nil})
      add("match", s, p, {init = init()})
      add("gmatch", s, p, {init = init()})
      local r = math.random()
      local repl = r < 0.5 and pick(REPL_STRINGS) or r < 0.75 and "table" or "function"
      add("gsub", s, p, {repl = repl, n = math.random() < 0.2 and pick(MAX_N) or nil})
    end
  end
  -- Where the limits are: captures, nesting, and long subjects.
  for k = 195, 205 do
    local s = ("a"):rep(k)
    for _, p in ipairs({("a?"):rep(k), ("(a)"):rep(k), ("a*"):rep(k), ("a-"):rep(k) .. "$", ("("):rep(k) .. ("a"):rep(k) .. (")"):rep(k)}) do
      add("match", s, p)
      add("gsub", s, p, {repl = "%0"})
    end
  end
  for k = 30, 34 do
    add("find", "abc", ("()"):rep(k))
    add("match", "abc", ("(a*)"):rep(k))
    add("gsub", "abc", ("()"):rep(k), {repl = "function"})
  end
  for _, init in ipairs({1, 2, 3, 4, 5, -1, -4, 0}) do
    add("find", "abc", "", {init = init})
    add("find", "abc", "", {init = init, plain = true})
    add("gmatch", "abc", "", {init = init})
    add("gmatch", "abc", "()", {init = init})
  end
  local fixed = {
    {"THE (quick) fox", "%f[%a]%a+"}, {"THE (quick) fox", "%f[%a]%a*%f[%A]"}, {"x(a(b)c)d", "%b()"},
    {"'a''b'", "%b''"}, {"hello world", "o w"}, {"a+b", "+"}, {"a.b", "."}, {"key = value", "(%w+)%s*=%s*(%w+)"},
    {"  trim  ", "^%s*(.-)%s*$"}, {"2024-06-01", "(%d+)-(%d+)-(%d+)"}, {"abc", "%w*"}, {"hello world", ""},
    {"abc", "^a*"}, {"aaa", "a-"}, {"abab", "(ab)%1"}, {"a()b", "()%1"}, {"x", "(()x)"}, {"abc", "$"},
    {"ab$c", "b$c"}, {"a$", "a$$"}, {"abc", "[a"}, {"xbc", "x["}, {"abc", "x["}, {"", "%f[a]"}, {"a", "%f[%z]"},
  }
  for _, f in ipairs(fixed) do
    local s, p = f[1], f[2]
    add("find", s, p)
    add("find", s, p, {plain = true})
    add("match", s, p)
    add("gmatch", s, p)
    for _, repl in ipairs({"<%0>", "%1", "table", "function"}) do add("gsub", s, p, {repl = repl}) end
    add("gsub", s, p, {repl = "-", n = 1})
  end
  -- Arguments Lua's own would refuse.
  add("find", 12, 2)
  add("find", "x", {})
  add("match", "x", "x", {init = "y"})
  add("gmatch", "x", nil)
  add("gsub", "x", "x", {repl = true})
  add("gsub", "x", "x", {repl = "y", n = {}})
  add("gsub", 123, 2, {repl = 9})
  return all
end

describe("lpattern", function()
  describe("against Lua's own functions", function()
    local all, expected

    setup(function()
      math.randomseed(5401)
      all = cases(2500)
      expected = {}
      for i, case in ipairs(all) do expected[i] = show(run(case, stock[case.kind])) end
    end)

    local function differences(results)
      local wrong = {}
      for i, case in ipairs(all) do
        local got = show(results[i])
        if got ~= expected[i] and #wrong < 10 then
          wrong[#wrong + 1] = ("%s(%q, %q, init=%s, plain=%s, repl=%s, n=%s):\n  Lua:  %s\n  ours: %s"):format(
            case.kind, case.s, case.p, tostring(case.init), tostring(case.plain), show(case.repl),
            tostring(case.n), expected[i], got)
        end
      end
      return wrong
    end

    it("gives the same results and errors in adapter calls", function()
      assert.is_true(#all > 20000, #all)
      local results = as_adapter(function()
        local results = {}
        for i, case in ipairs(all) do results[i] = run(case, string[case.kind]) end
        return results
      end)
      local wrong = differences(results)
      assert.equal(0, #wrong, table.concat(wrong, "\n"))
    end)

    it("gives the same results and errors outside them", function()
      local results = {}
      for i, case in ipairs(all) do results[i] = run(case, string[case.kind]) end
      local wrong = differences(results)
      assert.equal(0, #wrong, table.concat(wrong, "\n"))
    end)

    it("includes cases that match, that fail, and each error", function()
      local seen = {}
      for i in ipairs(all) do
        local text = expected[i]
        local message = text:match('^{false, "[^"]-: ([^"]*)') or text:match('^{false, "([^"]*)')
        if message then seen[message:gsub("%%%d", "%%N")] = true end
        if text:match("^{true, nil") then seen.nil_result = true end
        if text:match("^{true, integer") then seen.found = true end
      end
      for _, what in ipairs({
        "nil_result", "found", "pattern too complex", "too many captures", "malformed pattern (ends with '%')",
        "malformed pattern (missing ']')", "missing '[' after '%f' in pattern", "invalid capture index %N",
        "invalid use of '%' in replacement string", "invalid pattern capture", "unfinished capture",
        "invalid replacement value (a table)", "invalid replacement value (a boolean)",
        "malformed pattern (missing arguments to '%b')",
      }) do
        assert.is_true(seen[what], what)
      end
    end)
  end)

  describe("under a budget", function()
    local EVIL = ("a"):rep(1500)
    local MESSAGE = "time limit exceeded: more than 10000000 Lua instructions in one call (time-limit)"

    -- fn(...) as adapter code with a budget of 1e7: its error, and the
    -- seconds it took.
    local function limited(fn, ...)
      local started = os.clock()
      local meter = limits.meter(1e7, 0)
      local ok, err = limits.pcall(meter, nil, fn, ...)
      assert.is_false(ok, "expected the time limit")
      assert.is_true(meter:left() <= 0)
      return err, os.clock() - started
    end

    local function check(fn, ...)
      local err, seconds = limited(fn, ...)
      assert.equal(MESSAGE, err)
      assert.is_true(seconds < 5, ("took %.1f s"):format(seconds))
    end

    it("stops a pattern that backtracks for minutes, in each function", function()
      check(string.find, EVIL, ".-.-.-b")
      check(string.match, EVIL, ".-.-.-b")
      check(string.gsub, EVIL, ".-.-.-b", "x")
      check(function() for _ in EVIL:gmatch(".-.-.-b") do end end)
      check(function() return EVIL:find("(.-)(.-)(.-)b") end)
    end)

    it("stops quadratic searches over a large subject", function()
      local big = ("a"):rep(1 << 20)
      check(string.find, big, "a.-b")
      check(string.gsub, big, "a.-b", "")
      check(string.find, big, ("a"):rep(1 << 19) .. "b", 1, true)
    end)

    it("counts a long set at every character it is tried on", function()
      local subject = ("b"):rep(40000)
      check(string.find, subject, "[" .. ("a"):rep(40000) .. "]")
      check(string.find, subject, "[^" .. ("a"):rep(20000) .. "]*c")
      check(string.find, subject, "%f[" .. ("a"):rep(40000) .. "]")
    end)

    it("stops a gmatch iterator made outside the call but run in it", function()
      local it = stock.gmatch("x", "x") -- Lua's own is no use here: see lpattern.c
      assert.equal("x", it())
      it = EVIL:gmatch(".-.-.-b")
      check(it)
      -- and one made in the call runs unlimited after it
      local ok, made = limits.pcall(limits.meter(1e7, 0), nil, string.gmatch, "a,b", "[^,]+")
      assert.is_true(ok)
      assert.equal("a", made())
      assert.equal("b", made())
    end)

    it("cannot be swallowed by a pcall in the adapter", function()
      check(function()
        for _ = 1, 1e9 do pcall(string.find, EVIL, ".-.-.-b") end
      end)
    end)

    it("holds an adapter's string functions, which are the wrappers", function()
      local adapter = assert(cli.load_adapter_source("return {find = string.find, gsub = ('').gsub}", "fns"))
      assert.equal(string.find, adapter.find)
      assert.equal(string.gsub, adapter.gsub)
      sandbox.set("time_limit", 1e6)
      local ok, err = cli.load_adapter_source(("local s = (%q):rep(1500) s:find('.-.-.-b') return {}"):format("a"), "slow")
      sandbox.set("time_limit", 1e9)
      assert.is_nil(ok)
      assert.matches("time limit exceeded: more than 1000000 Lua instructions", err)
    end)

    it("charges the matcher's steps", function()
      local meter = limits.meter(1e9, 0)
      limits.pcall(meter, nil, string.find, ("a"):rep(3000), "a-b")
      local spent = 1e9 - meter:left()
      assert.is_true(spent > 3000 * 3000 / 2, spent)
      assert.is_true(spent < 3000 * 3000 * 4, spent)
    end)
  end)

  describe("outside adapter calls", function()
    it("runs Lua's own functions, unlimited", function()
      assert.are_not.equal(stock.find, string.find)
      assert.is_nil(("a"):rep(100):find(".-.-.-b"))
      assert.is_nil(("a"):rep(100):match(".-.-.-b"))
      assert.same({"aaa", 0}, {("aaa"):gsub(".-.-.-b", "x")})
      -- errors name the function as Lua's do
      assert.same({false, "bad argument #1 to 'string.find' (string expected, got no value)"}, {pcall(string.find)})
      local ok, err = pcall(function() return ("x"):gsub("x") end)
      assert.is_false(ok)
      assert.matches("pattern_spec.lua:%d+: bad argument #2 to 'gsub' %(string/function/table expected, got no value%)$", err)
      ok, err = pcall(function() return ("x"):find("[") end)
      assert.matches("pattern_spec.lua:%d+: malformed pattern %(missing '%]'%)$", err)
    end)

    it("names the functions the same way in adapter calls", function()
      local r = as_adapter(function() return table.pack(pcall(string.find)) end)
      assert.same({false, "bad argument #1 to 'string.find' (string expected, got no value)"}, {r[1], r[2]})
      local err = as_adapter(function() return select(2, pcall(function() return ("x"):gsub("x") end)) end)
      assert.matches("pattern_spec.lua:%d+: bad argument #2 to 'gsub' %(string/function/table expected, got no value%)$", err)
    end)
  end)
end)
