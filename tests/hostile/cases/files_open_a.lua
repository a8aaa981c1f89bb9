-- attack: io.open(CANARY, "a") and write to it
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.canary, "a"))
  f:write("escaped\n")
  f:close()
end)
