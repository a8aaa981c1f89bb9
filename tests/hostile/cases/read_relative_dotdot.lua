-- attack: io.open("../secret.txt"): relative to the working directory, out of the folder
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open("../secret.txt"))
  H.leak("secret", f:read("a"))
end)
