-- attack: a file opened "r" (the secret), then written, seeked and truncated through its methods
local H = require "hostile"
return H.adapter(function(page)
  local f = assert(io.open(H.secret, "r"))
  f:setvbuf("no")
  assert(f:write("escaped"))
  f:close()
end)
