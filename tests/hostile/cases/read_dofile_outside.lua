-- attack: dofile / loadfile of a Lua file outside the folder
local H = require "hostile"
return H.adapter(function(page)
  H.leak("outside.lua", dofile(H.run_dir .. "/outside.lua"))
end)
