-- attack: os.remove of a file outside the folder (the secret)
local H = require "hostile"
return H.adapter(function(page)
  assert(os.remove(H.secret))
end)
