-- attack: every file descriptor taken (a file of its own folder opened 25000 times, kept): the crawl cannot connect
-- args: --per-host 1
local H = require "hostile"
local keep = {}
return H.adapter(function(page)
  for i = 1, 25000 do
    local f = io.open(H.dir .. "/own_data.txt")
    if not f then break end
    keep[i] = f
  end
end)
