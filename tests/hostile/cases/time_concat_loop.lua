-- attack: s .. s in a loop on a 4 MB string: 8 MB of copying per instruction
local H = require "hostile"
return H.adapter(function(page)
  local s = ("x"):rep(4 << 20)
  for _ = 1, math.maxinteger do local _ = s .. s end
end)
