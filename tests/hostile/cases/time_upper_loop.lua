-- attack: s:upper() / s:reverse() in a loop on a 8 MB string: C work the instruction count does not see
local H = require "hostile"
return H.adapter(function(page)
  local s = ("x"):rep(8 << 20)
  for _ = 1, math.maxinteger do local _ = s:upper(), s:reverse() end
end)
