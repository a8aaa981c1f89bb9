-- attack: glean.frontier hoarding 300000 URLs of 1000 bytes
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local f = glean.frontier({max_queued = math.maxinteger})
  f:allow_host("h.test")
  local pad = ("x"):rep(1000)
  for i = 1, 300000 do f:add("http://h.test/" .. pad .. i, 0) end
end)
