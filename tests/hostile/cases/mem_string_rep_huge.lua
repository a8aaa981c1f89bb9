-- attack: ("x"):rep(1 << 32) and string.format("%s", ...) of it
-- args: --memory-limit 32
local H = require "hostile"
return H.adapter(function(page)
  local s = ("x"):rep(1 << 32)
end)
