-- attack: while true do end
local H = require "hostile"
return H.adapter(function(page)
  while true do end
end)
