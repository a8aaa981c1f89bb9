-- attack: a record holding a table whose __tostring / __name / __index loop
local H = require "hostile"
return H.adapter(function(page)
  local evil = setmetatable({}, {__tostring = function() while true do end end, __index = function() while true do end end})
  return {url = "evil", v = evil, [evil] = 1}
end)
