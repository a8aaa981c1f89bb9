-- attack: io.open(DIR .. "/sub/../../../secret.txt"): out of the folder with ..
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.dir .. "/sub/../../../secret.txt"))
  H.leak("secret", f:read("a"))
end)
