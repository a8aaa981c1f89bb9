-- attack: glean.json.decode of 1 million small objects (12 MB of text)
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.json.decode("[" .. ('{"a":[]},'):rep(1000000) .. "0]")
end)
