-- attack: io.open of an absolute path outside the adapter's folder
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.secret))
  H.leak("secret", f:read("a"))
end)
