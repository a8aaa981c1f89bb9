-- attack: ("").__index.format = a loop: the runtime's own messages (("..."):format) run it outside any limit
local H = require "hostile"
return H.adapter(function(page)
  ("").__index.format = function() while true do end end
end)
