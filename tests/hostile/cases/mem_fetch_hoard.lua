-- attack: 30 responses of 8 MB each held, their bodies never read into Lua
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
local keep = {}
return H.adapter(function(page)
  local reqs = {}
  for i = 1, 30 do reqs[i] = H.base(page.url) .. "/big/8000000?" .. i end
  keep = glean.fetch_all(reqs)
end)
