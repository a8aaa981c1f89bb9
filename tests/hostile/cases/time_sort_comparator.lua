-- attack: table.sort with a comparator that loops, and with one that errors inside
local H = require "hostile"
return H.adapter(function(page)
  local t = {}
  for i = 1, 1000 do t[i] = i end
  pcall(table.sort, t, function() error("x") end)
  table.sort(t, function() while true do end end)
end)
