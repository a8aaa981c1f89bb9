-- attack: string.gsub with a replacement function that loops
local H = require "hostile"
return H.adapter(function(page)
  string.gsub(("a"):rep(100), "a", function() while true do end end)
end)
