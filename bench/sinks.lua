-- bench/sinks.lua PATH N: writes N records of about 1 KB to glean.sink(PATH)
-- and prints the seconds it took (CPU and waits: wall clock), closing
-- included.
local glean = require "glean"
local path, n = arg[1], tonumber(arg[2])
local body = ("lorem ipsum, dolor \"sit\" amet; "):rep(30):sub(1, 960)
local t0 = glean.clock()
local out = glean.sink(path, {fields = {"url", "title", "n", "body"}})
for i = 1, n do
  out:write({url = "https://example.com/a/" .. i, title = "article " .. i, n = i, body = body})
end
out:close()
io.write(glean.clock() - t0, "\n")
