-- attack: a to-be-closed variable whose __close loops
local H = require "hostile"
return H.adapter(function(page)
  local _ <close> = setmetatable({}, {__close = function() while true do end end})
end)
