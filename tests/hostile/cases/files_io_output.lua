-- attack: io.output(CANARY) then io.write
local H = require "hostile"
return H.adapter(function(page)
  io.output(H.canary)
  io.write("escaped\n")
  io.close()
end)
