-- attack: error(nil), error of a table, a function, a coroutine: the message must still name the page
local H = require "hostile"
return H.adapter(function(page)
  local ok = pcall(error)
  error(setmetatable({}, {__name = "\27[31mred"}))
end)
