-- The Coins2Day adapter (sites/coins2day.lua) over the saved site in
-- tests/fixtures/coins2day/site: each article page alone against its line
-- of EXPECTED.jsonl, every other page, the whole crawl (from a directory and
-- from a local HTTP server that logs every request), the windows-1252 page,
-- and markup variants made from the saved pages (other bylines, no eyebrow,
-- every "Read:" form next to look-alike body paragraphs, ads, asides,
-- captions, a non-article at an article URL).
local glean = require "glean"
local support = require "support"
local cli = require "glean.cli"
local crawl = require "glean.crawl"

local SITE = "tests/fixtures/coins2day/site"
local ORIGIN = "https://coins2day.com"
local ADAPTER = "sites/coins2day.lua"
local MIRROR = ORIGIN .. "=" .. SITE

local function shell(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

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

local function by_url(records)
  table.sort(records, function(a, b) return a.url < b.url end)
  return records
end

-- `glean run` with the adapter; returns exit code, records, stderr.
local function run(args)
  local argv = {"run", ADAPTER, "--progress", "0"}
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local code, out, err = support.run(argv)
  return code, decode_all(out), err
end

-- Compares a record with the expected one field by field, naming the field.
local function assert_record(want, got)
  local keys = {}
  for k in pairs(want) do keys[k] = true end
  for k in pairs(got) do keys[k] = true end
  for k in pairs(keys) do
    assert.same(want[k], got[k], ("%s: field '%s' differs"):format(want.url or got.url, k))
  end
end

-- Every saved page: its URL path ("/", "/section/tech/", ...).
local PAGES = {}
for _, file in ipairs(lines(shell("cd " .. SITE .. " && find . -name index.html | sort"))) do
  PAGES[#PAGES + 1] = file:gsub("^%.", ""):gsub("index%.html$", "")
end
local function is_article(path) return path:find("^/%d%d%d%d/%d%d/%d%d/[^/]+/$") ~= nil end

local EXPECTED = decode_all(support.slurp(SITE .. "/EXPECTED.jsonl"))

-- Runs a crawl in this process with the given adapter and options, records
-- collected instead of printed; returns records, stats.
local function crawl_here(adapter, options)
  local records, emit = {}, glean.emit
  glean.emit = function(r) records[#records + 1] = glean.json.decode(glean.json.encode(r)) end
  glean.log.set_level("error")
  options.progress = 0
  local ok, stats = pcall(glean.crawl, adapter, options)
  glean.emit = emit
  glean.log.set_level("info")
  assert(ok, stats)
  return records, stats
end

describe("coins2day adapter", function()
  it("has one EXPECTED.jsonl line per saved article page, sorted by url", function()
    local articles = {}
    for _, path in ipairs(PAGES) do
      if is_article(path) then articles[#articles + 1] = ORIGIN .. path end
    end
    assert.equal(13, #articles)
    local urls = {}
    for i, r in ipairs(EXPECTED) do urls[i] = r.url end
    assert.same(articles, urls)
  end)

  describe("on each article page alone (--depth 0)", function()
    for _, want in ipairs(EXPECTED) do
      it(want.url:gsub("^https://coins2day%.com", ""), function()
        local code, records, err = run({want.url, "--depth", "0", "--mirror", MIRROR})
        assert.equal(0, code, err)
        assert.equal(1, #records, err)
        assert_record(want, records[1])
      end)
    end

    it("takes the tracking query off the page URL", function()
      local want = EXPECTED[3]
      local code, records, err = run({want.url .. "?utm_source=x&utm_medium=y", "--depth", "0", "--mirror", MIRROR})
      assert.equal(0, code, err)
      assert.equal(1, #records)
      assert_record(want, records[1])
    end)
  end)

  describe("on every other page", function()
    local others = {}
    for _, path in ipairs(PAGES) do
      if not is_article(path) then others[#others + 1] = ORIGIN .. path end
    end

    it("covers the home page, sections and their pages, authors, companies, rankings, static pages", function()
      local seen = {}
      for _, url in ipairs(others) do seen[url] = true end
      for _, path in ipairs({"/", "/section/tech/", "/section/tech/page/2/", "/author/natasha-bach/", "/company/alibaba-group/",
                             "/ranking/coins2day-500/", "/rankings/", "/faq/", "/newsletters/", "/search/"}) do
        assert.truthy(seen[ORIGIN .. path], path)
      end
      assert.equal(#PAGES - 13, #others)
    end)

    for _, url in ipairs(others) do
      it("yields no record: " .. url:gsub("^https://coins2day%.com", ""), function()
        local code, records, err = run({url, "--depth", "0", "--mirror", MIRROR})
        assert.equal(0, code, err)
        assert.equal(0, #records, url)
      end)
    end

    -- The article rule's parse function itself, given every page (a rule
    -- matching any path): only articles make records, and the others are
    -- turned down by what they are, not by their URLs and not by an error.
    it("are not taken for articles by the article parser, even under a rule that matches them", function()
      local adapter = assert(cli.load_adapter(ADAPTER))
      local rule = crawl.rule_for(adapter, EXPECTED[1].url)
      assert.is_function(rule.parse)
      local probe = {name = "probe", pages = {{match = function() return true end, parse = rule.parse}}}
      local records, stats = crawl_here(probe, {urls = others, depth = 0, robots = false, mirrors = {MIRROR}})
      assert.equal(#others, stats.pages)
      assert.equal(0, stats.failed)
      assert.same({}, records)
      -- the same probe does make records of articles
      records, stats = crawl_here(probe, {urls = {EXPECTED[1].url, EXPECTED[2].url}, depth = 0, mirrors = {MIRROR}})
      assert.equal(0, stats.failed)
      assert.equal(2, #records)
    end)
  end)

  describe("crawling the whole site from the home page", function()
    it("emits exactly EXPECTED.jsonl, fetching each page it wants once", function()
      local stats_file = os.tmpname()
      local code, records, err = run({"--mirror", MIRROR, "--stats", stats_file})
      local stats = glean.json.decode(support.slurp(stats_file))
      os.remove(stats_file)
      assert.equal(0, code, err)
      by_url(records)
      assert.equal(#EXPECTED, #records)
      for i, want in ipairs(EXPECTED) do assert_record(want, records[i]) end
      -- the pages a rule wants: home, listings, articles (not /search/)
      local adapter = assert(cli.load_adapter(ADAPTER))
      local wanted = 0
      for _, path in ipairs(PAGES) do
        if crawl.rule_for(adapter, ORIGIN .. path) then wanted = wanted + 1 end
      end
      assert.equal(38, wanted)
      assert.equal(wanted, stats.pages)
      assert.equal(wanted + 1, stats.requests) -- and robots.txt
      assert.equal(0, stats.failed)
      assert.equal(13, stats.records)
    end)

    describe("through a local HTTP server", function()
      local server
      setup(function() server = support.serve_dir(SITE) end)
      teardown(function() server.stop() end)

      it("requests every article once, robots.txt once, never /search/", function()
        local code, records, err = run({"--mirror", ORIGIN .. "=" .. server.base})
        assert.equal(0, code, err)
        by_url(records)
        assert.equal(#EXPECTED, #records)
        for i, want in ipairs(EXPECTED) do assert_record(want, records[i]) end
        local count = {}
        for _, path in ipairs(server.requests()) do count[path] = (count[path] or 0) + 1 end
        for _, want in ipairs(EXPECTED) do
          local path = want.url:gsub("^https://coins2day%.com", "")
          assert.equal(1, count[path], path)
        end
        assert.equal(1, count["/robots.txt"])
        for path, n in pairs(count) do
          assert.is_nil(path:find("^/search/"), path)
          assert.is_nil(path:find("^/api/"), path)
          assert.equal(1, n, path)
        end
      end)

      it("obeys robots.txt: /search/ is not fetched even when a rule wants it", function()
        local before = #server.requests()
        local adapter = assert(cli.load_adapter(ADAPTER))
        table.insert(adapter.pages, 1, {path = "^/search/", parse = function() return {search = true} end})
        local records, stats = crawl_here(adapter, {urls = {ORIGIN .. "/", ORIGIN .. "/search/"}, depth = 1,
                                                    mirrors = {ORIGIN .. "=" .. server.base}})
        assert.equal(0, stats.failed)
        assert.is_true(stats.robots_skipped >= 1)
        for _, r in ipairs(records) do assert.is_nil(r.search) end
        local requests = server.requests()
        assert.is_true(#requests > before)
        for i = before + 1, #requests do assert.is_nil(requests[i]:find("^/search/"), requests[i]) end
      end)
    end)
  end)

  describe("the windows-1252 legacy page", function()
    local path = "/2017/01/13/jack-ma-alibaba-global-retail-empire/"

    it("is stored as windows-1252 bytes, declared only by <meta http-equiv>", function()
      local bytes = support.slurp(SITE .. path .. "index.html")
      assert.truthy(bytes:find("\x92", 1, true)) -- ’
      assert.truthy(bytes:find("\x93", 1, true)) -- “
      assert.falsy(bytes:find("\u{2019}", 1, true))
      assert.falsy(utf8.len(bytes))
      assert.truthy(bytes:find('http-equiv="Content-Type" content="text/html; charset=windows-1252"', 1, true))
    end)

    it("decodes names and quotes", function()
      local code, records, err = run({ORIGIN .. path, "--depth", "0", "--mirror", MIRROR})
      assert.equal(0, code, err)
      local r = records[1]
      assert.same({"Ana Sofía Núñez"}, r.authors)
      assert.equal("How Alibaba’s Jack Ma Is Building a Truly Global Retail Empire", r.title)
      local body = table.concat(r.body, "\n")
      assert.truthy(body:find("as a “bridge” for", 1, true))
      assert.truthy(body:find("delivering—in one form", 1, true))
      assert.truthy(body:find("Zürich, a café", 1, true))
      assert.truthy(body:find("company’s biggest", 1, true))
      assert.falsy(glean.json.encode(r):find("\u{FFFD}", 1, true))
      assert.equal("2017-01-13T07:30:00-05:00", r.published)
      assert.equal("2017-01-13T11:05:00-05:00", r.updated)
    end)
  end)

  describe("on markup variants of the saved pages", function()
    local dir
    local function page(path, html)
      os.execute("mkdir -p " .. support.quote(dir .. path))
      local f = assert(io.open(dir .. path .. "index.html", "wb"))
      f:write(html)
      f:close()
    end
    -- string.gsub with a plain replacement (no % escapes), exactly once
    local function replace(html, pattern, text)
      local out, n = html:gsub(pattern, function(...)
        local caps = {...}
        return (text:gsub("%$(%d)", function(i) return caps[tonumber(i)] end))
      end)
      assert(n == 1, "variant: pattern not found once: " .. pattern)
      return out
    end
    local function author(slug, name, card)
      return ('<div class="authorDropdown_author__BY2UP" data-cy="byline-author"><a class="authorDropdown_name__svLRx" href="/author/%s/" data-cy="author-link">%s</a>'
        .. '<div class="authorDropdown_card__7WsqQ" role="tooltip" data-cy="author-card"><span class="authorDropdown_cardName__Cerin">%s</span></div>'
        .. '<button type="button"><img src="/icons/down-arrow.svg" alt="Down Arrow Button Icon"></button></div>'):format(slug, name, card or name)
    end
    local function staff(name)
      return '<span class="byline_name__AW9Tf byline_staff__Y9fOX" data-cy="author-name">' .. name .. '</span>'
    end
    local function sep(s) return ' <span class="byline_separator__PkDlz">' .. s .. '</span> ' end
    local function bylines(inner)
      return '<div class="byline_root__D4RbK byline_desktop__j9TKs" data-cy="byline-desktop"><span class="byline_prefix__IA57d">By</span> ' .. inner .. '</div>'
        .. '<div class="byline_root__D4RbK byline_mobile__67H0E" data-cy="byline-mobile"><span class="byline_prefix__IA57d">By</span> ' .. inner .. '</div>'
    end
    local AD = '<div class="adSlot_wrapper__a5RIx adSlot_inContent__eAJa9" data-cy="ad-slot" data-ad-slot="InContent_1" id="InContent_1-wrapper">'
      .. '<p class="adSlot_label__71Wb8">Advertisement</p><div class="adSlot_slot__hbGPJ" id="InContent_1" style="min-height:250px"></div></div>'
    local PROMO = '<aside class="newsletterPromo_container__NT3ce" data-cy="newsletter-promo" aria-label="Newsletter sign-up"><div class="newsletterPromo_copy__0aBeq">'
      .. '<p class="newsletterPromo_eyebrow__oWwAz">Newsletter</p><h2>Coins2Day Daily</h2><p class="newsletterPromo_text__xHNhG">The day&rsquo;s stories.</p></div>'
      .. '<a class="newsletterPromo_cta__6XOAE" href="https://subscribe.coins2daymedia.com/newsletters/?list=daily">Sign up</a>'
      .. '<p class="newsletterPromo_legal__XuYwe">By signing up you agree to our <a href="/privacy-policy/">Privacy Policy</a>.</p></aside>'
    local FIGURE = '<figure class="wp-block-image size-large articleImage_figure__SOMq3" data-cy="inline-image"><img src="https://content.c2dstatic.com/x.jpg" alt="A view">'
      .. '<figcaption class="articleImage_caption__sl5kr">A view of the plant. <span class="articleImage_credit__inXYM">Coins2Day Images</span></figcaption></figure>'

    local STANDARD = "/2030/03/09/variant-standard/"
    local LEGACY = "/2030/03/10/variant-legacy/"
    local NOT_ARTICLE = "/2030/03/11/variant-ranking/"

    setup(function()
      dir = os.tmpname()
      os.remove(dir)
      local std = support.slurp(SITE .. "/2024/07/18/harlow-and-finch-agrees-to-buy-atelier-kettering-for-15-6-billion-in-its/index.html")
      std = replace(std, '<a [^>]-data%-cy="article%-eyebrow">.-</a>', "")
      std = replace(std, '<div class="byline_root.-(<div class="shareBar_root)', bylines(
          author("jane-q-public", "Jane Q. Public") .. sep(",")
          .. author("ana-sofia-nunez", "Ana Sof&#237;a N&#250;&#241;ez", "Ana Sof&iacute;a N&uacute;&ntilde;ez") .. sep(",")
          .. staff("Coins2Day Staff") .. sep(", and") .. author("marcus-oyelaran", "Marcus Oyelaran"))
        .. '<div class="articleDate_date__dN9cH" data-cy="article-date"><time datetime="2030-03-09T05:05:00.000Z">March 9, 2030, 12:05 AM ET</time></div>'
        .. '<div class="articleDate_updated__8ZmYq" data-cy="article-updated"><span class="articleDate_label__SYhHp">Updated</span> <time datetime="2030-03-10T19:15:00.000Z">March 10, 2030, 3:15 PM ET</time></div>'
        .. '</div>$1')
      std = replace(std, '(data%-cy="article%-content">).-(</div>%s*<section class="authorBio)', "$1"
        .. '<p>First, with <a href="/company/harlow-and-finch/">a link</a> and <em>emphasis</em>.</p>'
        .. '<p>&nbsp;</p><p></p>' .. AD
        .. '<p>Read: <a href="/2017/08/04/alibaba-kering-lawsuit/?utm_source=article&amp;utm_medium=read-link#top">Plain &amp; simple</a></p>'
        .. '<p><strong>Read: <a href="http://coins2day.com/2017/07/05/alibaba-smart-speaker-tmall-genie/">All in bold</a></strong></p>'
        .. '<p><strong>Read:</strong> <a href="https://coins2day.com/2021/05/03/crypto-traders-brace-for-the-bitcoin-halving/?id=3">Label in bold</a></p>'
        .. '<p>Readers wrote in by the hundreds; <a href="/section/tech/">see the letters</a>.</p>'
        .. '<p>Read: the full statement, and <a href="/section/finance/">the filing</a>, below.</p>'
        .. '<p>The sign on the door read: <a href="/section/retail/">Closed</a></p>'
        .. '<h2 class="wp-block-heading">A subheading</h2>'
        .. '<h3>A smaller heading</h3><ul><li>One item</li><li><p>An item in a paragraph</p></li></ul>'
        .. '<blockquote><p>A quoted paragraph.</p></blockquote><blockquote>A bare quote.</blockquote>'
        .. PROMO .. FIGURE .. AD
        .. '<div class="newsletterPromo_container__NT3ce" data-cy="newsletter-promo"><p>Get the newsletter.</p></div>'
        .. '<p class="adSlot_label__71Wb8">Advertisement</p>'
        .. '<p>Last&nbsp;&nbsp;paragraph\n  with   spaces.</p>$2')
      local legacy = support.slurp(SITE .. "/2017/07/05/alibaba-smart-speaker-tmall-genie/index.html")
      legacy = replace(legacy, '<div class="byline_root.-(<div class="shareBar_root)', bylines(staff("Coins2Day Staff"))
        .. '<div class="articleDate_date__dN9cH articleDate_legacy__NfjrN" data-cy="article-date">March 10, 2030, 2:00 PM ET</div>'
        .. '<div class="articleDate_updated__8ZmYq" data-cy="article-updated">Updated March 11, 2030, 9:00 AM ET</div></div>$1')
      legacy = replace(legacy, '(data%-cy="article%-content">).-(</div>%s*<section class="authorBio)', "$1"
        .. '\n<p>It&#8217;s the first paragraph.</p>\n'
        .. '<div id="attachment_1" style="width: 680px" class="wp-caption aligncenter"><img src="https://content.c2dstatic.com/y.jpg" alt="">'
        .. '<p class="wp-caption-text">A caption in a box. Photo: Coins2Day Images</p></div>\n'
        .. '<p class="wp-caption-text">A caption on its own.</p>\n'
        .. '<div class="adSlot_legacy__GkVsv ad-unit" id="ad-inline-1" data-ad-slot="InContent_1" aria-hidden="true"></div>\n'
        .. '<p>Read: \n<a href="http://coins2day.com/2017/01/13/jack-ma-alibaba-global-retail-empire/">How Alibaba&#8217;s Jack Ma Is Building a Truly Global Retail Empire</a></p>\n'
        .. '<h2 class="wp-block-heading">Heading &#8220;quoted&#8221;</h2>\n'
        .. '<p>Reading the filing, analysts said <a href="/section/tech/">more</a>.</p>\n'
        .. '<p><strong>Read: \n<a href="/2017/08/04/alibaba-kering-lawsuit/?utm_source=x">Alibaba Is One Step Closer</a></strong></p>\n'
        .. '<p>The end.</p>\n$2')
      page(STANDARD, std)
      page(LEGACY, legacy)
      page(NOT_ARTICLE, support.slurp(SITE .. "/ranking/coins2day-500/index.html"))
    end)
    teardown(function() os.execute("rm -rf " .. support.quote(dir)) end)

    local function one(path)
      local code, records, err = run({ORIGIN .. path, "--depth", "0", "--mirror", ORIGIN .. "=" .. dir})
      assert.equal(0, code, err)
      assert.equal(1, #records, err)
      return records[1]
    end

    it("current template: no eyebrow, four authors (staff among them), every Read: form, lists and quotes, ads, promo, figure", function()
      assert_record({
        url = ORIGIN .. STANDARD,
        title = "Harlow & Finch agrees to buy Atelier Kettering for $15.6 billion in its biggest deal yet",
        topic = glean.json.null,
        section = "Finance",
        authors = {"Jane Q. Public", "Ana Sofía Núñez", "Coins2Day Staff", "Marcus Oyelaran"},
        published = "2030-03-09T00:05:00-05:00",
        updated = "2030-03-10T15:15:00-04:00",
        body = {
          "First, with a link and emphasis.",
          "Readers wrote in by the hundreds; see the letters.",
          "Read: the full statement, and the filing, below.",
          "The sign on the door read: Closed",
          "A subheading",
          "A smaller heading",
          "One item",
          "An item in a paragraph",
          "A quoted paragraph.",
          "A bare quote.",
          "Last paragraph with spaces.",
        },
        related = {
          {title = "Plain & simple", url = ORIGIN .. "/2017/08/04/alibaba-kering-lawsuit/"},
          {title = "All in bold", url = ORIGIN .. "/2017/07/05/alibaba-smart-speaker-tmall-genie/"},
          {title = "Label in bold", url = ORIGIN .. "/2021/05/03/crypto-traders-brace-for-the-bitcoin-halving/"},
        },
      }, one(STANDARD))
    end)

    it("legacy template: staff byline, bare Updated line, captions in and out of boxes, empty ad slots", function()
      assert_record({
        url = ORIGIN .. LEGACY,
        title = "Alibaba Debuts a Smart Home Speaker Similar to Amazon’s Echo",
        topic = "Alibaba Group",
        section = "Tech",
        authors = {"Coins2Day Staff"},
        published = "2030-03-10T14:00:00-04:00",
        updated = "2030-03-11T09:00:00-04:00",
        body = {"It’s the first paragraph.", "Heading “quoted”", "Reading the filing, analysts said more.", "The end."},
        related = {
          {title = "How Alibaba’s Jack Ma Is Building a Truly Global Retail Empire", url = ORIGIN .. "/2017/01/13/jack-ma-alibaba-global-retail-empire/"},
          {title = "Alibaba Is One Step Closer", url = ORIGIN .. "/2017/08/04/alibaba-kering-lawsuit/"},
        },
      }, one(LEGACY))
    end)

    it("a ranking page at an article URL yields no record and no error", function()
      local code, records, err = run({ORIGIN .. NOT_ARTICLE, "--depth", "0", "--mirror", ORIGIN .. "=" .. dir})
      assert.equal(0, code, err)
      assert.equal(0, #records)
    end)
  end)
end)
