-- attack: io.open(CANARY, "w") and write to it
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.canary, "w"))
  f:write("escaped\n")
  f:close()
end)
