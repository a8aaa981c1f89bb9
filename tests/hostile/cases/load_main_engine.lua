-- attack: the main chunk makes 1000-worker engines and replaces glean.fetch's engine before the crawl starts
-- expect: load
local glean = require "glean"
local H = require "hostile"
KEEP = {glean.engine({workers = 1000}), glean.engine({workers = 1000})}
glean.use_engine(KEEP[1])
return H.adapter(nil, {victims_fetch = true})
