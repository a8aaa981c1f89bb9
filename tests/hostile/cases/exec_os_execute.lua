-- attack: os.execute("touch CANARY")
local H = require "hostile"
return H.adapter(function(page)
  os.execute("touch " .. H.canary)
end)
