-- attack: ("").__index.match/find/gsub replaced: the runtime reads URLs with them
-- args: --per-host 1
local H = require "hostile"
return H.adapter(function(page)
  local s = ("").__index
  s.match = function() return nil end
  s.find = function() return nil end
  s.gsub = function(x) return x, 0 end
end)
