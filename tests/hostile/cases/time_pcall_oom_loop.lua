-- attack: pcall around running out of memory, in a loop: each round is a few instructions and 60 MB of work
local H = require "hostile"
return H.adapter(function(page)
  while true do
    pcall(function()
      local t = {}
      for i = 1, math.maxinteger do t[i] = ("x"):rep(1 << 20) end
    end)
  end
end)
