-- attack: a __gc metamethod, set at setmetatable, after it, through a proxy metatable and on false
local H = require "hostile"
local loop = function() while true do end end
return H.adapter(function(page)
  local attempts = {
    function() setmetatable({}, {__gc = loop}) end,
    function() setmetatable({}, {__gc = false}) end,
    function() local mt = {}; setmetatable({}, mt); mt.__gc = loop end,
    function() local mt = setmetatable({}, {__index = {__gc = loop}}); setmetatable({}, mt) end,
    function() local mt = {__gc = true}; mt.__gc = loop; setmetatable({}, mt) end,
  }
  for _, a in ipairs(attempts) do pcall(a) end
  collectgarbage()
  collectgarbage()
end)
