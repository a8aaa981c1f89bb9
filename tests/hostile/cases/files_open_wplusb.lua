-- attack: io.open(CANARY, "w+b") and write to it
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.canary, "w+b"))
  f:write("escaped\n")
  f:close()
end)
