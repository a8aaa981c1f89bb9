-- A page's metadata: doc:meta(), doc:json_ld(), glean.text.unescape, and
-- decoding a page again in another charset (page:doc{charset=}, a rule's
-- charset option).
local glean = require "glean"
local support = require "support"

describe("glean.text.unescape", function()
  it("decodes as Python's html.unescape does", function()
    local cases = {"&amp;nbsp;", "caf&eacute", "&ampx &notit; &notin;", "&#8217;&#x2019;&#X41", "&#0;&#128;&#x9d;&#1;",
      "&#xD800;&#x110000;&#99999999999999999999;", "&#;&#x;& &;", "&CounterClockwiseContourIntegral;", "&nLt;",
      "Tom &amp Jerry", "&bogus; &AMP; &Amp;", "é&ampé", "no references"}
    local file = support.tempfile(glean.json.encode(cases))
    local want = glean.json.decode(support.capture(("python3 -c %s %s"):format(support.quote(
      "import html, json, sys; print(json.dumps([html.unescape(s) for s in json.load(open(sys.argv[1]))]))"),
      support.quote(file))))
    os.remove(file)
    for i, s in ipairs(cases) do assert.equal(want[i], glean.text.unescape(s)) end
    assert.equal("a\u{A0}b", glean.text.unescape("a&nbsp;b"))
  end)

  it("names what it wanted", function()
    local ok, err = pcall(function() return glean.text.unescape({}) end)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'unescape' %(string expected, got table%)", err)
  end)
end)

describe("doc:meta()", function()
  local doc = glean.html([[<html><head>
    <meta name="Description" content="The &amp;nbsp; summary">
    <meta name="description" content="a second one">
    <meta property="og:image" content="https://x.test/a.jpg">
    <meta property="og:image" content="https://x.test/b.jpg">
    <meta property="og:title article:section" content="Both">
    <meta property="OG:Type" content="article">
    <meta itemprop="datePublished" content="2024-05-06">
    <meta HTTP-EQUIV="Content-Language" content="fr">
    <meta name="author" property="article:author" content="Ana">
    <meta name="keywords">
    <meta charset="utf-8">
  </head><body><meta itemprop="author" content="Body Meta"></body></html>]])

  it("keeps name, property, itemprop and http-equiv apart", function()
    local m = doc:meta()
    assert.equal("Ana", m.name.author)
    assert.equal("Ana", m.property["article:author"])
    assert.is_nil(m.name["article:author"])
    assert.equal("2024-05-06", m.itemprop.datePublished)
    assert.equal("Body Meta", m.itemprop.author)
    assert.equal("fr", m.http_equiv["content-language"])
  end)

  it("compares name and http-equiv keys case-insensitively, not property", function()
    local m = doc:meta()
    assert.equal("The &nbsp; summary", m.name.description)
    assert.is_nil(m.property["og:type"])
    assert.equal("article", m.property["OG:Type"])
  end)

  it("gives the first content of a key, and all of them under all", function()
    local m = doc:meta()
    assert.equal("https://x.test/a.jpg", m.property["og:image"])
    assert.same({"https://x.test/a.jpg", "https://x.test/b.jpg"}, m.all.property["og:image"])
    assert.same({"The &nbsp; summary", "a second one"}, m.all.name.description)
  end)

  it("splits a property or itemprop holding several keys, and leaves out metas without content", function()
    local m = doc:meta()
    assert.equal("Both", m.property["og:title"])
    assert.equal("Both", m.property["article:section"])
    assert.is_nil(m.name.keywords)
  end)

  it("gives empty tables for a page without metas", function()
    assert.same({name = {}, property = {}, itemprop = {}, http_equiv = {},
                 all = {name = {}, property = {}, itemprop = {}, http_equiv = {}}}, glean.html("<p>x"):meta())
  end)
end)

describe("doc:json_ld()", function()
  local function ld(...)
    local html = {}
    for i, block in ipairs({...}) do html[i] = '<script type="application/ld+json">' .. block .. "</script>" end
    return glean.html("<html><head>" .. table.concat(html) .. "</head><body></body></html>")
  end

  local function headlines(objects)
    local out = {}
    for i, o in ipairs(objects) do out[i] = o.headline or o.name end
    return out
  end

  it("decodes blocks wrapped in CDATA or a comment, with a trailing semicolon", function()
    local doc = ld('\n//<![CDATA[\n{"@type": "Article", "headline": "cdata"};\n//]]>\n',
                   '<!-- {"@type": "Article", "headline": "comment"} -->',
                   '/*<![CDATA[*/ {"@type": "Article", "headline": "c-style"} /*]]>*/',
                   '  {"@type": "Article", "headline": "semicolon"} ; ')
    local objects, problems = doc:json_ld()
    assert.same({"cdata", "comment", "c-style", "semicolon"}, headlines(objects))
    assert.same({}, problems)
  end)

  it("opens arrays, @graph lists and several objects in one block", function()
    local doc = ld('[{"@type": "WebSite", "name": "site"}, {"@type": "Article", "headline": "listed"}]',
                   '{"@context": "https://schema.org", "@graph": [{"@type": "Organization", "name": "org"},' ..
                   ' {"@type": ["NewsArticle", "ReportageNewsArticle"], "headline": "graphed", "author": {"@type": "Person", "name": "Jo"}}]}',
                   '{"@type": "Person", "name": "one"}\n{"@type": "Person", "name": "two"},{"@type": "Person", "name": "}{ three"}')
    local objects = doc:json_ld()
    assert.same({"site", "listed", "org", "graphed", "one", "two", "}{ three"}, headlines(objects))
    assert.equal("Jo", objects[4].author.name)
  end)

  it("finds objects by @type, among lists of types and schema.org URLs", function()
    local doc = ld('{"@graph": [{"@type": "BlogPosting", "headline": "blog"}, {"@type": "WebPage", "name": "page"},' ..
                   ' {"@type": "https://schema.org/NewsArticle", "headline": "url-typed"},' ..
                   ' {"@type": ["Thing", "Article"], "headline": "listed"}, {"name": "untyped"}]}')
    assert.same({"blog", "url-typed", "listed"}, headlines(doc:json_ld{type = {"Article", "NewsArticle", "BlogPosting"}}))
    assert.same({"page"}, headlines(doc:json_ld{type = "WebPage"}))
    assert.same({}, doc:json_ld{type = "Recipe"})
  end)

  it("skips a broken block with its reason, keeping the others", function()
    local doc = ld('{"@type": "Article", "headline": "first"}', '{"@type": "Article", headline: broken}', '',
                   '{"@type": "Article", "headline": "third"}')
    local objects, problems = doc:json_ld()
    assert.same({"first", "third"}, headlines(objects))
    assert.same({{block = 2, error = "json.decode: invalid JSON at byte 23"}, {block = 3, error = "empty"}}, problems)
  end)

  it("reads only application/ld+json scripts, whatever the type's case", function()
    local doc = glean.html('<script type="Application/LD+JSON ">{"name": "kept"}</script>' ..
                           '<script type="application/json">{"name": "other"}</script><script>var x = 1</script>')
    assert.same({"kept"}, headlines(doc:json_ld()))
  end)

  it("unwraps a block in time linear in its white space, inside an adapter's time budget", function()
    local server = support.server()
    local code, out, err, dir = support.run_adapter(([[
      local glean = require "glean"
      local gap = (" "):rep(100000)
      local html = '<script type="application/ld+json">' .. gap .. '<!--' .. gap .. '{"@type": "Article",' .. gap ..
                   '"headline": "padded"}' .. gap .. ';' .. gap .. '--></script>'
      return {start_urls = {%q}, pages = {{path = "^/hello", parse = function(page)
        return {headline = glean.html(html):json_ld()[1].headline}
      end}}}]]):format(server:url("/hello")))
    server:stop()
    os.execute("rm -rf " .. support.quote(dir))
    assert.equal(0, code, err)
    assert.same({{headline = "padded"}}, support.records(out))
  end)

  it("names a bad option", function()
    local ok, err = pcall(function() return ld("{}"):json_ld{type = 5} end)
    assert.is_false(ok)
    assert.matches("bad option 'type' to 'json_ld' %(string or list of strings expected, got number%)", err)
  end)
end)

describe("decoding a page in another charset", function()
  local server, dir
  setup(function()
    server = support.server()
    dir = support.tempdir()
  end)
  teardown(function()
    server:stop()
    os.execute("rm -rf " .. support.quote(dir))
  end)

  local function crawl(rule_options)
    local adapter = support.write(dir, "adapter.lua", ([[
      return {
        start_urls = {%q},
        pages = {{path = "^/charset/", %s parse = function(page)
          return {announced = page.response.charset, charset = page:doc().charset, text = page:text("p"),
                  utf8 = page:doc{charset = "utf-8"}:select_one("p"):text(), body = #page.response.body}
        end}},
      }]]):format(server:url("/charset/mislabeled"), rule_options))
    return support.run_crawl({adapter})
  end

  it("page:doc{charset=} decodes the raw body again; a rule's charset makes it the page's document", function()
    local code, records, err = crawl("")
    assert.equal(0, code, err)
    assert.same({{announced = "ISO-8859-1", charset = "windows-1252", text = "cafÃ©", utf8 = "café", body = 12}}, records)
    code, records, err = crawl('charset = "utf8",')
    assert.equal(0, code, err)
    assert.same({{announced = "ISO-8859-1", charset = "UTF-8", text = "café", utf8 = "café", body = 12}}, records)
  end)

  it("refuses a charset it does not know, naming the rule", function()
    local code, records, err = crawl('charset = "klingon",')
    assert.equal(2, code) -- a bad adapter, as for its other options
    assert.same({}, records)
    assert.matches("pages%[1%]%.charset: unknown charset 'klingon'", err)
  end)

  it("glean.charset names an encoding by any of its labels, nil for none", function()
    assert.equal("windows-1252", glean.charset(" Latin1 "))
    assert.equal("UTF-8", glean.charset("utf8"))
    assert.equal("GBK", glean.charset("gb2312"))
    assert.is_nil(glean.charset("klingon"))
    -- glean.html ignores a charset it does not know, as browsers do HTTP's.
    assert.equal("UTF-8", glean.html("<p>x", {charset = "klingon"}).charset)
  end)

  it("page:doc names an unknown charset", function()
    local page = require("glean.page").of_document(glean.html("<p>x"), "https://x.test/", "text/html", "<p>x")
    local ok, err = pcall(function() return page:doc{charset = "klingon"} end)
    assert.is_false(ok)
    assert.matches("page:doc: unknown charset 'klingon'", err)
    assert.equal("windows-1252", page:doc{charset = "latin1"}.charset)
  end)

end)
