-- attack: os.rename(SECRET, CANARY)
local H = require "hostile"
return H.adapter(function(page)
  assert(os.rename(H.secret, H.canary))
end)
