-- attack: a nested glean.crawl whose on_error (the caller's option) loops: it runs in the crawl's own code
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.crawl({pages = {{path = "^/nope$", parse = function() end}}},
    {urls = {H.base(page.url) .. "/nope"}, on_error = function() while true do end end, progress = 0})
end)
