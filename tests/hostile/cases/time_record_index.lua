-- attack: a record whose __index and __pairs loop (the runtime reads it to emit it)
-- expect: page-or-record
local H = require "hostile"
return H.adapter(function(page)
  return setmetatable({}, {__index = function() while true do end end, __pairs = function() while true do end end,
    __len = function() while true do end end})
end)
