-- attack: a nested glean.crawl with time_limit = 0 that errors at once: are the runtime's limits put back?
-- fail: 3 4
local glean = require "glean"
local H = require "hostile"
return H.adapter({
  [3] = function(page)
    pcall(glean.crawl, {pages = {{path = "^/p/1%.html$"}}}, {urls = {"not a url"}, time_limit = 0, memory_limit = 0})
  end,
  [4] = function(page)
    glean.fetch(H.base(page.url) .. "/slow/300") -- after page 3
    while true do end
  end,
})
