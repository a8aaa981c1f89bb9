-- attack: dofile() with no name runs the host's stdin as a chunk
local H = require "hostile"
return H.adapter(function(page)
  H.leak("stdin", dofile())
end)
