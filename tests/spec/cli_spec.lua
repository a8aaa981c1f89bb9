-- The glean command: scripts, -e, arguments, exit codes and messages.
local support = require "support"
local run = support.run

describe("glean command", function()
  it("prints its version", function()
    local code, out = run({"--version"})
    assert.equal(0, code)
    assert.matches("^glean %d+%.%d+%.%d+", out)
  end)

  it("lists the subcommands in --help", function()
    local code, out = run({"--help"})
    assert.equal(0, code)
    for _, word in ipairs({"SCRIPT.lua", "-e", "run", "shell", "--version"}) do
      assert.truthy(out:find(word, 1, true), word)
    end
  end)

  it("exits 2 with usage when given nothing", function()
    local code, _, err = run({})
    assert.equal(2, code)
    assert.matches("usage: glean", err)
  end)

  it("runs a script with arg set as lua does, and glean required", function()
    local script = support.tempfile([[
      local glean = require "glean"
      print(arg[0], arg[1], arg[2], #arg, select("#", ...), glean.version ~= nil)
    ]], ".lua")
    local code, out = run({script, "one", "two"})
    os.remove(script)
    assert.equal(0, code)
    assert.equal(script .. "\tone\ttwo\t2\t2\ttrue\n", out)
  end)

  it("passes hundreds of arguments", function()
    local args = {"-e", "print(select('#', ...), arg[#arg])"}
    for i = 1, 500 do args[#args + 1] = "a" .. i end
    local code, out = run(args)
    assert.equal(0, code)
    assert.equal("500\ta500\n", out)
  end)

  it("runs code given with -e", function()
    local code, out = run({"-e", "io.write(glean.json.encode({1,2}), ...)", "x"})
    assert.equal(0, code)
    assert.equal("[1,2]x", out)
  end)

  it("exits 2 with one clear line for a missing script", function()
    local code, out, err = run({"/nonexistent/missing.lua"})
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal("glean: cannot open script '/nonexistent/missing.lua': No such file or directory\n", err)
  end)

  it("exits 1 with the message and a traceback naming file and line on a Lua error", function()
    local script = support.tempfile("local x = 1\nlocal function f() error('boom') end\nf()\n", ".lua")
    local code, _, err = run({script})
    os.remove(script)
    assert.equal(1, code)
    assert.truthy(err:find(script .. ":2: boom", 1, true), err)
    assert.truthy(err:find("stack traceback:", 1, true), err)
    assert.truthy(err:find(script .. ":3:", 1, true), err)
  end)

  it("exits 1 on a syntax error, naming file and line", function()
    local script = support.tempfile("local x = = 1\n", ".lua")
    local code, _, err = run({script})
    os.remove(script)
    assert.equal(1, code)
    assert.truthy(err:find(script .. ":1:", 1, true), err)
  end)

  it("exits 2 on an unknown option", function()
    local code, _, err = run({"--frobnicate"})
    assert.equal(2, code)
    assert.matches("unknown option '%-%-frobnicate'", err)
  end)

  it("writes records to stdout and logs to stderr", function()
    local code, out, err = run({"-e", [[
      glean.log.info("starting")
      glean.emit({title = "a", n = 1})
      glean.emit({title = "b", tags = {"x", "y"}})
      glean.log.debug("hidden at info level")
    ]]})
    assert.equal(0, code)
    assert.equal('{"n":1,"title":"a"}\n{"tags":["x","y"],"title":"b"}\n', out)
    assert.equal("glean: info: starting\n", err)
  end)

  it("reports a record that cannot be encoded and keeps the earlier ones whole", function()
    local code, out, err = run({"-e", [[
      glean.emit({ok = true})
      glean.emit({f = print})
    ]]})
    assert.equal(1, code)
    assert.equal('{"ok":true}\n', out)
    assert.truthy(err:find("function", 1, true), err)
  end)

  it("never cuts a record when killed mid-stream", function()
    -- A writer emitting large records is killed; every line that made it out is whole JSON.
    local out = os.tmpname()
    local cmd = support.quote(support.glean_bin) .. [[ -e 'local s = string.rep("x", 100000) for i = 1, 1e6 do glean.emit({i = i, s = s}) end' > ]]
      .. out .. " 2>/dev/null & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid"
    os.execute(cmd)
    local glean = require "glean"
    local n = 0
    for line in io.lines(out) do
      local rec = glean.json.decode(line)
      assert.equal(100000, #rec.s)
      n = n + 1
    end
    os.remove(out)
    assert.is_true(n > 0)
  end)
end)
