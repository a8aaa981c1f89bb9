-- Where records go: `glean run --out` (JSON Lines, CSV, SQLite, several at
-- once), glean.sink from a script, and what a SIGKILL leaves behind (read
-- back with python3's csv module and the sqlite3 command).
local glean = require "glean"
local support = require "support"
local quote = support.quote

describe("record sinks", function()
  local server, dir

  setup(function()
    server = support.server()
    dir = support.tempdir()
  end)

  teardown(function()
    server:stop()
    os.execute("rm -rf " .. quote(dir))
  end)

  local function file(name, text) return support.write(dir, name, text) end

  local function site(name, pages)
    assert.equal("configured", server:post("/config/" .. name, glean.json.encode({pages = pages})))
    return "http://" .. name, ("http://%s=%s/v/%s"):format(name, server.base, name)
  end

  local sh, sql = support.capture, support.sql

  -- The CSV file's rows as python3's csv module reads them, as JSON; and
  -- whether the file ends with a whole row.
  local function csv_rows(path)
    local out = sh(("python3 -c %s %s"):format(quote(
      "import csv, json, sys\n" ..
      "text = open(sys.argv[1], newline='', encoding='utf-8').read()\n" ..
      "rows = list(csv.reader(text.splitlines(keepends=True) and __import__('io').StringIO(text, newline='')))\n" ..
      "print(json.dumps({'rows': rows, 'whole': text == '' or text.endswith('\\r\\n')}))"), quote(path)))
    return glean.json.decode(out)
  end

  local ADAPTER = [[
    return {
      name = "gen",
      fields = {"url", "title", "n"},
      pages = {
        {path = "^/site/%d+/$", follow = "a[href]", parse = function(page)
          return {url = page.url, title = page:text("h1"), n = tonumber(page.url:match("(%d+)/$"))}
        end},
      },
    }
  ]]

  it("--out writes JSON Lines, CSV and SQLite at once; a rerun appends and upserts", function()
    local origin, mirror = site("out.test", 300)
    local adapter = file("gen.lua", ADAPTER)
    local jsonl, csv, db = dir .. "/r.jsonl", dir .. "/r.csv", dir .. "/r.sqlite"
    for round = 1, 2 do
      local code, out, err = support.run({"run", adapter, origin .. "/site/0/", "--mirror", mirror, "--progress", "0",
        "--out", jsonl, "--out", csv, "--out", db})
      assert.equal(0, code, err)
      assert.equal("", out) -- not to stdout once --out is given
      assert.equal(300 * round, #support.records(support.slurp(jsonl)))
      local rows = csv_rows(csv)
      assert.is_true(rows.whole)
      assert.equal(300 * round + 1, #rows.rows) -- one header, across runs
      assert.same({"url", "title", "n"}, rows.rows[1])
      for i = 2, #rows.rows do assert.equal(3, #rows.rows[i]) end
      -- The key column is UNIQUE: the second run updated the rows.
      assert.equal("300\n", sql(db, 'SELECT count(*) FROM "gen"'))
    end
    assert.equal("site 7|integer\n", sql(db, ("SELECT title, typeof(n) FROM gen WHERE url = '%s/site/7/'"):format(origin)))
    -- --out - is stdout, beside the files; --table and --format override.
    local other = dir .. "/other.data"
    local code, out, err = support.run({"run", adapter, origin .. "/site/0/", "--mirror", mirror, "--progress", "0",
      "--depth", "0", "--out", "-", "--out", other, "--format", "sqlite", "--table", "pages"})
    assert.equal(0, code, err)
    assert.equal(1, #support.records(out))
    assert.equal("1\n", sql(other, "SELECT count(*) FROM pages"))
  end)

  it("refuses bad --out, --format, --fsync values and adapter fields with clear messages", function()
    local origin, mirror = site("bad.test", 10)
    local adapter = file("bad.lua", ADAPTER)
    local function fails(args, pattern)
      local argv = {"run", adapter, origin .. "/site/0/", "--mirror", mirror, "--progress", "0"}
      for _, a in ipairs(args) do argv[#argv + 1] = a end
      local code, _, err = support.run(argv)
      assert.equal(2, code, err)
      assert.truthy(err:find(pattern, 1, true), err)
    end
    fails({"--out", dir .. "/x.txt"}, "x.txt: unknown kind of file")
    fails({"--out", "/nonexistent/x.csv"}, "/nonexistent/x.csv: cannot open for writing")
    fails({"--format", "xml"}, "--format must be csv, jsonl, sqlite, got 'xml'")
    fails({"--fsync", "sometimes"}, "--fsync must be always, batch, never")
    local header = file("h.csv", "url,name\r\n")
    fails({"--out", header}, "h.csv: its header (url, name) does not match the fields (url, title, n)")
    local notdb = file("not.sqlite", "plain text, not a database\n")
    fails({"--out", notdb}, "not.sqlite:")
    for text, pattern in pairs({
      ['return {fields = "url", pages = {{path = "/"}}}'] = "'fields' must be a list of field names",
      ['return {fields = {"url", "url"}, pages = {{path = "/"}}}'] = "fields[2]: 'url' is listed twice",
      ['return {fields = {"title"}, key = "id", pages = {{path = "/"}}}'] = "key 'id' is not one of the fields",
      ['return {key = 3, pages = {{path = "/"}}}'] = "'key' must be the name of a field",
    }) do
      local a = file("fields.lua", text)
      local code, _, err = support.run({"run", a, origin .. "/site/0/", "--mirror", mirror})
      assert.equal(2, code, err)
      assert.truthy(err:find(pattern, 1, true), err)
    end
  end)

  it("fails the page of a record with a field that is not a column, naming it, and writes no row of it", function()
    local origin, mirror = site("extra.test", 10)
    local adapter = file("extra.lua", [[
      return {
        fields = {"url", "title"},
        pages = {{path = "^/site/%d+/$", follow = "a[href]", parse = function(page)
          if page.url:find("/site/3/$") then return {url = page.url, title = "x", surprise = 1} end
          return {url = page.url, title = page:text("h1")}
        end}},
      }
    ]])
    local csv, db = dir .. "/extra.csv", dir .. "/extra.sqlite"
    local code, _, err = support.run({"run", adapter, origin .. "/site/0/", "--mirror", mirror, "--progress", "0",
      "--out", csv, "--out", db})
    assert.equal(1, code, err)
    assert.truthy(err:find("extra.csv: the record's field 'surprise' is not a column", 1, true), err)
    assert.truthy(err:find("/site/3/", 1, true), err)
    local rows = csv_rows(csv).rows
    assert.equal(10, #rows) -- the header and 9 pages: not page 3
    for i = 2, #rows do assert.equal(2, #rows[i]) end
    assert.equal("9\n", sql(db, "SELECT count(*) FROM records"))
  end)

  it("glean.sink from a script: write, flush, close, <close>, and errors naming the file and the field", function()
    local csv, db = dir .. "/script.csv", dir .. "/script.db"
    local script = file("script.lua", ([[
      local glean = require "glean"
      do
        local out <close> = glean.sink(%q, {fields = {"url", "tags"}})
        out:write({url = "a", tags = {"x", "y"}})
        print(select(2, pcall(out.write, out, {url = "b", tags = {print}})))
        print(select(2, pcall(out.write, out, "not a table")))
      end
      local db = glean.sink(%q, {key = "id", table = "t"})
      db:write({id = 1, v = "one"}):write({id = 1, v = "uno"}):flush()
      db:close()
      print(select(2, pcall(db.write, db, {id = 2})))
      print(tostring(db))
    ]]):format(csv, db))
    local code, out, err = support.run({script})
    assert.equal(0, code, err)
    assert.truthy(out:find(csv .. ": cannot encode function at .tags[1]", 1, true), out)
    assert.truthy(out:find("table expected, got string", 1, true), out)
    assert.truthy(out:find("attempt to use a closed sink", 1, true), out)
    assert.truthy(out:find("glean.Sink (closed)", 1, true), out)
    assert.same({{"url", "tags"}, {"a", '["x","y"]'}}, csv_rows(csv).rows)
    assert.equal("1|uno\n", sql(db, "SELECT id, v FROM t"))
  end)

  it("an adapter without trust has no glean.sink and cannot set the outputs", function()
    local origin, mirror = site("trust.test", 1)
    local adapter = file("trust.lua", [[
      local glean = require "glean"
      return {pages = {{path = "^/site/%d+/$", parse = function(page)
        local ok, err = pcall(glean.set_outputs, {})
        return {url = page.url, sink = type(glean.sink), outputs = err}
      end}}}
    ]])
    local code, out, err = support.run({"run", adapter, origin .. "/site/0/", "--mirror", mirror, "--progress", "0"})
    assert.equal(0, code, err)
    local r = support.records(out)[1]
    assert.equal("nil", r.sink)
    assert.truthy(r.outputs:find("not allowed in an adapter", 1, true), r.outputs)
  end)

  it("a SIGKILL mid-write leaves whole CSV rows and a SQLite file that opens; readers read while it writes", function()
    local csv, db = dir .. "/kill.csv", dir .. "/kill.sqlite"
    local script = file("writer.lua", ([[
      local glean = require "glean"
      local csv = glean.sink(%q, {fields = {"url", "body"}})
      local db = glean.sink(%q, {fields = {"url", "body"}, batch = 100})
      local body = ("x, \"y\"\n"):rep(150)
      for i = 1, 1e9 do
        local r = {url = "u" .. i, body = body}
        csv:write(r)
        db:write(r)
      end
    ]]):format(csv, db))
    local proc = support.spawn({script})
    -- A reader in another process sees committed batches during the run.
    assert.is_true(support.wait_for(function()
      return (tonumber(sql(db, "SELECT count(*) FROM records")) or 0) >= 1000
    end, 60), "no rows readable while writing")
    proc:signal("KILL")
    assert.is_nil(select(1, proc:wait(30)) == 0 or nil)
    assert.equal("ok\n", sql(db, "PRAGMA integrity_check"))
    local n = tonumber(sql(db, "SELECT count(*) FROM records"))
    assert.is_true(n >= 1000, n)
    local rows = csv_rows(csv)
    assert.is_true(rows.whole, "the CSV file ends inside a row")
    assert.same({"url", "body"}, rows.rows[1])
    for i = 2, #rows.rows do
      assert.equal("u" .. (i - 1), rows.rows[i][1])
      assert.equal(1050, #rows.rows[i][2])
    end
  end)
end)
