-- attack: a record (the page's result) of one 8 MB string under 20 keys
-- expect: page-or-record
-- args: --memory-limit 32
local H = require "hostile"
return H.adapter(function(page)
  local s = ("x"):rep(8 << 20)
  local t = {}
  for i = 1, 20 do t["k" .. i] = s end
  return t
end)
