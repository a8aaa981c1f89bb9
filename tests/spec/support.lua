-- Shared helpers for the busted specs: running the glean command and
-- reading fixtures.
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
-- exit code, stdout, stderr.
function support.run(args, stdin)
  local out, err = os.tmpname(), os.tmpname()
  local cmd = quote(support.glean_bin)
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

-- Writes text to a fresh temporary file and returns its path.
function support.tempfile(text, suffix)
  local path = os.tmpname() .. (suffix or "")
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

return support
