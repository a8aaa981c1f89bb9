-- Selector throughput: the selectors of bench/selectors.txt run on every
-- page (parsed beforehand, not timed); prints the CPU seconds of each pass
-- and, on stderr, the total number of matches (to check against lxml).
--   glean bench/select.lua SELECTORS.txt PASSES FILE...
local glean = require "glean"
local selectors = {}
for line in io.lines(arg[1]) do selectors[#selectors + 1] = line end
local passes = tonumber(arg[2])
local docs = {}
for i = 3, #arg do
  local f = assert(io.open(arg[i], "rb"))
  docs[#docs + 1] = glean.html(f:read("a"))
  f:close()
end
local matches = 0
for pass = 1, passes do
  local t0 = os.clock()
  for _, doc in ipairs(docs) do
    for _, css in ipairs(selectors) do
      local found = doc:select(css)
      if pass == 1 then matches = matches + #found end
    end
  end
  print(string.format("%.6f", os.clock() - t0))
end
io.stderr:write("matches ", matches, "\n")
