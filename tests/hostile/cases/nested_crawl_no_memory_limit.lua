-- attack: a nested glean.crawl with memory_limit = 0 whose handler takes 600 MB
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.crawl({pages = {{path = "^/p/1%.html$", parse = function()
    local t = {}
    for i = 1, 600 do t[i] = ("x"):rep(1 << 20) .. i end
  end}}}, {urls = {H.base(page.url) .. "/p/1.html"}, memory_limit = 0, depth = 0, progress = 0})
end)
