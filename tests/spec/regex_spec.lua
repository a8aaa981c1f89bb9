-- glean.re: PCRE2's regular expressions (match, find, gmatch, gsub, split,
-- compile), their flags, named groups, UTF-8, the cache of compiled
-- patterns, and the errors of bad patterns, subjects and replacements. The
-- time budget and the memory limit over them: limits_spec.lua and
-- memory_spec.lua.
local re = require("glean").re
local support = require "support"

local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return err
end

local function pack(...) return {n = select("#", ...), ...} end

describe("glean.re.match", function()
  it("takes alternation and flags, which Lua's patterns lack", function()
    assert.equal("Byline", re.match("<div class='Byline'>", "byline|author|dateline", "i"))
    assert.is_nil(re.match("<div class='Byline'>", "byline|author|dateline"))
    assert.equal("Jane", re.match("By Jane Doe", [[^(?:by|author)\s+(\w+)]], "i"))
  end)

  it("gives the captures, or the whole match without any; false for a group not in the match", function()
    assert.same(pack("10", "20"), pack(re.match("10-20", [[(\d+)-(\d+)]])))
    assert.same(pack("ll"), pack(re.match("hello", "l+")))
    assert.same(pack("a", false), pack(re.match("a", "(a)|(b)")))
    assert.same(pack(nil), pack(re.match("hello", "z")))
  end)

  it("starts at init as string.match does: negative from the end, past the end none", function()
    assert.equal("c", re.match("abc", "[a-z]", nil, -1))
    assert.equal("b", re.match("abc", "[a-z]", nil, 2))
    assert.is_nil(re.match("abc", "$", nil, 10))
    assert.equal("", re.match("abc", "$", nil, 4))
  end)

  it("matches UTF-8 by character, with Unicode classes and case folding; flag a keeps them ASCII", function()
    assert.equal("ÉCOLE", re.match("ÉCOLE", "école", "i"))
    assert.equal("naïve", re.match("naïve", [[^\w+$]]))
    assert.is_nil(re.match("naïve", [[^\w+$]], "a"))
    assert.equal("日本", re.match("日本語", "^..")) -- two characters, six bytes
    assert.equal("l", re.match("héllo", "l", nil, 4))
  end)

  it("takes the flags m, s, x and n", function()
    assert.equal("b", re.match("a\nb", "^b", "m"))
    assert.is_nil(re.match("a\nb", "^b"))
    assert.equal("a\nb", re.match("a\nb", "a.b", "s"))
    assert.is_nil(re.match("a\nb", "a.b"))
    assert.equal("ab", re.match("ab", "a b # comment", "x"))
    assert.equal("ab", re.match("ab", "(a)b", "n"))
  end)
end)

describe("glean.re.find", function()
  it("gives start, end and a table of the captures by number and by name", function()
    local s, e, caps = re.find("x=1, y=22", [[(?<key>\w)=(?<value>\d+)]], nil, 3)
    assert.equal(6, s)
    assert.equal(9, e)
    assert.same({"y", "22", key = "y", value = "22"}, caps)
  end)

  it("gives an empty table without groups, and nil without a match", function()
    assert.same(pack(2, 3, {}), pack(re.find("abc", "bc")))
    assert.is_nil(re.find("abc", "z"))
  end)

  it("names the group of a duplicated name that took part (?J)", function()
    local _, _, caps = re.find("b", "(?J)(?<n>a)|(?<n>b)")
    assert.same({false, "b", n = "b"}, caps)
  end)
end)

describe("glean.re.gmatch", function()
  it("iterates the matches' captures", function()
    local got = {}
    for k, v in re.gmatch("a=1 b=2 c=3", [[(\w)=(\d)]]) do got[#got + 1] = k .. v end
    assert.same({"a1", "b2", "c3"}, got)
  end)

  it("gives an empty match once at each place, and steps over whole characters", function()
    local got = {}
    for m in re.gmatch("é|", "x*") do got[#got + 1] = m end
    assert.same({"", "", ""}, got)
  end)
end)

describe("glean.re.gsub", function()
  it("expands $n, ${n}, ${name} and $$ in a template", function()
    assert.same(pack("Smith, John $", 1), pack(re.gsub("John Smith", [[(?<first>\w+) (?<last>\w+)]], "${last}, $1 $$")))
    assert.same(pack("<ab>", 1), pack(re.gsub("ab", "(a)(b)", "<${1}$2>")))
    assert.same(pack("[x]", 1), pack(re.gsub("x", "x", "[$0]")))
    assert.same(pack("a", 1), pack(re.gsub("a", "(a)|(b)", "$1$2")))
  end)

  it("takes a table by first capture or whole match, and a function of the captures", function()
    assert.same(pack("A b c", 3), pack(re.gsub("a b c", [[\w]], {a = "A", b = false})))
    assert.same(pack("A B c", 2), pack(re.gsub("a b c", [[\w]], function(w) return w:upper() end, nil, 2)))
    assert.same(pack("1:2", 1), pack(re.gsub("2:1", [[(\d):(\d)]], function(a, b) return b .. ":" .. a end)))
  end)

  it("replaces empty matches as Perl and Python do", function()
    assert.same(pack("-a-b-c-", 4), pack(re.gsub("abc", "x*", "-")))
    assert.same(pack("-a--c-", 4), pack(re.gsub("abc", "b*", "-")))
  end)

  it("takes flags and a count", function()
    assert.same(pack("X-B-a", 1), pack(re.gsub("a-B-a", "a|b", "X", "i", 1)))
    assert.same(pack("X-X-a", 2), pack(re.gsub("a-B-a", "a|b", "X", "i", 2)))
  end)

  it("names what is wrong with a replacement", function()
    assert.matches([[glean.re.gsub: replacement "%$2" refers to group '2' at byte 1, which the pattern does not have]],
      error_of(re.gsub, "x", "x", "$2"))
    assert.matches([[replacement "%${nope}" refers to group 'nope']], error_of(re.gsub, "x", "(x)", "${nope}"))
    assert.matches([[replacement "a%$": '%$' at byte 2 is not %$n, %${name} or %$%$]], error_of(re.gsub, "x", "y", "a$"))
    assert.matches([['%${' without '}' at byte 1]], error_of(re.gsub, "x", "x", "${1"))
    assert.matches("invalid replacement value %(a table%)", error_of(re.gsub, "x", "x", {x = {}}))
  end)
end)

describe("glean.re.split", function()
  it("gives the pieces between the matches, up to n", function()
    assert.same({"a", "b", "c", "d"}, re.split("a, b;c  d", [[[,;\s]+]]))
    assert.same({"a", "b;c  d"}, re.split("a, b;c  d", [[[,;\s]+]], nil, 1))
    assert.same({"", "a", "b", "c", ""}, re.split("abc", ""))
    assert.same({"x"}, re.split("x", ","))
    assert.same({"a", "b"}, re.split("aXb", "x", "i"))
  end)
end)

describe("glean.re.compile", function()
  it("gives a Regex with the same methods, its pattern, flags and group count", function()
    local r = re.compile([[(\d+)-(\d+)]], "x")
    assert.same(pack("10", "20"), pack(r:match("10-20")))
    assert.same(pack(3, 5, {"1", "2"}), pack(r:find("a 1-2")))
    assert.same({"1-2", "3-4"}, (function()
      local t = {}
      for a, b in r:gmatch("1-2 3-4") do t[#t + 1] = a .. "-" .. b end
      return t
    end)())
    assert.same(pack("2-1", 1), pack(r:gsub("1-2", "$2-$1")))
    assert.same({"a", "b"}, r:split("a1-2b"))
    assert.equal([[(\d+)-(\d+)]], r.pattern)
    assert.equal("x", r.flags)
    assert.equal(2, r.groups)
    assert.equal([[glean.Regex("(\d+)-(\d+)", "x")]], tostring(r))
  end)

  it("is taken by the functions in place of a pattern", function()
    local r = re.compile("b+", "i")
    assert.equal("BB", re.match("aBBa", r))
    assert.matches("flags come with the pattern compiled", error_of(re.match, "a", r, "i"))
  end)

  it("caches: the same pattern and flags give the same Regex", function()
    assert.is_true(rawequal(re.compile("a|b", "i"), re.compile("a|b", "i")))
    assert.is_false(rawequal(re.compile("a|b", "i"), re.compile("a|b")))
  end)

  it("keeps held Regexes and iterators working while the cache is emptied again and again", function()
    local r = re.compile("(k)ept")
    local it = re.gmatch("x1 x2 x3", [[x(\d)]])
    assert.equal("1", it())
    local t = {}
    for i = 1, 3000 do t[#t + 1] = re.match("v" .. i, "v(" .. i .. ")") end
    assert.equal(3000, #t)
    assert.equal("2", it())
    assert.equal("k", r:match("kept"))
    -- a replacement function that fills the cache while gsub is matching
    local out = re.gsub("a a a", "(a)", function(a)
      for i = 1, 1100 do re.match("q", "q" .. i .. "|q") end
      return a:upper()
    end)
    assert.equal("A A A", out)
    assert.equal("3", it())
  end)

  it("keeps the patterns calls are using while finalizers empty the cache", function()
    local n = 0
    local function bombs()
      for _ = 1, 50 do
        setmetatable({}, {__gc = function()
          for _ = 1, 1100 do n = n + 1; re.match("q", "q" .. n .. "|q") end
        end})
      end
    end
    bombs()
    assert.equal(2e4 + 1, #re.split(("a,"):rep(2e4), ","))
    bombs()
    assert.equal(1e4, select(2, re.gsub(("ab"):rep(1e4), "(a)", "<$1>")))
    bombs()
    local _, _, caps = re.find(("x"):rep(1000) .. "abc", "(?<a>a)(?<b>b)(?<c>c)")
    assert.equal("c", caps.c)
    assert.is_true(n > 0)
  end)
end)

describe("glean.re in an adapter", function()
  it("is there for an untrusted adapter's handlers, under its limits", function()
    local site = support.tempdir()
    support.write(site, "a", [[<p class="story-Byline">By <b>Jane Doe</b></p><p class="date">4 August 2017</p>]])
    local code, out, err, folder = support.run_adapter([=[
      local glean = require "glean"
      local DATE = glean.re.compile([[(?<day>\d{1,2}) (?<month>\w+) (?<year>\d{4})]])
      return {
        start_urls = {"https://re.test/a"},
        pages = {{path = "^/a$", parse = function(page)
          local record = {url = page.url}
          for _, p in ipairs(page:doc():select("p")) do
            if glean.re.find(p:attr("class"), "byline|author|dateline", "i") then
              record.author = glean.re.match(p:text(), [[^by\s+(.+)]], "i")
            end
            local _, _, date = DATE:find(p:text())
            if date then record.date = date.year .. " " .. date.month .. " " .. date.day end
          end
          return record
        end}},
      }]=], {"--mirror", "https://re.test=" .. site, "--ignore-robots"})
    os.execute("rm -rf " .. support.quote(folder) .. " " .. support.quote(site))
    assert.equal(0, code, err)
    assert.same({{url = "https://re.test/a", author = "Jane Doe", date = "2017 August 4"}}, support.records(out))
  end)
end)

describe("glean.re compiled to machine code", function()
  it("gives what the interpreter gives, on a pattern's second use and on long subjects", function()
    local long = ("x"):rep(20000) .. "By Jane, author: Joe"
    for _ = 1, 2 do
      assert.equal("Jane", re.match("By Jane", [[^by (\w+)]], "i"))
      assert.same({"By", "author"}, (function()
        local t = {}
        for w in re.gmatch(long, "by|author", "i") do t[#t + 1] = w end
        return t
      end)())
      assert.equal(20001, (re.find(long, "by|author", "i")))
    end
  end)

  it("runs a match that needs more than the JIT's stack in the interpreter", function()
    local s = ("a"):rep(1e5)
    for _ = 1, 2 do assert.equal("a", re.match(s, "^(a|b)*$")) end
  end)
end)

describe("glean.re's errors", function()
  it("name the pattern and the offset of a bad pattern", function()
    assert.matches([[glean.re.match: bad pattern "%(a": missing closing parenthesis at offset 2]],
      error_of(re.match, "x", "(a"))
    assert.matches([[glean.re.compile: bad pattern "a{2,1}": .* at offset 5]], error_of(re.compile, "a{2,1}"))
    assert.matches([[bad pattern "\C": .* at offset 2]], error_of(re.match, "x", [[\C]]))
  end)

  it("name the byte of a subject that is not UTF-8, and of an init inside a character", function()
    assert.matches([[glean.re.match: subject is not valid UTF%-8 at byte 3 %(UTF%-8 error: ]],
      error_of(re.match, "ab\xffcd", "c"))
    assert.matches([[glean.re.gsub: subject is not valid UTF%-8 at byte 2]], error_of(re.gsub, "a\xc3", "a", "b"))
    assert.matches("subject is not valid UTF%-8 at byte 1", error_of(re.split, "\x80", ","))
    assert.matches("gmatch: subject is not valid UTF%-8 at byte 4", error_of(re.gmatch("abc\xff", "."), nil))
    assert.matches("glean.re.match: init 3 is inside a UTF%-8 character", error_of(re.match, "héllo", "l", nil, 3))
  end)

  it("name an unknown flag, and a pattern that is not UTF-8", function()
    assert.matches([[unknown flag 'q' in "iq" %(flags are i, m, s, x, n and a%)]], error_of(re.match, "x", "x", "iq"))
    assert.matches("bad pattern \"\xff\": UTF%-8 error: .* at offset 0", error_of(re.match, "x", "\xff"))
  end)

  it("stop a catastrophic pattern outside adapter calls at PCRE2's match limit", function()
    assert.matches([[glean.re.match: pattern "%(a%+%)%+%$": match limit exceeded]],
      error_of(re.match, ("a"):rep(40) .. "b", "(a+)+$"))
  end)
end)
