-- attack: the strings' shared method table: rep, lower and sub swapped for loops, a new method added
-- args: --per-host 1
local H = require "hostile"
local function strings() local mt = getmetatable("") return mt and mt.__index or string end
return H.adapter(function(page)
  local s = strings()
  s.rep = function() while true do end end
  s.lower = function() while true do end end
  s.sub = function() while true do end end
  s.hostile = function() return "added" end
  if pcall(function() return ("x"):hostile() end) then H.escaped("added a method to every string") end
end)
