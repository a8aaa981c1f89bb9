-- attack: an error object whose __tostring loops (the runtime makes the message)
local H = require "hostile"
return H.adapter(function(page)
  error(setmetatable({}, {__tostring = function() while true do end end}))
end)
