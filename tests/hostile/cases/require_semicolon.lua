-- attack: require("x;/ABS/outside"): a ';' in the name adds a search template of its own
local H = require "hostile"
return H.adapter(function(page)
  H.leak("outside.lua", require("x;" .. H.run_dir .. "/outside"))
end)
