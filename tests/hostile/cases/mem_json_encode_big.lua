-- attack: glean.json.encode of one 4 MB string under 60 keys, held
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local s = ("x"):rep(4 << 20)
  local t = {}
  for i = 1, 60 do t["k" .. i] = s end
  glean.json.encode(t)
end)
