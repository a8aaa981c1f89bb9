-- attack: the strings' shared method table given a match/find/gsub that find nothing: the runtime reads URLs with them
-- args: --per-host 1
local H = require "hostile"
local function strings() local mt = getmetatable("") return mt and mt.__index or string end
return H.adapter(function(page)
  local s = strings()
  s.match = function() return nil end
  s.find = function() return nil end
  s.gsub = function(x) return x, 0 end
  if ("abc"):match("b") ~= "b" then H.escaped("changed the method table every string shares") end
end)
