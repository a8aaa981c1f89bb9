-- Shared helpers for the busted specs: running the glean command (to the
-- end, or in the background to signal it), reading fixtures, and the test
-- HTTP server (tests/server/testserver.py) on 127.0.0.1.
local support = {}

support.glean_bin = assert(os.getenv("GLEAN_BIN"), "GLEAN_BIN is not set (run the specs through ctest)")

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
support.slurp = slurp

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
support.quote = quote

-- Runs glean with the given arguments (and optional stdin text); returns
-- exit code, stdout, stderr. before, if any, is shell run first in glean's
-- shell (e.g. "ulimit -n 256").
function support.run(args, stdin, before)
  local out, err = os.tmpname(), os.tmpname()
  local cmd = (before and before .. "; exec " or "") .. quote(support.glean_bin)
  for _, a in ipairs(args) do cmd = cmd .. " " .. quote(a) end
  local input = "/dev/null"
  if stdin then
    input = os.tmpname()
    local f = assert(io.open(input, "wb")); f:write(stdin); f:close()
  end
  local _, _, code = os.execute(cmd .. " <" .. input .. " >" .. out .. " 2>" .. err)
  local o, e = slurp(out), slurp(err)
  os.remove(out); os.remove(err)
  if stdin then os.remove(input) end
  return code, o, e
end

-- `glean run` with args to the end, --stats and --progress 0 added: exit
-- code, the records (stdout's JSON lines), stderr, the final stats (nil if
-- none were written).
function support.run_crawl(args)
  local stats_file = os.tmpname()
  local argv = {"run"}
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  for _, a in ipairs({"--stats", stats_file, "--progress", "0"}) do argv[#argv + 1] = a end
  local code, out, err = support.run(argv)
  local text = slurp(stats_file)
  os.remove(stats_file)
  return code, support.records(out), err, text ~= "" and require("glean").json.decode(text) or nil
end

-- Writes text to dir/name (an adapter, say); returns the path.
function support.write(dir, name, text)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- A fresh empty folder (the caller removes it); returns its path.
function support.tempdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir " .. quote(dir)))
  return dir
end

-- Writes text to a fresh temporary file and returns its path.
function support.tempfile(text, suffix)
  local path = os.tmpname() .. (suffix or "")
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- Runs a shell command; returns its stdout.
local function capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end
support.capture = capture

-- What the sqlite3 CLI says to query on db (its errors too).
function support.sql(db, query)
  return capture(("sqlite3 %s %s 2>&1"):format(quote(db), quote(query)))
end

function support.sleep(seconds)
  os.execute("sleep " .. seconds)
end

-- Starts tests/server/testserver.py (from the repository root, where ctest
-- runs the specs). Returns a server with .port, .base ("http://127.0.0.1:PORT"),
-- :url(path), :get(path) and :post(path, body) (the body of the reply, read
-- with Python's urllib so that the checks do not go through glean), :json(path)
-- and :stop(). Stop it in teardown: it lives as long as this process.
function support.server()
  -- exec: the shell becomes the server, so $$ is the server's pid.
  local pipe = assert(io.popen("echo $$; exec python3 tests/server/testserver.py"))
  local pid = assert(tonumber(pipe:read("l")), "no pid from the server's shell")
  local port = assert(tonumber(pipe:read("l")), "the test server did not print its port")
  local server = {port = port, pid = pid, base = "http://127.0.0.1:" .. port}
  function server:url(path) return self.base .. path end
  function server:post(path, body)
    local file = support.tempfile(body or "")
    local out = capture(("python3 -c %s %s %s"):format(quote(
      "import sys, urllib.request\n" ..
      "data = open(sys.argv[2], 'rb').read() if len(sys.argv) > 2 else None\n" ..
      "sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], data, timeout=60).read())"),
      quote(self:url(path)), body and quote(file) or ""))
    os.remove(file)
    return out
  end
  function server:get(path) return self:post(path, nil) end
  function server:json(path)
    return require("glean").json.decode(self:get(path))
  end
  function server:stop()
    os.execute("kill " .. self.pid)
    pipe:close()
  end
  return server
end

-- Starts glean with the given arguments in the background, stdout and
-- stderr to files. The returned process has .pid (glean's), :signal(name),
-- :output() (stdout so far), :done() and :wait() -> exit code, stdout, stderr
-- (waiting at most `patience` seconds, a guard against hangs only: a test
-- that gets nil has failed). With peak (a file name), /usr/bin/time writes
-- glean's peak resident size in KB into that file as its last word.
function support.spawn(args, peak)
  local out, err, rc, pidfile = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
  os.remove(rc)
  local cmd = quote(support.glean_bin)
  for _, a in ipairs(args) do cmd = cmd .. " " .. quote(a) end
  local io_to = (" </dev/null >%s 2>%s &"):format(out, err)
  local start = cmd .. io_to .. " echo $! >" .. pidfile .. ";"
  if peak then
    -- glean writes its own pid (exec), so that signals reach it, not time.
    -- Under AddressSanitizer (scripts/test --sanitize), freed memory waits
    -- in its quarantine, which the resident size would count.
    local asan = os.getenv("ASAN_OPTIONS")
    local env = asan and "ASAN_OPTIONS=" .. quote(asan .. ":quarantine_size_mb=0") .. " " or ""
    start = ("%s/usr/bin/time -o %s -f %%M sh -c %s%s"):format(env, quote(peak),
      quote("echo $$ >" .. pidfile .. "; exec " .. cmd), io_to)
  end
  -- The wrapper shell records glean's exit code once it ends.
  local script = ("%s wait $!; echo $? >%s.tmp; mv %s.tmp %s"):format(start, rc, rc, rc)
  os.execute("sh -c " .. quote(script) .. " >/dev/null 2>&1 &")
  local pid
  for _ = 1, 600 do
    local f = io.open(pidfile, "r")
    pid = f and tonumber(f:read("l"))
    if f then f:close() end
    if pid then break end
    support.sleep(0.05)
  end
  os.remove(pidfile)
  local proc = {pid = assert(pid, "glean did not start")}
  function proc:signal(name) os.execute(("kill -%s %d"):format(name, self.pid)) end
  function proc:output() return slurp(out) end
  function proc:done()
    local f = io.open(rc, "r")
    if f then f:close() end
    return f ~= nil
  end
  function proc:wait(patience)
    for _ = 1, (patience or 120) * 20 do
      if self:done() then break end
      support.sleep(0.05)
    end
    if not self:done() then
      self:signal("KILL")
      return nil, slurp(out), slurp(err)
    end
    local code = tonumber(slurp(rc):match("%d+"))
    local o, e = slurp(out), slurp(err)
    os.remove(out); os.remove(err); os.remove(rc)
    return code, o, e
  end
  return proc
end

-- Waits until fn() is true, checking every 50 ms for at most `patience`
-- seconds (a guard against hangs only). Returns whether it became true.
function support.wait_for(fn, patience)
  for _ = 1, (patience or 60) * 20 do
    if fn() then return true end
    support.sleep(0.05)
  end
  return fn() and true or false
end

-- Decodes JSON lines; fails on a line that is not whole JSON.
function support.records(text)
  local json = require("glean").json
  local out = {}
  for line in text:gmatch("([^\n]*)\n") do out[#out + 1] = json.decode(line) end
  assert(text == "" or text:sub(-1) == "\n", "the last line is cut")
  return out
end

-- A static server on 127.0.0.1 for dir that logs the path of every request
-- (started and stopped by the test): {base = "http://127.0.0.1:PORT",
-- requests() -> the paths asked for so far, stop()}. It quits when its
-- parent does.
local DIR_SERVER = [[
import http.server, os, sys, threading, time
root, log = sys.argv[1], sys.argv[2]
parent, lock = os.getppid(), threading.Lock()
class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kw):
        super().__init__(*args, directory=root, **kw)
    def log_message(self, *args):
        pass
    def send_head(self):
        with lock, open(log, "a") as f:
            f.write(self.path + "\n")
        return super().send_head()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], os.getpid(), flush=True)
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
server.serve_forever()
]]

function support.serve_dir(dir)
  local script = support.tempfile(DIR_SERVER)
  local log = os.tmpname()
  local p = assert(io.popen("exec python3 " .. quote(script) .. " " .. quote(dir) .. " " .. quote(log)))
  local port, pid = p:read("n", "n")
  assert(port and pid, "the test server did not start")
  return {
    base = "http://127.0.0.1:" .. port,
    requests = function()
      local out = {}
      for line in slurp(log):gmatch("[^\n]+") do out[#out + 1] = line end
      return out
    end,
    stop = function()
      os.execute("kill " .. pid)
      p:close()
      os.remove(script)
      os.remove(log)
    end,
  }
end

-- Writes source (or source(folder), for an adapter that names files in
-- its folder) as adapter.lua into a fresh folder and `glean run`s it
-- (untrusted unless args say --trust) under a hang guard of opts.guard
-- seconds (default 30), opts.prepare(folder) first: code (nil: it hung and was killed), stdout,
-- stderr, the folder (the caller removes it), and with opts.peak glean's
-- peak resident size in KB.
function support.run_adapter(source, args, opts)
  local dir = support.tempdir()
  local f = assert(io.open(dir .. "/adapter.lua", "w"))
  f:write(type(source) == "function" and source(dir) or source)
  f:close()
  if opts and opts.prepare then opts.prepare(dir) end
  local argv = {"run", dir .. "/adapter.lua", "--progress", "0"}
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  local peak = opts and opts.peak and os.tmpname()
  local code, out, err = support.spawn(argv, peak):wait((opts and opts.guard) or 30)
  local kb
  if peak then
    kb = tonumber(slurp(peak):match("(%d+)%s*$"))
    os.remove(peak)
  end
  return code, out, err, dir, kb
end

return support
