-- attack: a __close that loops, left open when the handler yields by itself (the runtime closes it)
local H = require "hostile"
return H.adapter(function(page)
  local _ <close> = setmetatable({}, {__close = function() while true do end end})
  coroutine.yield()
end)
