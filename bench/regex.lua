-- glean.re throughput: every regular expression of bench/regexes.txt
-- ("flags<TAB>pattern" a line) run over every page's bytes with gmatch;
-- prints the CPU seconds of each pass and, on stderr, the number of
-- matches (to check against bench/regex_re.py). Pages that are not UTF-8
-- are left out, as the peer leaves them out.
--   glean bench/regex.lua REGEXES.txt PASSES budget|free FILE...
-- budget: each pass runs as adapter code does, under a time budget (the
-- match limit fed from it, its steps charged); free: as a script.
local glean = require "glean"
local limits = require "glean.limits"
local regexes = {}
for line in io.lines(arg[1]) do
  local flags, pattern = line:match("^(%a*)\t(.+)$")
  regexes[#regexes + 1] = glean.re.compile(pattern, flags)
end
local passes, mode = tonumber(arg[2]), arg[3]
local pages = {}
for i = 4, #arg do
  local f = assert(io.open(arg[i], "rb"))
  local s = f:read("a")
  f:close()
  if utf8.len(s) then pages[#pages + 1] = s end
end
local function pass()
  local n = 0
  for _, s in ipairs(pages) do
    for _, r in ipairs(regexes) do
      for _ in r:gmatch(s) do n = n + 1 end
    end
  end
  return n
end
local matches
for _ = 1, passes do
  local t0 = os.clock()
  if mode == "budget" then
    local ok, n = limits.pcall(limits.meter(1 << 40, 0), nil, pass)
    assert(ok, n)
    matches = n
  else
    matches = pass()
  end
  print(string.format("%.6f", os.clock() - t0))
end
io.stderr:write("matches ", matches, " pages ", #pages, "\n")
