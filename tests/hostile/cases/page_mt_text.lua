-- attack: page.__index.text replaced: what the other pages read
-- args: --per-host 1
local H = require "hostile"
return H.adapter(function(page)
  page.__index.text = function() return "forged" end
end)
