-- attack: load() with a reader that returns the same 1 MB piece of source for ever (the parser is C)
local H = require "hostile"
return H.adapter(function(page)
  local piece = ("a=1 "):rep(250000)
  load(function() return piece end)
end)
