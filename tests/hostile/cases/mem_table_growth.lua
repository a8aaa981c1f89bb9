-- attack: a table that grows without end
-- args: --memory-limit 32
local H = require "hostile"
return H.adapter(function(page)
  local t = {}
  for i = 1, math.maxinteger do t[i] = i end
end)
