-- attack: glean.log.set_level("off"): the host no longer sees the crawl's errors, this page's included
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.log.set_level("off")
end)
