-- The example product-catalogue adapter (examples/catalog/catalog.lua) over
-- its saved shop (examples/catalog/site): crawled from a directory and from
-- a local HTTP server, compared with examples/catalog/EXPECTED.jsonl.
local glean = require "glean"
local support = require "support"

local DIR = "examples/catalog"
local ADAPTER = DIR .. "/catalog.lua"
local SITE = DIR .. "/site"
local ORIGIN = "https://larkspur.example"

local function lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

local function decode_all(text)
  local out = {}
  for i, line in ipairs(lines(text)) do out[i] = glean.json.decode(line) end
  return out
end

local EXPECTED = decode_all(support.slurp(DIR .. "/EXPECTED.jsonl"))

-- `glean run` with the adapter; returns exit code, records sorted by url,
-- stats, stderr.
local function run(args)
  local stats_file = os.tmpname()
  local argv = {"run", ADAPTER, "--progress", "0", "--stats", stats_file}
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local code, out, err = support.run(argv)
  local stats = glean.json.decode(support.slurp(stats_file))
  os.remove(stats_file)
  local records = decode_all(out)
  table.sort(records, function(a, b) return a.url < b.url end)
  return code, records, stats, err
end

local function assert_records(want, got)
  assert.equal(#want, #got, "number of records")
  for i, w in ipairs(want) do
    local keys = {}
    for k in pairs(w) do keys[k] = true end
    for k in pairs(got[i]) do keys[k] = true end
    for k in pairs(keys) do
      assert.same(w[k], got[i][k], ("%s: field '%s' differs"):format(w.url, k))
    end
  end
end

describe("catalog example adapter", function()
  it("has an expected record for each of the 12 saved product pages", function()
    local p = assert(io.popen("cd " .. SITE .. " && ls -d product/*/"))
    local products = lines(p:read("a"))
    p:close()
    assert.equal(12, #products)
    assert.equal(12, #EXPECTED)
    for i, r in ipairs(EXPECTED) do
      assert.truthy(support.slurp(SITE .. r.url:sub(#ORIGIN + 1) .. "index.html"), r.url)
      if i > 1 then assert.is_true(EXPECTED[i - 1].url < r.url, "EXPECTED.jsonl is sorted by url") end
    end
  end)

  it("crawls the saved shop from a directory: every product once, as expected", function()
    local code, records, stats, err = run({"--mirror", ORIGIN .. "=" .. SITE})
    assert.equal(0, code, err)
    assert_records(EXPECTED, records)
    assert.equal(3 + 12, stats.pages) -- three listing pages, twelve products
    assert.equal(12, stats.records)
    assert.equal(1, stats.robots_skipped) -- /product/gift-card/
    assert.equal(0, stats.failed)
  end)

  it("makes every image URL absolute", function()
    local n = 0
    for _, r in ipairs(EXPECTED) do
      for _, url in ipairs(r.images) do
        n = n + 1
        assert.matches("^https://", url)
      end
    end
    assert.is_true(n > 12)
  end)

  it("reads one product page alone with --depth 0", function()
    local want = EXPECTED[1]
    local code, records, stats, err = run({want.url, "--depth", "0", "--mirror", ORIGIN .. "=" .. SITE})
    assert.equal(0, code, err)
    assert_records({want}, records)
    assert.equal(1, stats.pages)
  end)

  it("makes no record of a listing page", function()
    local code, records, stats, err = run({ORIGIN .. "/products/page/2/", "--depth", "0", "--mirror", ORIGIN .. "=" .. SITE})
    assert.equal(0, code, err)
    assert.same({}, records)
    assert.equal(1, stats.pages)
  end)

  describe("through a local HTTP server", function()
    local server
    setup(function() server = support.serve_dir(SITE) end)
    teardown(function() server.stop() end)

    it("emits the same records, requesting each page once and nothing robots.txt disallows", function()
      local code, records, stats, err = run({"--mirror", ORIGIN .. "=" .. server.base})
      assert.equal(0, code, err)
      assert_records(EXPECTED, records)
      local count = {}
      for _, path in ipairs(server.requests()) do count[path] = (count[path] or 0) + 1 end
      assert.equal(1, count["/robots.txt"])
      assert.equal(1, count["/products/"])
      assert.equal(1, count["/products/page/3/"])
      for _, r in ipairs(EXPECTED) do
        local path = r.url:sub(#ORIGIN + 1)
        assert.equal(1, count[path], path)
      end
      for path, n in pairs(count) do
        assert.equal(1, n, path)
        assert.is_nil(path:find("^/product/gift%-card/"), path)
        assert.is_nil(path:find("^/cart/"), path)
        assert.is_nil(path:find("^/search/"), path)
      end
      assert.equal(16, stats.requests) -- robots.txt, 3 listings, 12 products
    end)
  end)
end)
