-- attack: page:follow of 200000 distinct URLs that no page rule wants... and that one does
-- args: --memory-limit 32
local H = require "hostile"
return H.adapter(function(page)
  for i = 1, 200000 do page:follow("/p/9" .. i .. ".html") end
end)
