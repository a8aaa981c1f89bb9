-- attack: the strings' shared method table (getmetatable("").__index) given a looping format: the runtime's own
-- messages use ("..."):format; only the adapter's copy of string may change
local H = require "hostile"
local function strings() local mt = getmetatable("") return mt and mt.__index or string end
return H.adapter(function(page)
  strings().format = function() while true do end end
  if ("%d"):format(1) ~= "1" then H.escaped("changed the method table every string shares") end
end)
