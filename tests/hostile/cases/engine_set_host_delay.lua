-- attack: the crawl's engine told to wait an hour between requests to the site
-- args: --per-host 1
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.current_engine():set_host_delay("127.0.0.1", 3600)
end)
