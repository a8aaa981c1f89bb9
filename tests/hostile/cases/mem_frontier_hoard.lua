-- attack: glean.frontier hoarding 2 million long URLs
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local f = glean.frontier({max_queued = math.maxinteger})
  f:allow_host("h.test")
  local pad = ("x"):rep(200)
  for i = 1, 2000000 do f:add("http://h.test/" .. pad .. i, 0) end
end)
