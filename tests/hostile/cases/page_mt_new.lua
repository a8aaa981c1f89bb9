-- attack: page.__index.new = error: the runtime makes every later page with it
-- args: --per-host 1
local H = require "hostile"
return H.adapter(function(page)
  page.__index.new = function() error("hostile: no more pages") end
end)
