-- attack: io.popen("touch CANARY")
local H = require "hostile"
return H.adapter(function(page)
  io.popen("touch " .. H.canary):close()
end)
