-- glean shell FILE with commands on standard input (not a terminal): each
-- line is evaluated against the page in `doc`, expression values printed,
-- errors printed without ending the session.
local support = require "support"

local PAGE = [[
<!doctype html>
<html><head><meta charset="utf-8"><title>A &amp; B</title></head>
<body>
  <h1>  Hello,&nbsp;<em>world</em> </h1>
  <p class="lead">First <a href="one.html">one</a></p>
  <p>Second</p>
  <p>Caf&eacute; &#8220;quoted&#8221;</p>
  <ul><li>a</li><li>b</li></ul>
</body></html>]]

-- Writes text to a fresh temporary file (os.tmpname's own, so nothing is
-- left behind once it is removed) and returns its path.
local function tempfile(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

describe("glean shell", function()
  local file
  setup(function() file = tempfile(PAGE) end)
  teardown(function() os.remove(file) end)

  -- Runs the shell on the page with the given lines as input; returns exit
  -- code, stdout lines, stderr.
  local function shell(input, target)
    local code, out, err = support.run({"shell", target or file}, input)
    local lines = {}
    for line in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    return code, lines, err
  end

  it("prints the values of expressions, one line per input line", function()
    local code, out, err = shell('#doc:select("p")\ndoc:select_one("h1"):text()\ndoc:select_one("title"):text()\n')
    assert.equal(0, code, err)
    assert.same({"3", "Hello, world", "A & B"}, out)
  end)

  it("decodes a saved page again in another charset, and reads its metas", function()
    local saved = tempfile('<meta name="Description" content="Un caf\u{e9}"><p>caf\u{e9}</p>')
    local _, out = shell('page:doc{charset = "latin1"}:select_one("p"):text()\npage:doc():select_one("p"):text()\n' ..
                         'page:meta().name.description\n', saved)
    os.remove(saved)
    assert.same({"cafÃ©", "café", "Un café"}, out)
  end)

  it("prints no prompt or help when input is not a terminal", function()
    local code, out, err = shell('1 + 1\n')
    assert.equal(0, code)
    assert.same({"2"}, out)
    assert.equal("", err)
  end)

  it("prints several values tab-separated, nil, and lists of values", function()
    local _, out = shell('1, "a", nil\nnil\ndoc:select_one("table")\n{10, 20}\n#doc:select("li"), doc:select("li")[2]:text()\n')
    assert.same({"1\ta\tnil", "nil", "nil", "{10, 20}", "2\tb"}, out)
  end)

  it("runs statements, keeping globals from line to line", function()
    local _, out = shell('lead = doc:select_one("p.lead")\nlead:text()\nprint("from print")\ns = ""\nfor _, p in ipairs(doc:select("p")) do s = s .. p:text():sub(1, 1) end\ns\n')
    assert.same({"First one", "from print", "FSC"}, out)
  end)

  it("decodes the page: entities, encoding", function()
    local _, out = shell('doc:select("p")[3]:text()\ndoc.charset\n')
    assert.same({"Café “quoted”", "UTF-8"}, out)
  end)

  it("gives the page as a handler gets it, with its helpers", function()
    local code, out, err = shell('page:text("h1")\n#page:texts("p")\npage:attr("a", "href")\npage.url == "file://" .. ' .. string.format("%q", file) .. '\npage:absurl("two.html") == "file://" .. ' .. string.format("%q", file:gsub("[^/]*$", "")) .. ' .. "two.html"\nrawequal(page:doc(), doc)\n')
    assert.equal(0, code, err)
    assert.same({"Hello, world", "3", "one.html", "true", "true", "true"}, out)
  end)

  it("has the glean library at hand", function()
    local _, out = shell('glean.text.squash("  a \\u{a0} b ")\nglean.json.encode({x = doc:select_one("a"):attr("href")})\n')
    assert.same({"a b", '{"x":"one.html"}'}, out)
  end)

  it("prints errors and goes on: an invalid selector, a runtime error, a syntax error, error()", function()
    local code, out, err = shell(table.concat({
      'doc:select("p[")',
      'doc:select_one("table"):text()',
      'if then',
      'error("boom")',
      '#doc:select("p")',
    }, "\n") .. "\n")
    assert.equal(0, code, err)
    assert.equal(5, #out)
    assert.matches('^error: .*invalid selector "p%["', out[1])
    assert.matches("^error: .*attempt to index a nil value", out[2])
    assert.matches("^error: shell:1: .*near 'then'", out[3])
    assert.equal("error: shell:1: boom", out[4])
    assert.equal("3", out[5])
  end)

  it("ends at end of input with status 0, also with no input or a last line without newline", function()
    local code, out = shell("")
    assert.equal(0, code)
    assert.same({}, out)
    code, out = shell('#doc:select("li")')
    assert.equal(0, code)
    assert.same({"2"}, out)
  end)

  it("parses a page saved in windows-1252 as the browser would", function()
    local legacy = "tests/fixtures/coins2day/site/2017/01/13/jack-ma-alibaba-global-retail-empire/index.html"
    local code, out, err = shell('doc.charset\ndoc:select_one("[data-cy=byline-desktop] [data-cy=author-link]"):text()\n', legacy)
    assert.equal(0, code, err)
    assert.same({"windows-1252", "Ana Sofía Núñez"}, out)
  end)

  it("exits 2 with a message for a file it cannot open, and for no argument", function()
    local code, out, err = support.run({"shell", "/nonexistent/page.html"}, "1\n")
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("cannot open '/nonexistent/page.html'", err)
    code, _, err = support.run({"shell"})
    assert.equal(2, code)
    assert.matches("usage: glean shell", err)
  end)
end)
