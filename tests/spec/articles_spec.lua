-- The example article-metadata adapter (examples/articles/articles.lua)
-- over its saved pages (examples/articles/site): each page on its own, the
-- field that page is there for checked, and the whole site through a local
-- HTTP server against examples/articles/EXPECTED.jsonl.
local support = require "support"

local DIR = "examples/articles"
local ADAPTER = DIR .. "/articles.lua"
local SITE = DIR .. "/site"
local ORIGIN = "https://articles.example"

local function by_url(records)
  table.sort(records, function(a, b) return a.url < b.url end)
  return records
end

-- The records of `glean run` (the adapter given, else the example's) from
-- the URLs given, only those (depth 0), with the site from mirror.
local function run(urls, mirror, adapter)
  local argv = {"run", adapter or ADAPTER, "--depth", "0", "--progress", "0", "--mirror", ORIGIN .. "=" .. (mirror or SITE)}
  for _, u in ipairs(urls) do argv[#argv + 1] = ORIGIN .. u end
  local code, out, err = support.run(argv)
  assert.equal(0, code, err)
  return by_url(support.records(out))
end

local function one(path) return run({path})[1] end

describe("the articles example", function()
  it("reads Open Graph and meta tags, unescaping what was escaped twice", function()
    local r = one("/harbour-times/2024/05/tide-tables.html")
    assert.equal("New tide tables for the estuary – what changes", r.title)
    assert.equal("Tides & currents: the harbour master’s new tables, explained.", r.description)
    assert.same({"tides", "estuary", "boating"}, r.tags)
    assert.equal("https://cdn.harbourtimes.example/img/tides-1200.jpg", r.image)
    assert.same({"Jane Doe", "Sam Lee"}, r.authors) -- rel=author links, not the dataLayer's "author"
  end)

  it("finds the Article in a JSON-LD @graph, with its list of authors and ImageObject", function()
    local r = one("/pixel-post/reviews/foldable-phone.html")
    assert.equal("Fold 3 review: the crease is gone", r.title)
    assert.same({"Priya Raman", "Tom Becker"}, r.authors)
    assert.equal("2024-03-02T09:00:00-08:00", r.published)
    assert.equal("https://pixelpost.example/wp-content/uploads/fold3.jpg", r.image)
    assert.same({"phones", "foldables", "reviews"}, r.tags)
  end)

  it("keeps an rtl Arabic page's text as written, with its direction", function()
    local r = one("/al-waha/culture/poetry-festival.html")
    assert.equal("مهرجان الشعر يعود إلى المدينة القديمة", r.title)
    assert.same({"ليلى حسن"}, r.authors)
    assert.equal("rtl", r.dir)
    assert.equal("ar", r.lang)
  end)

  it("decodes a windows-1251 page and reads its microdata byline", function()
    local bytes = support.slurp(SITE .. "/vecherny/city/tram-line.html")
    assert.is_nil(utf8.len(bytes)) -- the saved page is not UTF-8
    local r = one("/vecherny/city/tram-line.html")
    assert.equal("Новая трамвайная линия откроется осенью", r.title)
    assert.same({"Иван Петров"}, r.authors)
    assert.equal("2024-02-11T10:15:00+03:00", r.published)
    assert.same({"транспорт", "трамвай", "город"}, r.tags)
  end)

  it("decodes a page whose charset lies as what it is, through the rule's charset", function()
    local r = one("/dragon-daily/tech/chip-plant.html")
    assert.equal("新芯片工厂在深圳投产", r.title)
    assert.same({"王小明"}, r.authors)
    -- Without the rule's charset the page is read as the gb2312 it says it is.
    local source = support.slurp(ADAPTER):gsub('charset = "utf%-8", ', "")
    local dir = support.tempdir()
    local plain = support.write(dir, "articles.lua", source)
    local garbled = run({"/dragon-daily/tech/chip-plant.html"}, nil, plain)[1]
    os.execute("rm -rf " .. support.quote(dir))
    assert.not_equal(r.title, garbled.title)
    assert.is_nil(garbled.title:find("芯片", 1, true))
  end)

  it("falls back to the byline and <time> when a page's JSON-LD is broken", function()
    local r = one("/quiet-notes/2023/on-walking.html")
    assert.equal("On walking", r.title)
    assert.same({"Ana Sousa"}, r.authors)
    assert.equal("2023-10-08", r.published)
    assert.same({"walking", "cities"}, r.tags)
    assert.is_nil(r.image)
  end)

  it("emits EXPECTED.jsonl crawling the site through a local HTTP server", function()
    local server = support.serve_dir(SITE)
    local argv = {"run", ADAPTER, "--progress", "0", "--mirror", ORIGIN .. "=" .. server.base}
    local code, out, err = support.run(argv)
    server.stop()
    assert.equal(0, code, err)
    assert.same(by_url(support.records(support.slurp(DIR .. "/EXPECTED.jsonl"))), by_url(support.records(out)))
  end)
end)
