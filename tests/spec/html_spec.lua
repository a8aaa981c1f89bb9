-- glean.html and the Document / Node API.
local glean = require "glean"

local page = [[
<!doctype html>
<html><head><title>T &amp; T</title><base href="/docs/"></head>
<body>
  <div id="main" class="article big">
    <h1>  Hello,&nbsp;&nbsp;<em>world</em>  </h1>
    <p class="lead">First <a href="one.html">one</a></p>
    <p>Second <a href="https://other.org/two?x=1#f">two</a></p>
    <img src="pic.png" alt="A picture">
    <ul><li>a</li><li>b</li><li>c</li></ul>
  </div>
  <template><p>inert</p></template>
</body></html>]]

describe("glean.html", function()
  local doc
  before_each(function() doc = glean.html(page, {url = "https://example.com/a/b.html"}) end)

  it("selects elements in document order", function()
    local ps = doc:select("p")
    assert.equal(2, #ps)
    assert.equal("First one", ps[1]:text())
    assert.equal("Second two", ps[2]:text())
  end)

  it("does not see template contents", function()
    assert.equal(0, #doc:select("template p"))
    assert.equal("", doc:select_one("template"):text())
  end)

  it("returns the first match or nil", function()
    assert.equal("h1", doc:select_one("#main > *"):tag())
    assert.is_nil(doc:select_one("table"))
  end)

  it("selects among a node's descendants", function()
    local main = doc:select_one("#main")
    assert.equal(3, #main:select("li"))
    assert.equal(0, #main:select("#main"))
    assert.equal("b", main:select("li")[2]:text())
  end)

  it("normalizes text: entities decoded, white space and no-break spaces collapsed, trimmed", function()
    assert.equal("Hello, world", doc:select_one("h1"):text())
    assert.equal("T & T", doc:select_one("title"):text())
    assert.equal("  Hello,\u{a0}\u{a0}world  ", doc:select_one("h1"):raw_text())
  end)

  it("reads attributes", function()
    local img = doc:select_one("img")
    assert.equal("pic.png", img:attr("src"))
    assert.equal("pic.png", img:attr("SRC"))
    assert.is_nil(img:attr("title"))
    assert.same({src = "pic.png", alt = "A picture"}, img:attrs())
  end)

  it("resolves URLs against the document URL and <base href>", function()
    local links = doc:select("a")
    assert.equal("https://example.com/docs/one.html", links[1]:absurl())
    assert.equal("https://other.org/two?x=1#f", links[2]:absurl("href"))
    assert.equal("https://example.com/docs/pic.png", doc:select_one("img"):absurl())
    assert.is_nil(doc:select_one("ul"):absurl())
  end)

  it("navigates parents, children and siblings", function()
    local li = doc:select("li")
    assert.equal(li[2], li[1]:next())
    assert.equal(li[1], li[2]:prev())
    assert.is_nil(li[1]:prev())
    assert.equal("ul", li[1]:parent():tag())
    assert.equal(3, #li[1]:parent():children())
    assert.equal("html", doc:root():tag())
    assert.is_nil(doc:root():parent())
  end)

  it("matches and finds the closest ancestor", function()
    local a = doc:select_one("a")
    assert.is_true(a:matches("p.lead > a"))
    assert.is_false(a:matches("h1 a"))
    assert.equal("main", a:closest("div"):attr("id"))
    assert.equal(a, a:closest("a"))
    assert.is_nil(a:closest("table"))
  end)

  it("serializes outer and inner HTML", function()
    local p = doc:select_one("p.lead")
    assert.equal('<p class="lead">First <a href="one.html">one</a></p>', p:html())
    assert.equal('First <a href="one.html">one</a>', p:inner_html())
    assert.matches("^<!DOCTYPE html><html>", doc:html())
  end)

  it("tells whether the raw-text fast path was taken", function()
    local big = "<style>" .. string.rep("p { color: red }\n", 400) .. "</style><script>" ..
      string.rep("var x = 1;\n", 400) .. "</script><p>hi</p>"
    local st = glean.html(big).stats
    assert.is_true(st.prescan_used)
    assert.is_false(st.fell_back)
    assert.equal(2, st.bodies)
    assert.is_true(st.bytes_skipped > 10000)
    assert.is_false(glean.html("<p>small</p>").stats.prescan_used)
  end)

  it("tells the document URL and charset", function()
    assert.equal("https://example.com/a/b.html", doc.url)
    assert.equal("UTF-8", doc.charset)
  end)

  it("raises a clear error for invalid selectors, quoting selector and position", function()
    local ok, err = pcall(doc.select, doc, "div >")
    assert.is_false(ok)
    assert.matches('invalid selector "div >"', err)
    assert.matches("position", err)
    for _, bad in ipairs({"", "[", "a[href=", ":nope", "::", "a,,b", "#", ".", "a!b", ":nth-child(x)"}) do
      assert.has_error(function() doc:select(bad) end)
    end
  end)

  it("checks argument types", function()
    assert.has_error(function() glean.html(nil) end, "bad argument #1 to 'html' (string expected, got nil)")
    assert.has_error(function() glean.html("<p>", 5) end, "bad argument #2 to 'html' (table expected, got number)")
    assert.has_error(function() glean.html("<p>", {url = 5}) end, "bad option 'url' to 'html' (string expected, got number)")
    assert.has_error(function() doc:select(5) end)
    assert.has_error(function() doc.select(nil, "p") end)
    assert.has_error(function() doc:select_one("p"):attr() end)
  end)
end)

describe("documents and nodes", function()
  it("keep the document alive while a node is reachable", function()
    local a = glean.html("<p><a href=x>link</a></p>"):select_one("a")
    collectgarbage()
    collectgarbage()
    assert.equal("link", a:text())
  end)

  it("refuse use after close instead of reading freed memory", function()
    local doc = glean.html("<p>x</p>")
    local p = doc:select_one("p")
    doc:close()
    assert.has_error(function() p:text() end, "node of a closed document")
    assert.has_error(function() doc:select("p") end, "document is closed")
    doc:close() -- twice is fine
  end)

  it("close at the end of a <close> scope", function()
    local p
    do
      local doc <close> = glean.html("<p>x</p>")
      p = doc:select_one("p")
    end
    assert.has_error(function() p:text() end)
  end)

  it("are one value per element: equal, rawequal, and the same table key", function()
    local doc = glean.html("<div><p id=a></p><p></p></div>")
    local a = doc:select("p")[1]
    assert.is_true(rawequal(a, doc:select_one("#a")))
    assert.is_true(rawequal(a:parent(), doc:select_one("div")))
    assert.is_true(rawequal(a, doc:select_one("div"):children()[1]))
    assert.not_equal(a, doc:select("p")[2])
    local seen = {[a] = true}
    assert.is_true(seen[doc:select_one("p")])
    assert.is_nil(seen[doc:select("p")[2]])
    -- Nodes let go of and made again are still one per element.
    local second = doc:select("p")[2]
    collectgarbage()
    assert.is_true(rawequal(second, doc:select("p")[2]))
    -- Another parse of the same markup has other elements.
    assert.is_false(rawequal(a, glean.html("<div><p id=a></p></div>"):select_one("#a")))
  end)
end)

describe("encodings", function()
  it("sniffs <meta charset> and converts to UTF-8", function()
    local doc = glean.html('<meta charset="windows-1252"><p>caf\xe9 \x93q\x94</p>')
    assert.equal("windows-1252", doc.charset)
    assert.equal("café “q”", doc:select_one("p"):text())
  end)

  it("honours http-equiv Content-Type", function()
    local doc = glean.html('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>\x92</p>')
    assert.equal("’", doc:select_one("p"):text())
  end)

  it("lets the announced charset win over meta", function()
    local doc = glean.html('<meta charset="utf-8"><p>\xe9</p>', {charset = "iso-8859-1"})
    assert.equal("windows-1252", doc.charset)
    assert.equal("é", doc:select_one("p"):text())
  end)

  it("takes valid UTF-8 without a declaration, else windows-1252", function()
    assert.equal("UTF-8", glean.html("<p>é</p>").charset)
    assert.equal("windows-1252", glean.html("<p>\xe9</p>").charset)
  end)

  it("replaces bytes invalid in the declared encoding with U+FFFD", function()
    local doc = glean.html('<meta charset="utf-8"><p>a\xffb\xc3</p>')
    assert.equal("a\u{fffd}b\u{fffd}", doc:select_one("p"):text())
  end)

  it("decodes Shift_JIS announced by HTTP", function()
    local doc = glean.html("<p>\x93\xfa\x96\x7b</p>", {charset = "shift_jis"})
    assert.equal("日本", doc:select_one("p"):text())
  end)
end)

describe("hostile input", function()
  it("parses NUL bytes", function()
    local doc = glean.html("<p>a\0b</p>")
    assert.equal("ab", doc:select_one("p"):text()) -- U+0000 in body text is dropped, as browsers do
  end)

  it("refuses documents over max_bytes with a clear error", function()
    assert.has_error(function() glean.html(string.rep("x", 100), {max_bytes = 10}) end,
      "html: document is 100 bytes, over the limit of 10 (max_bytes)")
  end)

  it("parses a 50 MB document", function()
    local row = "<tr><td><a href='/x'>cell</a></td><td>" .. string.rep("text ", 10) .. "</td></tr>"
    local html = "<table>" .. string.rep(row, math.ceil(50e6 / #row)) .. "</table>"
    local doc = glean.html(html)
    assert.equal(math.ceil(50e6 / #row), #doc:select("tr"))
  end)

  it("refuses deep nesting past max_depth and handles 100,000 levels when allowed", function()
    local n = 100000
    local html = string.rep("<div>", n) .. "deep" .. string.rep("</div>", n)
    assert.has_error(function() glean.html(html) end, "html: document nests elements more than 4096 deep (max_depth)")
    local doc = glean.html(html, {max_depth = 200000})
    assert.equal(n, #doc:select("div"))
    local innermost = doc:select_one("div:empty, div:not(:has(div))")
    assert.equal("deep", innermost:text())
    assert.equal("deep", doc:select_one("body"):text())
    assert.equal(n * 11 + 4, #doc:select_one("body"):inner_html())
    doc:close()
  end)

  it("refuses more than max_attributes attributes on one element, and handles 10,000 when allowed", function()
    local attrs = {}
    for i = 1, 10000 do attrs[i] = ("a%d=v%d"):format(i, i) end
    local html = "<div " .. table.concat(attrs, " ") .. ">x</div>"
    assert.error_matches(function() glean.html(html) end, "a tag has 10000 attributes, over the limit of 256 %(max_attributes%)")
    local doc = glean.html(html, {max_attributes = 10000})
    local div = doc:select_one("div[a9999=v9999]")
    assert.equal("v10000", div:attr("a10000"))
    local n = 0
    for _ in pairs(div:attrs()) do n = n + 1 end
    assert.equal(10000, n)
  end)

  it("survives a CDATA section in MathML in a table (an assertion in Gumbo 0.10.1)", function()
    local cases = {
      ["<table><math><mi><![CDATA[a<b]]>x"] = "a<bx",
      ["<table><svg><desc><![CDATA[&]]></desc></svg>"] = "&",
      ["<TABLE><MATH><MI><![CDATA[unterminated"] = "unterminated",
    }
    for html, text in pairs(cases) do
      assert.equal(text, glean.html(html):select_one("body"):text())
    end
  end)

  it("counts stray end tags out of the nesting guard", function()
    assert.has_error(function() glean.html(string.rep("<div></span>", 5000)) end,
      "html: document nests elements more than 4096 deep (max_depth)")
    assert.has_error(function() glean.html(string.rep("<div/>", 5000)) end,
      "html: document nests elements more than 4096 deep (max_depth)")
    local doc = glean.html(string.rep("<div><span></span></div>", 50000))
    assert.equal(50000, #doc:select("div"))
  end)

  it("parses bytes that are valid in no encoding", function()
    local bytes = {}
    for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
    local doc = glean.html("<p>" .. table.concat(bytes) .. "</p>", {charset = "utf-8"})
    assert.truthy(doc:select_one("p"):text():find("\u{fffd}", 1, true))
  end)
end)
