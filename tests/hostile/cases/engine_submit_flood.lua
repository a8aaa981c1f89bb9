-- attack: submit 20000 requests to the crawl's engine and leave: the crawl waits for them
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local engine = glean.current_engine()
  for i = 1, 20000 do engine:submit({url = H.base(page.url) .. "/slow/20000?" .. i}) end
end)
