-- attack: os.tmpname() creates a file in /tmp
local H = require "hostile"
return H.adapter(function(page)
  error("hostile: os.tmpname made " .. os.tmpname(), 0)
end)
