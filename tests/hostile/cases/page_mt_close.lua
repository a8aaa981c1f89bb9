-- attack: page.__index.close = a loop: the runtime closes each page with it, outside any limit
local H = require "hostile"
return H.adapter(function(page)
  page.__index.close = function() while true do end end
end)
