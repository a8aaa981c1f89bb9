-- attack: glean.json.encode of t = {t, t} nested 30 times: 2^30 leaves from 30 tables
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local t = {}
  for _ = 1, 30 do t = {t, t} end
  glean.json.encode(t)
end)
