-- attack: io.open(CANARY, "rw")
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.canary, "rw"))
  f:write("escaped\n")
  f:close()
end)
