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
-- How often the raw-text fast path was taken (on stderr, not timed).
local used, fell_back = 0, 0
for _, page in ipairs(pages) do
  local st = glean.html(page).stats
  if st.prescan_used then used = used + 1 end
  if st.fell_back then fell_back = fell_back + 1 end
end
io.stderr:write(("fast path %d of %d pages, fell back %d\n"):format(used, #pages, fell_back))
for _ = 1, passes do
  local t0 = os.clock()
  for _, page in ipairs(pages) do
    glean.html(page):close()
  end
  print(string.format("%.6f", os.clock() - t0))
end
