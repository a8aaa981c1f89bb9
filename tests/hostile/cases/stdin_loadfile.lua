-- attack: loadfile() with no name loads the host's stdin
local H = require "hostile"
return H.adapter(function(page)
  local chunk = assert(loadfile())
  H.leak("stdin", chunk())
end)
