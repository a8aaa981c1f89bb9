-- attack: ("").__index.__index / new methods on every string, and the string table's rep swapped for a loop
-- args: --per-host 1
local H = require "hostile"
return H.adapter(function(page)
  local s = ("").__index
  s.rep = function() while true do end end
  s.lower = function() while true do end end
  s.sub = function() while true do end end
end)
