-- attack: 200000 float keys (0.75 + k * 2^-52) * 2^40 that all hash alike: quadratic inserts in C
local H = require "hostile"
return H.adapter(function(page)
  local t = {}
  for k = 1, 200000 do t[(0.75 + k * 2^-52) * 2^40] = true end
end)
