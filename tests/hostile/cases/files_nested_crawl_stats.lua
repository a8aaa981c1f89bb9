-- attack: glean.crawl(t, {stats_file = CANARY}) from a handler
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.crawl({pages = {{path = "^/never$"}}}, {urls = {H.base(page.url) .. "/p/1.html"}, stats_file = H.canary})
end)
