-- attack: os.exit(0) from a handler: the crawl ends, pages lost, status 0
local H = require "hostile"
return H.adapter(function(page)
  os.exit(0)
end)
