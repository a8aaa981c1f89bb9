-- attack: io.open through a symlinked directory in the adapter's folder
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.dir .. "/link_out/secret.txt"))
  H.leak("secret", f:read("a"))
end)
