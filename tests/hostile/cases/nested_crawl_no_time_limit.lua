-- attack: a nested glean.crawl with time_limit = 0 whose handler loops forever
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.crawl({pages = {{path = "^/p/1%.html$", parse = function() while true do end end}}},
    {urls = {H.base(page.url) .. "/p/1.html"}, time_limit = 0, memory_limit = 0, depth = 0, progress = 0})
end)
