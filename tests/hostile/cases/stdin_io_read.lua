-- attack: io.read / io.stdin: read the host's stdin
local H = require "hostile"
return H.adapter(function(page)
  local data = io.read and io.read("a") or io.stdin and io.stdin:read("a")
  if data then H.leak("stdin", data) end
end)
