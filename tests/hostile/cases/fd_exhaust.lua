-- attack: every file descriptor taken at load (a file of its own folder opened 25000 times, kept): the crawl
-- cannot connect
-- expect: load
local H = require "hostile"
KEEP = {}
for i = 1, 25000 do
  local f = io.open(H.dir .. "/own_data.txt")
  if not f then break end
  KEEP[i] = f
end
return H.adapter(nil)
