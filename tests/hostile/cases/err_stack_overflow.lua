-- attack: unbounded recursion, C stack overflow through string.gsub and metamethods
local H = require "hostile"
return H.adapter(function(page)
  local f
  f = function() return ("a"):gsub("a", f) end
  pcall(f)
  local t = setmetatable({}, {})
  getmetatable(t).__index = function(s, k) return s[k .. "x"] end
  local _ = t.a
end)
