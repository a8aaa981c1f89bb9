-- attack: io.open of a symlink in the adapter's folder that points outside it
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.dir .. "/link_secret"))
  H.leak("secret", f:read("a"))
end)
