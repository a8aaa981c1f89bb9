-- attack: io.lines(PATH) of a file outside the folder
local H = require "hostile"
return H.adapter(function(page)
  for line in io.lines(H.secret) do H.leak("secret", line) end
end)
