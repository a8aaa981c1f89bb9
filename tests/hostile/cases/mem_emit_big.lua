-- attack: glean.emit of one 8 MB string under 20 keys: 160 MB of JSON from 8 MB of Lua
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local s = ("x"):rep(8 << 20)
  local t = {}
  for i = 1, 20 do t["k" .. i] = s end
  glean.emit(t)
end)
