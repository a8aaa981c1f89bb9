-- attack: glean.current_engine():cancel(): the crawl's requests in flight are called off
-- args: --per-host 1
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.current_engine():cancel()
end)
