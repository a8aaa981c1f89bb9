-- Parse throughput of glean.html: prints the CPU seconds of each pass over
-- all files (parse, ready to query, then close).
--   glean bench/parse.lua PASSES FILE...
local glean = require "glean"
local passes = tonumber(arg[1])
local pages = {}
for i = 2, #arg do
  local f = assert(io.open(arg[i], "rb"))
  pages[#pages + 1] = f:read("a")
  f:close()
end
for _ = 1, passes do
  local t0 = os.clock()
  for _, page in ipairs(pages) do
    glean.html(page):close()
  end
  print(string.format("%.6f", os.clock() - t0))
end
