-- attack: io.open(CANARY, "r+") and write to it
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.canary, "r+"))
  f:write("escaped\n")
  f:close()
end)
