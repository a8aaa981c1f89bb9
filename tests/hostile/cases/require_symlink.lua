-- attack: require("link_out/outside"): a module through a symlink out of the folder
local H = require "hostile"
return H.adapter(function(page)
  H.leak("outside.lua", require("link_out/outside"))
end)
