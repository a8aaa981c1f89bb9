-- attack: ("").rep("", 1 << 62, ""): the same through the string metatable, with a separator
local H = require "hostile"
return H.adapter(function(page)
  local s = ""
  s:rep(1 << 62, "")
end)
