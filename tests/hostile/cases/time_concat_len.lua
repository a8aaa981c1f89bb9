-- attack: table.concat(t) with __len = 2^62 and __index a table whose __index is table.concat: 2^62 C steps
local H = require "hostile"
return H.adapter(function(page)
  local inner = setmetatable({}, {__index = table.concat})
  local t = setmetatable({}, {__len = function() return 1 << 62 end, __index = inner})
  table.concat(t)
end)
