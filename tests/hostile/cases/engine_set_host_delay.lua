-- attack: the crawl's engine told to wait an hour between requests to the site, then a fetch of it: the crawl waits
-- args: --per-host 1
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.current_engine():set_host_delay("127.0.0.1", 3600)
  glean.fetch(H.base(page.url) .. "/robots.txt?again")
end)
