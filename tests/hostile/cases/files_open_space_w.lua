-- attack: io.open(CANARY, " w"): a mode with a leading space
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.canary, " w"))
  f:write("escaped\n")
  f:close()
end)
