-- attack: page.__index.doc replaced by one that never returns: the other pages' documents
-- args: --per-host 1
local H = require "hostile"
return H.adapter(function(page)
  page.__index.doc = function() while true do end end
end)
