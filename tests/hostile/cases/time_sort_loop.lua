-- attack: table.sort of 300000 numbers in a loop: n log n C steps per call, one instruction
local H = require "hostile"
return H.adapter(function(page)
  local t = {}
  for i = 1, 300000 do t[i] = (i * 7919) % 300007 end
  for _ = 1, math.maxinteger do table.sort(t, nil); t[1], t[#t] = t[#t], t[1] end
end)
