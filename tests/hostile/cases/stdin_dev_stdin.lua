-- attack: io.open("/dev/stdin"): the host's stdin through a path
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open("/dev/stdin"))
  H.leak("stdin", f:read("a"))
end)
