-- attack: a record nested 200000 levels deep (an encoder that recurses in C overflows the stack)
-- expect: page-or-record
local H = require "hostile"
return H.adapter(function(page)
  local t = {}
  for _ = 1, 200000 do t = {t} end
  return {url = "deep", t = t}
end)
