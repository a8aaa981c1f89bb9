-- attack: glean.current_engine():close(), the crawl's own engine, with pages still in flight
-- args: --per-host 1
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.current_engine():close()
end)
