-- attack: table.concat(t, "", 1, 1 << 62) with __index = table.concat: C calling C, no Lua instruction
local H = require "hostile"
return H.adapter(function(page)
  local t = setmetatable({}, {__index = table.concat})
  table.concat(t, "", 1, 1 << 62)
end)
