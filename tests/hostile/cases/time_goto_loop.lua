-- attack: ::top:: goto top
local H = require "hostile"
return H.adapter(function(page)
  ::top:: goto top
end)
