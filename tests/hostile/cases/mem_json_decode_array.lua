-- attack: glean.json.decode of a 4-million-number array (8 MB of text)
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.json.decode("[" .. ("0,"):rep(4000000) .. "0]")
end)
