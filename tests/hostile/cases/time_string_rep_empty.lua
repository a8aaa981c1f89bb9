-- attack: string.rep("", math.maxinteger): one C call that loops 2^63 times
local H = require "hostile"
return H.adapter(function(page)
  string.rep("", math.maxinteger)
end)
