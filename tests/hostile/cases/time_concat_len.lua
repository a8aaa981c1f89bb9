-- attack: table.concat(t) with __len = 2^62 and __index = rawget: 2^62 C steps for one call
local H = require "hostile"
return H.adapter(function(page)
  local t = setmetatable({}, {__index = rawget, __len = function() return 1 << 62 end})
  table.concat(t) -- #t is 2^62, each t[i] a C call
end)
