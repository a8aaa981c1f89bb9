-- attack: io.open("/proc/self/fd/0"): the host's stdin through /proc
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open("/proc/self/fd/0"))
  H.leak("stdin", f:read("a"))
end)
