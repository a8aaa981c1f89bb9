-- attack: io.open("/etc/passwd")
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open("/etc/passwd"))
  H.leak("/etc/passwd", f:read("a"))
end)
