-- glean.json: encode, decode, null, array / object marks, and their errors.
local json = require("glean").json

-- The error a call raises (the call must fail).
local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return err
end

-- The error f raises when it calls glean.json from Lua code, which puts the
-- caller's position first, as Lua's own libraries do; without that position.
local function error_in(f)
  local err, n = error_of(f):gsub("^[^\n]-json_spec%.lua:%d+: ", "", 1)
  assert.equal(1, n, "expected the caller's position")
  return err
end

local function nested(depth, key)
  local top = {}
  local t = top
  for _ = 2, depth do
    t[key] = {}
    t = t[key]
  end
  return top
end

describe("glean.json.encode", function()
  it("encodes scalars", function()
    assert.equal("null", json.encode(nil))
    assert.equal("null", json.encode(json.null))
    assert.equal("true", json.encode(true))
    assert.equal("false", json.encode(false))
    assert.equal('"x"', json.encode("x"))
    assert.equal('""', json.encode(""))
  end)

  it("writes integers as integers, all 64 bits", function()
    assert.equal("0", json.encode(0))
    assert.equal("-7", json.encode(-7))
    assert.equal("9223372036854775807", json.encode(math.maxinteger))
    assert.equal("-9223372036854775808", json.encode(math.mininteger))
  end)

  it("writes floats with the shortest text that reads back, always as floats", function()
    local cases = {  -- not a table keyed by the floats: 1.0 as a key becomes 1
      {0.1, "0.1"}, {1.5, "1.5"}, {1.0, "1.0"}, {-2.0, "-2.0"}, {-0.0, "-0.0"}, {1e300, "1e+300"},
      {0.1 + 0.2, "0.30000000000000004"}, {1 / 3, "0.3333333333333333"},
      {2.0 ^ 53, "9007199254740992.0"}, {123456789012345.0, "123456789012345.0"},
      {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
    }
    for _, c in ipairs(cases) do assert.equal(c[2], json.encode(c[1])) end
  end)

  it("round-trips floats exactly, as floats", function()
    local floats = {0.1, 0.2, 0.3, 1 / 3, 2 / 3, math.pi, -math.pi, 1e-7, 123.456, 1e21, 1e22, 1e23,
                    2.0 ^ 63, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1.0, 100.0}
    for _, x in ipairs(floats) do
      local back = json.decode(json.encode(x))
      assert.equal("float", math.type(back), string.format("%a", x))
      assert.equal(x, back, string.format("%a", x))
    end
    assert.equal(-math.huge, 1 / json.decode(json.encode(-0.0)))
  end)

  it("refuses NaN and infinities, saying where", function()
    assert.equal("json.encode: cannot encode NaN at top level", error_of(json.encode, 0 / 0))
    assert.equal("json.encode: cannot encode NaN at .x", error_of(json.encode, {x = 0 / 0}))
    assert.equal("json.encode: cannot encode inf at .a[2]", error_of(json.encode, {a = {1, math.huge}}))
    assert.equal("json.encode: cannot encode -inf at [1]", error_of(json.encode, {-math.huge}))
  end)

  it("escapes quotes, backslashes and control characters, and nothing else", function()
    assert.equal([["\"\\/\b\f\n\r\t\u0000\u0001\u001f ~]] .. "\127" .. [["]],
                 json.encode("\"\\/\b\f\n\r\t\0\1\31 ~\127"))
  end)

  it("passes UTF-8 through", function()
    local s = "h\u{E9}llo \u{20AC} \u{1D11E} \u{2028} \u{D7FF} \u{E000} \u{10FFFF}"
    assert.equal('"' .. s .. '"', json.encode(s))
  end)

  it("refuses strings that are not UTF-8, saying where", function()
    assert.equal("json.encode: invalid UTF-8 in string at .body[2] (byte 4)",
                 error_of(json.encode, {body = {"ok", "abc\xff"}}))
    local bad = {
      "\x80",                 -- continuation byte alone
      "\xc0\xaf",             -- overlong '/'
      "\xe0\x80\xaf",         -- overlong, three bytes
      "\xed\xa0\x80",         -- surrogate U+D800
      "\xf4\x90\x80\x80",     -- past U+10FFFF
      "\xe2\x82",             -- cut short
      "\xf8\x88\x80\x80\x80", -- five-byte form
    }
    for _, s in ipairs(bad) do
      assert.equal("json.encode: invalid UTF-8 in string at top level (byte 2)", error_of(json.encode, "a" .. s))
    end
  end)

  it("refuses keys that are not UTF-8", function()
    assert.equal("json.encode: invalid UTF-8 in key at .meta (byte 2)",
                 error_of(json.encode, {meta = {["k\xff"] = 1}}))
  end)

  it("encodes tables with keys 1..n as arrays", function()
    assert.equal("[1,2,3]", json.encode({1, 2, 3}))
    assert.equal('["a",["b",[true]]]', json.encode({"a", {"b", {true}}}))
  end)

  it("encodes other tables as objects with keys in byte order", function()
    assert.equal('{"":6,"B":3,"a":2,"aa":5,"b":1,"\u{E9}":4}',
                 json.encode({b = 1, a = 2, B = 3, ["\u{E9}"] = 4, aa = 5, [""] = 6}))
  end)

  it("writes integer keys of non-sequences as decimal text", function()
    assert.equal('{"1":"a","3":"c"}', json.encode({[1] = "a", [3] = "c"}))
    assert.equal('{"0":"z","1":"a"}', json.encode({[0] = "z", [1] = "a"}))
    assert.equal('{"-1":true}', json.encode({[-1] = true}))
    assert.equal('{"1":1,"2":2,"x":3}', json.encode({1, 2, x = 3}))
    assert.equal('{"10":1,"2":3,"9":2}', json.encode({[10] = 1, [9] = 2, [2] = 3}))
  end)

  it("refuses other keys, saying where", function()
    assert.equal("json.encode: table key must be a string or integer, got boolean at .meta",
                 error_of(json.encode, {meta = {[true] = 1}}))
    assert.equal("json.encode: table key must be a string or integer, got float at top level",
                 error_of(json.encode, {[1.5] = 1}))
    assert.equal("json.encode: table key must be a string or integer, got table at [1]",
                 error_of(json.encode, {{[{}] = 1}}))
  end)

  it("refuses a table with both 1 and \"1\" as keys", function()
    assert.equal('json.encode: key "1" is both a string and an integer at top level',
                 error_of(json.encode, {[1] = "a", ["1"] = "b"}))
  end)

  it("encodes an empty table as an array unless marked", function()
    assert.equal("[]", json.encode({}))
    assert.equal("{}", json.encode(json.object({})))
    assert.equal("[]", json.encode(json.array({})))
    assert.equal('{"a":[],"b":{}}', json.encode({a = json.array({}), b = json.object({})}))
  end)

  it("marks return the table they mark, and can be changed", function()
    local t = {}
    assert.equal(t, json.array(t))
    assert.equal(t, json.object(t))
    assert.equal("{}", json.encode(t))
    json.array(t)
    assert.equal("[]", json.encode(t))
  end)

  it("encodes an object-marked sequence as an object", function()
    assert.equal('{"1":"a","2":"b"}', json.encode(json.object({"a", "b"})))
  end)

  it("refuses an array-marked table with other keys", function()
    assert.equal("json.encode: table marked as array has keys other than 1..n at .list",
                 error_of(json.encode, {list = json.array({1, x = 2})}))
    assert.equal("json.encode: table marked as array has keys other than 1..n at top level",
                 error_of(json.encode, json.array({[2] = 1})))
  end)

  it("leaves other metatables alone but honours their __jsontype", function()
    local t = setmetatable({}, {})
    assert.equal("bad argument #1 to 'array' (table already has a metatable)",
                 error_in(function() json.array(t) end))
    assert.equal("{}", json.encode(setmetatable({}, {__jsontype = "object"})))
    assert.equal('json.encode: __jsontype must be "array" or "object" at .t',
                 error_of(json.encode, {t = setmetatable({}, {__jsontype = "map"})}))
  end)

  it("reads tables raw, running no metamethods", function()
    local mt = {
      __index = function() error("__index ran") end,
      __pairs = function() error("__pairs ran") end,
      __len = function() error("__len ran") end,
    }
    assert.equal("[1]", json.encode(setmetatable({1}, mt)))
    assert.equal('{"a":1}', json.encode(setmetatable({a = 1}, mt)))
  end)

  it("writes json.null as null in arrays and objects", function()
    assert.equal("[1,null,3]", json.encode({1, json.null, 3}))
    assert.equal('{"a":null,"b":0}', json.encode({a = json.null, b = 0}))
  end)

  it("encodes nested structures deterministically", function()
    local v = {name = "x", tags = {"a", "b"}, meta = {n = 1, f = 0.5, ok = true, none = json.null}}
    local want = '{"meta":{"f":0.5,"n":1,"none":null,"ok":true},"name":"x","tags":["a","b"]}'
    for _ = 1, 3 do assert.equal(want, json.encode(v)) end
  end)

  it("refuses cycles, saying where", function()
    local t = {}
    t.a = {b = t}
    assert.equal("json.encode: cycle at .a.b", error_of(json.encode, t))
    local u = {}
    u[1] = u
    assert.equal("json.encode: cycle at [1]", error_of(json.encode, u))
  end)

  it("encodes a table reached twice without a cycle", function()
    local shared = {1}
    assert.equal('{"a":[1],"b":[1]}', json.encode({a = shared, b = shared}))
  end)

  it("nests up to 1000 tables and refuses more with an error", function()
    local ok = json.encode(nested(1000, "a"))
    assert.equal(string.rep('{"a":', 999) .. "[]" .. string.rep("}", 999), ok)
    local err = error_of(json.encode, nested(1001, "a"))
    assert.equal("json.encode: nesting deeper than 1000 at " .. string.rep(".a", 8) .. "<984 levels>" ..
                 string.rep(".a", 8), err)
    assert.matches("^json.encode: nesting deeper than 1000 at %[1%]",
                   error_of(json.encode, nested(5000, 1)))
  end)

  it("refuses functions, threads and userdata, saying where", function()
    assert.equal("json.encode: cannot encode function at .tags[3]",
                 error_of(json.encode, {tags = {"a", "b", print}}))
    assert.equal("json.encode: cannot encode function at [1]", error_in(function() json.encode({print}) end))
    assert.equal("json.encode: cannot encode thread at .co",
                 error_of(json.encode, {co = coroutine.create(print)}))
    assert.equal("json.encode: cannot encode userdata at top level", error_of(json.encode, io.stdout))
    assert.equal('json.encode: cannot encode function at ["a b"]["q\\"\\\\"][2]',
                 error_of(json.encode, {["a b"] = {['q"\\'] = {1, print}}}))
  end)

  it("checks its argument", function()
    assert.equal("bad argument #1 to 'encode' (value expected)", error_in(function() json.encode() end))
  end)
end)

describe("glean.json.decode", function()
  it("decodes scalars", function()
    assert.is_true(json.decode("true"))
    assert.is_false(json.decode("false"))
    assert.equal(json.null, json.decode("null"))
    assert.equal("x", json.decode('"x"'))
    assert.equal(7, json.decode(" \t\r\n7 \n"))
  end)

  it("makes integers of integer numerals that fit, floats of the rest", function()
    local cases = {
      {"1", 1, "integer"}, {"-0", 0, "integer"}, {"1.0", 1.0, "float"}, {"1e2", 100.0, "float"},
      {"-2.5E-1", -0.25, "float"},
      {"9223372036854775807", math.maxinteger, "integer"},
      {"-9223372036854775808", math.mininteger, "integer"},
      {"9007199254740993", 9007199254740993, "integer"},
      {"9223372036854775808", 2.0 ^ 63, "float"},
      {"-9223372036854775809", -(2.0 ^ 63), "float"},
    }
    for _, c in ipairs(cases) do
      local v = json.decode(c[1])
      assert.equal(c[3], math.type(v), c[1])
      assert.equal(c[2], v, c[1])
    end
  end)

  it("keeps every big integer exact, with strings full of digits around them", function()
    local t = json.decode('{"a-1":"x-2 3\\"4,5","b":["12",9007199254740993,"-3",-9007199254740995],' ..
                          '"c\\\\":9223372036854775806,"d":"\\\\"}')
    assert.same({["a-1"] = 'x-2 3"4,5', b = {"12", 9007199254740993, "-3", -9007199254740995},
                 ["c\\"] = 9223372036854775806, d = "\\"}, t)
    assert.equal("integer", math.type(t.b[2]))
    assert.equal(9007199254740993, t.b[2])
    assert.equal(-9007199254740995, t.b[4])
    assert.equal(9223372036854775806, t["c\\"])
  end)

  it("decodes escapes, including surrogate pairs", function()
    assert.equal("\"\\/\b\f\n\r\t", json.decode([["\"\\\/\b\f\n\r\t"]]))
    assert.equal("\u{E9}\u{20AC}", json.decode([["\u00e9\u20AC"]]))
    assert.equal("\u{1D11E}", json.decode([["\ud834\udd1e"]]))
    assert.equal("a\u{1F600}b", json.decode([["a\uD83D\uDE00b"]]))
    assert.equal("\u{1D11E}", json.decode('"\u{1D11E}"'))
  end)

  it("refuses broken escapes", function()
    assert.equal("json.decode: invalid JSON at byte 2", error_of(json.decode, [["\ud800"]]))
    assert.equal("json.decode: invalid JSON at byte 2", error_of(json.decode, [["\udc00"]]))
    assert.equal("json.decode: invalid JSON at byte 2", error_of(json.decode, [["\ud800\u0041"]]))
    assert.equal("json.decode: invalid JSON at byte 5", error_of(json.decode, [=[[1,"\q"]]=]))
  end)

  it("refuses \\u0000, which cJSON cannot keep, but not an escaped backslash before u0000", function()
    assert.equal("json.decode: \\u0000 in a string is not supported (byte 3)",
                 error_of(json.decode, [=[["\u0000"]]=]))
    assert.equal("json.decode: \\u0000 in a string is not supported (byte 5)",
                 error_of(json.decode, [=[["\\\u0000"]]=]))
    assert.equal("\\u0000", json.decode([["\\u0000"]]))
  end)

  it("refuses input that is not UTF-8, with its position", function()
    assert.equal("json.decode: invalid UTF-8 at byte 2", error_of(json.decode, '"\xff"'))
    assert.equal("json.decode: invalid UTF-8 at byte 10", error_of(json.decode, '["ok", "a\xed\xa0\x80"]'))
    assert.equal("json.decode: invalid UTF-8 at byte 3", error_of(json.decode, '["\xc0\xaf"]'))
  end)

  it("refuses NUL bytes anywhere", function()
    assert.equal("json.decode: invalid JSON at byte 3 (NUL byte)", error_of(json.decode, "[1\0]"))
    assert.equal("json.decode: invalid JSON at byte 3 (NUL byte)", error_of(json.decode, '"a\0b"'))
    assert.equal("json.decode: invalid JSON at byte 2 (NUL byte)", error_of(json.decode, "1\0"))
  end)

  it("refuses invalid JSON with the byte position", function()
    local cases = {
      {"", 1}, {"   ", 4}, {"tru", 1}, {"[1,2", 5}, {'{"a":}', 6}, {"[1,]", 4}, {"[1] x", 5},
      {"[1 2]", 4}, {"[1]]", 4}, {'{"a" 1}', 6}, {"[1,2,3", 7},
    }
    for _, c in ipairs(cases) do
      assert.equal("json.decode: invalid JSON at byte " .. c[2], error_of(json.decode, c[1]), c[1])
    end
  end)

  it("keeps nulls, so arrays keep their length and objects their keys", function()
    local a = json.decode("[1,null,3]")
    assert.equal(3, #a)
    assert.equal(json.null, a[2])
    assert.equal(3, a[3])
    local o = json.decode('{"a":null}')
    assert.equal(json.null, o.a)
  end)

  it("json.null is one distinct value", function()
    assert.equal("userdata", type(json.null))
    assert.is_true(rawequal(json.null, json.decode("null")))
    assert.is_true(rawequal(json.decode("[null]")[1], json.decode('{"x":null}').x))
  end)

  it("decodes nested structures", function()
    assert.same({a = {1, 2.5, "x", {b = {}}}, c = {}, d = false},
                json.decode(' { "a" : [ 1 , 2.5 , "x" , { "b" : [ ] } ] , "c" : { } , "d" : false } '))
  end)

  it("lets the last of duplicate keys win", function()
    assert.equal(2, json.decode('{"a":1,"a":2}').a)
  end)

  it("remembers whether an empty table was an array or an object", function()
    assert.equal("{}", json.encode(json.decode("{}")))
    assert.equal("[]", json.encode(json.decode("[]")))
    local t = json.decode('{"a":1}')
    t.a = nil
    assert.equal("{}", json.encode(t))
  end)

  it("decodes 1000 levels of nesting and refuses more with the position", function()
    local deep = string.rep("[", 1000) .. string.rep("]", 1000)
    local t = json.decode(deep)
    for _ = 1, 999 do t = t[1] end
    assert.same({}, t)
    assert.equal("json.decode: nesting deeper than 1000 at byte 1001",
                 error_of(json.decode, string.rep("[", 1001) .. string.rep("]", 1001)))
    local objects = json.decode(string.rep('{"a":[', 500) .. "1" .. string.rep("]}", 500))
    for _ = 1, 499 do objects = objects.a[1] end
    assert.same({a = {1}}, objects)
    assert.equal("json.decode: nesting deeper than 1000 at byte 3001",
                 error_of(json.decode, string.rep('{"a":[', 501) .. "1" .. string.rep("]}", 501)))
    -- brackets inside strings do not nest
    local quoted = '["' .. string.rep("[", 2000) .. '",' .. string.rep("[", 999) .. string.rep("]", 999) .. "]"
    assert.equal(string.rep("[", 2000), json.decode(quoted)[1])
  end)

  it("checks its argument", function()
    assert.equal("bad argument #1 to 'decode' (string expected, got nil)",
                 error_in(function() json.decode(nil) end))
    assert.equal("bad argument #1 to 'decode' (string expected, got table)",
                 error_in(function() json.decode({}) end))
    assert.equal("bad argument #1 to 'decode' (string expected, got no value)",
                 error_in(function() json.decode() end))
    assert.equal("bad argument #1 to 'array' (table expected, got string)",
                 error_in(function() json.array("x") end))
    assert.equal("bad argument #1 to 'object' (table expected, got no value)",
                 error_in(function() json.object() end))
  end)
end)

describe("glean.json round trips", function()
  it("decode then encode gives canonical JSON back", function()
    local canonical = '{"a":[1,-2,0.5,1e+300,"s\\n\\u0001\u{E9}",true,false,null,[],{}],' ..
                      '"b":{"":9223372036854775807,"x y":{"z":[[[]]]}},"c":-0.0}'
    assert.equal(canonical, json.encode(json.decode(canonical)))
  end)

  it("encode then decode gives the value back", function()
    local v = {
      name = "Caf\u{E9} \u{1F600}", price = 3.25, count = 12, big = math.mininteger,
      tags = {"a", "b", json.null, "d"}, nested = {{x = 1}, {y = {z = {}}}}, flag = false,
    }
    local back = json.decode(json.encode(v))
    assert.same(v, back)
    assert.equal("integer", math.type(back.count))
    assert.equal("float", math.type(back.price))
    assert.equal(json.encode(v), json.encode(back))
  end)
end)
