-- attack: glean.fetch inside a coroutine of the adapter's own: it drives the crawl's loop from inside the handler
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local base = H.base(page.url)
  coroutine.wrap(function()
    glean.fetch(base .. "/slow/200")
    while true do end
  end)()
end)
