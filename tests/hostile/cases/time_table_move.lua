-- attack: table.move over 2^62 slots with C metamethods (__index = rawget, __newindex = rawequal)
local H = require "hostile"
return H.adapter(function(page)
  local a = setmetatable({}, {__index = rawget})
  local b = setmetatable({}, {__newindex = rawequal})
  table.move(a, 1, 1 << 62, 1, b)
end)
