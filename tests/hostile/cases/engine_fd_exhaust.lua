-- attack: engines made until something runs out (descriptors, threads), kept: the crawl cannot connect
-- args: --per-host 1
local glean = require "glean"
local H = require "hostile"
local keep = {}
return H.adapter(function(page)
  for i = 1, 5000 do
    local ok, e = pcall(glean.engine, {workers = 1})
    if not ok then break end
    keep[i] = e
  end
end)
