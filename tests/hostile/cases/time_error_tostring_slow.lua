-- attack: an error object whose __tostring returns a non-string, then one that errors itself, then __name tricks
local H = require "hostile"
return H.adapter(function(page)
  local mt = {__name = ("N"):rep(100), __tostring = function(self) error(self) end}
  error(setmetatable({}, mt))
end)
