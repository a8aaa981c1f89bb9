-- attack: io.lines() with no file name: the host's stdin
local H = require "hostile"
return H.adapter(function(page)
  for line in io.lines() do H.leak("stdin", line) end
end)
