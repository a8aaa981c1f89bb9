-- attack: a record holding a table whose __tostring / __name / __index loop
-- expect: page-or-record
local H = require "hostile"
return H.adapter(function(page)
  local evil = setmetatable({}, {__tostring = function() while true do end end, __index = function() while true do end end})
  return {url = "evil", v = evil, list = {evil, evil}}
end)
