-- attack: table.insert / concat / sort replaced in the adapter's table library (must stay its own)
-- args: --per-host 1
local H = require "hostile"
return H.adapter(function(page)
  table.insert = function() while true do end end
  table.concat = function() while true do end end
  table.sort = function() while true do end end
  table.unpack = function() while true do end end
  coroutine.resume = function() while true do end end
  coroutine.wrap = function() while true do end end
end)
