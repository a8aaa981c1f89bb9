-- attack: xpcall(loop, loop): the message handler loops too, and pcall swallows the limit's error
local H = require "hostile"
local function loop() while true do end end
return H.adapter(function(page)
  while true do
    xpcall(loop, loop)
    pcall(loop)
  end
end)
